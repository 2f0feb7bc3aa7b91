#pragma once
/// gops::plan — the deployment plan (`OUT/<env>/plan.json`, docs/plan.md) as data: the
/// contract between the plan backend, which builds a `Plan` from the model and writes
/// it (writer.h), and the runtime, which reads and validates it once (reader.h) and
/// executes it. docs/plan.schema.json is its published form; the reader checks what
/// the schema checks, and a little more (reader.h).
///
/// Every field is typed: a step is a variant of one struct per `action`, the enums
/// hold the names the JSON spells. Plain values, comparable with `==`, no JSON type
/// in this header.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gops::plan {

/// `plan_version`. Bumped whenever the plan's shape or meaning changes
/// incompatibly; the reader refuses plans of another version.
inline constexpr int kVersion = 1;

/// Default time limits, in seconds (docs/plan.md).
inline constexpr double kStabilizeTimeout = 900;   ///< a rolling update or new task set becoming healthy
inline constexpr double kShiftSettle = 60;          ///< after each weight change, before its hold counts
inline constexpr double kMinTestTrafficHold = 60;  ///< blue/green test traffic, at least

// --- steps ------------------------------------------------------------------------

/// Which target group a task set goes behind: the idle one (weight 0), the only kind.
enum class TargetGroupChoice { Idle };
/// Which task set `retire_task_set` retires: the previous primary, the only kind.
enum class TaskSetChoice { Previous };

/// RegisterTaskDefinition of `file` (an ECS JSON file next to the plan).
struct RegisterTaskDefinition {
  std::string family;
  std::string file;
  bool operator==(const RegisterTaskDefinition&) const = default;
};
/// Rolling: UpdateService to the new revision.
struct UpdateService {
  double minHealthyPercent = 100;
  double maxPercent = 200;
  bool operator==(const UpdateService&) const = default;
};
/// Rolling: until the deployment is COMPLETED, at most `timeoutSeconds`.
struct WaitStable {
  double timeoutSeconds = kStabilizeTimeout;
  bool operator==(const WaitStable&) const = default;
};
/// Rolling: keep watching the alarms this long after the service is stable.
struct Hold {
  double holdSeconds = 0;
  bool operator==(const Hold&) const = default;
};
/// A task set of the new revision behind the idle target group, waited on until steady.
struct CreateTaskSet {
  TargetGroupChoice targetGroup = TargetGroupChoice::Idle;
  double scalePercent = 100;
  double timeoutSeconds = kStabilizeTimeout;
  bool operator==(const CreateTaskSet&) const = default;
};
/// `weight` percent to the new task set's group; settle, then hold `holdSeconds`.
struct Shift {
  double weight = 0;
  double holdSeconds = 0;
  bool operator==(const Shift&) const = default;
};
/// UpdateServicePrimaryTaskSet: the new task set becomes the primary.
struct PromoteTaskSet {
  bool operator==(const PromoteTaskSet&) const = default;
};
/// The previous task set scaled to 0 and deleted.
struct RetireTaskSet {
  TaskSetChoice which = TaskSetChoice::Previous;
  bool operator==(const RetireTaskSet&) const = default;
};
/// `before_deploy`: a one-off ECS task of the new revision (RunTask), run before any
/// traffic moves and waited on until it stops; exit code 0 lets the rollout go on,
/// anything else stops the deploy with nothing changed (docs/plan.md, run_task).
struct RunTask {
  std::string container;              ///< the container whose command is overridden: the workload's own
  std::vector<std::string> command;   ///< its command for this task
  /// Task-level size overrides (CPU units, MiB); none: the task definition's.
  std::optional<int> cpu;
  std::optional<int> memory;
  /// With a size override, the container's own share of it: its CPU reservation
  /// (only in a task with sidecars) and its memory hard limit (the task's less the sidecars').
  std::optional<int> containerCpu;
  std::optional<int> containerMemory;
  /// The service's ECS file (CreateService or CreateTaskSet input) whose launch type or
  /// capacity provider strategy, platform version and network configuration the task runs with.
  std::string placementFile;
  /// Where the container's output goes in CloudWatch Logs: the log group, and the
  /// stream's name before the task's id. None when the logs go elsewhere (FireLens).
  std::optional<std::string> logGroup;
  std::optional<std::string> logStreamPrefix;
  double timeoutSeconds = 600;
  bool operator==(const RunTask&) const = default;
};

