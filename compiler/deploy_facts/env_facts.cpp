#include "deploy_facts/env_facts.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "deploy_facts/files.h"
#include "deploy_facts/outputs.h"

namespace gops::facts {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

Exposure exposureOf(const model::Service& s) {
  if (!s.port) return Exposure::None;
  switch (s.expose.kind) {
    case model::Expose::Kind::Public: return Exposure::Public;
    case model::Expose::Kind::Internal: return Exposure::Internal;
    case model::Expose::Kind::None: break;
  }
  return Exposure::None;
}

bool runsOnTaskSets(const model::Service& s) { return exposureOf(s) == Exposure::Public && s.rollout.shiftsTraffic(); }

namespace {

void workloadFacts(WorkloadFacts& f, const EnvFacts& e, const model::Workload& w, std::optional<int> port,
                   const std::optional<model::Health>& health) {
  f.workload = &w;
  f.name = w.name;
  f.family = e.names.workload(w.name);
  f.task = taskDefinition(e.app.app, e.env, e.names, w, port, health);
  f.taskDefinitionFile = files::taskDefinition(w.name);
  std::set<std::string> parameters, secrets;
  for (const auto& [_, s] : w.secrets) {
    if (s.kind == model::Secret::Kind::Ssm) {
      parameters.insert(e.names.ssmParameterArn(s.name));
    } else {
      secrets.insert(e.names.secretArn(s.name) + (s.name.rfind("arn:", 0) == 0 ? "" : "-??????"));
    }
  }
  f.parameterArns.assign(parameters.begin(), parameters.end());
  f.secretArns.assign(secrets.begin(), secrets.end());
  if (w.image.kind == model::Image::Kind::Ecr) f.ecrRepository = w.image.repository;
}

ServiceFacts serviceFacts(const EnvFacts& e, const model::Service& s) {
  ServiceFacts f;
  f.service = &s;
  f.exposure = exposureOf(s);
  f.runsOnTaskSets = runsOnTaskSets(s);
  // Only a service with a port has a container port mapping and health check.
  workloadFacts(f, e, s, s.port, s.port ? s.health : std::nullopt);
  f.serviceFile = files::service(s.name);

  const bool rolling = s.rollout.kind == model::Rollout::Kind::Rolling;
  f.deployment.controller = f.runsOnTaskSets ? "EXTERNAL" : "ECS";
  f.deployment.circuitBreaker = !f.runsOnTaskSets;
  f.deployment.maximumPercent = rolling ? s.rollout.maxPercent : 200;
  f.deployment.minimumHealthyPercent = rolling ? s.rollout.minHealthyPercent : 100;

  if (f.isPublic()) {
    f.healthCheckGracePeriod = s.health.value_or(model::Health{}).gracePeriodSeconds;
    if (f.runsOnTaskSets) {
      for (const char* color : {"blue", "green"}) {
        f.targetGroups.push_back({color, e.names.targetGroup(s.name, color), output::targetGroupArn(s.name, color),
                                  files::taskSet(s.name, color)});
      }
    } else {
      f.targetGroups.push_back({"", e.names.targetGroup(s.name, ""), output::targetGroupArn(s.name), ""});
    }
    const auto& hosts = s.expose.hosts;
    std::size_t rules = (hosts.size() + kHostsPerListenerRule - 1) / kHostsPerListenerRule;
    for (std::size_t k = 0; k < rules; ++k) {
      ListenerRule r;
      r.index = k;
      auto first = hosts.begin() + static_cast<std::ptrdiff_t>(k * kHostsPerListenerRule);
      auto last = hosts.begin() + static_cast<std::ptrdiff_t>(std::min(hosts.size(), (k + 1) * kHostsPerListenerRule));
      r.hosts.assign(first, last);
      r.arnOutput = output::listenerRuleArn(s.name, k);
      f.listenerRules.push_back(std::move(r));
    }
  }

  std::vector<std::string> names = e.names.rollbackAlarms(s);
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < s.rollout.rollback.size(); ++i) {
    const auto& c = s.rollout.rollback[i];
    RollbackAlarm a;
    a.condition = &c;
    a.name = std::move(names[i]);
    a.created = c.metric != "alarm";
    a.nth = a.created ? ++seen[c.metric] : 1;
    f.rollbackAlarms.push_back(std::move(a));
  }
  return f;
}

JobFacts jobFacts(const EnvFacts& e, const model::Job& j) {
  JobFacts f;
  f.job = &j;
  workloadFacts(f, e, j, std::nullopt, std::nullopt);
  f.scheduleName = e.names.schedule(j.name);
  f.schedule = scheduleFacts(j.schedule);
  return f;
}

/// Listener rule priorities: a hash of `<service>#<rule>`, the next free one on a
/// collision, in service order.
void assignRulePriorities(std::vector<ServiceFacts>& services) {
  std::set<std::uint32_t> used;
  for (auto& s : services) {
    for (auto& r : s.listenerRules) {
      std::uint32_t pr = 1 + stableHash(fmt::format("{}#{}"_cf, s.name, r.index)) % kRulePriorities;
      while (used.count(pr)) pr = pr % kRulePriorities + 1;
      used.insert(pr);
      r.priority = pr;
    }
  }
}

}  // namespace

