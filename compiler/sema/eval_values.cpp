// Evaluation of the constructors and named values: images, exposures, secrets,
// schedules, deploy triggers, NAT modes, gates, name lists, accounts, regions and
// repositories.
#include "sema/eval.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sema/cron.h"
#include "sema/eval_util.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema {

using diag::Code;

using namespace detail;

namespace {

/// ECR's repository-name pattern, `[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*`:
/// runs of lower-case letters and digits joined by single `.`, `_`, `-` or `/`.
/// Written out rather than as a std::regex, which cost an eighth of `gops check`.
bool validEcrName(const std::string& name) {
  if (name.size() < 2 || name.size() > 256) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool afterSeparator = true;  // at the start, or just after `.`, `_`, `-`, `/`
  for (char c : name) {
    if (alnum(c)) {
      afterSeparator = false;
    } else if (c == '.' || c == '_' || c == '-' || c == '/') {
      if (afterSeparator) return false;
      afterSeparator = true;
    } else {
      return false;
    }
  }
  return !afterSeparator;
}

/// GitHub's `owner/name`: an owner of 1-39 letters, digits and `-` not starting with
/// `-`, and a name of 1-100 letters, digits, `.`, `_`, `-` other than `.` and `..`.
bool validGithubRepository(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash > 39) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (s[0] == '-') return false;
  for (std::size_t i = 0; i < slash; ++i) {
    if (!alnum(s[i]) && s[i] != '-') return false;
  }
  std::string_view repo = std::string_view(s).substr(slash + 1);
  if (repo.empty() || repo.size() > 100 || repo == "." || repo == "..") return false;
  return std::all_of(repo.begin(), repo.end(), [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool validBranch(const std::string& b) {
  if (b.empty() || b.front() == '/' || b.back() == '/' || b.back() == '.' || endsWith(b, ".lock")) return false;
  if (b.find("..") != std::string::npos || b.find("//") != std::string::npos || b.find("@{") != std::string::npos) return false;
  for (char c : b) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '~' || c == '^' || c == ':' || c == '\\') return false;
  }
  return true;
}


}  // namespace

Val Evaluator::image(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Call && (v.text == "ecr" || v.text == "image")) {
    if (!callArgs(v, 1, 1, {})) return r;
    Val s = string(*positionalArg(v, 0), ctx, attr);
    if (!s.ok) return r;
    if (v.text == "ecr") {
      if (!validEcrName(s.s)) {
        diags_.report(Code::InvalidName, positionalArg(v, 0)->range, fmt::format("`{}` is not a valid ECR repository name", s.s),
                      "invalid repository name")
            .help("ECR names are lower case letters, digits and `._-`, in `/`-separated parts, like `shop/api`");
        return r;
      }
      r.image.kind = model::Image::Kind::Ecr;
      r.image.repository = s.s;
    } else {
      if (s.s.empty() || s.s.find(' ') != std::string::npos) {
        diags_.report(Code::InvalidName, positionalArg(v, 0)->range, fmt::format("`{}` is not an image reference", s.s), "invalid image")
            .help("write it like `image(\"docker.io/library/nginx:1.27\")`");
        return r;
      }
      r.image.kind = model::Image::Kind::External;
      r.image.uri = s.s;
    }
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::String) {
    mismatch(v, Ty::Image, attr, fmt::format("write `image(\"{}\")` for an image from a registry, or `ecr(\"name\")` for one in the app's registry", v.text),
             "image(\"" + v.text + "\")");
    return r;
  }
  if (v.kind == ast::ValueKind::Call) {
    unknownValue(diags_, v, attr, {"ecr", "image"}, "image source");
    return r;
  }
  mismatch(v, Ty::Image, attr);
  return r;
}

