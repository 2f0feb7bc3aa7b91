// The pinned actions and the steps every workflow shares.
#include "backends/workflows/steps.h"

#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/workflows/workflows.h"

#ifndef GOPS_VERSION
#define GOPS_VERSION "0.0.0"
#endif

namespace gops::backend::workflows {

using yaml::Node;

namespace {

// Every third-party action at a full commit: the one place to update them.
const std::vector<ActionPin> kActionPins = {
    {"actions/checkout", "11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"},
    {"actions/github-script", "60a0d83039c74a4aee543508d2ffcb1c3799cdea", "v7.0.1"},
    {"aquasecurity/trivy-action", "ed142fd0673e97e23eac54620cfb913e5ce36c25", "v0.36.0"},
    {"aws-actions/configure-aws-credentials", "e3dd6a429d7300a6a4c196c26e071d42e0343502", "v4.0.2"},
    {"github/codeql-action/upload-sarif", "5d4e8d1aca955e8d8589aabd499c5cae939e33c7", "v4.31.9"},
    {"hashicorp/setup-terraform", "b9cd54a3c349d3f38e8881555d616ced269862dd", "v3.1.2"},
};

}  // namespace

const std::vector<ActionPin>& actionPins() { return kActionPins; }

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

Node awsCredentials(std::string role, const std::string& region, std::string session, int durationSeconds) {
  Node s = step("AWS credentials (OIDC)");
  s["uses"] = uses("aws-actions/configure-aws-credentials");
  s["with"]["role-to-assume"] = std::move(role);
  s["with"]["aws-region"] = region;
  s["with"]["role-session-name"] = std::move(session);
  if (durationSeconds > 0) s["with"]["role-duration-seconds"] = durationSeconds;
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

void gopsCredentials(Node& step, const std::string& role, const std::string& session) {
  step["env"]["AWS_ROLE_ARN"] = role;
  step["env"]["AWS_ROLE_SESSION_NAME"] = session;
}

void terraformOutputs(Node& steps, const std::string& env, const std::string& moduleDir) {
  steps.add(setupTerraform());
  Node s = step(fmt::format("Terraform outputs of {} (read only)", env));
  s["env"]["MODULE"] = moduleDir;
  s["run"] = fmt::format(
      "# The state is only read: not locked (terraform output takes no lock), and the\n"
      "# credentials may read this environment's state object alone.\n"
      "terraform -chdir=\"$MODULE\" init -input=false -no-color -lock=false\n"
      "terraform -chdir=\"$MODULE\" output -json > \"{}\"\n",
      kTfOutputsFile);
  steps.add(s);
}

Node gopsApply(std::string name, const std::string& role, const std::string& session, const std::string& imageTags) {
  Node apply = step(std::move(name));
  apply["id"] = "apply";
  gopsCredentials(apply, role, session);
  apply["run"] = fmt::format("{}exec gops apply \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --image-tag {} {}\n", kOwnCredentials,
                             imageTags, kTfOutputsArgument);
  return apply;
}

Node rollBackIfDead(const std::string& role, const std::string& session) {
  Node undo = step("Roll back a deploy that died (gops rollback --if-dead)");
  undo["if"] = "${{ (failure() || cancelled()) && steps.apply.outcome != 'skipped' }}";
  undo["timeout-minutes"] = kRecoveryMinutes;
  gopsCredentials(undo, role, session);
  undo["run"] = fmt::format(
      "{}"
      "set +e\n"
      "gops rollback \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --if-dead {}\n"
      "rc=$?\n"
      "# 0: nothing had died; 3: a dead deploy was rolled back; else its rollback failed\n"
      "if [ \"$rc\" != 0 ] && [ \"$rc\" != 3 ]; then exit \"$rc\"; fi\n",
      kOwnCredentials, kTfOutputsArgument);
  return undo;
}

Node promotionGates(std::string name, const facts::EnvFacts& from, const std::string& to, const std::string& imageTags,
                    const std::string& condition) {
  Node gate = step(std::move(name));
  if (!condition.empty()) gate["if"] = condition;
  gopsCredentials(gate, from.names.gatesRoleArn(), fmt::format("gops-gates-{}", to));
  gate["env"]["GATES_REGION"] = from.env.region;
  gate["run"] = fmt::format(
      "{}"
      "# {}'s ledger, services and alarms, with its read-only promotion gates role, in its region\n"
      "export AWS_REGION=\"$GATES_REGION\" AWS_DEFAULT_REGION=\"$GATES_REGION\"\n"
      "gops promote \"$GOPS_SPEC\" --check {} {} --image-tag {}\n",
      kOwnCredentials, from.env.name, from.env.name, to, imageTags);
  return gate;
}

std::map<std::string, std::string> serviceUrls(const facts::EnvFacts& env) {
  std::map<std::string, std::string> urls;
  for (const auto& s : env.services) {
    if (s.isPublic() && !s.service->expose.hosts.empty()) urls[s.name] = "https://" + s.service->expose.hosts.front();
  }
  return urls;
}

Node checkImageTag(const std::string& then) {
  Node tag = step("Check the image tag");
  tag["run"] =
      "if ! [[ \"$IMAGE_TAG\" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then\n"
      "  echo \"::error::'$IMAGE_TAG' is not an image tag\"\n"
      "  exit 1\n"
      "fi\n" +
      then;
  return tag;
}

Node buildAndPush(const std::string& registryHost, const std::string& registryId) {
  Node b = step("Build and push, tagged with the commit");
  b["env"]["REGISTRY"] = registryHost;
  b["env"]["REGISTRY_ID"] = registryId;
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
  return b;
}

void environmentTests(Node& steps, const model::Environment& env) {
  for (const auto& t : env.tests) {
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
  if (!env.tests.empty()) {
    Node record = step("Record the tests' result");
    record["if"] = "${{ !cancelled() && steps.apply.outcome == 'success' }}";
    record["env"]["RESULT"] = "${{ job.status == 'success' && 'passed' || 'failed' }}";
    record["run"] = "gops record-tests \"$GOPS_SPEC\" --env \"$GOPS_ENV\" --image-tag \"$IMAGE_TAG\" --result \"$RESULT\"";
    steps.add(record);
  }
}

std::string openOrCommentIssue(const std::string& bodyFile) {
  return fmt::format(
      "number=$(gh issue list --repo \"$GITHUB_REPOSITORY\" --state open --search \"in:title $TITLE\" \\\n"
      "  --json number,title --jq \".[] | select(.title == \\\"$TITLE\\\") | .number\" | head -n 1)\n"
      "if [ -n \"$number\" ]; then\n"
      "  gh issue comment \"$number\" --repo \"$GITHUB_REPOSITORY\" --body-file {0}\n"
      "else\n"
      "  gh issue create --repo \"$GITHUB_REPOSITORY\" --title \"$TITLE\" --body-file {0}\n"
      "fi\n",
      bodyFile);
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

}  // namespace gops::backend::workflows
