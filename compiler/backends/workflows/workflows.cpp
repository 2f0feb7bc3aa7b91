// GitHub Actions workflows from the resolved model. Every value copied from the
// spec reaches a shell script through `env:` (never through `${{ }}` inside
// `run:`), so nothing in a spec or a workflow input can inject commands.
#include "backends/workflows/workflows.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/terraform/naming.h"
#include "backends/workflows/yaml.h"

#ifndef GOPS_VERSION
#define GOPS_VERSION "0.0.0"
#endif

namespace gops::backend::workflows {

using yaml::Node;

namespace {

// ---------------------------------------------------------------------------
// Pins: every third-party action at a full commit, and the versions of the tools
// the workflows install. Update them here (and only here).

const std::vector<ActionPin> kActionPins = {
    {"actions/checkout", "11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"},
    {"actions/github-script", "60a0d83039c74a4aee543508d2ffcb1c3799cdea", "v7.0.1"},
    {"aquasecurity/trivy-action", "ed142fd0673e97e23eac54620cfb913e5ce36c25", "v0.36.0"},
    {"aws-actions/configure-aws-credentials", "e3dd6a429d7300a6a4c196c26e071d42e0343502", "v4.0.2"},
    {"github/codeql-action/upload-sarif", "5d4e8d1aca955e8d8589aabd499c5cae939e33c7", "v4.31.9"},
    {"hashicorp/setup-terraform", "b9cd54a3c349d3f38e8881555d616ced269862dd", "v3.1.2"},
};
constexpr std::string_view kRunner = "ubuntu-latest";
constexpr std::string_view kTerraformVersion = "1.10.5";  // the Terraform modules need >= 1.10
constexpr std::string_view kCheckovVersion = "3.3.30";
/// How long an on_push deploy waits for its images to appear in ECR (build.yml or
/// another pipeline pushes them).
constexpr int kImageWaitMinutes = 30;
/// GitHub-hosted jobs stop after 6 hours.
constexpr int kJobLimitMinutes = 360;

Node uses(std::string_view action) {
  for (const auto& p : kActionPins) {
    if (p.action == action) {
      Node n(fmt::format("{}@{}", p.action, p.commit));
      n.comment(std::string(p.version));
      return n;
    }
  }
  throw std::logic_error(fmt::format("no pin for action {}", action));
}

// ---------------------------------------------------------------------------
// Small builders.

Node permissions(std::initializer_list<std::pair<const char*, const char*>> scopes) {
  Node p = Node::map();
  for (const auto& [scope, level] : scopes) p[scope] = level;
  return p;
}

Node step(std::string name) {
  Node s;
  s["name"] = std::move(name);
  return s;
}

Node checkout() {
  Node s = step("Check out");
  s["uses"] = uses("actions/checkout");
  s["with"]["persist-credentials"] = false;
  return s;
}

Node awsCredentials(std::string role, const std::string& region, std::string session) {
  Node s = step("AWS credentials (OIDC)");
  s["uses"] = uses("aws-actions/configure-aws-credentials");
  s["with"]["role-to-assume"] = std::move(role);
  s["with"]["aws-region"] = region;
  s["with"]["role-session-name"] = std::move(session);
  return s;
}

Node setupTerraform() {
  Node s = step("Set up Terraform");
  s["uses"] = uses("hashicorp/setup-terraform");
  s["with"]["terraform_version"] = std::string(kTerraformVersion);
  s["with"]["terraform_wrapper"] = false;
  return s;
}

Node uploadSarif(const std::string& file, const std::string& category) {
  Node s = step(fmt::format("Upload {} to code scanning", file));
  s["if"] = fmt::format("always() && hashFiles('{}') != ''", file);
  s["uses"] = uses("github/codeql-action/upload-sarif");
  s["with"]["sarif_file"] = file;
  s["with"]["category"] = category;
  return s;
}

/// The one way every workflow gets gops: a release archive (an install prefix:
/// bin/gops, share/gops/stdlib) at the URL in the repository secret GOPS_URL,
/// checked against GOPS_SHA256, and required to be the version that generated the
/// workflows.
Node installGops() {
  Node s = step(fmt::format("Install gops {}", GOPS_VERSION));
  s["env"]["GOPS_URL"] = "${{ secrets.GOPS_URL }}";
  s["env"]["GOPS_SHA256"] = "${{ secrets.GOPS_SHA256 }}";
  s["env"]["GOPS_VERSION"] = GOPS_VERSION;
  s["run"] =
      "if [ -z \"$GOPS_URL\" ] || [ -z \"$GOPS_SHA256\" ]; then\n"
      "  echo \"::error::set the repository secrets GOPS_URL and GOPS_SHA256 to a gops $GOPS_VERSION release archive and its SHA-256\"\n"
      "  exit 1\n"
      "fi\n"
      "curl -fsSL --retry 3 -o \"$RUNNER_TEMP/gops.tar.gz\" \"$GOPS_URL\"\n"
      "echo \"$GOPS_SHA256  $RUNNER_TEMP/gops.tar.gz\" | sha256sum --check --strict -\n"
      "mkdir -p \"$RUNNER_TEMP/gops\"\n"
      "tar -xzf \"$RUNNER_TEMP/gops.tar.gz\" -C \"$RUNNER_TEMP/gops\"\n"
      "test \"$(\"$RUNNER_TEMP/gops/bin/gops\" --version)\" = \"gops $GOPS_VERSION\"\n"
      "echo \"$RUNNER_TEMP/gops/bin\" >> \"$GITHUB_PATH\"\n";
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// A string literal in a GitHub expression: '...' with ' doubled.
std::string exprString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

/// `github.ref_name == 'a' || ...` for a set of branches.
std::string refIsOneOf(const std::set<std::string>& branches) {
  std::vector<std::string> parts;
  for (const auto& b : branches) parts.push_back(fmt::format("github.ref_name == {}", exprString(b)));
  if (parts.size() == 1) return parts.front();
  return fmt::format("({})", fmt::join(parts, " || "));
}

/// 86400 -> "24h", 600 -> "10m", 90 -> "90s".
std::string duration(double seconds) {
  auto s = static_cast<long long>(seconds);
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

// ---------------------------------------------------------------------------

struct BuiltImage {
  std::string repository;  ///< ECR repository
  std::string context;     ///< the `build` directory
  std::string name;        ///< repository with `/` -> `-`, for job names and SARIF categories
};

class Generator {
 public:
  Generator(const model::AppModel& app, const Options& o) : app_(app) {
    label_ = o.specLabel.empty() ? app.app.sourceFile : o.specLabel;
    spec_ = specPath();
    partition_ = terraform::partitionOf(app.app.region);
    registryHost_ = fmt::format("{}.dkr.ecr.{}.amazonaws.com{}", app.app.registry, app.app.region,
                                partition_ == "aws-cn" ? ".cn" : "");
    pushRole_ = fmt::format("arn:{}:iam::{}:role/gops/{}/{}", partition_, app.app.registry, app.app.name,
                            terraform::boundedName(terraform::awsName(app.app.name), "-github-push", terraform::kRoleNameMax));
    for (const auto& e : app.environments) {
      if (e.deploy.kind == model::Deploy::Kind::OnPush) deployBranches_.insert(e.deploy.branch);
    }
    collectBuilds();
  }

  Output run() {
    if (!out_.errors.empty()) return std::move(out_);
    file("ci.yml", "continuous integration", ci());
    if (!builds_.empty() && !deployBranches_.empty()) file("build.yml", "container images", build());
    for (const auto& e : app_.environments) file(fmt::format("deploy-{}.yml", e.name), fmt::format("deploys to {}", e.name), deploy(e));
    file("infrastructure.yml", "Terraform plan and apply", infrastructure());
    bool drift = std::any_of(app_.environments.begin(), app_.environments.end(), [](const auto& e) { return e.driftCheck.has_value(); });
    if (drift) file("drift.yml", "drift detection", driftChecks());
    if (!serviceNames().empty()) file("rollback.yml", "rollbacks", rollback());
    std::sort(out_.files.begin(), out_.files.end(), [](const File& a, const File& b) { return a.path < b.path; });
    return std::move(out_);
  }

 private:
  /// The spec as the workflows name it: the file declaring the app, or its
  /// directory when the app has several files there (`gops check DIR` reads them all).
  std::string specPath() const {
    namespace fs = std::filesystem;
    fs::path appDir = fs::path(app_.app.sourceFile).lexically_normal().parent_path();
    int sameDir = 0;
    for (const auto& f : app_.sourceFiles) {
      if (fs::path(f).lexically_normal().parent_path() == appDir) ++sameDir;
    }
    if (sameDir > 1) {
      std::string dir = fs::path(label_).parent_path().generic_string();
      return dir.empty() ? "." : dir;
    }
    return label_;
  }

  void collectBuilds() {
    std::map<std::string, std::string> contextOf;  // repository -> build directory
    auto consider = [&](const model::Workload& w, const std::string& env) {
      if (w.build.empty()) return;
      if (w.image.kind != model::Image::Kind::Ecr) {
        out_.errors.push_back(fmt::format("`{}` in environment `{}` has `build = \"{}\"` but its image is not `ecr(...)`: CI can push only to the app's ECR registry",
                                          w.name, env, w.build));
        return;
      }
      auto [it, inserted] = contextOf.emplace(w.image.repository, w.build);
      if (!inserted && it->second != w.build) {
        out_.errors.push_back(fmt::format("the image `{}` is built from both `{}` and `{}` (`{}` in environment `{}`); one image tag can hold only one build",
                                          w.image.repository, it->second, w.build, w.name, env));
      }
    };
    for (const auto& e : app_.environments) {
      for (const auto& s : e.services) consider(s, e.name);
      for (const auto& j : e.jobs) consider(j, e.name);
    }
    for (const auto& [repository, context] : contextOf) {
      std::string name = repository;
      std::replace(name.begin(), name.end(), '/', '-');
      builds_.push_back({repository, context, name});
    }
  }

  std::vector<std::string> serviceNames() const {
    std::set<std::string> names;
    for (const auto& e : app_.environments) {
      for (const auto& s : e.services) names.insert(s.name);
    }
    return {names.begin(), names.end()};
  }

  void file(const std::string& name, const std::string& what, const Node& root) {
    std::vector<std::string> header = {generatedNotice(label_, fmt::format("GitHub Actions workflow, {}", what))};
    out_.files.push_back({fmt::format(".github/workflows/{}", name), yaml::emit(root, header)});
  }

  Node workflow(const std::string& name) const {
    Node w;
    w["name"] = name;
    return w;
  }

  /// The common start of a workflow after `on`: no default permissions, bash.
  static void defaults(Node& w) {
    w["permissions"] = Node::map();
    w["defaults"]["run"]["shell"] = "bash";
  }

  Node job(const std::string& name) const {
    Node j;
    j["name"] = name;
    j["runs-on"] = std::string(kRunner);
    return j;
  }

  std::string deployRole(const model::Environment& e) const {
    terraform::EnvNames n(app_.app, e);
    return n.roleArn(n.rolePath(), n.deployRole());
  }

  static std::string moduleDir(const std::string& module) { return fmt::format("{}/terraform", module); }

  // ---- ci.yml -------------------------------------------------------------

  Node ci() const {
    Node w = workflow("ci");
    w["on"]["pull_request"] = Node::map();
    if (!deployBranches_.empty()) {
      Node branches = Node::seq();
      for (const auto& b : deployBranches_) branches.add(b);
      w["on"]["push"]["branches"] = branches;
    } else {
      w["on"]["push"] = Node::map();
    }
    defaults(w);

    Node& jobs = w["jobs"];
    {
      Node j = job("gops check and build --check");
      j["permissions"] = permissions({{"contents", "read"}, {"security-events", "write"}});
      j["env"]["GOPS_SPEC"] = spec_;
      Node& steps = j["steps"] = Node::seq();
      steps.add(checkout());
      steps.add(installGops());
      Node check = step("gops check");
      check["run"] = "gops check \"$GOPS_SPEC\" --format sarif > gops.sarif";
      steps.add(check);
      steps.add(uploadSarif("gops.sarif", "gops"));
      Node built = step("Generated files are up to date");
      built["run"] = "gops build \"$GOPS_SPEC\" --check -o .";
      steps.add(built);
      jobs["gops"] = j;
    }
    {
      Node j = job("Checkov on the generated Terraform");
      j["permissions"] = permissions({{"contents", "read"}, {"security-events", "write"}});
      Node& steps = j["steps"] = Node::seq();
      steps.add(checkout());
      Node scan = step("Checkov");
      scan["env"]["CHECKOV_VERSION"] = std::string(kCheckovVersion);
      std::string dirs;
      std::set<std::string> accounts;
      for (const auto& e : app_.environments) accounts.insert(e.account);
      accounts.insert(app_.app.registry);
      for (const auto& a : accounts) dirs += fmt::format(" \\\n  --directory {}", moduleDir("bootstrap/" + a));
      dirs += fmt::format(" \\\n  --directory {} \\\n  --directory {}", moduleDir("global"), moduleDir("github"));
      for (const auto& e : app_.environments) dirs += fmt::format(" \\\n  --directory {}", moduleDir(e.name));
      scan["run"] = fmt::format(
          "# Findings go to code scanning; --soft-fail keeps them from failing the build.\n"
          "pipx run --spec \"checkov==$CHECKOV_VERSION\" checkov --framework terraform_json{} \\\n"
          "  --output cli --output sarif --output-file-path console,checkov.sarif --soft-fail\n",
          dirs);
      steps.add(scan);
      steps.add(uploadSarif("checkov.sarif", "checkov"));
      jobs["checkov"] = j;
    }
    {
      Node j = job("Trivy configuration scan");
      j["permissions"] = permissions({{"contents", "read"}, {"security-events", "write"}});
      Node& steps = j["steps"] = Node::seq();
      steps.add(checkout());
      Node scan = step("Trivy (Dockerfiles and Terraform)");
      scan["uses"] = uses("aquasecurity/trivy-action");
      scan["with"]["scan-type"] = "config";
      scan["with"]["scan-ref"] = ".";
      scan["with"]["format"] = "sarif";
      scan["with"]["output"] = "trivy-config.sarif";
      scan["with"]["exit-code"] = "0";
      steps.add(scan);
      steps.add(uploadSarif("trivy-config.sarif", "trivy-config"));
      jobs["trivy-config"] = j;
    }
    if (!builds_.empty()) {
      Node j = job("Trivy on image ${{ matrix.repository }}");
      j["permissions"] = permissions({{"contents", "read"}, {"security-events", "write"}});
      j["strategy"]["fail-fast"] = false;
      j["strategy"]["matrix"]["include"] = buildMatrix();
      Node& steps = j["steps"] = Node::seq();
      steps.add(checkout());
      Node b = step("Build the image");
      b["env"]["CONTEXT"] = "${{ matrix.context }}";
      b["env"]["IMAGE"] = "${{ matrix.name }}:${{ github.sha }}";
      b["run"] = "docker build --pull -t \"$IMAGE\" \"$CONTEXT\"";
      steps.add(b);
      Node scan = step("Trivy (vulnerabilities, high and critical)");
      scan["uses"] = uses("aquasecurity/trivy-action");
      scan["with"]["image-ref"] = "${{ matrix.name }}:${{ github.sha }}";
      scan["with"]["format"] = "sarif";
      scan["with"]["output"] = "trivy-image.sarif";
      scan["with"]["severity"] = "CRITICAL,HIGH";
      scan["with"]["ignore-unfixed"] = true;
      scan["with"]["exit-code"] = "1";
      steps.add(scan);
      steps.add(uploadSarif("trivy-image.sarif", "trivy-${{ matrix.name }}"));
      jobs["trivy-image"] = j;
    }
    return w;
  }

  Node buildMatrix() const {
    Node include = Node::seq();
    for (const auto& b : builds_) {
      Node m;
      m["name"] = b.name;
      m["repository"] = b.repository;
      m["context"] = b.context;
      include.add(m);
    }
    return include;
  }

  // ---- build.yml ----------------------------------------------------------

  Node build() const {
    Node w = workflow("build");
    Node branches = Node::seq();
    for (const auto& b : deployBranches_) branches.add(b);
    w["on"]["push"]["branches"] = branches;
    defaults(w);
    Node j = job("build ${{ matrix.repository }}");
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
    j["strategy"]["fail-fast"] = false;
    j["strategy"]["matrix"]["include"] = buildMatrix();
    Node& steps = j["steps"] = Node::seq();
    steps.add(checkout());
    steps.add(awsCredentials(pushRole_, app_.app.region, "gops-build"));
    Node b = step("Build and push, tagged with the commit");
    b["env"]["REGISTRY"] = registryHost_;
    b["env"]["REGISTRY_ID"] = app_.app.registry;
    b["env"]["REPOSITORY"] = "${{ matrix.repository }}";
    b["env"]["CONTEXT"] = "${{ matrix.context }}";
    b["env"]["IMAGE_TAG"] = "${{ github.sha }}";
    b["run"] =
        "aws ecr get-login-password | docker login --username AWS --password-stdin \"$REGISTRY\"\n"
        "# Tags are immutable: a commit built before (a re-run) is not built again.\n"
        "if aws ecr describe-images --registry-id \"$REGISTRY_ID\" --repository-name \"$REPOSITORY\" \\\n"
        "    --image-ids \"imageTag=$IMAGE_TAG\" > /dev/null 2>&1; then\n"
        "  echo \"$REPOSITORY:$IMAGE_TAG is already in the registry\"\n"
        "  exit 0\n"
        "fi\n"
        "docker build --pull --label \"org.opencontainers.image.revision=$IMAGE_TAG\" \\\n"
        "  -t \"$REGISTRY/$REPOSITORY:$IMAGE_TAG\" \"$CONTEXT\"\n"
        "docker push \"$REGISTRY/$REPOSITORY:$IMAGE_TAG\"\n";
    steps.add(b);
    w["jobs"]["image"] = j;
    return w;
  }

  // ---- deploy-<env>.yml ---------------------------------------------------

  Node deploy(const model::Environment& e) const {
    const bool onPush = e.deploy.kind == model::Deploy::Kind::OnPush;
    Node w = workflow(fmt::format("deploy-{}", e.name));
    if (onPush) {
      Node branches = Node::seq();
      branches.add(e.deploy.branch);
      w["on"]["push"]["branches"] = branches;
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
    std::map<std::string, std::string> urls;  // service -> https://first-host
    for (const auto& s : e.services) {
      if (s.expose.kind == model::Expose::Kind::Public && !s.expose.hosts.empty()) urls[s.name] = "https://" + s.expose.hosts.front();
    }
    if (!urls.empty()) j["environment"]["url"] = urls.begin()->second;
    j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
    double longest = e.rollout.totalSeconds();
    for (const auto& s : e.services) longest = std::max(longest, s.rollout.totalSeconds());
    int timeout = std::min(kJobLimitMinutes, static_cast<int>((longest + 59) / 60) + 30 + (onPush ? kImageWaitMinutes : 0));
    j["timeout-minutes"] = timeout;
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
    Node tag = step("Check the image tag");
    tag["run"] =
        "if ! [[ \"$IMAGE_TAG\" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then\n"
        "  echo \"::error::'$IMAGE_TAG' is not an image tag\"\n"
        "  exit 1\n"
        "fi\n";
    steps.add(tag);
    steps.add(awsCredentials(deployRole(e), e.region, fmt::format("gops-deploy-{}", e.name)));

    std::set<std::string> repositories;
    for (const auto& s : e.services) {
      if (s.image.kind == model::Image::Kind::Ecr) repositories.insert(s.image.repository);
    }
    for (const auto& jb : e.jobs) {
      if (jb.image.kind == model::Image::Kind::Ecr) repositories.insert(jb.image.repository);
    }
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
      Node gate = step(fmt::format("Promotion gates {} -> {}{}", p->from, e.name, gates.empty() ? "" : fmt::format(" ({})", fmt::join(gates, ", "))));
      gate["run"] = fmt::format("gops promote \"$GOPS_SPEC\" --check {} {} --image-tag \"$IMAGE_TAG\"", p->from, e.name);
      steps.add(gate);
    }
    Node apply = step(fmt::format("gops apply ({} rollout)", model::toString(e.rollout.kind)));
    if (!e.tests.empty()) apply["id"] = "apply";
    apply["run"] = "gops apply \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --image-tag \"$IMAGE_TAG\"";
    steps.add(apply);
    for (const auto& t : e.tests) {
      Node test = step(fmt::format("Test {}", t));
      test["env"]["GOPS_TEST"] = t;
      test["run"] =
          "if [ ! -x \"deploy-tests/$GOPS_TEST\" ]; then\n"
          "  echo \"::error::the test '$GOPS_TEST' needs an executable deploy-tests/$GOPS_TEST\"\n"
          "  exit 1\n"
          "fi\n"
          "\"./deploy-tests/$GOPS_TEST\"\n";
      steps.add(test);
    }
    if (!e.tests.empty()) {
      // The result goes to the ledger, where `gops promote --check` looks for it: passed
      // when every test passed, failed when one failed (after a successful apply).
      Node record = step("Record the tests' result");
      record["if"] = "${{ !cancelled() && steps.apply.outcome == 'success' }}";
      record["env"]["RESULT"] = "${{ job.status == 'success' && 'passed' || 'failed' }}";
      record["run"] = "gops record-tests \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --image-tag \"$IMAGE_TAG\" --result \"$RESULT\"";
      steps.add(record);
    }
    w["jobs"]["deploy"] = j;
    return w;
  }

  // ---- infrastructure.yml -------------------------------------------------

  /// The branches an environment's deployment branch policy admits (the github
  /// module's rule): its own on_push branch, else those of the on_push
  /// environments promoted into it; empty means any branch.
  std::set<std::string> policyBranches(const model::Environment& e) const {
    std::set<std::string> branches;
    if (e.deploy.kind == model::Deploy::Kind::OnPush) {
      branches.insert(e.deploy.branch);
      return branches;
    }
    for (const model::Promotion* p : app_.promotionsInto(e.name)) {
      const model::Environment* from = app_.environment(p->from);
      if (from && from->deploy.kind == model::Deploy::Kind::OnPush) branches.insert(from->deploy.branch);
    }
    return branches;
  }

  struct Module {
    std::string id;       ///< job id suffix
    std::string label;    ///< in names and comments
    std::string dir;      ///< the root module's directory
    std::string region;
    std::string planRole;   ///< expression
    std::string applyRole;  ///< expression
    const model::Environment* env = nullptr;
    bool github = false;
  };

  std::vector<Module> modules() const {
    std::vector<Module> ms;
    ms.push_back({"shared-github", "github", moduleDir("github"), app_.app.region, "${{ secrets.GOPS_REGISTRY_PLAN_ROLE_ARN }}",
                  "${{ secrets.GOPS_REGISTRY_APPLY_ROLE_ARN }}", nullptr, true});
    ms.push_back({"shared-global", "global", moduleDir("global"), app_.app.region, "${{ secrets.GOPS_REGISTRY_PLAN_ROLE_ARN }}",
                  "${{ secrets.GOPS_REGISTRY_APPLY_ROLE_ARN }}", nullptr, false});
    for (const auto& e : app_.environments) {
      ms.push_back({e.name, e.name, moduleDir(e.name), e.region, fmt::format("${{{{ secrets.GOPS_PLAN_ROLE_ARN_{} }}}}", upper(e.name)),
                    fmt::format("${{{{ secrets.GOPS_APPLY_ROLE_ARN_{} }}}}", upper(e.name)), &e, false});
    }
    return ms;
  }

  static void terraformEnv(Node& j, const Module& m) {
    j["env"]["MODULE"] = m.dir;
    if (m.github) j["env"]["GITHUB_TOKEN"] = "${{ secrets.GOPS_GITHUB_TOKEN }}";
  }

  Node infrastructure() const {
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
        auto branches = policyBranches(*m.env);
        where = branches.empty() ? "github.ref_name == github.event.repository.default_branch" : refIsOneOf(branches);
      } else {
        where = "github.ref_name == github.event.repository.default_branch";
      }
      j["if"] = previous.empty() ? fmt::format("github.event_name == 'push' && {}", where)
                                 : fmt::format("!cancelled() && !contains(needs.*.result, 'failure') && github.event_name == 'push' && {}", where);
      if (m.env) j["environment"] = m.env->name;
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

  // ---- drift.yml ----------------------------------------------------------

  Node driftChecks() const {
    Node w = workflow("drift");
    std::set<std::string> crons;
    for (const auto& e : app_.environments) {
      if (e.driftCheck) crons.insert(githubCron(e.driftCheck->cron));
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
    for (const auto& e : app_.environments) {
      if (!e.driftCheck) continue;
      const std::string cron = githubCron(e.driftCheck->cron);
      Node j = job(fmt::format("drift in {}", e.name));
      j["if"] = fmt::format("github.event_name == 'workflow_dispatch' || github.event.schedule == {}", exprString(cron));
      j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}, {"issues", "write"}});
      j["env"]["GOPS_SPEC"] = spec_;
      j["env"]["GOPS_ENV"] = e.name;
      j["env"]["MODULE"] = moduleDir(e.name);
      Node& steps = j["steps"] = Node::seq();
      steps.add(checkout());
      steps.add(installGops());
      steps.add(setupTerraform());
      steps.add(awsCredentials(fmt::format("${{{{ secrets.GOPS_PLAN_ROLE_ARN_{} }}}}", upper(e.name)), e.region,
                               fmt::format("gops-drift-{}", e.name)));
      Node check = step(fmt::format("Look for drift ({})", e.driftCheck->expression));
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
          "} > drift.md\n"
          "number=$(gh issue list --repo \"$GITHUB_REPOSITORY\" --state open --search \"in:title $TITLE\" \\\n"
          "  --json number,title --jq \".[] | select(.title == \\\"$TITLE\\\") | .number\" | head -n 1)\n"
          "if [ -n \"$number\" ]; then\n"
          "  gh issue comment \"$number\" --repo \"$GITHUB_REPOSITORY\" --body-file drift.md\n"
          "else\n"
          "  gh issue create --repo \"$GITHUB_REPOSITORY\" --title \"$TITLE\" --body-file drift.md\n"
          "fi\n";
      steps.add(issue);
      w["jobs"][fmt::format("drift-{}", e.name)] = j;
    }
    return w;
  }

  // ---- rollback.yml -------------------------------------------------------

  Node rollback() const {
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
    for (const auto& e : app_.environments) {
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
      steps.add(awsCredentials(deployRole(e), e.region, fmt::format("gops-rollback-{}", e.name)));
      Node rb = step("gops rollback");
      rb["run"] = "gops rollback \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --service \"$SERVICE\"";
      steps.add(rb);
      w["jobs"][fmt::format("rollback-{}", e.name)] = j;
    }
    return w;
  }

  const model::AppModel& app_;
  std::string label_;
  std::string spec_;
  std::string partition_;
  std::string registryHost_;
  std::string pushRole_;
  std::set<std::string> deployBranches_;
  std::vector<BuiltImage> builds_;
  Output out_;
};

// ---- cron ------------------------------------------------------------------

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

/// Replaces month or weekday names by their numbers (names start at `first`).
std::string numberNames(std::string_view field, const std::vector<std::string_view>& names, int first) {
  std::string out;
  std::size_t i = 0;
  while (i < field.size()) {
    if (std::isalpha(static_cast<unsigned char>(field[i]))) {
      std::size_t j = i;
      while (j < field.size() && std::isalpha(static_cast<unsigned char>(field[j]))) ++j;
      std::string word(field.substr(i, j - i));
      for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto it = std::find(names.begin(), names.end(), word);
      out += it == names.end() ? word : std::to_string(first + static_cast<int>(it - names.begin()));
      i = j;
    } else {
      out += field[i++];
    }
  }
  return out;
}

/// A weekday field that uses 7 for Sunday, as the explicit list of days 0-6.
std::string weekdaysWithoutSeven(const std::string& field) {
  bool seven = false;
  for (const auto& item : split(field, ',')) {
    std::string range = item.substr(0, item.find('/'));
    for (const auto& v : split(range, '-')) seven = seven || v == "7";
  }
  if (!seven) return field;
  std::set<int> days;
  for (const auto& item : split(field, ',')) {
    std::size_t slash = item.find('/');
    int stepBy = slash == std::string::npos ? 1 : std::stoi(item.substr(slash + 1));
    std::string range = item.substr(0, slash);
    int lo = 0, hi = 7;
    if (range != "*") {
      auto bounds = split(range, '-');
      lo = std::stoi(bounds[0]);
      hi = bounds.size() > 1 ? std::stoi(bounds[1]) : (slash == std::string::npos ? lo : 7);
    }
    for (int d = lo; d <= hi; d += stepBy) days.insert(d % 7);
  }
  if (days.size() == 7) return "*";
  std::vector<std::string> parts;
  for (int d : days) parts.push_back(std::to_string(d));
  return fmt::format("{}", fmt::join(parts, ","));
}

}  // namespace

const std::vector<ActionPin>& actionPins() { return kActionPins; }

std::string githubCron(std::string_view cron) {
  std::vector<std::string> f;
  for (auto& part : split(cron, ' ')) {
    if (!part.empty()) f.push_back(std::move(part));
  }
  if (f.size() != 5) return std::string(cron);
  f[3] = numberNames(f[3], {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}, 1);
  f[4] = weekdaysWithoutSeven(numberNames(f[4], {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, 0));
  return fmt::format("{} {} {} {} {}", f[0], f[1], f[2], f[3], f[4]);
}

Output generate(const model::AppModel& app, const Options& o) { return Generator(app, o).run(); }

}  // namespace gops::backend::workflows
