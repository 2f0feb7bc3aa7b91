#include "deploy_facts/containers.h"

#include <algorithm>
#include <cmath>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::facts {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace {

int clampSeconds(double seconds, int lo, int hi) { return std::clamp(static_cast<int>(std::lround(seconds)), lo, hi); }

std::string shellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

ImageRef imageRef(const model::App& app, const model::Image& image) {
  ImageRef r;
  r.kind = image.kind;
  if (image.kind == model::Image::Kind::External) {
    r.uri = image.uri;
  } else {
    r.registry = registryHost(app);
    r.repository = image.repository;
  }
  return r;
}

}  // namespace

std::string ImageRef::reference(std::string_view tag) const {
  if (kind == model::Image::Kind::External) return uri;
  return fmt::format("{}/{}:{}"_cf, registry, repository, tag);
}

std::string healthCheckShell(int port, std::string_view path) {
  std::string url = shellQuote(
      fmt::format("http://localhost:{}{}{}"_cf, port, !path.empty() && path.front() == '/' ? "" : "/", path));
  return fmt::format("curl -fsS -o /dev/null {0} || wget -q -O /dev/null {0} || exit 1"_cf, url);
}

TaskDefinition taskDefinition(const model::App& app, const model::Environment& env, const EnvNames& names,
                              const model::Workload& w, std::optional<int> port,
                              const std::optional<model::Health>& health) {
  TaskDefinition t;
  t.family = names.workload(w.name);
  t.cpu = w.cpu;
  t.memory = w.memory;
  t.taskRoleArn = names.roleArn(names.taskRolePath(), names.role(w.name, "task"));
  t.executionRoleArn = names.roleArn(names.taskRolePath(), names.role(w.name, "execution"));
  if (w.platform == model::Workload::Platform::Arm64) t.runtimePlatform.cpuArchitecture = "ARM64";
  if (w.ephemeralStorageGiB > 20) t.ephemeralStorageGiB = w.ephemeralStorageGiB;  // ECS takes 21-200: 20 GiB is the default, left unsaid

  auto awslogs = [&](LogConfiguration& logs, const std::string& prefix) {
    logs.group = names.logGroup(w.name);
    logs.region = env.region;
    logs.streamPrefix = prefix;
  };
  const model::Sidecar* router = nullptr;
  int sidecarCpu = 0, sidecarMemory = 0;
  for (const auto& sc : w.sidecars) {
    sidecarCpu += sc.cpu;
    sidecarMemory += sc.memory;
    if (!sc.logRouter.empty()) router = &sc;
  }
  // Every container but the router itself hands its output to the router when
  // there is one (the checker allows `log_options` only then).
  auto routed = [&](LogConfiguration& logs, const std::string& prefix) {
    if (!router) return awslogs(logs, prefix);
    logs.driver = "awsfirelens";
    for (const auto& [k, v] : w.logOptions) logs.firelensOptions.emplace_back(k, v);  // std::map: sorted
  };

  Container c;
  c.name = w.name;
  c.image = imageRef(app, w.image);
  // The one container has the whole task; with sidecars, what they leave.
  if (!w.sidecars.empty()) c.cpu = w.cpu - sidecarCpu;
  c.memory = w.memory - sidecarMemory;
  c.command = w.command;
  for (const auto& [k, v] : w.env) c.environment.push_back({k, v});  // std::map: sorted by name
  for (const auto& [k, s] : w.secrets) {
    std::string from = s.kind == model::Secret::Kind::Ssm
                           ? names.ssmParameterArn(s.name)
                           : names.secretArn(s.name) + (s.key.empty() ? "" : fmt::format(":{}::"_cf, s.key));
    c.secrets.push_back({k, std::move(from)});
  }
  if (port) c.portMappings.push_back({*port, "tcp"});
  if (health && (port || !health->command.empty())) {
    ContainerHealthCheck h;
    h.command = !health->command.empty() ? health->command
                                         : std::vector<std::string>{"CMD-SHELL", healthCheckShell(*port, health->path)};
    h.interval = clampSeconds(health->intervalSeconds, kHealthIntervalMin, kHealthIntervalMax);
    h.timeout = clampSeconds(health->timeoutSeconds, kHealthTimeoutMin, kHealthTimeoutMax);
    h.retries = std::clamp(health->unhealthyThreshold, kHealthRetriesMin, kHealthRetriesMax);
    h.startPeriod = clampSeconds(health->gracePeriodSeconds, kHealthStartPeriodMin, kHealthStartPeriodMax);
    c.healthCheck = std::move(h);
  }
  routed(c.logs, w.name);
  if (router) c.dependsOn.push_back({router->name, "START"});
  for (const auto& v : w.volumes) c.mountPoints.push_back({v.name, v.path, v.readOnly});  // sorted by name
  t.containers.push_back(std::move(c));

  for (const auto& sc : w.sidecars) {  // sorted by name
    Container s;
    s.name = sc.name;
    s.image = imageRef(app, sc.image);
    s.essential = sc.essential;
    s.cpu = sc.cpu;
    s.memory = sc.memory;
    s.command = sc.command;
    for (const auto& [k, v] : sc.env) s.environment.push_back({k, v});
    if (sc.port) s.portMappings.push_back({*sc.port, "tcp"});
    if (!sc.healthCommand.empty()) s.healthCheck = ContainerHealthCheck{sc.healthCommand};
    if (&sc == router) {
      // The router logs to CloudWatch itself: it cannot route its own output.
      awslogs(s.logs, sc.name);
      s.firelensType = sc.logRouter;
    } else {
      routed(s.logs, sc.name);
      if (router) s.dependsOn.push_back({router->name, "START"});
    }
    t.containers.push_back(std::move(s));
  }
  for (const auto& v : w.volumes) t.volumes.push_back({v.name, v.efs, v.accessPoint});
  return t;
}

}  // namespace gops::facts
