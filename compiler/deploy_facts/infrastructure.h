#pragma once
/// The environment's shared infrastructure besides the network (network.h): the
/// load balancer and the ECS cluster, each created by the environment or existing
/// and only read (`existing(...)`), the Route 53 zone of `dns`, and where tasks run
/// (on-demand Fargate, or a capacity provider strategy with Fargate Spot). The
/// Terraform module creates or reads what these say; the ECS JSON, the plan and the
/// deploy role name the same things.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deploy_facts/naming.h"
#include "model/model.h"

namespace gops::facts {

/// The application load balancer of the environment's public services.
struct LoadBalancerFacts {
  bool needed = false;    ///< some service is public
  bool existing = false;  ///< `load_balancer = existing("arn:...")`: read, with its HTTPS listener on 443
  std::string arn;        ///< existing: as written
  /// Created: EnvNames::loadBalancer(); existing: the name in its ARN
  /// (`loadbalancer/app/NAME/ID`).
  std::string name;
  /// The ARNs `elasticloadbalancing:ModifyRule` may change (deploys shift weights):
  /// the listener rules of this load balancer, `...:listener-rule/app/NAME/*` for
  /// the one created, `...:listener-rule/app/NAME/ID/*` for an existing one.
  std::string listenerRulesArn;

  bool created() const { return needed && !existing; }
};
LoadBalancerFacts loadBalancerFacts(const model::Environment& env, const EnvNames& names, bool needed);

/// Fargate capacity providers.
inline constexpr std::string_view kFargate = "FARGATE";
inline constexpr std::string_view kFargateSpot = "FARGATE_SPOT";

/// One entry of a capacity provider strategy (ECS `capacityProviderStrategy`).
struct CapacityProviderShare {
  std::string provider;  ///< kFargate or kFargateSpot
  int weight = 0;        ///< relative share of the tasks beyond the base
  int base = 0;          ///< tasks that run on this provider before the weights apply
};
/// Where a workload's tasks run. Empty for on-demand only: the workload then uses the
/// FARGATE launch type, as before Spot existed. Otherwise FARGATE (when some tasks
/// run on demand: the `on_demand_base`, and the on-demand share as its weight), then
/// FARGATE_SPOT; the two weights are the shares in tenths of a percent, divided by
/// their greatest common divisor (70% Spot: FARGATE 3, FARGATE_SPOT 7).
std::vector<CapacityProviderShare> capacityStrategy(const model::Capacity& c);

/// The ECS cluster the services and jobs run on.
struct ClusterFacts {
  bool existing = false;  ///< `cluster = existing(...)`: read, not created
  std::string name;       ///< EnvNames::cluster()
  /// Every provider the workloads' strategies name, sorted (FARGATE, FARGATE_SPOT);
  /// empty when every workload runs on demand. The environment associates them with
  /// the cluster it creates; an existing cluster must have them already.
  std::vector<std::string> capacityProviders;
};

}  // namespace gops::facts
