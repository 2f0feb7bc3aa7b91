#pragma once
/// Loading an app: the files named on the command line (a directory stands for all
/// its `.gops` files), then their imports, transitively.
#include <map>
#include <string>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "support/source.h"
#include "syntax/ast.h"
#include "syntax/parser.h"

namespace gops::sema {

struct LoadOptions {
  /// Directory holding `std/*.gops`.
  std::string stdlibDir;
  /// Unsaved editor contents by absolute path; read instead of the disk.
  std::map<std::string, std::string> overlays;
  /// Files larger than this are refused (E0008).
  std::size_t maxFileBytes = 32u << 20;
  syntax::ParseLimits parse;
  /// Takes ANTLR's state of every parse instead of freeing it at once (syntax::ParseResidue).
  syntax::ParseResidue* residue = nullptr;
};

struct Import {
  FileId from;
  FileId to;  ///< kNoFile when not found
  SourceRange range;
  std::string path;
};

struct Program {
  SourceManager sources;
  std::vector<ast::File> files;       ///< indexed by FileId
  std::vector<std::string> realPaths; ///< absolute, canonical path of each file
  std::vector<bool> stdlib;           ///< whether the file comes from the standard library
  std::vector<FileId> entries;        ///< the files the user named
  std::vector<Import> imports;
  /// Problems that are not about the spec: missing paths, unreadable files (exit 2).
  std::vector<std::string> ioErrors;
};

/// Loads and parses everything. Diagnostics for syntax, imports and import cycles
/// go to `diags`; input/output failures to Program::ioErrors.
Program loadProgram(const std::vector<std::string>& paths, const LoadOptions& options, diag::DiagnosticEngine& diags);

/// Names of the standard modules available ("std/rollouts", ...).
std::vector<std::string> stdlibModules(const std::string& stdlibDir);

/// Where the standard library is: $GOPS_STDLIB, then next to the executable
/// (`<exe>/../share/gops/stdlib`), then the source tree the binary was built from.
std::string findStdlib(const std::string& executablePath, const std::string& builtInSourceDir);

}  // namespace gops::sema
