#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "backends/ecs/ecs.h"
#include "model_fixture.h"

using namespace gops;
using namespace gops::backend::ecs;
using nlohmann::json;

namespace {

model::AppModel smallApp() {
  model::AppModel m = testing::shopApp();
  model::Environment e = testing::devEnvironment();

  model::Service api;
  api.name = "api";
  api.image.repository = "shop/api";
  api.cpu = 512;
  api.memory = 1024;
  api.port = 8080;
  api.replicas = 3;
  api.expose.kind = model::Expose::Kind::Public;
  api.expose.hosts = {"api.example.com"};
  api.health = model::Health{};
  api.health->path = "/healthz";
  api.health->intervalSeconds = 15;
  api.health->timeoutSeconds = 5;
  api.health->unhealthyThreshold = 4;
  api.health->gracePeriodSeconds = 45;
  api.env = {{"ZED", "z"}, {"ALPHA", "a"}};
  api.secrets["DB"] = {model::Secret::Kind::Ssm, "/shop/dev/db", ""};
  api.secrets["STRIPE"] = {model::Secret::Kind::SecretsManager, "shop/dev/stripe", "api_key"};
  api.secrets["WHOLE"] = {model::Secret::Kind::SecretsManager, "shop/dev/whole", ""};
  e.services.push_back(api);

  model::Service orders;
  orders.name = "orders";
  orders.image.kind = model::Image::Kind::External;
  orders.image.uri = "public.ecr.aws/acme/orders:1.2";
  orders.port = 9000;
  orders.expose.kind = model::Expose::Kind::Internal;
  orders.rollout.minHealthyPercent = 50;
  orders.rollout.maxPercent = 150;
  e.services.push_back(orders);

  model::Job report;
  report.name = "nightly_report";
  report.image.repository = "shop/worker";
  report.command = {"bin/report", "--yesterday"};
  e.jobs.push_back(report);

  m.environments.push_back(e);
  return m;
}

const backend::File* find(const backend::Output& o, const std::string& path) {
  for (const auto& f : o.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

json parse(const backend::Output& o, const std::string& path) {
  const backend::File* f = find(o, path);
  REQUIRE(f != nullptr);
  return json::parse(f->contents);
}

}  // namespace

TEST_CASE("ecs: one task definition per workload and one service definition per service", "[ecs]") {
  model::AppModel app = smallApp();
  backend::Output a = backend::ecs::generate(app);
  backend::Output b = backend::ecs::generate(app);
  REQUIRE(a.errors.empty());
  std::vector<std::string> paths;
  for (const auto& f : a.files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"dev/ecs/api.service.json", "dev/ecs/api.taskdef.json",
                                          "dev/ecs/nightly_report.taskdef.json", "dev/ecs/orders.service.json",
                                          "dev/ecs/orders.taskdef.json"});
  REQUIRE(a.files.size() == b.files.size());
  for (std::size_t i = 0; i < a.files.size(); ++i) {
    CHECK(a.files[i].contents == b.files[i].contents);
    CHECK(backend::isGenerated(a.files[i].contents));
    CHECK(a.files[i].contents.back() == '\n');
    CHECK(a.files[i].contents.find("\n  \"") != std::string::npos);  // two-space indent
  }

  backend::Options none;
  none.environments = {"prod"};
  CHECK(backend::ecs::generate(app, none).files.empty());
}

TEST_CASE("ecs: task definition fields", "[ecs]") {
  json d = parse(backend::ecs::generate(smallApp()), "dev/ecs/api.taskdef.json");
  CHECK(d["family"] == "shop-dev-api");
  CHECK(d["cpu"] == "512");
  CHECK(d["memory"] == "1024");
  CHECK(d["networkMode"] == "awsvpc");
  CHECK(d["requiresCompatibilities"] == json::array({"FARGATE"}));
  CHECK(d["executionRoleArn"] == "arn:aws:iam::222222222222:role/gops/shop/dev/tasks/shop-dev-api-execution");
  CHECK(d["taskRoleArn"] == "arn:aws:iam::222222222222:role/gops/shop/dev/tasks/shop-dev-api-task");
  CHECK(d["runtimePlatform"]["cpuArchitecture"] == "X86_64");
  // The key order is fixed: family first, then the tags with the marker.
  backend::Output out = backend::ecs::generate(smallApp());
  const backend::File* f = find(out, "dev/ecs/api.taskdef.json");
  REQUIRE(f != nullptr);
  const std::string& raw = f->contents;
  CHECK(raw.find("\"family\"") < raw.find("\"tags\""));
  CHECK(raw.find("\"tags\"") < raw.find("\"containerDefinitions\""));

  const json& c = d["containerDefinitions"][0];
  CHECK(c["name"] == "api");
  CHECK(c["essential"] == true);
  CHECK(c["memory"] == 1024);  // the container's own: all of the task's, as the only one
  CHECK(c["image"] == "111111111111.dkr.ecr.us-east-1.amazonaws.com/shop/api:{{image_tag}}");
  CHECK(c["portMappings"] == json::parse(R"([{"containerPort": 8080, "protocol": "tcp"}])"));
  CHECK(c["environment"] == json::parse(R"([{"name": "ALPHA", "value": "a"}, {"name": "ZED", "value": "z"}])"));
  CHECK(c["secrets"] == json::parse(R"([
    {"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:222222222222:parameter/shop/dev/db"},
    {"name": "STRIPE", "valueFrom": "arn:aws:secretsmanager:us-east-1:222222222222:secret:shop/dev/stripe:api_key::"},
    {"name": "WHOLE", "valueFrom": "arn:aws:secretsmanager:us-east-1:222222222222:secret:shop/dev/whole"}])"));
  CHECK(c["healthCheck"]["command"][0] == "CMD-SHELL");
  CHECK(c["healthCheck"]["command"][1] == healthCheckShell(8080, "/healthz"));
  CHECK(c["healthCheck"]["interval"] == 15);
  CHECK(c["healthCheck"]["timeout"] == 5);
  CHECK(c["healthCheck"]["retries"] == 4);
  CHECK(c["healthCheck"]["startPeriod"] == 45);
  CHECK(c["logConfiguration"]["options"]["awslogs-group"] == "/gops/shop/dev/api");
  CHECK(c["logConfiguration"]["options"]["awslogs-stream-prefix"] == "api");

  json tags = d["tags"];
  CHECK(tags[0] == json::parse(R"({"key": "app", "value": "shop"})"));
  CHECK(tags[1] == json::parse(R"({"key": "environment", "value": "dev"})"));
  CHECK(tags[2] == json::parse(R"({"key": "generated-by", "value": "Generated by gops from shop.gops"})"));
  CHECK(tags[3] == json::parse(R"({"key": "managed-by", "value": "gops"})"));
}

TEST_CASE("ecs: jobs and external images", "[ecs]") {
  backend::Output o = backend::ecs::generate(smallApp());
  json job = parse(o, "dev/ecs/nightly_report.taskdef.json");
  CHECK(job["family"] == "shop-dev-nightly-report");
  const json& c = job["containerDefinitions"][0];
  CHECK(c["command"] == json::array({"bin/report", "--yesterday"}));
  CHECK_FALSE(c.contains("portMappings"));
  CHECK_FALSE(c.contains("healthCheck"));
  CHECK_FALSE(c.contains("environment"));
  CHECK(c["logConfiguration"]["options"]["awslogs-group"] == "/gops/shop/dev/nightly_report");

  json orders = parse(o, "dev/ecs/orders.taskdef.json");
  CHECK(orders["containerDefinitions"][0]["image"] == "public.ecr.aws/acme/orders:1.2");
  CHECK_FALSE(orders["containerDefinitions"][0].contains("healthCheck"));  // no health block
}

TEST_CASE("ecs: service definitions match the Terraform service", "[ecs]") {
  backend::Output o = backend::ecs::generate(smallApp());
  json api = parse(o, "dev/ecs/api.service.json");
  CHECK(api["cluster"] == "shop-dev");
  CHECK(api["serviceName"] == "shop-dev-api");
  CHECK(api["taskDefinition"] == "shop-dev-api");
  CHECK(api["desiredCount"] == 3);
  CHECK(api["launchType"] == "FARGATE");
  CHECK(api["deploymentController"] == json::parse(R"({"type": "ECS"})"));
  CHECK(api["deploymentConfiguration"] == json::parse(R"({"deploymentCircuitBreaker": {"enable": true, "rollback": true},
                                                          "maximumPercent": 200, "minimumHealthyPercent": 100})"));
  CHECK(api["networkConfiguration"] == json::parse(R"({"awsvpcConfiguration": {
      "subnets": ["{{tf:private_subnet_ids[0]}}", "{{tf:private_subnet_ids[1]}}"],
      "securityGroups": ["{{tf:api_security_group_id}}", "{{tf:services_security_group_id}}"],
      "assignPublicIp": "DISABLED"}})"));
  CHECK(api["loadBalancers"] == json::parse(R"([{"targetGroupArn": "{{tf:api_target_group_arn}}",
                                                 "containerName": "api", "containerPort": 8080}])"));
  CHECK(api["healthCheckGracePeriodSeconds"] == 45);
  CHECK_FALSE(api.contains("serviceRegistries"));
  CHECK(api["enableExecuteCommand"] == false);
  CHECK(api["propagateTags"] == "SERVICE");
  CHECK(api["enableECSManagedTags"] == true);

  json orders = parse(o, "dev/ecs/orders.service.json");
  CHECK(orders["deploymentConfiguration"]["minimumHealthyPercent"] == 50);
  CHECK(orders["deploymentConfiguration"]["maximumPercent"] == 150);
  CHECK(orders["serviceRegistries"] == json::parse(R"([{"registryArn": "{{tf:orders_discovery_service_arn}}"}])"));
  CHECK_FALSE(orders.contains("loadBalancers"));
  CHECK_FALSE(orders.contains("healthCheckGracePeriodSeconds"));
}

