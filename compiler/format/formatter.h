#pragma once
/// Canonical formatting of gops source (`gops fmt`). One style, no options.
#include <string>

#include "support/source.h"
#include "syntax/ast.h"

namespace gops::format {

/// The canonical text of a file that parsed without syntax errors. Comments are
/// kept; the result parses to the same AST (and so the same model), and formatting
/// it again changes nothing.
std::string formatFile(const SourceFile& file, const ast::File& tree);

}  // namespace gops::format
