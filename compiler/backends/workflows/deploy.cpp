// deploy-<env>.yml: promotion gates, gops apply and the environment's tests.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/workflows/generator.h"
#include "backends/workflows/steps.h"
#include "deploy_facts/files.h"

namespace gops::backend::workflows {

using yaml::Node;

Node Generator::deploy(const facts::EnvFacts& f) const {
  const model::Environment& e = f.env;
  const bool onPush = e.deploy.kind == model::Deploy::Kind::OnPush;
  Node w = workflow(fmt::format("deploy-{}", e.name));
  if (onPush) {
    Node branches = Node::seq();
    branches.add(e.deploy.branch);
    w["on"]["push"]["branches"] = branches;
    ignoreSeparatePushes(w["on"]["push"]);
  }
  Node& input = w["on"]["workflow_dispatch"]["inputs"]["image_tag"];
  input["description"] = onPush ? fmt::format("Image tag to deploy to {} again (default: the commit)", e.name)
                                : fmt::format("Image tag (a commit SHA built for an earlier environment) to deploy to {}", e.name);
  input["required"] = !onPush;
  input["type"] = "string";
  defaults(w);
  w["concurrency"]["group"] = fmt::format("deploy-{}-{}", app_.app.name, e.name);
  w["concurrency"]["cancel-in-progress"] = false;

  Node j = job(fmt::format("deploy to {}", e.name));
  j["environment"]["name"] = e.name;
  const std::map<std::string, std::string> urls = serviceUrls(f);
  if (!urls.empty()) j["environment"]["url"] = urls.begin()->second;
  j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
  // The waves' holds and bakes plus a margin (plus the image wait), at most GitHub's
  // limit: the same fact as the checker's W0511 and the deploy role's session length.
  j["timeout-minutes"] = f.deployLimits.jobTimeoutMinutes;
  Node& env = j["env"];
  env["GOPS_SPEC"] = spec_;
  env["GOPS_APP"] = app_.app.name;
  env["GOPS_ENV"] = e.name;
  env["GOPS_REGION"] = e.region;
  env["IMAGE_TAG"] = onPush ? "${{ inputs.image_tag || github.sha }}" : "${{ inputs.image_tag }}";
  for (const auto& [service, url] : urls) env[fmt::format("GOPS_URL_{}", upper(service))] = url;

  Node& steps = j["steps"] = Node::seq();
  steps.add(checkout());
  steps.add(installGops());
  steps.add(checkImageTag());
  // Credentials for the whole job (the Terraform outputs, the tests after the apply and
  // the final rollback included); the deploy role's max_session_duration is the same
  // number. The environment's Terraform outputs first, read with the deploy role: gops
  // apply and rollback take them with --tf-outputs.
  const std::string session = fmt::format("gops-deploy-{}", e.name);
  steps.add(awsCredentials(f.names.deployRoleArn(), e.region, session, f.deployLimits.sessionSeconds));
  terraformOutputs(steps, e.name, facts::files::terraformModuleDir(e.name));

  const std::set<std::string>& repositories = f.ecrRepositories;
  if (!repositories.empty()) {
    Node wait = step(onPush ? "Wait for the images" : "Check that the images exist");
    std::string list;
    for (const auto& r : repositories) list += (list.empty() ? "" : " ") + r;
    wait["env"]["REPOSITORIES"] = list;
    wait["env"]["REGISTRY_ID"] = app_.app.registry;
    wait["env"]["REGISTRY_REGION"] = app_.app.region;
    wait["env"]["WAIT_SECONDS"] = onPush ? std::to_string(kImageWaitMinutes * 60) : "0";
    wait["run"] =
        "deadline=$((SECONDS + WAIT_SECONDS))\n"
        "for repository in $REPOSITORIES; do\n"
        "  until aws ecr describe-images --region \"$REGISTRY_REGION\" --registry-id \"$REGISTRY_ID\" \\\n"
        "      --repository-name \"$repository\" --image-ids \"imageTag=$IMAGE_TAG\" > /dev/null; do\n"
        "    if [ \"$SECONDS\" -ge \"$deadline\" ]; then\n"
        "      echo \"::error::$repository:$IMAGE_TAG is not in the registry\"\n"
        "      exit 1\n"
        "    fi\n"
        "    sleep 20\n"
        "  done\n"
        "done\n";
    steps.add(wait);
  }
  for (const model::Promotion* p : app_.promotionsInto(e.name)) {
    std::vector<std::string> gates;
    for (const auto& g : p->gates) {
      gates.push_back(g.kind == model::Gate::Kind::Soak ? fmt::format("soak {}", duration(g.soakSeconds)) : model::toString(g.kind));
    }
    steps.add(promotionGates(fmt::format("Promotion gates {} -> {}{}", p->from, e.name, gates.empty() ? "" : fmt::format(" ({})", fmt::join(gates, ", "))),
                             facts_.environment(p->from), e.name, "\"$IMAGE_TAG\""));
  }
  // gops renews its own credentials for as long as the rollout holds, and `exec` makes
  // it the step's process, so that a cancelled job's SIGINT (then SIGTERM) reaches it:
  // it rolls back before it exits (docs/runtime.md, Signals).
  steps.add(gopsApply(fmt::format("gops apply ({} rollout)", model::toString(e.rollout.kind)), f.names.deployRoleArn(), session,
                      "\"$IMAGE_TAG\""));
  // The tests, and their result in the ledger, where `gops promote --check` looks.
  environmentTests(steps, e);
  // Last: when the job failed or was cancelled after the apply started, a deploy that
  // died half-way (killed before its rollback ended) is rolled back here. When the apply
  // rolled back itself, never took the lock, or deployed (a test failed), nothing died
  // and this does nothing (exit 0).
  steps.add(rollBackIfDead(f.names.deployRoleArn(), session));
  w["jobs"]["deploy"] = j;
  return w;
}

}  // namespace gops::backend::workflows
