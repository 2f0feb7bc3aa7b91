#include "sema/eval.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sema/cron.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema {

using diag::Code;

namespace {

std::optional<double> number(const ast::Value& v) {
  if (v.kind != ast::ValueKind::Number) return std::nullopt;
  try {
    return std::stod(v.text);
  } catch (...) {
    return std::nullopt;
  }
}

std::string fmtNumber(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<long long>(d));
  return fmt::format("{}", d);
}

const std::map<std::string, double, std::less<>>& durationUnits() {
  static const std::map<std::string, double, std::less<>> k = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  return k;
}

std::optional<std::string> durationUnitFor(std::string_view u) {
  static const std::map<std::string, std::string, std::less<>> k = {
      {"sec", "s"},    {"secs", "s"},    {"second", "s"}, {"seconds", "s"}, {"S", "s"},   {"min", "m"},  {"mins", "m"},
      {"minute", "m"}, {"minutes", "m"}, {"M", "m"},      {"hr", "h"},      {"hrs", "h"}, {"hour", "h"}, {"hours", "h"},
      {"H", "h"},      {"day", "d"},     {"days", "d"},   {"D", "d"},       {"msec", "ms"}, {"millis", "ms"}, {"w", "d"}};
  if (auto it = k.find(u); it != k.end()) return it->second;
  return std::nullopt;
}

bool isSizeUnit(std::string_view u) { return u == "KiB" || u == "MiB" || u == "GiB" || u == "TiB"; }
bool isCpuUnit(std::string_view u) { return u == "vcpu"; }

std::string_view unitKind(std::string_view u) {
  if (u.empty()) return "number";
  if (u == "%") return "percentage";
  if (durationUnits().count(u)) return "duration";
  if (isSizeUnit(u)) return "size";
  if (isCpuUnit(u)) return "CPU size";
  return "value with an unknown unit";
}

bool validDnsName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  int labels = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    if (dot == std::string::npos) dot = host.size();
    std::string_view label(host.data() + start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    // A leading wildcard label is allowed (`*.example.com`).
    if (!(labels == 0 && label == "*")) {
      if (label.front() == '-' || label.back() == '-') return false;
      for (char c : label) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
      }
    }
    ++labels;
    start = dot + 1;
    if (dot == host.size()) break;
  }
  return labels >= 2;
}

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

std::string describeValue(const ast::Value& v) {
  switch (v.kind) {
    case ast::ValueKind::String: {
      std::string s = v.text;
      if (utf8Length(s) > 30) s = s.substr(0, utf8Advance(s, 27)) + "...";
      return fmt::format("the string \"{}\"", s);
    }
    case ast::ValueKind::Number:
      if (v.unit.empty()) return fmt::format("the number `{}`", v.text);
      return fmt::format("the {} `{}{}{}`", unitKind(v.unit), v.text, v.unitSpaced ? " " : "", v.unit);
    case ast::ValueKind::Dotted: return fmt::format("`{}`", v.text);
    case ast::ValueKind::Bool: return fmt::format("`{}`", v.text);
    case ast::ValueKind::List: return "a list";
    case ast::ValueKind::Call: return fmt::format("`{}(...)`", v.text);
    case ast::ValueKind::Object: return fmt::format("a `{} {{ ... }}` block", v.text);
    case ast::ValueKind::Ref: return fmt::format("`{}`", v.text);
    case ast::ValueKind::Error: return "an invalid value";
  }
  return "a value";
}

void Evaluator::mismatch(const ast::Value& v, Ty t, std::string_view attr, std::string help, std::string fix) {
  if (v.kind == ast::ValueKind::Error) return;  // already reported by the parser
  std::string subject = attr.empty() ? std::string("this value") : fmt::format("`{}`", attr);
  auto b = diags_.report(Code::TypeMismatch, v.range, fmt::format("mismatched types: {} expects {}, found {}", subject, describe(t), describeValue(v)),
                         fmt::format("expected {}", describe(t)));
  if (help.empty()) help = fmt::format("write {} like `{}`", describe(t), example(t));
  b.help(help);
  if (!fix.empty()) b.fix(fmt::format("write `{}`", fix), v.range, fix);
}

