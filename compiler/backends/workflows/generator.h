#pragma once
/// The writer of an app's workflows (internal to the backend). It reads the model
/// and the deployment facts of every environment; one file per workflow:
///
///   workflows.cpp        the set of files, the spec path, image builds, shared job shapes
///   ci.cpp               ci.yml and build.yml
///   deploy.cpp           deploy-<env>.yml
///   infrastructure.cpp   infrastructure.yml
///   drift_rollback.cpp   drift.yml and rollback.yml
///   reconcile.cpp        reconcile.yml
///   release.cpp          release.yml: the images built separately, each deployed alone
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/common/output.h"
#include "backends/workflows/yaml.h"
#include "deploy_facts/env_facts.h"
#include "model/model.h"

namespace gops::backend::workflows {

struct BuiltImage {
  std::string repository;  ///< ECR repository
  std::string context;     ///< the `build` directory
  std::string name;        ///< repository with `/` -> `-`, for job names and SARIF categories
};

class Generator {
 public:
  Generator(const model::AppModel& app, const Options& o);
  Output run();

 private:
  using Node = yaml::Node;

  // workflows.cpp
  /// The spec as the workflows name it: the file declaring the app, or its
  /// directory when the app has several files there (`gops check DIR` reads them all).
  std::string specPath() const;
  void collectBuilds();
  std::vector<std::string> serviceNames() const;
  void file(const std::string& name, const std::string& what, const Node& root);
  Node workflow(const std::string& name) const;
  /// The common start of a workflow after `on`: no default permissions, bash.
  static void defaults(Node& w);
  Node job(const std::string& name) const;

  // ci.cpp
  Node ci() const;
  Node buildMatrix() const;
  Node build() const;

  // deploy.cpp
  Node deploy(const facts::EnvFacts& e) const;

  // infrastructure.cpp
  struct Module {
    std::string id;         ///< job id suffix
    std::string label;      ///< in names and comments
    std::string dir;        ///< the root module's directory
    std::string region;
    std::string planRole;   ///< expression
    std::string applyRole;  ///< expression
    const facts::EnvFacts* env = nullptr;
    bool github = false;
  };
  std::vector<Module> modules() const;
  static void terraformEnv(Node& j, const Module& m);
  Node infrastructure() const;

  // drift_rollback.cpp
  Node driftChecks() const;
  Node rollback() const;

  // reconcile.cpp
  Node reconcile() const;

  // release.cpp
  /// The build directories of the images built separately: each one's own directory,
  /// not the repository root; sorted.
  std::vector<std::string> separateDirs() const;
  /// Whether the image is built from a directory of its own (not the repository root).
  bool builtSeparately(const BuiltImage& image) const;
  /// The services (and jobs, unless servicesOnly) whose image is `repository`, sorted.
  std::vector<std::string> workloadsOf(const std::string& repository, bool servicesOnly) const;
  /// `paths-ignore` on a `push` trigger of the general workflows: a push that changes
  /// only separately built directories is their release workflows'.
  void ignoreSeparatePushes(Node& push) const;
  Node release() const;

  const model::AppModel& app_;
  std::optional<facts::AppFacts> own_;  ///< when the caller gave no facts
  const facts::AppFacts& facts_;
  const std::vector<facts::EnvFacts>& envs_;  ///< the model's environments, in order
  std::string label_;
  std::string spec_;
  std::string registryHost_;
  std::string pushRole_;
  std::set<std::string> deployBranches_;
  std::vector<BuiltImage> builds_;
  Output out_;
};

}  // namespace gops::backend::workflows
