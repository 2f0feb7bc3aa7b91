#include "model/deploy_time.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

namespace gops::model {

std::vector<std::vector<std::string>> deployWaves(const Environment& env) {
  std::map<std::string, int> level;
  std::map<std::string, const Service*> byName;
  for (const auto& s : env.services) byName[s.name] = &s;
  std::function<int(const Service&, int)> depth = [&](const Service& s, int guard) -> int {
    if (auto it = level.find(s.name); it != level.end()) return it->second;
    if (guard > static_cast<int>(env.services.size())) return 0;  // a cycle: reported by the checker
    int d = 0;
    for (const auto& dep : s.dependsOn) {
      if (auto it = byName.find(dep); it != byName.end()) d = std::max(d, depth(*it->second, guard + 1) + 1);
    }
    level[s.name] = d;
    return d;
  };
  std::vector<std::vector<std::string>> out;
  for (const auto& s : env.services) {
    const auto d = static_cast<std::size_t>(depth(s, 0));
    if (out.size() <= d) out.resize(d + 1);
    out[d].push_back(s.name);
  }
  for (auto& w : out) std::sort(w.begin(), w.end());
  return out;
}

DeployLimits deployLimits(const Environment& env) {
  DeployLimits l;
  std::map<std::string, const Service*> byName;
  for (const auto& s : env.services) byName[s.name] = &s;
  const auto waves = deployWaves(env);
  l.waves = static_cast<int>(waves.size());
  for (const auto& wave : waves) {
    double longest = 0;
    for (const auto& name : wave) {
      // A service's rollout, and its before_deploy task before it (at most its timeout).
      const Service& s = *byName.at(name);
      longest = std::max(longest, s.rollout.totalSeconds() + (s.beforeDeploy ? s.beforeDeploy->timeoutSeconds : 0));
    }
    l.rolloutSeconds += longest;
  }
  l.jobMinutesNeeded = static_cast<int>(std::ceil(l.rolloutSeconds / 60)) + kDeployMarginMinutes +
                       (env.deploy.kind == Deploy::Kind::OnPush ? kImageWaitMinutes : 0);
  l.jobTimeoutMinutes = std::min(l.jobMinutesNeeded, kGithubJobLimitMinutes);
  l.sessionSeconds = std::clamp(l.jobTimeoutMinutes * 60, kRoleSessionMinSeconds, kRoleSessionMaxSeconds);
  return l;
}

}  // namespace gops::model
