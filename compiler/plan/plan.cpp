#include "plan/plan.h"

#include <algorithm>

#include "plan/enum_names.h"

namespace gops::plan {

std::string_view actionName(StepKind k) { return names::name(k); }
std::optional<StepKind> stepKind(std::string_view action) { return names::parse<StepKind>(action); }

bool isTaskSetStep(StepKind k) {
  switch (k) {
    case StepKind::CreateTaskSet:
    case StepKind::Shift:
    case StepKind::PromoteTaskSet:
    case StepKind::RetireTaskSet:
      return true;
    case StepKind::RegisterTaskDefinition:
    case StepKind::UpdateService:
    case StepKind::WaitStable:
    case StepKind::Hold:
    case StepKind::StartDeployment:
    case StepKind::FollowDeployment:
    case StepKind::RunTask:
      return false;
  }
  return false;
}

bool isNativeStep(StepKind k) { return k == StepKind::StartDeployment || k == StepKind::FollowDeployment; }
std::vector<std::string> Watch::alarmsFor(Color c) const {
  std::vector<std::string> r = alarms;
  const auto& colored = c == Color::Blue ? newBlue : newGreen;
  r.insert(r.end(), colored.begin(), colored.end());
  return r;
}

std::vector<std::string> Watch::allAlarms() const {
  std::vector<std::string> r = alarms;
  for (const auto* colored : {&newBlue, &newGreen}) {
    for (const auto& a : *colored) {
      if (std::find(r.begin(), r.end(), a) == r.end()) r.push_back(a);
    }
  }
  return r;
}

bool isPrepareStep(StepKind k) { return k == StepKind::RegisterTaskDefinition || k == StepKind::RunTask; }

bool Rollback::triggers(Trigger t) const { return std::find(on.begin(), on.end(), t) != on.end(); }

const Service* Plan::service(std::string_view name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Gate* Plan::gateFrom(std::string_view from) const {
  for (const auto& g : gates) {
    if (g.from == from) return &g;
  }
  return nullptr;
}

std::string_view toString(Strategy v) { return names::name(v); }
std::string_view toString(StrategySource v) { return names::name(v); }
std::string_view toString(Controller v) { return names::name(v); }
std::string_view toString(Engine v) { return names::name(v); }
std::string_view toString(Color v) { return names::name(v); }
std::string_view toString(Trigger v) { return names::name(v); }
std::string_view toString(Restore v) { return names::name(v); }
std::string_view toString(GateKind v) { return names::name(v); }
std::string_view toString(TargetGroupChoice v) { return names::name(v); }
std::string_view toString(TaskSetChoice v) { return names::name(v); }

}  // namespace gops::plan