TEST_CASE("ecs: a service that shifts traffic runs task sets under the EXTERNAL controller", "[ecs]") {
  model::AppModel app = smallApp();
  auto& r = app.environments[0].services[0].rollout;
  r.kind = model::Rollout::Kind::Canary;
  r.steps = {{10, 60}};
  backend::Output o = backend::ecs::generate(app);
  REQUIRE(o.errors.empty());
  CHECK(find(o, "dev/ecs/api.blue.taskset.json") != nullptr);
  CHECK(find(o, "dev/ecs/api.green.taskset.json") != nullptr);
  CHECK(find(o, "dev/ecs/orders.blue.taskset.json") == nullptr);

  // As the Terraform module's aws_ecs_service: no task definition, network, load
  // balancer or circuit breaker on the service; those belong to the task sets.
  json api = parse(o, "dev/ecs/api.service.json");
  CHECK(api["deploymentController"] == json::parse(R"({"type": "EXTERNAL"})"));
  CHECK(api["deploymentConfiguration"] == json::parse(R"({"maximumPercent": 200, "minimumHealthyPercent": 100})"));
  for (const char* key : {"taskDefinition", "launchType", "platformVersion", "networkConfiguration", "loadBalancers"}) {
    CHECK_FALSE(api.contains(key));
  }
  CHECK(api["healthCheckGracePeriodSeconds"] == 45);

  json green = parse(o, "dev/ecs/api.green.taskset.json");
  CHECK(green["service"] == "shop-dev-api");
  CHECK(green["cluster"] == "shop-dev");
  CHECK(green["taskDefinition"] == "shop-dev-api");
  CHECK(green["launchType"] == "FARGATE");
  CHECK(green["networkConfiguration"]["awsvpcConfiguration"]["subnets"][1] == "{{tf:private_subnet_ids[1]}}");
  CHECK(green["loadBalancers"] == json::parse(R"([{"targetGroupArn": "{{tf:api_target_group_green_arn}}",
                                                   "containerName": "api", "containerPort": 8080}])"));
  CHECK(green["scale"] == json::parse(R"({"unit": "PERCENT", "value": 100})"));
  json blue = parse(o, "dev/ecs/api.blue.taskset.json");
  CHECK(blue["loadBalancers"][0]["targetGroupArn"] == "{{tf:api_target_group_blue_arn}}");
}

