// The wave scheduler: the services of a wave deployed concurrently, at most
// --max-parallel at a time, each from its first step to `succeeded` or its rollback
// (docs/runtime.md, What it does 3.).
#include <thread>

#include <fmt/format.h>

#include "executor.h"

namespace gops::deploy::exec {

ServiceRun Session::newRun(const plan::Service& s) {
  ServiceRun r;
  r.svc = &s;
  r.executor = makeExecutor(*this, s);
  r.name = s.name;
  r.ecsService = s.ecsService;
  r.external = s.controller == plan::Controller::External;
  r.imageTag = o_.imageTag;
  r.restoring = o_.rollback;
  return r;
}

/// One service, from its first step to `succeeded`, or to its rollback.
void Session::runOne(ServiceRun& r) {
  auto start = Steady::now();
  try {
    deployService(r);
  } catch (const StepFailed& f) {
    r.failed = f;
  } catch (const DeployError& e) {
    r.failed = StepFailed{"error", e.what()};
  } catch (const aws::Error& e) {
    r.failed = StepFailed{"error", awsMessage(e)};
  } catch (const json::exception& e) {
    r.failed = StepFailed{"error", fmt::format("unexpected API answer: {}", e.what())};
  } catch (const std::exception& e) {
    r.failed = StepFailed{"error", e.what()};
  }
  r.seconds = std::chrono::duration<double>(Steady::now() - start).count();
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

/// The services of one wave, at most maxParallel at a time, each worker thread with its
/// own AWS client. A failure stops the others of the wave at their next look at the
/// APIs (they roll back); services not started yet are skipped.
void Session::runWave(std::vector<ServiceRun>& runs) {
  waveFailed_ = false;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (;;) {
      std::size_t i = next++;
      if (i >= runs.size()) return;
      ServiceRun& r = runs[i];
      if (r.alreadyDone) continue;
      if ((waveFailed_ || cancelled_ || heartbeatAtRisk_ || stopped_) && !r.restoring) {
        r.skipped = true;
        continue;
      }
      runOne(r);
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

}  // namespace gops::deploy::exec
