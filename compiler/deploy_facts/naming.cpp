#include "deploy_facts/naming.h"

#include <algorithm>
#include <map>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::facts {

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

std::string partitionOf(std::string_view region) {
  if (region.substr(0, 3) == "cn-") return "aws-cn";
  if (region.substr(0, 7) == "us-gov-") return "aws-us-gov";
  return "aws";
}

std::string dnsSuffix(std::string_view partition) { return partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"; }

std::string stateBucket(const model::App& app, std::string_view account) {
  return boundedName(awsName(app.name), fmt::format("-tfstate-{}"_cf, account), kBucketNameMax);
}

std::string registryHost(const model::App& app) {
  return fmt::format("{}.dkr.ecr.{}.{}"_cf, app.registry, app.region, dnsSuffix(partitionOf(app.region)));
}

std::string pushRoleName(const model::App& app) { return boundedName(awsName(app.name), "-github-push", kRoleNameMax); }

std::string pushRolePath(const model::App& app) { return fmt::format("/gops/{}/"_cf, app.name); }

std::string pushRoleArn(const model::App& app) {
  return fmt::format("arn:{}:iam::{}:role{}{}"_cf, partitionOf(app.region), app.registry, pushRolePath(app),
                     pushRoleName(app));
}

EnvNames::EnvNames(const model::App& app, const model::Environment& env)
    : app_(app),
      env_(env),
      prefix_(awsName(app.name) + "-" + awsName(env.name)),
      partition_(partitionOf(env.region)),
      cluster_(env.existingCluster.empty() ? prefix_ : clusterNameOf(env.existingCluster)) {}

std::string clusterNameOf(std::string_view nameOrArn) {
  if (nameOrArn.rfind("arn:", 0) != 0) return std::string(nameOrArn);
  auto slash = nameOrArn.find(":cluster/");
  return std::string(slash == std::string_view::npos ? nameOrArn : nameOrArn.substr(slash + 9));
}

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

std::string EnvNames::deployRoleArn() const { return roleArn(rolePath(), deployRole()); }

std::string EnvNames::gatesRole() const { return boundedName(prefix_, "-github-gates", kRoleNameMax); }

std::string EnvNames::gatesRoleArn() const { return roleArn(rolePath(), gatesRole()); }

std::string EnvNames::ecsInfrastructureRole() const { return boundedName(prefix_, "-ecs-infrastructure", kRoleNameMax); }

std::string EnvNames::ecsInfrastructureRoleArn() const { return roleArn(rolePath(), ecsInfrastructureRole()); }

std::string EnvNames::schedule(std::string_view job) const { return boundedName(workload(job), "", kScheduleNameMax); }

std::string EnvNames::alarm(std::string_view service, std::string_view what) const {
  return fmt::format("{}-{}-{}"_cf, prefix_, awsName(service), what);
}

std::string rollbackAlarmSuffix(std::string_view metric, int nth) {
  return fmt::format("rollback-{}{}"_cf, awsName(metric), nth > 1 ? fmt::format("-{}"_cf, nth) : "");
}

std::string newColorAlarm(std::string_view alarm, std::string_view color) {
  return fmt::format("{}-new-{}"_cf, alarm, color);
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

std::string EnvNames::stateBucket() const { return facts::stateBucket(app_, env_.account); }

std::string EnvNames::arn(std::string_view service, std::string_view resource) const {
  return fmt::format("arn:{}:{}:{}:{}:{}"_cf, partition_, service, env_.region, env_.account, resource);
}

std::string EnvNames::roleArn(std::string_view path, std::string_view name) const {
  return fmt::format("arn:{}:iam::{}:role{}{}"_cf, partition_, env_.account, path, name);
}

std::string EnvNames::ssmParameterArn(std::string_view name) const {
  if (name.rfind("arn:", 0) == 0) return std::string(name);
  return arn("ssm", fmt::format("parameter/{}"_cf, !name.empty() && name.front() == '/' ? name.substr(1) : name));
}

std::string EnvNames::secretArn(std::string_view id) const {
  if (id.rfind("arn:", 0) == 0) return std::string(id);
  return arn("secretsmanager", fmt::format("secret:{}"_cf, id));
}

}  // namespace gops::facts
