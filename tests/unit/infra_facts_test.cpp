// The deployment facts of existing infrastructure, DNS, path routing and Fargate
// Spot (compiler/deploy_facts/infrastructure.h, network.h, env_facts.h), and that
// every backend follows them: the Terraform module reads what exists and creates
// none of it, the ECS JSON and the plan name the same cluster, rules and strategies.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "backends/ecs/ecs.h"
#include "backends/plan/plan.h"
#include "backends/terraform/terraform.h"
#include "deploy_facts/env_facts.h"
#include "model_fixture.h"

using namespace gops;
using namespace gops::facts;
using nlohmann::json;

namespace {

model::Service webService(std::string name, std::vector<std::string> hosts, std::vector<std::string> paths = {}) {
  model::Service s;
  s.name = std::move(name);
  s.image.repository = "shop/" + s.name;
  s.port = 8080;
  s.expose.kind = model::Expose::Kind::Public;
  s.expose.hosts = std::move(hosts);
  s.expose.paths = std::move(paths);
  return s;
}

/// dev in existing infrastructure: a VPC with listed private subnets, an ALB, a
/// cluster by ARN, a DNS zone; `site` takes the rest of shop.example.com, `api` its
/// /api/* paths on Spot, `worker` and a job on Spot only.
model::AppModel existingApp() {
  model::AppModel m = testing::shopApp();
  model::Environment e = testing::devEnvironment();
  e.network.cidr.clear();
  e.network.existingVpc = "vpc-0abc1234def567890";
  e.network.privateSubnets = {"subnet-0aaa1234def567890", "subnet-0bbb1234def567890", "subnet-0ccc1234def567890"};
  e.network.zones = 3;
  e.existingLoadBalancer = "arn:aws:elasticloadbalancing:us-east-1:222222222222:loadbalancer/app/shared/0123456789abcdef";
  e.existingCluster = "arn:aws:ecs:us-east-1:222222222222:cluster/platform";
  e.dns = model::Dns{"shop.example.com"};
  model::Service api = webService("api", {"shop.example.com", "m.shop.example.com"}, {"/api/*"});
  api.capacity.spotPercent = 70;
  api.capacity.onDemandBase = 1;
  api.rollout.kind = model::Rollout::Kind::Canary;
  api.rollout.steps = {{10, 60}};
  e.services.push_back(api);
  e.services.push_back(webService("site", {"shop.example.com"}));
  model::Service worker;
  worker.name = "worker";
  worker.image.repository = "shop/worker";
  worker.capacity.spotPercent = 100;
  e.services.push_back(worker);
  model::Job report;
  report.name = "report";
  report.image.repository = "shop/worker";
  report.schedule.cron = "0 3 * * *";
  report.capacity.spotPercent = 100;
  e.jobs.push_back(report);
  m.environments.push_back(e);
  return m;
}

json terraformOf(const model::AppModel& app) {
  auto out = backend::terraform::generate(app);
  REQUIRE(out.errors.empty());
  for (const auto& f : out.files) {
    if (f.path == "dev/terraform/main.tf.json") return json::parse(f.contents);
  }
  FAIL("no dev/terraform/main.tf.json");
  return {};
}

json ecsFile(const model::AppModel& app, const std::string& path) {
  auto out = backend::ecs::generate(app);
  REQUIRE(out.errors.empty());
  for (const auto& f : out.files) {
    if (f.path == path) return json::parse(f.contents);
  }
  FAIL("no " + path);
  return {};
}

}  // namespace

TEST_CASE("capacity strategies: shares in lowest terms, FARGATE first", "[facts][spot]") {
  model::Capacity onDemand;
  CHECK(capacityStrategy(onDemand).empty());
  model::Capacity spot;
  spot.spotPercent = 100;
  auto s = capacityStrategy(spot);
  REQUIRE(s.size() == 1);
  CHECK(s[0].provider == "FARGATE_SPOT");
  CHECK(s[0].weight == 1);
  CHECK(s[0].base == 0);
  // Only Spot beyond a base on demand: FARGATE carries the base with no weight.
  spot.onDemandBase = 2;
  s = capacityStrategy(spot);
  REQUIRE(s.size() == 2);
  CHECK((s[0].provider == "FARGATE" && s[0].weight == 0 && s[0].base == 2));
  CHECK((s[1].provider == "FARGATE_SPOT" && s[1].weight == 1 && s[1].base == 0));
  model::Capacity share;
  share.spotPercent = 70;
  share.onDemandBase = 1;
  s = capacityStrategy(share);
  REQUIRE(s.size() == 2);
  CHECK((s[0].weight == 3 && s[0].base == 1 && s[1].weight == 7));
  share.spotPercent = 50;
  s = capacityStrategy(share);
  CHECK((s[0].weight == 1 && s[1].weight == 1));
  share.spotPercent = 33.3;  // tenths of a percent: 333 and 667
  s = capacityStrategy(share);
  CHECK((s[0].weight == 667 && s[1].weight == 333));
}

