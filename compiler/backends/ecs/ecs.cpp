// The ECS backend: RegisterTaskDefinition, CreateService and CreateTaskSet inputs per
// environment (docs/ecs.md). Keys are streamed in the fixed order of docs/ecs.md
// with the JsonWriter, no DOM; everything comes from the environment's deployment
// facts, so the documents refer to exactly what the Terraform module creates.
#include "backends/ecs/ecs.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "deploy_facts/env_facts.h"
#include "deploy_facts/outputs.h"
#include "support/json_writer.h"

namespace gops::backend::ecs {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace {

using facts::ServiceFacts;
using facts::WorkloadFacts;
namespace out = facts::output;

constexpr std::size_t kTagValueMax = 256;

int rounded(double v) { return static_cast<int>(std::lround(v)); }

class EnvWriter {
 public:
  EnvWriter(const facts::EnvFacts& f, const std::string& spec, Output& out)
      : f_(f), env_(f.env), n_(f.names), spec_(spec), out_(out) {}

  void write() {
    for (const auto& s : f_.services) {
      emit(s.taskDefinitionFile, [&](JsonWriter& j) { taskDefinition(j, s); });
      emit(s.serviceFile, [&](JsonWriter& j) { service(j, s); });
      if (s.runsOnTaskSets) {
        for (const auto& tg : s.targetGroups) emit(tg.taskSetFile, [&](JsonWriter& j) { taskSet(j, s, tg); });
      }
    }
    for (const auto& job : f_.jobs) {
      emit(job.taskDefinitionFile, [&](JsonWriter& j) { taskDefinition(j, job); });
    }
  }

 private:
  /// One document at `<env>/<file>`: `fill` writes the members of its top-level object.
  template <class Fill>
  void emit(const std::string& file, Fill&& fill) {
    std::string text;
    text.reserve(4096);
    JsonWriter j(text);
    j.beginObject();
    fill(j);
    j.endObject();
    text += '\n';
    out_.files.push_back({fmt::format("{}/{}"_cf, env_.name, file), std::move(text)});
  }

  /// Text copied from the spec; `{{` would read as a placeholder, so it is refused.
  const std::string& copied(const WorkloadFacts& w, std::string_view what, const std::string& text) {
    if (text.find("{{") != std::string::npos) {
      out_.errors.push_back(fmt::format("environment `{}`: {} of `{}` contains `{{{{`, which ECS definitions reserve "
                                        "for placeholders ({{{{tf:...}}}}, {{{{image_tag}}}}); remove it",
                                        env_.name, what, w.name));
    }
    return text;
  }

  /// app, environment, generated-by, managed-by: sorted by key. generated-by carries
  /// the generated-file marker, since the ECS API input admits no comment field.
  void tags(JsonWriter& j) const {
    j.key("tags").beginArray();
    auto tag = [&](std::string_view key, const std::string& value) {
      j.beginObject().member("key", key).member("value", value).endObject();
    };
    const std::string generatedBy = tagValue(fmt::format("{} from {}"_cf, kGeneratedMarker, spec_));
    bool marked = false;
    for (const auto& [key, value] : f_.tags) {
      if (!marked && key > "generated-by") {
        tag("generated-by", generatedBy);
        marked = true;
      }
      tag(key, value);
    }
    if (!marked) tag("generated-by", generatedBy);
    j.endArray();
  }

  std::string image(const WorkloadFacts& w, const facts::ImageRef& image) {
    if (image.kind == model::Image::Kind::External) return copied(w, "the image", image.uri);
    copied(w, "the image", image.repository);
    return image.reference(kImageTagPlaceholder);
  }

  void taskDefinition(JsonWriter& j, const WorkloadFacts& w) {
    const facts::TaskDefinition& t = w.task;
    j.member("family", t.family);
    tags(j);
    j.member("taskRoleArn", t.taskRoleArn);
    j.member("executionRoleArn", t.executionRoleArn);
    j.member("networkMode", t.networkMode);
    j.key("requiresCompatibilities").beginArray();
    for (const auto& c : t.requiresCompatibilities) j.value(c);
    j.endArray();
    j.member("cpu", std::to_string(t.cpu));
    j.member("memory", std::to_string(t.memory));
    j.key("runtimePlatform").beginObject();
    j.member("cpuArchitecture", t.runtimePlatform.cpuArchitecture);
    j.member("operatingSystemFamily", t.runtimePlatform.operatingSystemFamily);
    j.endObject();
    if (t.ephemeralStorageGiB) j.key("ephemeralStorage").beginObject().member("sizeInGiB", *t.ephemeralStorageGiB).endObject();
    j.key("containerDefinitions").beginArray();
    for (const auto& c : t.containers) container(j, w, c);
    j.endArray();
    if (!t.volumes.empty()) {
      j.key("volumes").beginArray();
      for (const auto& v : t.volumes) {
        j.beginObject().member("name", v.name);
        j.key("efsVolumeConfiguration").beginObject();
        j.member("fileSystemId", copied(w, "a file system id", v.fileSystemId));
        j.member("transitEncryption", "ENABLED");
        j.key("authorizationConfig").beginObject();
        if (!v.accessPointId.empty()) j.member("accessPointId", copied(w, "an access point id", v.accessPointId));
        j.member("iam", "ENABLED");
        j.endObject().endObject().endObject();
      }
      j.endArray();
    }
  }

