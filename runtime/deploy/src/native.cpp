#include "native.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gops::deploy::exec {

namespace {

/// The deployment a DescribeServiceDeployments answer describes, or null.
json firstDeployment(const json& res) {
  const json list = res.value("serviceDeployments", json::array());
  return list.empty() ? json() : list[0];
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

}  // namespace

void NativeExecutor::report(ServiceRun& r, const std::string& event, const json& fields, const std::string& text) {
  s_.report_.emit(event, r.name, fields, text);
}

void NativeExecutor::observe(ServiceRun& r, const json& current) {
  // The deployment ECS ran before this one: never the one this run follows.
  before_ = current.is_null() ? std::string() : current.value("currentServiceDeployment", "");
  const plan::Traffic& t = *r.svc->traffic;
  r.blueTg = s_.fill(t.blue.arn);
  r.greenTg = s_.fill(t.green.arn);
  for (const auto& rule : t.listenerRules) r.rules.push_back(s_.fill(rule));
}

void NativeExecutor::step(ServiceRun& r, const plan::Step& step) {
  std::visit(Overloaded{
                 [&](const plan::StartDeployment&) { start(r); },
                 [&](const plan::FollowDeployment& st) { follow(r, st); },
                 [&](const auto&) { notMyStep(r, step, "native (engine `ecs`)"); },
             },
             step);
}

json NativeExecutor::deploymentConfiguration(const ServiceRun& r) const {
  json config = s_.fileDoc(r.svc->serviceFile).value("deploymentConfiguration", json::object());
  if (r.restoring) {
    // Back to a known good revision at once: blue/green without a bake, and no alarm
    // rollback (the alarms in ALARM are why one restores).
    config["strategy"] = "BLUE_GREEN";
    config["bakeTimeInMinutes"] = 0;
    config.erase("canaryConfiguration");
    config.erase("linearConfiguration");
    if (config.contains("alarms")) config["alarms"]["enable"] = false;
  }
  return config;
}

/// UpdateService to the new revision with the compiled deployment configuration,
/// which starts ECS's deployment; CreateService when the service does not exist (its
/// first deployment has no strategy: nothing runs yet).
void NativeExecutor::start(ServiceRun& r) {
  const plan::Service& s = *r.svc;
  json res;
  const json config = deploymentConfiguration(r);
  if (!r.existed && s_.describeService(r.ecsService).is_null()) {
    json doc = s_.fileDoc(s.serviceFile);
    doc["taskDefinition"] = r.newTaskDef;
    res = s_.cli().callJson("ecs", "CreateService", doc);
  } else {
    // The load balancers stay as ECS left them: it swaps the production target group
    // and its alternate at the end of each deployment.
    res = s_.cli().callJson("ecs", "UpdateService", {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"taskDefinition", r.newTaskDef},
                                                     {"deploymentConfiguration", config}});
  }
  r.updated = true;
  r.serviceDeployment = res.value("service", json::object()).value("currentServiceDeployment", "");
  if (r.serviceDeployment == before_) r.serviceDeployment.clear();  // not named yet: look() finds it
  s_.journal_.write({{"deploy_id", s_.deployId_}, {"service", r.name}, {"started_deployment", r.serviceDeployment}});
  const std::string strategy = config.value("strategy", "ROLLING");
  report(r, "deployment_started", {{"strategy", strategy}, {"service_deployment", r.serviceDeployment}},
         fmt::format("ECS deployment started ({}{}){}", strategy, r.restoring ? ", to restore" : "",
                     r.serviceDeployment.empty() ? "" : ": " + r.serviceDeployment));
}

