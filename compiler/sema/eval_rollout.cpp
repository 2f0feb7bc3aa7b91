// Evaluation of rollouts: named rollouts, strategies with their steps and
// `rollback when` conditions.
#include "sema/eval.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sema/eval_util.h"
#include "sema/fill.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema {

using diag::Code;

using namespace detail;

// ---------------------------------------------------------------------------------
// Rollouts

Val Evaluator::rollout(const ast::Value& v, const EvalContext& ctx, std::string_view attr, int depth) {
  Val r;
  if (v.kind == ast::ValueKind::Ref) {
    auto it = rollouts_.find(v.text);
    if (it == rollouts_.end()) {
      static const std::vector<std::string> kStrategies = {"rolling", "blue_green", "canary", "linear"};
      if (std::find(kStrategies.begin(), kStrategies.end(), v.text) != kStrategies.end()) {
        diags_.report(Code::TypeMismatch, v.range, fmt::format("`{}` needs its settings in a block", v.text), "expected a block")
            .help(fmt::format("write `{}`", v.text == "rolling"      ? "rolling { min_healthy = 100%  max_percent = 200% }"
                                            : v.text == "blue_green" ? "blue_green { test_traffic = 10%  bake = 10m }"
                                            : v.text == "canary"     ? "canary { step 10% for 5m }"
                                                                     : "linear { step 10% every 1m }"));
        return r;
      }
      std::vector<std::string> names;
      for (const auto& [n, _] : rollouts_) names.push_back(n);
      auto b = diags_.report(Code::UndefinedReference, v.range, fmt::format("no rollout named `{}`", v.text), "undefined rollout");
      if (auto m = closestMatch(v.text, names)) {
        b.help(fmt::format("did you mean `{}`?", *m));
        b.fix(fmt::format("replace with `{}`", *m), v.range, *m);
      } else if (std::find(stdlibRollouts_.begin(), stdlibRollouts_.end(), v.text) != stdlibRollouts_.end()) {
        b.help(fmt::format("`{}` is defined in the standard library: add `import \"std/rollouts\"`", v.text));
      } else {
        b.help("name a rollout declared with `rollout NAME = ...`, or write a strategy like `canary { step 10% for 5m }`");
        // The standard presets are known only once imported, so say where they are.
        if (std::find(stdlibRollouts_.begin(), stdlibRollouts_.end(), "canary_safe") == stdlibRollouts_.end()) {
          b.note("the standard library's rollouts (`canary_safe`, `rolling_default`, ...) need `import \"std/rollouts\"`");
        }
      }
      return r;
    }
    rolloutUses.push_back({v.text, v.range});
    const ast::Decl* d = it->second;
    if (depth > 16 || d->value.empty()) return r;  // alias cycles are reported at the declaration
    r = rollout(d->value.front(), ctx, d->name, depth + 1);
    if (r.ok && r.rollout.preset.empty()) r.rollout.preset = v.text;
    return r;
  }
  if (v.kind != ast::ValueKind::Object) {
    mismatch(v, Ty::Rollout, attr);
    return r;
  }
  model::Rollout ro;
  if (v.text == "rolling") ro.kind = model::Rollout::Kind::Rolling;
  else if (v.text == "blue_green") ro.kind = model::Rollout::Kind::BlueGreen;
  else if (v.text == "canary") ro.kind = model::Rollout::Kind::Canary;
  else if (v.text == "linear") ro.kind = model::Rollout::Kind::Linear;
  else {
    unknownValue(diags_, v, attr, {"rolling", "blue_green", "canary", "linear"}, "rollout strategy");
    return r;
  }
  if (!strategyBody(v, ro, ctx)) return r;
  r.rollout = std::move(ro);
  r.ok = true;
  return r;
}

namespace {

/// "a canary rollout takes `min_requests`, `engine`, `step` and `rollback when` lines"
std::string strategyLines(const std::string& strategy, const Schema& schema) {
  std::vector<std::string> parts;
  for (const auto& n : schema.names()) parts.push_back(fmt::format("`{}`", n));
  if (strategy == "canary" || strategy == "linear") parts.push_back("`step`");
  parts.push_back("`rollback when` lines");
  std::string last = parts.back();
  parts.pop_back();
  return fmt::format("a {} rollout takes {} and {}", strategy, fmt::join(parts, ", "), last);
}

}  // namespace

