#include "backends/terraform/refs.h"

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

std::string templateEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '$' || c == '%') && i + 1 < text.size() && text[i + 1] == '{') out += c;
    out += c;
  }
  return out;
}

std::string tfRef(std::string_view expression) { return fmt::format("${{{}}}"_cf, expression); }

InfraRefs::InfraRefs(const facts::EnvFacts& f) : f_(f) {
  vpcId_ = f.network.existing() ? "data.aws_vpc.main.id" : "aws_vpc.main.id";
  const std::string lb = f.loadBalancer.existing ? "data.aws_lb.main" : "aws_lb.main";
  albArn_ = lb + ".arn";
  albArnSuffix_ = lb + ".arn_suffix";
  albDnsName_ = lb + ".dns_name";
  albZoneId_ = lb + ".zone_id";
  albSecurityGroups_ = lb + ".security_groups";
  httpsListenerArn_ = f.loadBalancer.existing ? "data.aws_lb_listener.https.arn" : "aws_lb_listener.https.arn";
  clusterArn_ = f.cluster.existing ? "data.aws_ecs_cluster.main.arn" : "aws_ecs_cluster.main.arn";
  clusterName_ = f.cluster.existing ? "data.aws_ecs_cluster.main.cluster_name" : "aws_ecs_cluster.main.name";
}

std::string InfraRefs::subnetId(std::string_view kind, int zone) const {
  // An existing VPC's subnets are each read by a data source, whether listed or found by tag.
  return fmt::format("{}aws_subnet.{}_{}.id"_cf, f_.network.existing() ? "data." : "", kind, zone);
}

std::vector<std::string> InfraRefs::subnetIds(std::string_view kind) const {
  const facts::SubnetFacts& s = kind == "public" ? f_.network.publicSubnets : f_.network.privateSubnets;
  std::vector<std::string> out;
  for (int i = 0; i < s.count; ++i) out.push_back(tfRef(subnetId(kind, i)));
  return out;
}

std::string InfraRefs::subnetList(std::string_view kind) const {
  const facts::SubnetFacts& s = kind == "public" ? f_.network.publicSubnets : f_.network.privateSubnets;
  std::string out = "[";
  for (int i = 0; i < s.count; ++i) out += fmt::format("{}{}"_cf, i ? ", " : "", subnetId(kind, i));
  return out + "]";
}

}  // namespace gops::backend::terraform
