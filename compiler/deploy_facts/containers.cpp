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

  Container c;
  c.name = w.name;
  c.image = imageRef(app, w.image);
  c.memory = w.memory;  // the one container has the whole task
  c.command = w.command;
  for (const auto& [k, v] : w.env) c.environment.push_back({k, v});  // std::map: sorted by name
  for (const auto& [k, s] : w.secrets) {
    std::string from = s.kind == model::Secret::Kind::Ssm
                           ? names.ssmParameterArn(s.name)
                           : names.secretArn(s.name) + (s.key.empty() ? "" : fmt::format(":{}::"_cf, s.key));
    c.secrets.push_back({k, std::move(from)});
  }
  if (port) c.portMappings.push_back({*port, "tcp"});
  if (port && health) {
    ContainerHealthCheck h;
    h.command = {"CMD-SHELL", healthCheckShell(*port, health->path)};
    h.interval = clampSeconds(health->intervalSeconds, kHealthIntervalMin, kHealthIntervalMax);
    h.timeout = clampSeconds(health->timeoutSeconds, kHealthTimeoutMin, kHealthTimeoutMax);
    h.retries = std::clamp(health->unhealthyThreshold, kHealthRetriesMin, kHealthRetriesMax);
    h.startPeriod = clampSeconds(health->gracePeriodSeconds, kHealthStartPeriodMin, kHealthStartPeriodMax);
    c.healthCheck = std::move(h);
  }
  c.logs.group = names.logGroup(w.name);
  c.logs.region = env.region;
  c.logs.streamPrefix = w.name;
  t.containers.push_back(std::move(c));
  return t;
}

}  // namespace gops::facts
