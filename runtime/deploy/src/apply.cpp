// `gops apply` and `gops rollback` (docs/runtime.md): the session's inputs and the
// whole run, wave by wave, from the preflight to the ledger's last record.
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "executor.h"

namespace gops::deploy {

namespace exec {

namespace {

/// The client of the current thread: a wave's worker threads each have their own.
thread_local aws::AwsClient* tlsClient = nullptr;

}  // namespace

Session::Session(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& o)
    : aws_(aws),
      b_(bundle),
      o_(o),
      plan_(bundle.plan),
      cluster_(plan_.cluster),
      env_(plan_.environment),
      report_(*o.out, o.jsonEvents, o.liveLine),
      journal_(o.journalPath),
      ledger_([this]() -> aws::AwsClient& { return cli(); }, plan_.ledger),
      lock_(ledger_, report_) {
  deployId_ = fmt::format("{}-{}", nowEpoch(), ::getpid());
}

aws::AwsClient& Session::cli() { return tlsClient ? *tlsClient : aws_; }

void Session::useClient(aws::AwsClient* client) { tlsClient = client; }

json Session::fileDoc(const std::string& rel) {
  const std::lock_guard lock(filledMutex_);
  auto it = filled_.find(rel);
  if (it != filled_.end()) return it->second;
  auto f = b_.files.find(rel);
  if (f == b_.files.end()) throw DeployError(fmt::format("`{}` is missing next to the plan", rel));
  json doc;
  try {
    doc = json::parse(f->second);
  } catch (const json::exception& e) {
    throw DeployError(fmt::format("`{}` is not valid JSON: {}", rel, e.what()));
  }
  auto tag = fileTags_.find(rel);
  json filled = fillPlaceholders(doc, o_.tfOutputs ? *o_.tfOutputs : json::object(), tag != fileTags_.end() ? tag->second : o_.imageTags.all());
  filled_[rel] = filled;
  return filled;
}

std::string Session::fill(const std::string& s) {
  return fillPlaceholders(s, o_.tfOutputs ? *o_.tfOutputs : json::object(), o_.imageTags.all());
}

json Session::describeService(const std::string& name) {
  json r = cli().callJson("ecs", "DescribeServices", {{"cluster", cluster_}, {"services", json::array({name})}});
  for (const auto& s : r.value("services", json::array())) {
    if (s.value("status", "") == "ACTIVE" || s.value("status", "") == "DRAINING") return s;
  }
  return json();
}

void Session::record(ServiceRun& r, const std::string& status, const std::string& reason) {
  json v = {{"deploy_id", deployId_}, {"image_tag", r.imageTag}, {"task_definition", r.newTaskDef},
            {"previous_task_definition", r.prevTaskDef}, {"previous_desired_count", r.prevDesired}, {"status", status},
            {"step", r.step}, {"weight", r.weight}, {"started", started_}, {"commit", o_.commit}};
  if (status != "in_progress") v["ended"] = nowIso();
  if (!reason.empty()) v["reason"] = reason;
  if (!r.oneOffTask.is_null()) v["before_deploy"] = r.oneOffTask;
  ledger_.put("services/" + r.name, v);
}

/// The plan's waves, and every file of what this run deploys filled now (each task
/// definition with its workload's image tag), so that a missing output stops the apply
/// before anything changes.
void Session::loadInputs() {
  std::map<std::string, const plan::Service*> byName;
  for (const auto& s : plan_.services) byName[s.name] = &s;
  for (const auto& wave : plan_.order) {
    std::vector<const plan::Service*> w;
    for (const auto& name : wave) w.push_back(byName.at(name));  // the reader checked every name
    waves_.push_back(std::move(w));
  }
  auto files = [&](const std::string& workload, const std::vector<plan::Step>& steps) {
    for (const auto& step : steps) {
      if (const auto* reg = std::get_if<plan::RegisterTaskDefinition>(&step)) {
        if (auto tag = tagOf(workload)) fileTags_[reg->file] = *tag;
        fileDoc(reg->file);
      }
    }
  };
  for (const auto& wave : waves_) {
    for (const plan::Service* s : wave) {
      if (!inScope(s->name)) continue;
      files(s->name, s->steps);
      fileDoc(s->serviceFile);
      if (s->traffic && s->controller == plan::Controller::External) {
        fileDoc(s->traffic->blue.taskSetFile);
        fileDoc(s->traffic->green.taskSetFile);
      }
    }
  }
  for (const auto& j : plan_.jobs) {
    if (!o_.rollback && tagOf(j.name)) files(j.name, j.steps);
  }
}

bool Session::inScope(const std::string& service) const {
  if (!o_.onlyService.empty() && service != o_.onlyService) return false;
  return o_.rollback || tagOf(service).has_value();
}

void Session::registerJobs() {
  for (const auto& j : plan_.jobs) {
    if (!tagOf(j.name)) continue;  // a deploy of some services only: the job keeps its revision
    for (const auto& step : j.steps) {
      const auto* reg = std::get_if<plan::RegisterTaskDefinition>(&step);
      if (!reg) continue;
      std::string arn = registerTaskDefinition(cli(), fileDoc(reg->file));
      report_.emit("registered", j.name, {{"task_definition", arn}}, fmt::format("registered {} (job)", arn));
    }
  }
}

int Session::run() {
  started_ = nowIso();
  const std::string& app = plan_.app;
  if (o_.ifDead) {
    int rc = kExitOk;
    if (!prepareIfDead(rc)) return rc;
  }
  try {
    loadInputs();
  } catch (const DeployError& e) {
    report_.emit("error", "", {{"message", e.what()}}, fmt::format("gops apply: error: {}", e.what()));
    return kExitFailed;
  }
  const std::string tags = o_.imageTags.text();
  report_.emit("preflight", "", {{"app", app}, {"environment", env_}, {"image_tag", tags}},
               fmt::format("preflight: {} {} image tag {}", app, env_, tags));
  auto problems = preflight();
  if (!problems.empty()) {
    for (const auto& p : problems) report_.emit("preflight_failed", "", {{"message", p}}, fmt::format("preflight: {}", p));
    report_.emit("result", "", {{"status", "preflight_failed"}, {"exit", kExitFailed}},
                 fmt::format("gops {}: {} problem(s) found before changing anything; nothing was changed", verb(), problems.size()));
    return kExitFailed;
  }
  if (o_.resume) {
    int rc = kExitFailed;
    if (!prepareResume(rc)) return rc;
  }
  // A signal before anything changed: stop here.
  auto cancelledBeforeChanges = [&] {
    if (!cancelled_ && !mustStop()) return false;
    lock_.release();
    report_.emit("result", "", {{"status", "cancelled"}, {"exit", kExitFailed}},
                 fmt::format("gops {}: {} before anything changed; nothing was changed", verb(), cancelReason_));
    return true;
  };
  if (cancelledBeforeChanges()) return kExitFailed;
  std::string heldBy;
  try {
    if (!lock_.acquire({o_.owner, deployId_, tags, verb(), started_, o_.heartbeatSeconds}, heldBy)) {
      if (o_.ifDead) {
        // Another live command holds it now: the deploy is not dead any more.
        report_.emit(o_.preStep ? "dead_deploy_result" : "result", "", {{"status", "nothing_to_do"}, {"held_by", heldBy}, {"exit", kExitOk}},
                     fmt::format("gops rollback --if-dead: another command holds the lock now ({}); nothing to roll back", heldBy));
        return o_.preStep ? kExitFailed : kExitOk;
      }
      report_.emit("result", "", {{"status", "locked"}, {"held_by", heldBy}, {"exit", kExitFailed}},
                   fmt::format("gops {}: environment {} is locked by another command ({}); nothing was changed", verb(), env_, heldBy));
      return kExitFailed;
    }
  } catch (const std::exception& e) {
    report_.emit("result", "", {{"status", "error"}, {"message", awsMessage(e)}, {"exit", kExitFailed}},
                 fmt::format("gops apply: cannot take the lock: {}", awsMessage(e)));
    return kExitFailed;
  }
  report_.emit("locked", "", {{"deploy_id", deployId_}, {"heartbeat_seconds", o_.heartbeatSeconds}},
               fmt::format("lock taken: deploy {}", deployId_));
  if (o_.ifDead && !stillDead()) {
    lock_.release();
    return kExitOk;
  }
  if (!o_.rollback && cancelledBeforeChanges()) return kExitFailed;
  if (resumed_) {
    report_.emit("resume", "", {{"deploy_id", deployId_}, {"image_tag", tags}, {"started", started_}},
                 fmt::format("resuming deploy {} of image tag {} (started {})", deployId_, tags, started_));
  }
  journal_.write({{"deploy_id", deployId_}, {"phase", resumed_ ? "resume_start" : "apply_start"}, {"app", app}, {"environment", env_},
                  {"image_tag", tags}});

  json summary = {{"deploy_id", deployId_}, {"image_tag", tags}, {"status", "in_progress"}, {"started", started_},
                  {"commit", o_.commit}, {"services", json::object()}};
  if (!o_.rollback && !o_.imageTags.own().empty()) {
    // Tags of their own: which workload this deploy gives which tag (the others keep theirs).
    json own = json::object();
    for (const auto& s : plan_.services) {
      if (auto t = tagOf(s.name)) own[s.name] = *t;
    }
    for (const auto& j : plan_.jobs) {
      if (auto t = tagOf(j.name)) own[j.name] = *t;
    }
    summary["image_tags"] = own;
  }
  if (resumed_) {
    summary = *resumed_;
    if (!summary.contains("services") || !summary["services"].is_object()) summary["services"] = json::object();
    json times = summary.value("resumed", json::array());
    times.push_back(nowIso());
    summary["resumed"] = times;
  }
  int exitCode = kExitOk;
  try {
    previousDeploy_ = ledger_.get("deploy");
    ledger_.put("deploy", summary);
  } catch (const std::exception& e) {
    report_.emit("error", "", {{"message", awsMessage(e)}}, fmt::format("gops apply: cannot write the ledger: {}", awsMessage(e)));
    lock_.release();
    return kExitFailed;
  }

  report_.startLive();
  for (std::size_t w = 0; w < waves_.size(); ++w) {
    const auto& wave = waves_[w];
    // A signal (or the heartbeat at risk) between waves: the waves after it do not start.
    if (stopped_ || (!o_.rollback && (cancelled_ || heartbeatAtRisk_ || stopRequested()))) {
      const std::optional<StepFailed> why = stopped_ ? std::nullopt : stopRequested();
      for (std::size_t later = w; later < waves_.size(); ++later) {
        for (const plan::Service* s : waves_[later]) {
          if (o_.onlyService.empty() || s->name == o_.onlyService) summary["services"][s->name] = "not_started";
        }
      }
      summary["reason"] = fmt::format("{} before wave {} of {}", why ? why->reason : stopReason_, w + 1, waves_.size());
      exitCode = kExitRolledBack;
      break;
    }
    std::vector<ServiceRun> runs;
    for (const plan::Service* s : wave) {
      if (!inScope(s->name)) continue;
      ServiceRun r = newRun(*s);
      if (resumed_) {
        std::optional<json> rec;
        try {
          rec = ledger_.get("services/" + r.name);
        } catch (const std::exception& e) {
          r.failed = StepFailed{"error", awsMessage(e)};
        }
        if (rec && rec->value("deploy_id", "") == deployId_) {
          if (rec->value("status", "") == "succeeded") {
            r.alreadyDone = r.ok = true;
            r.newTaskDef = rec->value("task_definition", "");
            r.prevTaskDef = rec->value("previous_task_definition", "");
            report_.emit("service_done", r.name, {{"status", "succeeded"}, {"resumed", true}},
                         fmt::format("deployed {} already (by deploy {} before it died)", r.imageTag, deployId_));
          } else {
            r.resumeRec = rec;
          }
        }
      }
      runs.push_back(std::move(r));
    }
    if (runs.empty()) continue;
    runWave(runs);
    if (aborted_) {
      // A before_deploy task failed: the wave stopped before any of its traffic moved.
      for (auto& r : runs) {
        if (r.aborted) summary["services"][r.name] = "aborted";
        else if (r.skipped) summary["services"][r.name] = "not_started";
        else if (r.alreadyDone) deployedBefore_.push_back(r.name);  // by the dead apply this run resumed
        if (r.aborted && r.name == waveFailure_) summary["reason"] = fmt::format("{}: {}", r.name, r.failed->reason);
      }
      exitCode = kExitFailed;
      break;
    }
    const ServiceRun* first = nullptr;
    bool allRolledBack = true;
    for (auto& r : runs) {
      if (r.failed && (!first || (first->failed->trigger == "wave" && r.failed->trigger != "wave"))) first = &r;
      if (r.failed) {
        summary["services"][r.name] = stopped_ ? "interrupted" : o_.rollback ? "failed" : r.rollbackOk ? "rolled_back" : "rollback_failed";
        allRolledBack = allRolledBack && r.rollbackOk;
      } else if (r.skipped) {
        summary["services"][r.name] = "not_started";
      }
    }
    if (!first) {
      for (auto& r : runs) {
        summary["services"][r.name] = o_.rollback ? "restored" : "succeeded";
        if (!o_.rollback) deployedBefore_.push_back(r.name);
        try {
          ledger_.put("last-good/" + r.name, {{"task_definition", r.newTaskDef}, {"image_tag", r.imageTag}, {"deploy_id", deployId_},
                                              {"ended", nowIso()}, {"commit", o_.commit}});
        } catch (const std::exception& e) {
          report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
        }
      }
      continue;
    }
    summary["reason"] = fmt::format("{}: {}", first->name, first->failed->reason);
    if (o_.rollback) {
      for (auto& r : runs) {
        if (r.ok) summary["services"][r.name] = "restored";
      }
      exitCode = kExitRollbackIncomplete;
      break;
    }
    // The wave rolls back as a whole: the services it had deployed get their previous
    // revision back, so the environment does not end half on the new release (unless
    // the session must stop at once: then nothing more changes).
    for (auto& r : runs) {
      if (!r.ok || stopped_) continue;
      allRolledBack = restoreDeployed(r, fmt::format("{} of the same wave failed: {}", first->name, first->failed->reason), summary) && allRolledBack;
    }
    exitCode = allRolledBack ? kExitRolledBack : kExitRollbackIncomplete;
    break;
  }
  report_.stopLive();
  if (stopped_) return finishStopped(summary);
  if (o_.ifDead && exitCode == kExitOk) exitCode = kExitRolledBack;  // a dead deploy, rolled back
  return finish(exitCode, summary);
}

/// The jobs (after every service deployed), the ledger's `deploy` record, the journal's
/// end, the lock released, the result.
int Session::finish(int exitCode, json& summary) {
  const std::string& app = plan_.app;
  if (exitCode == kExitOk && !o_.rollback) {
    try {
      registerJobs();
    } catch (const std::exception& e) {
      report_.emit("error", "", {{"message", awsMessage(e)}}, fmt::format("gops apply: registering the jobs failed: {}", awsMessage(e)));
      summary["reason"] = fmt::format("jobs: {}", awsMessage(e));
      exitCode = kExitRolledBack;
    }
  }
  if (o_.rollback) summary["kind"] = "rollback";
  if (o_.ifDead && dead_) summary["rolled_back_deploy"] = dead_->deploy.value("deploy_id", "");
  const bool restored = o_.rollback && (exitCode == kExitOk || (o_.ifDead && exitCode == kExitRolledBack));
  summary["status"] = aborted_                      ? "aborted"
                      : restored                    ? "restored"
                      : exitCode == kExitOk         ? "succeeded"
                      : exitCode == kExitRolledBack ? "rolled_back"
                                                    : "rollback_failed";
  if (cancelled_ && !o_.rollback) summary["cancelled"] = nowIso();
  summary["ended"] = nowIso();
  try {
    ledger_.put("deploy", summary);
  } catch (const std::exception& e) {
    report_.emit("warning", "", {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
  }
  journal_.write({{"deploy_id", deployId_}, {"phase", "apply_end"}, {"status", summary["status"]}});
  lock_.release();
  std::string stayed;
  for (const auto& name : deployedBefore_) stayed += (stayed.empty() ? "" : ", ") + name;
  std::string text =
      aborted_ ? fmt::format("gops apply: stopped before any traffic moved ({}); {}", summary.value("reason", ""),
                             stayed.empty() ? "nothing was changed" : fmt::format("nothing of its wave was changed; {} stay deployed", stayed))
      : restored && o_.ifDead
          ? fmt::format("{}: the dead deploy {} of {} {} is rolled back; it runs what it ran before{}",
                        o_.preStep ? "gops apply --rollback-dead" : "gops rollback", summary.value("rolled_back_deploy", "?"), app, env_,
                        o_.preStep ? fmt::format("; now deploying {}", o_.imageTags.text()) : "")
      : restored ? fmt::format("gops rollback: {} {} restored", app, env_)
      : exitCode == kExitOk ? fmt::format("gops apply: {} {} deployed {}{}", app, env_, o_.imageTags.text(), resumed_ ? " (resumed)" : "")
      : exitCode == kExitRolledBack && cancelled_
          ? fmt::format("gops apply: {}: rolled back; {} {} runs what it ran before{}", cancelReason_, app, env_, [&] {
              // Waves deployed before the signal stay deployed, as after a failure.
              std::vector<std::string> kept;
              for (auto it = summary["services"].begin(); it != summary["services"].end(); ++it) {
                if (it.value() == "succeeded") kept.push_back(it.key());
              }
              return kept.empty() ? std::string()
                                  : fmt::format(", but for {} of the waves before, which stay on {}", fmt::join(kept, ", "), o_.imageTags.text());
            }())
      : exitCode == kExitRolledBack
          ? fmt::format("gops apply: rolled back ({}); {} {} runs what it ran before", summary.value("reason", ""), app, env_)
          : fmt::format("gops {}: the rollback is INCOMPLETE ({}); see docs/runtime.md, Recovery", verb(), summary.value("reason", ""));
  json fields = {{"status", summary["status"]}, {"deploy_id", deployId_}, {"exit", exitCode}};
  if (cancelled_) fields["cancelled"] = cancelReason_;
  report_.emit(o_.preStep ? "dead_deploy_result" : "result", "", fields, text);
  return exitCode;
}

}  // namespace exec

int rollback(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& options) {
  if (options.out == nullptr) throw std::logic_error("gops::deploy::rollback: ApplyOptions::out is null");
  ApplyOptions o = options;
  o.rollback = true;
  exec::Session s(aws, bundle, o);
  return s.run();
}

int apply(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& options) {
  if (options.out == nullptr) throw std::logic_error("gops::deploy::apply: ApplyOptions::out is null");
  if (options.rollback) return rollback(aws, bundle, options);
  if (options.rollbackDead && !options.resume) {
    // Roll a dead deploy back first (nothing to do: exit 0), then deploy.
    ApplyOptions first = options;
    first.ifDead = true;
    first.preStep = true;
    first.onlyService.clear();
    first.toRevision.clear();
    const int rc = rollback(aws, bundle, first);
    if (rc != kExitOk && rc != kExitRolledBack) return rc;
    if (options.interrupts && options.interrupts->count > 0) return kExitFailed;  // cancelled in between
  }
  exec::Session s(aws, bundle, options);
  return s.run();
}

}  // namespace gops::deploy
