// infrastructure.yml: terraform plan of every module on pull requests (posted as a
// comment), terraform apply in promotion order on pushes.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/workflows/generator.h"
#include "backends/workflows/steps.h"
#include "deploy_facts/files.h"

namespace gops::backend::workflows {

using yaml::Node;

std::vector<Generator::Module> Generator::modules() const {
  std::vector<Module> ms;
  ms.push_back({"shared-github", "github", facts::files::terraformModuleDir("github"), app_.app.region, "${{ secrets.GOPS_REGISTRY_PLAN_ROLE_ARN }}",
                "${{ secrets.GOPS_REGISTRY_APPLY_ROLE_ARN }}", nullptr, true});
  ms.push_back({"shared-global", "global", facts::files::terraformModuleDir("global"), app_.app.region, "${{ secrets.GOPS_REGISTRY_PLAN_ROLE_ARN }}",
                "${{ secrets.GOPS_REGISTRY_APPLY_ROLE_ARN }}", nullptr, false});
  for (const auto& f : envs_) {
    const model::Environment& e = f.env;
    ms.push_back({e.name, e.name, facts::files::terraformModuleDir(e.name), e.region, fmt::format("${{{{ secrets.GOPS_PLAN_ROLE_ARN_{} }}}}", upper(e.name)),
                  fmt::format("${{{{ secrets.GOPS_APPLY_ROLE_ARN_{} }}}}", upper(e.name)), &f, false});
  }
  return ms;
}

void Generator::terraformEnv(Node& j, const Module& m) {
  j["env"]["MODULE"] = m.dir;
  if (m.github) j["env"]["GITHUB_TOKEN"] = "${{ secrets.GOPS_GITHUB_TOKEN }}";
}

Node Generator::infrastructure() const {
  Node w = workflow("infrastructure");
  w["on"]["pull_request"] = Node::map();
  w["on"]["push"] = Node::map();
  defaults(w);
  Node& jobs = w["jobs"];
  const auto ms = modules();
  for (const auto& m : ms) {
    Node j = job(fmt::format("terraform plan ({})", m.label));
    j["if"] = "github.event_name == 'pull_request'";
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}, {"pull-requests", "write"}});
    terraformEnv(j, m);
    Node& steps = j["steps"] = Node::seq();
    steps.add(checkout());
    steps.add(setupTerraform());
    steps.add(awsCredentials(m.planRole, m.region, fmt::format("gops-plan-{}", m.label)));
    Node plan = step("terraform plan");
    plan["id"] = "plan";
    plan["run"] =
        "terraform -chdir=\"$MODULE\" init -input=false -no-color\n"
        "set +e\n"
        "terraform -chdir=\"$MODULE\" plan -input=false -lock=false -no-color -detailed-exitcode > plan.log 2>&1\n"
        "status=$?\n"
        "set -e\n"
        "cat plan.log\n"
        "echo \"status=$status\" >> \"$GITHUB_OUTPUT\"\n"
        "[ \"$status\" -ne 1 ]\n";
    steps.add(plan);
    Node comment = step("Post the plan on the pull request");
    comment["if"] = "always() && steps.plan.outputs.status != ''";
    comment["uses"] = uses("actions/github-script");
    comment["env"]["PLAN_LABEL"] = m.label;
    comment["env"]["PLAN_STATUS"] = "${{ steps.plan.outputs.status }}";
    comment["with"]["script"] =
        "const fs = require(\"fs\");\n"
        "const label = process.env.PLAN_LABEL;\n"
        "const status = process.env.PLAN_STATUS;\n"
        "const marker = `<!-- gops terraform plan: ${label} -->`;\n"
        "let log = fs.existsSync(\"plan.log\") ? fs.readFileSync(\"plan.log\", \"utf8\") : \"\";\n"
        "if (log.length > 60000) log = log.slice(0, 60000) + \"\\n... (cut; the whole plan is in the job log)\";\n"
        "const summary = status === \"0\" ? \"no changes\" : status === \"2\" ? \"changes\" : \"failed\";\n"
        "const body = [marker, `#### terraform plan: ${label} (${summary})`, \"\", \"```\", log, \"```\"].join(\"\\n\");\n"
        "const { owner, repo } = context.repo;\n"
        "const issue_number = context.issue.number;\n"
        "const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });\n"
        "const old = comments.find((c) => c.user && c.user.type === \"Bot\" && c.body && c.body.startsWith(marker));\n"
        "if (old) await github.rest.issues.updateComment({ owner, repo, comment_id: old.id, body });\n"
        "else await github.rest.issues.createComment({ owner, repo, issue_number, body });\n";
    steps.add(comment);
    jobs[fmt::format("plan-{}", m.id)] = j;
  }

  // Applies: the app-wide modules on the default branch, the environments on the
  // branches their GitHub environment admits, one after the other in promotion
  // order (a job whose predecessor did not run on this branch still runs).
  std::string previous;
  for (const auto& m : ms) {
    Node j = job(fmt::format("terraform apply ({})", m.label));
    if (!previous.empty()) {
      Node needs = Node::seq();
      needs.add(previous);
      j["needs"] = needs;
    }
    std::string where;
    if (m.env) {
      const auto& branches = m.env->deployBranches;
      where = branches.empty() ? "github.ref_name == github.event.repository.default_branch" : refIsOneOf(branches);
    } else {
      where = "github.ref_name == github.event.repository.default_branch";
    }
    j["if"] = previous.empty() ? fmt::format("github.event_name == 'push' && {}", where)
                               : fmt::format("!cancelled() && !contains(needs.*.result, 'failure') && github.event_name == 'push' && {}", where);
    if (m.env) j["environment"] = m.env->env.name;
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
    j["concurrency"]["group"] = fmt::format("terraform-{}-{}", app_.app.name, m.label);
    j["concurrency"]["cancel-in-progress"] = false;
    terraformEnv(j, m);
    Node& steps = j["steps"] = Node::seq();
    steps.add(checkout());
    steps.add(setupTerraform());
    steps.add(awsCredentials(m.applyRole, m.region, fmt::format("gops-apply-{}", m.label)));
    Node apply = step("terraform apply");
    apply["run"] =
        "terraform -chdir=\"$MODULE\" init -input=false -no-color\n"
        "terraform -chdir=\"$MODULE\" apply -input=false -no-color -auto-approve\n";
    steps.add(apply);
    std::string id = fmt::format("apply-{}", m.id);
    jobs[id] = j;
    previous = id;
  }
  return w;
}

}  // namespace gops::backend::workflows
