#pragma once
/// The environment's network as gops lays it out: the VPC's CIDR carved into one
/// public and one private subnet per zone, and the NAT gateways. Computed here, so
/// the generated files carry literal CIDRs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"

namespace gops::facts {

struct Ipv4Cidr {
  std::uint32_t address = 0;  ///< network address, host bits zero
  int prefix = 0;
};
/// "10.30.0.0/16" -> {0x0a1e0000, 16}; nullopt if malformed or host bits are set.
std::optional<Ipv4Cidr> parseCidr(std::string_view text);
std::string formatCidr(const Ipv4Cidr& c);
/// Terraform's cidrsubnet(cidr, newbits, netnum), computed here so the generated
/// files carry literal CIDRs; nullopt if the prefix would pass /32 or netnum does
/// not fit in newbits.
std::optional<std::string> cidrSubnet(std::string_view cidr, int newbits, int netnum);

/// How an environment's VPC is carved into subnets: public subnet i is
/// cidrsubnet(cidr, newbits, i), private subnet i is cidrsubnet(cidr, newbits,
/// privateOffset + i). Public subnets take the lower half of the netnums and
/// private ones the upper half, so adding a zone never moves an existing subnet.
struct SubnetLayout {
  int newbits = 4;
  int privateOffset = 8;
  std::string publicCidr(const std::string& vpcCidr, int zone) const;
  std::string privateCidr(const std::string& vpcCidr, int zone) const;
};
/// newbits = min(4, 28 - prefix) (subnets are at least /28, AWS's minimum);
/// privateOffset = 2^(newbits-1). Fails, with a message for the user, when the
/// VPC is too small for `zones` public and `zones` private subnets.
std::optional<SubnetLayout> subnetLayout(std::string_view vpcCidr, int zones, std::string* error);

/// The subnets of one tier (private: where tasks run; public: the load balancer's
/// and the NAT gateways'): created by the environment, or read from an existing VPC,
/// by the ids the spec lists or by their tag `Tier` (`private`, `public`).
struct SubnetFacts {
  enum class Source { Created, Listed, Tagged } source = Source::Created;
  std::vector<std::string> ids;  ///< Listed: as written
  /// How many the module creates or reads, in zone order; 0: nothing needs them (the
  /// public subnets of an existing VPC when the environment creates no load balancer
  /// and the spec lists none).
  int count = 0;
};

/// The network of one environment.
struct NetworkFacts {
  std::string cidr;                       ///< the VPC's; empty for an existing VPC
  int zones = 0;
  /// `vpc = existing("vpc-...")`: the module reads this VPC (and its subnets) and
  /// creates no VPC, subnets, gateways, NAT, routes or VPC endpoints; what it still
  /// creates (security groups, target groups, the Cloud Map namespace) goes into it.
  std::string existingVpc;
  SubnetFacts privateSubnets;  ///< `zones` of them
  SubnetFacts publicSubnets;
  std::vector<std::string> publicCidrs;   ///< created: one per zone, in zone order
  std::vector<std::string> privateCidrs;  ///< created: one per zone, in zone order
  /// NAT gateways: 0 (`none`), 1 (`single`, in public subnet 0) or one per zone;
  /// always 0 in an existing VPC.
  int natGateways = 0;
  /// Why the network cannot be built, for the user: the VPC is too small for its
  /// zones (the CIDR lists are empty then), or an existing VPC lists fewer than two
  /// public subnets for the load balancer the environment creates.
  std::string error;

  bool ok() const { return error.empty(); }
  bool existing() const { return !existingVpc.empty(); }
  /// The NAT gateway private subnet `zone` routes through.
  int natFor(int zone) const { return natGateways == 1 ? 0 : zone; }
};
/// `publicSubnetsNeeded`: the environment creates a load balancer, which an
/// existing VPC's public subnets (listed, else found by tag) are then read for.
NetworkFacts networkFacts(const model::Network& n, bool publicSubnetsNeeded);

}  // namespace gops::facts
