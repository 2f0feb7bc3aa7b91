#include "sema/evaluate.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sema/eval_util.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema::detail {

using diag::Code;

namespace {

bool looksLikeSecretName(const std::string& name) {
  std::string up = toUpper(name);
  return up.find("PASSWORD") != std::string::npos || up.find("TOKEN") != std::string::npos ||
         up.find("SECRET") != std::string::npos || endsWith(up, "_KEY") || up == "KEY" || up.find("PASSWD") != std::string::npos ||
         up.find("API_KEY") != std::string::npos || up.find("PRIVATE_KEY") != std::string::npos;
}

}  // namespace

std::uint8_t Evaluation::uses(const ast::Value& v, int depth) {
  std::uint8_t u = None;
  for (const auto& p : v.parts) {
    if (!p.interpolation) continue;
    if (p.text.rfind("env.", 0) == 0) u |= Env;
    else if (p.text.rfind("service.", 0) == 0) u |= Workload;
  }
  if (v.kind == ast::ValueKind::Ref && depth < 16) {
    // A named rollout is evaluated where it is used, with the user's context.
    if (auto it = rollouts_.find(v.text); it != rollouts_.end()) {
      for (const auto& rv : it->second->value) u |= uses(rv, depth + 1);
    }
  }
  for (const auto& item : v.items) u |= uses(item, depth);
  for (const auto& a : v.args) {
    for (const auto& av : a.value) u |= uses(av, depth);
  }
  for (const auto& s : v.body) {
    for (const auto& sv : s.values) u |= uses(sv, depth);
    for (const auto& inner : s.body) {
      for (const auto& iv : inner.values) u |= uses(iv, depth);
    }
  }
  return u;
}

Evaluation::Key Evaluation::keyOf(const ast::Stmt& s, const EvalContext& ctx) {
  auto [it, inserted] = uses_.emplace(&s, None);
  if (inserted) {
    std::uint8_t u = None;
    for (const auto& v : s.values) u |= uses(v);
    it->second = u;
  }
  return {&s, (it->second & Env) ? ctx.env : nullptr, (it->second & Workload) ? ctx.workload : nullptr};
}

const Val& Evaluation::value(const ast::Stmt& s, const AttrSpec& a, const EvalContext& ctx) {
  auto [it, inserted] = cache_.try_emplace(keyOf(s, ctx));
  if (!inserted) {
    ++hits_;
    return it->second;
  }
  ++evaluations_;
  it->second = eval_.eval(s.value(), a.type, ctx, s.name);
  if (it->second.ok) checkValue(s, a, it->second);
  return it->second;
}

