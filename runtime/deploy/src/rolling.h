#pragma once
// The rolling executor: ECS rolls the service to the new revision (update_service,
// wait_stable, hold); a rollback updates it back to the previous one.
#include "executor.h"

namespace gops::deploy::exec {

class RollingExecutor : public Executor {
 public:
  using Executor::Executor;
  void observe(ServiceRun&, const json&) override {}
  void step(ServiceRun& r, const plan::Step& step) override;
  void undo(ServiceRun& r, const std::function<void(const std::string&, const std::function<void()>&)>& attempt) override;
  std::vector<plan::Step> restoreSteps(ServiceRun& r, const json& current) override;
  void resumeState(ServiceRun& r, const json& current) override;
  std::size_t resumeIndex(const ServiceRun& r, std::size_t k) const override;

 private:
  void update(ServiceRun& r);
  bool stable(const ServiceRun& r);
};

}  // namespace gops::deploy::exec
