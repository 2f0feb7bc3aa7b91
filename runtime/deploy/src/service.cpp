// A service's rollout, step by step: what was live, the progress line and journal entry
// of each step, and the executor that carries it out (docs/runtime.md, What it does).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "executor.h"
#include "gops/deploy/run_task.h"
#include "plan/writer.h"
#include "native.h"
#include "rolling.h"
#include "task_sets.h"

namespace gops::deploy::exec {

std::string registerTaskDefinition(aws::AwsClient& aws, const json& doc) {
  json res = aws.callJson("ecs", "RegisterTaskDefinition", doc);
  return res["taskDefinition"]["taskDefinitionArn"].get<std::string>();
}

std::size_t indexOf(const std::vector<plan::Step>& steps, plan::StepKind k) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (plan::kindOf(steps[i]) == k) return i;
  }
  return steps.size();
}

void notMyStep(const ServiceRun& r, const plan::Step& step, const char* executor) {
  throw DeployError(fmt::format("plan.json: service {}: `{}` is not a step of a {} service", r.name, plan::actionName(step), executor));
}

std::shared_ptr<Executor> makeExecutor(Session& s, const plan::Service& svc) {
  if (svc.engine == plan::Engine::Ecs) return std::make_shared<NativeExecutor>(s);
  switch (svc.strategy) {
    case plan::Strategy::Rolling: return std::make_shared<RollingExecutor>(s);
    case plan::Strategy::BlueGreen:
    case plan::Strategy::Canary:
    case plan::Strategy::Linear: return std::make_shared<TaskSetExecutor>(s);
  }
  throw DeployError(fmt::format("plan.json: service {}: unknown strategy", svc.name));
}

void Executor::registerStep(ServiceRun& r, const plan::RegisterTaskDefinition& step) {
  r.newTaskDef = registerTaskDefinition(s_.cli(), s_.fileDoc(step.file));
  s_.journal_.write({{"deploy_id", s_.deployId_}, {"service", r.name}, {"registered", r.newTaskDef}});
  s_.record(r, "in_progress");
  s_.report_.emit("registered", r.name, {{"task_definition", r.newTaskDef}}, fmt::format("registered {}", r.newTaskDef));
}

/// The seconds a step is planned to take at least (its settle and hold).
double Session::plannedSeconds(const plan::Step& step) const {
  if (const auto* s = std::get_if<plan::Shift>(&step)) return o_.settleSeconds + s->holdSeconds;
  if (const auto* h = std::get_if<plan::Hold>(&step)) return h->holdSeconds;
  if (const auto* f = std::get_if<plan::FollowDeployment>(&step)) {
    double sum = 0;
    for (const auto& sh : f->shifts) sum += sh.holdSeconds;
    return sum;
  }
  return 0;
}

void Session::deployService(ServiceRun& r) {
  if (!r.begun) beginService(r);
  runSteps(r, r.steps().size());
}

void Session::beginService(ServiceRun& r) {
  json current = describeService(r.ecsService);
  r.existed = !current.is_null();
  if (r.existed) {
    r.prevTaskDef = current.value("taskDefinition", "");
    r.prevDesired = current.value("desiredCount", 0);
    for (const auto& ts : current.value("taskSets", json::array())) {
      if (ts.value("status", "") == "PRIMARY") {
        r.prevPrimaryTaskSet = ts.value("taskSetArn", "");
        r.prevTaskDef = ts.value("taskDefinition", r.prevTaskDef);
      }
    }
  }
  r.executor->observe(r, current);
  if (r.resumeRec) resumeState(r, current);
  if (r.restoring) prepareRestore(r, current);

  const std::vector<plan::Step>& steps = r.steps();
  const std::size_t n = steps.size();
  std::size_t from = 0;
  if (r.resumeRec) {
    from = resumeIndex(r);
    std::string at = from < n ? fmt::format("step {}/{} {}", from + 1, n, plan::actionName(steps[from])) : "its end";
    report_.emit("resume", r.name, {{"index", from + 1}, {"of", n}, {"task_definition", r.newTaskDef}, {"task_set", r.newTaskSet},
                                    {"weight", r.weight}, {"promoted", r.promoted}},
                 fmt::format("resuming at {} (weight {}% on {}{})", at, formatNumber(r.weight),
                             r.external ? std::string(plan::toString(r.idleColor)) : "the new revision", r.promoted ? ", promoted" : ""));
  }
  record(r, "in_progress");
  r.nextStep = from;
  r.begun = true;
}

