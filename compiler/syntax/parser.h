#pragma once
/// Parsing: source text -> gops AST, with syntax errors in plain words.
#include <vector>

#include "diagnostics/diagnostic.h"
#include "support/source.h"
#include "syntax/ast.h"

namespace gops::syntax {

struct ParseLimits {
  /// Deepest nesting of `{`, `[` and `(` accepted; deeper input is refused whole so
  /// the recursive parser can never exhaust the stack.
  unsigned maxDepth = 100;
  /// Syntax errors reported per file before giving up on it.
  unsigned maxErrors = 50;
};

/// Parses one file. Syntax diagnostics (E0001-E0007) go to `diags`; the returned AST
/// holds everything that could be recovered.
ast::File parseFile(const SourceFile& file, diag::DiagnosticEngine& diags, const ParseLimits& limits = {});

/// Lexical classes, for editors (semantic tokens) and the formatter.
enum class TokenClass { Keyword, Name, String, Number, Unit, Cidr, Operator, Punctuation, Comment, DocComment, Invalid };

struct Token {
  TokenClass cls;
  SourceRange range;
};

/// Every token of a file including comments, in order. Never fails: invalid input
/// yields Invalid tokens.
std::vector<Token> lexFile(const SourceFile& file);

/// The language's keywords, for completion and did-you-mean.
const std::vector<std::string>& keywords();

}  // namespace gops::syntax
