// The checker: runs the passes of sema/checking.h in order.
#include "sema/checker.h"

#include <algorithm>

#include "sema/checking.h"

namespace gops::sema {

const char* toString(SymbolKind k) {
  switch (k) {
    case SymbolKind::App: return "app";
    case SymbolKind::Environment: return "environment";
    case SymbolKind::Template: return "template";
    case SymbolKind::Service: return "service";
    case SymbolKind::Job: return "job";
    case SymbolKind::Rollout: return "rollout";
  }
  return "?";
}

Analysis analyze(const Program& program, diag::DiagnosticEngine& diags) {
  detail::CheckState st(program, diags);
  st.inputErrors = diags.errorCount() > 0 || std::any_of(program.files.begin(), program.files.end(), [](const ast::File& f) { return !f.syntaxOk; });
  detail::collectDeclarations(st);
  detail::buildApp(st);
  detail::checkRolloutDecls(st);
  detail::buildEnvironments(st);
  detail::checkUnitDecls(st);
  detail::buildWorkloads(st);
  detail::reportHostClashes(st);
  detail::buildPromotions(st);
  detail::crossEnvironmentChecks(st);
  detail::orderEnvironments(st);
  for (const auto& use : st.eval.rolloutUses) st.addReference(SymbolKind::Rollout, use.name, use.range);
  st.out.hasApp = st.decls.app != nullptr;
  st.out.templates = st.decls.templates;
  return std::move(st.out);
}

}  // namespace gops::sema
