// The wave scheduler: the services of a wave deployed concurrently, at most
// --max-parallel at a time, each from its first step to `succeeded` or its rollback
// (docs/runtime.md, What it does 3.).
#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "executor.h"

namespace gops::deploy::exec {

namespace {

/// Runs `f`, a part of the service's rollout; what it throws becomes the service's
/// failure (`r.failed`): a step's own, else an `error` with what went wrong.
template <class F>
void failOn(ServiceRun& r, F&& f) {
  try {
    f();
  } catch (const StepFailed& e) {
    r.failed = e;
  } catch (const DeployError& e) {
    r.failed = StepFailed{"error", e.what()};
  } catch (const aws::Error& e) {
    r.failed = StepFailed{"error", awsMessage(e)};
  } catch (const json::exception& e) {
    r.failed = StepFailed{"error", fmt::format("unexpected API answer: {}", e.what())};
  } catch (const std::exception& e) {
    r.failed = StepFailed{"error", e.what()};
  }
}

}  // namespace

ServiceRun Session::newRun(const plan::Service& s) {
  ServiceRun r;
  r.svc = &s;
  r.executor = makeExecutor(*this, s);
  r.name = s.name;
  r.ecsService = s.ecsService;
  r.external = s.controller == plan::Controller::External;
  r.imageTag = tagOf(s.name).value_or("");
  r.restoring = o_.rollback;
  return r;
}

/// One service, from its first step (or where its first phase stopped) to `succeeded`,
/// or to its rollback.
void Session::runOne(ServiceRun& r) {
  auto start = Steady::now();
  failOn(r, [&] { deployService(r); });
  r.seconds += std::chrono::duration<double>(Steady::now() - start).count();
  if (!r.failed) {
    try {
      record(r, r.restoring ? "restored" : "succeeded");
    } catch (const std::exception& e) {
      report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
    }
    r.ok = true;
    report_.clearStatus(r.name);
    report_.emit("service_done", r.name, {{"status", r.restoring ? "restored" : "succeeded"}, {"seconds", static_cast<long long>(r.seconds)}},
                 r.restoring ? fmt::format("restored {} in {} s", r.imageTag, static_cast<long long>(r.seconds))
                             : fmt::format("deployed {} in {} s", r.imageTag, static_cast<long long>(r.seconds)));
    return;
  }
  if (stopped_) {
    // Stopped at once (a second signal, the grace time over, the lock lost): nothing
    // more is changed; what is left is a dead deploy for gops rollback (--if-dead).
    r.rollbackOk = false;
    report_.clearStatus(r.name);
    report_.emit("stopped", r.name, {{"trigger", r.failed->trigger}, {"reason", r.failed->reason}, {"step", r.step}},
                 fmt::format("STOPPED at {}: {}; not rolled back", r.step.empty() ? "the start" : r.step, r.failed->reason));
    return;
  }
  const bool waveWide = r.failed->trigger == "wave" || r.failed->trigger == "cancelled" || r.failed->trigger == "heartbeat";
  if (!r.restoring && !waveWide) {
    const std::lock_guard lock(waveMutex_);
    if (!waveFailed_) {
      waveFailure_ = r.name;
      waveFailed_ = true;
    }
  }
  try {
    r.rollbackOk = rollback(r, *r.failed);
  } catch (const std::exception& e) {
    r.rollbackOk = false;
    report_.emit("rollback_failed", r.name, {{"what", e.what()}}, fmt::format("ROLLBACK FAILED: {}", e.what()));
  }
}

/// The first phase of a wave whose services run a before_deploy task: each service's
/// steps up to the first that moves traffic (registering its revision, running its
/// task). A failure marks the wave failed, so that services not started yet are not.
void Session::prepareOne(ServiceRun& r) {
  const auto start = Steady::now();
  failOn(r, [&] {
    if (!r.begun) beginService(r);
    const std::vector<plan::Step>& steps = r.steps();
    std::size_t end = r.nextStep;
    while (end < steps.size() && plan::isPrepareStep(plan::kindOf(steps[end]))) ++end;
    runSteps(r, end);
  });
  r.seconds += std::chrono::duration<double>(Steady::now() - start).count();
  report_.clearStatus(r.name);
  if (r.failed && stopped_) {
    // Stopped at once, as runOne says it: nothing more is changed; a task that runs goes on.
    r.rollbackOk = false;
    const bool running = r.oneOffTask.is_object() && r.oneOffTask.value("status", "") == "running";
    report_.emit("stopped", r.name, {{"trigger", r.failed->trigger}, {"reason", r.failed->reason}, {"step", r.step}},
                 fmt::format("STOPPED at {}: {}; not rolled back{}", r.step.empty() ? "the start" : r.step, r.failed->reason,
                             running ? fmt::format("; its before_deploy task {} runs on", r.oneOffTask.value("task", "")) : ""));
    return;
  }
  if (r.failed) {
    const std::lock_guard lock(waveMutex_);
    if (!waveFailed_) {
      waveFailure_ = r.name;
      waveFailed_ = true;
    }
  }
}

/// The first phase failed: nothing of the wave moved traffic, so nothing is rolled
/// back. Each service's new revision is deregistered (the family's latest ACTIVE
/// revision stays the one that runs), its ledger record says `aborted`.
void Session::abortWave(std::vector<ServiceRun>& runs) {
  aborted_ = true;
  const ServiceRun* first = nullptr;
  for (const auto& r : runs) {
    if (r.failed && (!first || r.name == waveFailure_)) first = &r;
  }
  const std::string cause = first ? fmt::format("{}: {}", first->name, first->failed->reason) : "the wave failed";
  for (auto& r : runs) {
    if (r.alreadyDone || r.skipped || !r.begun) continue;
    if (!r.failed) r.failed = StepFailed{"wave", fmt::format("{} of the same wave failed before any traffic moved", first ? first->name : "a service")};
    r.aborted = true;
    r.rollbackOk = true;
    std::string deregistered;
    if (!r.newTaskDef.empty() && !r.restoring) {
      try {
        cli().callJson("ecs", "DeregisterTaskDefinition", {{"taskDefinition", r.newTaskDef}});
        deregistered = fmt::format("; deregistered {}", r.newTaskDef);
      } catch (const std::exception& e) {
        deregistered = fmt::format("; {} stays registered ({})", r.newTaskDef, awsMessage(e));
      }
    }
    report_.emit("aborted", r.name, {{"trigger", r.failed->trigger}, {"reason", r.failed->reason}, {"step", r.step},
                                     {"task_definition", r.newTaskDef}},
                 fmt::format("STOPPED before any traffic moved: {}{}", r.failed->reason, deregistered));
    journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"phase", "aborted"}, {"reason", r.failed->reason}});
    try {
      record(r, "aborted", r.failed->trigger == "wave" ? cause : r.failed->reason);
    } catch (const std::exception& e) {
      report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
    }
  }
}

