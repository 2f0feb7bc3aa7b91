// Evaluation of what a real team's workloads need beyond an image and a size: the
// CPU architecture, Fargate Spot, a one-off task before a deploy, existing
// infrastructure (`existing(...)`), an SNS topic, a log router, a map of strings,
// and the task role's grants (`allow [...] on [...]`).
#include "sema/eval.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "sema/eval_util.h"
#include "sema/fill.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema {

using diag::Code;
using namespace detail;

template <class T>
bool Evaluator::objectBody(const ast::Value& v, Scope scope, const EvalContext& ctx, std::string_view what, T& out) {
  const Schema& schema = schemaFor(scope);
  bool ok = true;
  std::set<std::string> seen;
  for (const auto& s : v.body) {
    if (s.kind != ast::StmtKind::Attr) {
      diags_.report(Code::StatementNotAllowed, s.kind == ast::StmtKind::Override ? s.opRange : s.nameRange,
                    fmt::format("{} holds only `name = value` lines", what), "not allowed here")
          .help(fmt::format("{} takes {}", what, joinQuoted(schema.names(), " and ")));
      ok = false;
      continue;
    }
    const AttrSpec* spec = schema.attr(s.name);
    if (!spec) {
      auto names = schema.names();
      auto b = diags_.report(Code::UnknownAttribute, s.nameRange, fmt::format("{} has no attribute `{}`", what, s.name), "unknown attribute");
      if (auto m = closestMatch(s.name, names)) {
        b.help(fmt::format("did you mean `{}`?", *m));
        b.fix(fmt::format("replace with `{}`", *m), s.nameRange, *m);
      } else {
        b.help(fmt::format("{} takes {}", what, joinQuoted(names, " and ")));
      }
      ok = false;
      continue;
    }
    if (!seen.insert(s.name).second) {
      diags_.report(Code::DuplicateAttribute, s.nameRange, fmt::format("`{}` is set twice in {}", s.name, what), "set again here")
          .help("remove one of them");
      ok = false;
      continue;
    }
    Val val = eval(s.value(), spec->type, ctx, s.name);
    if (!val.ok) {
      ok = false;
      continue;
    }
    detail::fillAttr(out, spec->id, val);
  }
  for (const AttrSpec* a : schema.attrs) {
    if (a->required() && !seen.count(std::string(a->name))) {
      diags_.report(Code::MissingAttribute, v.kind == ast::ValueKind::Object && v.nameRange.valid() ? v.nameRange : v.range,
                    fmt::format("{} has no `{}`", what, a->name), fmt::format("`{}` missing", a->name))
          .help(fmt::format("add `{} = {}`", a->name, example(a->type)));
      ok = false;
    }
  }
  return ok;
}

Val Evaluator::platform(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Ref) {
    if (v.text == "x86_64") r.platform = model::Workload::Platform::X86_64;
    else if (v.text == "arm64") r.platform = model::Workload::Platform::Arm64;
    else {
      // The names other tools use for the same two.
      std::string fix = v.text == "amd64" || v.text == "x86" || v.text == "X86_64" ? "x86_64"
                        : v.text == "aarch64" || v.text == "graviton" || v.text == "ARM64" || v.text == "arm" ? "arm64"
                                                                                                            : "";
      if (!fix.empty()) {
        diags_.report(Code::UnknownValue, v.range, fmt::format("gops calls the CPU architecture `{}`, not `{}`", fix, v.text), "another name")
            .help(fmt::format("write `{} = {}`", attr, fix))
            .fix(fmt::format("write `{}`", fix), v.range, fix);
        return r;
      }
      unknownValue(diags_, v, attr, {"x86_64", "arm64"}, "CPU architecture");
      return r;
    }
    r.ok = true;
    return r;
  }
  mismatch(v, Ty::Platform, attr, "write `x86_64` or `arm64`");
  return r;
}

