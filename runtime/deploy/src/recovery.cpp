// A deploy that died (docs/runtime.md, Recovery): found from its ledger record and
// what is left of its lock; refused by a plain apply with the commands that fix it;
// rolled back by `gops rollback --if-dead` (and `gops apply --rollback-dead`); and the
// end of a session that had to stop at once.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "session.h"

namespace gops::deploy::exec {

namespace {

bool isRollback(const json& deploy) { return deploy.value("kind", "apply") == "rollback"; }

std::string describeDeploy(const json& d) {
  return fmt::format("{} {} of image tag {}", isRollback(d) ? "rollback" : "deploy", d.value("deploy_id", "?"), d.value("image_tag", "?"));
}

}  // namespace

std::optional<Session::DeadDeploy> Session::findDeadDeploy(std::string& alive) {
  std::optional<json> dep = ledger_.get("deploy");
  if (!dep) {
    alive = "no deploy is recorded in the ledger";
    return std::nullopt;
  }
  if (dep->value("status", "") != "in_progress") {
    alive = fmt::format("the last {} ended {}", describeDeploy(*dep), dep->value("status", "?"));
    return std::nullopt;
  }
  LockState lock = lock_.inspect();
  if (lock.live) {
    const long long age = lock.lastBeat > 0 ? nowEpoch() - lock.lastBeat : -1;
    alive = fmt::format("{} is in progress: {} holds the lock{}", describeDeploy(*dep), Lock::describe(*lock.lock),
                        age >= 0 ? fmt::format(", its last heartbeat {} s ago", age) : std::string());
    return std::nullopt;
  }
  DeadDeploy d;
  d.deploy = *dep;
  d.lock = lock;
  d.why = lock.lock ? fmt::format("its lock is dead: {}", lock.why)
                    : std::string("its lock is gone (released by a command that was stopped, or deleted by hand) while its "
                                  "record says in progress");
  for (const auto& s : plan_.services) {
    auto rec = ledger_.get("services/" + s.name);
    if (!rec || rec->value("deploy_id", "") != dep->value("deploy_id", "") || rec->value("status", "") != "in_progress") continue;
    const std::string step = rec->value("step", "");
    const double weight = rec->value("weight", 0.0);
    d.where.push_back(fmt::format("{} ({}{})", s.name, step.empty() ? "not started" : step,
                                  s.traffic && weight > 0 ? fmt::format(", {}% of the traffic on the new version", formatNumber(weight)) : ""));
  }
  return d;
}

std::string Session::fixCommand(const std::string& command, const std::string& extra) const {
  const std::string args = o_.commandArgs.empty() ? fmt::format("PATH --env {}", env_) : o_.commandArgs;
  return fmt::format("gops {} {}{}", command, args, extra);
}

std::string Session::deadDeployProblem(const DeadDeploy& d) {
  const json& dep = d.deploy;
  const bool rollback = isRollback(dep);
  // An apply that had begun to roll back (cancelled, or a failure) is undone, not finished.
  const bool undoOnly = rollback || dep.contains("cancelled") || dep.contains("interrupted");
  const std::string resume = fixCommand("apply", fmt::format(" --image-tag {} --resume", dep.value("image_tag", "TAG")));
  const std::string undo = fixCommand("rollback");
  std::string where = d.where.empty() ? std::string() : fmt::format(", stopped in {}", fmt::join(d.where, ", "));
  std::string text = fmt::format(
      "the last {} of {} {} died and was left half-done: {} (started {} by {}){}; {}.", rollback ? "gops rollback" : "deploy",
      plan_.app, env_, describeDeploy(dep), dep.value("started", "?"),
      d.lock.lock ? d.lock.lock->value("owner", "?") : std::string("?"), where, d.why);
  if (rollback) {
    text += fmt::format(" Run it again: `{}`", undo);
  } else if (undoOnly) {
    text += fmt::format(" Its new version may still serve traffic; it had begun to roll back: undo it with `{}`", undo);
  } else {
    text += fmt::format(" Its new version may still serve traffic. Finish it: `{}`, or undo it: `{}`", resume, undo);
  }
  text += "; or run this apply with --rollback-dead to undo it first. Nothing was changed";
  if (o_.jsonEvents) {
    report_.emit("dead_deploy", "",
                 {{"deploy", dep}, {"why", d.why}, {"services", d.where}, {"resume", undoOnly ? json() : json(resume)}, {"rollback", undo}},
                 "");
  }
  return text;
}

bool Session::prepareIfDead(int& exitCode) {
  const std::string label = o_.preStep ? "gops apply --rollback-dead" : o_.checkOnly ? "gops rollback --if-dead --check" : "gops rollback --if-dead";
  const char* resultEvent = o_.preStep ? "dead_deploy_result" : "result";
  std::string alive;
  try {
    dead_ = findDeadDeploy(alive);
  } catch (const std::exception& e) {
    exitCode = kExitFailed;
    report_.emit(resultEvent, "", {{"status", "error"}, {"message", awsMessage(e)}, {"exit", exitCode}},
                 fmt::format("{}: cannot read the ledger: {}", label, awsMessage(e)));
    return false;
  }
  if (!dead_) {
    exitCode = kExitOk;
    report_.emit(resultEvent, "", {{"status", "nothing_to_do"}, {"why", alive}, {"exit", exitCode}},
                 fmt::format("{}: no deploy died in {} {} ({}); nothing to roll back", label, plan_.app, env_, alive));
    return false;
  }
  const json& dep = dead_->deploy;
  std::string where = dead_->where.empty() ? std::string() : fmt::format(", stopped in {}", fmt::join(dead_->where, ", "));
  report_.emit("dead_deploy", "", {{"deploy", dep}, {"why", dead_->why}, {"services", dead_->where}},
               fmt::format("dead: {} (started {}){}; {}", describeDeploy(dep), dep.value("started", "?"), where, dead_->why));
  if (o_.checkOnly) {
    exitCode = kExitRolledBack;
    report_.emit("result", "", {{"status", "dead_deploy"}, {"deploy_id", dep.value("deploy_id", "")}, {"exit", exitCode}},
                 fmt::format("{}: the last {} of {} {} died; `{}` rolls it back; nothing was changed", label,
                             isRollback(dep) ? "gops rollback" : "deploy", plan_.app, env_, fixCommand("rollback", " --if-dead")));
    return false;
  }
  return true;
}

bool Session::stillDead() {
  std::optional<json> dep;
  try {
    dep = ledger_.get("deploy");
  } catch (const std::exception&) {
    return true;  // read again by the rollback itself
  }
  if (dep && dep->value("status", "") == "in_progress" && dep->value("deploy_id", "") == dead_->deploy.value("deploy_id", "") &&
      dep->value("started", "") == dead_->deploy.value("started", "")) {
    return true;
  }
  report_.emit(o_.preStep ? "dead_deploy_result" : "result", "", {{"status", "nothing_to_do"}, {"exit", kExitOk}},
               fmt::format("gops rollback --if-dead: {} was recovered by another command in the meantime (the last deploy is now {}, {}); "
                           "nothing to roll back",
                           describeDeploy(dead_->deploy), dep ? describeDeploy(*dep) : "none", dep ? dep->value("status", "?") : "-"));
  return false;
}

int Session::finishStopped(json& summary) {
  std::string reason;
  {
    const std::lock_guard lock(stopMutex_);
    reason = stopReason_;
  }
  if (lockLost_) {
    // Another command owns the environment now: its ledger and its lock are not ours.
    try {
      journal_.write({{"deploy_id", deployId_}, {"phase", "lock_lost"}, {"reason", reason}});
    } catch (const std::exception&) {
    }
    report_.emit("result", "", {{"status", "lock_lost"}, {"reason", reason}, {"deploy_id", deployId_}, {"exit", kExitRollbackIncomplete}},
                 fmt::format("gops {}: STOPPED: {}; nothing more was changed, and the ledger is left to the lock's holder "
                             "(see gops status)", verb(), reason));
    return kExitRollbackIncomplete;
  }
  // The record stays in progress: the deploy is a dead one, which `gops rollback
  // --if-dead` (or a plain rollback) finishes undoing, from any machine, at once.
  if (o_.rollback) summary["kind"] = "rollback";
  summary["status"] = "in_progress";
  summary["interrupted"] = nowIso();
  summary["reason"] = reason;
  if (cancelled_ && !o_.rollback) summary["cancelled"] = summary["interrupted"];
  try {
    ledger_.put("deploy", summary);
  } catch (const std::exception& e) {
    report_.emit("warning", "", {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
  }
  try {
    journal_.write({{"deploy_id", deployId_}, {"phase", "interrupted"}, {"reason", reason}});
  } catch (const std::exception&) {
  }
  lock_.release();
  const std::string fix = fixCommand("rollback", " --if-dead");
  report_.emit("result", "", {{"status", "interrupted"}, {"reason", reason}, {"deploy_id", deployId_}, {"rollback", fix}, {"exit", kExitRollbackIncomplete}},
               fmt::format("gops {}: STOPPED: {}, before {} finished; {} {} is left as a dead deploy (lock released): "
                           "finish undoing it with `{}`",
                           verb(), reason, o_.rollback ? "the restore" : "the rollback", plan_.app, env_, fix));
  return kExitRollbackIncomplete;
}

}  // namespace gops::deploy::exec