Val Evaluator::expose(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Ref && (v.text == "internal" || v.text == "none")) {
    r.expose.kind = v.text == "internal" ? model::Expose::Kind::Internal : model::Expose::Kind::None;
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Call && v.text == "public") {
    if (!callArgs(v, 1, 16, {"path"})) return r;
    bool ok = true;
    r.expose.kind = model::Expose::Kind::Public;
    for (const auto& a : v.args) {
      const ast::Value& hv = a.value.front();
      if (a.name == "path") {
        // `path = "/api/*"` or `path = ["/api/*", "/v2/*"]`: the ALB's path-pattern condition.
        Val p = hv.kind == ast::ValueKind::List ? stringList(hv, ctx, "path") : string(hv, ctx, "path");
        if (!p.ok) {
          ok = false;
          continue;
        }
        std::vector<std::string> paths = hv.kind == ast::ValueKind::List ? p.list : std::vector<std::string>{p.s};
        if (paths.empty() || paths.size() > model::kAlbValuesPerCondition) {
          diags_.report(Code::PathPattern, hv.range,
                        fmt::format("a listener rule's path condition takes 1 to {} path patterns, not {}", model::kAlbValuesPerCondition,
                                    paths.size()),
                        "path patterns")
              .help("write one pattern like `path = \"/api/*\"`, or a list of up to three");
          ok = false;
          continue;
        }
        for (std::size_t i = 0; i < paths.size(); ++i) {
          const std::string& path = paths[i];
          const SourceRange at = hv.kind == ast::ValueKind::List && i < hv.items.size() ? hv.items[i].range : hv.range;
          bool chars = std::all_of(path.begin(), path.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_-.$/~\"'@:+*?&").find(c) != std::string_view::npos;
          });
          if (path.empty() || path.front() != '/' || path.size() > 128 || !chars) {
            diags_.report(Code::PathPattern, at, fmt::format("`{}` is not a path pattern the load balancer accepts", path), "invalid path pattern")
                .help("a path pattern starts with `/`, is at most 128 characters of letters, digits and `_-.$/~\"'@:+&`, with `*` and `?` as "
                      "wildcards, like `/api/*`");
            ok = false;
            continue;
          }
          r.expose.paths.push_back(path);
        }
        continue;
      }
      Val s = string(hv, ctx, attr);
      if (!s.ok) {
        ok = false;
        continue;
      }
      if (!validDnsName(toLower(s.s))) {
        // Name the value as written, so that an interpolated hostname that is invalid in
        // every environment is reported once; the note shows what it became.
        bool interpolated = hv.kind == ast::ValueKind::String && hv.hasInterpolation();
        auto b = diags_.report(Code::InvalidHostname, hv.range, fmt::format("`{}` is not a valid DNS hostname", interpolated ? hv.text : s.s),
                               "invalid hostname");
        b.help("a hostname is dot-separated labels of letters, digits and `-`, each 1-63 characters, like `api.example.com`");
        if (interpolated && ctx.env) b.note(fmt::format("in environment `{}` it is `{}`", ctx.env->name, s.s));
        ok = false;
        continue;
      }
      r.expose.hosts.push_back(toLower(s.s));
    }
    r.ok = ok;
    return r;
  }
  if (v.kind == ast::ValueKind::Ref && v.text == "public") {
    diags_.report(Code::BadArguments, v.range, "`public` needs the hostname it is served at", "missing hostname")
        .help("write it like `public(\"api.example.com\")`")
        .fix("add a hostname", v.range, "public(\"api.example.com\")");
    return r;
  }
  if (v.kind == ast::ValueKind::Ref || v.kind == ast::ValueKind::Call) {
    unknownValue(diags_, v, attr, {"public", "internal", "none"}, "exposure");
    return r;
  }
  mismatch(v, Ty::Expose, attr);
  return r;
}