Val Evaluator::eval(const ast::Value& v, Ty t, const EvalContext& ctx, std::string_view attr) {
  switch (t) {
    case Ty::String: return string(v, ctx, attr);
    case Ty::Int: return integer(v, attr);
    case Ty::Bool: return boolean(v, attr);
    case Ty::Duration: return duration(v, attr);
    case Ty::Percent: return percent(v, attr);
    case Ty::Size: return size(v, attr);
    case Ty::Cpu: return cpu(v, attr);
    case Ty::Cidr: return cidr(v, attr);
    case Ty::StringList: return stringList(v, ctx, attr);
    case Ty::Image: return image(v, ctx, attr);
    case Ty::Expose: return expose(v, ctx, attr);
    case Ty::Secret: return secret(v, ctx, attr);
    case Ty::Schedule: return schedule(v, ctx, attr);
    case Ty::Rollout: return rollout(v, ctx, attr);
    case Ty::Deploy: return deploy(v, ctx, attr);
    case Ty::Nat: return nat(v, attr);
    case Ty::GateList: return gates(v, attr);
    case Ty::NameList: return nameList(v, attr);
    case Ty::Account: return account(v, ctx, attr);
    case Ty::Region: return region(v, ctx, attr);
    case Ty::Repository: return repository(v, ctx, attr);
  }
  return {};
}

std::optional<std::string> Evaluator::interpolate(const ast::Value& v, const EvalContext& ctx) {
  std::string out;
  bool ok = true;
  for (const auto& p : v.parts) {
    if (!p.interpolation) {
      out += p.text;
      continue;
    }
    const std::string& path = p.text;
    std::vector<std::string> valid = {"app.name", "app.region", "app.repository"};
    if (ctx.envAllowed) valid.insert(valid.end(), {"env.name", "env.account", "env.region"});
    if (ctx.workloadAllowed) valid.insert(valid.end(), {"service.name"});
    bool known = std::find(valid.begin(), valid.end(), path) != valid.end();
    if (!known) {
      ok = false;
      std::string root = path.substr(0, path.find('.'));
      bool unavailable = (root == "env" && !ctx.envAllowed) || (root == "service" && !ctx.workloadAllowed);
      auto b = diags_.report(Code::UnknownInterpolation, p.range,
                             unavailable ? fmt::format("`{}` cannot be used in string interpolation here", path)
                                         : fmt::format("unknown name `{}` in string interpolation", path),
                             unavailable ? "not available here" : "unknown name");
      if (unavailable) {
        b.note(root == "env" ? "`env` is not available here: this value is the same for every environment"
                             : "`service` is available only inside a service, job or template");
        b.help(fmt::format("write the value itself, or use one of {}", joinQuoted(valid)));
      } else if (auto m = closestMatch(path, valid)) {
        b.help(fmt::format("did you mean `{}`?", *m));
        b.fix(fmt::format("replace with `${{{}}}`", *m), p.range, "${" + *m + "}");
      } else {
        b.help(fmt::format("the names are {}", joinQuoted(valid)));
      }
      continue;
    }
    if (path == "app.name" && ctx.app) out += ctx.app->name;
    else if (path == "app.region" && ctx.app) out += ctx.app->region;
    else if (path == "app.repository" && ctx.app) out += ctx.app->repository;
    else if (path == "env.name" && ctx.env) out += ctx.env->name;
    else if (path == "env.account" && ctx.env) out += ctx.env->account;
    else if (path == "env.region" && ctx.env) out += ctx.env->region;
    else if (path == "service.name" && ctx.workload) out += *ctx.workload;
    else out += "${" + path + "}";  // no environment or workload known here
  }
  if (!ok) return std::nullopt;
  return out;
}

