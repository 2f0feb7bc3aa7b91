#pragma once
/// The deployment facts of an app and its environments: what the backends share
/// about how the model is deployed, computed once from the model and handed to them
/// as data. The Terraform module creates what these describe; the ECS JSON, the
/// workflows and the plan refer to it. A backend decides nothing here is also
/// decided elsewhere: whether a service is public, runs on task sets, which target
/// groups and listener rules it has, what its containers are, when a job runs.
///
/// Reads only the model (and support). Every list is in a deterministic order: the
/// model's (services and jobs sorted by name), or sorted where it says so.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deploy_facts/containers.h"
#include "deploy_facts/infrastructure.h"
#include "deploy_facts/naming.h"
#include "deploy_facts/network.h"
#include "deploy_facts/schedule.h"
#include "model/deploy_time.h"
#include "model/model.h"

namespace gops::facts {

/// How a service is reached. A service is behind the load balancer or in Cloud Map
/// only when it also listens on a port.
enum class Exposure { None, Public, Internal };
Exposure exposureOf(const model::Service& s);

/// Who carries out a service's deploys (docs/runtime.md, The two engines). The one
/// definition; every backend follows it.
enum class Runner {
  /// ECS rolls the service's tasks in place (a rolling rollout, or a service without
  /// a load balancer): controller ECS, circuit breaker with rollback.
  EcsRolling,
  /// gops' own engine: the service is public, its rollout shifts traffic and its
  /// engine is `gops` (the default). Controller EXTERNAL: each deploy runs the new
  /// version as a task set behind the idle target group and gops moves the weights.
  GopsTaskSets,
  /// ECS's own strategy: the service is public, its rollout shifts traffic and says
  /// `engine = ecs`. Controller ECS with deploymentConfiguration.strategy BLUE_GREEN,
  /// CANARY or LINEAR: ECS shifts the production listener rule between the two target
  /// groups, bakes and rolls back on the alarms itself; gops starts it and follows it.
  EcsNative,
};
Runner runnerOf(const model::Service& s);

/// Whether a service runs on task sets (Runner::GopsTaskSets): it is public (with a
/// port), its rollout shifts traffic (blue_green, canary, linear) and gops' engine
/// runs it. Such a service has the EXTERNAL deployment controller, a blue and a
/// green target group, and each deploy runs its version as a task set behind the
/// idle one (docs/plan.md).
bool runsOnTaskSets(const model::Service& s);
/// Whether ECS's own deployment strategy runs the service's rollout (Runner::EcsNative).
bool runsNatively(const model::Service& s);
/// Whether the service has a blue and a green target group behind a weighted listener
/// rule: it runs on task sets or natively.
bool hasTwoTargetGroups(const model::Service& s);

/// A target group of a public service.
struct TargetGroup {
  std::string color;      ///< "" (the only one), "blue" or "green"
  std::string name;       ///< in AWS: EnvNames::targetGroup, at most 32 characters
  std::string arnOutput;  ///< the Terraform output holding its ARN
  std::string taskSetFile;  ///< services on task sets: the CreateTaskSet input behind it
};

/// A listener rule of a public service: its hosts (host-header) and, with
/// `public(..., path = ...)`, every path pattern of the service (path-pattern): at
/// most 3 values in each condition and 5 together, so a rule per
/// model::Expose::hostsPerRule() hosts.
struct ListenerRule {
  std::size_t index = 0;  ///< 0, 1, ...
  std::vector<std::string> hosts;  ///< as written
  std::vector<std::string> paths;  ///< the service's path patterns, as written; empty: every path
  /// A rule without paths on a host that another service's path rule also routes:
  /// it takes the rest of the host, so it must be evaluated after the path rules.
  bool fallback = false;
  /// Spread by a hash of the service name and index (with an existing load balancer,
  /// of `<app>-<env>-<service>` and index, so that environments sharing its listener
  /// differ), so adding or removing a service leaves the other rules' priorities
  /// alone; distinct within the environment. Rules take 1..kRulePriorities, fallback
  /// rules the band above, so that ALB (lowest number first) tries every path rule
  /// of a host before the rule taking the rest of it.
  std::uint32_t priority = 0;
  std::string arnOutput;
};
inline constexpr std::uint32_t kRulePriorities = 49000;
/// Fallback rules: kRulePriorities + 1 .. kRulePriorities + kFallbackPriorities
/// (50000, the highest priority ALB accepts).
inline constexpr std::uint32_t kFallbackPriorities = 1000;

/// A CloudWatch alarm a deploy watches for a `rollback when` condition. A condition
/// is one alarm that every deploy of the service watches, except a comparison with
/// the stable version (`stable + X`): the new version goes behind whichever target
/// group is idle, blue or green, alternately, and the alarm must compare the new
/// version with the stable one, not the other way round. Such a condition is two
/// alarms, one per colour the new version can go behind (`newColor`), each
/// computing that colour's value minus the other's; a deploy watches the one of the
/// colour its new task set goes behind (plan: `watch.alarms_by_new_color`).
struct RollbackAlarm {
  const model::RollbackCondition* condition = nullptr;
  /// EnvNames::rollbackAlarms; with a `newColor`, newColorAlarm of it.
  std::string name;
  /// The environment module creates it (a metric), or it exists (`alarm("...")`).
  bool created = true;
  int nth = 1;  ///< created: 1 for the first condition on its metric, 2 for the next...
  /// "" when every deploy watches it; "blue" or "green" for a comparison with the
  /// stable version: watched by a deploy whose new version goes behind that colour.
  std::string newColor;
};

/// ECS's own strategy for a service that runs natively (deploymentConfiguration).
struct NativeStrategy {
  std::string strategy;  ///< "BLUE_GREEN", "CANARY" or "LINEAR"
  /// After all production traffic is on the new version: how long both versions run
  /// before the old one is stopped (blue_green's `bake`; 0 for canary and linear,
  /// whose last step is their hold, as on gops' engine).
  int bakeTimeMinutes = 0;
  double canaryPercent = 0;  ///< CANARY: the one step's share
  int canaryBakeTimeMinutes = 0;
  double linearStepPercent = 0;  ///< LINEAR: each step's share
  int linearStepBakeTimeMinutes = 0;
  /// ECS rolls back when one of these is in ALARM (deploymentConfiguration.alarms):
  /// the service's rollback alarms, in the order written. Empty: no alarm rollback.
  std::vector<std::string> alarmNames;
  /// The planned shifts of production traffic, `{weight, hold seconds}`, ending at
  /// 100 with the bake: what gops reports while it follows the deployment.
  std::vector<model::Step> shifts;
};

/// How ECS replaces a service's tasks.
struct Deployment {
  std::string controller = "ECS";  ///< or "EXTERNAL" (task sets)
  bool circuitBreaker = true;      ///< rolling under the ECS controller only: with rollback
  double maximumPercent = 200;     ///< a rolling rollout's limits, else 200 and 100
  double minimumHealthyPercent = 100;
  std::optional<NativeStrategy> native;  ///< Runner::EcsNative only
};

/// What services and jobs share.
struct WorkloadFacts {
  const model::Workload* workload = nullptr;
  std::string name;    ///< the gops name
  std::string family;  ///< ECS service, task definition family and security group: EnvNames::workload
  /// Where tasks run: the FARGATE launch type when `capacityStrategy` is empty, else
  /// that capacity provider strategy (Fargate Spot), in the service, its task sets
  /// and a job's schedule alike.
  std::string launchType = "FARGATE";
  std::vector<CapacityProviderShare> capacityStrategy;
  TaskDefinition task;
  std::string taskDefinitionFile;  ///< files::taskDefinition, relative to `<env>/`
  /// What the execution role may read and pull: the SSM parameters' ARNs and the
  /// Secrets Manager secrets' (`-??????` for the suffix AWS adds to a secret id),
  /// sorted, each once; the ECR repository of an `ecr(...)` image.
  std::vector<std::string> parameterArns;
  std::vector<std::string> secretArns;
  std::optional<std::string> ecrRepository;

