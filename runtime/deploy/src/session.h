#pragma once
// One `gops apply` or `gops rollback` of an environment (docs/runtime.md): what it
// reads, reports and records, and the state of each service it rolls out. The
// phases live in their own files: preflight.cpp, service.cpp (a service's steps),
// rolling.cpp, task_sets.cpp and native.cpp (the executors), watch.cpp (every wait and hold),
// rollback.cpp, resume.cpp, waves.cpp (the scheduler) and apply.cpp (the whole run).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gops/aws/client.h"
#include "gops/deploy/deploy.h"
#include "journal.h"
#include "ledger.h"
#include "plan/plan.h"
#include "reporter.h"
#include "util.h"

namespace gops::deploy::exec {

class Executor;

/// A service's rollout: what was live before, what this deploy created.
struct ServiceRun {
  const plan::Service* svc = nullptr;
  std::shared_ptr<Executor> executor;  ///< by the service's strategy (executor.h)
  std::string name, ecsService;
  bool external = false;  ///< controller EXTERNAL: task sets behind the plan's target groups
  bool existed = false;
  std::string prevTaskDef;
  int prevDesired = 0;
  std::string prevPrimaryTaskSet;
  std::vector<std::string> rules;  ///< the listener rules' ARNs
  std::string blueTg, greenTg, stableTg, idleTg;
  plan::Color idleColor = plan::Color::Green;
  std::string newTaskDef, newTaskSet;
  bool promoted = false;
  bool updated = false;           ///< rolling or native: the service was updated to the new revision
  std::string serviceDeployment;  ///< native: the ECS service deployment it started (empty where ECS names none)
  double weight = 0;
  std::string step;       ///< the current step's action (the ledger's `step`)
  std::string stepLabel;  ///< "3/7"
  std::string imageTag;   ///< what the new revision runs
  /// Where the rollout is: the index of the next step, once begun (beginService).
  std::size_t nextStep = 0;
  bool begun = false;
  /// While its before_deploy task runs: the wait is not interrupted by another
  /// service's failure or an alarm, only by its own timeout.
  bool inOneOffTask = false;
  /// The before_deploy task (the ledger record's `before_deploy`): its ARN, command,
  /// log group and stream, status, exit code. Null until it starts.
  json oneOffTask;
  std::vector<plan::Step> restoreSteps;  ///< a restore: the steps that restore the target revision
  // What runs this service, and how it ended.
  bool restoring = false;         ///< gops rollback, or a wave's rollback of a deployed service
  std::string restoreTarget;      ///< a restore: the revision (empty: from options or the ledger)
  std::optional<json> resumeRec;  ///< --resume: the ledger record of the dead deploy
  bool alreadyDone = false;       ///< --resume: the dead deploy had finished it
  bool skipped = false;           ///< not started: another service of its wave failed first
  /// Stopped before any traffic moved (its wave's before_deploy failed): nothing to roll back.
  bool aborted = false;
  bool ok = false;                ///< deployed (or restored)
  bool rollbackOk = true;         ///< after a failure: the rollback put everything back
  std::optional<StepFailed> failed;
  double seconds = 0;

  /// The steps this run executes: the plan's, or a restore's.
  const std::vector<plan::Step>& steps() const { return restoring ? restoreSteps : svc->steps; }
};

class Session {
 public:
  Session(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& o);

  /// The whole apply or rollback; returns its exit code (apply.cpp).
  int run();

  // --- what every phase uses
  /// The AWS client of the calling thread: a wave's worker threads each have their own.
  aws::AwsClient& cli();
  /// Sets the calling thread's client (null: the session's own).
  static void useClient(aws::AwsClient* client);
  /// The ECS JSON file `rel` next to the plan, placeholders filled (cached).
  json fileDoc(const std::string& rel);
  /// `s` with its placeholders filled.
  std::string fill(const std::string& s);
  /// The ECS service `name` (ACTIVE or DRAINING), or null.
  json describeService(const std::string& name);
  /// Writes the service's ledger record `services/<name>`.
  void record(ServiceRun& r, const std::string& status, const std::string& reason = "");
  const char* verb() const { return o_.rollback ? "rollback" : "apply"; }

  /// Every wait and hold of a rollout goes through here (watch.cpp): until `done`
  /// (a wait, when given) holds or `seconds` pass (a timeout for a wait, the end of a
  /// hold), looking every poll first at checkStop() (the lock's heartbeat renewed, the
  /// signals), then at stopRequested() and checkWatch() (neither for a restore).
  /// `status` is the live line's text. The one loop that sleeps during a rollout.
  void watch(ServiceRun& r, double seconds, const std::string& status, const std::function<bool()>& done,
             const std::string& what);
  /// A wait: `done` within `timeoutSeconds`, else a `timeout` failure.
  void waitFor(ServiceRun& r, double timeoutSeconds, const std::function<bool()>& done, const std::string& what);
  /// A hold: `seconds` watching.
  void hold(ServiceRun& r, double seconds, const std::string& what);

  /// Renews the lock's heartbeat when due and looks at the signals; throws StepFailed
  /// (trigger `interrupted` or `lock_lost`) when the session must change nothing more
  /// (watch.cpp). Every step and every poll calls it, restores and rollbacks included.
  void checkStop();
  /// The same without throwing: true when the session must stop at once.
  bool mustStop();

 private:
  // The executors carry out the steps of one service as part of the session.
  friend class Executor;
  friend class RollingExecutor;
  friend class TaskSetExecutor;
  friend class NativeExecutor;

  aws::AwsClient& aws_;
  const Bundle& b_;
  const ApplyOptions& o_;
  const plan::Plan& plan_;
  std::string cluster_, env_;
  Reporter report_;
  Journal journal_;
  Ledger ledger_;
  Lock lock_;
  std::string deployId_;
  std::string started_;
  /// Filled ECS files by path: every one is filled before anything changes (loadInputs).
  std::map<std::string, json> filled_;

