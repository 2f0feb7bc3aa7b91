#include "backends/terraform/naming.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

std::string awsName(std::string_view gopsName) {
  std::string out(gopsName);
  for (char& c : out) {
    if (c == '_') c = '-';
    else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::uint32_t stableHash(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

std::string boundedName(std::string_view stem, std::string_view suffix, std::size_t maxLength) {
  if (stem.size() + suffix.size() <= maxLength) return fmt::format("{}{}"_cf, stem, suffix);
  std::string full = fmt::format("{}{}"_cf, stem, suffix);
  std::string hash = fmt::format("{:06x}"_cf, stableHash(full) & 0xffffffu);
  std::size_t keep = maxLength - suffix.size() - hash.size() - 1;
  std::string_view cut = stem.substr(0, keep);
  std::string out(cut);
  // Pad rather than end the cut on '-', so the result keeps its exact length and
  // never shows "--" before the hash.
  while (!out.empty() && out.back() == '-') out.back() = 'x';
  return fmt::format("{}-{}{}"_cf, out, hash, suffix);
}

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

std::string partitionOf(std::string_view region) {
  if (region.substr(0, 3) == "cn-") return "aws-cn";
  if (region.substr(0, 7) == "us-gov-") return "aws-us-gov";
  return "aws";
}

std::string stateBucket(const model::App& app, std::string_view account) {
  return boundedName(awsName(app.name), fmt::format("-tfstate-{}"_cf, account), kBucketNameMax);
}

EnvNames::EnvNames(const model::App& app, const model::Environment& env)
    : app_(app), env_(env), prefix_(awsName(app.name) + "-" + awsName(env.name)), partition_(partitionOf(env.region)) {}

std::string EnvNames::loadBalancer() const { return boundedName(prefix_, "", kLoadBalancerNameMax); }

std::string EnvNames::targetGroup(std::string_view service, std::string_view color) const {
  return boundedName(fmt::format("{}-{}"_cf, prefix_, awsName(service)),
                     color.empty() ? "" : fmt::format("-{}"_cf, color), kLoadBalancerNameMax);
}

std::string EnvNames::workload(std::string_view name) const { return fmt::format("{}-{}"_cf, prefix_, awsName(name)); }

std::string EnvNames::logGroup(std::string_view name) const {
  return fmt::format("/gops/{}/{}/{}"_cf, app_.name, env_.name, name);
}

std::string EnvNames::role(std::string_view name, std::string_view kind) const {
  return boundedName(workload(name), fmt::format("-{}"_cf, kind), kRoleNameMax);
}

std::string EnvNames::taskRolePath() const { return fmt::format("/gops/{}/{}/tasks/"_cf, app_.name, env_.name); }

std::string EnvNames::rolePath() const { return fmt::format("/gops/{}/{}/"_cf, app_.name, env_.name); }

std::string EnvNames::deployRole() const { return boundedName(prefix_, "-github-deploy", kRoleNameMax); }

std::string EnvNames::schedule(std::string_view job) const { return boundedName(workload(job), "", kScheduleNameMax); }

std::string EnvNames::alarm(std::string_view service, std::string_view what) const {
  return fmt::format("{}-{}-{}"_cf, prefix_, awsName(service), what);
}

std::string rollbackAlarmSuffix(std::string_view metric, int nth) {
  return fmt::format("rollback-{}{}"_cf, awsName(metric), nth > 1 ? fmt::format("-{}"_cf, nth) : "");
}

std::vector<std::string> EnvNames::rollbackAlarms(const model::Service& s) const {
  std::vector<std::string> out;
  std::map<std::string, int> seen;
  for (const auto& c : s.rollout.rollback) {
    if (c.metric == "alarm") {
      out.push_back(c.alarmName);
    } else {
      out.push_back(alarm(s.name, rollbackAlarmSuffix(c.metric, ++seen[c.metric])));
    }
  }
  return out;
}

std::string EnvNames::dnsNamespace() const { return fmt::format("{}.{}.internal"_cf, env_.name, app_.name); }

std::string EnvNames::ledgerPath() const { return fmt::format("/gops/{}/{}"_cf, app_.name, env_.name); }

std::string EnvNames::stateKey() const { return fmt::format("{}/{}/terraform.tfstate"_cf, app_.name, env_.name); }

std::string EnvNames::arn(std::string_view service, std::string_view resource) const {
  return fmt::format("arn:{}:{}:{}:{}:{}"_cf, partition_, service, env_.region, env_.account, resource);
}

std::string EnvNames::roleArn(std::string_view path, std::string_view name) const {
  return fmt::format("arn:{}:iam::{}:role{}{}"_cf, partition_, env_.account, path, name);
}

}  // namespace gops::backend::terraform