  const Container& container() const { return task.containers.front(); }
};

/// `before_deploy = task { ... }`: the one-off task of the service's new revision a
/// deploy runs (RunTask) before any traffic moves (docs/plan.md, run_task).
struct OneOffTask {
  std::string container;             ///< the workload's own container, whose command it overrides
  std::vector<std::string> command;
  /// With `cpu` or `memory` in the task: its size (the one not given is the service's)
  /// and the container's share of it, split with the sidecars as the task definition
  /// splits the service's (containerCpu only in a task with sidecars).
  std::optional<int> cpu, memory, containerCpu, containerMemory;
  /// The service's CreateService input (rolling) or blue CreateTaskSet input (task
  /// sets): the task runs with its launch type or capacity, platform version and network.
  std::string placementFile;
  /// Where the container's output goes: its awslogs group and the stream's name before
  /// the task id (`<prefix>/<container>/`); through FireLens to CloudWatch Logs, the
  /// router's group and `<log_stream_prefix><container>-firelens-`. None when unknown.
  std::optional<std::string> logGroup, logStreamPrefix;
  double timeoutSeconds = 600;
};

struct ServiceFacts : WorkloadFacts {
  const model::Service* service = nullptr;
  Exposure exposure = Exposure::None;
  Runner runner = Runner::EcsRolling;
  bool runsOnTaskSets = false;  ///< runner == Runner::GopsTaskSets
  bool runsNatively = false;    ///< runner == Runner::EcsNative
  Deployment deployment;
  /// Public services: seconds ECS ignores the load balancer's health checks after a task starts.
  std::optional<double> healthCheckGracePeriod;
  /// Public services: {blue, green} on task sets and natively (where blue is the one
  /// the service is created with and green the alternate), else the only one; empty
  /// otherwise. Only task sets have a taskSetFile.
  std::vector<TargetGroup> targetGroups;
  std::vector<ListenerRule> listenerRules;  ///< public services
  /// In the order the conditions are written; a comparison with the stable version
  /// gives two in a row, its blue alarm first.
  std::vector<RollbackAlarm> rollbackAlarms;
  std::string serviceFile;  ///< files::service
  std::optional<OneOffTask> beforeDeploy;