Val Evaluator::secret(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Call && (v.text == "ssm" || v.text == "secretsmanager")) {
    bool sm = v.text == "secretsmanager";
    if (!callArgs(v, 1, 1, sm ? std::vector<std::string>{"key"} : std::vector<std::string>{})) return r;
    Val name = string(*positionalArg(v, 0), ctx, attr);
    if (!name.ok) return r;
    if (name.s.empty()) {
      diags_.report(Code::BadArguments, positionalArg(v, 0)->range, "the secret's name is empty", "empty name")
          .help(sm ? "write the secret's name or ARN, like `secretsmanager(\"shop/database\")`"
                   : "write the parameter's name, like `ssm(\"/shop/${env.name}/database-url\")`");
      return r;
    }
    r.secret.kind = sm ? model::Secret::Kind::SecretsManager : model::Secret::Kind::Ssm;
    r.secret.name = name.s;
    if (const ast::Value* key = namedArg(v, "key")) {
      Val k = string(*key, ctx, "key");
      if (!k.ok) return r;
      r.secret.key = k.s;
    }
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::String) {
    std::string param = "/" + (ctx.app ? ctx.app->name : std::string("app")) + "/${env.name}/" + toLower(std::string(attr));
    std::replace(param.begin(), param.end(), '_', '-');
    diags_.report(Code::SecretLiteral, v.range, fmt::format("the secret `{}` is written into the spec as a literal string", attr),
                  "secret value in plain text")
        .help(fmt::format("store the value in SSM Parameter Store or Secrets Manager and reference it: `{} = ssm(\"{}\")`", attr, param))
        .note("anything in the spec ends up in Git, in the generated files and in the task definition")
        .fix("read it from SSM Parameter Store", v.range, fmt::format("ssm(\"{}\")", param));
    return r;
  }
  if (v.kind == ast::ValueKind::Call || v.kind == ast::ValueKind::Ref) {
    unknownValue(diags_, v, attr, {"ssm", "secretsmanager"}, "secret source");
    return r;
  }
  mismatch(v, Ty::Secret, attr);
  return r;
}

Val Evaluator::schedule(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Call && v.text == "cron") {
    if (!callArgs(v, 1, 1, {})) return r;
    const ast::Value& arg = *positionalArg(v, 0);
    Val s = string(arg, ctx, attr);
    if (!s.ok) return r;
    if (auto err = checkCron(s.s)) {
      SourceRange where = arg.range;
      if (!arg.hasInterpolation() && arg.text == s.s) {
        where = {arg.range.file, static_cast<std::uint32_t>(arg.range.begin + 1 + err->begin),
                 static_cast<std::uint32_t>(arg.range.begin + 1 + std::max(err->end, err->begin + 1))};
      }
      diags_.report(Code::InvalidCron, where, fmt::format("invalid cron expression: {}", err->message), "here")
          .help("cron takes five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-6, 0 = Sunday), e.g. `cron(\"0 3 * * *\")`");
      return r;
    }
    r.schedule.kind = model::Schedule::Kind::Cron;
    r.schedule.cron = s.s;
    r.schedule.expression = fmt::format("cron(\"{}\")", s.s);
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Call && v.text == "rate") {
    if (!callArgs(v, 1, 1, {})) return r;
    const ast::Value& arg = *positionalArg(v, 0);
    Val d = duration(arg, attr);
    if (!d.ok) return r;
    // Both EventBridge and GitHub schedules count whole minutes; GitHub runs at most every 5.
    if (d.n < 300 || std::fmod(d.n, 60) != 0) {
      diags_.report(Code::InvalidCron, arg.range, "a rate must be a whole number of minutes, at least 5m", "invalid rate")
          .help("write it like `rate(15m)`, `rate(6h)` or `rate(1d)`");
      return r;
    }
    r.schedule.kind = model::Schedule::Kind::Rate;
    r.schedule.rateSeconds = d.n;
    r.schedule.expression = fmt::format("rate({}{}{})", arg.text, arg.unitSpaced ? " " : "", arg.unit);
    // The equivalent cron for systems that only take cron (GitHub Actions).
    long minutes = static_cast<long>(d.n / 60);
    if (minutes < 60 && 60 % minutes == 0) r.schedule.cron = fmt::format("*/{} * * * *", minutes);
    else if (minutes % 60 == 0 && minutes < 1440 && 24 % (minutes / 60) == 0) r.schedule.cron = fmt::format("0 */{} * * *", minutes / 60);
    else if (minutes == 1440) r.schedule.cron = "0 0 * * *";
    else if (minutes == 10080) r.schedule.cron = "0 0 * * 0";
    else {
      diags_.report(Code::InvalidCron, arg.range, fmt::format("`rate({}{})` cannot be expressed as a cron schedule", arg.text, arg.unit), "uneven rate")
          .help("use a rate that divides an hour or a day evenly (5m, 10m, 15m, 30m, 1h, 2h, 6h, 12h, 1d, 7d), or write a `cron(...)`");
      return r;
    }
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::String) {
    mismatch(v, Ty::Schedule, attr, fmt::format("write `cron(\"{}\")`", v.text), "cron(\"" + v.text + "\")");
    return r;
  }
  if (v.kind == ast::ValueKind::Call || v.kind == ast::ValueKind::Ref) {
    unknownValue(diags_, v, attr, {"cron", "rate"}, "schedule");
    return r;
  }
  mismatch(v, Ty::Schedule, attr);
  return r;
}

