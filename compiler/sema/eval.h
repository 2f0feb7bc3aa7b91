#pragma once
/// Private to sema: evaluation of attribute values against their declared types.
/// Evaluation checks and converts in one go and reports every problem it finds. The
/// evaluation pass (sema/evaluate.h) evaluates each statement once per context it
/// depends on; eval.cpp has the scalar kinds, eval_values.cpp the constructors and
/// named values, eval_rollout.cpp the rollouts.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "model/model.h"
#include "sema/schema.h"
#include "syntax/ast.h"

namespace gops::sema {

/// What `${...}` may name where a value is evaluated.
struct EvalContext {
  const model::App* app = nullptr;
  /// The environment being resolved; null where no environment applies (the `app`
  /// block) or none is known yet (an unused template or rollout).
  const model::Environment* env = nullptr;
  bool envAllowed = true;
  /// The service or job being resolved (for `${service.name}`).
  const std::string* workload = nullptr;
  bool workloadAllowed = false;
};

/// The result of evaluating one value; only the fields of its type are set.
struct Val {
  bool ok = false;
  std::string s;
  double n = 0;
  std::vector<std::string> list;
  model::Image image;
  model::Expose expose;
  model::Secret secret;
  model::Schedule schedule;
  model::Rollout rollout;
  model::Deploy deploy;
  model::Network::Nat nat = model::Network::Nat::Single;
  model::Rollout::Engine engine = model::Rollout::Engine::Gops;
  model::Workload::Platform platform = model::Workload::Platform::X86_64;
  model::Capacity capacity;
  model::Task task;
  model::Grant grant;
  std::map<std::string, std::string> map;
  std::vector<model::Gate> gates;
  std::vector<std::pair<std::string, SourceRange>> names;
};

class Evaluator {
 public:
  Evaluator(diag::DiagnosticEngine& diags, const std::map<std::string, const ast::Decl*>& rollouts,
            const std::vector<std::string>& stdlibRollouts)
      : diags_(diags), rollouts_(rollouts), stdlibRollouts_(stdlibRollouts) {}

  /// Evaluates `v` as a value of type `t` for the attribute `attr`.
  Val eval(const ast::Value& v, Ty t, const EvalContext& ctx, std::string_view attr);
  /// `allow [actions] on [resources]`: the grant, each action `service:Action` and each
  /// resource an ARN of the app's partition (or `*`, with a warning).
  Val grant(const ast::Stmt& s, const BlockSpec& block, const EvalContext& ctx);

  /// Named rollouts referenced while evaluating (for references in the index).
  struct RolloutUse {
    std::string name;
    SourceRange range;
  };
  std::vector<RolloutUse> rolloutUses;

  diag::DiagnosticEngine& diags() { return diags_; }

 private:
  Val string(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  std::optional<std::string> interpolate(const ast::Value& v, const EvalContext& ctx);
  Val integer(const ast::Value& v, std::string_view attr);
  Val boolean(const ast::Value& v, std::string_view attr);
  Val duration(const ast::Value& v, std::string_view attr);
  Val percent(const ast::Value& v, std::string_view attr);
  Val size(const ast::Value& v, std::string_view attr);
  Val cpu(const ast::Value& v, std::string_view attr);
  Val cidr(const ast::Value& v, std::string_view attr);
  Val stringList(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val image(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val expose(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val secret(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val schedule(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val rollout(const ast::Value& v, const EvalContext& ctx, std::string_view attr, int depth = 0);
  Val deploy(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val nat(const ast::Value& v, std::string_view attr);
  Val gates(const ast::Value& v, std::string_view attr);
  Val nameList(const ast::Value& v, std::string_view attr);
  Val account(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val region(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val repository(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val engine(const ast::Value& v, std::string_view attr);
  Val platform(const ast::Value& v, std::string_view attr);
  Val capacity(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val task(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val existing(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val topic(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  Val logRouter(const ast::Value& v, std::string_view attr);
  Val stringMap(const ast::Value& v, const EvalContext& ctx, std::string_view attr);
  /// The statements of an object value (`task { ... }`, `{ spot = 70% }`) against the
  /// attributes of `scope`, filled into `out` through the table; false on a problem.
  template <class T>
  bool objectBody(const ast::Value& v, Scope scope, const EvalContext& ctx, std::string_view what, T& out);

  bool strategyBody(const ast::Value& v, model::Rollout& r, const EvalContext& ctx);
  /// `engine = ecs`: whether ECS's native strategy can run `ro` (E0510 when not).
  bool checkEcsEngine(const ast::Value& v, const model::Rollout& ro, const ast::Stmt* engine, const ast::Stmt* baselineRule);
  std::optional<model::RollbackCondition> rollbackCondition(const ast::Stmt& s, const EvalContext& ctx);
  void mismatch(const ast::Value& v, Ty t, std::string_view attr, std::string help = {}, std::string fix = {});
  /// Checks a call's arguments: `positional` required strings, `named` optional names.
  bool callArgs(const ast::Value& v, std::size_t positionalMin, std::size_t positionalMax, const std::vector<std::string>& named);

  diag::DiagnosticEngine& diags_;
  const std::map<std::string, const ast::Decl*>& rollouts_;
  const std::vector<std::string>& stdlibRollouts_;
};

/// Why `arn` is not an ARN of `partition` (and of `service`, when given), or nullopt.
std::optional<std::string> arnProblem(std::string_view arn, std::string_view partition, std::string_view service);

/// "the number `512`", "the string \"x\"", "`internal`" ... for messages.
std::string describeValue(const ast::Value& v);

}  // namespace gops::sema
