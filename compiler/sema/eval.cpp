#include "sema/eval.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sema/eval_util.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema {

using diag::Code;

namespace detail {

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

}  // namespace detail

using namespace detail;

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
    case ast::ValueKind::Sum: return "a sum";
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
    case Ty::Engine: return engine(v, attr);
    case Ty::Platform: return platform(v, attr);
    case Ty::Capacity: return capacity(v, ctx, attr);
    case Ty::Task: return task(v, ctx, attr);
    case Ty::Existing: return existing(v, ctx, attr);
    case Ty::Topic: return topic(v, ctx, attr);
    case Ty::LogRouter: return logRouter(v, attr);
    case Ty::StringMap: return stringMap(v, ctx, attr);
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


}  // namespace gops::sema
