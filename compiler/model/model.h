#pragma once
/// The resolved model: what a checked spec means, with templates applied, overrides
/// merged, defaults filled and units normalised. This is the contract between the
/// front end and every backend (documented in docs/model.md); backends read only
/// this. Units: CPU in CPU units (1024 = 1 vCPU), memory in MiB, durations in
/// seconds (fractions allowed), percentages as numbers (10% -> 10).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gops::model {

/// Bumped whenever the shape or meaning of the model changes incompatibly.
inline constexpr int kModelVersion = 1;

struct App {
  std::string name;
  std::string region;
  std::string repository;  ///< GitHub "owner/name"
  std::string registry;    ///< AWS account id holding the ECR repositories
  std::string sourceFile;  ///< the spec file that declares the app
};

struct Deploy {
  enum class Kind { OnPush, Manual } kind = Kind::Manual;
  std::string branch;  ///< OnPush only
};

struct Approval {
  std::vector<std::string> reviewers;  ///< GitHub users or "org/team"
  int required = 1;
};

struct Network {
  std::string cidr = "10.0.0.0/16";
  int zones = 2;
  enum class Nat { None, Single, PerZone } nat = Nat::Single;
  /// `vpc = existing("vpc-...")`: the environment runs in a VPC it does not create
  /// (cidr and nat are then the VPC's own). Its subnets are the ones listed, else
  /// found by their tag `Tier` (`private`, `public`), `zones` of each.
  std::string existingVpc;
  std::vector<std::string> privateSubnets;
  std::vector<std::string> publicSubnets;
};

/// Route 53: the hosted zone the public hostnames are in; gops writes their records
/// and the certificate's validation records there.
struct Dns {
  std::string zone;  ///< "shop.example.com"
};

/// A schedule for drift checks and jobs.
struct Schedule {
  enum class Kind { Cron, Rate } kind = Kind::Cron;
  std::string cron;          ///< 5-field POSIX cron (minute hour day-of-month month day-of-week), UTC
  double rateSeconds = 0;    ///< Rate only
  std::string expression;    ///< as written: "cron(\"0 6 * * 1\")"
};

enum class Comparison { Greater, GreaterEqual, Less, LessEqual };

/// One `rollback when` condition.
struct RollbackCondition {
  std::string metric;     ///< http_5xx_rate, p99_latency, ..., or "alarm"
  std::string alarmName;  ///< metric == "alarm": the existing CloudWatch alarm
  Comparison op = Comparison::Greater;
  double threshold = 0;   ///< in `unit`; with `baseline`, the margin over the stable version
  std::string unit;       ///< "percent", "seconds", "count" ("" for alarm)
  double forSeconds = 60; ///< how long the condition must hold
  /// `rollback when M > stable + X`: the new version's M is compared with the stable
  /// version's, both measured at their own target groups (traffic-shifting rollouts).
  bool baseline = false;
};

struct Step {
  double weight = 0;       ///< percent of traffic on the new version
  double holdSeconds = 0;  ///< time to hold the weight while watching the alarms
};

struct Rollout {
  enum class Kind { Rolling, BlueGreen, Canary, Linear } kind = Kind::Rolling;
  /// Who runs a traffic-shifting rollout: gops' own engine (gops apply shifts the
  /// listener weights between task sets) or ECS's native deployment strategy.
  enum class Engine { Gops, Ecs } engine = Engine::Gops;
  std::string preset;        ///< the named rollout it came from, or empty when written inline
  /// Traffic-shifting rollouts: a minute in which the new version served fewer
  /// requests than this gives no verdict on its rates and latency.
  int minRequests = 10;
  // Rolling
  double minHealthyPercent = 100;
  double maxPercent = 200;
  // BlueGreen
  double testTrafficPercent = 0;
  double bakeSeconds = 0;
  // Linear, as written
  double linearStepPercent = 0;
  double linearIntervalSeconds = 0;
  /// Canary and Linear: the weights to hold, strictly increasing, each below 100;
  /// the final shift to 100% follows the last step.
  std::vector<Step> steps;
  std::vector<RollbackCondition> rollback;

  bool shiftsTraffic() const { return kind != Kind::Rolling; }
  /// Sum of all holds and bakes, in seconds.
  double totalSeconds() const;
};

struct Image {
  enum class Kind { Ecr, External } kind = Kind::Ecr;
  std::string repository;  ///< Ecr: repository name in the registry account ("shop/api")
  std::string uri;         ///< External: full image reference
};

struct Secret {
  enum class Kind { Ssm, SecretsManager } kind = Kind::Ssm;
  std::string name;  ///< parameter name ("/shop/prod/db") or secret id ("shop/prod/stripe")
  std::string key;   ///< SecretsManager: JSON key, optional
};

/// An ALB listener rule's conditions take at most 3 values each, and 5 in all
/// (Elastic Load Balancing, "Listener rules": comparison strings per condition and
/// per rule).
inline constexpr std::size_t kAlbValuesPerCondition = 3;
inline constexpr std::size_t kAlbValuesPerRule = 5;

struct Expose {
  enum class Kind { None, Public, Internal } kind = Kind::None;
  std::vector<std::string> hosts;  ///< Public only
  /// Public only: path patterns (`/api/*`) routed to the service, at most
  /// kAlbValuesPerCondition; empty: every path.
  std::vector<std::string> paths;

  /// How many of `hosts` one listener rule takes beside every path pattern: at most
  /// 3 in its host-header condition, and 5 values in all with the patterns. More
  /// hosts take more rules.
  std::size_t hostsPerRule() const {
    const std::size_t p = paths.size() < kAlbValuesPerCondition ? paths.size() : kAlbValuesPerCondition;
    return kAlbValuesPerRule - p < kAlbValuesPerCondition ? kAlbValuesPerRule - p : kAlbValuesPerCondition;
  }
};

