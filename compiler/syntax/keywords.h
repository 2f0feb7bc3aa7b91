#pragma once
/// Private to the syntax layer: the keywords and units of keywords.def with the token
/// types of the generated lexer.
#include <cstddef>
#include <string_view>

#include "GopsLexer.h"

namespace gops::syntax {

enum class KeywordKind { Decl, Clause, Literal };

struct Keyword {
  std::string_view text;
  std::size_t type;  ///< grammar::GopsLexer::<TOKEN>
  KeywordKind kind;
};

inline constexpr Keyword kKeywords[] = {
#define GOPS_KEYWORD(Token, Text, Kind) {Text, grammar::GopsLexer::Token, KeywordKind::Kind},
#include "syntax/keywords.def"
};

inline constexpr std::string_view kUnits[] = {
#define GOPS_UNIT(Text) Text,
#include "syntax/keywords.def"
};

/// The keyword whose token type is `type`, or nullptr.
constexpr const Keyword* keywordOf(std::size_t type) {
  for (const Keyword& k : kKeywords) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

/// Whether the grammar's `name` rule accepts a token of type `type`: an identifier, a
/// unit, or a keyword that is not a literal.
constexpr bool isNameToken(std::size_t type) {
  if (type == grammar::GopsLexer::IDENT || type == grammar::GopsLexer::UNIT) return true;
  const Keyword* k = keywordOf(type);
  return k && k->kind != KeywordKind::Literal;
}

}  // namespace gops::syntax
