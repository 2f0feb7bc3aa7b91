// Every wait and hold of a rollout, and what they watch (docs/runtime.md: "During
// every wait and hold").
#include <csignal>

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "session.h"

namespace gops::deploy::exec {

namespace {

std::string signalName(int signo) {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return fmt::format("signal {}", signo);
  }
}

}  // namespace

std::optional<StepFailed> Session::stopRequested() {
  mustStop();  // notices a first signal
  if (waveFailed_) {
    const std::lock_guard lock(waveMutex_);
    return StepFailed{"wave", fmt::format("{} of the same wave failed; the wave is rolled back as a whole", waveFailure_)};
  }
  if (cancelled_) {
    const std::lock_guard lock(stopMutex_);
    return StepFailed{"cancelled", cancelReason_};
  }
  if (heartbeatAtRisk_) {
    return StepFailed{"heartbeat", fmt::format("the lock's heartbeat could not be renewed for half its {} s expiry; rolling back while "
                                               "the lock is still this {}'s", o_.heartbeatSeconds, verb())};
  }
  return std::nullopt;
}

bool Session::mustStop() {
  if (stopped_) return true;
  auto stop = [&](const std::string& trigger, const std::string& reason) {
    const std::lock_guard lock(stopMutex_);
    if (stopped_) return;
    stopTrigger_ = trigger;
    stopReason_ = reason;
    lockLost_ = trigger == "lock_lost";
    stopped_ = true;
  };
  if (const Interrupts* in = o_.interrupts; in && in->count > 0) {
    const std::string first = signalName(in->first);
    if (!cancelled_) {
      const std::lock_guard lock(stopMutex_);
      cancelReason_ = fmt::format("cancelled ({})", first);
      cancelled_ = true;
    }
    const auto at = Steady::time_point(std::chrono::nanoseconds(in->firstAtNs.load()));
    const double since = std::chrono::duration<double>(Steady::now() - at).count();
    if (in->count > 1) {
      stop("interrupted", fmt::format("a second signal after {} stopped it at once", first));
    } else if (since > o_.graceSeconds) {
      stop("interrupted", fmt::format("the rollback after {} took longer than its {} s grace time", first, formatNumber(o_.graceSeconds)));
    }
  }
  if (!stopped_) {
    try {
      if (lock_.heartbeat() == Lock::Beat::AtRisk) heartbeatAtRisk_ = true;
    } catch (const LockLost& e) {
      stop("lock_lost", e.what());
    }
  }
  return stopped_;
}

void Session::checkStop() {
  if (!mustStop()) return;
  const std::lock_guard lock(stopMutex_);
  throw StepFailed{stopTrigger_, stopReason_};
}

void Session::nap(double seconds) {
  const auto until = Steady::now() + std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  const int signals = o_.interrupts ? o_.interrupts->count.load() : 0;
  while (Steady::now() < until) {
    if (stopped_ || (o_.interrupts && o_.interrupts->count.load() != signals)) return;
    const auto left = until - Steady::now();
    std::this_thread::sleep_for(std::min<Steady::duration>(left, std::chrono::milliseconds(100)));
  }
}

std::optional<StepFailed> Session::checkWatch(ServiceRun& r) {
  const plan::Watch& watch = r.svc->watch;
  const plan::Rollback& on = r.svc->rollback;
  // A task-set deploy also watches the alarms of the colour its new version goes
  // behind (comparisons with the stable version), never the other colour's.
  const std::vector<std::string> alarms = r.external ? watch.alarmsFor(r.idleColor) : watch.alarms;
  if (!alarms.empty() && on.triggers(plan::Trigger::Alarm)) {
    json res = cli().callJson("monitoring", "DescribeAlarms",
                              {{"AlarmNames", alarms}, {"AlarmTypes", json::array({"MetricAlarm", "CompositeAlarm"})}});
    for (const char* kind : {"MetricAlarms", "CompositeAlarms"}) {
      for (const auto& a : res.value(kind, json::array())) {
        if (a.value("StateValue", "") == "ALARM") {
          return StepFailed{"alarm", fmt::format("alarm {} is in ALARM ({})", a.value("AlarmName", "?"), a.value("StateReason", ""))};
        }
      }
    }
  }
  if (r.external && watch.targetHealth && on.triggers(plan::Trigger::UnhealthyTargets) && !r.idleTg.empty() && !r.newTaskSet.empty()) {
    aws::QueryParams p{{"TargetGroupArn", r.idleTg}};
    auto doc = cli().callQuery("elasticloadbalancing", "DescribeTargetHealth", p);
    int unhealthy = 0;
    for (const auto* t : doc.result().members("TargetHealthDescriptions")) {
      if (const auto* h = t->child("TargetHealth"); h && h->childTextOr("State", "") == "unhealthy") ++unhealthy;
    }
    if (unhealthy > 0) return StepFailed{"unhealthy_targets", fmt::format("{} target(s) of the new version are unhealthy", unhealthy)};
  }
  if (!r.external && watch.failedTasks && on.triggers(plan::Trigger::FailedTasks) && r.updated) {
    json s = describeService(r.ecsService);
    for (const auto& d : s.value("deployments", json::array())) {
      if (d.value("status", "") != "PRIMARY") continue;
      if (d.value("failedTasks", 0) > 0) {
        return StepFailed{"failed_tasks", fmt::format("{} task(s) of the new version stopped with an error", d.value("failedTasks", 0))};
      }
      if (d.value("rolloutState", "") == "FAILED") {
        return StepFailed{"failed_tasks", fmt::format("the deployment failed: {}", d.value("rolloutStateReason", "circuit breaker"))};
      }
    }
  }
  return std::nullopt;
}

void Session::watch(ServiceRun& r, double seconds, const std::string& status, const std::function<bool()>& done,
                    const std::string& what) {
  const auto start = Steady::now();
  if (!status.empty()) report_.status(r.name, status, start + std::chrono::milliseconds(static_cast<long long>(seconds * 1000)));
  for (;;) {
    checkStop();
    // A restore does not stop for a failure elsewhere, nor for the alarms that called for
    // it; a before_deploy task runs to its end (only its timeout stops it).
    if (!r.restoring && !r.inOneOffTask) {
      if (auto f = stopRequested()) throw *f;
      if (auto f = checkWatch(r)) throw *f;
    }
    if (done && done()) return;
    const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    if (elapsed >= seconds) {
      if (done) throw StepFailed{"timeout", fmt::format("{} did not happen within {} s", what, formatNumber(seconds))};
      return;
    }
    // A wait looks again after a poll; a hold ends on time.
    const double pause = done ? o_.pollSeconds : std::min(o_.pollSeconds, seconds - elapsed);
    nap(pause);
  }
}

void Session::waitFor(ServiceRun& r, double timeoutSeconds, const std::function<bool()>& done, const std::string& what) {
  watch(r, timeoutSeconds, fmt::format("{} {}: waiting for {}", r.stepLabel, r.step, what), done, what);
}

void Session::hold(ServiceRun& r, double seconds, const std::string& what) {
  std::string status;
  if (seconds > 0) {
    const std::string at = r.external ? fmt::format(" at {}%", formatNumber(r.weight)) : "";
    status = fmt::format("{} {}{}: {}", r.stepLabel, r.step, at, what);
  }
  watch(r, seconds, status, nullptr, what);
}

}  // namespace gops::deploy::exec
