#pragma once
/// Terraform expressions: references written as `${...}` inside JSON strings, the
/// escaping of text copied from the spec, and the references to an environment's
/// shared infrastructure.
#include <string>
#include <string_view>
#include <vector>

#include "deploy_facts/env_facts.h"

namespace gops::backend::terraform {

/// Escapes text for a Terraform JSON string: `${` and `%{` would start a template
/// interpolation or directive, so they become `$${` and `%%{`. Everything the
/// backend copies from the spec (environment values, commands, paths) goes through
/// this; references the backend writes itself do not.
std::string templateEscape(std::string_view text);

/// `${expression}`: a Terraform reference inside a JSON string.
std::string tfRef(std::string_view expression);

/// The environment's shared infrastructure as the environment module refers to it:
/// the VPC, its subnets, the load balancer, its HTTPS listener and the cluster,
/// each a resource the module creates or a data source reading what exists
/// (`existing(...)`). Every reference to them is made here, from the environment's
/// facts, so the rest of the module does not care which.
class InfraRefs {
 public:
  explicit InfraRefs(const facts::EnvFacts& f);

  // Expressions, without `${}`.
  const std::string& vpcId() const { return vpcId_; }
  /// The id of the `zone`-th subnet of `kind` ("public" or "private").
  std::string subnetId(std::string_view kind, int zone) const;
  /// `${...}` of every subnet of `kind`, in zone order.
  std::vector<std::string> subnetIds(std::string_view kind) const;
  /// `[<id 0>, <id 1>, ...]`: the list as an output's expression.
  std::string subnetList(std::string_view kind) const;

  const std::string& albArn() const { return albArn_; }
  const std::string& albArnSuffix() const { return albArnSuffix_; }  ///< CloudWatch's LoadBalancer dimension
  const std::string& albDnsName() const { return albDnsName_; }
  const std::string& albZoneId() const { return albZoneId_; }
  const std::string& httpsListenerArn() const { return httpsListenerArn_; }
  /// The security groups of the load balancer: the one the module creates (a list of
  /// one reference), or the existing load balancer's (a set, for `for_each`).
  const std::string& albSecurityGroups() const { return albSecurityGroups_; }

  const std::string& clusterArn() const { return clusterArn_; }
  const std::string& clusterName() const { return clusterName_; }

 private:
  const facts::EnvFacts& f_;
  std::string vpcId_, albArn_, albArnSuffix_, albDnsName_, albZoneId_, httpsListenerArn_, albSecurityGroups_;
  std::string clusterArn_, clusterName_;
};

namespace ref {

/// The security group every task carries besides its own.
inline constexpr std::string_view kServicesSecurityGroupId = "aws_security_group.services.id";

}  // namespace ref

}  // namespace gops::backend::terraform
