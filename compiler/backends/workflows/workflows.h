#pragma once
/// The workflows backend: GitHub Actions workflows for an app, in
/// `.github/workflows/` of the output directory (docs/workflows.md describes them):
///
///   ci.yml               gops check (SARIF to code scanning), gops build --check, Checkov, Trivy
///   build.yml            images of workloads with `build = "dir"`, pushed to ECR tagged with the commit
///   deploy-<env>.yml     one per environment: promotion gates, gops apply, the environment's tests
///   infrastructure.yml   terraform plan on pull requests (commented), apply in promotion order
///   drift.yml            on the environments' drift_check schedules
///   rollback.yml         gops rollback of one service in one environment, run by hand
///
/// It reads the model and the environments' deployment facts (deploy_facts/: role
/// ARNs, schedules, branch policies, module directories); output is deterministic.
#include <string>
#include <string_view>
#include <vector>

#include "backends/common/output.h"
#include "model/model.h"

namespace gops::backend::workflows {

/// Every workflow file, whatever `o.environments` selects (workflows describe the
/// whole app). Errors: an image built from two different `build` directories, or
/// `build` on an image that is not in the app's ECR registry.
Output generate(const model::AppModel& app, const Options& o = {});

/// A third-party action at the commit the workflows pin it to.
struct ActionPin {
  std::string_view action;   ///< "actions/checkout"
  std::string_view commit;   ///< 40 hex digits
  std::string_view version;  ///< the release tag that commit is, written as a comment
};
/// Every action the workflows use: the one place to update them.
const std::vector<ActionPin>& actionPins();

}  // namespace gops::backend::workflows