bool Evaluator::strategyBody(const ast::Value& v, model::Rollout& ro, const EvalContext& ctx) {
  using Kind = model::Rollout::Kind;
  Scope scope = ro.kind == Kind::Rolling ? Scope::Rolling : ro.kind == Kind::BlueGreen ? Scope::BlueGreen : ro.kind == Kind::Canary ? Scope::Canary : Scope::Linear;
  const Schema& schema = schemaFor(scope);
  bool ok = true;
  std::map<std::string, const ast::Stmt*> seen;
  const ast::Stmt* linearStep = nullptr;
  double lastWeight = 0;
  const ast::Stmt* lastStep = nullptr;
  const ast::Stmt* baselineRule = nullptr;  ///< a `stable + X` condition, for the engine's check
  // Defaults per strategy.
  if (ro.kind == Kind::BlueGreen) {
    ro.testTrafficPercent = 0;
    ro.bakeSeconds = 300;
  }
  for (const auto& s : v.body) {
    switch (s.kind) {
      case ast::StmtKind::Attr: {
        const AttrSpec* spec = schema.attr(s.name);
        if (!spec) {
          auto names = schema.names();
          auto b = diags_.report(Code::UnknownAttribute, s.nameRange, fmt::format("`{}` has no attribute `{}`", v.text, s.name), "unknown attribute");
          if (auto m = closestMatch(s.name, names)) {
            b.help(fmt::format("did you mean `{}`?", *m));
            b.fix(fmt::format("replace with `{}`", *m), s.nameRange, *m);
          } else {
            b.help(strategyLines(v.text, schema));
          }
          ok = false;
          break;
        }
        if (auto prev = seen.find(s.name); prev != seen.end()) {
          diags_.report(Code::DuplicateAttribute, s.nameRange, fmt::format("`{}` is set twice in `{}`", s.name, v.text), "set again here")
              .label(prev->second->nameRange, "first set here")
              .help("remove one of them");
          ok = false;
          break;
        }
        seen[s.name] = &s;
        Val val = eval(s.value(), spec->type, ctx, s.name);
        if (!val.ok) {
          ok = false;
          break;
        }
        auto outOfRange = [&](std::string message, std::string help) {
          diags_.report(Code::RolloutPercent, s.value().range, std::move(message), "out of range").help(std::move(help));
          ok = false;
        };
        switch (spec->id) {
          case AttrId::RollingMinHealthy:
            if (val.n < 0 || val.n > 100) {
              outOfRange(fmt::format("`min_healthy` must be 0%-100%, not {}%", fmtNumber(val.n)), "100% keeps every task serving while new ones start");
            }
            break;
          case AttrId::RollingMaxPercent:
            if (val.n < 100 || val.n > 200) {
              outOfRange(fmt::format("`max_percent` must be 100%-200%, not {}%", fmtNumber(val.n)), "200% starts a full set of new tasks before stopping old ones");
            }
            break;
          case AttrId::BlueGreenTestTraffic:
            if (val.n < 0 || val.n >= 100) {
              outOfRange(fmt::format("`test_traffic` must be at least 0% and below 100%, not {}%", fmtNumber(val.n)),
                         "test traffic is the share sent to the new version before the switch, e.g. `10%`");
            }
            break;
          case AttrId::CanaryMinRequests:
          case AttrId::LinearMinRequests:
          case AttrId::BlueGreenMinRequests:
            if (val.n < 1) {
              diags_.report(Code::MinRequests, s.value().range, fmt::format("`min_requests` must be at least 1, not {}", fmtNumber(val.n)),
                            "too few")
                  .help("a minute in which the new version serves fewer requests gives no verdict; the default is 10");
              ok = false;
            }
            break;
          default: break;
        }
        fillAttr(ro, spec->id, val);
        break;
      }
      case ast::StmtKind::Step: {
        if (ro.kind != Kind::Canary && ro.kind != Kind::Linear) {
          diags_.report(Code::StatementNotAllowed, s.nameRange, fmt::format("a {} rollout has no steps", v.text), "`step` not allowed here")
              .help("steps belong in `canary { step 10% for 5m }` or `linear { step 10% every 1m }`");
          ok = false;
          break;
        }
        if (ro.kind == Kind::Canary && s.op == "every") {
          diags_.report(Code::StatementNotAllowed, s.opRange, "a canary holds each step `for` a time; `every` is for linear rollouts", "`every` in a canary")
              .help("write `step 10% for 5m`, or use `linear { step 10% every 1m }`")
              .fix("write `for`", s.opRange, "for");
          ok = false;
          break;
        }
        if (ro.kind == Kind::Linear && s.op == "for") {
          diags_.report(Code::StatementNotAllowed, s.opRange, "a linear rollout shifts `every` so often; `for` is for canary steps", "`for` in a linear rollout")
              .help("write `step 10% every 1m`")
              .fix("write `every`", s.opRange, "every");
          ok = false;
          break;
        }
        Val p = percent(s.values[0], "step");
        Val d = duration(s.values[1], "step");
        if (!p.ok || !d.ok) {
          ok = false;
          break;
        }
        if (p.n <= 0 || p.n >= 100) {
          diags_.report(Code::CanaryStepRange, s.values[0].range, fmt::format("a step's weight must be above 0% and below 100%, not {}%", fmtNumber(p.n)),
                        "out of range")
              .help(p.n >= 100 ? "the shift to 100% follows the last step by itself; remove this step" : "use a weight like `10%`");
          ok = false;
          break;
        }
        if (ro.kind == Kind::Linear) {
          if (linearStep) {
            diags_.report(Code::StatementNotAllowed, s.nameRange, "a linear rollout has one `step ... every ...`", "second step")
                .label(linearStep->nameRange, "first step here")
                .help("use a canary for steps of different sizes");
            ok = false;
            break;
          }
          linearStep = &s;
          ro.linearStepPercent = p.n;
          ro.linearIntervalSeconds = d.n;
          for (double w = p.n; w < 100 - 1e-9; w += p.n) ro.steps.push_back({w, d.n});
          break;
        }
        if (lastStep && p.n <= lastWeight) {
          diags_.report(Code::CanaryStepOrder, s.values[0].range,
                        fmt::format("canary steps must increase: {}% comes after {}%", fmtNumber(p.n), fmtNumber(lastWeight)), "not above the step before")
              .label(lastStep->values[0].range, "previous step")
              .help("order the steps by weight, each larger than the one before");
          ok = false;
        }
        lastWeight = std::max(lastWeight, p.n);
        lastStep = &s;
        ro.steps.push_back({p.n, d.n});
        break;
      }
      case ast::StmtKind::Rollback: {
        auto c = rollbackCondition(s, ctx);
        if (!c) {
          ok = false;
          break;
        }
        if (c->baseline && ro.kind == Kind::Rolling) {
          diags_.report(Code::BaselineRule, s.values[1].range,
                        "a rolling rollout replaces tasks in place: there is no stable version running beside the new one to compare with",
                        "no stable version")
              .help(fmt::format("compare with a threshold, like `rollback when {} > {}`, or roll out with `canary {{ ... }}` or `blue_green {{ ... }}`",
                                c->metric, c->unit == "seconds" ? "800ms" : "1%"));
          ok = false;
          break;
        }
        if (c->baseline) baselineRule = &s;
        ro.rollback.push_back(*c);
        break;
      }
      case ast::StmtKind::Clause:
        diags_.report(Code::StatementNotAllowed, s.nameRange, fmt::format("`{}` lines do not belong in a rollout", s.name), "not allowed here")
            .help(strategyLines(v.text, schema));
        ok = false;
        break;
      case ast::StmtKind::Block:
        diags_.report(Code::UnknownBlock, s.nameRange, fmt::format("`{}` has no block `{}`", v.text, s.name), "unknown block")
            .help(strategyLines(v.text, schema));
        ok = false;
        break;
      case ast::StmtKind::Override:
        diags_.report(Code::StatementNotAllowed, s.opRange, "`in` blocks cannot appear inside a rollout", "not allowed here")
            .help("set a different rollout per environment with `in ENV { rollout = ... }` in the service");
        ok = false;
        break;
    }
  }
  if (ok && (ro.kind == Kind::Canary || ro.kind == Kind::Linear) && ro.steps.empty()) {
    diags_.report(Code::EmptyRollout, v.nameRange, fmt::format("a {} rollout needs at least one step", v.text), "no steps")
        .help(ro.kind == Kind::Canary ? "add a step like `step 10% for 5m`" : "add a step like `step 10% every 1m`");
    ok = false;
  }
  if (ok && ro.engine == model::Rollout::Engine::Ecs) ok = checkEcsEngine(v, ro, seen.at("engine"), baselineRule);
  if (ok) {
    // GitHub-hosted runners end a job after 6 hours; the apply must finish within it.
    double total = ro.totalSeconds();
    if (total > 6 * 3600) {
      diags_.report(Code::RolloutTooLong, v.nameRange,
                    fmt::format("this rollout takes {}h{:02}m, longer than the 6 hours a GitHub-hosted job may run",
                                static_cast<long>(total) / 3600, (static_cast<long>(total) % 3600) / 60),
                    "too long")
          .help("shorten the holds or the bake, or use fewer steps");
      ok = false;
    }
  }
  return ok;
}

