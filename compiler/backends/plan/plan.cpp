#include "backends/plan/plan.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "deploy_facts/env_facts.h"
#include "deploy_facts/files.h"
#include "deploy_facts/outputs.h"
#include "model/deploy_time.h"
#include "plan/writer.h"

namespace gops::backend::plan {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call
namespace contract = gops::plan;

namespace {

using model::Rollout;
using model::Service;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "gops: internal error in the plan backend: %s\n", what.c_str());
  std::abort();
}

/// The longest `for` of the service's rollback conditions: how long a hold must
/// last for every alarm to have had its chance to fire.
double longestCondition(const Service& s) {
  double longest = 0;
  for (const auto& c : s.rollout.rollback) longest = std::max(longest, c.forSeconds);
  return longest;
}

contract::Strategy strategy(Rollout::Kind k) {
  switch (k) {
    case Rollout::Kind::Rolling: return contract::Strategy::Rolling;
    case Rollout::Kind::BlueGreen: return contract::Strategy::BlueGreen;
    case Rollout::Kind::Canary: return contract::Strategy::Canary;
    case Rollout::Kind::Linear: return contract::Strategy::Linear;
  }
  broken("unknown rollout kind");
}

contract::StrategySource strategySource(const std::string& source) {
  if (source.empty()) return contract::StrategySource::Default;  // a model built by hand, not by the checker
  for (auto s : {contract::StrategySource::Service, contract::StrategySource::Environment, contract::StrategySource::Default,
                 contract::StrategySource::Fallback}) {
    if (contract::toString(s) == source) return s;
  }
  broken(fmt::format("the model's rollout source `{}` is none the plan knows", source));
}

contract::GateKind gateKind(model::Gate::Kind k) {
  switch (k) {
    case model::Gate::Kind::TestsPassed: return contract::GateKind::TestsPassed;
    case model::Gate::Kind::SecurityScan: return contract::GateKind::SecurityScan;
    case model::Gate::Kind::Approval: return contract::GateKind::Approval;
    case model::Gate::Kind::Soak: return contract::GateKind::Soak;
  }
  broken("unknown gate kind");
}

contract::RegisterTaskDefinition registerStep(const facts::WorkloadFacts& w) { return {w.family, w.taskDefinitionFile}; }

/// `before_deploy`: the one-off task of the new revision, before any traffic moves.
contract::RunTask runTaskStep(const facts::OneOffTask& t) {
  contract::RunTask r;
  r.container = t.container;
  r.command = t.command;
  r.cpu = t.cpu;
  r.memory = t.memory;
  r.containerCpu = t.containerCpu;
  r.containerMemory = t.containerMemory;
  r.placementFile = t.placementFile;
  r.logGroup = t.logGroup;
  r.logStreamPrefix = t.logStreamPrefix;
  r.timeoutSeconds = t.timeoutSeconds;
  return r;
}

/// A service on task sets or run natively: its listener rules and its two target
/// groups (with their task set files on task sets).
contract::Traffic traffic(const facts::ServiceFacts& f) {
  contract::Traffic t;
  for (const auto& rule : f.listenerRules) t.listenerRules.push_back(facts::tfPlaceholder(rule.arnOutput));
  for (const auto& tg : f.targetGroups) {
    contract::TargetGroup g{tg.name, facts::tfPlaceholder(tg.arnOutput), tg.taskSetFile};
    if (tg.color == "blue") t.blue = std::move(g);
    else if (tg.color == "green") t.green = std::move(g);
    else broken(fmt::format("service `{}` shifting traffic has a target group without a colour", f.name));
  }
  return t;
}

