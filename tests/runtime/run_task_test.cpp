// The runtime's pure parts of `before_deploy` and per-service image tags: RunTask's
// input, how DescribeTasks says a task ended, the log stream, and `--image-tag` values.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gops/deploy/deploy.h"
#include "gops/deploy/image_tags.h"
#include "gops/deploy/run_task.h"

using gops::deploy::DeployError;
using gops::deploy::ImageTags;
using nlohmann::json;
namespace deploy = gops::deploy;
namespace plan = gops::plan;

namespace {

plan::RunTask migrate() {
  plan::RunTask t;
  t.container = "api";
  t.command = {"bin/migrate", "--all"};
  t.placementFile = "ecs/api.service.json";
  t.logGroup = "/gops/shop/prod/api";
  t.logStreamPrefix = "api/api/";
  return t;
}

const json kPlacement = json::parse(R"({
  "cluster": "shop-prod", "serviceName": "shop-prod-api", "desiredCount": 2, "launchType": "FARGATE", "platformVersion": "LATEST",
  "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}},
  "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "api", "containerPort": 8080}]
})");

}  // namespace

TEST_CASE("RunTask's input: the new revision, the command, the service's placement", "[run_task]") {
  const json in = deploy::runTaskInput(migrate(), "shop-prod", "arn:td:7", kPlacement, "gops-1-2");
  CHECK(in["cluster"] == "shop-prod");
  CHECK(in["taskDefinition"] == "arn:td:7");
  CHECK(in["count"] == 1);
  CHECK(in["startedBy"] == "gops-1-2");
  CHECK(in["launchType"] == "FARGATE");
  CHECK(in["platformVersion"] == "LATEST");
  CHECK(in["networkConfiguration"] == kPlacement["networkConfiguration"]);
  CHECK(!in.contains("loadBalancers"));  // a one-off task is behind no load balancer
  CHECK(!in.contains("desiredCount"));
  CHECK(in["overrides"] == json::parse(R"({"containerOverrides": [{"name": "api", "command": ["bin/migrate", "--all"]}]})"));
  CHECK(in["propagateTags"] == "TASK_DEFINITION");

  plan::RunTask big = migrate();
  big.cpu = 1024;
  big.memory = 4096;
  big.containerCpu = 960;
  big.containerMemory = 3968;
  json spot = kPlacement;
  spot.erase("launchType");
  spot["capacityProviderStrategy"] = json::parse(R"([{"capacityProvider": "FARGATE_SPOT", "weight": 1}])");
  const json in2 = deploy::runTaskInput(big, "shop-prod", "arn:td:7", spot, "gops-1-2");
  CHECK(in2["overrides"]["cpu"] == "1024");
  CHECK(in2["overrides"]["memory"] == "4096");
  CHECK(in2["overrides"]["containerOverrides"][0]["cpu"] == 960);
  CHECK(in2["overrides"]["containerOverrides"][0]["memory"] == 3968);
  CHECK(in2["capacityProviderStrategy"] == spot["capacityProviderStrategy"]);
  CHECK(!in2.contains("launchType"));
}

TEST_CASE("how a task ended, from DescribeTasks", "[run_task]") {
  auto end = [](const char* task) { return deploy::taskEnd(json::parse(task), "api"); };
  const auto ok = end(R"({"lastStatus": "STOPPED", "stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                          "containers": [{"name": "envoy", "exitCode": 137}, {"name": "api", "exitCode": 0}]})");
  CHECK(ok.succeeded());
  CHECK(ok.describe() == "exited with code 0");

  const auto failed = end(R"({"lastStatus": "STOPPED", "stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                              "containers": [{"name": "api", "exitCode": 3}]})");
  CHECK_FALSE(failed.succeeded());
  CHECK(failed.exitCode == 3);
  CHECK(failed.describe() == "exited with code 3 (Essential container in task exited)");

  const auto oom = end(R"({"lastStatus": "STOPPED", "stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                           "containers": [{"name": "api", "exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"}]})");
  CHECK(oom.describe() == "exited with code 137 (Essential container in task exited; OutOfMemoryError: Container killed due to memory usage)");

  const auto pull = end(R"j({"lastStatus": "STOPPED", "stopCode": "TaskFailedToStart",
                             "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
                             "containers": [{"name": "api", "reason": "CannotPullContainerError: ref not found"}]})j");
  CHECK_FALSE(pull.succeeded());
  CHECK(!pull.exitCode);
  CHECK(pull.describe() == "stopped without an exit code (TaskFailedToStart: CannotPullContainerError: pull image manifest has been "
                           "retried 5 time(s); CannotPullContainerError: ref not found)");

  const auto running = end(R"({"lastStatus": "RUNNING", "containers": [{"name": "api", "exitCode": 0}]})");
  CHECK_FALSE(running.stopped);
  CHECK_FALSE(running.succeeded());  // an exit code before the task stopped means nothing
  CHECK(!running.exitCode);

  const auto spot = end(R"({"lastStatus": "STOPPED", "stopCode": "SpotInterruption", "stoppedReason": "Your Spot Task was interrupted.",
                            "containers": [{"name": "api", "exitCode": 143}]})");
  CHECK(spot.describe() == "exited with code 143 (Your Spot Task was interrupted.)");
}