/// ECS's own strategy (engine `ecs`): UpdateService to the new revision with the
/// service file's deployment configuration and load balancers, which starts an ECS
/// deployment of the service's strategy (BLUE_GREEN, CANARY, LINEAR).
struct StartDeployment {
  bool operator==(const StartDeployment&) const = default;
};
/// ECS's own strategy: follows the deployment ECS runs until it succeeds, fails or
/// rolls back, at most `timeoutSeconds`. `shifts` are the production traffic shifts
/// ECS plans (weights rising to 100, each with its bake): what progress reports.
struct FollowDeployment {
  std::vector<Shift> shifts;
  double timeoutSeconds = 0;
  bool operator==(const FollowDeployment&) const = default;
};

/// One step of a rollout; executors `std::visit` it. The alternatives are in the
/// order of `StepKind`.
using Step = std::variant<RegisterTaskDefinition, UpdateService, WaitStable, Hold, CreateTaskSet, Shift, PromoteTaskSet,
                          RetireTaskSet, StartDeployment, FollowDeployment, RunTask>;

/// The kind of a step, one per alternative of `Step` (same order).
enum class StepKind {
  RegisterTaskDefinition,
  UpdateService,
  WaitStable,
  Hold,
  CreateTaskSet,
  Shift,
  PromoteTaskSet,
  RetireTaskSet,
  StartDeployment,
  FollowDeployment,
  RunTask,
};
inline constexpr std::size_t kStepKinds = std::variant_size_v<Step>;

inline StepKind kindOf(const Step& s) { return static_cast<StepKind>(s.index()); }
/// The step's `action` in the JSON: `register_task_definition`, `shift`, ...
std::string_view actionName(StepKind k);
inline std::string_view actionName(const Step& s) { return actionName(kindOf(s)); }
/// The kind named `action`, or nullopt.
std::optional<StepKind> stepKind(std::string_view action);
/// Whether the step works on task sets (create, shift, promote, retire): the steps of
/// a service whose controller is EXTERNAL, besides registering and running tasks.
bool isTaskSetStep(StepKind k);
/// Whether the step starts or follows a deployment ECS runs itself (engine `ecs`).
bool isNativeStep(StepKind k);
/// Whether every controller runs the step: registering the task definition and a
/// one-off task (`run_task`), the steps that come before any traffic moves.
bool isPrepareStep(StepKind k);

// --- services and jobs ------------------------------------------------------------

enum class Strategy { Rolling, BlueGreen, Canary, Linear };
enum class StrategySource { Service, Environment, Default, Fallback };
/// ECS rolls the service (or runs its own strategy, engine `ecs`); EXTERNAL: gops
/// shifts traffic between task sets.
enum class Controller { Ecs, External };
/// Who runs a traffic-shifting rollout: gops (task sets, controller EXTERNAL) or ECS's
/// own strategy (controller ECS). `engine` is written only when it is `ecs`.
enum class Engine { Gops, Ecs };
enum class Color { Blue, Green };
/// `rollback.on`, in the order the plan lists them.
enum class Trigger { Alarm, UnhealthyTargets, FailedTasks, CircuitBreaker, Timeout };
/// `rollback.restores`.
enum class Restore {
  ListenerWeights,
  DeleteNewTaskSet,
  PrimaryTaskSet,
  PreviousTaskDefinition,
  DesiredCount,
  PreviousServiceRevision,  ///< engine `ecs`: ECS's rollback to the revision before the deployment, traffic included
};

struct Autoscale {
  int min = 0;
  int max = 0;
  bool operator==(const Autoscale&) const = default;
};

struct TargetGroup {
  std::string name;
  std::string arn;          ///< a `{{tf:...}}` placeholder
  std::string taskSetFile;  ///< CreateTaskSet input behind this group; empty (not written) for engine `ecs`
  bool operator==(const TargetGroup&) const = default;
};

/// How traffic reaches a traffic-shifting service: the listener rules whose weights
/// the shifts set (gops) or ECS moves (engine `ecs`: the first is the production
/// rule), and the two target groups.
struct Traffic {
  std::vector<std::string> listenerRules;  ///< `{{tf:...}}` placeholders, at least one
  TargetGroup blue;
  TargetGroup green;
  const TargetGroup& group(Color c) const { return c == Color::Blue ? blue : green; }
  bool operator==(const Traffic&) const = default;
};

