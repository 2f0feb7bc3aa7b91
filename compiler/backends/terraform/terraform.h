#pragma once
/// The Terraform JSON backend: turns the resolved model of an app into Terraform
/// root modules (docs/terraform.md describes them):
///
///   bootstrap/<account>/terraform/main.tf.json   state bucket and GitHub OIDC provider, per AWS account
///   global/terraform/main.tf.json                ECR repositories in the registry account
///   github/terraform/main.tf.json                GitHub deployment environments (generateGithub)
///   <env>/terraform/main.tf.json                 everything one environment runs on
///
/// It reads only the model. Output is deterministic: the same model gives the same
/// bytes, keys sorted, nothing time- or machine-dependent.
#include <string>
#include <vector>

#include "backends/common/output.h"
#include "model/model.h"

namespace gops::backend::terraform {

using backend::File;
using backend::Options;
using backend::Output;

/// The AWS modules: bootstrap, global and the selected environments'.
/// Preconditions: `app` comes from a spec without errors, and every name in
/// `o.environments` is one of its environments.
Output generate(const model::AppModel& app, const Options& o = {});

/// The GitHub module (`github/terraform/main.tf.json`): the repository's deployment
/// environments with their reviewers and branch policies (`--emit github`).
Output generateGithub(const model::AppModel& app, const Options& o = {});

}  // namespace gops::backend::terraform
