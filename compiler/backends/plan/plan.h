#pragma once
/// The deployment-plan backend: `<env>/plan.json`, what `gops apply` executes for
/// one environment (docs/plan.md; JSON Schema docs/plan.schema.json). It names the
/// AWS resources exactly as the Terraform backend creates them and the ECS JSON
/// files next to it; values only known after `terraform apply` are `{{tf:OUTPUT}}`
/// placeholders, as in the ECS JSON. Reads only the model.
#include "backends/common/output.h"
#include "model/model.h"

namespace gops::backend::plan {

/// Bumped whenever the plan's shape or meaning changes incompatibly; the runtime
/// refuses plans of another version.
inline constexpr int kPlanVersion = 1;

/// Default time limits, in seconds (documented in docs/plan.md).
inline constexpr double kStabilizeTimeout = 900;   ///< a rolling update or new task set becoming healthy
inline constexpr double kShiftSettle = 60;          ///< after each weight change, before its hold counts
inline constexpr double kMinTestTrafficHold = 60;  ///< blue/green test traffic, at least

Output generate(const model::AppModel& app, const Options& o = {});

/// Services in deployment waves: each wave's services deploy in parallel, after
/// every service they depend on (in earlier waves). Sorted by name within a wave.
std::vector<std::vector<std::string>> waves(const model::Environment& env);

}  // namespace gops::backend::plan