Val Evaluator::capacity(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Ref && (v.text == "spot" || v.text == "on_demand")) {
    r.capacity.spotPercent = v.text == "spot" ? 100 : 0;
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Object && v.text.empty()) {
    if (!objectBody(v, Scope::Capacity, ctx, "`capacity`", r.capacity)) return r;
    if (r.capacity.spotPercent < 0 || r.capacity.spotPercent > 100) {
      diags_.report(Code::RolloutPercent, v.range, fmt::format("`spot` must be 0%-100%, not {}%", fmtNumber(r.capacity.spotPercent)), "out of range")
          .help("the share of tasks on Fargate Spot, like `spot = 70%`");
      return r;
    }
    if (r.capacity.onDemandBase < 0) {
      diags_.report(Code::RolloutPercent, v.range, "`on_demand_base` must be 0 or more", "out of range").help("remove it for none");
      return r;
    }
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Ref) {
    unknownValue(diags_, v, attr, {"on_demand", "spot"}, "capacity");
    return r;
  }
  mismatch(v, Ty::Capacity, attr, "write `on_demand`, `spot`, or a share: `{ spot = 70% }`");
  return r;
}

Val Evaluator::task(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Object && v.text == "task") {
    if (!objectBody(v, Scope::Task, ctx, "`task`", r.task)) return r;
    const ast::Stmt* timeout = nullptr;
    const ast::Stmt* command = nullptr;
    for (const auto& s : v.body) {
      if (s.kind == ast::StmtKind::Attr && s.name == "timeout") timeout = &s;
      if (s.kind == ast::StmtKind::Attr && s.name == "command") command = &s;
    }
    if (r.task.command.empty() && command) {
      diags_.report(Code::MissingAttribute, command->value().range, "the task's `command` is empty", "nothing to run")
          .help("write the command, like `command = [\"bin/migrate\"]`");
      return r;
    }
    if (r.task.timeoutSeconds < 60 || r.task.timeoutSeconds > 7200) {
      diags_.report(Code::RolloutPercent, timeout ? timeout->value().range : v.range,
                    fmt::format("a task's `timeout` must be between 1m and 2h, not {}s", fmtNumber(r.task.timeoutSeconds)), "out of range")
          .help("the deploy waits this long for the task to finish before it gives up, like `timeout = 10m`");
      return r;
    }
    if ((r.task.cpu != 0 || r.task.memory != 0) && r.task.cpu != 0 && r.task.memory != 0 && !fargateValid(r.task.cpu, r.task.memory)) {
      diags_.report(Code::FargateSize, v.nameRange,
                    fmt::format("Fargate does not offer {} CPU units with {} MiB for the task", r.task.cpu, r.task.memory), "not a Fargate size")
          .help(fmt::format("with {} CPU units Fargate offers {}", r.task.cpu, fargateMemoryDescription(r.task.cpu)));
      return r;
    }
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Object || v.kind == ast::ValueKind::Ref || v.kind == ast::ValueKind::Call) {
    unknownValue(diags_, v, attr, {"task"}, "one-off task");
    return r;
  }
  mismatch(v, Ty::Task, attr, "write `task { command = [\"bin/migrate\"]  timeout = 10m }`");
  return r;
}

Val Evaluator::existing(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Call && v.text == "existing") {
    if (!callArgs(v, 1, 1, {})) return r;
    Val s = string(*positionalArg(v, 0), ctx, attr);
    if (!s.ok) return r;
    if (s.s.empty()) {
      diags_.report(Code::BadArguments, positionalArg(v, 0)->range, "`existing` needs the resource's id or ARN", "empty")
          .help("write it like `existing(\"vpc-0abc1234def567890\")`");
      return r;
    }
    r.s = s.s;
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::String) {
    mismatch(v, Ty::Existing, attr, fmt::format("write `existing(\"{}\")`", v.text), "existing(\"" + v.text + "\")");
    return r;
  }
  if (v.kind == ast::ValueKind::Call) {
    unknownValue(diags_, v, attr, {"existing"}, "resource");
    return r;
  }
  mismatch(v, Ty::Existing, attr);
  return r;
}