bool Evaluator::checkEcsEngine(const ast::Value& v, const model::Rollout& ro, const ast::Stmt* engine, const ast::Stmt* baselineRule) {
  using Kind = model::Rollout::Kind;
  const SourceRange where = engine->value().range;
  auto refuse = [&](std::string message, std::string help, const ast::Stmt* at = nullptr) {
    auto b = diags_.report(Code::EngineUnsupported, where, std::move(message), "ECS cannot run this");
    if (at) b.label(at->kind == ast::StmtKind::Rollback ? at->values[1].range : at->values[0].range, "here");
    b.help(std::move(help));
    return false;
  };
  if (baselineRule) {
    return refuse("ECS rolls back on alarms alone: it cannot compare the new version with the stable one (`stable + ...`)",
                  "use `engine = gops` for a comparison with the stable version, or compare with a threshold", baselineRule);
  }
  auto wholeMinutes = [](double s) { return s >= 0 && std::fmod(s, 60) == 0 && s <= 1440 * 60; };
  auto tenths = [](double p) { return std::fabs(p * 10 - std::round(p * 10)) < 1e-9; };
  if (ro.kind == Kind::BlueGreen) {
    if (ro.testTrafficPercent > 0) {
      return refuse(fmt::format("ECS's blue/green deployment sends no share of live traffic to the new version before the switch, and this one sends {}%",
                                fmtNumber(ro.testTrafficPercent)),
                    "remove `test_traffic`, or use `engine = gops`");
    }
    if (!wholeMinutes(ro.bakeSeconds)) {
      return refuse("ECS bakes in whole minutes, up to 24 hours: `bake` must be a whole number of minutes", "write the bake like `bake = 10m`");
    }
    return true;
  }
  if (ro.kind == Kind::Canary) {
    if (ro.steps.size() != 1) {
      return refuse(fmt::format("ECS runs a canary in one step before the rest of the traffic, and this one has {} steps", ro.steps.size()),
                    "keep one step, like `step 10% for 5m`, or use `engine = gops` for several");
    }
    if (!tenths(ro.steps[0].weight)) return refuse("ECS shifts a canary's share in tenths of a percent", "write the step like `step 10%`");
    if (!wholeMinutes(ro.steps[0].holdSeconds)) {
      return refuse("ECS bakes in whole minutes, up to 24 hours: the step's hold must be a whole number of minutes", "write the step like `step 10% for 5m`");
    }
    return true;
  }
  if (ro.kind == Kind::Linear) {
    if (ro.linearStepPercent < 3 || !tenths(ro.linearStepPercent)) {
      return refuse(fmt::format("ECS shifts a linear rollout in steps of 3% to 100% (in tenths of a percent), not {}%", fmtNumber(ro.linearStepPercent)),
                    "use a step like `step 10% every 1m`, or `engine = gops`");
    }
    if (!wholeMinutes(ro.linearIntervalSeconds)) {
      return refuse("ECS bakes in whole minutes, up to 24 hours: the step's interval must be a whole number of minutes", "write it like `step 10% every 1m`");
    }
    return true;
  }
  (void)v;
  return true;
}

