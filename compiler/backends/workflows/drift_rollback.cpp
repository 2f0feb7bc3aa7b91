// drift.yml (on the environments' drift_check schedules) and rollback.yml (by hand).
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/workflows/generator.h"
#include "backends/workflows/steps.h"
#include "deploy_facts/files.h"

namespace gops::backend::workflows {

using yaml::Node;

Node Generator::driftChecks() const {
  Node w = workflow("drift");
  std::set<std::string> crons;
  for (const auto& f : envs_) {
    if (f.driftCheck) crons.insert(f.driftCheck->github);
  }
  Node schedule = Node::seq();
  for (const auto& c : crons) {
    Node entry;
    entry["cron"] = c;
    schedule.add(entry);
  }
  w["on"]["schedule"] = schedule;
  w["on"]["workflow_dispatch"] = Node::map();
  defaults(w);
  for (const auto& f : envs_) {
    if (!f.driftCheck) continue;
    const model::Environment& e = f.env;
    const std::string& cron = f.driftCheck->github;
    Node j = job(fmt::format("drift in {}", e.name));
    j["if"] = fmt::format("github.event_name == 'workflow_dispatch' || github.event.schedule == {}", exprString(cron));
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}, {"issues", "write"}});
    j["env"]["GOPS_SPEC"] = spec_;
    j["env"]["GOPS_ENV"] = e.name;
    j["env"]["MODULE"] = facts::files::terraformModuleDir(e.name);
    Node& steps = j["steps"] = Node::seq();
    steps.add(checkout());
    steps.add(installGops());
    steps.add(setupTerraform());
    steps.add(awsCredentials(fmt::format("${{{{ secrets.GOPS_PLAN_ROLE_ARN_{} }}}}", upper(e.name)), e.region,
                             fmt::format("gops-drift-{}", e.name)));
    Node check = step(fmt::format("Look for drift ({})", f.driftCheck->expression));
    check["id"] = "drift";
    check["run"] =
        "terraform -chdir=\"$MODULE\" init -input=false -no-color\n"
        "set +e\n"
        "terraform -chdir=\"$MODULE\" plan -input=false -lock=false -no-color -detailed-exitcode > terraform.log 2>&1\n"
        "tf=$?\n"
        "terraform -chdir=\"$MODULE\" output -json > tf-outputs.json || echo '{}' > tf-outputs.json\n"
        "gops drift \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --tf-outputs tf-outputs.json --format markdown > gops.md 2> gops.log\n"
        "gops=$?\n"
        "set -e\n"
        "cat terraform.log gops.md gops.log\n"
        "# terraform: 0 in sync, 2 drift, else error; gops drift: 0 in sync, 2 drift, else error.\n"
        "if [ \"$tf\" = 2 ] || [ \"$gops\" = 2 ]; then echo \"found=true\" >> \"$GITHUB_OUTPUT\"; fi\n"
        "if [ \"$tf\" != 0 ] && [ \"$tf\" != 2 ]; then exit 1; fi\n"
        "if [ \"$gops\" != 0 ] && [ \"$gops\" != 2 ]; then exit 1; fi\n";
    steps.add(check);
    Node issue = step("Open or update the drift issue");
    issue["if"] = "steps.drift.outputs.found == 'true'";
    issue["env"]["GH_TOKEN"] = "${{ github.token }}";
    issue["env"]["TITLE"] = fmt::format("Drift in {} {}", app_.app.name, e.name);
    issue["env"]["RUN_URL"] = "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}";
    issue["run"] =
        "{\n"
        "  echo \"Drift found by $RUN_URL\"\n"
        "  echo\n"
        "  head -c 30000 gops.md\n"
        "  echo\n"
        "  echo '### terraform plan'\n"
        "  echo\n"
        "  echo '```'\n"
        "  tail -c 30000 terraform.log\n"
        "  echo '```'\n"
        "} > drift.md\n" +
        openOrCommentIssue("drift.md");
    steps.add(issue);
    w["jobs"][fmt::format("drift-{}", e.name)] = j;
  }
  return w;
}

Node Generator::rollback() const {
  Node w = workflow("rollback");
  Node& inputs = w["on"]["workflow_dispatch"]["inputs"];
  inputs["env"]["description"] = "Environment";
  inputs["env"]["required"] = true;
  inputs["env"]["type"] = "choice";
  Node envs = Node::seq();
  for (const auto& e : app_.environments) envs.add(e.name);
  inputs["env"]["options"] = envs;
  inputs["service"]["description"] = "Service to roll back to its previous version";
  inputs["service"]["required"] = true;
  inputs["service"]["type"] = "choice";
  Node services = Node::seq();
  for (const auto& s : serviceNames()) services.add(s);
  inputs["service"]["options"] = services;
  defaults(w);
  for (const auto& f : envs_) {
    const model::Environment& e = f.env;
    Node j = job(fmt::format("roll back in {}", e.name));
    j["if"] = fmt::format("inputs.env == {}", exprString(e.name));
    j["environment"] = e.name;
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
    j["concurrency"]["group"] = fmt::format("deploy-{}-{}", app_.app.name, e.name);
    j["concurrency"]["cancel-in-progress"] = false;
    j["env"]["GOPS_SPEC"] = spec_;
    j["env"]["GOPS_ENV"] = e.name;
    j["env"]["SERVICE"] = "${{ inputs.service }}";
    Node& steps = j["steps"] = Node::seq();
    steps.add(checkout());
    steps.add(installGops());
    // The deploy role, for the Terraform outputs and the rollback alike.
    steps.add(awsCredentials(f.names.deployRoleArn(), e.region, fmt::format("gops-rollback-{}", e.name)));
    terraformOutputs(steps, e.name, facts::files::terraformModuleDir(e.name));
    Node rb = step("gops rollback");
    rb["run"] = fmt::format("gops rollback \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --service \"$SERVICE\" {}", kTfOutputsArgument);
    steps.add(rb);
    w["jobs"][fmt::format("rollback-{}", e.name)] = j;
  }
  return w;
}

}  // namespace gops::backend::workflows
