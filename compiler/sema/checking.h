#pragma once
/// Private to sema: what the checker's passes hand each other (sema/checker.cpp runs
/// them in order).
///
///   declare   declarations by kind, names checked, symbols     (declare.cpp)
///   shape     each body's statements against the schema         (shape.cpp)
///   resolve   per environment, the winning statement of every
///             attribute of a service, job or template            (resolve.cpp)
///   evaluate  each statement once per context it depends on     (evaluate.cpp)
///   build     the model from the evaluated values                (build_*.cpp)
///   checks    what needs the whole model: hostnames, cycles,
///             promotions, overlapping networks, the order        (checks.cpp)
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "model/model.h"
#include "sema/checker.h"
#include "sema/eval.h"
#include "sema/evaluate.h"
#include "sema/loader.h"
#include "sema/resolve.h"
#include "sema/schema.h"
#include "syntax/ast.h"

namespace gops::sema::detail {

/// The declarations of the program by kind. A user declaration shadows a standard
/// library one of the same name.
struct Declarations {
  const ast::Decl* app = nullptr;
  std::map<std::string, const ast::Decl*> envs;
  std::vector<const ast::Decl*> envOrder;  ///< as declared
  std::map<std::string, const ast::Decl*> templates;
  std::map<std::string, const ast::Decl*> workloads;  ///< services and jobs: one namespace
  std::map<std::string, const ast::Decl*> rollouts;
  std::vector<std::string> stdlibRollouts;  ///< names the standard library declares
  std::vector<const ast::Decl*> promotes;
};

/// The statements of one body, indexed, after its shape was checked: only names the
/// schema knows, each once.
struct BodyView {
  std::map<std::string, const ast::Stmt*> attrs;
  std::map<std::string, const ast::Stmt*> blocks;
  std::map<std::string, std::map<std::string, const ast::Stmt*>> fields;  ///< block -> field -> stmt
  std::vector<const ast::Stmt*> overrides;

  const ast::Stmt* attr(const std::string& name) const;
  const ast::Stmt* field(const std::string& block, const std::string& name) const;
};

enum class BodyMode { Plain, Unit, Override };

/// Everything the passes share: the input, the diagnostics, and what earlier passes
/// found. Each pass reads what the ones before it filled and adds its own part.
struct CheckState {
  CheckState(const Program& p, diag::DiagnosticEngine& d);

  const Program& prog;
  diag::DiagnosticEngine& diags;
  /// Errors from reading and parsing (a file refused whole, a declaration lost to a
  /// syntax error) explain a missing `app` or environment better than E0102/E0108.
  bool inputErrors = false;
  Analysis out;

  // declare
  Declarations decls;
  // shape
  std::map<std::string, BodyView> envViews;
  std::map<const ast::Decl*, BodyView> unitViews;
  // evaluate
  Evaluator eval;
  Evaluation evaluation;
  // build: where things are written, for the checks of the whole model
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<std::string>> hostClashes;  ///< (first, second, host) -> envs
  std::map<std::pair<std::string, std::string>, SourceRange> hostRanges;  ///< (service, host) -> where the host is written
  std::map<std::pair<std::string, std::string>, SourceRange> depRanges;   ///< (service, dependency) -> where `depends_on` names it

  bool isStdlib(const ast::Decl& d) const;
  /// The `extends` chain of a declaration, farthest template first, itself last.
  std::vector<const ast::Decl*> chain(const ast::Decl& d) const;

  // The index for the language server.
  void addSymbol(SymbolKind k, const ast::Decl& d);
  void addReference(SymbolKind k, const std::string& name, SourceRange range);
};

// declare.cpp
void collectDeclarations(CheckState& st);

// shape.cpp
BodyView checkShape(CheckState& st, const std::vector<ast::Stmt>& body, const Schema& schema, const std::string& owner, BodyMode mode,
                    ast::DeclKind unitKind = ast::DeclKind::Template);
/// Templates, services and jobs: their bodies and `extends`.
void checkUnitDecls(CheckState& st);
/// `what NAME has no `attr``, with `add `attr = sample``.
void reportMissing(CheckState& st, const ast::Decl& d, std::string_view what, std::string_view attr, std::string_view sample,
                   std::string extra = {});

// build_app.cpp: the app, named rollouts, environments and promotions
void buildApp(CheckState& st);
void checkRolloutDecls(CheckState& st);
void buildEnvironments(CheckState& st);
void buildPromotions(CheckState& st);

// build_workload.cpp: services and jobs in every environment
void buildWorkloads(CheckState& st);

// checks.cpp
void checkEnvironmentServices(CheckState& st, model::Environment& env);
/// W0511: the environment's deploy (its waves one after another) longer than a job may run.
void checkDeployLength(CheckState& st, const model::Environment& env);
void reportHostClashes(CheckState& st);
void checkPromotionCycles(CheckState& st, const std::map<std::pair<std::string, std::string>, const ast::Decl*>& declared);
void crossEnvironmentChecks(CheckState& st);
void orderEnvironments(CheckState& st);

}  // namespace gops::sema::detail
