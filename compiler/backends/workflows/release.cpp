// release.yml: the images built separately, each built and deployed alone (docs/workflows.md,
// Services built separately). For images CI builds from directories of their own (the
// services of a monorepo), a push that changes only such directories builds the images
// it changed and deploys their services and jobs, with the commit as their own tag
// (`gops apply --image-tag NAME=TAG,...`), in one apply; the other services keep what
// runs. Every other push is the general workflows' (build.yml and deploy-<env>.yml
// ignore the pushes that change only these directories).
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

namespace {

/// `services/api/` -> `services/api`; `.` and `./` -> "" (the whole repository).
std::string normalDir(std::string dir) {
  while (dir.rfind("./", 0) == 0) dir.erase(0, 2);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  return dir == "." ? std::string() : dir;
}

}  // namespace

std::vector<std::string> Generator::separateDirs() const {
  std::set<std::string> dirs;
  for (const auto& b : builds_) {
    if (builtSeparately(b)) dirs.insert(normalDir(b.context));
  }
  return {dirs.begin(), dirs.end()};
}

bool Generator::builtSeparately(const BuiltImage& image) const {
  // Not the repository root; a plain path, which the workflow's scripts take as a word.
  const std::string d = normalDir(image.context);
  return !d.empty() && d.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") == std::string::npos &&
         d.find("..") == std::string::npos;
}

std::vector<std::string> Generator::workloadsOf(const std::string& repository, bool servicesOnly) const {
  std::set<std::string> names;
  for (const auto& e : app_.environments) {
    auto consider = [&](const model::Workload& w) {
      if (w.image.kind == model::Image::Kind::Ecr && w.image.repository == repository) names.insert(w.name);
    };
    for (const auto& s : e.services) consider(s);
    if (!servicesOnly) {
      for (const auto& j : e.jobs) consider(j);
    }
  }
  return {names.begin(), names.end()};
}

void Generator::ignoreSeparatePushes(Node& push) const {
  const std::vector<std::string> dirs = separateDirs();
  if (dirs.empty()) return;
  Node ignore = Node::seq();
  for (const auto& d : dirs) ignore.add(d + "/**");
  push["paths-ignore"] = ignore;
}