Val Evaluator::deploy(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Ref && v.text == "manual") {
    r.deploy.kind = model::Deploy::Kind::Manual;
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Call && v.text == "on_push") {
    if (!callArgs(v, 1, 1, {})) return r;
    const ast::Value& arg = *positionalArg(v, 0);
    Val s = string(arg, ctx, attr);
    if (!s.ok) return r;
    if (!validBranch(s.s)) {
      diags_.report(Code::InvalidBranch, arg.range, fmt::format("`{}` is not a valid branch name", s.s), "invalid branch name")
          .help("branch names cannot contain spaces, `..`, `~`, `^`, `:` or `\\`, nor start or end with `/`");
      return r;
    }
    r.deploy.kind = model::Deploy::Kind::OnPush;
    r.deploy.branch = s.s;
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Ref && v.text == "on_push") {
    diags_.report(Code::BadArguments, v.range, "`on_push` needs the branch that deploys", "missing branch")
        .help("write it like `on_push(\"main\")`");
    return r;
  }
  if (v.kind == ast::ValueKind::String) {
    mismatch(v, Ty::Deploy, attr, fmt::format("write `on_push(\"{}\")`", v.text), "on_push(\"" + v.text + "\")");
    return r;
  }
  if (v.kind == ast::ValueKind::Call || v.kind == ast::ValueKind::Ref) {
    unknownValue(diags_, v, attr, {"on_push", "manual"}, "deploy trigger");
    return r;
  }
  mismatch(v, Ty::Deploy, attr);
  return r;
}

Val Evaluator::engine(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Ref) {
    if (v.text == "gops") r.engine = model::Rollout::Engine::Gops;
    else if (v.text == "ecs") r.engine = model::Rollout::Engine::Ecs;
    else {
      unknownValue(diags_, v, attr, {"gops", "ecs"}, "rollout engine");
      return r;
    }
    r.ok = true;
    return r;
  }
  mismatch(v, Ty::Engine, attr, "write `gops` or `ecs`");
  return r;
}

Val Evaluator::nat(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Ref) {
    if (v.text == "none") r.nat = model::Network::Nat::None;
    else if (v.text == "single") r.nat = model::Network::Nat::Single;
    else if (v.text == "per_zone") r.nat = model::Network::Nat::PerZone;
    else {
      unknownValue(diags_, v, attr, {"none", "single", "per_zone"}, "NAT mode");
      return r;
    }
    r.ok = true;
    return r;
  }
  mismatch(v, Ty::Nat, attr, "write `none`, `single` or `per_zone`");
  return r;
}

Val Evaluator::gates(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind != ast::ValueKind::List) {
    mismatch(v, Ty::GateList, attr);
    return r;
  }
  bool ok = true;
  for (const auto& item : v.items) {
    model::Gate g;
    if (item.kind == ast::ValueKind::Ref && item.text == "tests_passed") g.kind = model::Gate::Kind::TestsPassed;
    else if (item.kind == ast::ValueKind::Ref && item.text == "security_scan") g.kind = model::Gate::Kind::SecurityScan;
    else if (item.kind == ast::ValueKind::Ref && item.text == "approval") g.kind = model::Gate::Kind::Approval;
    else if (item.kind == ast::ValueKind::Call && item.text == "soak") {
      if (!callArgs(item, 1, 1, {})) {
        ok = false;
        continue;
      }
      Val d = duration(*positionalArg(item, 0), "soak");
      if (!d.ok) {
        ok = false;
        continue;
      }
      g.kind = model::Gate::Kind::Soak;
      g.soakSeconds = d.n;
    } else if (item.kind == ast::ValueKind::Ref && item.text == "soak") {
      diags_.report(Code::BadArguments, item.range, "`soak` needs a duration", "missing duration").help("write it like `soak(24h)`");
      ok = false;
      continue;
    } else if (item.kind == ast::ValueKind::Ref || item.kind == ast::ValueKind::Call) {
      unknownValue(diags_, item, attr, {"tests_passed", "security_scan", "approval", "soak"}, "gate");
      ok = false;
      continue;
    } else {
      mismatch(item, Ty::GateList, attr, "gates are `tests_passed`, `security_scan`, `approval` and `soak(duration)`");
      ok = false;
      continue;
    }
    r.gates.push_back(g);
  }
  r.ok = ok;
  return r;
}

