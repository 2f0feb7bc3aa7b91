#pragma once
/// The Terraform JSON backend: turns the resolved model of an app into Terraform
/// root modules (docs/terraform.md describes them):
///
///   bootstrap/<account>/terraform/main.tf.json   state bucket and GitHub OIDC provider, per AWS account
///   global/terraform/main.tf.json                ECR repositories in the registry account
///   github/terraform/main.tf.json                GitHub deployment environments
///   <env>/terraform/main.tf.json                 everything one environment runs on
///
/// It reads only the model. Output is deterministic: the same model gives the same
/// bytes, keys sorted, nothing time- or machine-dependent.
#include <string>
#include <vector>

#include "model/model.h"

namespace gops::backend::terraform {

struct Options {
  /// Environments to write `<env>/` modules for; empty means all. The bootstrap,
  /// global and github modules describe the whole app and are always written.
  std::vector<std::string> environments;
  /// How the files' `"//"` comment names the spec; empty means app.sourceFile.
  std::string specLabel;
};

struct File {
  std::string path;  ///< relative to the output directory, `/`-separated
  std::string contents;
};

struct Output {
  std::vector<File> files;  ///< sorted by path
  /// Problems that stop the build (e.g. a VPC too small for its zones, or two
  /// generated names that collide); files are empty when there are any.
  std::vector<std::string> errors;
};

/// Preconditions: `app` comes from a spec without errors, and every name in
/// `o.environments` is one of its environments.
Output generate(const model::AppModel& app, const Options& o = {});

}  // namespace gops::backend::terraform
