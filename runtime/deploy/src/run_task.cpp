// The `run_task` step: a service's `before_deploy` task, a one-off ECS task of the new
// revision run before any traffic moves and waited on until it stops (docs/runtime.md,
// before_deploy). Exit code 0 lets the rollout go on; anything else, a task that did not
// start, or the timeout (the task is then stopped) fails the step, and the session stops
// the wave with nothing changed (waves.cpp).
#include "gops/deploy/run_task.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "session.h"

namespace gops::deploy {

namespace {

using json = nlohmann::json;

/// The last part of an ARN: a task's id.
std::string lastPart(const std::string& arn) {
  const auto slash = arn.rfind('/');
  return slash == std::string::npos ? arn : arn.substr(slash + 1);
}

}  // namespace

json runTaskInput(const plan::RunTask& step, const std::string& cluster, const std::string& taskDefinition, const json& placement,
                  const std::string& startedBy) {
  json in = {{"cluster", cluster}, {"taskDefinition", taskDefinition}, {"count", 1}, {"startedBy", startedBy}};
  // Where the service's tasks run: Fargate or its capacity providers, and its network.
  for (const char* key : {"capacityProviderStrategy", "launchType", "platformVersion", "networkConfiguration"}) {
    if (placement.contains(key)) in[key] = placement[key];
  }
  json container = {{"name", step.container}, {"command", step.command}};
  if (step.containerCpu) container["cpu"] = *step.containerCpu;
  if (step.containerMemory) container["memory"] = *step.containerMemory;
  json overrides = {{"containerOverrides", json::array({container})}};
  // Task-level sizes are strings in RunTask, as in RegisterTaskDefinition.
  if (step.cpu) overrides["cpu"] = std::to_string(*step.cpu);
  if (step.memory) overrides["memory"] = std::to_string(*step.memory);
  in["overrides"] = overrides;
  in["enableECSManagedTags"] = true;
  in["propagateTags"] = "TASK_DEFINITION";
  return in;
}

std::string TaskEnd::describe() const {
  // With an exit code the process ended: the task's reason says why it stopped, its stop
  // code adds nothing. Without one, the stop code says what happened instead.
  std::string why;
  auto add = [&](const std::string& part) {
    if (!part.empty()) why += (why.empty() ? "" : "; ") + part;
  };
  if (exitCode) {
    if (*exitCode != 0 || stopCode != "EssentialContainerExited") add(stoppedReason);
  } else {
    add(stopCode.empty() || stoppedReason.empty() ? stopCode + stoppedReason : fmt::format("{}: {}", stopCode, stoppedReason));
  }
  add(containerReason);
  if (!stopped) return why.empty() ? "is still running" : fmt::format("is still running ({})", why);
  if (exitCode) return why.empty() ? fmt::format("exited with code {}", *exitCode) : fmt::format("exited with code {} ({})", *exitCode, why);
  return why.empty() ? "stopped without an exit code" : fmt::format("stopped without an exit code ({})", why);
}

TaskEnd taskEnd(const json& task, const std::string& container) {
  TaskEnd e;
  e.stopped = task.value("lastStatus", "") == "STOPPED";
  e.stopCode = task.value("stopCode", "");
  e.stoppedReason = task.value("stoppedReason", "");
  for (const auto& c : task.value("containers", json::array())) {
    if (c.value("name", "") != container) continue;
    e.containerReason = c.value("reason", "");
    // ECS reports an exit code only for a container that ran and stopped.
    if (e.stopped && c.contains("exitCode") && c["exitCode"].is_number_integer()) e.exitCode = c["exitCode"].get<int>();
  }
  return e;
}

std::string logStream(const plan::RunTask& step, const std::string& taskArn) {
  return step.logStreamPrefix ? *step.logStreamPrefix + lastPart(taskArn) : std::string();
}

std::string commandText(const std::vector<std::string>& command) {
  std::string r;
  for (const auto& arg : command) {
    const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`;&|<>()*?[]{}~#!") == std::string::npos;
    std::string quoted = plain ? arg : "'";
    if (!plain) {
      for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      quoted += "'";
    }
    r += (r.empty() ? "" : " ") + quoted;
  }
  return r;
}

namespace exec {

namespace {

/// `; logs: CloudWatch Logs group G, stream S`, or what says where they are.
std::string logsText(const plan::RunTask& step, const std::string& stream) {
  if (!step.logGroup) return "; logs: where the service's log router sends them (its `log_options`)";
  return fmt::format("; logs: CloudWatch Logs group {}, stream {}", *step.logGroup, stream);
}

}  // namespace

/// The task the dead deploy started for this step, when there is one to wait on: the
/// one the journal names, else the one the ledger names, else ListTasks finds by
/// `startedBy`. Empty when none is known to ECS any more.
std::string Session::deadDeployTask(ServiceRun& r, const std::string& startedBy) {
  std::vector<std::string> candidates;
  for (const auto& e : journal_.entriesOf(deployId_)) {
    if (e.value("service", "") == r.name && e.contains("task_started")) candidates.push_back(e.value("task_started", ""));
  }
  if (r.resumeRec && r.resumeRec->contains("before_deploy")) candidates.push_back((*r.resumeRec)["before_deploy"].value("task", ""));
  json listed = cli().callJson("ecs", "ListTasks", {{"cluster", cluster_}, {"startedBy", startedBy}, {"desiredStatus", "RUNNING"}});
  for (const auto& arn : listed.value("taskArns", json::array())) candidates.push_back(arn.get<std::string>());
  json stopped = cli().callJson("ecs", "ListTasks", {{"cluster", cluster_}, {"startedBy", startedBy}, {"desiredStatus", "STOPPED"}});
  for (const auto& arn : stopped.value("taskArns", json::array())) candidates.push_back(arn.get<std::string>());
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    if (it->empty()) continue;
    json d = cli().callJson("ecs", "DescribeTasks", {{"cluster", cluster_}, {"tasks", json::array({*it})}});
    for (const auto& t : d.value("tasks", json::array())) {
      if (t.value("taskDefinitionArn", "") == r.newTaskDef) return t.value("taskArn", *it);
    }
  }
  return {};
}

/// Never two before_deploy tasks of a service at once (two migrations of one database):
/// a task another deploy started (`startedBy` `gops-...`: one that died, or was stopped
/// at once, while its task ran) is waited on until it stops, at most the step's timeout;
/// it is never stopped by this deploy.
void Session::waitForOtherTasks(ServiceRun& r, const plan::RunTask& step, const std::string& startedBy) {
  auto others = [&] {
    // The family's running tasks (the service's own among them), 100 a page and a describe.
    std::vector<std::string> found;
    std::string next;
    do {
      json in = {{"cluster", cluster_}, {"family", r.svc->taskFamily}, {"desiredStatus", "RUNNING"}, {"maxResults", 100}};
      if (!next.empty()) in["nextToken"] = next;
      json listed = cli().callJson("ecs", "ListTasks", in);
      next = listed.value("nextToken", "");
      const json arns = listed.value("taskArns", json::array());
      if (arns.empty()) continue;
      json d = cli().callJson("ecs", "DescribeTasks", {{"cluster", cluster_}, {"tasks", arns}});
      for (const auto& t : d.value("tasks", json::array())) {
        const std::string by = t.value("startedBy", "");
        if (by.rfind("gops-", 0) == 0 && by != startedBy && t.value("lastStatus", "") != "STOPPED") {
          found.push_back(fmt::format("{} (started by {})", t.value("taskArn", "?"), by));
        }
      }
    } while (!next.empty());
    return found;
  };
  std::vector<std::string> running = others();
  if (running.empty()) return;
  const std::string list = fmt::format("{}", fmt::join(running, ", "));
  report_.emit("task_waiting", r.name, {{"tasks", running}, {"timeout_seconds", planNumber(step.timeoutSeconds)}},
               fmt::format("before_deploy: another deploy's task still runs, waiting for it to stop first: {}", list));
  r.inOneOffTask = true;
  try {
    waitFor(r, step.timeoutSeconds, [&] { return others().empty(); }, "the other deploy's before_deploy task to stop");
  } catch (const StepFailed& f) {
    r.inOneOffTask = false;
    if (f.trigger != "timeout") throw;
    throw StepFailed{"task_failed", fmt::format("another deploy's before_deploy task still runs after {} s ({}); this deploy started none",
                                                formatNumber(step.timeoutSeconds), list)};
  }
  r.inOneOffTask = false;
}

void Session::runTask(ServiceRun& r, const plan::RunTask& step) {
  // Marks the task as this deploy's (at most 36 characters): a resumed deploy finds it.
  const std::string startedBy = fmt::format("gops-{}", deployId_).substr(0, 36);
  const std::string what = commandText(step.command);
  std::string arn = r.resumeRec ? deadDeployTask(r, startedBy) : std::string();
  const bool resumed = !arn.empty();
  if (arn.empty()) {
    waitForOtherTasks(r, step, startedBy);
    json res = cli().callJson("ecs", "RunTask", runTaskInput(step, cluster_, r.newTaskDef, fileDoc(step.placementFile), startedBy));
    const json tasks = res.value("tasks", json::array());
    if (tasks.empty() || !tasks[0].contains("taskArn")) {
      std::string why;
      for (const auto& f : res.value("failures", json::array())) {
        why += fmt::format("{}{}{}", why.empty() ? "" : "; ", f.value("reason", "?"), f.contains("detail") ? ": " + f.value("detail", "") : "");
      }
      r.oneOffTask = {{"command", step.command}, {"status", "not_started"}, {"reason", why}};
      throw StepFailed{"task_failed", fmt::format("the before_deploy task ({}) did not start: {}", what, why.empty() ? "RunTask started no task" : why)};
    }
    arn = tasks[0].value("taskArn", "");
    journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"task_started", arn}});
  }
  const std::string stream = logStream(step, arn);
  r.oneOffTask = {{"task", arn}, {"command", step.command}, {"status", "running"}};
  if (step.logGroup) {
    r.oneOffTask["log_group"] = *step.logGroup;
    r.oneOffTask["log_stream"] = stream;
  }
  record(r, "in_progress");
  json fields = {{"task", arn}, {"command", step.command}, {"resumed", resumed}};
  if (step.logGroup) {
    fields["log_group"] = *step.logGroup;
    fields["log_stream"] = stream;
  }
  report_.emit("task_started", r.name, fields,
               fmt::format("before_deploy {}: {}{}", resumed ? "task of the dead apply, still known to ECS" : "task started", arn,
                           step.logGroup ? fmt::format(" (logs: {} {})", *step.logGroup, stream) : ""));

  // The task runs to its end: neither another service's failure nor an alarm stops a
  // migration half-way. Only its own timeout does.
  const auto start = Steady::now();
  TaskEnd end;
  r.inOneOffTask = true;
  try {
    waitFor(r, step.timeoutSeconds, [&] {
      json d = cli().callJson("ecs", "DescribeTasks", {{"cluster", cluster_}, {"tasks", json::array({arn})}});
      const json tasks = d.value("tasks", json::array());
      if (tasks.empty()) {
        end = TaskEnd{};
        end.stopped = true;
        end.stoppedReason = "ECS no longer knows the task";
        return true;
      }
      end = taskEnd(tasks[0], step.container);
      return end.stopped;
    }, "the before_deploy task to stop");
  } catch (const StepFailed& f) {
    r.inOneOffTask = false;
    if (f.trigger != "timeout") throw;
    std::string stop = "it was stopped";
    try {
      cli().callJson("ecs", "StopTask", {{"cluster", cluster_}, {"task", arn},
                                         {"reason", fmt::format("gops: before_deploy ran out of its {} s (deploy {})", formatNumber(step.timeoutSeconds), deployId_)}});
      report_.emit("task_stopping", r.name, {{"task", arn}, {"timeout_seconds", planNumber(step.timeoutSeconds)}},
                   fmt::format("before_deploy task ran out of its {} s: stopped {}", formatNumber(step.timeoutSeconds), arn));
    } catch (const std::exception& e) {
      stop = fmt::format("stopping it failed ({}): stop it by hand (aws ecs stop-task --cluster {} --task {})", awsMessage(e), cluster_, arn);
    }
    r.oneOffTask["status"] = "timed_out";
    throw StepFailed{"task_timeout", fmt::format("the before_deploy task ({}) did not finish within {} s; {}; task {}{}", what,
                                                 formatNumber(step.timeoutSeconds), stop, arn, logsText(step, stream))};
  }
  r.inOneOffTask = false;
  const long long seconds = static_cast<long long>(std::chrono::duration<double>(Steady::now() - start).count());
  r.oneOffTask["status"] = end.succeeded() ? "succeeded" : "failed";
  r.oneOffTask["exit_code"] = end.exitCode ? json(*end.exitCode) : json();
  if (!end.stopCode.empty()) r.oneOffTask["stop_code"] = end.stopCode;
  if (!end.succeeded()) r.oneOffTask["reason"] = end.describe();
  fields = {{"task", arn}, {"exit_code", r.oneOffTask["exit_code"]}, {"stop_code", end.stopCode}, {"reason", end.describe()}, {"seconds", seconds}};
  if (step.logGroup) {
    fields["log_group"] = *step.logGroup;
    fields["log_stream"] = stream;
  }
  report_.emit("task_stopped", r.name, fields, fmt::format("before_deploy task {} after {} s", end.describe(), seconds));
  if (!end.succeeded()) {
    throw StepFailed{"task_failed", fmt::format("the before_deploy task ({}) {}; task {}{}", what, end.describe(), arn, logsText(step, stream))};
  }
}

}  // namespace exec

}  // namespace gops::deploy
