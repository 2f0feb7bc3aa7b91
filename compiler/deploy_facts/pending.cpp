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
    for (const auto& s : env.services) {
      const std::string where = fmt::format(", service `{}`", s.name);
      if (s.beforeDeploy) say(where, "`before_deploy = task { ... }`");
    }
  }
  return out;
}

}  // namespace gops::facts
