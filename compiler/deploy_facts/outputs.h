#pragma once
/// The outputs of an environment's Terraform module that other generated files refer
/// to, one function per output name: the Terraform backend declares each output
/// under the name its function gives, and the ECS JSON and the plan refer to it as
/// `{{tf:NAME}}` (`{{tf:NAME[i]}}` for an element of a list) with the same function,
/// so a renamed output cannot leave a dangling placeholder. docs/terraform.md
/// (Outputs) lists them; docs/ecs.md says how placeholders are filled.
#include <string>
#include <string_view>

namespace gops::facts::output {

// The environment's shared infrastructure.
inline std::string clusterArn() { return "cluster_arn"; }
inline std::string clusterName() { return "cluster_name"; }
inline std::string vpcId() { return "vpc_id"; }
/// List, one per zone in zone order: where tasks run.
inline std::string privateSubnetIds() { return "private_subnet_ids"; }
/// List, one per zone in zone order.
inline std::string publicSubnetIds() { return "public_subnet_ids"; }
/// The security group every task carries besides its own.
inline std::string servicesSecurityGroupId() { return "services_security_group_id"; }
inline std::string githubDeployRoleArn() { return "github_deploy_role_arn"; }
/// When something is promoted out of the environment.
inline std::string githubGatesRoleArn() { return "github_gates_role_arn"; }
// When some service is public.
inline std::string albArn() { return "alb_arn"; }
inline std::string albDnsName() { return "alb_dns_name"; }
inline std::string albZoneId() { return "alb_zone_id"; }
inline std::string httpsListenerArn() { return "https_listener_arn"; }
inline std::string certificateValidationRecords() { return "certificate_validation_records"; }
// When some service is internal.
inline std::string serviceDiscoveryNamespaceId() { return "service_discovery_namespace_id"; }

// Per service and job.
std::string securityGroupId(std::string_view workload);   ///< `<name>_security_group_id`
std::string executionRoleArn(std::string_view workload);  ///< `<name>_execution_role_arn`
std::string taskRoleArn(std::string_view workload);       ///< `<name>_task_role_arn`

// Per public service.
/// `<service>_target_group_arn`: the group the service registers with (blue, or the only one).
std::string targetGroupArn(std::string_view service);
/// `<service>_target_group_<color>_arn`, services on task sets.
std::string targetGroupArn(std::string_view service, std::string_view color);
/// `<service>_listener_rule_arn` for rule 0, `<service>_listener_rule_<k+1>_arn` for rule k.
std::string listenerRuleArn(std::string_view service, std::size_t rule);

// Per internal service.
std::string discoveryServiceArn(std::string_view service);  ///< `<service>_discovery_service_arn`

// Outputs of the app-wide modules.
inline std::string githubOidcProviderArn() { return "github_oidc_provider_arn"; }  ///< bootstrap
inline std::string stateBucket() { return "state_bucket"; }                        ///< bootstrap
inline std::string githubPushRoleArn() { return "github_push_role_arn"; }          ///< global

}  // namespace gops::facts::output

namespace gops::facts {

/// `{{tf:<output>}}`, or `{{tf:<output>[<index>]}}` for an element of a list output.
std::string tfPlaceholder(std::string_view output, int index = -1);

}  // namespace gops::facts
