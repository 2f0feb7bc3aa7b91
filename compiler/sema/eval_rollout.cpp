// Evaluation of rollouts: named rollouts, strategies with their steps and
// `rollback when` conditions.
#include "sema/eval.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

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

bool Evaluator::strategyBody(const ast::Value& v, model::Rollout& ro, const EvalContext& ctx) {
  using Kind = model::Rollout::Kind;
  Scope scope = ro.kind == Kind::Rolling ? Scope::Rolling : ro.kind == Kind::BlueGreen ? Scope::BlueGreen : ro.kind == Kind::Canary ? Scope::Canary : Scope::Linear;
  const Schema& schema = schemaFor(scope);
  bool ok = true;
  std::map<std::string, const ast::Stmt*> seen;
  const ast::Stmt* linearStep = nullptr;
  double lastWeight = 0;
  const ast::Stmt* lastStep = nullptr;
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
          } else if (names.empty()) {
            b.help(fmt::format("a {} rollout is made of `step` and `rollback when` lines", v.text));
          } else {
            b.help(fmt::format("the attributes of `{}` are {}", v.text, joinQuoted(names, " and ")));
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
        ro.rollback.push_back(*c);
        break;
      }
      case ast::StmtKind::Block:
        diags_.report(Code::UnknownBlock, s.nameRange, fmt::format("`{}` has no block `{}`", v.text, s.name), "unknown block")
            .help(schema.attrs.empty() ? fmt::format("a {} rollout is made of `step` and `rollback when` lines", v.text)
                                       : fmt::format("a {} rollout takes {} and `rollback when` lines", v.text, joinQuoted(schema.names(), ", ")));
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
  const ast::Value& t = s.values[1];
  auto n = number(t);
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
      if (t.unit != "%") {
        wrongUnit("a percentage", "1%");
        return std::nullopt;
      }
      c.threshold = *n;
      c.unit = "percent";
      break;
    case MetricUnit::Duration: {
      if (!durationUnits().count(t.unit)) {
        wrongUnit("a duration", "800ms");
        return std::nullopt;
      }
      c.threshold = *n * durationUnits().find(t.unit)->second;
      c.unit = "seconds";
      break;
    }
    case MetricUnit::Count:
      if (!t.unit.empty() || *n != std::floor(*n)) {
        wrongUnit("a count", "0");
        return std::nullopt;
      }
      c.threshold = *n;
      c.unit = "count";
      break;
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