Val Evaluator::string(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind != ast::ValueKind::String) {
    std::string fix;
    if (v.kind == ast::ValueKind::Ref || v.kind == ast::ValueKind::Number || v.kind == ast::ValueKind::Dotted) {
      fix = "\"" + v.text + (v.kind == ast::ValueKind::Number ? (v.unitSpaced ? " " : "") + v.unit : std::string()) + "\"";
    }
    mismatch(v, Ty::String, attr, fix.empty() ? std::string() : fmt::format("write it in double quotes: `{}`", fix), fix);
    return r;
  }
  auto s = interpolate(v, ctx);
  if (!s) return r;
  r.s = *s;
  r.ok = true;
  return r;
}

Val Evaluator::integer(const ast::Value& v, std::string_view attr) {
  Val r;
  auto n = number(v);
  if (!n) {
    std::string fix;
    if (v.kind == ast::ValueKind::String && !v.text.empty() &&
        std::all_of(v.text.begin(), v.text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      fix = v.text;
    }
    mismatch(v, Ty::Int, attr, fix.empty() ? std::string() : fmt::format("numbers are written without quotes: `{}`", fix), fix);
    return r;
  }
  if (!v.unit.empty()) {
    diags_.report(Code::InvalidUnit, v.unitRange, fmt::format("`{}` is a count and takes no unit", attr), "unexpected unit")
        .help(fmt::format("write `{} = {}`", attr, v.text))
        .fix("remove the unit", SourceRange{v.range.file, static_cast<std::uint32_t>(v.range.begin + v.text.size()), v.range.end}, "");
    return r;
  }
  if (*n != std::floor(*n)) {
    mismatch(v, Ty::Int, attr, fmt::format("`{}` is a count; write a whole number", attr));
    return r;
  }
  if (*n > 1e9) {
    mismatch(v, Ty::Int, attr, "the number is too large");
    return r;
  }
  r.n = *n;
  r.ok = true;
  return r;
}

Val Evaluator::boolean(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind != ast::ValueKind::Bool) {
    mismatch(v, Ty::Bool, attr);
    return r;
  }
  r.n = v.boolean ? 1 : 0;
  r.ok = true;
  return r;
}

Val Evaluator::duration(const ast::Value& v, std::string_view attr) {
  Val r;
  auto n = number(v);
  if (!n) {
    mismatch(v, Ty::Duration, attr);
    return r;
  }
  if (v.unit.empty()) {
    std::string fix = v.text + "s";
    mismatch(v, Ty::Duration, attr, fmt::format("durations carry a unit: write `{}` (or ms, m, h, d)", fix), fix);
    return r;
  }
  auto it = durationUnits().find(v.unit);
  if (it == durationUnits().end()) {
    if (unitKind(v.unit) != "value with an unknown unit") {
      mismatch(v, Ty::Duration, attr, "durations are written `500ms`, `30s`, `5m`, `24h` or `7d`");
      return r;
    }
    auto b = diags_.report(Code::InvalidUnit, v.unitRange, fmt::format("unknown duration unit `{}`", v.unit), "unknown unit");
    if (auto u = durationUnitFor(v.unit); u && v.unit != "w") {
      b.help(fmt::format("write `{}{}`", v.text, *u));
      b.fix(fmt::format("write `{}{}`", v.text, *u), v.range, v.text + *u);
    } else {
      b.help("durations are written `500ms`, `30s`, `5m`, `24h` or `7d`");
    }
    return r;
  }
  r.n = *n * it->second;
  r.ok = true;
  return r;
}

Val Evaluator::percent(const ast::Value& v, std::string_view attr) {
  Val r;
  auto n = number(v);
  if (!n) {
    mismatch(v, Ty::Percent, attr);
    return r;
  }
  if (v.unit != "%") {
    if (v.unit.empty()) {
      std::string fix = v.text + "%";
      std::string help = fmt::format("write `{}`", fix);
      if (*n > 0 && *n < 1) help += fmt::format(" (or `{}%` if you meant a fraction)", fmtNumber(*n * 100));
      mismatch(v, Ty::Percent, attr, help, fix);
    } else {
      mismatch(v, Ty::Percent, attr, fmt::format("percentages are written like `{}%`", v.text));
    }
    return r;
  }
  r.n = *n;
  r.ok = true;
  return r;
}

