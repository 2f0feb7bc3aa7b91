#include "deploy_facts/env_facts.h"

#include <algorithm>
#include <cmath>
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

Runner runnerOf(const model::Service& s) {
  if (exposureOf(s) != Exposure::Public || !s.rollout.shiftsTraffic()) return Runner::EcsRolling;
  return s.rollout.engine == model::Rollout::Engine::Ecs ? Runner::EcsNative : Runner::GopsTaskSets;
}

bool runsOnTaskSets(const model::Service& s) { return runnerOf(s) == Runner::GopsTaskSets; }
bool runsNatively(const model::Service& s) { return runnerOf(s) == Runner::EcsNative; }
bool hasTwoTargetGroups(const model::Service& s) { return runnerOf(s) != Runner::EcsRolling; }

namespace {

/// Whole minutes (the checker lets only those through for `engine = ecs`).
int minutes(double seconds) { return static_cast<int>(std::lround(seconds / 60)); }

/// ECS's strategy for a rollout it runs natively (the checker's E0510 admits only the
/// shapes ECS runs: blue_green without test traffic, one canary step, equal linear steps).
NativeStrategy nativeStrategy(const model::Rollout& r, const std::vector<RollbackAlarm>& alarms) {
  NativeStrategy n;
  for (const auto& a : alarms) n.alarmNames.push_back(a.name);
  switch (r.kind) {
    case model::Rollout::Kind::BlueGreen:
      n.strategy = "BLUE_GREEN";
      n.bakeTimeMinutes = minutes(r.bakeSeconds);
      n.shifts.push_back({100, r.bakeSeconds});
      break;
    case model::Rollout::Kind::Canary:
      n.strategy = "CANARY";
      if (!r.steps.empty()) {
        n.canaryPercent = r.steps.front().weight;
        n.canaryBakeTimeMinutes = minutes(r.steps.front().holdSeconds);
      }
      n.shifts = r.steps;
      n.shifts.push_back({100, 0});
      break;
    case model::Rollout::Kind::Linear:
      n.strategy = "LINEAR";
      n.linearStepPercent = r.linearStepPercent;
      n.linearStepBakeTimeMinutes = minutes(r.linearIntervalSeconds);
      n.shifts = r.steps;
      n.shifts.push_back({100, 0});
      break;
    case model::Rollout::Kind::Rolling: break;
  }
  return n;
}

void workloadFacts(WorkloadFacts& f, const EnvFacts& e, const model::Workload& w, std::optional<int> port,
                   const std::optional<model::Health>& health) {
  f.workload = &w;
  f.name = w.name;
  f.family = e.names.workload(w.name);
  f.capacityStrategy = capacityStrategy(w.capacity);
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

/// The log stream of a FireLens-routed container, when the router sends it to
/// CloudWatch Logs (aws-for-fluent-bit's `cloudwatch_logs` or `cloudwatch` output, a
/// `log_group_name` and no fixed `log_stream_name`): the stream is the prefix and the
/// FireLens tag `<container>-firelens-<task id>`.
void firelensLogs(OneOffTask& t, const LogConfiguration& logs, const std::string& container) {
  auto option = [&](std::string_view key) -> const std::string* {
    for (const auto& [k, v] : logs.firelensOptions) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  const std::string* name = option("Name");
  const std::string* group = option("log_group_name");
  if (!name || (*name != "cloudwatch_logs" && *name != "cloudwatch") || !group || option("log_stream_name")) return;
  const std::string* prefix = option("log_stream_prefix");
  t.logGroup = *group;
  t.logStreamPrefix = (prefix ? *prefix : std::string()) + container + "-firelens-";
}

OneOffTask oneOffTask(const ServiceFacts& f, const model::Task& task) {
  const Container& c = f.container();
  OneOffTask t;
  t.container = c.name;
  t.command = task.command;
  if (task.cpu != 0 || task.memory != 0) {
    // The size the task runs with, and the container's share of it, as taskDefinition()
    // splits the service's: the sidecars keep theirs, the container gets the rest.
    t.cpu = task.cpu != 0 ? task.cpu : f.task.cpu;
    t.memory = task.memory != 0 ? task.memory : f.task.memory;
    t.containerMemory = *t.memory - (f.task.memory - c.memory);
    if (c.cpu) t.containerCpu = *t.cpu - (f.task.cpu - *c.cpu);
  }
  t.placementFile = f.runsOnTaskSets ? f.targetGroups.front().taskSetFile : f.serviceFile;
  if (c.logs.awslogs()) {
    t.logGroup = c.logs.group;
    t.logStreamPrefix = fmt::format("{}/{}/"_cf, c.logs.streamPrefix, c.name);
  } else {
    firelensLogs(t, c.logs, c.name);
  }
  t.timeoutSeconds = task.timeoutSeconds;
  return t;
}

ServiceFacts serviceFacts(const EnvFacts& e, const model::Service& s) {
  ServiceFacts f;
  f.service = &s;
  f.exposure = exposureOf(s);
  f.runner = runnerOf(s);
  f.runsOnTaskSets = f.runner == Runner::GopsTaskSets;
  f.runsNatively = f.runner == Runner::EcsNative;
  // Only a service with a port has a container port mapping and health check.
  workloadFacts(f, e, s, s.port, s.port ? s.health : std::nullopt);
  f.serviceFile = files::service(s.name);

  const bool rolling = s.rollout.kind == model::Rollout::Kind::Rolling;
  f.deployment.controller = f.runsOnTaskSets ? "EXTERNAL" : "ECS";
  // ECS's circuit breaker watches rolling deployments only; a native strategy fails
  // its deployment itself when the new tasks do not become healthy.
  f.deployment.circuitBreaker = f.runner == Runner::EcsRolling;
  f.deployment.maximumPercent = rolling ? s.rollout.maxPercent : 200;
  f.deployment.minimumHealthyPercent = rolling ? s.rollout.minHealthyPercent : 100;

  if (f.isPublic()) {
    f.healthCheckGracePeriod = s.health.value_or(model::Health{}).gracePeriodSeconds;
    if (f.runner != Runner::EcsRolling) {
      for (const char* color : {"blue", "green"}) {
        f.targetGroups.push_back({color, e.names.targetGroup(s.name, color), output::targetGroupArn(s.name, color),
                                  f.runsOnTaskSets ? files::taskSet(s.name, color) : std::string()});
      }
    } else {
      f.targetGroups.push_back({"", e.names.targetGroup(s.name, ""), output::targetGroupArn(s.name), ""});
    }
    // Hosts and path patterns share a rule's condition values; the checker keeps
    // the patterns to at most model::kAlbValuesPerCondition.
    const auto& hosts = s.expose.hosts;
    const std::size_t perRule = s.expose.hostsPerRule();
    std::size_t rules = (hosts.size() + perRule - 1) / perRule;
    for (std::size_t k = 0; k < rules; ++k) {
      ListenerRule r;
      r.index = k;
      auto first = hosts.begin() + static_cast<std::ptrdiff_t>(k * perRule);
      auto last = hosts.begin() + static_cast<std::ptrdiff_t>(std::min(hosts.size(), (k + 1) * perRule));
      r.hosts.assign(first, last);
      r.paths = s.expose.paths;
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
    if (!c.baseline) {
      f.rollbackAlarms.push_back(std::move(a));
      continue;
    }
    // Compared with the stable version: one alarm per colour the new version can go
    // behind. The checker allows it only where there are two colours.
    if (!f.runsOnTaskSets) {
      std::fprintf(stderr, "gops: internal error: service `%s` compares `%s` with the stable version, but does not run on task sets\n",
                   s.name.c_str(), c.metric.c_str());
      std::abort();
    }
    for (const auto& tg : f.targetGroups) {
      RollbackAlarm colored = a;
      colored.name = newColorAlarm(a.name, tg.color);
      colored.newColor = tg.color;
      f.rollbackAlarms.push_back(std::move(colored));
    }
  }
  if (f.runsNatively) f.deployment.native = nativeStrategy(s.rollout, f.rollbackAlarms);
  if (s.beforeDeploy) f.beforeDeploy = oneOffTask(f, *s.beforeDeploy);
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

/// Listener rule priorities: a hash of `<service>#<rule>` (of `<family>#<rule>` on a
/// listener the environment shares: an existing load balancer) within the rule's
/// band, the next free one of the band on a collision, in service order. A rule
/// without paths on a host some path rule routes is a fallback, in the band above
/// every other rule's, so the load balancer tries the path rules first.
void assignRulePriorities(std::vector<ServiceFacts>& services, bool sharedListener) {
  std::set<std::string> pathHosts;
  for (const auto& s : services) {
    for (const auto& r : s.listenerRules) {
      if (!r.paths.empty()) pathHosts.insert(r.hosts.begin(), r.hosts.end());
    }
  }
  std::set<std::uint32_t> used;
  for (auto& s : services) {
    for (auto& r : s.listenerRules) {
      r.fallback = r.paths.empty() && std::any_of(r.hosts.begin(), r.hosts.end(),
                                                  [&](const std::string& h) { return pathHosts.count(h) > 0; });
      const std::uint32_t first = r.fallback ? kRulePriorities + 1 : 1;
      const std::uint32_t size = r.fallback ? kFallbackPriorities : kRulePriorities;
      const std::string key = fmt::format("{}#{}"_cf, sharedListener ? s.family : s.name, r.index);
      std::uint32_t pr = first + stableHash(key) % size;
      while (used.count(pr)) pr = pr + 1 == first + size ? first : pr + 1;
      used.insert(pr);
      r.priority = pr;
    }
  }
}

bool anyPublicService(const model::Environment& env) {
  return std::any_of(env.services.begin(), env.services.end(),
                     [](const model::Service& s) { return exposureOf(s) == Exposure::Public; });
}

}  // namespace

EnvFacts::EnvFacts(const model::AppModel& a, const model::Environment& e)
    : app(a),
      env(e),
      names(a.app, e),
      network(networkFacts(e.network, anyPublicService(e) && e.existingLoadBalancer.empty())),
      loadBalancer(loadBalancerFacts(e, names, anyPublicService(e))) {
  cluster.existing = !env.existingCluster.empty();
  cluster.name = names.cluster();
  services.reserve(env.services.size());
  std::set<std::string> hosts;
  for (const auto& s : env.services) {
    services.push_back(serviceFacts(*this, s));
    anyPublic = anyPublic || services.back().isPublic();
    anyInternal = anyInternal || services.back().isInternal();
    anyTaskSets = anyTaskSets || services.back().runsOnTaskSets;
    if (services.back().isPublic()) hosts.insert(s.expose.hosts.begin(), s.expose.hosts.end());
    anyNative = anyNative || services.back().runsNatively;
    anyBeforeDeploy = anyBeforeDeploy || services.back().beforeDeploy.has_value();
  }
  publicHosts.assign(hosts.begin(), hosts.end());
  assignRulePriorities(services, loadBalancer.existing);
  jobs.reserve(env.jobs.size());
  for (const auto& j : env.jobs) jobs.push_back(jobFacts(*this, j));
  std::set<std::string> providers;
  auto strategy = [&](const WorkloadFacts& w) {
    for (const auto& share : w.capacityStrategy) providers.insert(share.provider);
  };
  for (const auto& s : services) strategy(s);
  for (const auto& j : jobs) strategy(j);
  cluster.capacityProviders.assign(providers.begin(), providers.end());
  if (env.dns) dnsZone = env.dns->zone;
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