  void container(JsonWriter& j, const WorkloadFacts& w, const facts::Container& c) {
    j.beginObject();
    j.member("name", c.name);
    j.member("image", image(w, c.image));
    j.member("essential", c.essential);
    if (c.cpu) j.member("cpu", *c.cpu);
    j.member("memory", c.memory);
    if (!c.command.empty()) {
      j.key("command").beginArray();
      for (const auto& a : c.command) j.value(copied(w, "the command", a));
      j.endArray();
    }
    if (!c.portMappings.empty()) {
      j.key("portMappings").beginArray();
      for (const auto& p : c.portMappings) {
        j.beginObject().member("containerPort", p.containerPort).member("protocol", p.protocol).endObject();
      }
      j.endArray();
    }
    if (!c.environment.empty()) {
      j.key("environment").beginArray();  // sorted by name
      for (const auto& v : c.environment) {
        j.beginObject().member("name", v.name).member("value", copied(w, "an environment value", v.value)).endObject();
      }
      j.endArray();
    }
    if (!c.secrets.empty()) {
      j.key("secrets").beginArray();
      for (const auto& s : c.secrets) {
        j.beginObject().member("name", s.name).member("valueFrom", copied(w, "a secret", s.valueFrom)).endObject();
      }
      j.endArray();
    }
    if (c.healthCheck) {
      const facts::ContainerHealthCheck& h = *c.healthCheck;
      j.key("healthCheck").beginObject();
      j.key("command").beginArray();
      for (const auto& part : h.command) j.value(copied(w, "the health path", part));
      j.endArray();
      j.member("interval", h.interval);
      j.member("timeout", h.timeout);
      j.member("retries", h.retries);
      j.member("startPeriod", h.startPeriod);
      j.endObject();
    }
    if (!c.mountPoints.empty()) {
      j.key("mountPoints").beginArray();
      for (const auto& m : c.mountPoints) {
        j.beginObject().member("sourceVolume", m.sourceVolume).member("containerPath", copied(w, "a mount path", m.containerPath));
        j.member("readOnly", m.readOnly).endObject();
      }
      j.endArray();
    }
    if (!c.dependsOn.empty()) {
      j.key("dependsOn").beginArray();
      for (const auto& d : c.dependsOn) j.beginObject().member("containerName", d.containerName).member("condition", d.condition).endObject();
      j.endArray();
    }
    if (!c.firelensType.empty()) j.key("firelensConfiguration").beginObject().member("type", c.firelensType).endObject();
    j.key("logConfiguration").beginObject().member("logDriver", c.logs.driver);
    j.key("options").beginObject();
    if (c.logs.awslogs()) {
      j.member("awslogs-group", c.logs.group);
      j.member("awslogs-region", c.logs.region);
      j.member("awslogs-stream-prefix", c.logs.streamPrefix);
    } else {
      for (const auto& [k, v] : c.logs.firelensOptions) j.member(k, copied(w, "a log option", v));
    }
    j.endObject().endObject();
    j.endObject();
  }

  /// Where tasks run: the private subnets (one placeholder per zone), the
  /// workload's own security group and the one every task carries.
  void networkConfiguration(JsonWriter& j, const ServiceFacts& s) const {
    j.key("networkConfiguration").beginObject().key("awsvpcConfiguration").beginObject();
    j.key("subnets").beginArray();
    for (int i = 0; i < f_.network.privateSubnets.count; ++i) j.value(facts::tfPlaceholder(out::privateSubnetIds(), i));
    j.endArray();
    j.key("securityGroups").beginArray();
    j.value(facts::tfPlaceholder(out::securityGroupId(s.name)))
        .value(facts::tfPlaceholder(out::servicesSecurityGroupId()));
    j.endArray();
    j.member("assignPublicIp", "DISABLED");
    j.endObject().endObject();
  }

  /// Where the tasks run: the FARGATE launch type, or on Fargate Spot the capacity
  /// provider strategy (ECS takes one or the other); then the platform version.
  static void placement(JsonWriter& j, const WorkloadFacts& w) {
    if (w.capacityStrategy.empty()) {
      j.member("launchType", w.launchType);
    } else {
      j.key("capacityProviderStrategy").beginArray();
      for (const facts::CapacityProviderShare& share : w.capacityStrategy) {
        j.beginObject().member("capacityProvider", share.provider).member("weight", share.weight);
        j.member("base", share.base).endObject();
      }
      j.endArray();
    }
    j.member("platformVersion", "LATEST");
  }