Val Evaluator::size(const ast::Value& v, std::string_view attr) {
  Val r;
  auto n = number(v);
  if (!n) {
    mismatch(v, Ty::Size, attr);
    return r;
  }
  if (v.unit.empty()) {
    std::string fix = v.text + " MiB";
    mismatch(v, Ty::Size, attr, fmt::format("write `{}`", fix), fix);
    return r;
  }
  double factor = 0;
  if (v.unit == "KiB") factor = 1.0 / 1024;
  else if (v.unit == "MiB") factor = 1;
  else if (v.unit == "GiB") factor = 1024;
  else if (v.unit == "TiB") factor = 1024 * 1024;
  if (factor == 0) {
    std::string lower = toLower(v.unit);
    std::string binary = lower.starts_with("k") ? "KiB" : lower.starts_with("m") ? "MiB" : lower.starts_with("g") ? "GiB" : lower.starts_with("t") ? "TiB" : "";
    if (!binary.empty()) {
      std::string fix = v.text + " " + binary;
      diags_.report(Code::InvalidUnit, v.unitRange, fmt::format("`{}` is not a size unit gops accepts", v.unit), "unknown size unit")
          .help(fmt::format("sizes are binary (as Fargate counts them): write `{}`", fix))
          .fix(fmt::format("write `{}`", fix), v.range, fix);
    } else {
      mismatch(v, Ty::Size, attr, "sizes are written like `512 MiB` or `2 GiB`");
    }
    return r;
  }
  double mib = *n * factor;
  if (mib != std::floor(mib)) {
    diags_.report(Code::InvalidUnit, v.range, fmt::format("`{}{}{}` is not a whole number of MiB", v.text, v.unitSpaced ? " " : "", v.unit), "fractional size")
        .help(fmt::format("write a whole number of MiB, like `{} MiB`", fmtNumber(std::round(mib))));
    return r;
  }
  r.n = mib;
  r.ok = true;
  return r;
}

Val Evaluator::cpu(const ast::Value& v, std::string_view attr) {
  Val r;
  auto n = number(v);
  if (!n) {
    mismatch(v, Ty::Cpu, attr);
    return r;
  }
  if (v.unit.empty()) {
    if (*n != std::floor(*n)) {
      std::string fix = v.text + " vcpu";
      mismatch(v, Ty::Cpu, attr, fmt::format("a bare number counts CPU units (1024 = 1 vCPU); write `{}`", fix), fix);
      return r;
    }
    r.n = *n;
    r.ok = true;
    return r;
  }
  if (v.unit == "vcpu") {
    double units = *n * 1024;
    if (units != std::floor(units)) {
      mismatch(v, Ty::Cpu, attr, "the size must be a whole number of CPU units (1 vcpu = 1024)");
      return r;
    }
    r.n = units;
    r.ok = true;
    return r;
  }
  if (v.unit == "vCPU" || v.unit == "VCPU" || v.unit == "vcpus") {
    std::string fix = v.text + " vcpu";
    diags_.report(Code::InvalidUnit, v.unitRange, fmt::format("write the CPU unit as `vcpu`, not `{}`", v.unit), "unit spelled differently")
        .help(fmt::format("write `{}`", fix))
        .fix(fmt::format("write `{}`", fix), v.range, fix);
    return r;
  }
  mismatch(v, Ty::Cpu, attr, "CPU is written like `0.5 vcpu`, or in CPU units like `512`");
  return r;
}