TEST_CASE("the facts of existing infrastructure", "[facts][existing]") {
  model::AppModel app = existingApp();
  EnvFacts f(app, app.environments[0]);
  CHECK(f.network.existing());
  CHECK(f.network.zones == 3);
  CHECK(f.network.natGateways == 0);
  CHECK(f.network.privateCidrs.empty());
  CHECK(f.network.privateSubnets.source == SubnetFacts::Source::Listed);
  CHECK(f.network.privateSubnets.count == 3);
  // No load balancer to create: the public subnets are not read.
  CHECK(f.network.publicSubnets.count == 0);
  CHECK(f.loadBalancer.existing);
  CHECK_FALSE(f.loadBalancer.created());
  CHECK(f.loadBalancer.name == "shared");
  CHECK(f.loadBalancer.listenerRulesArn ==
        "arn:aws:elasticloadbalancing:us-east-1:222222222222:listener-rule/app/shared/0123456789abcdef/*");
  CHECK(f.cluster.existing);
  CHECK(f.cluster.name == "platform");
  CHECK(f.names.cluster() == "platform");
  CHECK(f.names.dashboard() == "shop-dev");
  CHECK(f.cluster.capacityProviders == std::vector<std::string>{"FARGATE", "FARGATE_SPOT"});
  CHECK(f.dnsZone == std::optional<std::string>("shop.example.com"));
  CHECK(f.publicHosts == std::vector<std::string>{"m.shop.example.com", "shop.example.com"});
  CHECK(clusterNameOf("shared") == "shared");

  // Tagged subnets: `zones` of each; public ones only for a load balancer it creates.
  model::Network n;
  n.existingVpc = "vpc-0abc1234def567890";
  n.zones = 2;
  NetworkFacts tagged = networkFacts(n, true);
  CHECK(tagged.privateSubnets.source == SubnetFacts::Source::Tagged);
  CHECK(tagged.privateSubnets.count == 2);
  CHECK(tagged.publicSubnets.count == 2);
  CHECK(networkFacts(n, false).publicSubnets.count == 0);
  CHECK(tagged.ok());
  // Listed: as many as written; a load balancer to create needs two at least.
  n.publicSubnets = {"subnet-0ddd1234def567890"};
  CHECK(networkFacts(n, false).ok());
  CHECK(networkFacts(n, true).error.find("needs public subnets in 2 zones") != std::string::npos);
  // A created network: both tiers, one subnet per zone, as before.
  NetworkFacts created = networkFacts(testing::devEnvironment().network, true);
  CHECK_FALSE(created.existing());
  CHECK(created.privateSubnets.source == SubnetFacts::Source::Created);
  CHECK(created.publicSubnets.count == 2);
}

TEST_CASE("path rules share a rule's values with hosts and come before the host's fallback", "[facts][paths]") {
  model::AppModel app = testing::shopApp();
  model::Environment e = testing::devEnvironment();
  // Four hosts and two paths: three hosts a rule.
  e.services.push_back(webService("admin", {"a.example.com", "b.example.com", "c.example.com", "d.example.com"},
                                  {"/admin/*", "/ops/*"}));
  e.services.push_back(webService("api", {"shop.example.com"}, {"/api/*"}));
  e.services.push_back(webService("site", {"shop.example.com", "www.example.com"}));
  e.services.push_back(webService("other", {"other.example.com"}));
  app.environments.push_back(e);
  EnvFacts f(app, app.environments[0]);
  const auto& admin = f.services[0].listenerRules;
  REQUIRE(admin.size() == 2);
  CHECK(admin[0].hosts == std::vector<std::string>{"a.example.com", "b.example.com", "c.example.com"});
  CHECK(admin[1].hosts == std::vector<std::string>{"d.example.com"});
  CHECK(admin[1].paths == std::vector<std::string>{"/admin/*", "/ops/*"});
  CHECK(admin[1].arnOutput == "admin_listener_rule_2_arn");
  const ListenerRule& api = f.services[1].listenerRules.at(0);
  const ListenerRule& site = f.services[2].listenerRules.at(0);
  const ListenerRule& other = f.services[3].listenerRules.at(0);
  CHECK_FALSE(api.fallback);
  CHECK(site.fallback);
  CHECK_FALSE(other.fallback);
  // ALB tries the lowest number first: every path rule before the fallback.
  CHECK(api.priority <= kRulePriorities);
  CHECK(site.priority > kRulePriorities);
  CHECK(site.priority <= kRulePriorities + kFallbackPriorities);
  CHECK(other.priority <= kRulePriorities);
  std::set<std::uint32_t> all;
  for (const auto& s : f.services) {
    for (const auto& r : s.listenerRules) all.insert(r.priority);
  }
  CHECK(all.size() == 5);

  // A rule's priority does not move when another service is added.
  model::AppModel more = app;
  more.environments[0].services.push_back(webService("zzz", {"zzz.example.com"}));
  EnvFacts g(more, more.environments[0]);
  CHECK(g.services[1].listenerRules[0].priority == api.priority);
  CHECK(g.services[2].listenerRules[0].priority == site.priority);

  // On a listener other environments share (an existing ALB), the hash takes the
  // environment's name too: staging's and prod's `api` differ.
  model::AppModel shared = app;
  for (const char* name : {"staging", "prod"}) {
    model::Environment env = app.environments[0];
    env.name = name;
    env.existingLoadBalancer = "arn:aws:elasticloadbalancing:us-east-1:222222222222:loadbalancer/app/shared/0123456789abcdef";
    shared.environments.push_back(env);
  }
  EnvFacts staging(shared, shared.environments[1]);
  EnvFacts prod(shared, shared.environments[2]);
  CHECK(staging.services[1].listenerRules[0].priority != prod.services[1].listenerRules[0].priority);
}

