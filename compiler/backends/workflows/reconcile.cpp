// reconcile.yml: on a schedule, find a deploy that died with its runner (its lock's
// heartbeat stopped), open an issue about it, and roll it back.
#include <fmt/format.h>

#include "backends/workflows/generator.h"
#include "backends/workflows/steps.h"
#include "deploy_facts/files.h"

namespace gops::backend::workflows {

using yaml::Node;

Node Generator::reconcile() const {
  Node w = workflow("reconcile");
  Node schedule = Node::seq();
  Node entry;
  entry["cron"] = std::string(kReconcileCron);
  schedule.add(entry);
  w["on"]["schedule"] = schedule;
  w["on"]["workflow_dispatch"] = Node::map();
  defaults(w);
  const std::string runUrl = "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}";

  // One job looks at every environment with the plan role (it only reads the ledger),
  // and opens or updates an issue per dead deploy at once.
  Node find = job("find dead deploys");
  find["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}, {"issues", "write"}});
  find["env"]["GOPS_SPEC"] = spec_;
  find["env"]["GH_TOKEN"] = "${{ github.token }}";
  find["env"]["RUN_URL"] = runUrl;
  Node& steps = find["steps"] = Node::seq();
  steps.add(checkout());
  steps.add(installGops());
  for (const auto& f : envs_) {
    if (f.services.empty()) continue;
    const std::string& env = f.env.name;
    Node look = step(fmt::format("Look for a dead deploy in {}", env));
    look["id"] = "dead_" + env;
    look["env"]["GOPS_ENV"] = env;
    gopsCredentials(look, fmt::format("${{{{ secrets.GOPS_PLAN_ROLE_ARN_{} }}}}", upper(env)), fmt::format("gops-reconcile-{}", env));
    look["run"] = std::string(kOwnCredentials) +
                  "set +e\n"
                  "gops rollback \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --if-dead --check > \"dead-$GOPS_ENV.txt\" 2>&1\n"
                  "rc=$?\n"
                  "set -e\n"
                  "cat \"dead-$GOPS_ENV.txt\"\n"
                  "# 0: no deploy died; 3: the last one died (its lock's heartbeat stopped); else an error.\n"
                  "if [ \"$rc\" = 3 ]; then echo \"dead=true\" >> \"$GITHUB_OUTPUT\"; elif [ \"$rc\" != 0 ]; then exit 1; fi\n";
    steps.add(look);
    Node issue = step(fmt::format("Open or update the issue of the dead deploy in {}", env));
    issue["if"] = fmt::format("steps.dead_{}.outputs.dead == 'true'", env);
    issue["env"]["GOPS_ENV"] = env;
    issue["env"]["TITLE"] = fmt::format("Dead deploy in {} {}", app_.app.name, env);
    issue["run"] =
        "{\n"
        "  echo \"A deploy of $GOPS_ENV died half-way (found by $RUN_URL); the job roll-back-$GOPS_ENV of that run rolls it back\"\n"
        "  echo \"(after approval when the environment requires it).\"\n"
        "  echo\n"
        "  echo '```'\n"
        "  head -c 30000 \"dead-$GOPS_ENV.txt\"\n"
        "  echo '```'\n"
        "} > dead.md\n" +
        openOrCommentIssue("dead.md");
    steps.add(issue);
    find["outputs"][env] = fmt::format("${{{{ steps.dead_{}.outputs.dead }}}}", env);
  }
  w["jobs"]["find"] = find;

  // Per environment with a dead deploy: roll it back, bound to the GitHub environment
  // (its reviewers approve, as for rollback.yml) with the deploy role, which also reads
  // the Terraform outputs from the environment's state (read only).
  for (const auto& f : envs_) {
    if (f.services.empty()) continue;
    const model::Environment& e = f.env;
    Node j = job(fmt::format("roll back the dead deploy in {}", e.name));
    j["needs"] = "find";
    j["if"] = fmt::format("needs.find.outputs.{} == 'true'", e.name);
    j["environment"] = e.name;
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}, {"issues", "write"}});
    // Not the deploy group: a run waiting there would be cancelled by this one. The lock
    // keeps it from overlapping a deploy.
    j["concurrency"]["group"] = fmt::format("reconcile-{}-{}", app_.app.name, e.name);
    j["concurrency"]["cancel-in-progress"] = false;
    j["timeout-minutes"] = kRecoveryMinutes + 10;
    j["env"]["GOPS_SPEC"] = spec_;
    j["env"]["GOPS_ENV"] = e.name;
    j["env"]["GH_TOKEN"] = "${{ github.token }}";
    j["env"]["TITLE"] = fmt::format("Dead deploy in {} {}", app_.app.name, e.name);
    j["env"]["RUN_URL"] = runUrl;
    Node& s = j["steps"] = Node::seq();
    s.add(checkout());
    s.add(installGops());
    s.add(awsCredentials(f.names.deployRoleArn(), e.region, fmt::format("gops-reconcile-{}", e.name)));
    terraformOutputs(s, e.name, facts::files::terraformModuleDir(e.name));
    Node rb = step("gops rollback --if-dead");
    rb["id"] = "rollback";
    gopsCredentials(rb, f.names.deployRoleArn(), fmt::format("gops-reconcile-{}", e.name));
    rb["run"] = std::string(kOwnCredentials) +
                "set +e\n" +
                fmt::format("gops rollback \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --if-dead {} > rollback.txt 2>&1\n", kTfOutputsArgument) +
                "rc=$?\n"
                "set -e\n"
                "cat rollback.txt\n"
                "echo \"exit=$rc\" >> \"$GITHUB_OUTPUT\"\n"
                "# 0: recovered in the meantime by another command; 3: rolled back; else the rollback failed.\n"
                "if [ \"$rc\" != 0 ] && [ \"$rc\" != 3 ]; then exit 1; fi\n";
    s.add(rb);
    Node report = step("Report on the issue");
    report["if"] = "${{ !cancelled() && steps.rollback.outcome != 'skipped' }}";
    report["env"]["EXIT"] = "${{ steps.rollback.outputs.exit }}";
    report["run"] =
        "{\n"
        "  echo \"gops rollback --if-dead in $RUN_URL ended with exit $EXIT (0: recovered by another command, 3: rolled back, else failed):\"\n"
        "  echo\n"
        "  echo '```'\n"
        "  tail -c 30000 rollback.txt\n"
        "  echo '```'\n"
        "} > result.md\n" +
        openOrCommentIssue("result.md");
    s.add(report);
    w["jobs"][fmt::format("roll-back-{}", e.name)] = j;
  }
  return w;
}

}  // namespace gops::backend::workflows
