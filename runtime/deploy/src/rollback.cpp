// Rolling a failed service back, and restoring an earlier revision: `gops rollback`,
// and the services of a failed wave that had deployed already (docs/runtime.md,
// What it does 4., gops rollback).
#include <fmt/format.h>

#include "executor.h"

namespace gops::deploy::exec {

bool Session::rollback(ServiceRun& r, const StepFailed& why) {
  report_.status(r.name, "rolling back");
  report_.emit("rollback", r.name, {{"trigger", why.trigger}, {"reason", why.reason}, {"step", r.step}},
               fmt::format("ROLLING BACK at {}: {}", r.step.empty() ? "the start" : r.step, why.reason));
  journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"phase", "rollback_start"}, {"reason", why.reason}});
  std::vector<std::string> failures;
  r.executor->undo(r, [&](const std::string& what, const std::function<void()>& f) {
    if (mustStop()) {  // a second signal, the grace time over, the lock lost: nothing more
      const std::lock_guard lock(stopMutex_);
      failures.push_back(fmt::format("{}: not done ({})", what, stopReason_));
      return;
    }
    try {
      f();
      report_.emit("restored", r.name, {{"what", what}}, fmt::format("restored: {}", what));
    } catch (const std::exception& e) {
      failures.push_back(fmt::format("{}: {}", what, awsMessage(e)));
    }
  });
  if (!r.newTaskDef.empty() && !r.restoring) {
    // The new revision is left registered but not live; the family's latest ACTIVE
    // revision is what a task set file names, so deregister it to keep `latest` good.
    try {
      cli().callJson("ecs", "DeregisterTaskDefinition", {{"taskDefinition", r.newTaskDef}});
    } catch (const std::exception&) {
    }
  }
  bool ok = failures.empty();
  for (const auto& f : failures) report_.emit("rollback_failed", r.name, {{"what", f}}, fmt::format("ROLLBACK FAILED: {}", f));
  try {
    record(r, ok ? "rolled_back" : "rollback_failed", why.reason);
  } catch (const std::exception& e) {
    report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
  }
  journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"phase", ok ? "rolled_back" : "rollback_failed"}});
  report_.clearStatus(r.name);
  return ok;
}

/// The revision `gops rollback` restores (docs/runtime.md, gops rollback).
std::string Session::restoreTarget(ServiceRun& r) {
  std::string target = o_.toRevision;
  if (!target.empty() && target.find_first_not_of("0123456789") == std::string::npos) target = r.svc->taskFamily + ":" + target;
  if (target.empty()) {
    // Undo the last apply when it finished and deployed the service; after an apply that
    // died (its record still in progress), go back to the last good revision.
    auto rec = ledger_.get("services/" + r.name);
    bool lastDied = previousDeploy_ && previousDeploy_->value("status", "") == "in_progress";
    if (!lastDied && rec && rec->value("status", "") == "succeeded") target = rec->value("previous_task_definition", "");
    if (target.empty()) {
      if (auto good = ledger_.get("last-good/" + r.name)) target = good->value("task_definition", "");
    }
  }
  if (target.empty()) {
    throw DeployError(fmt::format("no revision of {} to restore: the ledger has no successful deploy; name one with --to", r.name));
  }
  return target;
}

void Session::prepareRestore(ServiceRun& r, const json& current) {
  std::string target = r.restoreTarget.empty() ? restoreTarget(r) : r.restoreTarget;
  json td = cli().callJson("ecs", "DescribeTaskDefinition", {{"taskDefinition", target}});
  r.newTaskDef = td["taskDefinition"]["taskDefinitionArn"].get<std::string>();
  for (const auto& c : td["taskDefinition"].value("containerDefinitions", json::array())) {
    std::string image = c.value("image", "");
    auto colon = image.rfind(':');
    if (colon != std::string::npos && image.find('/', colon) == std::string::npos) r.imageTag = image.substr(colon + 1);
    break;
  }
  report_.emit("restore", r.name, {{"task_definition", r.newTaskDef}, {"image_tag", r.imageTag}},
               fmt::format("restoring {} ({})", r.newTaskDef, r.imageTag));
  r.restoreSteps = r.executor->restoreSteps(r, current);
}

/// A wave failed after `done` had deployed: put its previous revision back (traffic
/// included), as gops rollback would, so that the wave ends on one release.
bool Session::restoreDeployed(ServiceRun& done, const std::string& reason, json& summary) {
  ServiceRun rr = newRun(*done.svc);
  rr.restoring = true;
  rr.restoreTarget = done.prevTaskDef;
  report_.emit("rollback", done.name, {{"trigger", "wave"}, {"reason", reason}, {"step", "done"}},
               fmt::format("ROLLING BACK (deployed already): {}", reason));
  if (rr.restoreTarget.empty()) {
    report_.emit("rollback_failed", done.name, {{"what", "no previous revision (the deploy created the service)"}},
                 "ROLLBACK FAILED: no previous revision (the deploy created the service); it stays deployed");
    summary["services"][done.name] = "rollback_failed";
    return false;
  }
  runOne(rr);
  if (!rr.ok) {
    summary["services"][done.name] = "rollback_failed";
    return false;
  }
  rr.imageTag = rr.imageTag.empty() ? done.imageTag : rr.imageTag;
  try {
    ServiceRun copy = rr;
    record(copy, "rolled_back", reason);
  } catch (const std::exception&) {
  }
  summary["services"][done.name] = "rolled_back";
  return true;
}

}  // namespace gops::deploy::exec
