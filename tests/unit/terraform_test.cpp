#include <catch2/catch.hpp>

#include <set>

#include "backends/terraform/body.h"
#include "backends/terraform/cron.h"
#include "backends/terraform/naming.h"
#include "backends/terraform/terraform.h"
#include "model_fixture.h"

using namespace gops;
using namespace gops::backend::terraform;

TEST_CASE("gops names become AWS name parts", "[terraform][naming]") {
  CHECK(awsName("nightly_report") == "nightly-report");
  CHECK(awsName("Api_V2") == "api-v2");
  CHECK(awsName("api") == "api");
}

TEST_CASE("bounded names fit AWS limits, keep their suffix and stay distinct", "[terraform][naming]") {
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

TEST_CASE("environment names follow the documented scheme", "[terraform][naming]") {
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

TEST_CASE("CIDRs are carved like Terraform's cidrsubnet", "[terraform][cidr]") {
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

TEST_CASE("the subnet layout keeps subnets in place as zones are added", "[terraform][cidr]") {
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

TEST_CASE("job schedules use EventBridge Scheduler syntax", "[terraform][cron]") {
  CHECK(toEventBridgeCron("0 3 * * *") == "0 3 * * ? *");
  CHECK(toEventBridgeCron("0 6 * * 1") == "0 6 ? * 2 *");
  CHECK(toEventBridgeCron("0 6 * * 0,7") == "0 6 ? * 1,1 *");
  CHECK(toEventBridgeCron("*/15 * * * 1-5") == "*/15 * ? * 2-6 *");
  CHECK(toEventBridgeCron("0 6 * * 1-5/2") == "0 6 ? * 2-6/2 *");
  model::Schedule cron;
  cron.cron = "0 3 * * *";
  CHECK(scheduleExpression(cron) == "cron(0 3 * * ? *)");
  model::Schedule rate;
  rate.kind = model::Schedule::Kind::Rate;
  rate.rateSeconds = 6 * 3600;
  CHECK(scheduleExpression(rate) == "rate(6 hours)");
  rate.rateSeconds = 86400;
  CHECK(scheduleExpression(rate) == "rate(1 day)");
  rate.rateSeconds = 90;
  CHECK(scheduleExpression(rate) == "rate(2 minutes)");
}

TEST_CASE("templates in copied text are escaped", "[terraform]") {
  CHECK(templateEscape("a ${b} %{c} $d {e}") == "a $${b} %%{c} $d {e}");
  CHECK(tfRef("aws_vpc.main.id") == "${aws_vpc.main.id}");
}

TEST_CASE("bodies insist on sorted keys", "[terraform][body]") {
  std::string out;
  Body b(out, 0);
  b.beginObject().str("a", "x").num("b", 2).object("c").flag("d", true).end().strings("e", {"1", "2"}).end();
  CHECK(out == "{\n  \"a\": \"x\",\n  \"b\": 2,\n  \"c\": {\n    \"d\": true\n  },\n  \"e\": [\n    \"1\",\n    \"2\"\n  ]\n}");
  std::string bad;
  Body w(bad, 0);
  w.beginObject().str("b", "x");
  CHECK_THROWS_AS(w.str("a", "y"), KeyOrderError);
  CHECK_THROWS_AS(w.str("b", "y"), KeyOrderError);
}

TEST_CASE("modules render blocks sorted and report duplicates", "[terraform][body]") {
  Module m("comment");
  m.resource("aws_vpc", "main", [](Body& b) { b.str("cidr_block", "10.0.0.0/16"); });
  m.resource("aws_subnet", "b", [](Body& b) { b.str("vpc_id", "x"); });
  m.resource("aws_subnet", "a", [](Body& b) { b.str("vpc_id", "y"); });
  m.resource("aws_subnet", "a", [](Body& b) { b.str("vpc_id", "z"); });
  m.output("id", "aws_vpc.main.id", "VPC");
  std::vector<std::string> dups;
  std::string text = m.render(dups);
  CHECK(dups == std::vector<std::string>{"resource aws_subnet.a"});
  auto pos = [&](const char* s) { return text.find(s); };
  CHECK(pos("\"//\": \"comment\"") < pos("\"output\""));
  CHECK(pos("\"output\"") < pos("\"resource\""));
  CHECK(pos("\"aws_subnet\"") < pos("\"aws_vpc\""));
  CHECK(pos("\"a\": {") < pos("\"b\": {"));
  CHECK(text.find("\n        \"vpc_id\": \"y\"") != std::string::npos);  // bodies indented inside the file
}

namespace {

model::AppModel tinyApp() {
  model::AppModel m = testing::shopApp();
  model::Environment e = testing::devEnvironment();
  model::Service api;
  api.name = "api";
  api.image.repository = "shop/api";
  api.port = 8080;
  api.expose.kind = model::Expose::Kind::Public;
  api.expose.hosts = {"api.example.com"};
  api.rollout.kind = model::Rollout::Kind::Canary;
  e.services.push_back(api);
  m.environments.push_back(e);
  return m;
}

}  // namespace

TEST_CASE("generate writes every module, deterministically", "[terraform]") {
  model::AppModel app = tinyApp();
  Output a = generate(app);
  Output b = generate(app);
  REQUIRE(a.errors.empty());
  std::vector<std::string> paths;
  for (const auto& f : a.files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"bootstrap/111111111111/terraform/main.tf.json",
                                          "bootstrap/222222222222/terraform/main.tf.json", "dev/terraform/main.tf.json",
                                          "global/terraform/main.tf.json"});
  Output gh = generateGithub(app);
  REQUIRE(gh.files.size() == 1);
  CHECK(gh.files[0].path == "github/terraform/main.tf.json");
  REQUIRE(a.files.size() == b.files.size());
  for (std::size_t i = 0; i < a.files.size(); ++i) CHECK(a.files[i].contents == b.files[i].contents);
  const std::string& dev = a.files[2].contents;
  CHECK(dev.find("\"//\": \"Generated by gops from shop.gops") != std::string::npos);
  CHECK(dev.find("\"api_blue\": {") != std::string::npos);
  CHECK(dev.find("\"api_green\": {") != std::string::npos);
  CHECK(dev.find("\"use_lockfile\": true") != std::string::npos);

  Options only;
  only.environments = {"nope"};
  CHECK(generate(app, only).files.size() == 3);  // app-wide modules only
  // One environment without the app's files: what `gops build` runs per environment.
  only.environments = {"dev"};
  only.appFiles = false;
  Output devOnly = generate(app, only);
  REQUIRE(devOnly.files.size() == 1);
  CHECK(devOnly.files[0].path == "dev/terraform/main.tf.json");
  CHECK(devOnly.files[0].contents == dev);
}

TEST_CASE("generate reports what cannot be built", "[terraform]") {
  model::AppModel app = tinyApp();
  app.environments[0].network.cidr = "10.10.0.0/27";
  app.environments[0].network.zones = 2;
  Output small = generate(app);
  CHECK(small.files.empty());
  REQUIRE(small.errors.size() == 1);
  CHECK(small.errors[0].find("too small") != std::string::npos);

  app = tinyApp();
  model::Service clash;  // its single target group is api's blue one
  clash.name = "api_blue";
  clash.port = 80;
  clash.expose.kind = model::Expose::Kind::Public;
  clash.expose.hosts = {"blue.example.com"};
  app.environments[0].services.push_back(clash);
  Output dup = generate(app);
  CHECK(dup.files.empty());
  REQUIRE_FALSE(dup.errors.empty());
  CHECK(dup.errors[0].find("aws_lb_target_group.api_blue") != std::string::npos);
}
