#include "sema/schema.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "model/model.h"

namespace gops::sema {

std::string_view describe(Ty t) {
  switch (t) {
    case Ty::String: return "a string";
    case Ty::Int: return "a whole number";
    case Ty::Bool: return "`true` or `false`";
    case Ty::Duration: return "a duration";
    case Ty::Percent: return "a percentage";
    case Ty::Size: return "a size";
    case Ty::Cpu: return "a CPU size";
    case Ty::Cidr: return "a CIDR block";
    case Ty::StringList: return "a list of strings";
    case Ty::Image: return "an image";
    case Ty::Expose: return "an exposure";
    case Ty::Secret: return "a secret reference";
    case Ty::Schedule: return "a schedule";
    case Ty::Rollout: return "a rollout strategy";
    case Ty::Deploy: return "a deploy trigger";
    case Ty::Nat: return "a NAT mode";
    case Ty::GateList: return "a list of promotion gates";
    case Ty::NameList: return "a list of service names";
    case Ty::Account: return "an AWS account id";
    case Ty::Region: return "an AWS region";
    case Ty::Repository: return "a GitHub repository";
    case Ty::Engine: return "a rollout engine";
    case Ty::Platform: return "a CPU architecture";
    case Ty::Capacity: return "a capacity";
    case Ty::Task: return "a task";
    case Ty::Existing: return "an existing resource";
    case Ty::Topic: return "an SNS topic";
    case Ty::LogRouter: return "a log router";
    case Ty::StringMap: return "a map of strings";
  }
  return "a value";
}

std::string_view example(Ty t) {
  switch (t) {
    case Ty::String: return "\"text\"";
    case Ty::Int: return "2";
    case Ty::Bool: return "true";
    case Ty::Duration: return "30s";
    case Ty::Percent: return "10%";
    case Ty::Size: return "512 MiB";
    case Ty::Cpu: return "0.25 vcpu";
    case Ty::Cidr: return "10.0.0.0/16";
    case Ty::StringList: return "[\"a\", \"b\"]";
    case Ty::Image: return "ecr(\"shop/api\")";
    case Ty::Expose: return "public(\"api.example.com\")";
    case Ty::Secret: return "ssm(\"/app/${env.name}/db-url\")";
    case Ty::Schedule: return "cron(\"0 3 * * *\")";
    case Ty::Rollout: return "rolling { min_healthy = 100%  max_percent = 200% }";
    case Ty::Deploy: return "on_push(\"main\")";
    case Ty::Nat: return "single";
    case Ty::GateList: return "[tests_passed, soak(24h)]";
    case Ty::NameList: return "[orders]";
    case Ty::Account: return "\"123456789012\"";
    case Ty::Region: return "\"us-east-1\"";
    case Ty::Repository: return "\"acme/shop\"";
    case Ty::Engine: return "ecs";
    case Ty::Platform: return "arm64";
    case Ty::Capacity: return "{ spot = 70% }";
    case Ty::Task: return "task { command = [\"bin/migrate\"]  timeout = 10m }";
    case Ty::Existing: return "existing(\"vpc-0abc1234def567890\")";
    case Ty::Topic: return "sns(\"arn:aws:sns:us-east-1:123456789012:oncall\")";
    case Ty::LogRouter: return "fluentbit";
    case Ty::StringMap: return "{ NAME = \"value\" }";
  }
  return "";
}

std::string_view toString(Scope s) {
  switch (s) {
    case Scope::App: return "app";
    case Scope::Environment: return "environment";
    case Scope::Unit: return "unit";
    case Scope::Promote: return "promote";
    case Scope::Rolling: return "rolling";
    case Scope::BlueGreen: return "blue_green";
    case Scope::Canary: return "canary";
    case Scope::Linear: return "linear";
    case Scope::Task: return "task";
    case Scope::Capacity: return "capacity";
  }
  return "?";
}

std::string AttrSpec::path() const { return block.empty() ? std::string(name) : fmt::format("{}.{}", block, name); }

const AttrSpec* BlockSpec::attr(std::string_view n) const {
  for (const AttrSpec* a : attrs) {
    if (a->name == n) return a;
  }
  return nullptr;
}

const AttrSpec* Schema::attr(std::string_view name) const {
  for (const AttrSpec* a : attrs) {
    if (a->name == name) return a;
  }
  return nullptr;
}

const BlockSpec* Schema::block(std::string_view name) const {
  for (const BlockSpec* b : blocks) {
    if (b->name == name) return b;
  }
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> out;
  for (const AttrSpec* a : attrs) out.emplace_back(a->name);
  for (const BlockSpec* b : blocks) out.emplace_back(b->name);
  return out;
}

namespace {

constexpr bool hasField(std::nullptr_t) { return false; }
template <class M>
constexpr bool hasField(M) {
  return true;
}

/// The table, expanded once into specs and schemas.
struct Tables {
  std::vector<AttrSpec> attrs;
  std::vector<BlockSpec> blocks;
  Schema schemas[static_cast<int>(Scope::Capacity) + 1];

