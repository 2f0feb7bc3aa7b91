#pragma once
/// Names and ARNs of everything gops creates in AWS. Every name is derived from the
/// app, environment and workload names alone, never from anything AWS assigns, so
/// names and most ARNs are known at compile time; docs/terraform.md lists them. The
/// Terraform module creates what these name, and the ECS JSON, the workflows and the
/// plan refer to it by the same functions, so the names agree.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"

namespace gops::facts {

/// AWS's length limits that the names below respect.
inline constexpr std::size_t kLoadBalancerNameMax = 32;  ///< ALBs and target groups
inline constexpr std::size_t kRoleNameMax = 64;
inline constexpr std::size_t kBucketNameMax = 63;
inline constexpr std::size_t kScheduleNameMax = 64;
/// A public service gets a listener rule per model::Expose::hostsPerRule() hostnames,
/// each with all its path patterns (block `<service>`, then `<service>_2`, ...;
/// outputs `<service>_listener_rule_arn`, then `<service>_listener_rule_2_arn`, ...).

/// What follows `<service>-` in the name of the alarm for the `nth` (1-based)
/// `rollback when` condition on `metric`: `rollback-<metric>[-nth]`.
std::string rollbackAlarmSuffix(std::string_view metric, int nth);
/// The alarm of a comparison with the stable version (`stable + X`) that a deploy
/// watches when its new version goes behind the `color` target group:
/// `<alarm>-new-<color>` (`...-rollback-http-5xx-rate-new-green`).
std::string newColorAlarm(std::string_view alarm, std::string_view color);

/// A gops name as it appears inside AWS names: lowercase, `_` replaced by `-`.
std::string awsName(std::string_view gopsName);

/// 32-bit FNV-1a of `s`: the same on every platform and in every run.
std::uint32_t stableHash(std::string_view s);

/// `stem + suffix` when that fits in `maxLength`. Otherwise the stem is cut and
/// `-` plus six hex digits of the full name's hash go between it and the suffix:
/// the result is exactly `maxLength` long, still starts like the stem and ends
/// with `suffix`, never has a `-` before the hash doubled, and different full
/// names give different results (up to a 24-bit hash collision).
/// Precondition: suffix.size() + 8 <= maxLength.
std::string boundedName(std::string_view stem, std::string_view suffix, std::size_t maxLength);

/// The AWS partition a region belongs to: "aws", "aws-cn" or "aws-us-gov".
std::string partitionOf(std::string_view region);
/// The DNS suffix of a partition's endpoints: "amazonaws.com" or "amazonaws.com.cn".
std::string dnsSuffix(std::string_view partition);

/// The S3 bucket that holds the Terraform state of `app`'s root modules in `account`
/// (created by the account's bootstrap module): `<app>-tfstate-<account>`.
std::string stateBucket(const model::App& app, std::string_view account);

/// The ECR registry of the app's `ecr(...)` images:
/// `<registry>.dkr.ecr.<app region>.amazonaws.com` (`.com.cn` in China).
std::string registryHost(const model::App& app);
/// The role GitHub Actions push images with, in the registry account (created by
/// the global module): `<app>-github-push` at path `/gops/<app>/`, at most 64 characters.
std::string pushRoleName(const model::App& app);
std::string pushRolePath(const model::App& app);
std::string pushRoleArn(const model::App& app);

/// Names inside one environment. `<prefix>` is `<app>-<env>` in awsName form.
class EnvNames {
 public:
  EnvNames(const model::App& app, const model::Environment& env);