Val Evaluator::nameList(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind != ast::ValueKind::List) {
    std::string fix = v.kind == ast::ValueKind::Ref ? "[" + v.text + "]" : std::string();
    mismatch(v, Ty::NameList, attr, fix.empty() ? std::string() : fmt::format("write a list: `{}`", fix), fix);
    return r;
  }
  bool ok = true;
  for (const auto& item : v.items) {
    if (item.kind != ast::ValueKind::Ref) {
      std::string fix = item.kind == ast::ValueKind::String ? item.text : std::string();
      mismatch(item, Ty::NameList, attr, fix.empty() ? "name services without quotes" : fmt::format("write the name without quotes: `{}`", fix), fix);
      ok = false;
      continue;
    }
    r.names.emplace_back(item.text, item.range);
  }
  r.ok = ok;
  return r;
}

Val Evaluator::account(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Number && v.unit.empty()) {
    std::string fix = "\"" + v.text + "\"";
    mismatch(v, Ty::Account, attr, fmt::format("write account ids as strings, so leading zeros survive: `{}`", fix), fix);
    return r;
  }
  Val s = string(v, ctx, attr);
  if (!s.ok) return r;
  bool digits = s.s.size() == 12 && std::all_of(s.s.begin(), s.s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!digits) {
    std::string stripped;
    for (char c : s.s) {
      if (c != '-' && c != ' ') stripped += c;
    }
    auto b = diags_.report(Code::InvalidAccount, v.range, fmt::format("`{}` is not an AWS account id: account ids are exactly 12 digits", s.s),
                           fmt::format("{} characters", utf8Length(s.s)));
    if (stripped.size() == 12 && std::all_of(stripped.begin(), stripped.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      b.help(fmt::format("write it without separators: `\"{}\"`", stripped));
      b.fix("remove the separators", v.range, "\"" + stripped + "\"");
    } else {
      b.help("find it with `aws sts get-caller-identity --query Account`");
    }
    return r;
  }
  r.s = s.s;
  r.ok = true;
  return r;
}

Val Evaluator::region(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  Val s = string(v, ctx, attr);
  if (!s.ok) return r;
  if (!findRegion(s.s)) {
    std::vector<std::string> names;
    for (const auto& reg : regions()) names.emplace_back(reg.name);
    auto b = diags_.report(Code::UnknownRegion, v.range, fmt::format("unknown AWS region `{}`", s.s), "not an AWS region");
    if (auto m = closestMatch(s.s, names)) {
      b.help(fmt::format("did you mean `{}`?", *m));
      b.fix(fmt::format("replace with `{}`", *m), v.range, "\"" + *m + "\"");
    } else {
      b.help("regions are written like `us-east-1` or `eu-west-1`");
    }
    return r;
  }
  r.s = s.s;
  r.ok = true;
  return r;
}

Val Evaluator::repository(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  Val s = string(v, ctx, attr);
  if (!s.ok) return r;
  if (!validGithubRepository(s.s)) {
    auto b = diags_.report(Code::InvalidRepository, v.range, fmt::format("`{}` is not a GitHub repository", s.s), "expected `owner/name`");
    if (startsWith(s.s, "https://github.com/") || startsWith(s.s, "git@github.com:")) {
      std::string rest = s.s.substr(s.s.find("github.com") + 11);
      if (endsWith(rest, ".git")) rest.resize(rest.size() - 4);
      b.help(fmt::format("write only the owner and the name: `\"{}\"`", rest));
      b.fix("keep only `owner/name`", v.range, "\"" + rest + "\"");
    } else {
      b.help("write the repository as `owner/name`, like `\"acme/shop\"`");
    }
    return r;
  }
  r.s = s.s;
  r.ok = true;
  return r;
}

}  // namespace gops::sema