void NativeExecutor::follow(ServiceRun& r, const plan::FollowDeployment& st) {
  s_.waitFor(r, st.timeoutSeconds, [&] {
    Look l = look(r);
    switch (l.state) {
      case Look::State::Running: return false;
      case Look::State::Succeeded: return true;
      case Look::State::RollingBack:
      case Look::State::RolledBack:
        rollingBack_ = true;
        throw StepFailed{"ecs_rollback", fmt::format("ECS rolled the deployment back: {}", l.reason.empty() ? "no reason given" : l.reason)};
      case Look::State::RollbackFailed:
        rollingBack_ = true;
        throw StepFailed{"ecs_rollback", fmt::format("ECS's rollback of the deployment failed: {}", l.reason)};
      case Look::State::Stopped: throw StepFailed{"error", fmt::format("the ECS deployment was stopped: {}", l.reason)};
    }
    return false;
  }, "the end of the ECS deployment");
  report(r, "deployment_succeeded", {{"service_deployment", r.serviceDeployment}}, "ECS deployment succeeded");
  if (r.restoring) {
    // The restore switched at once without alarms; the service's own configuration back.
    json config = s_.fileDoc(r.svc->serviceFile).value("deploymentConfiguration", json::object());
    s_.cli().callJson("ecs", "UpdateService", {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"deploymentConfiguration", config}});
  }
}

NativeExecutor::Look NativeExecutor::look(ServiceRun& r) {
  json svc = s_.describeService(r.ecsService);
  if (svc.is_null()) return {};
  if (r.serviceDeployment.empty() && svc.value("currentServiceDeployment", "") != before_) {
    r.serviceDeployment = svc.value("currentServiceDeployment", "");
  }
  if (!r.serviceDeployment.empty()) {
    json sd = firstDeployment(
        s_.cli().callJson("ecs", "DescribeServiceDeployments", {{"serviceDeploymentArns", json::array({r.serviceDeployment})}}));
    if (!sd.is_null()) return lookDeployment(r, sd);
  }
  return lookService(r, svc);
}

/// ECS's own account of the deployment (DescribeServiceDeployments).
NativeExecutor::Look NativeExecutor::lookDeployment(ServiceRun& r, const json& sd) {
  const std::string status = sd.value("status", "");
  const std::string phase = sd.value("lifecycleStage", "");
  if (!phase.empty() && phase != lastPhase_) {
    lastPhase_ = phase;
    report(r, "phase", {{"phase", phase}, {"status", status}}, fmt::format("ECS: {} ({})", phase, status));
  }
  const json target = sd.value("targetServiceRevision", json::object());
  if (target.contains("requestedProductionTrafficWeight")) {
    const double w = target.value("requestedProductionTrafficWeight", 0.0);
    if (w != lastWeight_) {
      lastWeight_ = w;
      r.weight = w;
      s_.record(r, "in_progress");
      report(r, "weights", {{"weight", w}}, fmt::format("weights: {}% new, {}% previous (ECS)", formatNumber(w), formatNumber(100 - w)));
    }
  }
  std::vector<std::string> triggered;
  for (const auto& a : sd.value("alarms", json::object()).value("triggeredAlarmNames", json::array())) {
    std::string name = a.get<std::string>();
    triggered.push_back(name);
    if (alarmsSeen_.insert(name).second) {
      report(r, "alarm", {{"alarm", name}}, fmt::format("alarm {} is in ALARM: ECS rolls back", name));
    }
  }
  Look l;
  l.reason = joined({sd.value("rollback", json::object()).value("reason", ""), sd.value("statusReason", ""),
                     triggered.empty() ? "" : fmt::format("alarms in ALARM: {}", fmt::join(triggered, ", "))});
  if (status == "SUCCESSFUL") l.state = Look::State::Succeeded;
  else if (status == "ROLLBACK_REQUESTED" || status == "ROLLBACK_IN_PROGRESS") l.state = Look::State::RollingBack;
  else if (status == "ROLLBACK_SUCCESSFUL") l.state = Look::State::RolledBack;
  else if (status == "ROLLBACK_FAILED") l.state = Look::State::RollbackFailed;
  else if (status == "STOPPED" || status == "STOP_REQUESTED") l.state = Look::State::Stopped;
  return l;
}

