#pragma once
/// The `run_task` step (a service's `before_deploy`, docs/plan.md) as the data the
/// runtime exchanges with ECS: RunTask's input, and how DescribeTasks says the task
/// ended. No AWS calls here: the session makes them (src/run_task.cpp).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "plan/plan.h"

namespace gops::deploy {

/// RunTask's input: one task of `taskDefinition` (the new revision) in `cluster`, the
/// step's command (and size overrides) on its container, placed as `placement` (the
/// filled CreateService or CreateTaskSet input the step names) places the service's
/// tasks: its launch type or capacity provider strategy, platform version and network
/// configuration. `startedBy` marks the task as the deploy's (ListTasks finds it by it).
nlohmann::json runTaskInput(const plan::RunTask& step, const std::string& cluster, const std::string& taskDefinition,
                            const nlohmann::json& placement, const std::string& startedBy);

/// How a task ended, as DescribeTasks tells it.
struct TaskEnd {
  bool stopped = false;         ///< lastStatus STOPPED
  std::optional<int> exitCode;  ///< the step's container's, once the task stopped
  std::string stopCode;         ///< TaskFailedToStart, EssentialContainerExited, UserInitiated, SpotInterruption, ...
  std::string stoppedReason;    ///< the task's
  std::string containerReason;  ///< the container's: `CannotPullContainerError: ...`, `OutOfMemoryError: ...`
  bool succeeded() const { return stopped && exitCode && *exitCode == 0; }
  /// What happened, in words: `exited with code 3 (Essential container in task exited)`,
  /// `stopped without an exit code (TaskFailedToStart: ...; CannotPullContainerError: ...)`.
  std::string describe() const;
};

/// `task` (an element of DescribeTasks' `tasks`) for the container named `container`.
TaskEnd taskEnd(const nlohmann::json& task, const std::string& container);

/// The task's CloudWatch Logs stream: the step's prefix and the task's id (the last
/// part of its ARN); empty when the step names no log location.
std::string logStream(const plan::RunTask& step, const std::string& taskArn);

/// A command as a shell would read it: `bin/migrate --to 'the end'`.
std::string commandText(const std::vector<std::string>& command);

}  // namespace gops::deploy