Val Evaluator::cidr(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind != ast::ValueKind::Dotted) {
    std::string fix = v.kind == ast::ValueKind::String ? v.text : std::string();
    mismatch(v, Ty::Cidr, attr, fix.empty() ? std::string() : fmt::format("CIDR blocks are written without quotes: `{}`", fix), fix);
    return r;
  }
  std::string text = v.text;
  auto bad = [&](std::string msg, std::string help) {
    diags_.report(Code::InvalidCidr, v.range, std::move(msg), "invalid CIDR block").help(std::move(help));
    return r;
  };
  std::size_t slash = text.find('/');
  if (slash == std::string::npos) return bad(fmt::format("`{}` has no prefix length", text), fmt::format("write it like `{}/16`", text));
  std::string addr = text.substr(0, slash);
  std::vector<long> octets;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = addr.find('.', start);
    std::string part = addr.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty() || part.size() > 3) return bad(fmt::format("`{}` is not an IPv4 address", addr), "write four numbers 0-255 separated by dots");
    octets.push_back(std::stol(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (octets.size() != 4) return bad(fmt::format("`{}` is not an IPv4 address: it has {} parts", addr, octets.size()), "write four numbers 0-255 separated by dots");
  for (long o : octets) {
    if (o > 255) return bad(fmt::format("`{}` is not an IPv4 address: {} is more than 255", addr, o), "each part is 0-255");
  }
  std::string prefixText = text.substr(slash + 1);
  if (prefixText.empty() || prefixText.size() > 2) return bad(fmt::format("`/{}` is not a prefix length", prefixText), "VPC prefixes are /16 to /28");
  long prefix = std::stol(prefixText);
  if (prefix < 16 || prefix > 28) {
    return bad(fmt::format("a VPC's CIDR block must be between /16 and /28, `{}` is /{}", text, prefix), "AWS accepts VPC sizes from /16 (65,536 addresses) to /28 (16)");
  }
  std::uint32_t ip = (static_cast<std::uint32_t>(octets[0]) << 24) | (static_cast<std::uint32_t>(octets[1]) << 16) |
                     (static_cast<std::uint32_t>(octets[2]) << 8) | static_cast<std::uint32_t>(octets[3]);
  std::uint32_t mask = prefix == 0 ? 0 : ~((1u << (32 - prefix)) - 1);
  if ((ip & ~mask) != 0) {
    std::uint32_t net = ip & mask;
    std::string fixed = fmt::format("{}.{}.{}.{}/{}", net >> 24, (net >> 16) & 255, (net >> 8) & 255, net & 255, prefix);
    diags_.report(Code::InvalidCidr, v.range, fmt::format("`{}` has host bits set", text), "not a network address")
        .help(fmt::format("did you mean `{}`?", fixed))
        .fix(fmt::format("write `{}`", fixed), v.range, fixed);
    return r;
  }
  r.s = text;
  r.n = prefix;
  r.ok = true;
  return r;
}

Val Evaluator::stringList(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind != ast::ValueKind::List) {
    std::string fix = v.kind == ast::ValueKind::String ? "[\"" + v.text + "\"]" : std::string();
    mismatch(v, Ty::StringList, attr, fix.empty() ? std::string() : fmt::format("write a list: `{}`", fix), fix);
    return r;
  }
  bool ok = true;
  for (const auto& item : v.items) {
    Val s = string(item, ctx, attr);
    if (!s.ok) ok = false;
    else r.list.push_back(s.s);
  }
  r.ok = ok;
  return r;
}

bool Evaluator::callArgs(const ast::Value& v, std::size_t positionalMin, std::size_t positionalMax, const std::vector<std::string>& named) {
  std::size_t positional = 0;
  bool ok = true;
  for (const auto& a : v.args) {
    if (a.name.empty()) {
      ++positional;
      if (positional > positionalMax) {
        const ValueDoc* doc = findValueDoc(v.text);
        auto b = diags_.report(Code::BadArguments, a.value.front().range,
                               fmt::format("`{}` takes {} argument{}", v.text, positionalMax, positionalMax == 1 ? "" : "s"), "unexpected argument");
        if (doc) b.help(fmt::format("write it like `{}`", doc->signature));
        ok = false;
      }
    } else if (std::find(named.begin(), named.end(), a.name) == named.end()) {
      auto b = diags_.report(Code::BadArguments, a.nameRange, fmt::format("`{}` has no argument `{}`", v.text, a.name), "unknown argument");
      if (auto m = closestMatch(a.name, named)) b.help(fmt::format("did you mean `{}`?", *m));
      else if (named.empty()) b.help(fmt::format("`{}` takes no named arguments", v.text));
      else b.help(fmt::format("the named argument{} of `{}` {} {}", named.size() == 1 ? "" : "s", v.text, named.size() == 1 ? "is" : "are", joinQuoted(named, " and ")));
      ok = false;
    }
  }
  if (positional < positionalMin) {
    const ValueDoc* doc = findValueDoc(v.text);
    diags_.report(Code::BadArguments, v.range, fmt::format("`{}` needs {} argument{}", v.text, positionalMin, positionalMin == 1 ? "" : "s"),
                  "missing argument")
        .help(doc ? fmt::format("write it like `{}`", doc->signature) : std::string("add the missing argument"));
    ok = false;
  }
  return ok;
}