contract::Service service(const facts::ServiceFacts& f) {
  const Service& s = *f.service;
  const Rollout& r = s.rollout;
  const bool taskSets = f.runsOnTaskSets;
  const bool native = f.runsNatively;
  contract::Service p;
  p.name = s.name;
  p.ecsService = f.family;
  p.taskFamily = f.family;
  p.serviceFile = f.serviceFile;
  p.dependsOn = s.dependsOn;
  p.desiredCount = s.replicas;
  if (s.autoscale) p.autoscale = contract::Autoscale{s.autoscale->min, s.autoscale->max};
  p.strategy = strategy(r.kind);
  p.strategySource = strategySource(s.rolloutSource);
  p.controller = taskSets ? contract::Controller::External : contract::Controller::Ecs;
  p.engine = native ? contract::Engine::Ecs : contract::Engine::Gops;
  if (taskSets || native) p.traffic = traffic(f);

  // The service's time limit adds up as the steps are laid out.
  double total = 0;
  p.steps.push_back(registerStep(f));
  const double taskSeconds = f.beforeDeploy ? f.beforeDeploy->timeoutSeconds : 0;
  if (f.beforeDeploy) {
    // Before the update (rolling), the new task set or ECS's deployment: before any traffic moves.
    p.steps.push_back(runTaskStep(*f.beforeDeploy));
    total += taskSeconds;
  }
  auto shift = [&](double weight, double hold) {
    p.steps.push_back(contract::Shift{weight, hold});
    total += contract::kShiftSettle + hold;
  };
  if (native) {
    // ECS runs the strategy: gops starts the deployment and follows it, its time limit
    // the new tasks' start, every bake and a minute per shift.
    const facts::NativeStrategy& n = *f.deployment.native;
    contract::FollowDeployment follow;
    total += contract::kStabilizeTimeout;
    for (const auto& sh : n.shifts) {
      follow.shifts.push_back(contract::Shift{sh.weight, sh.holdSeconds});
      total += contract::kShiftSettle + sh.holdSeconds;
    }
    follow.timeoutSeconds = total - taskSeconds;  // the follow's own: not the task's, which ran before
    p.steps.push_back(contract::StartDeployment{});
    p.steps.emplace_back(std::in_place_type<contract::FollowDeployment>, std::move(follow));
  } else if (!taskSets) {
    const bool rolling = r.kind == Rollout::Kind::Rolling;
    p.steps.push_back(contract::UpdateService{rolling ? r.minHealthyPercent : 100.0, rolling ? r.maxPercent : 200.0});
    p.steps.push_back(contract::WaitStable{contract::kStabilizeTimeout});
    total += contract::kStabilizeTimeout;
    if (double hold = longestCondition(s); hold > 0) {
      p.steps.push_back(contract::Hold{hold});
      total += hold;
    }
  } else {
    p.steps.push_back(contract::CreateTaskSet{contract::TargetGroupChoice::Idle, 100, contract::kStabilizeTimeout});
    total += contract::kStabilizeTimeout;
    if (r.kind == Rollout::Kind::BlueGreen) {
      if (r.testTrafficPercent > 0) shift(r.testTrafficPercent, std::max(contract::kMinTestTrafficHold, longestCondition(s)));
      shift(100, r.bakeSeconds);
    } else {
      for (const auto& step : r.steps) shift(step.weight, step.holdSeconds);
      shift(100, 0);
    }
    p.steps.push_back(contract::PromoteTaskSet{});
    p.steps.push_back(contract::RetireTaskSet{contract::TaskSetChoice::Previous});
  }

  // Alarms every deploy watches; a comparison with the stable version, by the colour
  // the new version goes behind (the runtime picks the idle one's).
  for (const auto& alarm : f.rollbackAlarms) {
    if (alarm.newColor.empty()) p.watch.alarms.push_back(alarm.name);
    else if (alarm.newColor == "blue") p.watch.newBlue.push_back(alarm.name);
    else if (alarm.newColor == "green") p.watch.newGreen.push_back(alarm.name);
    else broken(fmt::format("service `{}`: alarm {} watches the colour `{}`", f.name, alarm.name, alarm.newColor));
  }
  if (p.watch.byNewColor() && !taskSets) broken(fmt::format("service `{}` has alarms by colour but no task sets", f.name));
  p.watch.targetHealth = taskSets;
  p.watch.failedTasks = true;

  using contract::Restore;
  using contract::Trigger;
  if (!p.watch.alarms.empty() || p.watch.byNewColor()) p.rollback.on.push_back(Trigger::Alarm);
  if (taskSets) p.rollback.on.push_back(Trigger::UnhealthyTargets);
  p.rollback.on.push_back(Trigger::FailedTasks);
  if (!taskSets && !native) p.rollback.on.push_back(Trigger::CircuitBreaker);
  p.rollback.on.push_back(Trigger::Timeout);
  if (taskSets) {
    // 100% to the stable target group; the primary task set stays the previous version's.
    p.rollback.restores = {Restore::ListenerWeights, Restore::DeleteNewTaskSet, Restore::PrimaryTaskSet};
  } else if (native) {
    // ECS rolls back to the service revision before the deployment, traffic included.
    p.rollback.restores = {Restore::PreviousServiceRevision};
  } else {
    p.rollback.restores = {Restore::PreviousTaskDefinition, Restore::DesiredCount};
  }
  p.timeoutSeconds = total;
  return p;
}

contract::Job job(const facts::JobFacts& f) {
  contract::Job p;
  p.name = f.name;
  p.taskFamily = f.family;
  p.schedule = f.scheduleName;
  // The schedule runs the family's latest ACTIVE revision: registering is the deploy.
  p.steps.push_back(registerStep(f));
  return p;
}

}  // namespace

contract::Plan build(const facts::EnvFacts& f, const std::string& notice) {
  const model::AppModel& app = f.app;
  const model::Environment& env = f.env;
  contract::Plan p;
  p.notice = notice;
  p.app = app.app.name;
  p.environment = env.name;
  p.account = env.account;
  p.region = env.region;
  p.cluster = f.names.cluster();
  p.ledger = f.names.ledgerPath();
  p.lock = p.ledger + "/lock";
  for (const model::Promotion* pr : app.promotionsInto(env.name)) {
    contract::Gate g{pr->from, {}};
    for (const auto& gate : pr->gates) {
      g.require.push_back({gateKind(gate.kind), gate.kind == model::Gate::Kind::Soak ? gate.soakSeconds : 0.0});
    }
    p.gates.push_back(std::move(g));
  }
  p.tests = env.tests;
  p.order = waves(env);
  for (const auto& s : f.services) p.services.push_back(service(s));
  for (const auto& j : f.jobs) p.jobs.push_back(job(j));
  return p;
}

contract::Plan build(const model::AppModel& app, const model::Environment& env, const std::string& notice) {
  return build(facts::EnvFacts(app, env), notice);
}

std::vector<std::vector<std::string>> waves(const model::Environment& env) { return model::deployWaves(env); }

Output generate(const model::AppModel& app, const Options& o) {
  Output out;
  std::string spec = o.specLabel.empty() ? app.app.sourceFile : o.specLabel;
  for (const auto& env : app.environments) {
    if (!o.selected(env.name)) continue;
    const std::string notice = generatedNotice(spec, fmt::format("deployment plan of environment {}"_cf, env.name));
    std::optional<facts::EnvFacts> own;
    const facts::EnvFacts& f = o.facts ? o.facts->environment(env.name) : own.emplace(app, env);
    out.files.push_back({fmt::format("{}/plan.json"_cf, env.name), contract::write(build(f, notice))});
  }
  std::sort(out.files.begin(), out.files.end(), [](const File& a, const File& b) { return a.path < b.path; });
  return out;
}

}  // namespace gops::backend::plan
