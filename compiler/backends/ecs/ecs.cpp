// The ECS backend: RegisterTaskDefinition, CreateService and CreateTaskSet inputs per
// environment (docs/ecs.md). Keys are written in the fixed order of docs/ecs.md
// with nlohmann::ordered_json; every name comes from the Terraform backend's
// naming so the documents refer to exactly what Terraform creates.
#include "backends/ecs/ecs.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backends/terraform/naming.h"

namespace gops::backend::ecs {

namespace {

using json = nlohmann::ordered_json;
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
      emit(fmt::format("{}/ecs/{}.taskdef.json", env_.name, s.name), taskDefinition(s, s.port, s.port ? s.health : std::nullopt));
      emit(fmt::format("{}/ecs/{}.service.json", env_.name, s.name), service(s));
      if (usesTaskSets(s)) {
        for (const char* color : {"blue", "green"}) {
          emit(fmt::format("{}/ecs/{}.{}.taskset.json", env_.name, s.name, color), taskSet(s, color));
        }
      }
    }
    for (const auto& j : env_.jobs) {
      emit(fmt::format("{}/ecs/{}.taskdef.json", env_.name, j.name), taskDefinition(j, std::nullopt, std::nullopt));
    }
  }

 private:
  void emit(std::string path, const json& doc) { out_.files.push_back({std::move(path), doc.dump(2) + "\n"}); }

  /// Text copied from the spec; `{{` would read as a placeholder, so it is refused.
  std::string copied(const Workload& w, std::string_view what, const std::string& text) {
    if (text.find("{{") != std::string::npos) {
      out_.errors.push_back(fmt::format("environment `{}`: {} of `{}` contains `{{{{`, which ECS definitions reserve for "
                                        "placeholders ({{{{tf:...}}}}, {{{{image_tag}}}}); remove it",
                                        env_.name, what, w.name));
    }
    return text;
  }

  /// app, environment, managed-by, generated-by: sorted by key. The last carries
  /// the generated-file marker, since the ECS API input admits no comment field.
  json tags() const {
    json t = json::array();
    auto tag = [&](const char* key, const std::string& value) { t.push_back(json{{"key", key}, {"value", value}}); };
    tag("app", app_.app.name);
    tag("environment", env_.name);
    tag("generated-by", tagValue(fmt::format("{} from {}", kGeneratedMarker, spec_)));
    tag("managed-by", "gops");
    return t;
  }

  std::string ssmArn(const std::string& name) const {
    if (name.rfind("arn:", 0) == 0) return name;
    return n_.arn("ssm", fmt::format("parameter/{}", !name.empty() && name.front() == '/' ? name.substr(1) : name));
  }
  std::string secretArn(const std::string& id) const {
    if (id.rfind("arn:", 0) == 0) return id;
    return n_.arn("secretsmanager", fmt::format("secret:{}", id));
  }

  std::string image(const Workload& w) {
    if (w.image.kind == model::Image::Kind::External) return copied(w, "the image", w.image.uri);
    return fmt::format("{}.dkr.ecr.{}.{}/{}:{}", app_.app.registry, app_.app.region, dnsSuffix(n_.partition()),
                       copied(w, "the image", w.image.repository), kImageTagPlaceholder);
  }

  json taskDefinition(const Workload& w, std::optional<int> port, const std::optional<model::Health>& health) {
    json c;
    c["name"] = w.name;
    c["image"] = image(w);
    c["essential"] = true;
    if (!w.command.empty()) {
      json cmd = json::array();
      for (const auto& a : w.command) cmd.push_back(copied(w, "the command", a));
      c["command"] = cmd;
    }
    if (port) c["portMappings"] = json::array({json{{"containerPort", *port}, {"protocol", "tcp"}}});
    if (!w.env.empty()) {
      json env = json::array();  // std::map: sorted by name
      for (const auto& [k, v] : w.env) env.push_back(json{{"name", k}, {"value", copied(w, "an environment value", v)}});
      c["environment"] = env;
    }
    if (!w.secrets.empty()) {
      json secrets = json::array();
      for (const auto& [k, s] : w.secrets) {
        std::string from = s.kind == model::Secret::Kind::Ssm
                               ? ssmArn(s.name)
                               : secretArn(s.name) + (s.key.empty() ? "" : fmt::format(":{}::", s.key));
        secrets.push_back(json{{"name", k}, {"valueFrom", copied(w, "a secret", from)}});
      }
      c["secrets"] = secrets;
    }
    if (port && health) {
      json hc;
      hc["command"] = json::array({"CMD-SHELL", healthCheckShell(*port, copied(w, "the health path", health->path))});
      hc["interval"] = clampSeconds(health->intervalSeconds, kIntervalMin, kIntervalMax);
      hc["timeout"] = clampSeconds(health->timeoutSeconds, kTimeoutMin, kTimeoutMax);
      hc["retries"] = std::clamp(health->unhealthyThreshold, kRetriesMin, kRetriesMax);
      hc["startPeriod"] = clampSeconds(health->gracePeriodSeconds, kStartPeriodMin, kStartPeriodMax);
      c["healthCheck"] = hc;
    }
    c["logConfiguration"] = json{{"logDriver", "awslogs"},
                                 {"options",
                                  json{{"awslogs-group", n_.logGroup(w.name)},
                                       {"awslogs-region", env_.region},
                                       {"awslogs-stream-prefix", w.name}}}};

    json d;
    d["family"] = n_.workload(w.name);
    d["tags"] = tags();
    d["taskRoleArn"] = n_.roleArn(n_.taskRolePath(), n_.role(w.name, "task"));
    d["executionRoleArn"] = n_.roleArn(n_.taskRolePath(), n_.role(w.name, "execution"));
    d["networkMode"] = "awsvpc";
    d["requiresCompatibilities"] = json::array({"FARGATE"});
    d["cpu"] = std::to_string(w.cpu);
    d["memory"] = std::to_string(w.memory);
    d["runtimePlatform"] = json{{"cpuArchitecture", "X86_64"}, {"operatingSystemFamily", "LINUX"}};
    d["containerDefinitions"] = json::array({c});
    return d;
  }

  /// Where tasks run: the private subnets (one placeholder per zone), the
  /// workload's own security group and the one every task carries.
  json networkConfiguration(const Service& s) const {
    json subnets = json::array();
    for (int i = 0; i < env_.network.zones; ++i) subnets.push_back(tfPlaceholder("private_subnet_ids", i));
    return json{{"awsvpcConfiguration",
                 json{{"subnets", subnets},
                      {"securityGroups",
                       json::array({tfPlaceholder(s.name + "_security_group_id"), tfPlaceholder("services_security_group_id")})},
                      {"assignPublicIp", "DISABLED"}}}};
  }

  json loadBalancers(const Service& s, const std::string& targetGroupOutput) const {
    return json::array(
        {json{{"targetGroupArn", tfPlaceholder(targetGroupOutput)}, {"containerName", s.name}, {"containerPort", *s.port}}});
  }

  json service(const Service& s) {
    const bool rolling = s.rollout.kind == model::Rollout::Kind::Rolling;
    const bool taskSets = usesTaskSets(s);
    json d;
    d["cluster"] = n_.cluster();
    d["serviceName"] = n_.workload(s.name);
    d["tags"] = tags();
    // As the Terraform module: with the EXTERNAL controller the task definition,
    // launch type, network and load balancer belong to the task sets.
    if (!taskSets) d["taskDefinition"] = n_.workload(s.name);  // the family: its latest ACTIVE revision
    d["desiredCount"] = s.replicas;
    if (!taskSets) {
      d["launchType"] = "FARGATE";
      d["platformVersion"] = "LATEST";
    }
    d["deploymentController"] = json{{"type", taskSets ? "EXTERNAL" : "ECS"}};
    json config;
    if (!taskSets) config["deploymentCircuitBreaker"] = json{{"enable", true}, {"rollback", true}};
    config["maximumPercent"] = static_cast<int>(std::lround(rolling ? s.rollout.maxPercent : 200));
    config["minimumHealthyPercent"] = static_cast<int>(std::lround(rolling ? s.rollout.minHealthyPercent : 100));
    d["deploymentConfiguration"] = config;
    if (!taskSets) d["networkConfiguration"] = networkConfiguration(s);
    if (isPublic(s) && !taskSets) d["loadBalancers"] = loadBalancers(s, s.name + "_target_group_arn");
    if (isPublic(s)) {
      d["healthCheckGracePeriodSeconds"] =
          static_cast<int>(std::lround(s.health.value_or(model::Health{}).gracePeriodSeconds));
    }
    if (isInternal(s)) {
      d["serviceRegistries"] = json::array({json{{"registryArn", tfPlaceholder(s.name + "_discovery_service_arn")}}});
    }
    d["enableECSManagedTags"] = true;
    d["propagateTags"] = "SERVICE";
    d["enableExecuteCommand"] = false;
    return d;
  }

  /// CreateTaskSet input: the service's tasks behind one colour's target group.
  json taskSet(const Service& s, const char* color) {
    json d;
    d["service"] = n_.workload(s.name);
    d["cluster"] = n_.cluster();
    d["tags"] = tags();
    d["taskDefinition"] = n_.workload(s.name);
    d["launchType"] = "FARGATE";
    d["platformVersion"] = "LATEST";
    d["networkConfiguration"] = networkConfiguration(s);
    d["loadBalancers"] = loadBalancers(s, fmt::format("{}_target_group_{}_arn", s.name, color));
    d["scale"] = json{{"unit", "PERCENT"}, {"value", 100}};
    return d;
  }

  const model::AppModel& app_;
  const model::Environment& env_;
  EnvNames n_;
  const std::string& spec_;
  Output& out_;
};

}  // namespace

std::string tfPlaceholder(std::string_view output, int index) {
  return index < 0 ? fmt::format("{{{{tf:{}}}}}", output) : fmt::format("{{{{tf:{}[{}]}}}}", output, index);
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
  std::string url = shellQuote(fmt::format("http://localhost:{}{}{}", port, !path.empty() && path.front() == '/' ? "" : "/", path));
  return fmt::format("curl -fsS -o /dev/null {0} || wget -q -O /dev/null {0} || exit 1", url);
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
