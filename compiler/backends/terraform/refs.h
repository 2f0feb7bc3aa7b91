#pragma once
/// Terraform expressions: references written as `${...}` inside JSON strings, the
/// escaping of text copied from the spec, and the references to an environment's
/// shared infrastructure.
#include <string>
#include <string_view>
#include <vector>

namespace gops::backend::terraform {

/// Escapes text for a Terraform JSON string: `${` and `%{` would start a template
/// interpolation or directive, so they become `$${` and `%%{`. Everything the
/// backend copies from the spec (environment values, commands, paths) goes through
/// this; references the backend writes itself do not.
std::string templateEscape(std::string_view text);

/// `${expression}`: a Terraform reference inside a JSON string.
std::string tfRef(std::string_view expression);

/// The environment's shared infrastructure as the environment module refers to it:
/// the VPC, its subnets, the load balancer, its HTTPS listener and the cluster.
/// Each is written here only, so that taking one from existing infrastructure
/// (a data source instead of a resource) changes one place.
namespace ref {

inline constexpr std::string_view kVpcId = "aws_vpc.main.id";
/// `aws_subnet.<kind>_<zone>.id`, kind "public" or "private".
std::string subnetId(std::string_view kind, int zone);
/// `${...}` of every zone's subnet of `kind`, in zone order.
std::vector<std::string> subnetIds(std::string_view kind, int zones);
/// `[aws_subnet.<kind>_0.id, ...]`: the list as an output's expression.
std::string subnetList(std::string_view kind, int zones);

inline constexpr std::string_view kAlbArn = "aws_lb.main.arn";
inline constexpr std::string_view kAlbArnSuffix = "aws_lb.main.arn_suffix";  ///< CloudWatch's LoadBalancer dimension
inline constexpr std::string_view kAlbDnsName = "aws_lb.main.dns_name";
inline constexpr std::string_view kAlbZoneId = "aws_lb.main.zone_id";
inline constexpr std::string_view kHttpsListenerArn = "aws_lb_listener.https.arn";

inline constexpr std::string_view kClusterArn = "aws_ecs_cluster.main.arn";
inline constexpr std::string_view kClusterName = "aws_ecs_cluster.main.name";

/// The security group every task carries besides its own.
inline constexpr std::string_view kServicesSecurityGroupId = "aws_security_group.services.id";

}  // namespace ref

}  // namespace gops::backend::terraform
