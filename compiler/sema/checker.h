#pragma once
/// Checking: a loaded program -> the resolved model, with every problem reported.
#include <map>
#include <string>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "model/model.h"
#include "sema/loader.h"

namespace gops::sema {

enum class SymbolKind { App, Environment, Template, Service, Job, Rollout };

const char* toString(SymbolKind k);

/// A declared name, for go-to-definition, references, rename and outlines.
struct Symbol {
  SymbolKind kind;
  std::string name;
  SourceRange nameRange;
  SourceRange declRange;
  std::string doc;
};

/// A use of a declared name.
struct Reference {
  std::size_t symbol;  ///< index into Analysis::symbols
  SourceRange range;
};

struct Analysis {
  model::AppModel model;
  bool hasApp = false;
  std::vector<Symbol> symbols;
  std::vector<Reference> references;
  /// The templates by name as the checker resolved them (a user's shadows a standard
  /// one): with sema/resolve.h, what every attribute of a unit is in an environment.
  /// Points into the Program the analysis was made from.
  std::map<std::string, const ast::Decl*> templates;
};

/// Checks everything and builds the model. The model is complete only when no error
/// was reported; with errors it holds what could be resolved.
Analysis analyze(const Program& program, diag::DiagnosticEngine& diags);

}  // namespace gops::sema
