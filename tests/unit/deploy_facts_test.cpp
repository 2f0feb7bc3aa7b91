// The deployment facts (compiler/deploy_facts): names, networks, schedules, and
// the facts of hand-built models, and the one table of "runs on task sets" that
// every backend follows.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <variant>

#include "backends/ecs/ecs.h"
#include "backends/plan/plan.h"
#include "backends/terraform/terraform.h"
#include "backends/workflows/workflows.h"
#include "deploy_facts/env_facts.h"
#include "deploy_facts/files.h"
#include "deploy_facts/outputs.h"
#include "model_fixture.h"
#include "plan/reader.h"
#include "plan/writer.h"
#include "sema/cron.h"

using namespace gops;
using namespace gops::facts;
using nlohmann::json;

TEST_CASE("gops names become AWS name parts", "[facts][naming]") {
  CHECK(awsName("nightly_report") == "nightly-report");
  CHECK(awsName("Api_V2") == "api-v2");
  CHECK(awsName("api") == "api");
}

TEST_CASE("bounded names fit AWS limits, keep their suffix and stay distinct", "[facts][naming]") {
  CHECK(boundedName("shop-prod-api", "-blue", 32) == "shop-prod-api-blue");
  std::string a = boundedName("shop-prod-a-very-long-service-name", "-green", 32);
  std::string b = boundedName("shop-prod-a-very-long-service-name2", "-green", 32);
  CHECK(a.size() == 32);
  CHECK(b.size() == 32);
  CHECK(a != b);
  CHECK(a.rfind("shop-prod-a-very", 0) == 0);
  CHECK(a.substr(a.size() - 6) == "-green");
  CHECK(a.find("--") == std::string::npos);
  // Stable: the same input gives the same name in every run and on every platform.
  CHECK(a == boundedName("shop-prod-a-very-long-service-name", "-green", 32));
  CHECK(stableHash("") == 2166136261u);
  CHECK(stableHash("a") == 0xe40c292cu);
  // A cut that would end in '-' does not double the hyphen.
  std::string c = boundedName("abcdefghij-klmnopqrstuvwxyz", "", 18);
  CHECK(c.size() == 18);
  CHECK(c.find("--") == std::string::npos);
}

TEST_CASE("environment names follow the documented scheme", "[facts][naming]") {
  model::App app;
  app.name = "shop";
  app.region = "us-east-1";
  app.registry = "111111111111";
  model::Environment env;
  env.name = "prod";
  env.account = "333333333333";
  env.region = "us-east-1";
  EnvNames n(app, env);
  CHECK(n.prefix() == "shop-prod");
  CHECK(n.cluster() == "shop-prod");
  CHECK(n.loadBalancer() == "shop-prod");
  CHECK(n.targetGroup("api", "blue") == "shop-prod-api-blue");
  CHECK(n.targetGroup("api", "") == "shop-prod-api");
  CHECK(n.targetGroup("checkout_gateway_service", "green").size() <= kLoadBalancerNameMax);
  CHECK(n.workload("nightly_report") == "shop-prod-nightly-report");
  CHECK(n.logGroup("nightly_report") == "/gops/shop/prod/nightly_report");
  CHECK(n.role("api", "execution") == "shop-prod-api-execution");
  CHECK(n.taskRolePath() == "/gops/shop/prod/tasks/");
  CHECK(n.dnsNamespace() == "prod.shop.internal");
  CHECK(n.stateKey() == "shop/prod/terraform.tfstate");
  CHECK(n.arn("ecs", "cluster/shop-prod") == "arn:aws:ecs:us-east-1:333333333333:cluster/shop-prod");
  CHECK(n.roleArn(n.taskRolePath(), "x") == "arn:aws:iam::333333333333:role/gops/shop/prod/tasks/x");
  CHECK(stateBucket(app, "333333333333") == "shop-tfstate-333333333333");
  CHECK(partitionOf("cn-north-1") == "aws-cn");
  CHECK(partitionOf("us-gov-west-1") == "aws-us-gov");
  CHECK(partitionOf("eu-west-1") == "aws");
}

TEST_CASE("CIDRs are carved like Terraform's cidrsubnet", "[facts][network]") {
  CHECK(cidrSubnet("10.30.0.0/16", 4, 0) == "10.30.0.0/20");
  CHECK(cidrSubnet("10.30.0.0/16", 4, 1) == "10.30.16.0/20");
  CHECK(cidrSubnet("10.30.0.0/16", 4, 8) == "10.30.128.0/20");
  CHECK(cidrSubnet("10.30.0.0/16", 4, 15) == "10.30.240.0/20");
  CHECK(cidrSubnet("10.0.0.0/24", 4, 3) == "10.0.0.48/28");
  CHECK(cidrSubnet("10.0.0.0/30", 2, 3) == "10.0.0.3/32");
  CHECK_FALSE(cidrSubnet("10.30.0.0/16", 4, 16));
  CHECK_FALSE(cidrSubnet("10.0.0.0/30", 3, 0));
  CHECK_FALSE(cidrSubnet("10.30.0.1/16", 4, 0));  // host bits set
  CHECK_FALSE(cidrSubnet("not a cidr", 4, 0));
  CHECK_FALSE(parseCidr("10.0.0.0/16x"));
  CHECK(formatCidr(*parseCidr("192.168.0.0/20")) == "192.168.0.0/20");
}