Node Generator::release() const {
  const std::vector<std::string> dirs = separateDirs();
  // The table the scripts read, one image a line: its directory, repository, name for
  // job names, services and jobs, services (`-` for none).
  std::string table;
  std::vector<std::string> repositories, separateServices;
  for (const auto& b : builds_) {
    if (!builtSeparately(b)) continue;
    const std::vector<std::string> workloads = workloadsOf(b.repository, false);
    const std::vector<std::string> services = workloadsOf(b.repository, true);
    table += fmt::format("{} {} {} {} {}\n", normalDir(b.context), b.repository, b.name, fmt::join(workloads, ","),
                         services.empty() ? std::string("-") : fmt::format("{}", fmt::join(services, ",")));
    repositories.push_back(b.repository);
    separateServices.insert(separateServices.end(), services.begin(), services.end());
  }

  Node w = workflow("release");
  if (!deployBranches_.empty()) {
    Node branches = Node::seq();
    for (const auto& b : deployBranches_) branches.add(b);
    w["on"]["push"]["branches"] = branches;
    Node paths = Node::seq();
    for (const auto& d : dirs) paths.add(d + "/**");
    w["on"]["push"]["paths"] = paths;
  }
  Node& inputs = w["on"]["workflow_dispatch"]["inputs"];
  inputs["environment"]["description"] = "Environment to deploy to";
  inputs["environment"]["required"] = true;
  inputs["environment"]["type"] = "choice";
  Node envs = Node::seq();
  for (const auto& e : app_.environments) envs.add(e.name);
  inputs["environment"]["options"] = envs;
  inputs["image"]["description"] = "Image whose services and jobs to deploy (the others keep what runs)";
  inputs["image"]["required"] = true;
  inputs["image"]["type"] = "choice";
  Node images = Node::seq();
  for (const auto& r : repositories) images.add(r);
  inputs["image"]["options"] = images;
  inputs["image_tag"]["description"] = "Image tag to deploy (default: build the commit run from)";
  inputs["image_tag"]["required"] = false;
  inputs["image_tag"]["type"] = "string";
  defaults(w);
  Node& jobs = w["jobs"];

  // Which images the push changed. A push that changes anything outside their
  // directories (the spec, shared code) is a release of everything: deploy-<env>.yml's.
  {
    Node j = job("what the push changed");
    j["permissions"] = permissions({{"contents", "read"}});
    for (const char* out : {"alone", "images", "workloads", "services", "repositories"}) {
      j["outputs"][out] = fmt::format("${{{{ steps.changes.outputs.{} }}}}", out);
    }
    Node& steps = j["steps"] = Node::seq();
    Node co = checkout();
    co["with"]["fetch-depth"] = 0;
    steps.add(co);
    Node changes = step("Images built separately that changed");
    changes["id"] = "changes";
    changes["env"]["BEFORE"] = "${{ github.event.before }}";
    changes["env"]["IMAGE"] = "${{ inputs.image }}";
    changes["env"]["GOPS_SPEC"] = spec_;
    changes["env"]["IMAGES"] = table;
    changes["run"] =
        "# IMAGES: one image a line: directory, repository, name, its services and jobs, its services.\n"
        "# Run by hand: the image chosen. A push: the images whose directories it changed, when\n"
        "# every file it changed is in one (and is not the spec); otherwise, or when git cannot\n"
        "# compare (a new branch, a force push), the push is the general workflows'.\n"
        "alone=false\n"
        "changed=\"\"\n"
        "if [ \"$GITHUB_EVENT_NAME\" = workflow_dispatch ]; then\n"
        "  while read -r dir repository rest; do\n"
        "    if [ \"$repository\" = \"$IMAGE\" ]; then changed=\"$dir\"; fi\n"
        "  done <<< \"$IMAGES\"\n"
        "  if [ -z \"$changed\" ]; then\n"
        "    echo \"::error::'$IMAGE' is not an image built separately\"\n"
        "    exit 1\n"
        "  fi\n"
        "  alone=true\n"
        "elif git cat-file -e \"$BEFORE^{commit}\" 2> /dev/null; then\n"
        "  alone=true\n"
        "  while IFS= read -r file; do\n"
        "    inside=\"\"\n"
        "    while read -r dir rest; do\n"
        "      if [ -n \"$dir\" ]; then case \"$file\" in \"$dir\"/*) inside=\"$inside $dir\" ;; esac; fi\n"
        "    done <<< \"$IMAGES\"\n"
        "    case \"$file\" in \"$GOPS_SPEC\" | \"$GOPS_SPEC\"/*) inside=\"\" ;; esac\n"
        "    if [ -z \"$inside\" ]; then\n"
        "      echo \"$file is in no directory built separately: the general workflows deploy this push\"\n"
        "      alone=false\n"
        "    fi\n"
        "    changed=\"$changed$inside\"\n"
        "  done < <(git diff --name-only \"$BEFORE\" \"$GITHUB_SHA\")\n"
        "fi\n"
        "matrix=\"\"\n"
        "workloads=\"\"\n"
        "services=\"\"\n"
        "repositories=\"\"\n"
        "while read -r dir repository name names serviceNames; do\n"
        "  if [ -z \"$dir\" ]; then continue; fi\n"
        "  case \" $changed \" in *\" $dir \"*) ;; *) continue ;; esac\n"
        "  matrix=\"$matrix${matrix:+,}{\\\"name\\\":\\\"$name\\\",\\\"repository\\\":\\\"$repository\\\",\\\"context\\\":\\\"$dir\\\"}\"\n"
        "  workloads=\"$workloads ${names//,/ }\"\n"
        "  if [ \"$serviceNames\" != - ]; then services=\"$services ${serviceNames//,/ }\"; fi\n"
        "  repositories=\"$repositories $repository\"\n"
        "done <<< \"$IMAGES\"\n"
        "echo \"images: [$matrix]; services and jobs:$workloads; alone: $alone\"\n"
        "{\n"
        "  echo \"alone=$alone\"\n"
        "  echo \"images=[$matrix]\"\n"
        "  echo \"workloads=${workloads# }\"\n"
        "  echo \"services=${services# }\"\n"
        "  echo \"repositories=${repositories# }\"\n"
        "} >> \"$GITHUB_OUTPUT\"\n";
    steps.add(changes);
    jobs["changes"] = j;
  }

  // The images of the commit, unless a tag was given to deploy.
  {
    Node j = job("build ${{ matrix.repository }}");
    j["needs"] = "changes";
    j["if"] = "needs.changes.outputs.alone == 'true' && needs.changes.outputs.images != '[]' && "
              "(github.event_name == 'push' || inputs.image_tag == '')";
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
    j["strategy"]["fail-fast"] = false;
    j["strategy"]["matrix"]["include"] = "${{ fromJSON(needs.changes.outputs.images) }}";
    Node& steps = j["steps"] = Node::seq();
    steps.add(checkout());
    steps.add(awsCredentials(pushRole_, app_.app.region, "gops-build"));
    steps.add(buildAndPush(registryHost_, app_.app.registry));
    jobs["image"] = j;
  }

  for (const auto& f : envs_) {
    const model::Environment& e = f.env;
    const bool onPush = e.deploy.kind == model::Deploy::Kind::OnPush;
    Node j = job(fmt::format("deploy to {}", e.name));
    Node needs = Node::seq();
    needs.add("changes");
    needs.add("image");
    j["needs"] = needs;
    const std::string dispatched = fmt::format("github.event_name == 'workflow_dispatch' && inputs.environment == {}", exprString(e.name));
    const std::string pushed = onPush ? fmt::format("github.event_name == 'push' && github.ref_name == {}", exprString(e.deploy.branch)) : "";
    j["if"] = fmt::format("!cancelled() && needs.changes.outputs.alone == 'true' && needs.changes.outputs.workloads != '' && "
                          "needs.image.result != 'failure' && ({})",
                          pushed.empty() ? dispatched : fmt::format("{} || {}", pushed, dispatched));
    // The environment's deploys never overlap: deploy-<env>.yml's group.
    j["concurrency"]["group"] = fmt::format("deploy-{}-{}", app_.app.name, e.name);
    j["concurrency"]["cancel-in-progress"] = false;
    const std::map<std::string, std::string> urls = serviceUrls(f);
    j["environment"]["name"] = e.name;
    if (!urls.empty()) j["environment"]["url"] = urls.begin()->second;
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
    // deploy-<env>.yml's limits: a release deploys some of the environment's services.
    j["timeout-minutes"] = f.deployLimits.jobTimeoutMinutes;
    Node& env = j["env"];
    env["GOPS_SPEC"] = spec_;
    env["GOPS_APP"] = app_.app.name;
    env["GOPS_ENV"] = e.name;
    env["GOPS_REGION"] = e.region;
    env["IMAGE_TAG"] = "${{ inputs.image_tag || github.sha }}";
    env["WORKLOADS"] = "${{ needs.changes.outputs.workloads }}";
    env["SERVICES"] = "${{ needs.changes.outputs.services }}";
    env["REPOSITORIES"] = "${{ needs.changes.outputs.repositories }}";
    for (const auto& [service, url] : urls) env[fmt::format("GOPS_URL_{}", upper(service))] = url;

    Node& steps = j["steps"] = Node::seq();
    steps.add(checkout());
    steps.add(installGops());
    steps.add(checkImageTag(
        "# Each of these services and jobs gets the tag; the others keep what runs.\n"
        "tags=\"\"\n"
        "for name in $WORKLOADS; do tags=\"$tags${tags:+,}$name=$IMAGE_TAG\"; done\n"
        "promoted=\"\"\n"
        "for name in $SERVICES; do promoted=\"$promoted${promoted:+,}$name=$IMAGE_TAG\"; done\n"
        "echo \"IMAGE_TAGS=$tags\" >> \"$GITHUB_ENV\"\n"
        "echo \"PROMOTED_TAGS=$promoted\" >> \"$GITHUB_ENV\"\n"));
    // Credentials for the whole job and the Terraform outputs, as deploy-<env>.yml's.
    const std::string session = fmt::format("gops-release-{}", e.name);
    steps.add(awsCredentials(f.names.deployRoleArn(), e.region, session, f.deployLimits.sessionSeconds));
    terraformOutputs(steps, e.name, facts::files::terraformModuleDir(e.name));
    Node check = step("Check that the images exist");
    check["env"]["REGISTRY_ID"] = app_.app.registry;
    check["env"]["REGISTRY_REGION"] = app_.app.region;
    check["run"] =
        "for repository in $REPOSITORIES; do\n"
        "  if ! aws ecr describe-images --region \"$REGISTRY_REGION\" --registry-id \"$REGISTRY_ID\" \\\n"
        "      --repository-name \"$repository\" --image-ids \"imageTag=$IMAGE_TAG\" > /dev/null; then\n"
        "    echo \"::error::$repository:$IMAGE_TAG is not in the registry\"\n"
        "    exit 1\n"
        "  fi\n"
        "done\n";
    steps.add(check);
    for (const model::Promotion* p : app_.promotionsInto(e.name)) {
      steps.add(promotionGates(fmt::format("Promotion gates {} -> {} of these services", p->from, e.name),
                               facts_.environment(p->from), e.name, "\"$PROMOTED_TAGS\"", "env.SERVICES != ''"));
    }
    // As deploy-<env>.yml's: gops renews its own credentials, and is the step's process
    // (`exec`) so that a cancelled job's signals reach it and it rolls back.
    steps.add(gopsApply("gops apply of these services and jobs alone", f.names.deployRoleArn(), session, "\"$IMAGE_TAGS\""));
    // The environment's tests, and their result, as deploy-<env>.yml runs and records them.
    environmentTests(steps, e);
    // Last, as deploy-<env>.yml's: a deploy that died half-way is rolled back here.
    steps.add(rollBackIfDead(f.names.deployRoleArn(), session));
    jobs[fmt::format("deploy-{}", e.name)] = j;
  }
  return w;
}

}  // namespace gops::backend::workflows
