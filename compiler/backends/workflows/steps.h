#pragma once
/// The pieces every workflow is built from (internal to the backend): the pinned
/// actions and tool versions, and the steps and expressions the workflows share.
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "backends/workflows/yaml.h"
#include "deploy_facts/env_facts.h"
#include "model/deploy_time.h"

namespace gops::backend::workflows {

// Pins: every third-party action at a full commit (steps.cpp, kActionPins), and the
// versions of the tools the workflows install. Update them there (and only there).
inline constexpr std::string_view kRunner = "ubuntu-latest";
inline constexpr std::string_view kTerraformVersion = "1.10.5";  // the Terraform modules need >= 1.10
inline constexpr std::string_view kCheckovVersion = "3.3.30";
/// How long an on_push deploy waits for its images to appear in ECR (build.yml or
/// another pipeline pushes them): part of the deploy's limits (model/deploy_time.h).
inline constexpr int kImageWaitMinutes = model::kImageWaitMinutes;
/// How long a step that rolls a dead deploy back may run (its restores wait for a
/// steady state, at most 15 minutes a wave).
inline constexpr int kRecoveryMinutes = 30;
/// How often reconcile.yml looks for a deploy that died.
inline constexpr std::string_view kReconcileCron = "*/15 * * * *";

/// `uses:` of a pinned action: `action@commit # version`. Throws for an action without a pin.
yaml::Node uses(std::string_view action);

yaml::Node permissions(std::initializer_list<std::pair<const char*, const char*>> scopes);
yaml::Node step(std::string name);
yaml::Node checkout();
/// `durationSeconds` > 0: `role-duration-seconds` (at most the role's max_session_duration).
yaml::Node awsCredentials(std::string role, const std::string& region, std::string session, int durationSeconds = 0);
yaml::Node setupTerraform();
yaml::Node uploadSarif(const std::string& file, const std::string& category);
/// The one way every workflow gets gops: a release archive (an install prefix:
/// bin/gops, share/gops/stdlib) at the URL in the repository secret GOPS_URL,
/// checked against GOPS_SHA256, and required to be the version that generated the
/// workflows.
yaml::Node installGops();

/// Lets gops assume `role` itself from the job's OIDC token (docs/runtime.md,
/// credentials), renewing the session for as long as it runs: the step's env gets
/// AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME; its script must start with
/// kOwnCredentials, which drops the keys configure-aws-credentials exported (they
/// would come first and cannot be renewed). The job needs `id-token: write`.
void gopsCredentials(yaml::Node& step, const std::string& role, const std::string& session);
inline constexpr std::string_view kOwnCredentials =
    "# gops assumes the role from the job's OIDC token itself and renews the session while it runs\n"
    "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\n";
/// Where a deploy job keeps the environment's `terraform output -json`, and how every
/// gops apply and rollback of the workflows is given it: gops never runs Terraform
/// itself in CI (docs/workflows.md, The Terraform outputs).
inline constexpr std::string_view kTfOutputsFile = "$RUNNER_TEMP/tf-outputs.json";
inline constexpr std::string_view kTfOutputsArgument = "--tf-outputs \"$RUNNER_TEMP/tf-outputs.json\"";

/// The steps that give a job the environment's Terraform outputs, added to `steps`:
/// Terraform set up (pinned), the module at `moduleDir` initialised and its outputs
/// saved to kTfOutputsFile. Read only: the state is never locked (`init -lock=false`;
/// `terraform output` takes no lock), so the job's credentials need only read the
/// environment's state object, which its deploy role may (docs/terraform.md). The
/// same steps in deploy-<env>.yml, release.yml, rollback.yml and reconcile.yml.
void terraformOutputs(yaml::Node& steps, const std::string& env, const std::string& moduleDir);

/// `gops apply` of a deploy job (step id `apply`), with the outputs of terraformOutputs:
/// gops assumes `role` itself (gopsCredentials) and is the step's process (`exec`), so
/// that a cancelled job's signals reach it. `imageTags` is the shell word of the tags.
yaml::Node gopsApply(std::string name, const std::string& role, const std::string& session, const std::string& imageTags);

/// The last step of a deploy job: when the job failed or was cancelled after the apply
/// started, `gops rollback --if-dead` (with the Terraform outputs) rolls back a deploy
/// that died; passes on 0 (nothing died) and 3 (rolled back).
yaml::Node rollBackIfDead(const std::string& role, const std::string& session);

/// `gops promote --check FROM TO` with FROM's promotion gates role (gops assumes it
/// itself, in FROM's region): FROM's ledger, services and alarms are FROM's account's,
/// which the deploy role of TO cannot read. `imageTags` is the shell word of the tags;
/// `condition`, when given, the step's `if`.
yaml::Node promotionGates(std::string name, const facts::EnvFacts& from, const std::string& to, const std::string& imageTags,
                          const std::string& condition = "");

/// Each public service's URL, `https://<its first host>`, by service name: the
/// environment's `url` (the first) and the deploy jobs' GOPS_URL_<SERVICE>.
std::map<std::string, std::string> serviceUrls(const facts::EnvFacts& env);

/// "Check the image tag": $IMAGE_TAG is a tag ECR takes (what `gops apply` checks too),
/// else the job stops before anything else runs; `then` is more of the step's script.
yaml::Node checkImageTag(const std::string& then = "");

/// The build job's step: the image of the matrix entry (`repository`, `context`) built
/// and pushed to the registry, tagged with the commit, unless that tag is there already.
yaml::Node buildAndPush(const std::string& registryHost, const std::string& registryId);

/// A deploy job's steps after its apply, added to `steps`: each of the environment's
/// tests (`deploy-tests/<name>`), then their result recorded in its ledger for
/// `gops promote --check` (passed when every test passed, failed when one failed,
/// after a successful apply).
void environmentTests(yaml::Node& steps, const model::Environment& env);

/// A script that comments on the open issue titled $TITLE with `bodyFile`, or opens it
/// (`gh`, with GH_TOKEN and `issues: write`).
std::string openOrCommentIssue(const std::string& bodyFile);

std::string upper(std::string s);
/// A string literal in a GitHub expression: '...' with ' doubled.
std::string exprString(std::string_view s);
/// `github.ref_name == 'a' || ...` for a set of branches.
std::string refIsOneOf(const std::set<std::string>& branches);
/// 86400 -> "24h", 600 -> "10m", 90 -> "90s".
std::string duration(double seconds);

}  // namespace gops::backend::workflows