TEST_CASE("the subnet layout keeps subnets in place as zones are added", "[facts][network]") {
  std::string error;
  auto l = subnetLayout("10.30.0.0/16", 3, &error);
  REQUIRE(l);
  CHECK(l->newbits == 4);
  CHECK(l->privateOffset == 8);
  CHECK(l->publicCidr("10.30.0.0/16", 2) == "10.30.32.0/20");
  CHECK(l->privateCidr("10.30.0.0/16", 0) == "10.30.128.0/20");
  auto two = subnetLayout("10.30.0.0/16", 2, &error);
  REQUIRE(two);
  CHECK(two->privateCidr("10.30.0.0/16", 1) == l->privateCidr("10.30.0.0/16", 1));
  // Small VPCs use fewer bits, down to /28 subnets.
  auto small = subnetLayout("10.0.0.0/26", 2, &error);
  REQUIRE(small);
  CHECK(small->newbits == 2);
  CHECK(small->publicCidr("10.0.0.0/26", 1) == "10.0.0.16/28");
  CHECK(small->privateCidr("10.0.0.0/26", 0) == "10.0.0.32/28");
  CHECK_FALSE(subnetLayout("10.0.0.0/26", 3, &error));
  CHECK(error.find("too small") != std::string::npos);
  CHECK_FALSE(subnetLayout("10.0.0.0/28", 1, &error));
}

namespace {

cron::Expression parsed(std::string_view text) {
  auto r = cron::parse(text);
  REQUIRE(std::holds_alternative<cron::Expression>(r));
  return std::get<cron::Expression>(r);
}

std::string eventBridge(std::string_view text) { return eventBridgeCron(parsed(text)); }
std::string github(std::string_view text) { return githubCron(parsed(text)); }

}  // namespace

TEST_CASE("one cron parser: items keep their text, names resolve, errors match the checker's", "[facts][cron]") {
  cron::Expression e = parsed("*/15  0-6 1,15 JAN-mar MON-FRI");
  const auto& dow = e.fields[cron::kDayOfWeek];
  REQUIRE(dow.items.size() == 1);
  CHECK(dow.items[0].first.number == 1);
  CHECK(dow.items[0].first.text == "MON");
  CHECK(dow.items[0].last->number == 5);
  CHECK(e.fields[cron::kMonth].items[0].last->text == "mar");
  CHECK(e.fields[cron::kMinute].items[0].any);
  CHECK(e.fields[cron::kMinute].items[0].step->number == 15);
  CHECK(e.fields[cron::kDayOfMonth].items.size() == 2);
  for (const char* bad : {"0 25 * * *", "0 3 * *", "0 3 * * * *", "5-1 * * * *", "0 3 * * FOO", "0 0 1, * *"}) {
    INFO(bad);
    auto r = cron::parse(bad);
    REQUIRE(std::holds_alternative<cron::Error>(r));
    auto checked = sema::checkCron(bad);
    REQUIRE(checked);
    CHECK(checked->message == std::get<cron::Error>(r).message);
    CHECK(checked->begin == std::get<cron::Error>(r).begin);
  }
}

TEST_CASE("job schedules use EventBridge Scheduler syntax", "[facts][cron]") {
  CHECK(eventBridge("0 3 * * *") == "0 3 * * ? *");
  CHECK(eventBridge("0 6 * * 1") == "0 6 ? * 2 *");
  CHECK(eventBridge("0 6 * * 0,7") == "0 6 ? * 1,1 *");
  CHECK(eventBridge("*/15 * * * 1-5") == "*/15 * ? * 2-6 *");
  CHECK(eventBridge("0 6 * * 1-5/2") == "0 6 ? * 2-6/2 *");
  CHECK(eventBridge("0 6 * * MON-FRI") == "0 6 ? * MON-FRI *");
  model::Schedule cron;
  cron.cron = "0 3 * * *";
  cron.expression = "cron(\"0 3 * * *\")";
  Schedule s = scheduleFacts(cron);
  CHECK(s.eventBridge == "cron(0 3 * * ? *)");
  CHECK(s.github == "0 3 * * *");
  CHECK(s.expression == cron.expression);
  model::Schedule rate;
  rate.kind = model::Schedule::Kind::Rate;
  rate.rateSeconds = 6 * 3600;
  rate.cron = "0 */6 * * *";
  CHECK(scheduleFacts(rate).eventBridge == "rate(6 hours)");
  CHECK(scheduleFacts(rate).github == "0 */6 * * *");
  rate.rateSeconds = 86400;
  CHECK(scheduleFacts(rate).eventBridge == "rate(1 day)");
  rate.rateSeconds = 90;
  CHECK(scheduleFacts(rate).eventBridge == "rate(2 minutes)");
  // A model that did not come from the checker: the text passes through.
  model::Schedule broken;
  broken.cron = "whenever";
  CHECK_FALSE(scheduleFacts(broken).cron);
  CHECK(scheduleFacts(broken).eventBridge == "cron(whenever)");
}

TEST_CASE("GitHub cron: names become numbers, weekday 7 becomes 0", "[facts][cron]") {
  CHECK(github("0 6 * * 1") == "0 6 * * 1");
  CHECK(github("*/15 * * * *") == "*/15 * * * *");
  CHECK(github("0 6 * * MON") == "0 6 * * 1");
  CHECK(github("0 6 * * mon-fri") == "0 6 * * 1-5");
  CHECK(github("0 0 1 JAN,jul *") == "0 0 1 1,7 *");
  CHECK(github("0 0 * * 7") == "0 0 * * 0");
  CHECK(github("0 0 * * 5-7") == "0 0 * * 0,5,6");
  CHECK(github("0 0 * * 0-7") == "0 0 * * *");
}

