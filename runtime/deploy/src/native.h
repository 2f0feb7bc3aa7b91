#pragma once
// The native executor of services whose rollout ECS runs itself (engine `ecs`,
// docs/runtime.md, The two engines): `start_deployment` updates the service to the
// new revision with the compiled deployment configuration (strategy, bake, alarms),
// which starts an ECS deployment; `follow_deployment` follows it until ECS says it
// succeeded, failed or rolled back, reporting its phase and traffic weight. ECS shifts
// the production listener rule, bakes and rolls back on the alarms whatever happens to
// this process; gops asks ECS for the same rollback when it sees a reason first (an
// alarm, failed tasks, its timeout, a failed wave).
#include <set>
#include <string>

#include "executor.h"

namespace gops::deploy::exec {

class NativeExecutor : public Executor {
 public:
  using Executor::Executor;
  void observe(ServiceRun& r, const json& current) override;
  void step(ServiceRun& r, const plan::Step& step) override;
  void undo(ServiceRun& r, const std::function<void(const std::string&, const std::function<void()>&)>& attempt) override;
  std::vector<plan::Step> restoreSteps(ServiceRun& r, const json& current) override;
  void resumeState(ServiceRun& r, const json& current) override;
  std::size_t resumeIndex(const ServiceRun& r, std::size_t k) const override;

 private:
  /// What ECS says of the deployment at one look.
  struct Look {
    enum class State { Running, Succeeded, RollingBack, RolledBack, RollbackFailed, Stopped } state = State::Running;
    std::string reason;  ///< what ECS said (statusReason, rollback reason, triggered alarms)
  };

  void start(ServiceRun& r);
  void follow(ServiceRun& r, const plan::FollowDeployment& step);
  /// One look at the deployment: DescribeServiceDeployments when ECS names the
  /// service's current deployment, else DescribeServices' deployments. Reports a new
  /// phase or weight as it goes.
  Look look(ServiceRun& r);
  Look lookDeployment(ServiceRun& r, const json& sd);
  Look lookService(ServiceRun& r, const json& svc);
  /// Asks ECS to roll the deployment back (StopServiceDeployment ROLLBACK), or, where
  /// the deployment cannot be stopped, updates the service back to the previous
  /// revision; then waits until it runs it again.
  void rollBack(ServiceRun& r);
  /// The service file's deploymentConfiguration; for a restore, the same with an
  /// immediate blue/green switch and the alarms off (they are why one restores).
  json deploymentConfiguration(const ServiceRun& r) const;
  void report(ServiceRun& r, const std::string& event, const json& fields, const std::string& text);

  // Per service run; executors are per service (makeExecutor), so these are too.
  std::string lastPhase_;
  double lastWeight_ = -1;
  std::set<std::string> alarmsSeen_;
  bool rollingBack_ = false;  ///< ECS started the rollback itself
  std::string before_;        ///< the service's current deployment before this run (observe)
};

}  // namespace gops::deploy::exec
