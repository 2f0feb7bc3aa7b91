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

  bool strategyBody(const ast::Value& v, model::Rollout& r, const EvalContext& ctx);
  std::optional<model::RollbackCondition> rollbackCondition(const ast::Stmt& s, const EvalContext& ctx);
  void mismatch(const ast::Value& v, Ty t, std::string_view attr, std::string help = {}, std::string fix = {});
  /// Checks a call's arguments: `positional` required strings, `named` optional names.
  bool callArgs(const ast::Value& v, std::size_t positionalMin, std::size_t positionalMax, const std::vector<std::string>& named);

  diag::DiagnosticEngine& diags_;
  const std::map<std::string, const ast::Decl*>& rollouts_;
  const std::vector<std::string>& stdlibRollouts_;
};

/// "the number `512`", "the string \"x\"", "`internal`" ... for messages.
std::string describeValue(const ast::Value& v);

}  // namespace gops::sema