namespace {

model::Service publicService(std::string name, std::vector<std::string> hosts) {
  model::Service s;
  s.name = std::move(name);
  s.image.repository = "shop/" + s.name;
  s.port = 8080;
  s.expose.kind = model::Expose::Kind::Public;
  s.expose.hosts = std::move(hosts);
  return s;
}

/// dev: a canary `api` with seven hosts and rollback conditions, a rolling public
/// `web`, an internal `orders` with secrets, a job.
model::AppModel factsApp() {
  model::AppModel m = testing::shopApp();
  model::Environment e = testing::devEnvironment();
  model::Service api = publicService("api", {"a1.example.com", "a2.example.com", "a3.example.com", "a4.example.com",
                                             "a5.example.com", "a6.example.com", "a7.example.com"});
  api.memory = 2048;
  api.cpu = 1024;
  api.health = model::Health{};
  api.health->path = "/healthz";
  api.health->gracePeriodSeconds = 45;
  api.rollout.kind = model::Rollout::Kind::Canary;
  api.rollout.steps = {{10, 60}};
  model::RollbackCondition c5xx;
  c5xx.metric = "http_5xx_rate";
  model::RollbackCondition existing;
  existing.metric = "alarm";
  existing.alarmName = "payments-down";
  model::RollbackCondition again = c5xx;
  api.rollout.rollback = {c5xx, existing, again};
  api.env = {{"ZED", "z"}, {"ALPHA", "${a}"}};
  e.services.push_back(api);

  model::Service orders;
  orders.name = "orders";
  orders.image.kind = model::Image::Kind::External;
  orders.image.uri = "public.ecr.aws/acme/orders:1.2";
  orders.port = 9000;
  orders.expose.kind = model::Expose::Kind::Internal;
  orders.rollout.minHealthyPercent = 50;
  orders.rollout.maxPercent = 150;
  orders.secrets["DB"] = {model::Secret::Kind::Ssm, "/shop/dev/db", ""};
  orders.secrets["STRIPE"] = {model::Secret::Kind::SecretsManager, "shop/dev/stripe", "api_key"};
  orders.secrets["WHOLE"] = {model::Secret::Kind::SecretsManager, "arn:aws:secretsmanager:us-east-1:1:secret:x", ""};
  e.services.push_back(orders);

  e.services.push_back(publicService("web", {"www.example.com"}));

  model::Job report;
  report.name = "nightly_report";
  report.image.repository = "shop/worker";
  report.schedule.cron = "0 3 * * 7";
  report.schedule.expression = "cron(\"0 3 * * 7\")";
  e.jobs.push_back(report);
  e.driftCheck = report.schedule;
  m.environments.push_back(e);

  model::Environment prod = testing::devEnvironment();
  prod.name = "prod";
  prod.account = "333333333333";
  m.environments.push_back(prod);
  m.promotions.push_back({"dev", "prod", {}});
  m.environments[0].deploy = {model::Deploy::Kind::OnPush, "main"};
  return m;
}

}  // namespace

