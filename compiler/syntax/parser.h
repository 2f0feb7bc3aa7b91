#pragma once
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

/// What a parse leaves behind besides the AST: ANTLR's input, tokens and parse tree.
/// Freeing them costs about a fifth of the parse (a 1,000-service spec: ~100k tokens
/// and tree nodes). Without a residue `parseFile` frees them before it returns; with
/// one, its owner decides when: the language server after it has published the
/// diagnostics, a one-shot command never (the process exits). Thread-safe.
class ParseResidue {
 public:
  void keep(std::shared_ptr<void> part);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<void>> parts_;
};

/// Parses one file. Syntax diagnostics (E0001-E0007) go to `diags`; the returned AST
/// holds everything that could be recovered. ANTLR's state goes to `residue` when
/// given (see ParseResidue).
ast::File parseFile(const SourceFile& file, diag::DiagnosticEngine& diags, const ParseLimits& limits = {},
                    ParseResidue* residue = nullptr);

/// Lexical classes, for editors (semantic tokens) and the formatter.
enum class TokenClass { Keyword, Name, String, Number, Unit, Cidr, Operator, Punctuation, Comment, DocComment, Invalid };

struct Token {
  TokenClass cls;
  SourceRange range;
};

/// Every token of a file including comments, in order. Never fails: invalid input
/// yields Invalid tokens.
std::vector<Token> lexFile(const SourceFile& file);

/// For tests: lexes `text` with both the generated ANTLR lexer (grammar/GopsLexer.g4)
/// and the scanner gops uses, and describes the first token where they differ (type,
/// channel, position, line or column), or returns nothing when they agree.
std::optional<std::string> scannerMismatch(std::string_view text);

/// For tests: the token types of the lexer ANTLR generates from grammar/GopsLexer.g4,
/// indexed by type: each one's symbolic name (`APP`) and literal name (`'app'`; empty
/// for a rule that is not a single literal).
struct LexerTokenName {
  std::string symbolic;
  std::string literal;
};
std::vector<LexerTokenName> lexerVocabulary();

/// The language's keywords (syntax/keywords.def), for completion and did-you-mean.
const std::vector<std::string>& keywords();

}  // namespace gops::syntax
