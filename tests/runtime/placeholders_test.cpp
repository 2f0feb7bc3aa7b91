// Filling the after-apply placeholders of the ECS JSON (docs/ecs.md) and reading a plan.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gops/deploy/deploy.h"

using gops::deploy::DeployError;
using gops::deploy::fillPlaceholders;
using gops::deploy::makeBundle;
using nlohmann::json;

namespace {

const json kOutputs = json::parse(R"({
  "web_target_group_blue_arn": {"sensitive": false, "type": "string", "value": "arn:tg/blue"},
  "private_subnet_ids": {"sensitive": false, "type": ["list", "string"], "value": ["subnet-a", "subnet-b"]}
})");

}  // namespace

TEST_CASE("placeholders are filled inside string values", "[deploy]") {
  json doc = json::parse(R"({
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:{{image_tag}}",
    "subnets": ["{{tf:private_subnet_ids[0]}}", "{{tf:private_subnet_ids[1]}}"],
    "lb": [{"targetGroupArn": "{{tf:web_target_group_blue_arn}}", "containerPort": 8080}],
    "text": "a {{tf:web_target_group_blue_arn}} b {{image_tag}}",
    "other": "{{not a placeholder}}"
  })");
  json r = fillPlaceholders(doc, kOutputs, "v1.2");
  CHECK(r["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1.2");
  CHECK(r["subnets"] == json::array({"subnet-a", "subnet-b"}));
  CHECK(r["lb"][0]["targetGroupArn"] == "arn:tg/blue");
  CHECK(r["lb"][0]["containerPort"] == 8080);
  CHECK(r["text"] == "a arn:tg/blue b v1.2");
  CHECK(r["other"] == "{{not a placeholder}}");
}

TEST_CASE("a placeholder that cannot be filled is an error", "[deploy]") {
  CHECK_THROWS_AS(fillPlaceholders(json("{{tf:missing}}"), kOutputs, "t"), DeployError);
  CHECK_THROWS_AS(fillPlaceholders(json("{{tf:private_subnet_ids[2]}}"), kOutputs, "t"), DeployError);
  CHECK_THROWS_AS(fillPlaceholders(json("{{tf:private_subnet_ids}}"), kOutputs, "t"), DeployError);
  CHECK_THROWS_AS(fillPlaceholders(json("{{tf:web_target_group_blue_arn[0]}}"), kOutputs, "t"), DeployError);
  try {
    fillPlaceholders(json("{{tf:missing}}"), kOutputs, "t");
  } catch (const DeployError& e) {
    CHECK(std::string(e.what()).find("`missing`") != std::string::npos);
  }
}

TEST_CASE("a plan of another version is refused", "[deploy]") {
  CHECK_THROWS_AS(makeBundle({{"plan.json", R"({"plan_version": 2})"}}), DeployError);
  CHECK_THROWS_AS(makeBundle({}), DeployError);
  CHECK_THROWS_AS(makeBundle({{"plan.json", "{"}}), DeployError);
  auto b = makeBundle({{"plan.json", R"({"plan_version": 1, "app": "a", "environment": "e", "account": "123456789012",
                                         "region": "us-east-1", "cluster": "a-e", "ledger": "/gops/a/e", "lock": "/gops/a/e/lock"})"}});
  CHECK(b.plan["cluster"] == "a-e");
}