  bool isPublic() const { return exposure == Exposure::Public; }
  bool isInternal() const { return exposure == Exposure::Internal; }
  /// The target group the service registers with when it is created: blue, or the
  /// only one (output::targetGroupArn(name) holds its ARN). Public services only.
  const TargetGroup& primaryTargetGroup() const { return targetGroups.front(); }
};

struct JobFacts : WorkloadFacts {
  const model::Job* job = nullptr;
  std::string scheduleName;  ///< EnvNames::schedule
  Schedule schedule;
};

/// The facts of one environment.
struct EnvFacts {
  EnvFacts(const model::AppModel& app, const model::Environment& env);

  const model::AppModel& app;
  const model::Environment& env;
  EnvNames names;
  NetworkFacts network;
  LoadBalancerFacts loadBalancer;
  ClusterFacts cluster;
  std::vector<ServiceFacts> services;  ///< the model's order (by name)
  std::vector<JobFacts> jobs;          ///< the model's order (by name)
  bool anyPublic = false;
  bool anyInternal = false;
  bool anyTaskSets = false;
  /// Some service runs natively: the environment has the role ECS assumes to move the
  /// listener rules (EnvNames::ecsInfrastructureRole).
  bool anyNative = false;
  /// Every hostname of a public service, sorted, each once: the certificate's names
  /// and, with `dns`, the alias records.
  std::vector<std::string> publicHosts;
  /// `dns { zone = ... }`: the Route 53 hosted zone (public) the environment writes
  /// the certificate's validation records and the hostnames' alias records to.
  std::optional<std::string> dnsZone;
  bool anyBeforeDeploy = false;  ///< some service runs a one-off task before its deploy
  /// The tags on everything the environment runs: app, environment, managed-by
  /// (sorted by key; the Terraform provider's default tags).
  std::vector<std::pair<std::string, std::string>> tags;
  /// The ECR repositories the environment's images come from, sorted.
  std::set<std::string> ecrRepositories;
  /// The branches the environment's GitHub deployment branch policy admits
  /// (deployBranches()); empty means any.
  std::set<std::string> deployBranches;
  std::optional<Schedule> driftCheck;
  /// How long a deploy runs and the limits it runs under (model/deploy_time.h): the
  /// deploy job's timeout, the deploy role's max_session_duration and the job's
  /// role-duration-seconds; the checker's W0511 reads the same fact.
  model::DeployLimits deployLimits;
};

/// The branches an environment may deploy from: its own on_push branch, else (a
/// manual environment) those of the on_push environments promoted into it; empty
/// means any branch.
std::set<std::string> deployBranches(const model::AppModel& app, const model::Environment& env);

/// The facts of every environment of an app, in the model's order: what `gops build`
/// computes once and hands to every backend (backend::Options::facts).
struct AppFacts {
  explicit AppFacts(const model::AppModel& app);

  const model::AppModel& app;
  std::vector<EnvFacts> environments;

  /// The facts of the environment named `name`. Precondition: it is one of the app's.
  const EnvFacts& environment(std::string_view name) const;
};

/// Every AWS account the app uses (the environments' and the registry), sorted, each once.
std::vector<std::string> awsAccounts(const model::AppModel& app);
/// The account whose state bucket also holds the app-wide modules' state (global,
/// github): the registry account, else the first environment's.
std::string homeAccount(const model::AppModel& app);
/// Each ECR repository the app's images come from, with the accounts of the
/// environments that run an image from it.
std::map<std::string, std::set<std::string>> ecrRepositories(const model::AppModel& app);

}  // namespace gops::facts