Val Evaluator::topic(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Call && v.text == "sns") {
    if (!callArgs(v, 1, 1, {})) return r;
    const ast::Value& arg = *positionalArg(v, 0);
    Val s = string(arg, ctx, attr);
    if (!s.ok) return r;
    std::string partition = ctx.app ? partitionOfRegion(ctx.app->region) : "aws";
    if (auto problem = arnProblem(s.s, partition, "sns")) {
      diags_.report(Code::InvalidArn, arg.range, fmt::format("`{}` is not the ARN of an SNS topic: {}", s.s, *problem), "not an SNS topic ARN")
          .help(fmt::format("write it like `sns(\"arn:{}:sns:us-east-1:123456789012:oncall\")`", partition));
      return r;
    }
    r.s = s.s;
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::String) {
    mismatch(v, Ty::Topic, attr, fmt::format("write `sns(\"{}\")`", v.text), "sns(\"" + v.text + "\")");
    return r;
  }
  if (v.kind == ast::ValueKind::Call || v.kind == ast::ValueKind::Ref) {
    unknownValue(diags_, v, attr, {"sns"}, "notification target");
    return r;
  }
  mismatch(v, Ty::Topic, attr);
  return r;
}

Val Evaluator::logRouter(const ast::Value& v, std::string_view attr) {
  Val r;
  if (v.kind == ast::ValueKind::Ref && (v.text == "fluentbit" || v.text == "fluentd")) {
    r.s = v.text;
    r.ok = true;
    return r;
  }
  if (v.kind == ast::ValueKind::Ref) {
    unknownValue(diags_, v, attr, {"fluentbit", "fluentd"}, "log router");
    return r;
  }
  mismatch(v, Ty::LogRouter, attr, "write `fluentbit` or `fluentd`");
  return r;
}

Val Evaluator::stringMap(const ast::Value& v, const EvalContext& ctx, std::string_view attr) {
  Val r;
  if (v.kind != ast::ValueKind::Object || !v.text.empty()) {
    mismatch(v, Ty::StringMap, attr, "write the names and values in braces: `{ NAME = \"value\" }`");
    return r;
  }
  bool ok = true;
  for (const auto& s : v.body) {
    if (s.kind != ast::StmtKind::Attr) {
      diags_.report(Code::StatementNotAllowed, s.nameRange, fmt::format("`{}` holds only `NAME = \"value\"` lines", attr), "not allowed here")
          .help("write each variable on its own line as `NAME = \"value\"`");
      ok = false;
      continue;
    }
    if (r.map.count(s.name)) {
      diags_.report(Code::DuplicateAttribute, s.nameRange, fmt::format("`{}` is set twice in `{}`", s.name, attr), "set again here")
          .help("remove one of them");
      ok = false;
      continue;
    }
    Val value = string(s.value(), ctx, s.name);
    if (!value.ok) {
      ok = false;
      continue;
    }
    r.map[s.name] = value.s;
  }
  r.ok = ok;
  return r;
}