struct Health {
  /// The container's own check (ECS `healthCheck.command`, `CMD` or `CMD-SHELL`
  /// first); empty: a request for `path` on the port.
  std::vector<std::string> command;
  std::string path = "/";
  double intervalSeconds = 30;
  double timeoutSeconds = 5;
  int healthyThreshold = 3;
  int unhealthyThreshold = 3;
  double gracePeriodSeconds = 60;
};

struct Autoscale {
  int min = 1;
  int max = 1;
  std::optional<double> cpuPercent;
  std::optional<double> memoryPercent;
  std::optional<int> requestsPerTarget;
};

/// `allow [actions] on [resources]`: what the task role may do.
struct Grant {
  std::vector<std::string> actions;    ///< `s3:GetObject`, as written
  std::vector<std::string> resources;  ///< ARNs (or `*`), as written
};

/// A container beside the workload's own in its task.
struct Sidecar {
  std::string name;
  Image image;
  int cpu = 0;     ///< CPU units taken from the task's
  int memory = 0;  ///< MiB taken from the task's
  bool essential = true;
  std::optional<int> port;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  /// FireLens: "fluentbit" or "fluentd" when it routes the task's logs; else empty.
  std::string logRouter;
  std::vector<std::string> healthCommand;
};

/// An EFS file system mounted into the workload's container.
struct Volume {
  std::string name;
  std::string efs;          ///< "fs-0123456789abcdef0"
  std::string path;         ///< where it is mounted in the container
  bool readOnly = false;
  std::string accessPoint;  ///< "fsap-...", optional
};

/// Where tasks run: on-demand Fargate, Fargate Spot, or a share of each.
struct Capacity {
  double spotPercent = 0;  ///< 0: on demand only; 100: Spot only
  int onDemandBase = 0;    ///< tasks always on demand before the shares apply
};

/// A one-off task of the service's new revision (`before_deploy = task { ... }`).
struct Task {
  std::vector<std::string> command;
  double timeoutSeconds = 600;
  int cpu = 0;     ///< CPU units; 0: the service's
  int memory = 0;  ///< MiB; 0: the service's
};

/// What a service and a job share.
struct Workload {
  std::string name;
  Image image;
  std::string build;  ///< optional build context for the image, relative to the repository root
  std::vector<std::string> command;
  int cpu = 256;       ///< CPU units
  int memory = 512;    ///< MiB
  std::map<std::string, std::string> env;
  std::map<std::string, Secret> secrets;
  int logRetentionDays = 30;
  std::vector<std::string> templates;  ///< the `extends` chain, nearest first
  std::vector<Grant> permissions;      ///< the task role's, in the order written (templates first)
  std::vector<Sidecar> sidecars;       ///< sorted by name
  std::vector<Volume> volumes;         ///< sorted by name
  enum class Platform { X86_64, Arm64 } platform = Platform::X86_64;
  Capacity capacity;
  int ephemeralStorageGiB = 0;  ///< 0: Fargate's default, 20 GiB
  /// The FireLens options of the workload's container when a sidecar routes its logs.
  std::map<std::string, std::string> logOptions;
};

struct Service : Workload {
  int replicas = 1;
  std::optional<int> port;
  Expose expose;
  std::optional<Health> health;
  std::optional<Autoscale> autoscale;
  Rollout rollout;
  /// Where the rollout came from: "service" (set in the service or an `in` block),
  /// "environment", "default", or "fallback" (the environment's rollout shifts
  /// traffic but this service has no load balancer, so it rolls).
  std::string rolloutSource;
  std::vector<std::string> dependsOn;
  std::optional<Task> beforeDeploy;  ///< run, and must succeed, before any traffic moves
};

struct Job : Workload {
  Schedule schedule;
  double timeoutSeconds = 3600;
};

/// A gate on a promotion edge.
struct Gate {
  enum class Kind { TestsPassed, SecurityScan, Approval, Soak } kind = Kind::TestsPassed;
  double soakSeconds = 0;  ///< Soak only
};

struct Promotion {
  std::string from;
  std::string to;
  std::vector<Gate> gates;
};

struct Environment {
  std::string name;
  std::string account;
  std::string region;
  Deploy deploy;
  std::optional<Approval> approval;
  Network network;
  std::vector<std::string> tests;
  std::optional<Schedule> driftCheck;
  /// `load_balancer = existing("arn:...")`: public services are routed by this ALB
  /// (its HTTPS listener) instead of one the environment creates.
  std::string existingLoadBalancer;
  /// `cluster = existing("name")`: services and jobs run on this ECS cluster.
  std::string existingCluster;
  std::optional<Dns> dns;
  /// `notify = sns("arn:...")`: every alarm notifies this SNS topic.
  std::string notifyTopic;
  Rollout rollout;          ///< the environment's default rollout
  std::string rolloutSource;  ///< "environment" or "default"
  std::vector<Service> services;  ///< sorted by name
  std::vector<Job> jobs;          ///< sorted by name
};

/// The whole app: every environment, in promotion order (sources before targets,
/// then by declaration order).
struct AppModel {
  App app;
  std::vector<Environment> environments;
  std::vector<Promotion> promotions;
  std::vector<std::string> sourceFiles;  ///< every spec file, entry files first

  const Environment* environment(const std::string& name) const;
  std::vector<const Promotion*> promotionsInto(const std::string& env) const;
  std::vector<const Promotion*> promotionsOutOf(const std::string& env) const;
};

const char* toString(Rollout::Kind k);
const char* toString(Rollout::Engine e);
const char* toString(Comparison c);
const char* toString(Gate::Kind k);
const char* toString(Network::Nat n);
const char* toString(Workload::Platform p);

}  // namespace gops::model