std::optional<model::RollbackCondition> Evaluator::rollbackCondition(const ast::Stmt& s, const EvalContext& ctx) {
  model::RollbackCondition c;
  const ast::Value& m = s.values[0];
  const MetricInfo* info = nullptr;
  if (m.kind == ast::ValueKind::Call && m.text == "alarm") {
    if (!callArgs(m, 1, 1, {})) return std::nullopt;
    Val name = string(*positionalArg(m, 0), ctx, "alarm");
    if (!name.ok) return std::nullopt;
    c.metric = "alarm";
    c.alarmName = name.s;
    if (!s.op.empty()) {
      diags_.report(Code::MetricUnitMismatch, s.opRange, "an alarm has no value to compare: the rollout rolls back while it is in ALARM",
                    "comparison not allowed")
          .help(fmt::format("write `rollback when alarm(\"{}\")`", name.s))
          .fix("remove the comparison", SourceRange{s.opRange.file, s.opRange.begin, s.values[1].range.end}, "");
      return std::nullopt;
    }
    if (s.values.size() > 2) {
      diags_.report(Code::StatementNotAllowed, s.values[2].range, "an alarm's own period decides how long it must breach; `for` does not apply",
                    "`for` not allowed here")
          .help("set the evaluation periods on the CloudWatch alarm itself");
      return std::nullopt;
    }
    c.forSeconds = 0;
    return c;
  }
  if (m.kind == ast::ValueKind::Ref) info = findMetric(m.text);
  if (!info) {
    std::vector<std::string> names;
    for (const auto& mi : metrics()) names.emplace_back(mi.name);
    auto b = diags_.report(Code::UnknownMetric, m.kind == ast::ValueKind::Call ? m.nameRange : m.range,
                           fmt::format("unknown metric `{}`", m.kind == ast::ValueKind::Error ? std::string("?") : m.text), "not a metric gops knows");
    if (auto best = closestMatch(m.text, names)) {
      b.help(fmt::format("did you mean `{}`?", *best));
      b.fix(fmt::format("replace with `{}`", *best), m.range, *best);
    } else {
      b.help(fmt::format("the metrics are {}, or `alarm(\"name\")` for an existing CloudWatch alarm", joinQuoted(names, " and ")));
    }
    return std::nullopt;
  }
  c.metric = std::string(info->name);
  if (s.op.empty()) {
    diags_.report(Code::SyntaxError, s.values[0].range, fmt::format("`{}` needs a comparison and a threshold", info->name), "expected a comparison")
        .help(fmt::format("write it like `rollback when {} > {}`", info->name,
                          info->unit == MetricUnit::Percent ? "1%" : info->unit == MetricUnit::Duration ? "800ms" : "0"));
    return std::nullopt;
  }
  c.op = s.op == ">" ? model::Comparison::Greater : s.op == ">=" ? model::Comparison::GreaterEqual : s.op == "<" ? model::Comparison::Less : model::Comparison::LessEqual;
  // `stable + 0.5%` (or `stable` alone): compared with the stable version.
  const ast::Value* margin = &s.values[1];
  if (margin->kind == ast::ValueKind::Sum || (margin->kind == ast::ValueKind::Ref && margin->text == "stable")) {
    const ast::Value& base = margin->kind == ast::ValueKind::Sum ? margin->items[0] : *margin;
    if (base.kind != ast::ValueKind::Ref || base.text != "stable") {
      diags_.report(Code::BaselineRule, base.range, fmt::format("a threshold adds a margin to `stable`, not to {}", describeValue(base)),
                    "expected `stable`")
          .help(fmt::format("write `rollback when {} > stable + {}` to compare with the stable version, or a threshold alone",
                            info->name, info->unit == MetricUnit::Percent ? "0.5%" : info->unit == MetricUnit::Duration ? "100ms" : "1"));
      return std::nullopt;
    }
    if (!info->perVersion) {
      diags_.report(Code::BaselineRule, base.range,
                    fmt::format("`{}` is measured for the service as a whole, not for each version, so it cannot be compared with the stable version",
                                info->name),
                    "no stable value to compare with")
          .label(m.range, "this metric")
          .help(fmt::format("compare `{}` with a threshold, like `rollback when {} > {}`; the rates and latencies of the load balancer (`http_5xx_rate`, `p99_latency`, ...) can be compared with the stable version",
                            info->name, info->name, info->unit == MetricUnit::Percent ? "90%" : "0"));
      return std::nullopt;
    }
    if (c.op == model::Comparison::Less || c.op == model::Comparison::LessEqual) {
      diags_.report(Code::BaselineRule, s.opRange, "a comparison with the stable version rolls back when the new version is worse: use `>` or `>=`",
                    "new version better than the stable one")
          .help(fmt::format("write `rollback when {} > stable + ...`", info->name))
          .fix("write `>`", s.opRange, ">");
      return std::nullopt;
    }
    c.baseline = true;
    margin = margin->kind == ast::ValueKind::Sum ? &margin->items[1] : nullptr;
  }
  const ast::Value& t = margin ? *margin : s.values[1];
  auto n = margin ? number(t) : std::optional<double>(0.0);
  auto wrongUnit = [&](std::string_view expected, std::string example) {
    bool isNumber = t.kind == ast::ValueKind::Number;
    std::string shown = isNumber ? fmt::format("`{}{}{}`", t.text, t.unitSpaced ? " " : "", t.unit) : describeValue(t);
    std::string kind = !isNumber ? "not a number" : t.unit.empty() ? "a plain number" : fmt::format("a {}", unitKind(t.unit));
    diags_.report(Code::MetricUnitMismatch, t.range, fmt::format("`{}` is {}, but the threshold {} is {}", info->name, expected, shown, kind),
                  fmt::format("expected {}", expected))
        .label(m.range, "this metric")
        .help(fmt::format("write it like `rollback when {} > {}`", info->name, example));
  };
  if (!n) {
    wrongUnit(info->unit == MetricUnit::Percent ? "a percentage" : info->unit == MetricUnit::Duration ? "a duration" : "a count",
              info->unit == MetricUnit::Percent ? "1%" : info->unit == MetricUnit::Duration ? "800ms" : "0");
    return std::nullopt;
  }
  switch (info->unit) {
    case MetricUnit::Percent:
      if (margin && t.unit != "%") {
        wrongUnit("a percentage", "1%");
        return std::nullopt;
      }
      c.threshold = *n;
      c.unit = "percent";
      break;
    case MetricUnit::Duration: {
      if (margin && !durationUnits().count(t.unit)) {
        wrongUnit("a duration", "800ms");
        return std::nullopt;
      }
      c.threshold = margin ? *n * durationUnits().find(t.unit)->second : 0;
      c.unit = "seconds";
      break;
    }
    case MetricUnit::Count:
      if (margin && (!t.unit.empty() || *n != std::floor(*n))) {
        wrongUnit("a count", "0");
        return std::nullopt;
      }
      c.threshold = *n;
      c.unit = "count";
      break;
  }
  if (info->unit == MetricUnit::Percent && margin) {
    // A rate above 100% or below 0% cannot be; a margin of 100% or more never triggers.
    bool never = c.baseline ? c.threshold >= 100
                            : (c.threshold > 100 || (c.threshold == 100 && c.op == model::Comparison::Greater) ||
                               (c.threshold == 0 && c.op == model::Comparison::Less));
    if (never) {
      diags_.report(Code::ThresholdRange, t.range,
                    c.baseline ? fmt::format("a margin of {}% over the stable version can never be exceeded", fmtNumber(c.threshold))
                               : fmt::format("`{} {} {}%` can never be true: `{}` is a percentage, from 0% to 100%", info->name, s.op,
                                             fmtNumber(c.threshold), info->name),
                    "never triggers")
          .label(m.range, "this metric")
          .help(c.baseline ? "use a margin like `stable + 0.5%`" : fmt::format("use a threshold like `{} > 1%`", info->name));
      return std::nullopt;
    }
  }
  if (s.values.size() > 2) {
    Val d = duration(s.values[2], "for");
    if (!d.ok) return std::nullopt;
    if (d.n < 60 || std::fmod(d.n, 60) != 0) {
      diags_.report(Code::InvalidUnit, s.values[2].range, "CloudWatch evaluates in whole minutes: `for` must be 1m or more, in whole minutes",
                    "not whole minutes")
          .help("write it like `for 2m`");
      return std::nullopt;
    }
    c.forSeconds = d.n;
  } else {
    c.forSeconds = 60;
  }
  return c;
}

}  // namespace gops::sema