  // apply.cpp
  void loadInputs();
  void registerJobs();
  /// Whether this run deploys (or restores) the service: --service, and the image tags.
  bool inScope(const std::string& service) const;
  int finish(int exitCode, json& summary);
  // preflight.cpp
  std::vector<std::string> preflight();
  // service.cpp
  void deployService(ServiceRun& r);
  /// What was live, where a resume or restore starts; the index of the first step to run.
  void beginService(ServiceRun& r);
  /// The steps of `r` from r.nextStep up to (not including) `end`.
  void runSteps(ServiceRun& r, std::size_t end);
  double plannedSeconds(const plan::Step& step) const;
  // run_task.cpp
  void runTask(ServiceRun& r, const plan::RunTask& step);
  std::string deadDeployTask(ServiceRun& r, const std::string& startedBy);
  void waitForOtherTasks(ServiceRun& r, const plan::RunTask& step, const std::string& startedBy);
  // watch.cpp
  /// Why a rollout must stop and roll back now whatever its watch says: another
  /// service of the wave failed (`wave`), a signal (`cancelled`), the lock's heartbeat
  /// could not be renewed for half its expiry (`heartbeat`).
  std::optional<StepFailed> stopRequested();
  /// Sleeps `seconds`, waking early when a signal arrives or the session must stop.
  void nap(double seconds);
  /// What the service's `watch` and `rollback.on` say to look at: alarms in ALARM,
  /// unhealthy targets of the new task set, failed tasks of the new deployment.
  std::optional<StepFailed> checkWatch(ServiceRun& r);
  // rollback.cpp
  bool rollback(ServiceRun& r, const StepFailed& why);
  void prepareRestore(ServiceRun& r, const json& current);
  std::string restoreTarget(ServiceRun& r);
  bool restoreDeployed(ServiceRun& done, const std::string& reason, json& summary);
  // recovery.cpp: a dead deploy, found before an apply and by rollback --if-dead
  struct DeadDeploy {
    json deploy;                     ///< its `deploy` record (status in_progress)
    LockState lock;                  ///< what is left of its lock
    std::string why;                 ///< why it is judged dead
    std::vector<std::string> where;  ///< its services in progress: `web (shift, weight 10%)`
  };
  /// The last deploy, when it died; else nullopt with `alive` saying why not (for messages).
  std::optional<DeadDeploy> findDeadDeploy(std::string& alive);
  /// The preflight's refusal of an environment whose last deploy died: what it was, and
  /// the two commands that fix it (an event `dead_deploy` in JSON).
  std::string deadDeployProblem(const DeadDeploy& d);
  /// rollback --if-dead: false (with the exit code) when there is nothing to do, or
  /// with --check; true to go on and roll the dead deploy back.
  bool prepareIfDead(int& exitCode);
  /// After taking the lock: the dead deploy is still the one found (nobody recovered it
  /// in between).
  bool stillDead();
  /// `gops apply SPEC --env ENV ...` / `gops rollback ...`: the commands that fix it.
  std::string fixCommand(const std::string& command, const std::string& extra = "") const;
  /// The end of a session stopped at once (a second signal, the grace time over, the
  /// lock lost): no rollback beyond what was done; the record stays in progress.
  int finishStopped(json& summary);

  // resume.cpp
  bool prepareResume(int& exitCode);
  void resumeState(ServiceRun& r, const json& current);
  std::size_t resumeIndex(ServiceRun& r);
  // waves.cpp
  void runWave(std::vector<ServiceRun>& runs);
  void runOne(ServiceRun& r);
  /// A wave's first phase for one service: its steps before any traffic moves.
  void prepareOne(ServiceRun& r);
  /// A wave whose first phase failed: every service stopped, its new revision deregistered.
  void abortWave(std::vector<ServiceRun>& runs);
  /// `f` for each run not done or skipped, at most --max-parallel at a time.
  void parallel(std::vector<ServiceRun>& runs, const std::function<void(ServiceRun&)>& f);
  ServiceRun newRun(const plan::Service& s);
  /// The tag this deploy gives workload `name`, or nullopt (not deployed).
  std::optional<std::string> tagOf(const std::string& name) const { return o_.imageTags.of(name); }

  std::mutex filledMutex_;
  std::vector<std::vector<const plan::Service*>> waves_;  ///< the plan's waves
  std::optional<json> previousDeploy_;  ///< the ledger's `deploy` record before this run
  std::optional<json> resumed_;         ///< --resume: the dead deploy's `deploy` record
  std::atomic<bool> waveFailed_{false};
  std::mutex waveMutex_;
  std::string waveFailure_;  ///< the service of the wave that failed first
  bool aborted_ = false;     ///< a wave stopped before any traffic moved (exit 1)
  std::vector<std::string> deployedBefore_;  ///< services deployed before a wave stopped (earlier waves, a resumed apply's)
  std::map<std::string, std::string> fileTags_;  ///< the image tag each task definition file is filled with

  // Signals and the lock's heartbeat (watch.cpp): what stops the session.
  std::mutex stopMutex_;
  std::atomic<bool> cancelled_{false};  ///< a first signal: roll back
  std::string cancelReason_;            ///< `cancelled (SIGTERM)`
  std::atomic<bool> heartbeatAtRisk_{false};
  std::atomic<bool> stopped_{false};    ///< stop at once: a second signal, the grace time over, the lock lost
  std::atomic<bool> lockLost_{false};
  std::string stopTrigger_, stopReason_;
  std::optional<DeadDeploy> dead_;      ///< rollback --if-dead: the dead deploy found
};

}  // namespace gops::deploy::exec