  const std::string& prefix() const { return prefix_; }
  const std::string& partition() const { return partition_; }
  /// The ECS cluster the environment's services and jobs run on: `<prefix>`, the one
  /// the environment creates, or the name of an existing one (`cluster =
  /// existing("name")`, or the name in its ARN).
  const std::string& cluster() const { return cluster_; }
  /// The environment's CloudWatch dashboard: `<prefix>` (`<prefix>-2`, ... past the first).
  const std::string& dashboard() const { return prefix_; }
  /// The ALB the environment creates: `<prefix>`, at most 32 characters.
  std::string loadBalancer() const;
  /// `<prefix>-<service>[-blue|-green]`, at most 32 characters; `color` is "", "blue" or "green".
  std::string targetGroup(std::string_view service, std::string_view color) const;
  /// ECS service and task definition family: `<prefix>-<workload>`.
  std::string workload(std::string_view name) const;
  /// `/gops/<app>/<env>/<workload>` (gops names as written).
  std::string logGroup(std::string_view name) const;
  /// `<prefix>-<workload>-<kind>` (kind: execution, task, scheduler), at most 64 characters.
  std::string role(std::string_view name, std::string_view kind) const;
  /// Path of the task and execution roles: `/gops/<app>/<env>/tasks/`. Only
  /// they live there, so `iam:PassRole` on `role/gops/<app>/<env>/tasks/*` is exact.
  std::string taskRolePath() const;
  /// Path of the environment's other roles (scheduler, GitHub deploy): `/gops/<app>/<env>/`.
  std::string rolePath() const;
  /// `<prefix>-github-deploy`.
  std::string deployRole() const;
  /// The ARN of deployRole() at rolePath(): what the GitHub environment assumes.
  std::string deployRoleArn() const;
  /// `<prefix>-github-gates` at rolePath(): the read-only role the deploys of the
  /// environments promoted from this one check the promotion gates with (`gops
  /// promote --check`: this environment's ledger, services and alarms), created when
  /// something is promoted out of this environment.
  std::string gatesRole() const;
  std::string gatesRoleArn() const;
  /// `<prefix>-ecs-infrastructure` at rolePath(): the role ECS assumes to move the
  /// listener rules of the services whose rollout ECS runs (`engine = ecs`).
  std::string ecsInfrastructureRole() const;
  std::string ecsInfrastructureRoleArn() const;
  /// EventBridge Scheduler schedule of a job: `<prefix>-<job>`, at most 64 characters.
  std::string schedule(std::string_view job) const;
  /// CloudWatch alarm `<prefix>-<service>-<what>`.
  std::string alarm(std::string_view service, std::string_view what) const;
  /// The CloudWatch alarm of each `rollback when` condition of `s`, in the order
  /// written: `<prefix>-<service>-rollback-<metric>[-N]` for the alarms the
  /// environment module creates (`-2`, `-3` for a metric used again), the alarm's own
  /// name for `alarm("...")`. A comparison with the stable version is two alarms,
  /// this name with `-new-blue` and `-new-green` (newColorAlarm, ServiceFacts::rollbackAlarms).
  std::vector<std::string> rollbackAlarms(const model::Service& s) const;
  /// Cloud Map private DNS namespace: `<env>.<app>.internal` (gops names as written,
  /// matching the URLs specs write, e.g. `http://orders.${env.name}.shop.internal`).
  std::string dnsNamespace() const;
  /// SSM prefix of the deploy ledger: `/gops/<app>/<env>`.
  std::string ledgerPath() const;
  /// Key of the environment's state in the state bucket: `<app>/<env>/terraform.tfstate`.
  std::string stateKey() const;
  /// The bucket holding the environment's state: stateBucket() of its account.
  std::string stateBucket() const;

  // ARNs
  std::string arn(std::string_view service, std::string_view resource) const;  ///< in the env's region and account
  std::string roleArn(std::string_view path, std::string_view name) const;
  /// An SSM parameter: `arn:...:ssm:<region>:<account>:parameter/<name without leading />`;
  /// a name that already is an ARN is kept.
  std::string ssmParameterArn(std::string_view name) const;
  /// A Secrets Manager secret: `arn:...:secretsmanager:<region>:<account>:secret:<id>`;
  /// an id that already is an ARN is kept.
  std::string secretArn(std::string_view id) const;

 private:
  const model::App& app_;
  const model::Environment& env_;
  std::string prefix_;
  std::string partition_;
  std::string cluster_;
};

/// The name of an existing ECS cluster written as its name or its ARN
/// (`arn:...:cluster/NAME`).
std::string clusterNameOf(std::string_view nameOrArn);

}  // namespace gops::facts