namespace {
const ast::Value* positionalArg(const ast::Value& v, std::size_t i) {
  std::size_t k = 0;
  for (const auto& a : v.args) {
    if (!a.name.empty()) continue;
    if (k++ == i) return &a.value.front();
  }
  return nullptr;
}
const ast::Value* namedArg(const ast::Value& v, std::string_view name) {
  for (const auto& a : v.args) {
    if (a.name == name) return &a.value.front();
  }
  return nullptr;
}

/// Reports an unknown bare name or call among `choices` with a did-you-mean.
void unknownValue(diag::DiagnosticEngine& diags, const ast::Value& v, std::string_view attr, const std::vector<std::string>& choices,
                  std::string_view what) {
  auto b = diags.report(diag::Code::UnknownValue, v.kind == ast::ValueKind::Call || v.kind == ast::ValueKind::Object ? v.nameRange : v.range,
                        fmt::format("unknown {} `{}` for `{}`", what, v.text, attr),
                        fmt::format("not {} {}", std::string_view("aeiou").find(what.front()) == std::string_view::npos ? "a" : "an", what));
  if (auto m = closestMatch(v.text, choices)) {
    b.help(fmt::format("did you mean `{}`?", *m));
    b.fix(fmt::format("replace with `{}`", *m), v.kind == ast::ValueKind::Call || v.kind == ast::ValueKind::Object ? v.nameRange : v.range, *m);
  } else {
    std::vector<std::string> written;
    for (const auto& c : choices) {
      const ValueDoc* doc = findValueDoc(c);
      bool call = doc && doc->signature.find('(') != std::string_view::npos;  // strategies stay bare names
      written.push_back(call ? std::string(doc->signature) : c);
    }
    b.help(fmt::format("write {}", joinQuoted(written)));
  }
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
    if (!callArgs(v, 1, 16, {})) return r;
    bool ok = true;
    r.expose.kind = model::Expose::Kind::Public;
    for (const auto& a : v.args) {
      const ast::Value& hv = a.value.front();
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
        if (s.name == "min_healthy") {
          if (val.n < 0 || val.n > 100) {
            diags_.report(Code::RolloutPercent, s.value().range, fmt::format("`min_healthy` must be 0%-100%, not {}%", fmtNumber(val.n)), "out of range")
                .help("100% keeps every task serving while new ones start");
            ok = false;
          }
          ro.minHealthyPercent = val.n;
        } else if (s.name == "max_percent") {
          if (val.n < 100 || val.n > 200) {
            diags_.report(Code::RolloutPercent, s.value().range, fmt::format("`max_percent` must be 100%-200%, not {}%", fmtNumber(val.n)), "out of range")
                .help("200% starts a full set of new tasks before stopping old ones");
            ok = false;
          }
          ro.maxPercent = val.n;
        } else if (s.name == "test_traffic") {
          if (val.n < 0 || val.n >= 100) {
            diags_.report(Code::RolloutPercent, s.value().range, fmt::format("`test_traffic` must be at least 0% and below 100%, not {}%", fmtNumber(val.n)),
                          "out of range")
                .help("test traffic is the share sent to the new version before the switch, e.g. `10%`");
            ok = false;
          }
          ro.testTrafficPercent = val.n;
        } else if (s.name == "bake") {
          ro.bakeSeconds = val.n;
        }
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
