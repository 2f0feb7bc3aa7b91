#pragma once
// The JSON names of the plan's enums, in enum order: what toString() returns and
// what the reader accepts. Internal to gops_plan.
#include <array>
#include <optional>
#include <string_view>

#include "plan/plan.h"

namespace gops::plan::names {

template <class E>
struct Names;

#define GOPS_PLAN_NAMES(E, ...)                                            \
  template <>                                                             \
  struct Names<E> {                                                       \
    static constexpr std::string_view list[] = {__VA_ARGS__};             \
  }

GOPS_PLAN_NAMES(StepKind, "register_task_definition", "update_service", "wait_stable", "hold", "create_task_set", "shift",
                "promote_task_set", "retire_task_set", "start_deployment", "follow_deployment", "run_task");
GOPS_PLAN_NAMES(Strategy, "rolling", "blue_green", "canary", "linear");
GOPS_PLAN_NAMES(StrategySource, "service", "environment", "default", "fallback");
GOPS_PLAN_NAMES(Controller, "ECS", "EXTERNAL");
GOPS_PLAN_NAMES(Engine, "gops", "ecs");
GOPS_PLAN_NAMES(Color, "blue", "green");
GOPS_PLAN_NAMES(Trigger, "alarm", "unhealthy_targets", "failed_tasks", "circuit_breaker", "timeout");
GOPS_PLAN_NAMES(Restore, "listener_weights", "delete_new_task_set", "primary_task_set", "previous_task_definition",
                "desired_count", "previous_service_revision");
GOPS_PLAN_NAMES(GateKind, "tests_passed", "security_scan", "approval", "soak");
GOPS_PLAN_NAMES(TargetGroupChoice, "idle");
GOPS_PLAN_NAMES(TaskSetChoice, "previous");

#undef GOPS_PLAN_NAMES

static_assert(std::size(Names<StepKind>::list) == kStepKinds, "one action name per alternative of Step");

template <class E>
std::string_view name(E v) {
  return Names<E>::list[static_cast<std::size_t>(v)];
}

template <class E>
std::optional<E> parse(std::string_view s) {
  for (std::size_t i = 0; i < std::size(Names<E>::list); ++i) {
    if (Names<E>::list[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

/// "`a`, `b` or `c`": the accepted names, for messages.
template <class E>
std::string choices() {
  std::string r;
  const std::size_t n = std::size(Names<E>::list);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) r += i + 1 == n ? " or " : ", ";
    r += '`';
    r += Names<E>::list[i];
    r += '`';
  }
  return r;
}

}  // namespace gops::plan::names
