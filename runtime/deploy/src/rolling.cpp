#include "rolling.h"

#include <algorithm>

#include <fmt/format.h>

namespace gops::deploy::exec {

void RollingExecutor::step(ServiceRun& r, const plan::Step& step) {
  std::visit(Overloaded{
                 [&](const plan::UpdateService&) { update(r); },
                 [&](const plan::WaitStable& st) { s_.waitFor(r, st.timeoutSeconds, [&] { return stable(r); }, "a steady state"); },
                 [&](const plan::Hold& st) { s_.hold(r, st.holdSeconds, "holding, watching the alarms"); },
                 [&](const auto&) { notMyStep(r, step, "rolling"); },
             },
             step);
}

/// UpdateService to the new revision with the service file's deployment
/// configuration; CreateService when the service does not exist.
void RollingExecutor::update(ServiceRun& r) {
  const plan::Service& s = *r.svc;
  if (!r.existed && s_.describeService(r.ecsService).is_null()) {
    json doc = s_.fileDoc(s.serviceFile);
    doc["taskDefinition"] = r.newTaskDef;
    s_.cli().callJson("ecs", "CreateService", doc);
  } else {
    json input = {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"taskDefinition", r.newTaskDef}};
    json sdoc = s_.fileDoc(s.serviceFile);
    if (sdoc.contains("deploymentConfiguration")) input["deploymentConfiguration"] = sdoc["deploymentConfiguration"];
    s_.cli().callJson("ecs", "UpdateService", input);
  }
  r.updated = true;
}

/// The primary deployment runs the new revision, is COMPLETED and the only one left.
bool RollingExecutor::stable(const ServiceRun& r) {
  json cur = s_.describeService(r.ecsService);
  if (cur.is_null()) return false;
  for (const auto& d : cur.value("deployments", json::array())) {
    if (d.value("status", "") != "PRIMARY") continue;
    bool ours = d.value("taskDefinition", "") == r.newTaskDef || cur.value("taskDefinition", "") == r.newTaskDef;
    std::string state = d.value("rolloutState", "");
    bool complete = state == "COMPLETED" || (state.empty() && d.value("runningCount", 0) >= d.value("desiredCount", 0));
    return ours && complete && cur.value("deployments", json::array()).size() == 1;
  }
  return false;
}

void RollingExecutor::undo(ServiceRun& r, const std::function<void(const std::string&, const std::function<void()>&)>& attempt) {
  if (!(r.updated && r.existed && !r.prevTaskDef.empty())) return;
  attempt(fmt::format("task definition {} and desired count {}", r.prevTaskDef, r.prevDesired), [&] {
    s_.cli().callJson("ecs", "UpdateService", {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"taskDefinition", r.prevTaskDef},
                                               {"desiredCount", r.prevDesired}});
  });
}

std::vector<plan::Step> RollingExecutor::restoreSteps(ServiceRun& r, const json&) {
  // The plan's own update (its numbers are the service's), waited on as a deploy is.
  plan::UpdateService update;
  for (const auto& st : r.svc->steps) {
    if (const auto* u = std::get_if<plan::UpdateService>(&st)) update = *u;
  }
  return {update, plan::WaitStable{plan::kStabilizeTimeout}};
}

void RollingExecutor::resumeState(ServiceRun& r, const json& current) {
  if (!current.is_null() && !r.newTaskDef.empty() && current.value("taskDefinition", "") == r.newTaskDef) r.updated = true;
}

std::size_t RollingExecutor::resumeIndex(const ServiceRun& r, std::size_t k) const {
  // Updated already: wait for it; else update (again).
  const std::size_t update = indexOf(r.steps(), plan::StepKind::UpdateService);
  return r.updated ? std::max(k, update + 1) : std::min(k, update);
}

}  // namespace gops::deploy::exec
