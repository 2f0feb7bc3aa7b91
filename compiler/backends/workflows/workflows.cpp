// GitHub Actions workflows from the resolved model and the deployment facts. Every
// value copied from the spec reaches a shell script through `env:` (never through
// `${{ }}` inside `run:`), so nothing in a spec or a workflow input can inject
// commands. This file decides which workflows there are; generator.h lists the
// files that write each.
#include "backends/workflows/workflows.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "backends/workflows/generator.h"
#include "backends/workflows/steps.h"

namespace gops::backend::workflows {

Generator::Generator(const model::AppModel& app, const Options& o)
    : app_(app), facts_(o.facts ? *o.facts : own_.emplace(app)), envs_(facts_.environments) {
  label_ = o.specLabel.empty() ? app.app.sourceFile : o.specLabel;
  spec_ = specPath();
  registryHost_ = facts::registryHost(app.app);
  pushRole_ = facts::pushRoleArn(app.app);
  for (const auto& e : app.environments) {
    if (e.deploy.kind == model::Deploy::Kind::OnPush) deployBranches_.insert(e.deploy.branch);
  }
  collectBuilds();
}

Output Generator::run() {
  if (!out_.errors.empty()) return std::move(out_);
  file("ci.yml", "continuous integration", ci());
  if (!builds_.empty() && !deployBranches_.empty()) file("build.yml", "container images", build());
  for (const auto& e : envs_) {
    file(fmt::format("deploy-{}.yml", e.env.name), fmt::format("deploys to {}", e.env.name), deploy(e));
  }
  file("infrastructure.yml", "Terraform plan and apply", infrastructure());
  bool drift = std::any_of(envs_.begin(), envs_.end(), [](const auto& e) { return e.driftCheck.has_value(); });
  if (drift) file("drift.yml", "drift detection", driftChecks());
  if (!serviceNames().empty()) file("rollback.yml", "rollbacks", rollback());
  if (!serviceNames().empty()) file("reconcile.yml", "recovery of deploys that died", reconcile());
  // Images built from directories of their own are released on their own too.
  if (!separateDirs().empty()) file("release.yml", "releases of the images built separately", release());
  std::sort(out_.files.begin(), out_.files.end(), [](const File& a, const File& b) { return a.path < b.path; });
  return std::move(out_);
}

std::string Generator::specPath() const {
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

void Generator::collectBuilds() {
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

std::vector<std::string> Generator::serviceNames() const {
  std::set<std::string> names;
  for (const auto& e : app_.environments) {
    for (const auto& s : e.services) names.insert(s.name);
  }
  return {names.begin(), names.end()};
}

void Generator::file(const std::string& name, const std::string& what, const Node& root) {
  std::vector<std::string> header = {generatedNotice(label_, fmt::format("GitHub Actions workflow, {}", what))};
  out_.files.push_back({fmt::format(".github/workflows/{}", name), yaml::emit(root, header)});
}

yaml::Node Generator::workflow(const std::string& name) const {
  Node w;
  w["name"] = name;
  return w;
}

void Generator::defaults(Node& w) {
  w["permissions"] = Node::map();
  w["defaults"]["run"]["shell"] = "bash";
}

yaml::Node Generator::job(const std::string& name) const {
  Node j;
  j["name"] = name;
  j["runs-on"] = std::string(kRunner);
  return j;
}

Output generate(const model::AppModel& app, const Options& o) { return Generator(app, o).run(); }

}  // namespace gops::backend::workflows
