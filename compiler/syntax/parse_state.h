#pragma once
/// Private to the syntax layer: what the three parts of parsing a file share. parser.cpp
/// drives the parse (tokens, ANTLR, the two prediction stages), error_messages.cpp turns
/// ANTLR's syntax errors into diagnostics in plain words, ast_builder.cpp converts the
/// parse tree into the gops AST.
#include <cstdint>
#include <memory>

#include <antlr4-runtime.h>

#include "GopsParser.h"
#include "diagnostics/diagnostic.h"
#include "support/source.h"
#include "syntax/ast.h"
#include "syntax/lexing.h"
#include "syntax/parser.h"

namespace gops::syntax {

/// Thrown to stop parsing a file once it has produced too many errors.
struct TooManyErrors {};

/// State shared by the error strategy and the AST builder for one file.
struct FileState {
  const SourceFile& file;
  const LexedInput& input;
  diag::DiagnosticEngine& diags;
  const ParseLimits& limits;
  antlr4::TokenStream* tokens = nullptr;
  unsigned errors = 0;
  /// An unterminated string swallowed a `}`: the block it closed is reported with the
  /// string, not again as unclosed at the end of the file.
  bool stringAteBrace = false;

  SourceRange range(const antlr4::Token* t) const { return input.tokenRange(file.id(), t); }
  SourceRange range(antlr4::ParserRuleContext* ctx) const {
    if (!ctx || !ctx->getStart()) return {};
    SourceRange a = range(ctx->getStart());
    const antlr4::Token* stop = ctx->getStop();
    if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) return a;
    return SourceRange::join(a, range(stop));
  }

  /// Counts one more error. False when the limit was reached before (report nothing);
  /// throws TooManyErrors, after saying so, when this error reaches it.
  bool countError();
};

/// The error strategy of the second (full LL) stage: reports each syntax error in
/// plain words (error_messages.cpp) and recovers as ANTLR's default strategy does.
std::shared_ptr<antlr4::ANTLRErrorStrategy> makeErrorStrategy(FileState& st);

/// Appends the declarations of the parse tree `tree` (may be null) to `out`
/// (ast_builder.cpp). Reports the problems only the tree shows (bad escapes, a second
/// unit) to `st.diags`.
void buildAst(FileState& st, grammar::GopsParser::FileContext* tree, ast::File& out);

}  // namespace gops::syntax