TEST_CASE("the log stream and the command as a shell reads it", "[run_task]") {
  CHECK(deploy::logStream(migrate(), "arn:aws:ecs:us-east-1:1:task/shop-prod/0f1e2d") == "api/api/0f1e2d");
  plan::RunTask routed = migrate();
  routed.logGroup.reset();
  routed.logStreamPrefix.reset();
  CHECK(deploy::logStream(routed, "arn:aws:ecs:us-east-1:1:task/shop-prod/0f1e2d").empty());
  CHECK(deploy::commandText({"bin/migrate", "--all"}) == "bin/migrate --all");
  CHECK(deploy::commandText({"sh", "-c", "exit 3"}) == "sh -c 'exit 3'");
  CHECK(deploy::commandText({"echo", "it's"}) == "echo 'it'\\''s'");
  CHECK(deploy::commandText({"a", ""}) == "a ''");
}

TEST_CASE("--image-tag: a tag for all, tags of their own, and what only names some", "[image-tags]") {
  const ImageTags all = ImageTags::parse({"v1"});
  CHECK(all.of("api") == "v1");
  CHECK_FALSE(all.scoped());
  CHECK(all.text() == "v1");
  CHECK(all == ImageTags("v1"));

  const ImageTags mixed = ImageTags::parse({"api=v2", "v1", "worker=v3,web=v1"});
  CHECK(mixed.of("api") == "v2");
  CHECK(mixed.of("orders") == "v1");
  CHECK(mixed.of("web") == "v1");
  CHECK(mixed.text() == "v1,api=v2,worker=v3");  // web's own tag is the tag for all
  CHECK(mixed.distinct() == std::vector<std::string>{"v1", "v2", "v3"});
  CHECK(ImageTags::fromText(mixed.text()) == mixed);

  const ImageTags scoped = ImageTags::parse({"api=v2"});
  CHECK(scoped.scoped());
  CHECK(scoped.of("api") == "v2");
  CHECK(!scoped.of("worker"));
  CHECK(scoped.text() == "api=v2");

  auto refused = [](std::vector<std::string> v) {
    try {
      ImageTags::parse(v);
    } catch (const DeployError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused({"v1", "v2"}) == "two image tags for every service: `v1` and `v2`; give one, and `NAME=TAG` for the others");
  CHECK(refused({"api=v1", "api=v2"}) == "two image tags for `api`: `v1` and `v2`");
  CHECK(refused({"Api=v1"}) == "`Api=v1`: `Api` is not the name of a service or job (lower-case letters, digits and `_`)");
  CHECK(refused({"api=a/b"}) == "`a/b` is not an image tag (letters, digits, `_`, `.`, `-`; at most 128), in `api=a/b`");
  CHECK(refused({"-v1"}) == "`-v1` is not an image tag (letters, digits, `_`, `.`, `-`; at most 128)");
  CHECK(refused({"v1,"}) == "`` is not an image tag (letters, digits, `_`, `.`, `-`; at most 128)");
  CHECK(refused({}) == "no image tag given");
  CHECK(!ImageTags::fromText("v1 v2"));
  CHECK(deploy::validImageTag(std::string(128, 'a')));
  CHECK_FALSE(deploy::validImageTag(std::string(129, 'a')));
}