/// Where ECS names no service deployment (older endpoints, moto): DescribeServices'
/// deployments. The primary one runs the new revision, is COMPLETED and alone: done;
/// the service back on another revision, or a FAILED rollout: ECS rolled back.
NativeExecutor::Look NativeExecutor::lookService(ServiceRun& r, const json& svc) {
  Look l;
  const json deployments = svc.value("deployments", json::array());
  json primary;
  for (const auto& d : deployments) {
    if (d.value("status", "") == "PRIMARY") primary = d;
  }
  const std::string running = svc.value("taskDefinition", "");
  const bool ours = running == r.newTaskDef || (!primary.is_null() && primary.value("taskDefinition", "") == r.newTaskDef);
  const std::string state = primary.is_null() ? std::string() : primary.value("rolloutState", "");
  const std::string reason = primary.is_null() ? std::string() : primary.value("rolloutStateReason", "");
  if (!state.empty() && state != lastPhase_) {
    lastPhase_ = state;
    report(r, "phase", {{"phase", state}}, fmt::format("ECS: deployment {}{}", state, reason.empty() ? "" : " (" + reason + ")"));
  }
  if (!ours) {
    l.state = Look::State::RolledBack;
    l.reason = joined({fmt::format("the service runs {} again", running), reason});
  } else if (state == "FAILED") {
    l.state = Look::State::RollingBack;
    l.reason = reason;
  } else if ((state == "COMPLETED" || (state.empty() && !primary.is_null() && primary.value("runningCount", 0) >= primary.value("desiredCount", 0))) &&
             deployments.size() == 1) {
    l.state = Look::State::Succeeded;
  }
  return l;
}

void NativeExecutor::rollBack(ServiceRun& r) {
  bool updatedBack = false;
  if (!rollingBack_) {
    bool asked = false;
    if (!r.serviceDeployment.empty()) {
      try {
        s_.cli().callJson("ecs", "StopServiceDeployment", {{"serviceDeploymentArn", r.serviceDeployment}, {"stopType", "ROLLBACK"}});
        asked = true;
        report(r, "rollback_requested", {{"service_deployment", r.serviceDeployment}}, "asked ECS to roll the deployment back");
      } catch (const aws::AwsError& e) {
        // Rolling back already, or over: the look below says which.
        report(r, "warning", {{"message", awsMessage(e)}}, fmt::format("ECS did not stop the deployment: {}", awsMessage(e)));
      }
    }
    if (!asked) {
      Look l = look(r);
      if (l.state == Look::State::RollingBack || l.state == Look::State::RolledBack) {
        rollingBack_ = true;
      } else {
        // No deployment to stop: a deployment of the previous revision, at once.
        ServiceRun back = r;
        back.restoring = true;
        s_.cli().callJson("ecs", "UpdateService", {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"taskDefinition", r.prevTaskDef},
                                                   {"deploymentConfiguration", deploymentConfiguration(back)}});
        updatedBack = true;
      }
    }
  }
  // Until ECS says the rollback succeeded, or the service runs the previous revision alone.
  const auto deadline = Steady::now() + std::chrono::seconds(static_cast<long long>(plan::kStabilizeTimeout));
  for (;;) {
    json svc = s_.describeService(r.ecsService);
    if (!updatedBack && !r.serviceDeployment.empty()) {
      json sd = firstDeployment(
          s_.cli().callJson("ecs", "DescribeServiceDeployments", {{"serviceDeploymentArns", json::array({r.serviceDeployment})}}));
      const std::string status = sd.is_null() ? std::string() : sd.value("status", "");
      if (status == "ROLLBACK_SUCCESSFUL") break;
      if (status == "ROLLBACK_FAILED") throw DeployError(fmt::format("ECS's rollback failed: {}", sd.value("statusReason", "")));
    } else if (!svc.is_null() && svc.value("taskDefinition", "") == r.prevTaskDef) {
      const json deployments = svc.value("deployments", json::array());
      bool done = deployments.size() <= 1;
      for (const auto& d : deployments) done = done && d.value("rolloutState", "COMPLETED") == "COMPLETED";
      if (done) break;
    }
    if (Steady::now() >= deadline) {
      throw DeployError(fmt::format("the service did not run {} again within {} s", r.prevTaskDef, formatNumber(plan::kStabilizeTimeout)));
    }
    // Each poll renews the lock's heartbeat; a second signal, the grace time over or
    // the lock lost stop the wait (ECS goes on with its rollback on its own).
    if (s_.mustStop()) {
      const std::lock_guard lock(s_.stopMutex_);
      throw DeployError(fmt::format("stopped waiting for ECS's rollback to {}: {}", r.prevTaskDef, s_.stopReason_));
    }
    s_.nap(s_.o_.pollSeconds);
  }
  if (updatedBack) {
    json config = s_.fileDoc(r.svc->serviceFile).value("deploymentConfiguration", json::object());
    s_.cli().callJson("ecs", "UpdateService", {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"deploymentConfiguration", config}});
  }
}

