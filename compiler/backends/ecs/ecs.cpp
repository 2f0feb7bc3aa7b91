// The ECS backend: RegisterTaskDefinition, CreateService and CreateTaskSet inputs per
// environment (docs/ecs.md). Keys are streamed in the fixed order of docs/ecs.md
// with the JsonWriter, no DOM; every name comes from the Terraform backend's
// naming so the documents refer to exactly what Terraform creates.
#include "backends/ecs/ecs.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/naming.h"
#include "support/json_writer.h"

namespace gops::backend::ecs {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace {

using model::Job;
using model::Service;
using model::Workload;
using terraform::EnvNames;

/// The same predicates as the Terraform environment module: a service is behind
/// the ALB or in Cloud Map only when it also listens on a port.
bool isPublic(const Service& s) { return s.expose.kind == model::Expose::Kind::Public && s.port.has_value(); }
bool isInternal(const Service& s) { return s.expose.kind == model::Expose::Kind::Internal && s.port.has_value(); }
/// A public service whose rollout shifts traffic: the Terraform module gives it the
/// EXTERNAL deployment controller, and each deploy runs its version as a task set
/// behind the blue or the green target group.
bool usesTaskSets(const Service& s) { return isPublic(s) && s.rollout.shiftsTraffic(); }

/// ECS's limits on container health checks.
constexpr int kIntervalMin = 5, kIntervalMax = 300;
constexpr int kTimeoutMin = 2, kTimeoutMax = 60;
constexpr int kRetriesMin = 1, kRetriesMax = 10;
constexpr int kStartPeriodMin = 0, kStartPeriodMax = 300;
constexpr std::size_t kTagValueMax = 256;

int clampSeconds(double seconds, int lo, int hi) {
  return std::clamp(static_cast<int>(std::lround(seconds)), lo, hi);
}

std::string dnsSuffix(const std::string& partition) { return partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"; }

std::string shellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

class EnvWriter {
 public:
  EnvWriter(const model::AppModel& app, const model::Environment& env, const std::string& spec, Output& out)
      : app_(app), env_(env), n_(app.app, env), spec_(spec), out_(out) {}

  void write() {
    for (const auto& s : env_.services) {
      emit(fmt::format("{}/ecs/{}.taskdef.json"_cf, env_.name, s.name),
           [&](JsonWriter& j) { taskDefinition(j, s, s.port, s.port ? s.health : std::nullopt); });
      emit(fmt::format("{}/ecs/{}.service.json"_cf, env_.name, s.name), [&](JsonWriter& j) { service(j, s); });
      if (usesTaskSets(s)) {
        for (const char* color : {"blue", "green"}) {
          emit(fmt::format("{}/ecs/{}.{}.taskset.json"_cf, env_.name, s.name, color),
               [&](JsonWriter& j) { taskSet(j, s, color); });
        }
      }
    }
    for (const auto& job : env_.jobs) {
      emit(fmt::format("{}/ecs/{}.taskdef.json"_cf, env_.name, job.name),
           [&](JsonWriter& j) { taskDefinition(j, job, std::nullopt, std::nullopt); });
    }
  }

 private:
  /// One document: `fill` writes the members of its top-level object.
  template <class Fill>
  void emit(std::string path, Fill&& fill) {
    std::string text;
    text.reserve(4096);
    JsonWriter j(text);
    j.beginObject();
    fill(j);
    j.endObject();
    text += '\n';
    out_.files.push_back({std::move(path), std::move(text)});
  }

  /// Text copied from the spec; `{{` would read as a placeholder, so it is refused.
  std::string copied(const Workload& w, std::string_view what, const std::string& text) {
    if (text.find("{{") != std::string::npos) {
      out_.errors.push_back(fmt::format("environment `{}`: {} of `{}` contains `{{{{`, which ECS definitions reserve for "
                                        "placeholders ({{{{tf:...}}}}, {{{{image_tag}}}}); remove it",
                                        env_.name, what, w.name));
    }
    return text;
  }

  /// app, environment, generated-by, managed-by: sorted by key. generated-by carries
  /// the generated-file marker, since the ECS API input admits no comment field.
  void tags(JsonWriter& j) const {
    j.key("tags").beginArray();
    auto tag = [&](const char* key, const std::string& value) {
      j.beginObject().member("key", key).member("value", value).endObject();
    };
    tag("app", app_.app.name);
    tag("environment", env_.name);
    tag("generated-by", tagValue(fmt::format("{} from {}"_cf, kGeneratedMarker, spec_)));
    tag("managed-by", "gops");
    j.endArray();
  }

  std::string ssmArn(const std::string& name) const {
    if (name.rfind("arn:", 0) == 0) return name;
    return n_.arn("ssm", fmt::format("parameter/{}"_cf, !name.empty() && name.front() == '/' ? name.substr(1) : name));
  }
  std::string secretArn(const std::string& id) const {
    if (id.rfind("arn:", 0) == 0) return id;
    return n_.arn("secretsmanager", fmt::format("secret:{}"_cf, id));
  }

  std::string image(const Workload& w) {
    if (w.image.kind == model::Image::Kind::External) return copied(w, "the image", w.image.uri);
    return fmt::format("{}.dkr.ecr.{}.{}/{}:{}"_cf, app_.app.registry, app_.app.region, dnsSuffix(n_.partition()),
                       copied(w, "the image", w.image.repository), kImageTagPlaceholder);
  }

  void taskDefinition(JsonWriter& j, const Workload& w, std::optional<int> port, const std::optional<model::Health>& health) {
    j.member("family", n_.workload(w.name));
    tags(j);
    j.member("taskRoleArn", n_.roleArn(n_.taskRolePath(), n_.role(w.name, "task")));
    j.member("executionRoleArn", n_.roleArn(n_.taskRolePath(), n_.role(w.name, "execution")));
    j.member("networkMode", "awsvpc");
    j.key("requiresCompatibilities").beginArray().value("FARGATE").endArray();
    j.member("cpu", std::to_string(w.cpu));
    j.member("memory", std::to_string(w.memory));
    j.key("runtimePlatform").beginObject().member("cpuArchitecture", "X86_64").member("operatingSystemFamily", "LINUX").endObject();
    j.key("containerDefinitions").beginArray().beginObject();
    j.member("name", w.name);
    j.member("image", image(w));
    j.member("essential", true);
    if (!w.command.empty()) {
      j.key("command").beginArray();
      for (const auto& a : w.command) j.value(copied(w, "the command", a));
      j.endArray();
    }
    if (port) {
      j.key("portMappings").beginArray().beginObject().member("containerPort", *port).member("protocol", "tcp").endObject().endArray();
    }
    if (!w.env.empty()) {
      j.key("environment").beginArray();  // std::map: sorted by name
      for (const auto& [k, v] : w.env) {
        j.beginObject().member("name", k).member("value", copied(w, "an environment value", v)).endObject();
      }
      j.endArray();
    }
    if (!w.secrets.empty()) {
      j.key("secrets").beginArray();
      for (const auto& [k, s] : w.secrets) {
        std::string from = s.kind == model::Secret::Kind::Ssm
                               ? ssmArn(s.name)
                               : secretArn(s.name) + (s.key.empty() ? "" : fmt::format(":{}::"_cf, s.key));
        j.beginObject().member("name", k).member("valueFrom", copied(w, "a secret", from)).endObject();
      }
      j.endArray();
    }
    if (port && health) {
      j.key("healthCheck").beginObject();
      j.key("command").beginArray().value("CMD-SHELL").value(healthCheckShell(*port, copied(w, "the health path", health->path))).endArray();
      j.member("interval", clampSeconds(health->intervalSeconds, kIntervalMin, kIntervalMax));
      j.member("timeout", clampSeconds(health->timeoutSeconds, kTimeoutMin, kTimeoutMax));
      j.member("retries", std::clamp(health->unhealthyThreshold, kRetriesMin, kRetriesMax));
      j.member("startPeriod", clampSeconds(health->gracePeriodSeconds, kStartPeriodMin, kStartPeriodMax));
      j.endObject();
    }
    j.key("logConfiguration").beginObject().member("logDriver", "awslogs");
    j.key("options").beginObject();
    j.member("awslogs-group", n_.logGroup(w.name));
    j.member("awslogs-region", env_.region);
    j.member("awslogs-stream-prefix", w.name);
    j.endObject().endObject();
    j.endObject().endArray();
  }

  /// Where tasks run: the private subnets (one placeholder per zone), the
  /// workload's own security group and the one every task carries.
  void networkConfiguration(JsonWriter& j, const Service& s) const {
    j.key("networkConfiguration").beginObject().key("awsvpcConfiguration").beginObject();
    j.key("subnets").beginArray();
    for (int i = 0; i < env_.network.zones; ++i) j.value(tfPlaceholder("private_subnet_ids", i));
    j.endArray();
    j.key("securityGroups").beginArray();
    j.value(tfPlaceholder(s.name + "_security_group_id")).value(tfPlaceholder("services_security_group_id"));
    j.endArray();
    j.member("assignPublicIp", "DISABLED");
    j.endObject().endObject();
  }

  void loadBalancers(JsonWriter& j, const Service& s, const std::string& targetGroupOutput) const {
    j.key("loadBalancers").beginArray().beginObject();
    j.member("targetGroupArn", tfPlaceholder(targetGroupOutput)).member("containerName", s.name).member("containerPort", *s.port);
    j.endObject().endArray();
  }

  void service(JsonWriter& j, const Service& s) {
    const bool rolling = s.rollout.kind == model::Rollout::Kind::Rolling;
    const bool taskSets = usesTaskSets(s);
    j.member("cluster", n_.cluster());
    j.member("serviceName", n_.workload(s.name));
    tags(j);
    // As the Terraform module: with the EXTERNAL controller the task definition,
    // launch type, network and load balancer belong to the task sets.
    if (!taskSets) j.member("taskDefinition", n_.workload(s.name));  // the family: its latest ACTIVE revision
    j.member("desiredCount", s.replicas);
    if (!taskSets) {
      j.member("launchType", "FARGATE");
      j.member("platformVersion", "LATEST");
    }
    j.key("deploymentController").beginObject().member("type", taskSets ? "EXTERNAL" : "ECS").endObject();
    j.key("deploymentConfiguration").beginObject();
    if (!taskSets) j.key("deploymentCircuitBreaker").beginObject().member("enable", true).member("rollback", true).endObject();
    j.member("maximumPercent", static_cast<int>(std::lround(rolling ? s.rollout.maxPercent : 200)));
    j.member("minimumHealthyPercent", static_cast<int>(std::lround(rolling ? s.rollout.minHealthyPercent : 100)));
    j.endObject();
    if (!taskSets) networkConfiguration(j, s);
    if (isPublic(s) && !taskSets) loadBalancers(j, s, s.name + "_target_group_arn");
    if (isPublic(s)) {
      j.member("healthCheckGracePeriodSeconds", static_cast<int>(std::lround(s.health.value_or(model::Health{}).gracePeriodSeconds)));
    }
    if (isInternal(s)) {
      j.key("serviceRegistries").beginArray().beginObject();
      j.member("registryArn", tfPlaceholder(s.name + "_discovery_service_arn"));
      j.endObject().endArray();
    }
    j.member("enableECSManagedTags", true);
    j.member("propagateTags", "SERVICE");
    j.member("enableExecuteCommand", false);
  }

  /// CreateTaskSet input: the service's tasks behind one colour's target group.
  void taskSet(JsonWriter& j, const Service& s, const char* color) {
    j.member("service", n_.workload(s.name));
    j.member("cluster", n_.cluster());
    tags(j);
    j.member("taskDefinition", n_.workload(s.name));
    j.member("launchType", "FARGATE");
    j.member("platformVersion", "LATEST");
    networkConfiguration(j, s);
    loadBalancers(j, s, fmt::format("{}_target_group_{}_arn"_cf, s.name, color));
    j.key("scale").beginObject().member("unit", "PERCENT").member("value", 100).endObject();
  }

  const model::AppModel& app_;
  const model::Environment& env_;
  EnvNames n_;
  const std::string& spec_;
  Output& out_;
};

}  // namespace

std::string tfPlaceholder(std::string_view output, int index) {
  return index < 0 ? fmt::format("{{{{tf:{}}}}}"_cf, output) : fmt::format("{{{{tf:{}[{}]}}}}"_cf, output, index);
}

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

std::string healthCheckShell(int port, std::string_view path) {
  std::string url = shellQuote(
      fmt::format("http://localhost:{}{}{}"_cf, port, !path.empty() && path.front() == '/' ? "" : "/", path));
  return fmt::format("curl -fsS -o /dev/null {0} || wget -q -O /dev/null {0} || exit 1"_cf, url);
}

Output generate(const model::AppModel& app, const Options& o) {
  Output out;
  const std::string spec = o.specLabel.empty() ? app.app.sourceFile : o.specLabel;
  for (const auto& env : app.environments) {
    if (!o.selected(env.name)) continue;
    EnvWriter(app, env, spec, out).write();
  }
  if (!out.errors.empty()) out.files.clear();
  std::sort(out.files.begin(), out.files.end(), [](const File& a, const File& b) { return a.path < b.path; });
  return out;
}

}  // namespace gops::backend::ecs
