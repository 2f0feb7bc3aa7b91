// The root module of one environment: network, cluster, load balancer, and per
// service and job everything it runs on (docs/terraform.md lists it all). This file
// orders the parts (env_writer.h lists the files they live in) and writes the
// module's settings and outputs.
#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/modules.h"
#include "backends/terraform/refs.h"
#include "deploy_facts/outputs.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

void EnvWriter::write() {
  settings();
  if (!network()) return;
  cluster();
  if (f_.anyPublic) loadBalancer();
  for (const auto& s : f_.services) service(s);
  for (const auto& j : f_.jobs) job(j);
  deployRole();
  gatesRole();
  if (f_.anyNative) ecsInfrastructureRole();
  dashboards();
  outputs();
}

std::string EnvWriter::tgLabel(const facts::ServiceFacts& s, const facts::TargetGroup& tg) {
  return tg.color.empty() ? s.name : fmt::format("{}_{}"_cf, s.name, tg.color);
}

std::string EnvWriter::securityGroupId(std::string_view name) {
  return fmt::format("aws_security_group.{}.id"_cf, name);
}

void EnvWriter::settings() {
  StateLocation state{facts::stateBucket(app_.app, env_.account), n_.stateKey(), app_.app.region};
  terraformSettings(m_, &state, true, false);
  awsProvider(m_, env_.region, env_.account, f_.tags);
  m_.variable("image_tag", [&](Body& b) {
    b.str("default", "bootstrap");
    b.str("description",
          "Image tag of the task definitions Terraform registers first; deploys register their own revisions");
    b.str("type", "string");
  });
}

void EnvWriter::outputs() {
  namespace out = facts::output;
  m_.output(out::clusterArn(), refs_.clusterArn(), "ECS cluster ARN");
  m_.output(out::clusterName(), refs_.clusterName(), "ECS cluster name");
  m_.output(out::vpcId(), refs_.vpcId(), "VPC id");
  m_.output(out::privateSubnetIds(), refs_.subnetList("private"),
            "Private subnets, one per zone: where tasks run");
  // An existing VPC's public subnets are read only for a load balancer the
  // environment creates, or when the spec lists them.
  if (f_.network.publicSubnets.count > 0) {
    m_.output(out::publicSubnetIds(), refs_.subnetList("public"),
              f_.network.existing() ? "Public subnets of the existing VPC"
                                    : "Public subnets, one per zone: the load balancer and NAT");
  }
  m_.output(out::servicesSecurityGroupId(), ref::kServicesSecurityGroupId,
            "Security group every task carries besides its own; internal services admit it");
  m_.output(out::githubDeployRoleArn(), "aws_iam_role.github_deploy.arn", "Role the GitHub environment deploys with");
  if (!app_.promotionsOutOf(env_.name).empty()) {
    m_.output(out::githubGatesRoleArn(), "aws_iam_role.github_gates.arn",
              "Role the deploys promoted from this environment check their promotion gates with");
  }
  if (f_.anyPublic) {
    m_.output(out::albArn(), refs_.albArn(), "Load balancer ARN");
    m_.output(out::albDnsName(), refs_.albDnsName(), "Load balancer DNS name: point the public hostnames here");
    m_.output(out::albZoneId(), refs_.albZoneId(), "Load balancer hosted zone, for Route 53 alias records");
    m_.output(out::httpsListenerArn(), refs_.httpsListenerArn(), "HTTPS listener ARN");
    m_.output(out::certificateValidationRecords(), "aws_acm_certificate.main.domain_validation_options",
              f_.dnsZone ? "DNS records that validate the certificate (written to the environment's zone)"
                         : "DNS records that validate the certificate; create them in the hostnames' zones");
  }
  if (f_.anyInternal) {
    m_.output(out::serviceDiscoveryNamespaceId(), "aws_service_discovery_private_dns_namespace.main.id",
              "Cloud Map namespace of the internal services");
  }
  auto workloadOutputs = [&](const facts::WorkloadFacts& w) {
    m_.output(out::securityGroupId(w.name), securityGroupId(w.name), fmt::format("Security group of {}"_cf, w.name));
    m_.output(out::executionRoleArn(w.name), fmt::format("aws_iam_role.{}_execution.arn"_cf, w.name),
              fmt::format("Task execution role of {}"_cf, w.name));
    m_.output(out::taskRoleArn(w.name), fmt::format("aws_iam_role.{}_task.arn"_cf, w.name),
              fmt::format("Task role of {}"_cf, w.name));
  };
  for (const auto& s : f_.services) {
    workloadOutputs(s);
    if (s.isPublic()) {
      m_.output(out::targetGroupArn(s.name),
                fmt::format("aws_lb_target_group.{}.arn"_cf, tgLabel(s, s.primaryTargetGroup())),
                fmt::format("Target group {} registers with"_cf, s.name));
      if (s.targetGroups.size() == 2) {  // on task sets or native: blue and green
        for (const auto& tg : s.targetGroups) {
          m_.output(tg.arnOutput, fmt::format("aws_lb_target_group.{}.arn"_cf, tgLabel(s, tg)),
                    fmt::format("The {} target group of {}"_cf, tg.color, s.name));
        }
      }
      // More hosts than a rule takes (model::Expose::hostsPerRule) take
      // more rules; deploys shift all of them.
      m_.output(out::listenerRuleArn(s.name, 0), fmt::format("aws_lb_listener_rule.{}.arn"_cf, s.name),
                fmt::format("Listener rule routing {}'s hosts"_cf, s.name));
      for (std::size_t k = 1; k < s.listenerRules.size(); ++k) {
        m_.output(s.listenerRules[k].arnOutput, fmt::format("aws_lb_listener_rule.{}_{}.arn"_cf, s.name, k + 1),
                  fmt::format("Listener rule {} routing {}'s hosts"_cf, k + 1, s.name));
      }
    }
    if (s.isInternal()) {
      m_.output(out::discoveryServiceArn(s.name), fmt::format("aws_service_discovery_service.{}.arn"_cf, s.name),
                fmt::format("Cloud Map service of {}"_cf, s.name));
    }
  }
  for (const auto& j : f_.jobs) workloadOutputs(j);
}

void envModule(Module& m, const facts::EnvFacts& f, std::vector<std::string>& errors) {
  EnvWriter(m, f, errors).write();
}

}  // namespace gops::backend::terraform