void NativeExecutor::undo(ServiceRun& r, const std::function<void(const std::string&, const std::function<void()>&)>& attempt) {
  if (!r.updated || !r.existed || r.prevTaskDef.empty()) return;  // nothing started, or nothing to go back to
  attempt(fmt::format("the previous revision {} (ECS's rollback, traffic included)", r.prevTaskDef), [&] { rollBack(r); });
}

std::vector<plan::Step> NativeExecutor::restoreSteps(ServiceRun& r, const json& current) {
  // A deploy that died half-way left ECS's deployment running: it is rolled back first.
  const std::string arn = current.is_null() ? std::string() : current.value("currentServiceDeployment", "");
  if (!arn.empty()) {
    json sd = firstDeployment(s_.cli().callJson("ecs", "DescribeServiceDeployments", {{"serviceDeploymentArns", json::array({arn})}}));
    const std::string status = sd.is_null() ? std::string() : sd.value("status", "");
    if (status == "PENDING" || status == "IN_PROGRESS") {
      ServiceRun dead = r;
      dead.serviceDeployment = arn;
      dead.prevTaskDef = r.newTaskDef;
      rollBack(dead);
      report(r, "restored", {{"what", "the unfinished ECS deployment, rolled back"}}, "restored: the unfinished ECS deployment, rolled back");
      json now = s_.describeService(r.ecsService);
      if (!now.is_null() && now.value("taskDefinition", "") == r.newTaskDef) return {};
    }
  }
  if (!current.is_null() && current.value("taskDefinition", "") == r.newTaskDef) return {};  // already runs it
  return {plan::StartDeployment{}, plan::FollowDeployment{{plan::Shift{100, 0}}, plan::kStabilizeTimeout + plan::kShiftSettle}};
}

/// ECS went on with the deployment after the dead apply: the service runs the new
/// revision if the deployment was started; the journal or ECS names it.
void NativeExecutor::resumeState(ServiceRun& r, const json& current) {
  for (const auto& e : s_.journal_.entriesOf(s_.deployId_)) {
    if (e.value("service", "") == r.name && e.contains("started_deployment")) r.serviceDeployment = e.value("started_deployment", "");
  }
  if (current.is_null() || r.newTaskDef.empty()) return;
  r.updated = current.value("taskDefinition", "") == r.newTaskDef;
  if (r.updated && r.serviceDeployment.empty()) r.serviceDeployment = current.value("currentServiceDeployment", "");
}

std::size_t NativeExecutor::resumeIndex(const ServiceRun& r, std::size_t k) const {
  // Started already: follow it (ECS never stopped); else start it.
  const std::size_t start = indexOf(r.steps(), plan::StepKind::StartDeployment);
  return r.updated ? std::max(k, start + 1) : std::min(k, start);
}

}  // namespace gops::deploy::exec
