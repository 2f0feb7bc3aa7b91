#pragma once
/// Reading a plan: `plan.json`'s text parsed and validated once, into a `Plan` or the
/// list of every problem, each with its place in the JSON (`services[2].steps[3].weight`).
///
/// What it checks:
/// - what docs/plan.schema.json states: `plan_version` 1 (another version is the
///   only problem reported then), every required member of the type the schema names,
///   no member the schema does not know, the patterns of names, accounts, regions,
///   SSM paths, placeholders and ECS file names, the ranges of percentages and
///   seconds, known step kinds and enums, the traffic section exactly when the
///   controller is EXTERNAL or the engine `ecs` (task set files exactly for the
///   former), which strategies and steps each controller and engine runs,
///   `register_task_definition` first and only there, a `run_task`'s size override
///   and log location set whole or not at all;
/// - and what the schema cannot state: unique service and job names; `order` lists
///   every service once and each after the services in its `depends_on`, which name
///   services of the plan; a task-set service has one `create_task_set` before its
///   shifts, weights that rise to 100, then one `promote_task_set` and one
///   `retire_task_set`; a rolling service one `update_service` followed by a
///   `wait_stable`; a service whose engine is `ecs` one `start_deployment`, then one
///   `follow_deployment` whose shifts rise to 100; every `run_task` before the first
///   `update_service`, `create_task_set` or `start_deployment` (before any traffic
///   moves); an autoscaler's `min` not over its `max`.
/// tests/data/plan_cases.json lists malformed plans with the problem each has, and
/// which of them the schema rejects too (the unit tests and tests/plan_check.py both
/// run it).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/plan.h"

namespace gops::plan {

struct Problem {
  std::string path;     ///< `services[2].steps[3].weight`; empty for the whole document
  std::string message;  ///< what is wrong there, lower-case
  /// `path: message` (or the message alone for the whole document).
  std::string text() const { return path.empty() ? message : path + ": " + message; }
  bool operator==(const Problem&) const = default;
};

struct ReadResult {
  std::optional<Plan> plan;       ///< set exactly when there is no problem
  std::vector<Problem> problems;  ///< in the order of the plan's members (docs/plan.md)
  bool ok() const { return problems.empty(); }
};

ReadResult read(std::string_view text);

}  // namespace gops::plan
