#pragma once
/// Private to sema: the evaluation pass. Each statement of a service, job or
/// template is evaluated once for every context its value depends on: once in all
/// when it names no `${env.*}` or `${service.*}`, else once per environment (and per
/// unit, for a template's statement that names the service). Every problem is
/// reported by that one evaluation; the build pass reads the cached values.
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "sema/eval.h"
#include "sema/schema.h"
#include "syntax/ast.h"

namespace gops::sema::detail {

class Evaluation {
 public:
  Evaluation(Evaluator& eval, const std::map<std::string, const ast::Decl*>& rollouts) : eval_(eval), rollouts_(rollouts) {}

  /// The value of statement `s`, which sets attribute `a`, in `ctx`: evaluated as
  /// `a.type`, then held to the rules of that attribute alone (a port in 1-65535, a
  /// retention CloudWatch offers...; rules across attributes are the build's). A
  /// value that breaks them is reported and not ok.
  const Val& value(const ast::Stmt& s, const AttrSpec& a, const EvalContext& ctx);
  /// A line `allow [...] on [...]` of the clause block `block`: its grant.
  const Val& grant(const ast::Stmt& s, const BlockSpec& block, const EvalContext& ctx);
  /// The value of a map block's entry (`secrets { NAME = ... }`) of type `type`.
  const Val& value(const ast::Stmt& s, Ty type, const EvalContext& ctx);
  /// The value of an `env { NAME = "..." }` entry: a string, refused (not ok, with
  /// E0203 reported) when the name looks like a secret and the value is a literal.
  const Val& envVar(const ast::Stmt& s, const EvalContext& ctx, const std::string& appName);

  /// Evaluates every statement of a unit's layers that applies in environment
  /// `envName` (the unit's body and its `in envName` block, for each layer), so that
  /// problems in values that lose to an override are reported too.
  void evaluateUnit(const std::vector<const ast::Decl*>& layers, const std::string& envName, const EvalContext& ctx,
                    const std::string& appName);

  /// Evaluated values so far, and how many evaluations the cache saved (for tests).
  std::size_t evaluations() const { return evaluations_; }
  std::size_t hits() const { return hits_; }

 private:
  enum Uses : std::uint8_t { None = 0, Env = 1, Workload = 2 };
  struct Key {
    const ast::Stmt* stmt;
    const model::Environment* env;
    const std::string* workload;
    bool operator==(const Key& o) const { return stmt == o.stmt && env == o.env && workload == o.workload; }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      std::size_t h = std::hash<const void*>()(k.stmt);
      h = h * 31 + std::hash<const void*>()(k.env);
      return h * 31 + std::hash<const void*>()(k.workload);
    }
  };

  Key keyOf(const ast::Stmt& s, const EvalContext& ctx);
  void checkValue(const ast::Stmt& s, const AttrSpec& a, Val& v);
  /// Which parts of the context `v` reads: `${env.*}`, `${service.*}`, directly or
  /// through the named rollouts it refers to.
  std::uint8_t uses(const ast::Value& v, int depth = 0);

  Evaluator& eval_;
  const std::map<std::string, const ast::Decl*>& rollouts_;
  std::unordered_map<Key, Val, KeyHash> cache_;
  std::unordered_map<const ast::Stmt*, std::uint8_t> uses_;
  std::size_t evaluations_ = 0;
  std::size_t hits_ = 0;
};

}  // namespace gops::sema::detail
