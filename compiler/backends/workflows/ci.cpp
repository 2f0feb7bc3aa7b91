// ci.yml (checks on every pull request and push) and build.yml (the images).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/workflows/generator.h"
#include "backends/workflows/steps.h"
#include "deploy_facts/files.h"

namespace gops::backend::workflows {

using yaml::Node;

Node Generator::ci() const {
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
    for (const auto& a : facts::awsAccounts(app_)) {
      dirs += fmt::format(" \\\n  --directory {}", facts::files::terraformModuleDir("bootstrap/" + a));
    }
    dirs += fmt::format(" \\\n  --directory {} \\\n  --directory {}", facts::files::terraformModuleDir("global"),
                        facts::files::terraformModuleDir("github"));
    for (const auto& e : app_.environments) {
      dirs += fmt::format(" \\\n  --directory {}", facts::files::terraformModuleDir(e.name));
    }
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

Node Generator::buildMatrix() const {
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

Node Generator::build() const {
  Node w = workflow("build");
  Node branches = Node::seq();
  for (const auto& b : deployBranches_) branches.add(b);
  w["on"]["push"]["branches"] = branches;
  ignoreSeparatePushes(w["on"]["push"]);
  defaults(w);
  Node j = job("build ${{ matrix.repository }}");
  j["permissions"] = permissions({{"contents", "read"}, {"id-token", "write"}});
  j["strategy"]["fail-fast"] = false;
  j["strategy"]["matrix"]["include"] = buildMatrix();
  Node& steps = j["steps"] = Node::seq();
  steps.add(checkout());
  steps.add(awsCredentials(pushRole_, app_.app.region, "gops-build"));
  steps.add(buildAndPush(registryHost_, app_.app.registry));
  w["jobs"]["image"] = j;
  return w;
}

}  // namespace gops::backend::workflows