TEST_CASE("existing infrastructure is read, not created, and every backend names it", "[facts][existing]") {
  model::AppModel app = existingApp();
  json tf = terraformOf(app);
  const json& res = tf["resource"];
  const json& data = tf["data"];
  for (const char* created : {"aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_nat_gateway", "aws_route_table",
                              "aws_route", "aws_eip", "aws_vpc_endpoint", "aws_lb", "aws_lb_listener", "aws_ecs_cluster",
                              "aws_ecs_cluster_capacity_providers"}) {
    CHECK_FALSE(res.contains(created));
  }
  CHECK_FALSE(res["aws_security_group"].contains("alb"));
  CHECK(data["aws_vpc"]["main"]["id"] == "vpc-0abc1234def567890");
  CHECK(data["aws_subnet"]["private_2"]["id"] == "subnet-0ccc1234def567890");
  CHECK_FALSE(data["aws_subnet"].contains("public_0"));
  CHECK(data["aws_lb"]["main"]["arn"] == app.environments[0].existingLoadBalancer);
  CHECK(data["aws_lb_listener"]["https"]["port"] == 443);
  CHECK(data["aws_ecs_cluster"]["main"]["cluster_name"] == "platform");
  CHECK(data["aws_route53_zone"]["main"]["name"] == "shop.example.com");
  CHECK_FALSE(tf["output"].contains("public_subnet_ids"));
  CHECK(tf["output"]["private_subnet_ids"]["value"] ==
        "${[data.aws_subnet.private_0.id, data.aws_subnet.private_1.id, data.aws_subnet.private_2.id]}");
  CHECK(res["aws_ecs_service"]["worker"]["cluster"] == "${data.aws_ecs_cluster.main.arn}");
  CHECK(res["aws_lb_listener_certificate"]["main"]["listener_arn"] == "${data.aws_lb_listener.https.arn}");
  CHECK(res["aws_vpc_security_group_ingress_rule"]["site_from_alb"]["for_each"] == "${data.aws_lb.main.security_groups}");
  CHECK(res["aws_route53_record"]["hosts"]["alias"]["name"] == "${data.aws_lb.main.dns_name}");
  CHECK(res["aws_cloudwatch_dashboard"]["main"]["dashboard_name"] == "shop-dev");
  // The path rule and its host's fallback.
  const json& api = res["aws_lb_listener_rule"]["api"];
  CHECK(api["condition"][1]["path_pattern"]["values"] == json::array({"/api/*"}));
  CHECK(res["aws_lb_listener_rule"]["site"]["priority"].get<int>() > static_cast<int>(kRulePriorities));

  // The ECS JSON and the plan name the existing cluster and the same strategies.
  json worker = ecsFile(app, "dev/ecs/worker.service.json");
  CHECK(worker["cluster"] == "platform");
  CHECK_FALSE(worker.contains("launchType"));
  CHECK(worker["capacityProviderStrategy"] ==
        json::parse(R"([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])"));
  json taskSet = ecsFile(app, "dev/ecs/api.blue.taskset.json");
  CHECK(taskSet["cluster"] == "platform");
  CHECK(taskSet["capacityProviderStrategy"] ==
        json::parse(R"([{"capacityProvider": "FARGATE", "weight": 3, "base": 1},
                        {"capacityProvider": "FARGATE_SPOT", "weight": 7, "base": 0}])"));
  EnvFacts f(app, app.environments[0]);
  gops::plan::Plan plan = backend::plan::build(f, "");
  CHECK(plan.cluster == "platform");
  const auto& sched = res["aws_scheduler_schedule"]["report"];
  CHECK_FALSE(sched.contains("depends_on"));  // an existing cluster: nothing to wait for
  CHECK(sched["target"]["ecs_parameters"]["capacity_provider_strategy"][0]["capacity_provider"] == "FARGATE_SPOT");
  CHECK_FALSE(sched["target"]["ecs_parameters"].contains("launch_type"));
}
