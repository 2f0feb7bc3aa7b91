// The environment's network (VPC, subnets, routes, NAT gateways or VPC endpoints;
// or an existing VPC and its subnets, read), its ECS cluster (created, with the
// capacity providers its workloads use, or an existing one, read) and the Cloud Map
// namespace of its internal services.
#include <algorithm>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/refs.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

bool EnvWriter::network() {
  const facts::NetworkFacts& net = f_.network;
  if (!net.ok()) {
    errors_.push_back(net.error);
    return false;
  }
  if (net.existing()) {
    existingNetwork();
  } else {
    createdNetwork();
  }
  // Every task carries this group besides its own; internal services admit it.
  m_.resource("aws_security_group", "services", [&](Body& b) {
    b.str("description", fmt::format("Member of the services of {} {}"_cf, app_.app.name, env_.name));
    b.str("name", fmt::format("{}-services"_cf, n_.prefix()));
    b.str("vpc_id", tfRef(refs_.vpcId()));
  });
  if (!net.existing() && net.natGateways == 0) endpoints();
  return true;
}

void EnvWriter::createdNetwork() {
  const facts::NetworkFacts& net = f_.network;
  const std::string& p = n_.prefix();
  const int zones = net.zones;
  const std::string vpcId = tfRef(refs_.vpcId());
  m_.data("aws_availability_zones", "available", [&](Body& b) {
    b.object("filter").str("name", "opt-in-status").strings("values", {"opt-in-not-required"}).end();
    b.str("state", "available");
  });
  m_.resource("aws_vpc", "main", [&](Body& b) {
    b.str("cidr_block", net.cidr).flag("enable_dns_hostnames", true).flag("enable_dns_support", true);
    tags(b, p);
  });
  m_.resource("aws_internet_gateway", "main", [&](Body& b) {
    tags(b, p);
    b.str("vpc_id", vpcId);
  });
  for (int i = 0; i < zones; ++i) {
    for (const char* kind : {"public", "private"}) {
      bool pub = kind[1] == 'u';
      m_.resource("aws_subnet", fmt::format("{}_{}"_cf, kind, i), [&](Body& b) {
        b.str("availability_zone", tfRef(fmt::format("data.aws_availability_zones.available.names[{}]"_cf, i)));
        const auto zone = static_cast<std::size_t>(i);
        b.str("cidr_block", pub ? net.publicCidrs[zone] : net.privateCidrs[zone]);
        tags(b, fmt::format("{}-{}-{}"_cf, p, kind, i));
        b.str("vpc_id", vpcId);
      });
      m_.resource("aws_route_table_association", fmt::format("{}_{}"_cf, kind, i), [&](Body& b) {
        b.str("route_table_id", tfRef(pub ? std::string("aws_route_table.public.id")
                                        : fmt::format("aws_route_table.private_{}.id"_cf, i)));
        b.str("subnet_id", tfRef(refs_.subnetId(kind, i)));
      });
    }
    m_.resource("aws_route_table", fmt::format("private_{}"_cf, i), [&](Body& b) {
      tags(b, fmt::format("{}-private-{}"_cf, p, i));
      b.str("vpc_id", vpcId);
    });
  }
  m_.resource("aws_route_table", "public", [&](Body& b) {
    tags(b, fmt::format("{}-public"_cf, p));
    b.str("vpc_id", vpcId);
  });
  m_.resource("aws_route", "public_internet", [&](Body& b) {
    b.str("destination_cidr_block", "0.0.0.0/0");
    b.str("gateway_id", tfRef("aws_internet_gateway.main.id"));
    b.str("route_table_id", tfRef("aws_route_table.public.id"));
  });

  const int nats = net.natGateways;
  for (int i = 0; i < nats; ++i) {
    m_.resource("aws_eip", fmt::format("nat_{}"_cf, i), [&](Body& b) {
      b.strings("depends_on", {"aws_internet_gateway.main"});
      b.str("domain", "vpc");
      tags(b, fmt::format("{}-nat-{}"_cf, p, i));
    });
    m_.resource("aws_nat_gateway", fmt::format("nat_{}"_cf, i), [&](Body& b) {
      b.str("allocation_id", tfRef(fmt::format("aws_eip.nat_{}.id"_cf, i)));
      b.strings("depends_on", {"aws_internet_gateway.main"});
      b.str("subnet_id", tfRef(refs_.subnetId("public", i)));
      tags(b, fmt::format("{}-nat-{}"_cf, p, i));
    });
  }
  for (int i = 0; i < zones && nats > 0; ++i) {
    m_.resource("aws_route", fmt::format("private_{}_nat"_cf, i), [&](Body& b) {
      b.str("destination_cidr_block", "0.0.0.0/0");
      b.str("nat_gateway_id", tfRef(fmt::format("aws_nat_gateway.nat_{}.id"_cf, net.natFor(i))));
      b.str("route_table_id", tfRef(fmt::format("aws_route_table.private_{}.id"_cf, i)));
    });
  }
}

