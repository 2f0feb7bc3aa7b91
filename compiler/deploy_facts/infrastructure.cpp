#include "deploy_facts/infrastructure.h"

#include <cmath>
#include <numeric>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::facts {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

LoadBalancerFacts loadBalancerFacts(const model::Environment& env, const EnvNames& names, bool needed) {
  LoadBalancerFacts f;
  f.needed = needed;
  if (env.existingLoadBalancer.empty()) {
    f.name = names.loadBalancer();
    f.listenerRulesArn = names.arn("elasticloadbalancing", fmt::format("listener-rule/app/{}/*"_cf, f.name));
    return f;
  }
  // arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID (the checker
  // held it to that form, in the environment's account and region).
  f.existing = true;
  f.arn = env.existingLoadBalancer;
  const std::string_view marker = ":loadbalancer/app/";
  const std::size_t at = f.arn.find(marker);
  const std::string nameAndId = at == std::string::npos ? std::string() : f.arn.substr(at + marker.size());
  f.name = nameAndId.substr(0, nameAndId.find('/'));
  f.listenerRulesArn = at == std::string::npos
                           ? std::string()
                           : fmt::format("{}:listener-rule/app/{}/*"_cf, f.arn.substr(0, at), nameAndId);
  return f;
}

std::vector<CapacityProviderShare> capacityStrategy(const model::Capacity& c) {
  if (c.spotPercent <= 0) return {};
  // Shares in tenths of a percent: 70% -> 700 and 300, then 7 and 3.
  const int spot = static_cast<int>(std::lround(c.spotPercent * 10));
  const int onDemand = 1000 - spot;
  const int divisor = std::gcd(spot, onDemand);  // gcd(x, 0) is x
  std::vector<CapacityProviderShare> out;
  if (onDemand > 0 || c.onDemandBase > 0) {
    out.push_back({std::string(kFargate), onDemand / divisor, c.onDemandBase});
  }
  out.push_back({std::string(kFargateSpot), spot / divisor, 0});
  return out;
}

}  // namespace gops::facts
