// `gops apply --resume`: finishing the apply that died (docs/runtime.md, Resume).
#include <algorithm>

#include <fmt/format.h>

#include "executor.h"

namespace gops::deploy::exec {

/// The dead deploy to finish. False (with the exit code) when there is none, or it
/// cannot be resumed.
bool Session::prepareResume(int& exitCode) {
  std::optional<json> dep;
  try {
    dep = ledger_.get("deploy");
  } catch (const std::exception& e) {
    report_.emit("result", "", {{"status", "error"}, {"message", awsMessage(e)}, {"exit", kExitFailed}},
                 fmt::format("gops apply --resume: cannot read the ledger: {}", awsMessage(e)));
    exitCode = kExitFailed;
    return false;
  }
  if (!dep || dep->value("status", "") != "in_progress") {
    // Nothing died: resuming again after a resume, or before any apply.
    bool deployed = dep && dep->value("status", "") == "succeeded" && dep->value("kind", "apply") != "rollback" &&
                    ImageTags::fromText(dep->value("image_tag", "")) == o_.imageTags;
    exitCode = deployed ? kExitOk : kExitFailed;
    std::string last = dep ? fmt::format("the last deploy ({}, image tag {}) ended {}", dep->value("deploy_id", "?"),
                                         dep->value("image_tag", "?"), dep->value("status", "?"))
                           : std::string("no deploy is recorded in the ledger");
    report_.emit("result", "", {{"status", "nothing_to_resume"}, {"last", dep ? *dep : json()}, {"exit", exitCode}},
                 fmt::format("gops apply --resume: nothing to resume in {}: {}{}", env_, last,
                             deployed ? fmt::format("; {} is deployed", o_.imageTags.text())
                                      : "; nothing was changed (run gops apply to deploy)"));
    return false;
  }
  if (dep->value("kind", "apply") == "rollback") {
    exitCode = kExitFailed;
    report_.emit("result", "", {{"status", "cannot_resume"}, {"exit", exitCode}},
                 fmt::format("gops apply --resume: the command that died in {} was a gops rollback (deploy {}); run gops rollback again",
                             env_, dep->value("deploy_id", "?")));
    return false;
  }
  if (dep->contains("cancelled") || dep->contains("interrupted")) {
    exitCode = kExitFailed;
    report_.emit("result", "", {{"status", "cannot_resume"}, {"exit", exitCode}},
                 fmt::format("gops apply --resume: deploy {} was stopped ({}) before its rollback finished; undo it with "
                             "gops rollback, then gops apply; nothing was changed",
                             dep->value("deploy_id", "?"), dep->value("reason", "a signal")));
    return false;
  }
  if (ImageTags::fromText(dep->value("image_tag", "")) != o_.imageTags) {
    exitCode = kExitFailed;
    report_.emit("result", "", {{"status", "cannot_resume"}, {"image_tag", dep->value("image_tag", "")}, {"exit", exitCode}},
                 fmt::format("gops apply --resume: the deploy that died in {} (deploy {}) was deploying image tag {}, not {}; "
                             "resume it with --image-tag {}, or run gops rollback and then gops apply; nothing was changed",
                             env_, dep->value("deploy_id", "?"), dep->value("image_tag", "?"), o_.imageTags.text(), dep->value("image_tag", "?")));
    return false;
  }
  for (const auto& wave : waves_) {
    for (const plan::Service* s : wave) {
      auto rec = ledger_.get("services/" + s->name);
      if (rec && rec->value("deploy_id", "") == dep->value("deploy_id", "") && rec->value("status", "") == "aborted") {
        // It died stopping a wave whose before_deploy failed: nothing of that wave moved.
        exitCode = kExitFailed;
        report_.emit("result", "", {{"status", "cannot_resume"}, {"exit", exitCode}},
                     fmt::format("gops apply --resume: deploy {} had stopped before any traffic of {} moved ({}) when it died; "
                                 "run gops apply again (or gops rollback to undo its earlier waves); nothing was changed",
                                 dep->value("deploy_id", "?"), s->name, rec->value("reason", "its before_deploy task failed")));
        return false;
      }
      if (rec && rec->value("deploy_id", "") == dep->value("deploy_id", "") &&
          (rec->value("status", "") == "rolled_back" || rec->value("status", "") == "rollback_failed")) {
        exitCode = kExitFailed;
        report_.emit("result", "", {{"status", "cannot_resume"}, {"exit", exitCode}},
                     fmt::format("gops apply --resume: deploy {} had failed and was rolling back ({} {}) when it died; "
                                 "run gops rollback, then gops apply; nothing was changed",
                                 dep->value("deploy_id", "?"), s->name, rec->value("status", "")));
        return false;
      }
    }
  }
  resumed_ = dep;
  deployId_ = dep->value("deploy_id", deployId_);
  started_ = dep->value("started", started_);
  return true;
}

/// What the dead deploy left of this service: the ledger record says the revisions
/// before and after, the executor what the APIs say.
void Session::resumeState(ServiceRun& r, const json& current) {
  const json& rec = *r.resumeRec;
  r.prevTaskDef = rec.value("previous_task_definition", "");
  r.prevDesired = rec.value("previous_desired_count", current.is_null() ? 0 : current.value("desiredCount", 0));
  r.newTaskDef = rec.value("task_definition", "");
  r.weight = rec.value("weight", 0.0);
  r.step = rec.value("step", "");
  // A service the dead deploy created has no previous revision: it existed only if the
  // ledger names one.
  r.existed = !current.is_null() && !r.prevTaskDef.empty();
  r.executor->resumeState(r, current);
}

/// The step to re-enter (0-based). The journal of this machine says which step started
/// last; without it, the ledger's step and weight. Then the APIs have the last word
/// (the executor's resumeIndex).
std::size_t Session::resumeIndex(ServiceRun& r) {
  const std::vector<plan::Step>& steps = r.steps();
  const std::size_t n = steps.size();
  std::size_t k = 0;
  long long lastStart = 0, lastDone = 0;
  for (const auto& e : journal_.entriesOf(deployId_)) {
    if (e.value("service", "") != r.name || !e.contains("index")) continue;
    long long i = e.value("index", 0LL);
    if (e.value("phase", "") == "start") lastStart = std::max(lastStart, i);
    if (e.value("phase", "") == "done") lastDone = std::max(lastDone, i);
  }
  if (lastStart > 0 || lastDone > 0) {
    k = static_cast<std::size_t>(lastStart > lastDone ? lastStart - 1 : lastDone);
  } else if (const std::string step = r.resumeRec->value("step", ""); !step.empty()) {
    const std::optional<plan::StepKind> kind = plan::stepKind(step);
    if (kind == plan::StepKind::Shift) {
      for (std::size_t i = 0; i < n; ++i) {
        const auto* shift = std::get_if<plan::Shift>(&steps[i]);
        if (shift && shift->weight == r.weight) {
          k = i;
          break;
        }
      }
    } else {
      k = kind ? std::min(indexOf(steps, *kind), n) : n;  // a step this plan does not have: its end
    }
  }
  if (r.newTaskDef.empty()) return 0;  // not registered yet: from the start
  k = std::max<std::size_t>(k, 1);     // registered: never again
  return std::min(r.executor->resumeIndex(r, k), n);
}

}  // namespace gops::deploy::exec