  void loadBalancers(JsonWriter& j, const ServiceFacts& s, const std::string& targetGroupOutput) const {
    j.key("loadBalancers").beginArray().beginObject();
    j.member("targetGroupArn", facts::tfPlaceholder(targetGroupOutput));
    j.member("containerName", s.container().name);
    j.member("containerPort", s.container().portMappings.front().containerPort);
    if (s.runsNatively) {
      // ECS's own strategy: green is the alternate group, the first listener rule the
      // production rule ECS moves, with the environment's ECS infrastructure role.
      j.key("advancedConfiguration").beginObject();
      j.member("alternateTargetGroupArn", facts::tfPlaceholder(s.targetGroups.at(1).arnOutput));
      j.member("productionListenerRule", facts::tfPlaceholder(s.listenerRules.at(0).arnOutput));
      j.member("roleArn", n_.ecsInfrastructureRoleArn());
      j.endObject();
    }
    j.endObject().endArray();
  }

  /// The native strategy's part of `deploymentConfiguration` (docs/ecs.md).
  static void nativeConfiguration(JsonWriter& j, const facts::NativeStrategy& n) {
    if (!n.alarmNames.empty()) {
      j.key("alarms").beginObject().key("alarmNames").beginArray();
      for (const auto& a : n.alarmNames) j.value(a);
      j.endArray().member("rollback", true).member("enable", true).endObject();
    }
    j.member("strategy", n.strategy);
    j.member("bakeTimeInMinutes", n.bakeTimeMinutes);
    if (n.strategy == "CANARY") {
      j.key("canaryConfiguration").beginObject();
      j.member("canaryPercent", n.canaryPercent).member("canaryBakeTimeInMinutes", n.canaryBakeTimeMinutes).endObject();
    }
    if (n.strategy == "LINEAR") {
      j.key("linearConfiguration").beginObject();
      j.member("stepPercent", n.linearStepPercent).member("stepBakeTimeInMinutes", n.linearStepBakeTimeMinutes).endObject();
    }
  }

  void service(JsonWriter& j, const ServiceFacts& s) {
    const bool taskSets = s.runsOnTaskSets;
    const facts::Deployment& d = s.deployment;
    j.member("cluster", n_.cluster());
    j.member("serviceName", s.family);
    tags(j);
    // As the Terraform module: with the EXTERNAL controller the task definition,
    // launch type, network and load balancer belong to the task sets.
    if (!taskSets) j.member("taskDefinition", s.task.family);  // the family: its latest ACTIVE revision
    j.member("desiredCount", s.service->replicas);
    if (!taskSets) placement(j, s);
    j.key("deploymentController").beginObject().member("type", d.controller).endObject();
    j.key("deploymentConfiguration").beginObject();
    if (d.circuitBreaker) {
      j.key("deploymentCircuitBreaker").beginObject().member("enable", true).member("rollback", true).endObject();
    }
    j.member("maximumPercent", rounded(d.maximumPercent));
    j.member("minimumHealthyPercent", rounded(d.minimumHealthyPercent));
    if (d.native) nativeConfiguration(j, *d.native);
    j.endObject();
    if (!taskSets) networkConfiguration(j, s);
    if (s.isPublic() && !taskSets) loadBalancers(j, s, out::targetGroupArn(s.name));
    if (s.healthCheckGracePeriod) j.member("healthCheckGracePeriodSeconds", rounded(*s.healthCheckGracePeriod));
    if (s.isInternal()) {
      j.key("serviceRegistries").beginArray().beginObject();
      j.member("registryArn", facts::tfPlaceholder(out::discoveryServiceArn(s.name)));
      j.endObject().endArray();
    }
    j.member("enableECSManagedTags", true);
    j.member("propagateTags", "SERVICE");
    j.member("enableExecuteCommand", false);
  }

  /// CreateTaskSet input: the service's tasks behind one colour's target group.
  void taskSet(JsonWriter& j, const ServiceFacts& s, const facts::TargetGroup& tg) {
    j.member("service", s.family);
    j.member("cluster", n_.cluster());
    tags(j);
    j.member("taskDefinition", s.task.family);
    placement(j, s);
    networkConfiguration(j, s);
    loadBalancers(j, s, tg.arnOutput);
    j.key("scale").beginObject().member("unit", "PERCENT").member("value", 100).endObject();
  }

  const facts::EnvFacts& f_;
  const model::Environment& env_;
  const facts::EnvNames& n_;
  const std::string& spec_;
  Output& out_;
};

}  // namespace

std::string tagValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view(" _.:/=+-@").find(c) != std::string_view::npos;
    out += ok ? c : '_';
    if (out.size() == kTagValueMax) break;
  }
  return out;
}

Output generate(const model::AppModel& app, const Options& o) {
  Output out;
  const std::string spec = o.specLabel.empty() ? app.app.sourceFile : o.specLabel;
  for (const auto& env : app.environments) {
    if (!o.selected(env.name)) continue;
    std::optional<facts::EnvFacts> own;
    EnvWriter(o.facts ? o.facts->environment(env.name) : own.emplace(app, env), spec, out).write();
  }
  if (!out.errors.empty()) out.files.clear();
  std::sort(out.files.begin(), out.files.end(), [](const File& a, const File& b) { return a.path < b.path; });
  return out;
}

}  // namespace gops::backend::ecs
