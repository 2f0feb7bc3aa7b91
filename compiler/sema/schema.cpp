#include "sema/schema.h"

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
  }
  return "";
}

const AttrSpec* Schema::attr(std::string_view name) const {
  for (const auto& a : attrs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const BlockSpec* Schema::block(std::string_view name) const {
  for (const auto& b : blocks) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> out;
  for (const auto& a : attrs) out.emplace_back(a.name);
  for (const auto& b : blocks) out.emplace_back(b.name);
  return out;
}

const Schema& schemaFor(Scope s) {
  static const Schema kApp{
      {
          {"region", Ty::Region, "The AWS region every environment runs in unless it sets its own `region`."},
          {"repository", Ty::Repository, "The GitHub repository (`owner/name`) whose workflows build and deploy the app."},
          {"registry", Ty::Account, "The AWS account that holds the app's ECR repositories."},
      },
      {}};
  static const Schema kEnvironment{
      {
          {"account", Ty::Account, "The 12-digit AWS account the environment runs in."},
          {"region", Ty::Region, "The AWS region of this environment; defaults to the app's `region`."},
          {"deploy", Ty::Deploy, "What deploys to this environment: `on_push(\"branch\")` or `manual` (a workflow run with an image tag)."},
          {"rollout", Ty::Rollout, "The default rollout strategy of the environment's services."},
          {"tests", Ty::StringList, "Test suites run after each deploy; their result gates promotions out of this environment."},
          {"drift_check", Ty::Schedule, "When to look for drift between the live environment and the spec (`cron(...)` or `rate(...)`)."},
      },
      {
          {"approval", "Who must approve a deploy to this environment (GitHub environment protection).",
           {{"reviewers", Ty::StringList, "GitHub users or teams (`org/team`) who may approve."},
            {"required", Ty::Int, "How many of the reviewers must approve."}}},
          {"network", "The environment's VPC.",
           {{"cidr", Ty::Cidr, "The VPC's address range; subnets are carved from it."},
            {"zones", Ty::Int, "How many availability zones to spread over."},
            {"nat", Ty::Nat, "Outbound internet for private subnets: `none`, `single` (one NAT gateway) or `per_zone`."}}},
      }};
  static const Schema kUnit{
      {
          {"image", Ty::Image, "The container image: `ecr(\"repo\")` in the app's registry, tagged at deploy time, or `image(\"ref\")`."},
          {"build", Ty::String, "Directory (relative to the repository root) with the Dockerfile the CI builds the image from."},
          {"command", Ty::StringList, "Overrides the image's command."},
          {"cpu", Ty::Cpu, "CPU per task: `0.25 vcpu` ... `16 vcpu`, or CPU units (`256` = 0.25 vCPU)."},
          {"memory", Ty::Size, "Memory per task, e.g. `512 MiB` or `2 GiB`; must be a size Fargate offers for the CPU."},
          {"replicas", Ty::Int, "How many tasks run (the desired count); with `autoscale` the starting count.", true},
          {"port", Ty::Int, "The container port the service listens on.", true},
          {"expose", Ty::Expose, "Who can reach the service: `public(\"host\")` behind the load balancer, `internal` (service discovery) or `none`.", true},
          {"rollout", Ty::Rollout, "How new versions of this service are rolled out; overrides the environment's.", true},
          {"depends_on", Ty::NameList, "Services that must be deployed before this one.", true},
          {"schedule", Ty::Schedule, "When the job runs: `cron(\"0 3 * * *\")` (UTC) or `rate(1h)`.", false, true},
          {"timeout", Ty::Duration, "How long a job run may take before it is stopped.", false, true},
          {"log_retention", Ty::Duration, "How long CloudWatch keeps the logs (in days: 1d, 7d, 30d, ...)."},
      },
      {
          {"health", "The health check (load balancer target group and container).",
           {{"path", Ty::String, "HTTP path that answers 2xx when healthy; starts with `/`."},
            {"interval", Ty::Duration, "Time between checks."},
            {"timeout", Ty::Duration, "How long one check may take; shorter than `interval`."},
            {"healthy_threshold", Ty::Int, "Consecutive successes before a target counts as healthy."},
            {"unhealthy_threshold", Ty::Int, "Consecutive failures before a target counts as unhealthy."},
            {"grace_period", Ty::Duration, "Time after start before failed checks count."}},
           false, Ty::String, true},
          {"env", "Environment variables (plain values; secrets go in `secrets`).", {}, true, Ty::String},
          {"secrets", "Environment variables read from SSM Parameter Store or Secrets Manager at start.", {}, true, Ty::Secret},
          {"autoscale", "Target-tracking autoscaling of the desired count.",
           {{"min", Ty::Int, "The fewest tasks."},
            {"max", Ty::Int, "The most tasks."},
            {"cpu", Ty::Percent, "Target average CPU utilisation."},
            {"memory", Ty::Percent, "Target average memory utilisation."},
            {"requests", Ty::Int, "Target requests per task per minute (public services)."}},
           false, Ty::String, true},
      }};
  static const Schema kPromote{
      {{"after", Ty::GateList, "Gates the image must pass in the source environment before it may be deployed to the target."}}, {}};
  static const Schema kRolling{
      {{"min_healthy", Ty::Percent, "Share of the desired count that must stay healthy during the rollout (0%-100%)."},
       {"max_percent", Ty::Percent, "Upper limit of running tasks during the rollout, as a share of the desired count (100%-200%)."}},
      {}};
  static const Schema kBlueGreen{
      {{"test_traffic", Ty::Percent, "Share of live traffic sent to the new version before the switch (0% for none)."},
       {"bake", Ty::Duration, "How long the old version is kept, ready to take traffic back, after the switch."}},
      {}};
  static const Schema kSteps{{}, {}};
  switch (s) {
    case Scope::App: return kApp;
    case Scope::Environment: return kEnvironment;
    case Scope::Unit: return kUnit;
    case Scope::Promote: return kPromote;
    case Scope::Rolling: return kRolling;
    case Scope::BlueGreen: return kBlueGreen;
    case Scope::Canary:
    case Scope::Linear: return kSteps;
  }
  return kSteps;
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
