#pragma once
/// The deployment-plan backend: `<env>/plan.json`, what `gops apply` executes for
/// one environment (docs/plan.md; JSON Schema docs/plan.schema.json). It builds the
/// environment's `gops::plan::Plan` (compiler/plan, the contract it shares with the
/// runtime) from the model and writes it with that library's writer. It names the
/// AWS resources exactly as the Terraform module creates them and the ECS JSON files
/// next to it; values only known after `terraform apply` are `{{tf:OUTPUT}}`
/// placeholders, as in the ECS JSON. Reads only the model and its deployment facts
/// (compiler/deploy_facts), where every name, target group and alarm comes from.
#include "backends/common/output.h"
#include "model/model.h"
#include "plan/plan.h"

namespace gops::facts {
struct EnvFacts;
}

namespace gops::backend::plan {

/// The plan's version and time limits live with the contract (compiler/plan/plan.h).
inline constexpr int kPlanVersion = gops::plan::kVersion;

Output generate(const model::AppModel& app, const Options& o = {});

/// The plan of an environment from its deployment facts, its `"//"` member `notice`.
gops::plan::Plan build(const facts::EnvFacts& f, const std::string& notice);
/// The same, computing the environment's facts.
gops::plan::Plan build(const model::AppModel& app, const model::Environment& env, const std::string& notice);

/// Services in deployment waves: each wave's services deploy in parallel, after
/// every service they depend on (in earlier waves). Sorted by name within a wave.
/// The model's computation (model/deploy_time.h), which the checker's W0511 and the
/// deploy workflow's limits use too.
std::vector<std::vector<std::string>> waves(const model::Environment& env);

}  // namespace gops::backend::plan
