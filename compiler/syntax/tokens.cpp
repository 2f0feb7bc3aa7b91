#include <antlr4-runtime.h>

#include "GopsLexer.h"
#include "syntax/keywords.h"
#include "syntax/lexing.h"
#include "syntax/parser.h"

namespace gops::syntax {

using grammar::GopsLexer;

LexedInput::LexedInput(std::string_view text) {
  std::u32string data;
  data.reserve(text.size());
  offsets_.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (b < 0x80) { n = 1; cp = b; }
    else if ((b & 0xE0) == 0xC0) { n = 2; cp = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { n = 3; cp = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { n = 4; cp = b & 0x07; }
    bool ok = n > 0 && i + n <= text.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (ok && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) {
      ok = false;
    }
    offsets_.push_back(static_cast<std::uint32_t>(i));
    if (ok) {
      data.push_back(cp);
      i += n;
    } else {
      data.push_back(U'\uFFFD');
      i += 1;
    }
  }
  offsets_.push_back(static_cast<std::uint32_t>(text.size()));
  stream_ = std::make_unique<Stream>(std::move(data));
}

namespace {
TokenClass classify(std::size_t type) {
  switch (type) {
#define GOPS_KEYWORD(Token, Text, Kind) case GopsLexer::Token:
#include "syntax/keywords.def"
      return TokenClass::Keyword;
    case GopsLexer::IDENT: return TokenClass::Name;
    case GopsLexer::STRING: case GopsLexer::UNTERMINATED_STRING: return TokenClass::String;
    case GopsLexer::NUMBER: return TokenClass::Number;
    case GopsLexer::UNIT: return TokenClass::Unit;
    case GopsLexer::DOTTED: return TokenClass::Cidr;
    case GopsLexer::ARROW: case GopsLexer::GE: case GopsLexer::LE: case GopsLexer::GT: case GopsLexer::LT: case GopsLexer::PLUS:
    case GopsLexer::ASSIGN:
      return TokenClass::Operator;
    case GopsLexer::LBRACE: case GopsLexer::RBRACE: case GopsLexer::LBRACK: case GopsLexer::RBRACK:
    case GopsLexer::LPAREN: case GopsLexer::RPAREN: case GopsLexer::COMMA:
      return TokenClass::Punctuation;
    case GopsLexer::LINE_COMMENT: case GopsLexer::BLOCK_COMMENT: case GopsLexer::UNTERMINATED_COMMENT:
      return TokenClass::Comment;
    case GopsLexer::DOC_COMMENT: return TokenClass::DocComment;
    default: return TokenClass::Invalid;
  }
}
}  // namespace

std::vector<Token> lexFile(const SourceFile& file) {
  LexedInput input(file.text());
  GopsLexer lexer(&input.stream());
  lexer.removeErrorListeners();
  std::vector<Token> out;
  TokenArena arena;
  for (const auto& t : scanTokens(input, &lexer, arena)) {
    out.push_back({classify(t->getType()), input.tokenRange(file.id(), t.get())});
  }
  return out;
}

std::vector<LexerTokenName> lexerVocabulary() {
  LexedInput input("");
  GopsLexer lexer(&input.stream());
  const antlr4::dfa::Vocabulary& vocabulary = lexer.getVocabulary();
  std::vector<LexerTokenName> out;
  for (std::size_t type = 0; type <= vocabulary.getMaxTokenType(); ++type) {
    out.push_back({vocabulary.getSymbolicName(type), vocabulary.getLiteralName(type)});
  }
  return out;
}

const std::vector<std::string>& keywords() {
  static const std::vector<std::string> kWords = [] {
    std::vector<std::string> words;
    for (const Keyword& k : kKeywords) words.emplace_back(k.text);
    return words;
  }();
  return kWords;
}

}  // namespace gops::syntax