TEST_CASE("ecs: health checks stay within ECS's limits", "[ecs]") {
  model::AppModel app = smallApp();
  auto& h = *app.environments[0].services[0].health;
  h.intervalSeconds = 600;
  h.timeoutSeconds = 0.5;
  h.unhealthyThreshold = 20;
  h.gracePeriodSeconds = 900;
  json hc = parse(backend::ecs::generate(app), "dev/ecs/api.taskdef.json")["containerDefinitions"][0]["healthCheck"];
  CHECK(hc["interval"] == 300);
  CHECK(hc["timeout"] == 2);
  CHECK(hc["retries"] == 10);
  CHECK(hc["startPeriod"] == 300);
  CHECK(healthCheckShell(8080, "/healthz") ==
        "curl -fsS -o /dev/null 'http://localhost:8080/healthz' || wget -q -O /dev/null 'http://localhost:8080/healthz' || exit 1");
  CHECK(healthCheckShell(80, "it's") ==
        "curl -fsS -o /dev/null 'http://localhost:80/it'\\''s' || wget -q -O /dev/null 'http://localhost:80/it'\\''s' || exit 1");
}

TEST_CASE("ecs: placeholders and tag values", "[ecs]") {
  CHECK(tfPlaceholder("vpc_id") == "{{tf:vpc_id}}");
  CHECK(tfPlaceholder("private_subnet_ids", 2) == "{{tf:private_subnet_ids[2]}}");
  CHECK(tagValue("Generated by gops from a/b c.gops") == "Generated by gops from a/b c.gops");
  CHECK(tagValue("x\"y'z#(é)") == "x_y_z_____");
  CHECK(tagValue(std::string(300, 'a')).size() == 256);
}

TEST_CASE("ecs: spec text that reads as a placeholder is an error", "[ecs]") {
  model::AppModel app = smallApp();
  app.environments[0].services[0].env["BAD"] = "{{image_tag}}";
  backend::Output o = backend::ecs::generate(app);
  CHECK(o.files.empty());
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].find("`api`") != std::string::npos);
  CHECK(o.errors[0].find("{{") != std::string::npos);
}