TEST_CASE("the facts of a hand-built environment", "[facts]") {
  model::AppModel app = factsApp();
  EnvFacts f(app, app.environments[0]);
  REQUIRE(f.services.size() == 3);
  REQUIRE(f.jobs.size() == 1);
  CHECK(f.anyPublic);
  CHECK(f.anyInternal);
  CHECK(f.anyTaskSets);
  using Tags = std::vector<std::pair<std::string, std::string>>;
  CHECK(f.tags == Tags{{"app", "shop"}, {"environment", "dev"}, {"managed-by", "gops"}});
  CHECK(f.ecrRepositories == std::set<std::string>{"shop/api", "shop/web", "shop/worker"});
  CHECK(f.deployBranches == std::set<std::string>{"main"});
  CHECK(deployBranches(app, app.environments[1]) == std::set<std::string>{"main"});  // promoted from dev
  CHECK(f.network.privateCidrs == std::vector<std::string>{"10.10.128.0/20", "10.10.144.0/20"});
  CHECK(f.network.natGateways == 1);
  REQUIRE(f.driftCheck);
  CHECK(f.driftCheck->github == "0 3 * * 0");

  const ServiceFacts& api = f.services[0];
  CHECK(api.isPublic());
  CHECK(api.runsOnTaskSets);
  CHECK(api.family == "shop-dev-api");
  CHECK(api.deployment.controller == "EXTERNAL");
  CHECK_FALSE(api.deployment.circuitBreaker);
  CHECK(api.deployment.maximumPercent == 200);
  CHECK(api.healthCheckGracePeriod == 45);
  REQUIRE(api.targetGroups.size() == 2);
  CHECK(api.targetGroups[0].color == "blue");
  CHECK(api.targetGroups[0].name == "shop-dev-api-blue");
  CHECK(api.targetGroups[1].arnOutput == "api_target_group_green_arn");
  CHECK(api.targetGroups[1].taskSetFile == "ecs/api.green.taskset.json");
  CHECK(api.primaryTargetGroup().color == "blue");
  // Seven hosts: three rules of at most three (a condition's values), distinct priorities.
  REQUIRE(api.listenerRules.size() == 3);
  CHECK(api.listenerRules[0].hosts.size() == 3);
  CHECK(api.listenerRules[1].hosts == std::vector<std::string>{"a4.example.com", "a5.example.com", "a6.example.com"});
  CHECK(api.listenerRules[2].hosts == std::vector<std::string>{"a7.example.com"});
  CHECK(api.listenerRules[0].arnOutput == "api_listener_rule_arn");
  CHECK(api.listenerRules[1].arnOutput == "api_listener_rule_2_arn");
  CHECK(api.listenerRules[2].arnOutput == "api_listener_rule_3_arn");
  std::set<std::uint32_t> priorities;
  for (const auto& s : f.services) {
    for (const auto& r : s.listenerRules) {
      CHECK(r.priority >= 1);
      CHECK(r.priority <= kRulePriorities);
      priorities.insert(r.priority);
    }
  }
  CHECK(priorities.size() == 4);  // three rules of api, one of web
  // Rollback alarms in the order written; a metric used again gets -2.
  REQUIRE(api.rollbackAlarms.size() == 3);
  CHECK(api.rollbackAlarms[0].name == "shop-dev-api-rollback-http-5xx-rate");
  CHECK(api.rollbackAlarms[1].name == "payments-down");
  CHECK_FALSE(api.rollbackAlarms[1].created);
  CHECK(api.rollbackAlarms[2].name == "shop-dev-api-rollback-http-5xx-rate-2");
  CHECK(api.rollbackAlarms[2].nth == 2);
  CHECK(f.names.rollbackAlarms(*api.service) ==
        std::vector<std::string>{api.rollbackAlarms[0].name, api.rollbackAlarms[1].name, api.rollbackAlarms[2].name});

  // The container: typed, text as written, memory of its own.
  const TaskDefinition& t = api.task;
  CHECK(t.family == "shop-dev-api");
  CHECK(t.cpu == 1024);
  CHECK(t.memory == 2048);
  CHECK(t.executionRoleArn == "arn:aws:iam::222222222222:role/gops/shop/dev/tasks/shop-dev-api-execution");
  REQUIRE(t.containers.size() == 1);
  const Container& c = api.container();
  CHECK(c.name == "api");
  CHECK(c.essential);
  CHECK(c.memory == 2048);
  CHECK(c.image.reference("T") == "111111111111.dkr.ecr.us-east-1.amazonaws.com/shop/api:T");
  REQUIRE(c.environment.size() == 2);
  CHECK(c.environment[0].name == "ALPHA");
  CHECK(c.environment[0].value == "${a}");
  REQUIRE(c.portMappings.size() == 1);
  CHECK(c.portMappings[0].containerPort == 8080);
  REQUIRE(c.healthCheck);
  CHECK(c.healthCheck->command == std::vector<std::string>{"CMD-SHELL", healthCheckShell(8080, "/healthz")});
  CHECK(c.healthCheck->startPeriod == 45);
  CHECK(c.logs.group == "/gops/shop/dev/api");
  CHECK(c.logs.streamPrefix == "api");
  CHECK(api.taskDefinitionFile == "ecs/api.taskdef.json");
  CHECK(api.serviceFile == "ecs/api.service.json");

  const ServiceFacts& orders = f.services[1];
  CHECK(orders.isInternal());
  CHECK_FALSE(orders.runsOnTaskSets);
  CHECK(orders.targetGroups.empty());
  CHECK(orders.deployment.controller == "ECS");
  CHECK(orders.deployment.minimumHealthyPercent == 50);
  CHECK_FALSE(orders.healthCheckGracePeriod);
  CHECK_FALSE(orders.ecrRepository);
  CHECK(orders.container().image.reference("T") == "public.ecr.aws/acme/orders:1.2");
  CHECK_FALSE(orders.container().healthCheck);
  REQUIRE(orders.container().secrets.size() == 3);
  CHECK(orders.container().secrets[0].valueFrom == "arn:aws:ssm:us-east-1:222222222222:parameter/shop/dev/db");
  CHECK(orders.container().secrets[1].valueFrom ==
        "arn:aws:secretsmanager:us-east-1:222222222222:secret:shop/dev/stripe:api_key::");
  CHECK(orders.parameterArns == std::vector<std::string>{"arn:aws:ssm:us-east-1:222222222222:parameter/shop/dev/db"});
  CHECK(orders.secretArns ==
        std::vector<std::string>{"arn:aws:secretsmanager:us-east-1:1:secret:x",
                                 "arn:aws:secretsmanager:us-east-1:222222222222:secret:shop/dev/stripe-??????"});

  const ServiceFacts& web = f.services[2];
  CHECK(web.isPublic());
  CHECK_FALSE(web.runsOnTaskSets);
  REQUIRE(web.targetGroups.size() == 1);
  CHECK(web.targetGroups[0].color.empty());
  CHECK(web.targetGroups[0].arnOutput == "web_target_group_arn");
  CHECK(web.deployment.circuitBreaker);

  const JobFacts& job = f.jobs[0];
  CHECK(job.scheduleName == "shop-dev-nightly-report");
  CHECK(job.schedule.eventBridge == "cron(0 3 ? * 1 *)");
  CHECK(job.container().portMappings.empty());
  CHECK_FALSE(job.container().healthCheck);
  CHECK(job.launchType == "FARGATE");
}