/// `vpc = existing(...)`: the VPC and its subnets are read, nothing of them created.
/// Listed subnets are read by id; the others are found by their tag `Tier` in the VPC
/// (sorted by id, the first `count`), and the read fails when too few carry it.
void EnvWriter::existingNetwork() {
  const facts::NetworkFacts& net = f_.network;
  const std::string vpcId = tfRef(refs_.vpcId());
  m_.data("aws_vpc", "main", [&](Body& b) { b.str("id", templateEscape(net.existingVpc)); });
  for (const char* kind : {"private", "public"}) {
    const facts::SubnetFacts& s = kind[1] == 'r' ? net.privateSubnets : net.publicSubnets;
    if (s.count == 0) continue;
    const bool tagged = s.source == facts::SubnetFacts::Source::Tagged;
    if (tagged) {
      m_.data("aws_subnets", kind, [&](Body& b) {
        b.object("filter").str("name", "vpc-id").strings("values", {vpcId}).end();
        b.object("lifecycle").array("postcondition").beginObject();
        b.str("condition", tfRef(fmt::format("length(self.ids) >= {}"_cf, s.count)));
        b.str("error_message",
              fmt::format("environment {} needs {} {} subnets: fewer subnets of {} carry the tag Tier = {}; tag them, or "
                          "list them in the spec's network block ({}_subnets = [...])"_cf,
                          env_.name, s.count, kind, templateEscape(net.existingVpc), kind, kind));
        b.end().end().end();
        b.object("tags").str("Tier", kind).end();
      });
    }
    for (int i = 0; i < s.count; ++i) {
      m_.data("aws_subnet", fmt::format("{}_{}"_cf, kind, i), [&](Body& b) {
        b.str("id", tagged ? tfRef(fmt::format("sort(data.aws_subnets.{}.ids)[{}]"_cf, kind, i))
                           : templateEscape(s.ids[static_cast<std::size_t>(i)]));
        b.str("vpc_id", vpcId);
      });
    }
  }
}

/// Without NAT, private subnets reach ECR, CloudWatch Logs, SSM and Secrets
/// Manager through VPC endpoints.
void EnvWriter::endpoints() {
  const std::string vpcId = tfRef(refs_.vpcId());
  std::vector<std::string> privateRts;
  for (int i = 0; i < f_.network.zones; ++i) {
    privateRts.push_back(tfRef(fmt::format("aws_route_table.private_{}.id"_cf, i)));
  }
  std::string service = fmt::format("com.amazonaws.{}."_cf, env_.region);
  m_.resource("aws_vpc_endpoint", "s3", [&](Body& b) {
    b.strings("route_table_ids", privateRts);
    b.str("service_name", service + "s3");
    b.str("vpc_endpoint_type", "Gateway");
    b.str("vpc_id", vpcId);
  });
  bool ssm = false, secretsManager = false;
  auto scan = [&](const facts::WorkloadFacts& w) {
    ssm = ssm || !w.parameterArns.empty();
    secretsManager = secretsManager || !w.secretArns.empty();
  };
  for (const auto& s : f_.services) scan(s);
  for (const auto& j : f_.jobs) scan(j);
  std::vector<std::string> interfaces = {"ecr.api", "ecr.dkr", "logs"};
  if (secretsManager) interfaces.push_back("secretsmanager");
  if (ssm) interfaces.push_back("ssm");
  for (const auto& name : interfaces) {
    std::string label = name;
    std::replace(label.begin(), label.end(), '.', '_');
    m_.resource("aws_vpc_endpoint", label, [&](Body& b) {
      b.flag("private_dns_enabled", true);
      b.strings("security_group_ids", {tfRef("aws_security_group.endpoints.id")});
      b.str("service_name", service + name);
      b.strings("subnet_ids", refs_.subnetIds("private"));
      b.str("vpc_endpoint_type", "Interface");
      b.str("vpc_id", vpcId);
    });
  }
  m_.resource("aws_security_group", "endpoints", [&](Body& b) {
    b.str("description", "VPC endpoints, reachable over HTTPS from the services");
    b.str("name", fmt::format("{}-endpoints"_cf, n_.prefix()));
    b.str("vpc_id", vpcId);
  });
  m_.resource("aws_vpc_security_group_ingress_rule", "endpoints_from_services", [&](Body& b) {
    b.str("description", "HTTPS from the services");
    b.num("from_port", 443).str("ip_protocol", "tcp");
    b.str("referenced_security_group_id", tfRef(ref::kServicesSecurityGroupId));
    b.str("security_group_id", tfRef("aws_security_group.endpoints.id"));
    b.num("to_port", 443);
  });
}

void EnvWriter::cluster() {
  const facts::ClusterFacts& c = f_.cluster;
  if (c.existing) {
    // It must have the capacity providers the workloads name (docs/terraform.md); the
    // deploy's preflight checks the services' (docs/runtime.md).
    m_.data("aws_ecs_cluster", "main", [&](Body& b) { b.str("cluster_name", templateEscape(c.name)); });
  } else {
    m_.resource("aws_ecs_cluster", "main", [&](Body& b) {
      b.str("name", c.name);
      b.object("setting").str("name", "containerInsights").str("value", "enabled").end();
    });
    if (!c.capacityProviders.empty()) {
      m_.resource("aws_ecs_cluster_capacity_providers", "main", [&](Body& b) {
        b.strings("capacity_providers", c.capacityProviders);
        b.str("cluster_name", tfRef(refs_.clusterName()));
      });
    }
  }
  if (f_.anyInternal) {
    m_.resource("aws_service_discovery_private_dns_namespace", "main", [&](Body& b) {
      b.str("description", fmt::format("Internal services of {} {}"_cf, app_.app.name, env_.name));
      b.str("name", n_.dnsNamespace());
      b.str("vpc", tfRef(refs_.vpcId()));
    });
  }
}

void EnvWriter::egressAll(const std::string& label, const std::string& sgId) {
  m_.resource("aws_vpc_security_group_egress_rule", label + "_all", [&](Body& b) {
    b.str("cidr_ipv4", "0.0.0.0/0");
    b.str("description", "All outbound traffic");
    b.str("ip_protocol", "-1");
    b.str("security_group_id", tfRef(sgId));
  });
}

}  // namespace gops::backend::terraform
