#pragma once
// The task-set executor of blue/green, canary and linear services: a task set of the
// new revision behind the idle target group, the listener rules' weights shifted to
// it step by step, then promoted and the previous task set retired; a rollback puts
// the weights back, the previous task set primary and deletes the new one.
#include <map>

#include "executor.h"

namespace gops::deploy::exec {

/// The forward weights of a listener rule, by target group ARN (a plain forward
/// counts 100 for its group).
std::map<std::string, int> readListenerWeights(aws::AwsClient& aws, const std::string& ruleArn);

class TaskSetExecutor : public Executor {
 public:
  using Executor::Executor;
  void observe(ServiceRun& r, const json& current) override;
  void step(ServiceRun& r, const plan::Step& step) override;
  void undo(ServiceRun& r, const std::function<void(const std::string&, const std::function<void()>&)>& attempt) override;
  std::vector<plan::Step> restoreSteps(ServiceRun& r, const json& current) override;
  void resumeState(ServiceRun& r, const json& current) override;
  std::size_t resumeIndex(const ServiceRun& r, std::size_t k) const override;

 private:
  std::map<std::string, int> readWeights(const std::string& ruleArn) { return readListenerWeights(s_.cli(), ruleArn); }
  /// Every listener rule: `weight` to `to`, the rest to `from`.
  void setWeights(ServiceRun& r, const std::string& to, int weight, const std::string& from);
  void create(ServiceRun& r, const plan::CreateTaskSet& step);
  void shift(ServiceRun& r, const plan::Shift& step);
  void promote(ServiceRun& r);
  void retire(ServiceRun& r);
  /// A task set scaled to 0, then deleted.
  void removeTaskSet(const ServiceRun& r, const std::string& arn);
  void setColors(ServiceRun& r, const std::string& stableTg);
};

}  // namespace gops::deploy::exec