void Evaluation::checkValue(const ast::Stmt& s, const AttrSpec& a, Val& v) {
  diag::DiagnosticEngine& diags = eval_.diags();
  const ast::Value& value = s.value();
  switch (a.id) {
    case AttrId::UnitPort:
      if (v.n < 1 || v.n > 65535) {
        diags.report(Code::PortOutOfRange, value.range, fmt::format("port {} is outside 1-65535", static_cast<int>(v.n)), "not a TCP port")
            .help("use the port the container listens on, like `port = 8080`");
        v.ok = false;
      }
      break;
    case AttrId::UnitLogRetention: {
      const auto& allowed = logRetentionDays();
      double days = v.n / 86400;
      if (std::find(allowed.begin(), allowed.end(), static_cast<int>(days)) == allowed.end() || days != std::floor(days)) {
        std::vector<std::string> opts;
        for (int d : allowed) opts.push_back(fmt::format("{}d", d));
        auto b = diags.report(Code::InvalidLogRetention, value.range,
                              fmt::format("CloudWatch Logs cannot keep logs for `{}{}{}`", value.text, value.unitSpaced ? " " : "", value.unit),
                              "not a retention CloudWatch offers");
        auto nearest = std::lower_bound(allowed.begin(), allowed.end(), static_cast<int>(std::ceil(days)));
        if (nearest != allowed.end()) b.help(fmt::format("the nearest longer retention is `{}d`; the choices are {}", *nearest, fmt::join(opts, ", ")));
        v.ok = false;
      }
      break;
    }
    case AttrId::HealthPath:
      // Reported, but kept: the model shows the path as written.
      if (v.s.empty() || v.s.front() != '/') {
        diags.report(Code::HealthPath, value.range, fmt::format("health check path `{}` does not start with `/`", v.s), "not an absolute path")
            .help(fmt::format("write `\"/{}\"`", v.s))
            .fix("add the leading `/`", value.range, "\"/" + v.s + "\"");
      }
      break;
    case AttrId::UnitEphemeralStorage: {
      double gib = v.n / 1024;
      if (gib != std::floor(gib) || gib < 20 || gib > 200) {
        diags.report(Code::EphemeralStorage, value.range,
                     fmt::format("Fargate gives a task 20 GiB to 200 GiB of ephemeral storage in whole GiB, not {} GiB", fmtNumber(gib)),
                     "not a size Fargate offers")
            .help(gib < 20    ? "every task has at least 20 GiB: leave it out"
                  : gib > 200 ? "200 GiB is the most a task gets: for more, or for data that outlives the task, mount an EFS `volume`"
                              : "write a whole number of GiB, like `ephemeral_storage = 50 GiB`");
        v.ok = false;
      }
      break;
    }
    case AttrId::SidecarPort:
      if (v.n < 1 || v.n > 65535) {
        diags.report(Code::PortOutOfRange, value.range, fmt::format("port {} is outside 1-65535", static_cast<int>(v.n)), "not a TCP port")
            .help("use the port the sidecar listens on, like `port = 9901`");
        v.ok = false;
      }
      break;
    case AttrId::SidecarMemory:
      if (v.n < 6) {
        diags.report(Code::ContainersTooLarge, value.range, "a container needs at least 6 MiB of memory", "too little")
            .help("give the sidecar what it needs, like `memory = 128 MiB`");
        v.ok = false;
      }
      break;
    case AttrId::VolumeEfs:
      if (!validResourceId(v.s, "fs")) {
        diags.report(Code::InvalidResourceId, value.range, fmt::format("`{}` is not an EFS file system id", v.s), "not an EFS id")
            .help("EFS ids are `fs-` and 8 or 17 hexadecimal digits, like `fs-0123456789abcdef0`");
        v.ok = false;
      }
      break;
    case AttrId::VolumeAccessPoint:
      if (!validResourceId(v.s, "fsap")) {
        diags.report(Code::InvalidResourceId, value.range, fmt::format("`{}` is not an EFS access point id", v.s), "not an access point id")
            .help("access point ids are `fsap-` and 17 hexadecimal digits, like `fsap-0123456789abcdef0`");
        v.ok = false;
      }
      break;
    case AttrId::VolumePath:
      if (v.s.empty() || v.s.front() != '/') {
        diags.report(Code::VolumePath, value.range, fmt::format("mount path `{}` is not absolute", v.s), "not an absolute path")
            .help(fmt::format("write `\"/{}\"`", v.s))
            .fix("add the leading `/`", value.range, "\"/" + v.s + "\"");
        v.ok = false;
      }
      break;
    case AttrId::HealthCommand:
    case AttrId::SidecarHealthCheck:
      if (v.list.empty() || (v.list.front() != "CMD" && v.list.front() != "CMD-SHELL")) {
        // One string is a shell line (`CMD-SHELL`); a program and its arguments run
        // without a shell (`CMD`).
        std::string fix;
        if (!v.list.empty() && value.kind == ast::ValueKind::List && !value.items.empty()) {
          fix = value.items.size() == 1 ? "CMD-SHELL" : "CMD";
        }
        auto b = diags.report(Code::HealthCommand, value.range,
                              v.list.empty() ? std::string("the health check command is empty")
                                             : fmt::format("a container health check starts with `CMD` or `CMD-SHELL`, not `{}`", v.list.front()),
                              "not a health check command");
        b.help("write `[\"CMD-SHELL\", \"curl -f http://localhost:8080/healthz || exit 1\"]`, or `[\"CMD\", \"/bin/check\"]` without a shell");
        if (!fix.empty()) {
          b.fix(fix == "CMD" ? "run the program without a shell (`CMD`)" : "run it with a shell (`CMD-SHELL`)",
                SourceRange{value.range.file, value.items.front().range.begin, value.items.front().range.begin}, "\"" + fix + "\", ");
        }
        v.ok = false;
      }
      break;
    case AttrId::HealthInterval:
      // Reported, but kept: the timeout is compared with it.
      if (v.n < 5 || v.n > 300) {
        diags.report(Code::HealthTimeout, value.range, fmt::format("health check interval ({}s) must be between 5s and 300s", fmtNumber(v.n)),
                     "out of range")
            .help("the load balancer checks health every 5s to 300s");
      }
      break;
    default: break;
  }
}

