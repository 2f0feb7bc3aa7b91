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

/// Whether a service runs on task sets: it is public (with a port) and its rollout
/// shifts traffic (blue_green, canary, linear). Such a service has the EXTERNAL
/// deployment controller, a blue and a green target group, and each deploy runs its
/// version as a task set behind the idle one (docs/plan.md). The one definition.
bool runsOnTaskSets(const model::Service& s);

/// A target group of a public service.
struct TargetGroup {
  std::string color;      ///< "" (the only one), "blue" or "green"
  std::string name;       ///< in AWS: EnvNames::targetGroup, at most 32 characters
  std::string arnOutput;  ///< the Terraform output holding its ARN
  std::string taskSetFile;  ///< services on task sets: the CreateTaskSet input behind it
};

/// A listener rule of a public service: at most kHostsPerListenerRule hosts each.
struct ListenerRule {
  std::size_t index = 0;  ///< 0, 1, ...
  std::vector<std::string> hosts;  ///< as written
  /// Spread by a hash of the service name and index over 1..kRulePriorities, so
  /// adding or removing a service leaves the other rules' priorities alone;
  /// distinct within the environment.
  std::uint32_t priority = 0;
  std::string arnOutput;
};
inline constexpr std::uint32_t kRulePriorities = 49000;

/// The CloudWatch alarm a deploy watches for one `rollback when` condition.
struct RollbackAlarm {
  const model::RollbackCondition* condition = nullptr;
  std::string name;  ///< EnvNames::rollbackAlarms
  /// The environment module creates it (a metric), or it exists (`alarm("...")`).
  bool created = true;
  int nth = 1;  ///< created: 1 for the first condition on its metric, 2 for the next...
};

/// How ECS replaces a service's tasks.
struct Deployment {
  std::string controller = "ECS";  ///< or "EXTERNAL" (task sets)
  bool circuitBreaker = true;      ///< ECS controller only: with rollback
  double maximumPercent = 200;     ///< a rolling rollout's limits, else 200 and 100
  double minimumHealthyPercent = 100;
};

/// What services and jobs share.
struct WorkloadFacts {
  const model::Workload* workload = nullptr;
  std::string name;    ///< the gops name
  std::string family;  ///< ECS service, task definition family and security group: EnvNames::workload
  std::string launchType = "FARGATE";
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

struct ServiceFacts : WorkloadFacts {
  const model::Service* service = nullptr;
  Exposure exposure = Exposure::None;
  bool runsOnTaskSets = false;
  Deployment deployment;
  /// Public services: seconds ECS ignores the load balancer's health checks after a task starts.
  std::optional<double> healthCheckGracePeriod;
  /// Public services: {blue, green} on task sets, else the only one; empty otherwise.
  std::vector<TargetGroup> targetGroups;
  std::vector<ListenerRule> listenerRules;  ///< public services
  std::vector<RollbackAlarm> rollbackAlarms;  ///< in the order the conditions are written
  std::string serviceFile;  ///< files::service

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
  std::vector<ServiceFacts> services;  ///< the model's order (by name)
  std::vector<JobFacts> jobs;          ///< the model's order (by name)
  bool anyPublic = false;
  bool anyInternal = false;
  bool anyTaskSets = false;
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