  Tables() {
#define GOPS_ATTR(Id, Sc, Blk, Name, Type, Unit, Ap, Default, Field, Doc, Rules) \
  attrs.push_back({AttrId::Id, Scope::Sc, Blk, Name, Ty::Type, Unit, Applies::Ap, Default, Doc, Rules, hasField(Field)});
#include "sema/attributes.def"
    using K = BlockSpec::Kind;
#define GOPS_BLOCK(Id, Sc, Name, Ap, Field, Doc, Rules) \
  blocks.push_back({BlockId::Id, Scope::Sc, Name, Applies::Ap, Doc, Rules, K::Fields, false, Ty::String, {}, {}, {}});
#define GOPS_MAP(Id, Sc, Name, Ap, Type, Doc, Rules) \
  blocks.push_back({BlockId::Id, Scope::Sc, Name, Applies::Ap, Doc, Rules, K::Map, true, Ty::Type, {}, {}, {}});
#define GOPS_NAMED(Id, Sc, Name, Ap, Doc, Rules) \
  blocks.push_back({BlockId::Id, Scope::Sc, Name, Applies::Ap, Doc, Rules, K::Named, false, Ty::String, {}, {}, {}});
#define GOPS_CLAUSES(Id, Sc, Name, Ap, Verb, Word, Doc, Rules) \
  blocks.push_back({BlockId::Id, Scope::Sc, Name, Applies::Ap, Doc, Rules, K::Clauses, false, Ty::String, Verb, Word, {}});
#include "sema/attributes.def"
    for (const AttrSpec& a : attrs) {
      if (a.block.empty()) {
        schemas[static_cast<int>(a.scope)].attrs.push_back(&a);
        continue;
      }
      BlockSpec* owner = nullptr;
      for (auto& b : blocks) {
        if (b.scope == a.scope && b.name == a.block) owner = &b;
      }
      if (!owner || owner->map || owner->clauses()) {
        internalError(fmt::format("attributes.def: `{}` names no block of fields `{}`", a.name, a.block));
      }
      owner->attrs.push_back(&a);
    }
    for (const BlockSpec& b : blocks) schemas[static_cast<int>(b.scope)].blocks.push_back(&b);
  }