const Val& Evaluation::grant(const ast::Stmt& s, const BlockSpec& block, const EvalContext& ctx) {
  auto [it, inserted] = cache_.try_emplace(keyOf(s, ctx));
  if (!inserted) {
    ++hits_;
    return it->second;
  }
  ++evaluations_;
  it->second = eval_.grant(s, block, ctx);
  return it->second;
}

const Val& Evaluation::value(const ast::Stmt& s, Ty type, const EvalContext& ctx) {
  auto [it, inserted] = cache_.try_emplace(keyOf(s, ctx));
  if (!inserted) {
    ++hits_;
    return it->second;
  }
  ++evaluations_;
  it->second = eval_.eval(s.value(), type, ctx, s.name);
  return it->second;
}

const Val& Evaluation::envVar(const ast::Stmt& f, const EvalContext& ctx, const std::string& appName) {
  auto [it, inserted] = cache_.try_emplace(keyOf(f, ctx));
  if (!inserted) {
    ++hits_;
    return it->second;
  }
  ++evaluations_;
  Val r = eval_.eval(f.value(), Ty::String, ctx, f.name);
  if (r.ok && looksLikeSecretName(f.name) && f.value().kind == ast::ValueKind::String && !f.value().text.empty()) {
    std::string param = "/" + appName + "/${env.name}/" + toLower(f.name);
    std::replace(param.begin(), param.end(), '_', '-');
    eval_.diags().report(diag::Code::SecretInEnv, f.value().range, fmt::format("`{}` looks like a secret but holds a literal value", f.name),
                         "literal value")
        .label(f.nameRange, "the name suggests a secret")
        .help(fmt::format("move it to `secrets {{ {} = ssm(\"{}\") }}` and store the value in SSM Parameter Store", f.name, param))
        .note("values in `env` end up in Git, in the generated task definition and in the ECS console");
    r.ok = false;
  }
  it->second = std::move(r);
  return it->second;
}

void Evaluation::evaluateUnit(const std::vector<const ast::Decl*>& layers, const std::string& envName, const EvalContext& ctx,
                              const std::string& appName) {
  const Schema& schema = schemaFor(Scope::Unit);
  auto body = [&](const std::vector<ast::Stmt>& stmts) {
    for (const auto& s : stmts) {
      if (s.kind == ast::StmtKind::Attr) {
        if (const AttrSpec* spec = schema.attr(s.name)) value(s, *spec, ctx);
      } else if (s.kind == ast::StmtKind::Block) {
        const BlockSpec* spec = schema.block(s.name);
        if (!spec) continue;
        for (const auto& f : s.body) {
          if (spec->clauses()) {
            if (f.kind == ast::StmtKind::Clause) grant(f, *spec, ctx);
            continue;
          }
          if (f.kind != ast::StmtKind::Attr) continue;
          if (spec->id == BlockId::UnitEnv) envVar(f, ctx, appName);
          else if (spec->map) value(f, spec->mapType, ctx);
          else if (const AttrSpec* a = spec->attr(f.name)) value(f, *a, ctx);
        }
      }
    }
  };
  for (const ast::Decl* d : layers) {
    body(d->body);
    for (const auto& s : d->body) {
      if (s.kind == ast::StmtKind::Override && s.name == envName) body(s.body);
    }
  }
}

}  // namespace gops::sema::detail
