// The app-wide modules: bootstrap (per account), global (ECR) and github.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>

#include "backends/terraform/modules.h"
#include "backends/terraform/policy.h"
#include "backends/terraform/refs.h"
#include "deploy_facts/env_facts.h"
#include "deploy_facts/naming.h"
#include "deploy_facts/outputs.h"

namespace gops::backend::terraform {

void terraformSettings(Module& m, const StateLocation* state, bool aws, bool github) {
  m.terraform([&](Body& b) {
    if (state) {
      b.object("backend").object("s3");
      b.str("bucket", state->bucket).flag("encrypt", true).str("key", state->key).str("region", state->region);
      b.flag("use_lockfile", true);
      b.end().end();
    }
    b.object("required_providers");
    if (aws) b.object("aws").str("source", "hashicorp/aws").str("version", kAwsProviderVersion).end();
    if (github) b.object("github").str("source", "integrations/github").str("version", kGithubProviderVersion).end();
    b.end();
    b.str("required_version", kTerraformVersion);
  });
}

void awsProvider(Module& m, const std::string& region, const std::string& account,
                 const std::vector<std::pair<std::string, std::string>>& tags) {
  m.provider("aws", [&](Body& b) {
    b.strings("allowed_account_ids", {account});
    b.object("default_tags").object("tags");
    for (const auto& [k, v] : tags) b.str(k, v);
    b.end().end();
    b.str("region", region);
  });
}

std::vector<std::string> repositoryArns(const std::string& partition, const std::string& region,
                                        const std::string& registry, const std::vector<std::string>& repositories) {
  std::set<std::string> arns;
  bool group = repositories.size() > 20;
  for (const auto& r : repositories) {
    auto slash = r.find('/');
    std::string resource = group && slash != std::string::npos ? r.substr(0, slash) + "/*" : r;
    arns.insert(fmt::format("arn:{}:ecr:{}:{}:repository/{}", partition, region, registry, resource));
  }
  return {arns.begin(), arns.end()};
}

namespace {

std::vector<std::pair<std::string, std::string>> appTags(const model::AppModel& app) {
  return {{"app", app.app.name}, {"managed-by", "gops"}};
}

StateLocation appState(const model::AppModel& app, const char* module) {
  return {facts::stateBucket(app.app, facts::homeAccount(app)), fmt::format("{}/{}/terraform.tfstate", app.app.name, module),
          app.app.region};
}

/// A Terraform name for a GitHub login or team slug (letters, digits, `-`).
std::string githubLabel(std::string_view login) {
  std::string out;
  for (char c : login) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(0, "_");
  return out;
}

const char* kEcrLifecyclePolicy =
    R"({"rules":[{"action":{"type":"expire"},"description":"Expire untagged images after 14 days","rulePriority":1,)"
    R"("selection":{"countNumber":14,"countType":"sinceImagePushed","countUnit":"days","tagStatus":"untagged"}},)"
    R"({"action":{"type":"expire"},"description":"Keep the 500 most recent images","rulePriority":2,)"
    R"("selection":{"countNumber":500,"countType":"imageCountMoreThan","tagStatus":"any"}}]})";

}  // namespace

void bootstrapModule(Module& m, const model::AppModel& app, const std::string& account) {
  std::string partition = facts::partitionOf(app.app.region);
  std::string bucket = facts::stateBucket(app.app, account);
  terraformSettings(m, nullptr, true, false);
  awsProvider(m, app.app.region, account, appTags(app));

  m.resource("aws_s3_bucket", "state", [&](Body& b) {
    b.str("bucket", bucket);
    b.object("lifecycle").flag("prevent_destroy", true).end();
  });
  m.resource("aws_s3_bucket_versioning", "state", [&](Body& b) {
    b.str("bucket", tfRef("aws_s3_bucket.state.id"));
    b.object("versioning_configuration").str("status", "Enabled").end();
  });
  m.resource("aws_s3_bucket_server_side_encryption_configuration", "state", [&](Body& b) {
    b.str("bucket", tfRef("aws_s3_bucket.state.id"));
    b.object("rule").object("apply_server_side_encryption_by_default").str("sse_algorithm", "AES256").end().end();
  });
  m.resource("aws_s3_bucket_public_access_block", "state", [&](Body& b) {
    b.flag("block_public_acls", true).flag("block_public_policy", true);
    b.str("bucket", tfRef("aws_s3_bucket.state.id"));
    b.flag("ignore_public_acls", true).flag("restrict_public_buckets", true);
  });
  m.resource("aws_s3_bucket_policy", "state", [&](Body& b) {
    Statement tls;
    tls.sid = "DenyInsecureTransport";
    tls.deny = true;
    tls.principalKind = "AWS";
    tls.principals = {"*"};
    tls.actions = {"s3:*"};
    tls.resources = {fmt::format("arn:{}:s3:::{}", partition, bucket), fmt::format("arn:{}:s3:::{}/*", partition, bucket)};
    tls.conditions = {{"Bool", "aws:SecureTransport", {"false"}}};
    b.str("bucket", tfRef("aws_s3_bucket.state.id"));
    b.strings("depends_on", {"aws_s3_bucket_public_access_block.state"});
    b.str("policy", policyDocument({tls}));
  });
  m.resource("aws_iam_openid_connect_provider", "github", [&](Body& b) {
    b.strings("client_id_list", {kGithubOidcAudience});
    b.str("url", fmt::format("https://{}", kGithubOidcHost));
  });
  m.output(facts::output::githubOidcProviderArn(), "aws_iam_openid_connect_provider.github.arn",
           "The GitHub Actions OIDC provider that the deploy roles trust");
  m.output(facts::output::stateBucket(), "aws_s3_bucket.state.id", "The bucket holding the Terraform state of this account's modules");
}

void globalModule(Module& m, const model::AppModel& app) {
  const std::string& registry = app.app.registry;
  std::string partition = facts::partitionOf(app.app.region);
  StateLocation state = appState(app, "global");
  terraformSettings(m, &state, true, false);
  awsProvider(m, app.app.region, registry, appTags(app));

  auto repos = facts::ecrRepositories(app);
  std::vector<std::string> names;
  for (const auto& [name, _] : repos) names.push_back(name);

  if (!repos.empty()) {
    m.resource("aws_ecr_repository", "this", [&](Body& b) {
      b.object("for_each");
      for (const auto& name : names) b.str(name, name);
      b.end();
      b.object("image_scanning_configuration").flag("scan_on_push", true).end();
      b.str("image_tag_mutability", "IMMUTABLE");
      b.str("name", tfRef("each.key"));
    });
    m.resource("aws_ecr_lifecycle_policy", "this", [&](Body& b) {
      b.str("for_each", tfRef("aws_ecr_repository.this"));
      b.str("policy", kEcrLifecyclePolicy);
      b.str("repository", tfRef("each.value.name"));
    });
    // Pull (and DescribeImages, for deploys) from the accounts that run each image.
    std::vector<std::pair<std::string, std::string>> policies;
    for (const auto& [name, users] : repos) {
      std::vector<std::string> principals;
      for (const auto& account : users) {
        if (account != registry) principals.push_back(fmt::format("arn:{}:iam::{}:root", partition, account));
      }
      if (principals.empty()) continue;
      Statement pull;
      pull.sid = "PullFromEnvironmentAccounts";
      pull.principalKind = "AWS";
      pull.principals = principals;
      pull.actions = {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:DescribeImages",
                      "ecr:GetDownloadUrlForLayer"};
      policies.emplace_back(name, policyDocument({pull}));
    }
    if (!policies.empty()) {
      m.resource("aws_ecr_repository_policy", "this", [&](Body& b) {
        b.object("for_each");
        for (const auto& [name, policy] : policies) b.str(name, policy);
        b.end();
        b.str("policy", tfRef("each.value"));
        b.str("repository", tfRef("aws_ecr_repository.this[each.key].name"));
      });
    }

    // The role GitHub Actions assumes to push images: from the branches that
    // deploy and from the app's deployment environments.
    std::set<std::string> subjects;
    for (const auto& e : app.environments) {
      if (e.deploy.kind == model::Deploy::Kind::OnPush) {
        subjects.insert(fmt::format("repo:{}:ref:refs/heads/{}", app.app.repository, e.deploy.branch));
      }
      subjects.insert(fmt::format("repo:{}:environment:{}", app.app.repository, e.name));
    }
    Statement trust;
    trust.principalKind = "Federated";
    trust.principals = {fmt::format("arn:{}:iam::{}:oidc-provider/{}", partition, registry, kGithubOidcHost)};
    trust.actions = {"sts:AssumeRoleWithWebIdentity"};
    trust.conditions = {{"StringEquals", fmt::format("{}:aud", kGithubOidcHost), {kGithubOidcAudience}},
                        {"StringEquals", fmt::format("{}:sub", kGithubOidcHost), {subjects.begin(), subjects.end()}}};
    Statement login;
    login.sid = "EcrLogin";
    login.actions = {"ecr:GetAuthorizationToken"};
    login.resources = {"*"};  // GetAuthorizationToken has no resource-level permissions
    Statement push;
    push.sid = "PushImages";
    push.actions = {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
                    "ecr:DescribeImages", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"};
    push.resources = repositoryArns(partition, app.app.region, registry, names);
    m.resource("aws_iam_role", "github_push", [&](Body& b) {
      b.str("assume_role_policy", policyDocument({trust}));
      b.str("description", fmt::format("GitHub Actions of {} push images of {} to ECR", app.app.repository, app.app.name));
      b.str("name", facts::pushRoleName(app.app));
      b.str("path", facts::pushRolePath(app.app));
    });
    m.resource("aws_iam_role_policy", "github_push", [&](Body& b) {
      b.str("name", "push-images");
      b.str("policy", policyDocument({login, push}));
      b.str("role", tfRef("aws_iam_role.github_push.name"));
    });
    m.output(facts::output::githubPushRoleArn(), "aws_iam_role.github_push.arn", "The role GitHub Actions assume to push images");
  }
}

void githubModule(Module& m, const model::AppModel& app) {
  const std::string& repository = app.app.repository;
  auto slash = repository.find('/');
  std::string owner = slash == std::string::npos ? std::string() : repository.substr(0, slash);
  std::string repo = slash == std::string::npos ? repository : repository.substr(slash + 1);

  StateLocation state = appState(app, "github");
  terraformSettings(m, &state, false, true);
  m.provider("github", [&](Body& b) { b.str("owner", owner); });

  std::set<std::string> teams, users;
  for (const auto& e : app.environments) {
    if (!e.approval) continue;
    for (const auto& r : e.approval->reviewers) {
      auto s = r.find('/');
      if (s == std::string::npos) users.insert(r);
      else teams.insert(r.substr(s + 1));
    }
  }
  for (const auto& t : teams) m.data("github_team", githubLabel(t), [&](Body& b) { b.str("slug", t); });
  for (const auto& u : users) m.data("github_user", githubLabel(u), [&](Body& b) { b.str("username", u); });

  for (const auto& e : app.environments) {
    // Branches allowed to deploy: the environment's own on_push branch, else (a
    // manual environment) the branches of the environments promoted into it.
    const std::set<std::string> branches = facts::deployBranches(app, e);
    m.resource("github_repository_environment", e.name, [&](Body& b) {
      if (!branches.empty()) {
        b.object("deployment_branch_policy").flag("custom_branch_policies", true).flag("protected_branches", false).end();
      }
      b.str("environment", e.name);
      if (e.approval) b.flag("prevent_self_review", true);
      b.str("repository", repo);
      if (e.approval) {
        b.object("reviewers");
        std::vector<std::string> teamIds, userIds;
        for (const auto& r : e.approval->reviewers) {
          auto s = r.find('/');
          if (s == std::string::npos) userIds.push_back(tfRef(fmt::format("data.github_user.{}.id", githubLabel(r))));
          else teamIds.push_back(tfRef(fmt::format("data.github_team.{}.id", githubLabel(r.substr(s + 1)))));
        }
        std::sort(teamIds.begin(), teamIds.end());
        std::sort(userIds.begin(), userIds.end());
        if (!teamIds.empty()) b.strings("teams", teamIds);
        if (!userIds.empty()) b.strings("users", userIds);
        b.end();
      }
    });
    int i = 0;
    for (const auto& branch : branches) {
      m.resource("github_repository_environment_deployment_policy", fmt::format("{}_{}", e.name, i++), [&](Body& b) {
        b.str("branch_pattern", templateEscape(branch));
        b.str("environment", tfRef(fmt::format("github_repository_environment.{}.environment", e.name)));
        b.str("repository", repo);
      });
    }
  }
}

}  // namespace gops::backend::terraform
