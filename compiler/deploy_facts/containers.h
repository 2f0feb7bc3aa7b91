#pragma once
/// A workload's task definition as typed data: what the ECS JSON registers and what
/// the Terraform module's `aws_ecs_task_definition` registers first. Text copied
/// from the spec (commands, environment values, image URIs, secret names, the health
/// path) is kept as written: each backend escapes it for its own syntax (Terraform
/// templates, ECS placeholders).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deploy_facts/naming.h"
#include "model/model.h"

namespace gops::facts {

/// Where a container's image comes from.
struct ImageRef {
  model::Image::Kind kind = model::Image::Kind::Ecr;
  std::string registry;    ///< Ecr: registryHost() of the app
  std::string repository;  ///< Ecr: "shop/api"
  std::string uri;         ///< External: the full reference, as written
  /// `<registry>/<repository>:<tag>` for ECR (each deploy chooses the tag), the
  /// reference as written for an external image.
  std::string reference(std::string_view tag) const;
};

struct EnvironmentVariable {
  std::string name;
  std::string value;
};

/// A secret handed to the container: `valueFrom` is the SSM parameter's ARN, or the
/// Secrets Manager secret's with `:<key>::` when the spec names a JSON key.
struct SecretRef {
  std::string name;
  std::string valueFrom;
};

struct PortMapping {
  int containerPort = 0;
  std::string protocol = "tcp";
};

/// ECS's container health check, held within the ranges ECS accepts.
struct ContainerHealthCheck {
  std::vector<std::string> command;  ///< `CMD-SHELL`, then the shell line
  int interval = 30;
  int timeout = 5;
  int retries = 3;
  int startPeriod = 0;
};

/// Where a container's output goes: CloudWatch Logs (`awslogs`, the group, region
/// and stream prefix), or, when a sidecar of the task routes the logs with FireLens,
/// `awsfirelens` with the spec's `log_options` (sorted by name).
struct LogConfiguration {
  std::string driver = "awslogs";
  std::string group;   ///< EnvNames::logGroup
  std::string region;  ///< the environment's
  std::string streamPrefix;
  std::vector<std::pair<std::string, std::string>> firelensOptions;  ///< driver `awsfirelens`
  bool awslogs() const { return driver == "awslogs"; }
};

/// A container that starts only after another reached a state (ECS `dependsOn`).
struct ContainerDependency {
  std::string containerName;
  std::string condition;  ///< START, COMPLETE, SUCCESS, HEALTHY
};

/// A task volume mounted into a container.
struct MountPoint {
  std::string sourceVolume;
  std::string containerPath;
  bool readOnly = false;
};

struct Container {
  std::string name;  ///< the workload's gops name for its own container, a sidecar's
  ImageRef image;
  bool essential = true;
  /// CPU units reserved for the container: set only in a task with sidecars (the
  /// workload's container then gets the task's CPU less the sidecars').
  std::optional<int> cpu;
  int memory = 0;  ///< MiB, the container's hard limit
  std::vector<std::string> command;
  std::vector<EnvironmentVariable> environment;  ///< sorted by name
  std::vector<SecretRef> secrets;                ///< sorted by name
  std::vector<PortMapping> portMappings;
  std::optional<ContainerHealthCheck> healthCheck;
  LogConfiguration logs;
  std::vector<ContainerDependency> dependsOn;
  std::vector<MountPoint> mountPoints;
  /// FireLens: the log router's `firelensConfiguration.type` (`fluentbit`, `fluentd`).
  std::string firelensType;
};

/// An EFS file system of the task: encrypted in transit, with IAM authorization
/// (the task role's `elasticfilesystem:Client*` grants decide), through the access
/// point when one is named.
struct EfsVolume {
  std::string name;
  std::string fileSystemId;
  std::string accessPointId;  ///< optional
};

struct RuntimePlatform {
  std::string cpuArchitecture = "X86_64";
  std::string operatingSystemFamily = "LINUX";
};

struct TaskDefinition {
  std::string family;  ///< EnvNames::workload
  int cpu = 0;         ///< CPU units, for the task
  int memory = 0;      ///< MiB, for the task
  std::string taskRoleArn;
  std::string executionRoleArn;
  std::string networkMode = "awsvpc";
  std::vector<std::string> requiresCompatibilities = {"FARGATE"};
  RuntimePlatform runtimePlatform;
  std::optional<int> ephemeralStorageGiB;  ///< none: Fargate's 20 GiB
  /// The workload's own container first (named after it, essential), then its
  /// sidecars by name.
  std::vector<Container> containers;
  std::vector<EfsVolume> volumes;  ///< by name
};

/// ECS's limits on container health checks.
inline constexpr int kHealthIntervalMin = 5, kHealthIntervalMax = 300;
inline constexpr int kHealthTimeoutMin = 2, kHealthTimeoutMax = 60;
inline constexpr int kHealthRetriesMin = 1, kHealthRetriesMax = 10;
inline constexpr int kHealthStartPeriodMin = 0, kHealthStartPeriodMax = 300;

/// The container health check command of a service listening on `port`: a
/// `CMD-SHELL` line that asks for `path` on localhost with curl, else wget.
std::string healthCheckShell(int port, std::string_view path);

/// The task definition of `w` in the environment `names` names. `port` is the
/// service's (none for jobs); `health` is used only with a port.
TaskDefinition taskDefinition(const model::App& app, const model::Environment& env, const EnvNames& names,
                              const model::Workload& w, std::optional<int> port,
                              const std::optional<model::Health>& health);

}  // namespace gops::facts