  [[noreturn]] static void internalError(const std::string& what) {
    std::fprintf(stderr, "gops: internal error: %s\n", what.c_str());
    std::abort();
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const Schema& schemaFor(Scope s) { return tables().schemas[static_cast<int>(s)]; }
const AttrSpec& attrSpec(AttrId id) { return tables().attrs[static_cast<std::size_t>(id)]; }
const BlockSpec& blockSpec(BlockId id) { return tables().blocks[static_cast<std::size_t>(id)]; }
const std::vector<AttrSpec>& allAttrs() { return tables().attrs; }
const std::vector<BlockSpec>& allBlocks() { return tables().blocks; }

const AttrSpec* findAttr(Scope scope, std::string_view block, std::string_view name) {
  const Schema& s = schemaFor(scope);
  if (block.empty()) return s.attr(name);
  const BlockSpec* b = s.block(block);
  return b ? b->attr(name) : nullptr;
}

std::string describeDefault(const AttrSpec& a) {
  std::string_view d = a.defaultText;
  if (d.empty()) return "none";
  if (d == "required") return "required";
  if (d.front() == '(' && d.back() == ')') return std::string(d.substr(1, d.size() - 2));
  return fmt::format("`{}`", d);
}

std::string attrDocMarkdown(const AttrSpec& a) {
  std::string md(a.doc);
  md += a.required() ? "\n\nRequired." : fmt::format("\n\nDefault: {}.", describeDefault(a));
  if (!a.rules.empty()) md += fmt::format(" Rules: {}.", a.rules);
  return md;
}

const std::vector<ValueDoc>& valueDocs() {
  static const std::vector<ValueDoc> kDocs = {
      {"ecr", "ecr(\"repository\")", "An image in the app's ECR registry, tagged with the deployed commit."},
      {"image", "image(\"registry/name:tag\")", "An image from any registry, used as given."},
      {"ssm", "ssm(\"/parameter/name\")", "A secret read from SSM Parameter Store (SecureString) when the task starts."},
      {"secretsmanager", "secretsmanager(\"secret-id\", key = \"json_key\")", "A secret read from Secrets Manager; `key` picks one field of a JSON secret."},
      {"public", "public(\"host\", ...)", "Reachable from the internet at these hostnames through the environment's HTTPS load balancer."},
      {"internal", "internal", "Reachable only from the app's services, as `<service>.<env>.<app>.internal`."},
      {"none", "none", "Not reachable over the network (workers)."},
      {"on_push", "on_push(\"branch\")", "Deploy when commits are pushed to this branch."},
      {"manual", "manual", "Deploy when someone runs the deploy workflow with an image tag."},
      {"cron", "cron(\"minute hour day month weekday\")", "A five-field cron schedule in UTC."},
      {"rate", "rate(duration)", "Every so often, e.g. `rate(6h)`."},
      {"single", "single", "One NAT gateway for the whole VPC."},
      {"per_zone", "per_zone", "One NAT gateway per availability zone (no cross-zone dependency)."},
      {"tests_passed", "tests_passed", "The environment's `tests` passed for the image."},
      {"security_scan", "security_scan", "The image's vulnerability scan found nothing blocking."},
      {"approval", "approval", "A reviewer of the target environment approved."},
      {"soak", "soak(duration)", "The image ran in the source environment this long without a rollback."},
      {"rolling", "rolling { min_healthy = P  max_percent = P }", "Replace tasks in place, keeping `min_healthy` of the desired count serving."},
      {"blue_green", "blue_green { test_traffic = P  bake = D }", "Start the new version beside the old, send test traffic, switch, keep the old one through the bake."},
      {"canary", "canary { step P for D ...  rollback when ... }", "Shift traffic in steps, holding each while watching the alarms."},
      {"linear", "linear { step P every D  rollback when ... }", "Shift traffic in equal steps at a fixed interval."},
      {"alarm", "alarm(\"name\")", "An existing CloudWatch alarm; the rollout rolls back when it is in ALARM."},
      {"stable", "stable + MARGIN", "The stable version's value of the metric: `rollback when http_5xx_rate > stable + 0.5%` rolls back when the new version's rate exceeds the stable version's by more than the margin."},
      {"gops", "gops", "gops apply runs the rollout: it shifts the listener weights between the two versions' task sets and watches the alarms of the new one."},
      {"ecs", "ecs", "ECS runs the rollout itself (its native blue/green, canary or linear deployment), and rolls back on the alarms, whatever happens to the CI job."},
  };
  return kDocs;
}

const ValueDoc* findValueDoc(std::string_view name) {
  for (const auto& d : valueDocs()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace gops::sema