namespace {

bool lowerAlnumDash(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

std::optional<std::string> arnProblem(std::string_view arn, std::string_view partition, std::string_view service) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    std::size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return "an ARN has six parts, `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`";
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(arn.substr(start));
  if (parts[0] != "arn") return "an ARN starts with `arn:`";
  if (parts[1] != "aws" && parts[1] != "aws-cn" && parts[1] != "aws-us-gov") return fmt::format("`{}` is not an AWS partition", parts[1]);
  if (parts[1] != partition) return fmt::format("it is in the partition `{}`, and the app runs in `{}`", parts[1], partition);
  if (!lowerAlnumDash(parts[2])) return "its service (the third part) is missing";
  if (!service.empty() && parts[2] != service) return fmt::format("it is of the service `{}`, not `{}`", parts[2], service);
  if (!parts[3].empty() && parts[3] != "*" && !lowerAlnumDash(parts[3])) return fmt::format("`{}` is not a region", parts[3]);
  if (!parts[4].empty() && parts[4] != "*" && parts[4] != "aws" &&
      !(parts[4].size() == 12 && std::all_of(parts[4].begin(), parts[4].end(), [](char c) { return c >= '0' && c <= '9'; }))) {
    return fmt::format("`{}` is not an account id (12 digits)", parts[4]);
  }
  if (parts[5].empty()) return "its resource (the last part) is missing";
  return std::nullopt;
}

Val Evaluator::grant(const ast::Stmt& s, const BlockSpec& block, const EvalContext& ctx) {
  Val r;
  std::string usage = fmt::format("write `{} [\"s3:GetObject\"] {} [\"arn:aws:s3:::bucket/*\"]`", block.verb, block.word);
  if (s.name != block.verb) {
    auto b = diags_.report(Code::StatementNotAllowed, s.nameRange, fmt::format("`{}` takes `{} [...] {} [...]` lines, not `{}`", block.name, block.verb,
                                                                               block.word, s.name),
                           "unknown line");
    if (auto m = closestMatch(s.name, {std::string(block.verb)})) b.fix(fmt::format("replace with `{}`", *m), s.nameRange, *m);
    b.help(usage);
    return r;
  }
  if (s.words.size() != 1 || s.words[0] != block.word || s.values.size() != 2) {
    SourceRange where = s.words.empty() ? s.values[0].range : s.wordRanges[0];
    diags_.report(Code::StatementNotAllowed, where,
                  s.words.empty() ? fmt::format("`{}` needs `{} [...]`: what the actions may be done to", block.verb, block.word)
                                  : fmt::format("`{} [...]` takes `{} [...]` once", block.verb, block.word),
                  s.words.empty() ? fmt::format("`{}` missing", block.word) : "unexpected")
        .help(usage);
    return r;
  }
  Val actions = stringList(s.values[0], ctx, block.verb);
  Val resources = stringList(s.values[1], ctx, block.word);
  if (!actions.ok || !resources.ok) return r;
  bool ok = true;
  for (const auto& [list, items, what] : {std::tuple{&actions.list, &s.values[0], "action"}, std::tuple{&resources.list, &s.values[1], "resource"}}) {
    if (list->empty()) {
      diags_.report(Code::MissingAttribute, items->range, fmt::format("no {} to grant", what), "empty")
          .help(usage);
      ok = false;
    }
  }
  const std::string partition = ctx.app ? partitionOfRegion(ctx.app->region) : "aws";
  for (std::size_t i = 0; i < actions.list.size(); ++i) {
    const std::string& a = actions.list[i];
    const SourceRange at = i < s.values[0].items.size() ? s.values[0].items[i].range : s.values[0].range;
    if (a == "*") {
      diags_.report(Code::WildcardPermission, at, "`*` grants every action of every AWS service", "every action")
          .help("list the actions the service needs, like `s3:GetObject`");
      continue;
    }
    std::size_t colon = a.find(':');
    std::string_view service = std::string_view(a).substr(0, colon == std::string::npos ? 0 : colon);
    std::string_view action = colon == std::string::npos ? std::string_view() : std::string_view(a).substr(colon + 1);
    bool wellFormed = colon != std::string::npos && lowerAlnumDash(service) && !action.empty() &&
                      std::all_of(action.begin(), action.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '*' || c == '?'; });
    if (!wellFormed) {
      std::string lower = toLower(a);
      auto b = diags_.report(Code::InvalidIamAction, at, fmt::format("`{}` is not an IAM action: actions are `service:Action`", a), "not an action");
      b.help("write it like `s3:GetObject` or `sqs:SendMessage`");
      ok = false;
      continue;
    }
    if (action == "*") {
      diags_.report(Code::WildcardPermission, at, fmt::format("`{}` grants every action of {}", a, service), "every action")
          .help(fmt::format("list the actions the service needs, like `{}:Get*`", service));
    }
  }
  for (std::size_t i = 0; i < resources.list.size(); ++i) {
    const std::string& res = resources.list[i];
    const SourceRange at = i < s.values[1].items.size() ? s.values[1].items[i].range : s.values[1].range;
    if (res == "*") {
      diags_.report(Code::WildcardPermission, at, "`*` grants the actions on every resource of the account", "every resource")
          .help("name the resources by their ARNs, like `arn:aws:s3:::bucket/*`");
      continue;
    }
    if (auto problem = arnProblem(res, partition, "")) {
      diags_.report(Code::InvalidArn, at, fmt::format("`{}` is not an ARN: {}", res, *problem), "not an ARN")
          .help(fmt::format("write it like `arn:{}:s3:::bucket/*` or `arn:{}:sqs:us-east-1:123456789012:queue`", partition, partition));
      ok = false;
    }
  }
  if (!ok) return r;
  r.grant.actions = actions.list;
  r.grant.resources = resources.list;
  r.ok = true;
  return r;
}

}  // namespace gops::sema