void Session::parallel(std::vector<ServiceRun>& runs, const std::function<void(ServiceRun&)>& f) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (;;) {
      std::size_t i = next++;
      if (i >= runs.size()) return;
      ServiceRun& r = runs[i];
      if (r.alreadyDone) continue;
      if ((waveFailed_ || cancelled_ || heartbeatAtRisk_ || stopped_) && !r.restoring) {
        if (!r.begun || stopped_) {
          r.skipped = true;  // not started, or stopping at once: nothing more is asked of AWS
        } else {
          // Prepared in the wave's first phase, not rolled out yet: only its revision to undo.
          r.failed = stopRequested();
          if (!r.failed) r.failed = StepFailed{"wave", "the wave stopped before this service moved traffic"};
          try {
            r.rollbackOk = rollback(r, *r.failed);
          } catch (const std::exception& e) {
            r.rollbackOk = false;
            report_.emit("rollback_failed", r.name, {{"what", e.what()}}, fmt::format("ROLLBACK FAILED: {}", e.what()));
          }
        }
        continue;
      }
      f(r);
    }
  };
  std::size_t todo = 0;
  for (const auto& r : runs) todo += r.alreadyDone ? 0 : 1;
  const std::size_t workers = std::min<std::size_t>(todo, static_cast<std::size_t>(std::max(1, o_.maxParallel)));
  if (workers <= 1) {
    work();
    return;
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < workers; ++t) {
    threads.emplace_back([&] {
      std::unique_ptr<aws::AwsClient> own;
      try {
        if (o_.newClient) own = o_.newClient();
      } catch (const std::exception&) {
        own.reset();  // share the main client
      }
      useClient(own.get());
      work();
      useClient(nullptr);
    });
  }
  for (auto& t : threads) t.join();
}

/// The services of one wave, at most maxParallel at a time, each worker thread with its
/// own AWS client. A failure stops the others of the wave at their next look at the
/// APIs (they roll back); services not started yet are skipped. When a service of the
/// wave runs a before_deploy task, the wave goes in two phases: every service up to
/// its first step that moves traffic, then, only when all of them got there, the rest
/// (a failed task stops the wave with nothing changed: abortWave).
void Session::runWave(std::vector<ServiceRun>& runs) {
  waveFailed_ = false;
  bool twoPhases = false;
  for (const auto& r : runs) {
    if (r.alreadyDone || r.restoring) continue;
    for (const auto& st : r.steps()) twoPhases = twoPhases || plan::kindOf(st) == plan::StepKind::RunTask;
  }
  if (twoPhases) {
    parallel(runs, [this](ServiceRun& r) { prepareOne(r); });
    bool failed = false;
    for (const auto& r : runs) failed = failed || r.failed || r.skipped;
    if (failed) {
      // Stopped at once: left as it is, for gops rollback --if-dead (apply.cpp).
      if (!stopped_) abortWave(runs);
      return;
    }
  }
  parallel(runs, [this](ServiceRun& r) { runOne(r); });
}

}  // namespace gops::deploy::exec