void Session::runSteps(ServiceRun& r, std::size_t end) {
  const plan::Service& s = *r.svc;
  const std::vector<plan::Step>& steps = r.steps();
  const std::size_t n = steps.size();
  double left = 0;
  for (std::size_t i = r.nextStep; i < n; ++i) left += plannedSeconds(steps[i]);
  for (std::size_t i = r.nextStep; i < std::min(end, n); ++i) {
    // Before each step: the heartbeat and the signals; a deploy also stops for a failure
    // of its wave or a cancel (a restore goes on until it must stop at once).
    checkStop();
    if (!r.restoring) {
      if (auto f = stopRequested()) throw *f;
    }
    const plan::Step& step = steps[i];
    const std::string action(plan::actionName(step));
    r.step = action;
    r.stepLabel = fmt::format("{}/{}", i + 1, n);
    const json jstep = {{"deploy_id", deployId_}, {"service", r.name}, {"index", i + 1}, {"action", action}};
    journal_.write([&] {
      json e = jstep;
      e["phase"] = "start";
      e["step"] = json::parse(plan::writeStep(step));
      return e;
    }());
    json ev = {{"index", i + 1}, {"of", n}, {"action", action}, {"time_left", left}};
    std::string text = fmt::format("step {}/{}  {}", i + 1, n, action);
    const bool shift = plan::kindOf(step) == plan::StepKind::Shift;
    std::visit(Overloaded{
                   [&](const plan::Shift& st) {
                     ev["weight"] = planNumber(st.weight);
                     ev["hold_seconds"] = planNumber(st.holdSeconds);
                     text += fmt::format(" {}% to {} (settle {} s, hold {} s)", formatNumber(st.weight), plan::toString(r.idleColor),
                                         formatNumber(o_.settleSeconds), formatNumber(st.holdSeconds));
                   },
                   [&](const plan::Hold& st) {
                     ev["hold_seconds"] = planNumber(st.holdSeconds);
                     text += fmt::format(" {} s watching {} alarm(s)", formatNumber(st.holdSeconds), s.watch.alarms.size());
                   },
                   [&](const plan::WaitStable& st) {
                     ev["timeout_seconds"] = planNumber(st.timeoutSeconds);
                     text += fmt::format(" (at most {} s)", formatNumber(st.timeoutSeconds));
                   },
                   [&](const plan::CreateTaskSet& st) {
                     ev["timeout_seconds"] = planNumber(st.timeoutSeconds);
                     text += fmt::format(" (at most {} s)", formatNumber(st.timeoutSeconds));
                   },
                   [&](const plan::FollowDeployment& st) {
                     // What ECS is to do: "10% for 300 s, then 100% for 0 s".
                     std::string plan;
                     for (const auto& sh : st.shifts) {
                       plan += fmt::format("{}{}% for {} s", plan.empty() ? "" : ", then ", formatNumber(sh.weight), formatNumber(sh.holdSeconds));
                     }
                     ev["timeout_seconds"] = planNumber(st.timeoutSeconds);
                     text += fmt::format(" by ECS: {} (at most {} s)", plan, formatNumber(st.timeoutSeconds));
                   },
                   [&](const plan::RunTask& st) {
                     ev["command"] = st.command;
                     ev["timeout_seconds"] = planNumber(st.timeoutSeconds);
                     text += fmt::format(" before_deploy `{}` (at most {} s)", commandText(st.command), formatNumber(st.timeoutSeconds));
                   },
                   [](const auto&) {},
               },
               step);
    if (r.external && !shift) ev["weight"] = r.weight;
    text += r.external && !shift ? fmt::format("  [weight {}%, {} s left]", formatNumber(r.weight), formatNumber(std::round(left)))
                                 : fmt::format("  [{} s left]", formatNumber(std::round(left)));
    report_.emit("step", r.name, ev, text);
    report_.status(r.name, fmt::format("{} {}", r.stepLabel, action));
    left -= plannedSeconds(step);

    if (const auto* reg = std::get_if<plan::RegisterTaskDefinition>(&step)) {
      r.executor->registerStep(r, *reg);
    } else if (const auto* task = std::get_if<plan::RunTask>(&step)) {
      runTask(r, *task);
    } else {
      r.executor->step(r, step);
    }
    journal_.write([&] {
      json e = jstep;
      e["phase"] = "done";
      return e;
    }());
    r.nextStep = i + 1;
  }
}

}  // namespace gops::deploy::exec