/// What the runtime watches during every wait and hold.
struct Watch {
  std::vector<std::string> alarms;  ///< watched by every deploy of the service
  /// `alarms_by_new_color`: task-set services with a comparison with the stable
  /// version (`stable + X`). A deploy whose new task set goes behind the blue target
  /// group also watches `newBlue`, one behind green `newGreen`: each compares that
  /// colour with the other. Both empty, or both of the same length.
  std::vector<std::string> newBlue;
  std::vector<std::string> newGreen;
  bool targetHealth = false;
  bool failedTasks = true;

  /// Whether some alarms depend on the colour of the new version.
  bool byNewColor() const { return !newBlue.empty() || !newGreen.empty(); }
  /// The alarms a deploy whose new version goes behind `c` watches: `alarms`, then that colour's.
  std::vector<std::string> alarmsFor(Color c) const;
  /// Every alarm the service's deploys watch, whatever the colour: `alarms`, then
  /// the blue ones, then the green ones (what `status`, `drift` and `promote` read).
  std::vector<std::string> allAlarms() const;
  bool operator==(const Watch&) const = default;
};

struct Rollback {
  std::vector<Trigger> on;
  std::vector<Restore> restores;
  bool triggers(Trigger t) const;
  bool operator==(const Rollback&) const = default;
};

struct Service {
  std::string name;
  std::string ecsService;
  std::string taskFamily;
  std::string serviceFile;  ///< CreateService input
  std::vector<std::string> dependsOn;
  int desiredCount = 0;
  std::optional<Autoscale> autoscale;
  Strategy strategy = Strategy::Rolling;
  StrategySource strategySource = StrategySource::Default;
  Controller controller = Controller::Ecs;
  Engine engine = Engine::Gops;
  std::optional<Traffic> traffic;  ///< present exactly when the controller is EXTERNAL or the engine `ecs`
  std::vector<Step> steps;         ///< register_task_definition first
  Watch watch;
  Rollback rollback;
  double timeoutSeconds = 0;
  bool operator==(const Service&) const = default;
};

struct Job {
  std::string name;
  std::string taskFamily;
  std::string schedule;     ///< the EventBridge Scheduler schedule
  std::vector<Step> steps;  ///< one register_task_definition
  bool operator==(const Job&) const = default;
};

// --- the plan ---------------------------------------------------------------------

enum class GateKind { TestsPassed, SecurityScan, Approval, Soak };

struct Requirement {
  GateKind kind = GateKind::TestsPassed;
  double seconds = 0;  ///< Soak only
  bool operator==(const Requirement&) const = default;
};

/// One `promote FROM -> <env>` rule.
struct Gate {
  std::string from;
  std::vector<Requirement> require;
  bool operator==(const Gate&) const = default;
};

struct Plan {
  std::string notice;  ///< the `"//"` member: which spec the plan was generated from
  std::string app;
  std::string environment;
  std::string account;
  std::string region;
  std::string cluster;
  std::string ledger;  ///< SSM path of the ledger
  std::string lock;    ///< SSM parameter of the lock
  std::vector<Gate> gates;
  std::vector<std::string> tests;
  /// Deployment waves of service names: a wave's services deploy in parallel, after
  /// every service of the waves before it.
  std::vector<std::vector<std::string>> order;
  std::vector<Service> services;  ///< sorted by name
  std::vector<Job> jobs;          ///< sorted by name

  /// The service named `name`, or null.
  const Service* service(std::string_view name) const;
  /// The gate of the promotion from `from` into this environment, or null.
  const Gate* gateFrom(std::string_view from) const;
  bool operator==(const Plan&) const = default;
};

// --- the names the JSON spells ----------------------------------------------------

std::string_view toString(Strategy v);
std::string_view toString(StrategySource v);
std::string_view toString(Controller v);
std::string_view toString(Engine v);
std::string_view toString(Color v);
std::string_view toString(Trigger v);
std::string_view toString(Restore v);
std::string_view toString(GateKind v);
std::string_view toString(TargetGroupChoice v);
std::string_view toString(TaskSetChoice v);
inline Color other(Color c) { return c == Color::Blue ? Color::Green : Color::Blue; }

}  // namespace gops::plan