TEST_CASE("app-wide facts: accounts, registry, push role, output and file names", "[facts]") {
  model::AppModel app = factsApp();
  CHECK(awsAccounts(app) == std::vector<std::string>{"111111111111", "222222222222", "333333333333"});
  CHECK(homeAccount(app) == "111111111111");
  CHECK(registryHost(app.app) == "111111111111.dkr.ecr.us-east-1.amazonaws.com");
  CHECK(pushRoleArn(app.app) == "arn:aws:iam::111111111111:role/gops/shop/shop-github-push");
  auto repos = ecrRepositories(app);
  CHECK(repos.at("shop/api") == std::set<std::string>{"222222222222"});
  app.app.region = "cn-north-1";
  CHECK(registryHost(app.app) == "111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn");
  CHECK(output::securityGroupId("api") == "api_security_group_id");
  CHECK(output::listenerRuleArn("api", 2) == "api_listener_rule_3_arn");
  CHECK(tfPlaceholder(output::privateSubnetIds(), 1) == "{{tf:private_subnet_ids[1]}}");
  CHECK(files::terraformModule("bootstrap/1") == "bootstrap/1/terraform/main.tf.json");
  CHECK(files::taskSet("api", "blue") == "ecs/api.blue.taskset.json");
}

namespace {

const backend::File* findFile(const backend::Output& o, const std::string& path) {
  for (const auto& f : o.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("runs on task sets: one table, every backend agrees", "[facts][task-sets]") {
  using Kind = model::Rollout::Kind;
  using Expose = model::Expose::Kind;
  struct Row {
    const char* what;
    Expose expose;
    bool port;
    Kind rollout;
    bool taskSets;
    bool valid;  ///< a model the checker accepts (a public service has a port)
  };
  const Row rows[] = {
      {"public, port, canary", Expose::Public, true, Kind::Canary, true, true},
      {"public, port, blue_green", Expose::Public, true, Kind::BlueGreen, true, true},
      {"public, port, linear", Expose::Public, true, Kind::Linear, true, true},
      {"public, port, rolling", Expose::Public, true, Kind::Rolling, false, true},
      {"public without a port, canary", Expose::Public, false, Kind::Canary, false, false},
      {"internal, canary", Expose::Internal, true, Kind::Canary, false, true},
      {"not exposed, canary", Expose::None, true, Kind::Canary, false, true},
      {"not exposed, no port, rolling", Expose::None, false, Kind::Rolling, false, true},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    model::AppModel app = testing::shopApp();
    model::Environment env = testing::devEnvironment();
    model::Service s = publicService("api", {"api.example.com"});
    s.expose.kind = row.expose;
    if (row.expose != Expose::Public) s.expose.hosts.clear();
    if (!row.port) s.port.reset();
    s.rollout.kind = row.rollout;
    if (row.rollout == Kind::Canary || row.rollout == Kind::Linear) s.rollout.steps = {{10, 60}};
    env.services.push_back(s);
    app.environments.push_back(env);

    CHECK(runsOnTaskSets(app.environments[0].services[0]) == row.taskSets);
    EnvFacts f(app, app.environments[0]);
    CHECK(f.services[0].runsOnTaskSets == row.taskSets);
    CHECK(f.anyTaskSets == row.taskSets);

    // Terraform: the EXTERNAL controller and a blue and a green target group exactly then.
    backend::Output tf = backend::terraform::generate(app);
    REQUIRE(tf.errors.empty());
    const backend::File* module = findFile(tf, "dev/terraform/main.tf.json");
    REQUIRE(module != nullptr);
    json m = json::parse(module->contents);
    const json& resources = m["resource"];
    CHECK(resources["aws_ecs_service"]["api"]["deployment_controller"]["type"] == (row.taskSets ? "EXTERNAL" : "ECS"));
    const bool twoGroups = resources.contains("aws_lb_target_group") &&
                           resources["aws_lb_target_group"].contains("api_blue") &&
                           resources["aws_lb_target_group"].contains("api_green");
    CHECK(twoGroups == row.taskSets);
    if (row.taskSets) CHECK(resources["aws_lb_target_group"].size() == 2);

    // ECS: the task set files exactly then, and the service's controller.
    backend::Output ecs = backend::ecs::generate(app);
    REQUIRE(ecs.errors.empty());
    CHECK((findFile(ecs, "dev/ecs/api.blue.taskset.json") != nullptr) == row.taskSets);
    CHECK((findFile(ecs, "dev/ecs/api.green.taskset.json") != nullptr) == row.taskSets);
    const backend::File* service = findFile(ecs, "dev/ecs/api.service.json");
    REQUIRE(service != nullptr);
    CHECK(json::parse(service->contents)["deploymentController"]["type"] == (row.taskSets ? "EXTERNAL" : "ECS"));

    // The plan (not yet on the facts) agrees on every model the checker accepts.
    if (row.valid) {
      backend::Output plan = backend::plan::generate(app);
      const backend::File* p = findFile(plan, "dev/plan.json");
      REQUIRE(p != nullptr);
      CHECK(json::parse(p->contents)["services"][0]["controller"] == (row.taskSets ? "EXTERNAL" : "ECS"));
    }
  }
}

TEST_CASE("who runs a service: one definition, every backend agrees", "[facts][native]") {
  using Kind = model::Rollout::Kind;
  using Engine = model::Rollout::Engine;
  struct Row {
    const char* what;
    bool isPublic;
    Kind rollout;
    Engine engine;
    Runner runner;
    const char* strategy;  ///< ECS's, for Runner::EcsNative
  };
  const Row rows[] = {
      {"public canary on gops", true, Kind::Canary, Engine::Gops, Runner::GopsTaskSets, ""},
      {"public canary on ecs", true, Kind::Canary, Engine::Ecs, Runner::EcsNative, "CANARY"},
      {"public blue_green on ecs", true, Kind::BlueGreen, Engine::Ecs, Runner::EcsNative, "BLUE_GREEN"},
      {"public linear on ecs", true, Kind::Linear, Engine::Ecs, Runner::EcsNative, "LINEAR"},
      {"public rolling", true, Kind::Rolling, Engine::Gops, Runner::EcsRolling, ""},
      {"not exposed, canary on ecs", false, Kind::Canary, Engine::Ecs, Runner::EcsRolling, ""},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    model::AppModel app = testing::shopApp();
    model::Environment env = testing::devEnvironment();
    model::Service s = publicService("api", {"api.example.com"});
    if (!row.isPublic) {
      s.expose.kind = model::Expose::Kind::None;
      s.expose.hosts.clear();
    }
    s.rollout.kind = row.rollout;
    s.rollout.engine = row.engine;
    if (row.rollout == Kind::Canary) s.rollout.steps = {{10, 300}};
    if (row.rollout == Kind::Linear) {
      s.rollout.linearStepPercent = 25;
      s.rollout.linearIntervalSeconds = 120;
      s.rollout.steps = {{25, 120}, {50, 120}, {75, 120}};
    }
    if (row.rollout == Kind::BlueGreen) s.rollout.bakeSeconds = 600;
    if (row.isPublic) s.rollout.rollback.push_back({"http_5xx_rate", "", model::Comparison::Greater, 1, "percent", 120, false});
    env.services.push_back(s);
    app.environments.push_back(env);

    const model::Service& ms = app.environments[0].services[0];
    CHECK(runnerOf(ms) == row.runner);
    CHECK(runsNatively(ms) == (row.runner == Runner::EcsNative));
    CHECK(hasTwoTargetGroups(ms) == (row.runner != Runner::EcsRolling));
    EnvFacts f(app, app.environments[0]);
    const ServiceFacts& sf = f.services[0];
    CHECK(sf.runner == row.runner);
    CHECK(f.anyNative == (row.runner == Runner::EcsNative));
    CHECK(sf.deployment.native.has_value() == (row.runner == Runner::EcsNative));
    CHECK(sf.deployment.circuitBreaker == (row.runner == Runner::EcsRolling));
    CHECK(sf.targetGroups.size() == (row.runner == Runner::EcsRolling ? (row.isPublic ? 1u : 0u) : 2u));
    for (const auto& tg : sf.targetGroups) CHECK(tg.taskSetFile.empty() == (row.runner != Runner::GopsTaskSets));

    backend::Output tf = backend::terraform::generate(app);
    REQUIRE(tf.errors.empty());
    json m = json::parse(findFile(tf, "dev/terraform/main.tf.json")->contents);
    const json& svc = m["resource"]["aws_ecs_service"]["api"];
    backend::Output ecs = backend::ecs::generate(app);
    REQUIRE(ecs.errors.empty());
    json doc = json::parse(findFile(ecs, "dev/ecs/api.service.json")->contents);
    backend::Output plan = backend::plan::generate(app);
    json p = json::parse(findFile(plan, "dev/plan.json")->contents)["services"][0];
    CHECK(m["resource"].contains("aws_iam_role") == true);
    CHECK(m["resource"]["aws_iam_role"].contains("ecs_infrastructure") == (row.runner == Runner::EcsNative));
    if (row.runner == Runner::EcsNative) {
      CHECK(svc["deployment_controller"]["type"] == "ECS");
      CHECK(svc["deployment_configuration"]["strategy"] == row.strategy);
      CHECK(svc["alarms"]["alarm_names"].size() == 1);
      CHECK(svc["load_balancer"]["advanced_configuration"]["alternate_target_group_arn"] == "${aws_lb_target_group.api_green.arn}");
      CHECK(doc["deploymentConfiguration"]["strategy"] == row.strategy);
      CHECK(doc["deploymentConfiguration"]["alarms"]["alarmNames"][0] == "shop-dev-api-rollback-http-5xx-rate");
      CHECK(doc["loadBalancers"][0]["advancedConfiguration"]["roleArn"] ==
            "arn:aws:iam::222222222222:role/gops/shop/dev/shop-dev-ecs-infrastructure");
      CHECK(!doc["deploymentConfiguration"].contains("deploymentCircuitBreaker"));
      CHECK(p["engine"] == "ecs");
      CHECK(p["controller"] == "ECS");
      CHECK(p["steps"][1]["action"] == "start_deployment");
      CHECK(p["steps"][2]["action"] == "follow_deployment");
      CHECK(p["steps"][2]["shifts"].back()["weight"] == 100);
      CHECK(findFile(ecs, "dev/ecs/api.blue.taskset.json") == nullptr);
    } else {
      CHECK(!svc.contains("deployment_configuration"));
      CHECK(!svc.contains("alarms"));
      CHECK(!doc["deploymentConfiguration"].contains("strategy"));
      CHECK(!p.contains("engine"));
    }
  }
  // The strategy's numbers, and the shifts gops reports while ECS runs them.
  model::AppModel app = testing::shopApp();
  model::Environment env = testing::devEnvironment();
  model::Service s = publicService("api", {"api.example.com"});
  s.rollout.kind = Kind::Linear;
  s.rollout.engine = Engine::Ecs;
  s.rollout.linearStepPercent = 25;
  s.rollout.linearIntervalSeconds = 120;
  s.rollout.steps = {{25, 120}, {50, 120}, {75, 120}};
  env.services.push_back(s);
  app.environments.push_back(env);
  EnvFacts f(app, app.environments[0]);
  const NativeStrategy& n = *f.services[0].deployment.native;
  CHECK(n.strategy == "LINEAR");
  CHECK(n.linearStepPercent == 25);
  CHECK(n.linearStepBakeTimeMinutes == 2);
  CHECK(n.bakeTimeMinutes == 0);
  CHECK(n.alarmNames.empty());
  REQUIRE(n.shifts.size() == 4);
  CHECK(n.shifts.back().weight == 100);
  CHECK(n.shifts.back().holdSeconds == 0);
}

TEST_CASE("backends given the facts write what they write from the model alone", "[facts]") {
  model::AppModel app = factsApp();
  const AppFacts facts(app);
  REQUIRE(facts.environments.size() == 2);
  CHECK(&facts.environment("prod").env == &app.environments[1]);
  backend::Options given;
  given.facts = &facts;
  auto same = [](const backend::Output& a, const backend::Output& b) {
    REQUIRE(a.files.size() == b.files.size());
    for (std::size_t i = 0; i < a.files.size(); ++i) {
      CHECK(a.files[i].path == b.files[i].path);
      CHECK(a.files[i].contents == b.files[i].contents);
    }
  };
  same(backend::terraform::generate(app, given), backend::terraform::generate(app));
  same(backend::ecs::generate(app, given), backend::ecs::generate(app));
  same(backend::workflows::generate(app, given), backend::workflows::generate(app));
}

TEST_CASE("a comparison with the stable version: one alarm per colour the new version goes behind, everywhere", "[facts][alarms]") {
  model::AppModel app = factsApp();
  model::Service& api = app.environments[0].services[0];
  model::RollbackCondition vsStable;
  vsStable.metric = "p99_latency";
  vsStable.unit = "seconds";
  vsStable.threshold = 0.1;
  vsStable.baseline = true;
  api.rollout.rollback.push_back(vsStable);
  api.rollout.minRequests = 30;
  app.environments[0].notifyTopic = "arn:aws:sns:us-east-1:222222222222:oncall";

  // The facts: the condition's two alarms after the others, blue first.
  EnvFacts f(app, app.environments[0]);
  const ServiceFacts& s = f.services[0];
  REQUIRE(s.rollbackAlarms.size() == 5);
  CHECK(s.rollbackAlarms[2].newColor.empty());
  CHECK(s.rollbackAlarms[3].name == "shop-dev-api-rollback-p99-latency-new-blue");
  CHECK(s.rollbackAlarms[3].newColor == "blue");
  CHECK(s.rollbackAlarms[4].name == "shop-dev-api-rollback-p99-latency-new-green");
  CHECK(s.rollbackAlarms[4].newColor == "green");
  CHECK(s.rollbackAlarms[4].condition == &api.rollout.rollback[3]);

  // The plan: the colours' alarms apart, watched by the deploys into that colour.
  gops::plan::Plan p = backend::plan::build(f, "Generated by gops from spec.gops: a plan.");
  const gops::plan::Watch& watch = p.services[0].watch;
  CHECK(watch.alarms == std::vector<std::string>{"shop-dev-api-rollback-http-5xx-rate", "payments-down", "shop-dev-api-rollback-http-5xx-rate-2"});
  CHECK(watch.newBlue == std::vector<std::string>{"shop-dev-api-rollback-p99-latency-new-blue"});
  CHECK(watch.newGreen == std::vector<std::string>{"shop-dev-api-rollback-p99-latency-new-green"});
  CHECK(watch.alarmsFor(gops::plan::Color::Green).back() == "shop-dev-api-rollback-p99-latency-new-green");
  CHECK(watch.alarmsFor(gops::plan::Color::Green).size() == 4);
  CHECK(watch.allAlarms().size() == 5);
  gops::plan::ReadResult r = gops::plan::read(gops::plan::write(p));
  REQUIRE(r.ok());
  CHECK(r.plan->services[0].watch == watch);

  // Terraform: each alarm computes its colour minus the other, on the minutes in which
  // both served min_requests; every alarm notifies the topic.
  backend::Output tf = backend::terraform::generate(app);
  REQUIRE(tf.errors.empty());
  json alarms = json::parse(findFile(tf, "dev/terraform/main.tf.json")->contents)["resource"]["aws_cloudwatch_metric_alarm"];
  for (const char* color : {"blue", "green"}) {
    INFO(color);
    const json& a = alarms[std::string("api_rollback_p99_latency_new_") + color];
    CHECK(a["alarm_name"] == std::string("shop-dev-api-rollback-p99-latency-new-") + color);
    CHECK(a["threshold"] == 0.1);
    CHECK(a["treat_missing_data"] == "missing");
    std::string returned, ok;
    for (const auto& q : a["metric_query"]) {
      if (q.value("return_data", false)) returned = q["expression"];
      if (q["id"] == "ok_green") ok = q["expression"];
    }
    CHECK(returned == (std::string(color) == "blue" ? "IF(ok_blue AND ok_green, latency_blue-latency_green)"
                                                    : "IF(ok_blue AND ok_green, latency_green-latency_blue)"));
    CHECK(ok == "FILL(requests_green,0) >= 30");
  }
  for (const auto& [name, a] : alarms.items()) {
    INFO(name);
    CHECK(a["alarm_actions"] == json::array({"arn:aws:sns:us-east-1:222222222222:oncall"}));
    CHECK(a["ok_actions"] == json::array({"arn:aws:sns:us-east-1:222222222222:oncall"}));
  }
  // Without `notify`, no actions.
  app.environments[0].notifyTopic.clear();
  json quiet = json::parse(findFile(backend::terraform::generate(app), "dev/terraform/main.tf.json")->contents);
  for (const auto& [name, a] : quiet["resource"]["aws_cloudwatch_metric_alarm"].items()) {
    INFO(name);
    CHECK_FALSE(a.contains("alarm_actions"));
    CHECK_FALSE(a.contains("ok_actions"));
  }
}

TEST_CASE("the deploy's limits: waves added up, a margin, the image wait, IAM's session range", "[facts][limits]") {
  model::Environment e = gops::testing::devEnvironment();
  auto service = [](const std::string& name, double hold, std::vector<std::string> deps = {}) {
    model::Service s;
    s.name = name;
    s.rollout.kind = model::Rollout::Kind::Canary;
    s.rollout.steps.push_back({10, hold});
    s.dependsOn = std::move(deps);
    return s;
  };
  // db (2h) and cache (30m) deploy together; api (1h) after db: 3 hours over 2 waves.
  e.services = {service("api", 3600, {"db"}), service("cache", 1800), service("db", 7200)};
  model::DeployLimits l = model::deployLimits(e);
  CHECK(model::deployWaves(e) == std::vector<std::vector<std::string>>{{"cache", "db"}, {"api"}});
  CHECK(l.waves == 2);
  CHECK(l.rolloutSeconds == 3 * 3600);
  CHECK(l.jobMinutesNeeded == 180 + model::kDeployMarginMinutes);
  CHECK(l.jobTimeoutMinutes == 210);
  CHECK(l.sessionSeconds == 210 * 60);
  CHECK_FALSE(l.exceedsJob());
  // An on_push environment also waits for its images.
  e.deploy.kind = model::Deploy::Kind::OnPush;
  e.deploy.branch = "main";
  CHECK(model::deployLimits(e).jobMinutesNeeded == 180 + model::kDeployMarginMinutes + model::kImageWaitMinutes);
  // A short deploy still gets IAM's minimum session; a long one is capped at GitHub's limit.
  e.services = {service("api", 60)};
  e.deploy.kind = model::Deploy::Kind::Manual;
  CHECK(model::deployLimits(e).jobTimeoutMinutes == 1 + 30);
  CHECK(model::deployLimits(e).sessionSeconds == model::kRoleSessionMinSeconds);
  e.services = {service("api", 6 * 3600)};
  l = model::deployLimits(e);
  CHECK(l.exceedsJob());
  CHECK(l.jobTimeoutMinutes == model::kGithubJobLimitMinutes);
  CHECK(l.sessionSeconds == model::kGithubJobLimitMinutes * 60);
  // The facts carry the same numbers, and the backends compile them (workflows, terraform).
  model::AppModel app = gops::testing::shopApp();
  app.environments.push_back(e);
  EnvFacts f(app, app.environments.front());
  CHECK(f.deployLimits.sessionSeconds == l.sessionSeconds);
}

TEST_CASE("a before_deploy task: its container, size split with the sidecars, placement and log stream", "[facts][before-deploy]") {
  model::AppModel app = factsApp();
  model::Environment& e = app.environments[0];
  model::Service& api = e.services[0];  // canary, on task sets; 1024 CPU units, 2048 MiB
  model::Sidecar envoy;
  envoy.name = "envoy";
  envoy.image.kind = model::Image::Kind::External;
  envoy.image.uri = "envoy:1";
  envoy.cpu = 64;
  envoy.memory = 128;
  api.sidecars = {envoy};
  api.beforeDeploy = model::Task{{"bin/migrate"}, 300, 0, 4096};  // memory only: the CPU is the service's
  model::Service& orders = e.services[1];  // internal, rolls
  model::Sidecar router;
  router.name = "logs";
  router.image = envoy.image;
  router.memory = 64;
  router.logRouter = "fluentbit";
  orders.sidecars = {router};
  orders.logOptions = {{"Name", "cloudwatch_logs"}, {"log_group_name", "/shop/orders"}, {"log_stream_prefix", "run-"}};
  orders.beforeDeploy = model::Task{{"sh", "-c", "migrate"}, 600, 0, 0};
  model::Service& web = e.services[2];
  web.sidecars = {router};
  web.logOptions = {{"Name", "datadog"}};
  web.beforeDeploy = model::Task{{"migrate"}, 600, 0, 0};

  EnvFacts f(app, e);
  CHECK(f.anyBeforeDeploy);
  const OneOffTask& a = *f.services[0].beforeDeploy;
  CHECK(a.container == "api");
  CHECK(a.command == std::vector<std::string>{"bin/migrate"});
  CHECK(a.cpu == 1024);
  CHECK(a.memory == 4096);
  CHECK(a.containerCpu == 1024 - 64);     // the sidecar keeps its share
  CHECK(a.containerMemory == 4096 - 128);
  CHECK(a.placementFile == "ecs/api.blue.taskset.json");
  CHECK(a.logGroup == "/gops/shop/dev/api");
  CHECK(a.logStreamPrefix == "api/api/");
  CHECK(a.timeoutSeconds == 300);

  const OneOffTask& o = *f.services[1].beforeDeploy;
  CHECK(!o.cpu);
  CHECK(!o.memory);
  CHECK(!o.containerMemory);
  CHECK(o.placementFile == "ecs/orders.service.json");
  // FireLens to CloudWatch Logs: the router's group, the stream its prefix and tag name.
  CHECK(o.logGroup == "/shop/orders");
  CHECK(o.logStreamPrefix == "run-orders-firelens-");
  // FireLens elsewhere: no stream to name.
  CHECK(!f.services[2].beforeDeploy->logGroup);
  CHECK(!f.services[2].beforeDeploy->logStreamPrefix);

  model::AppModel plain = factsApp();
  EnvFacts none(plain, plain.environments[0]);
  CHECK_FALSE(none.anyBeforeDeploy);
}