EnvFacts::EnvFacts(const model::AppModel& a, const model::Environment& e)
    : app(a), env(e), names(a.app, e), network(networkFacts(e.network)) {
  services.reserve(env.services.size());
  for (const auto& s : env.services) {
    services.push_back(serviceFacts(*this, s));
    anyPublic = anyPublic || services.back().isPublic();
    anyInternal = anyInternal || services.back().isInternal();
    anyTaskSets = anyTaskSets || services.back().runsOnTaskSets;
  }
  assignRulePriorities(services);
  jobs.reserve(env.jobs.size());
  for (const auto& j : env.jobs) jobs.push_back(jobFacts(*this, j));
  tags = {{"app", app.app.name}, {"environment", env.name}, {"managed-by", "gops"}};
  for (const auto& s : services) {
    if (s.ecrRepository) ecrRepositories.insert(*s.ecrRepository);
  }
  for (const auto& j : jobs) {
    if (j.ecrRepository) ecrRepositories.insert(*j.ecrRepository);
  }
  deployBranches = facts::deployBranches(app, env);
  if (env.driftCheck) driftCheck = scheduleFacts(*env.driftCheck);
  deployLimits = model::deployLimits(env);
}

std::set<std::string> deployBranches(const model::AppModel& app, const model::Environment& env) {
  std::set<std::string> branches;
  if (env.deploy.kind == model::Deploy::Kind::OnPush) {
    branches.insert(env.deploy.branch);
    return branches;
  }
  for (const model::Promotion* p : app.promotionsInto(env.name)) {
    const model::Environment* from = app.environment(p->from);
    if (from && from->deploy.kind == model::Deploy::Kind::OnPush) branches.insert(from->deploy.branch);
  }
  return branches;
}

AppFacts::AppFacts(const model::AppModel& a) : app(a) {
  environments.reserve(app.environments.size());
  for (const auto& e : app.environments) environments.emplace_back(app, e);
}

const EnvFacts& AppFacts::environment(std::string_view name) const {
  for (const auto& e : environments) {
    if (e.env.name == name) return e;
  }
  std::fprintf(stderr, "gops: internal error: no deployment facts for environment `%.*s`\n",
               static_cast<int>(name.size()), name.data());
  std::abort();
}

std::vector<std::string> awsAccounts(const model::AppModel& app) {
  std::vector<std::string> out;
  for (const auto& e : app.environments) out.push_back(e.account);
  if (!app.app.registry.empty()) out.push_back(app.app.registry);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string homeAccount(const model::AppModel& app) {
  if (!app.app.registry.empty()) return app.app.registry;
  return app.environments.empty() ? std::string() : app.environments.front().account;
}

std::map<std::string, std::set<std::string>> ecrRepositories(const model::AppModel& app) {
  std::map<std::string, std::set<std::string>> out;
  auto add = [&](const model::Workload& w, const std::string& account) {
    if (w.image.kind == model::Image::Kind::Ecr) out[w.image.repository].insert(account);
  };
  for (const auto& e : app.environments) {
    for (const auto& s : e.services) add(s, e.account);
    for (const auto& j : e.jobs) add(j, e.account);
  }
  return out;
}

}  // namespace gops::facts
