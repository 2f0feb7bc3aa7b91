#include "deploy_facts/pending.h"

#include <algorithm>

#include <fmt/format.h>

namespace gops::facts {

std::vector<std::string> notGeneratedYet(const model::AppModel& app, const std::vector<std::string>& envs) {
  std::vector<std::string> out;
  for (const auto& env : app.environments) {
    if (!envs.empty() && std::find(envs.begin(), envs.end(), env.name) == envs.end()) continue;
    auto say = [&](const std::string& where, const std::string& what) {
      out.push_back(fmt::format("environment `{}`{}: {} is checked, but this version of gops does not generate it yet; "
                                "remove it to build",
                                env.name, where, what));
    };
    if (!env.network.existingVpc.empty()) say("", "`network { vpc = existing(...) }` (an existing VPC and its subnets)");
    if (!env.existingLoadBalancer.empty()) say("", "`load_balancer = existing(...)`");
    if (!env.existingCluster.empty()) say("", "`cluster = existing(...)`");
    if (env.dns) say("", "`dns { zone = ... }` (Route 53 records and certificate validation)");
    auto rollout = [&](const std::string& where, const model::Rollout& r) {
      if (r.engine == model::Rollout::Engine::Ecs) say(where, "`engine = ecs` (ECS's own deployment strategies)");
    };
    for (const auto& s : env.services) {
      const std::string where = fmt::format(", service `{}`", s.name);
      if (s.capacity.spotPercent > 0) say(where, "Fargate Spot (`capacity`)");
      if (s.beforeDeploy) say(where, "`before_deploy = task { ... }`");
      if (!s.expose.paths.empty()) say(where, "path-based routing (`public(..., path = ...)`)");
      rollout(where, s.rollout);
    }
    for (const auto& j : env.jobs) {
      if (j.capacity.spotPercent > 0) say(fmt::format(", job `{}`", j.name), "Fargate Spot (`capacity`)");
    }
  }
  return out;
}

}  // namespace gops::facts
