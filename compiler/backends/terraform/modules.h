#pragma once
/// The root modules the backend writes, one function each (internal to the backend).
#include <string>
#include <utility>
#include <vector>

#include "backends/terraform/body.h"
#include "deploy_facts/env_facts.h"
#include "model/model.h"

namespace gops::backend::terraform {

/// Terraform and provider versions every module requires. S3 native state locking
/// (`use_lockfile`) needs Terraform 1.10.
inline constexpr const char* kTerraformVersion = ">= 1.10";
inline constexpr const char* kAwsProviderVersion = "~> 6.0";
inline constexpr const char* kGithubProviderVersion = "~> 6.0";

inline constexpr const char* kGithubOidcHost = "token.actions.githubusercontent.com";
inline constexpr const char* kGithubOidcAudience = "sts.amazonaws.com";

/// Where a module keeps its state (the S3 backend block); modules without one
/// (bootstrap) keep local state.
struct StateLocation {
  std::string bucket;
  std::string key;
  std::string region;
};

/// The `terraform` block: required version and providers, and the S3 backend
/// with native locking when `state` is given.
void terraformSettings(Module& m, const StateLocation* state, bool aws, bool github);

/// The default `aws` provider, pinned to `account` (allowed_account_ids) with
/// default tags on every resource. `tags` must be sorted by key.
void awsProvider(Module& m, const std::string& region, const std::string& account,
                 const std::vector<std::pair<std::string, std::string>>& tags);

/// ARNs for `repositories` in the registry, for IAM policies: each repository's
/// ARN, or, past 20 repositories (to stay within IAM's policy size limits), one
/// `repository/<first path segment>/*` pattern per first segment.
std::vector<std::string> repositoryArns(const std::string& partition, const std::string& region,
                                        const std::string& registry, const std::vector<std::string>& repositories);

/// The "//" comment every file starts with.
std::string generatedComment(const std::string& specLabel, const std::string& what);

void bootstrapModule(Module& m, const model::AppModel& app, const std::string& account);
void globalModule(Module& m, const model::AppModel& app);
void githubModule(Module& m, const model::AppModel& app);
/// The module of one environment, from its facts; problems that stop the build go to `errors`.
void envModule(Module& m, const facts::EnvFacts& f, std::vector<std::string>& errors);

}  // namespace gops::backend::terraform
