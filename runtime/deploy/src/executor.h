#pragma once
// The executors: how a service's steps are carried out, by its strategy. Rolling
// services are rolled by ECS (rolling.cpp); blue/green, canary and linear services
// shift traffic between task sets (task_sets.cpp), and share that executor entirely:
// their steps are the same kinds, only their number, weights and holds differ, and
// those are the plan's. Services whose rollout ECS runs itself (engine `ecs`) have
// their own executor (native.cpp): it starts ECS's deployment and follows it. A
// strategy that works differently is a new Executor picked in makeExecutor.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "session.h"

namespace gops::deploy::exec {

class Executor {
 public:
  explicit Executor(Session& s) : s_(s) {}
  virtual ~Executor() = default;

  /// Before the first step: what is live besides the revision (the stable and idle
  /// target groups of a task-set service). `current` is DescribeServices' service or null.
  virtual void observe(ServiceRun& r, const json& current) = 0;
  /// Carries out one step (register_task_definition is registerStep's, the same for all).
  virtual void step(ServiceRun& r, const plan::Step& step) = 0;
  /// After a failure: puts back what this deploy changed, each part through
  /// `attempt(what, f)`, which reports it restored or records why it failed.
  virtual void undo(ServiceRun& r, const std::function<void(const std::string&, const std::function<void()>&)>& attempt) = 0;
  /// gops rollback: makes the service ready for a restore (a dead deploy's traffic put
  /// back, for task sets) and returns the steps that restore `r.newTaskDef`.
  virtual std::vector<plan::Step> restoreSteps(ServiceRun& r, const json& current) = 0;
  /// --resume: what the dead deploy left of the service, from the APIs.
  virtual void resumeState(ServiceRun& r, const json& current) = 0;
  /// --resume: `k`, the step the journal or ledger says to re-enter, corrected by what
  /// the APIs said (resumeState).
  virtual std::size_t resumeIndex(const ServiceRun& r, std::size_t k) const = 0;

  /// Registers the step's task definition: the first step of every strategy.
  void registerStep(ServiceRun& r, const plan::RegisterTaskDefinition& step);

 protected:
  Session& s_;
};

/// The executor of a service, by its strategy.
std::shared_ptr<Executor> makeExecutor(Session& s, const plan::Service& svc);

/// Registers the ECS task definition `doc` (a filled `*.taskdef.json`) of a service
/// or a job; returns its ARN.
std::string registerTaskDefinition(aws::AwsClient& aws, const json& doc);

/// Throws the DeployError of a step `executor` does not carry out (the reader lets
/// no such plan through).
[[noreturn]] void notMyStep(const ServiceRun& r, const plan::Step& step, const char* executor);

/// The index of the first step of kind `k` in `steps`, or steps.size().
std::size_t indexOf(const std::vector<plan::Step>& steps, plan::StepKind k);

/// A visitor from lambdas: std::visit(Overloaded{[](const plan::Shift&) {...}, ...}, step).
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace gops::deploy::exec
