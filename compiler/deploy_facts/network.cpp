#include "deploy_facts/network.h"

#include <algorithm>
#include <cstdio>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::facts {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

std::optional<Ipv4Cidr> parseCidr(std::string_view text) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  int p = -1;
  char tail = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%u.%u.%u.%u/%d%c", &a, &b, &c, &d, &p, &tail) != 5) return std::nullopt;
  if (a > 255 || b > 255 || c > 255 || d > 255 || p < 0 || p > 32) return std::nullopt;
  std::uint32_t addr = (a << 24) | (b << 16) | (c << 8) | d;
  std::uint32_t mask = p == 0 ? 0 : ~std::uint32_t{0} << (32 - p);
  if ((addr & ~mask) != 0) return std::nullopt;
  return Ipv4Cidr{addr, p};
}

std::string formatCidr(const Ipv4Cidr& c) {
  return fmt::format("{}.{}.{}.{}/{}"_cf, c.address >> 24, (c.address >> 16) & 255, (c.address >> 8) & 255,
                     c.address & 255, c.prefix);
}

std::optional<std::string> cidrSubnet(std::string_view cidr, int newbits, int netnum) {
  auto base = parseCidr(cidr);
  if (!base || newbits < 0 || netnum < 0) return std::nullopt;
  int prefix = base->prefix + newbits;
  if (prefix > 32 || newbits > 30 || netnum >= (1 << newbits)) return std::nullopt;
  std::uint32_t offset = prefix == 32 ? static_cast<std::uint32_t>(netnum)
                                      : static_cast<std::uint32_t>(netnum) << (32 - prefix);
  return formatCidr(Ipv4Cidr{base->address | offset, prefix});
}

std::string SubnetLayout::publicCidr(const std::string& vpcCidr, int zone) const {
  return cidrSubnet(vpcCidr, newbits, zone).value_or("");
}

std::string SubnetLayout::privateCidr(const std::string& vpcCidr, int zone) const {
  return cidrSubnet(vpcCidr, newbits, privateOffset + zone).value_or("");
}

std::optional<SubnetLayout> subnetLayout(std::string_view vpcCidr, int zones, std::string* error) {
  auto c = parseCidr(vpcCidr);
  if (!c) {
    if (error) *error = fmt::format("`{}` is not a network address in CIDR form"_cf, vpcCidr);
    return std::nullopt;
  }
  int newbits = std::min(4, 28 - c->prefix);
  int half = newbits >= 1 ? 1 << (newbits - 1) : 0;
  if (zones < 1 || zones > half) {
    if (error) {
      *error = fmt::format("the network {} is too small for {} public and {} private subnets of at least /28"_cf,
                           vpcCidr, zones, zones);
    }
    return std::nullopt;
  }
  return SubnetLayout{newbits, half};
}

NetworkFacts networkFacts(const model::Network& n, bool publicSubnetsNeeded) {
  NetworkFacts f;
  f.zones = n.zones;
  if (!n.existingVpc.empty()) {
    using Source = SubnetFacts::Source;
    f.existingVpc = n.existingVpc;
    auto read = [&](const std::vector<std::string>& listed, bool needed) {
      SubnetFacts s;
      if (!listed.empty()) {
        s.source = Source::Listed;
        s.ids = listed;
        s.count = static_cast<int>(listed.size());
      } else {
        s.source = Source::Tagged;
        s.count = needed ? n.zones : 0;
      }
      return s;
    };
    f.privateSubnets = read(n.privateSubnets, true);
    f.zones = f.privateSubnets.count;
    f.publicSubnets = read(n.publicSubnets, publicSubnetsNeeded);
    if (publicSubnetsNeeded && f.publicSubnets.count < 2) {
      f.error = fmt::format("the load balancer the environment creates in {} needs public subnets in 2 zones at least, "
                            "and `public_subnets` lists {}"_cf,
                            n.existingVpc, f.publicSubnets.count);
    }
    return f;
  }
  f.cidr = n.cidr;
  f.natGateways = n.nat == model::Network::Nat::None ? 0 : n.nat == model::Network::Nat::Single ? 1 : n.zones;
  f.privateSubnets.count = f.publicSubnets.count = n.zones;
  auto layout = subnetLayout(n.cidr, n.zones, &f.error);
  if (!layout) return f;
  for (int i = 0; i < n.zones; ++i) {
    f.publicCidrs.push_back(layout->publicCidr(n.cidr, i));
    f.privateCidrs.push_back(layout->privateCidr(n.cidr, i));
  }
  return f;
}

}  // namespace gops::facts
