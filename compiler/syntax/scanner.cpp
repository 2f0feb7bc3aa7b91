#include <algorithm>
#include <cstddef>
#include <string_view>

#include <fmt/format.h>

#include "GopsLexer.h"
#include "syntax/lexing.h"
#include "syntax/parser.h"

namespace gops::syntax {

using grammar::GopsLexer;

namespace {

/// A CommonToken whose fields are set directly: CommonToken's own constructor asks
/// its token source for the line and column (through a dynamic_cast per call).
class ScannedToken : public antlr4::CommonToken {
 public:
  ScannedToken(std::pair<antlr4::TokenSource*, antlr4::CharStream*> source, std::size_t type, std::size_t channel,
               std::size_t start, std::size_t stop, std::size_t line, std::size_t column)
      : antlr4::CommonToken(type) {
    _source = source;
    _channel = channel;
    _start = start;
    _stop = stop;
    _line = line;
    _charPositionInLine = column;
  }
  static void* operator new(std::size_t size, TokenArena& arena) { return arena.allocate(size); }
  static void operator delete(void*, TokenArena&) {}  // the constructor threw: the arena keeps the bytes
  static void operator delete(void*) {}                // owners delete tokens; the arena frees them
};

bool isDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool isLetter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isIdentStart(char32_t c) { return isLetter(c) || c == '_'; }
bool isIdentPart(char32_t c) { return isIdentStart(c) || isDigit(c); }
bool isSpace(char32_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

/// Every identifier-shaped literal of the grammar: the keywords and the spaced units.
struct Literal {
  std::string_view text;
  std::size_t type;
};
constexpr Literal kLiterals[] = {
#define GOPS_KEYWORD(Token, Text, Kind) {Text, GopsLexer::Token},
#define GOPS_UNIT(Text) {Text, GopsLexer::UNIT},
#include "syntax/keywords.def"
};
constexpr std::size_t kLongestLiteral =
    std::ranges::max(kLiterals, {}, [](const Literal& l) { return l.text.size(); }).text.size();

/// The token type of an identifier-shaped word: a keyword or a spaced unit when it is
/// one of their literals, else IDENT (the grammar lists those rules before IDENT).
std::size_t wordType(const std::u32string& d, std::size_t b, std::size_t e) {
  std::size_t n = e - b;
  if (n > kLongestLiteral) return GopsLexer::IDENT;
  for (const auto& lit : kLiterals) {
    if (lit.text.size() != n) continue;
    std::size_t k = 0;
    while (k < n && static_cast<char32_t>(lit.text[k]) == d[b + k]) ++k;
    if (k == n) return lit.type;
  }
  return GopsLexer::IDENT;
}

std::size_t digitsEnd(const std::u32string& d, std::size_t i) {
  while (i < d.size() && isDigit(d[i])) ++i;
  return i;
}

}  // namespace

void* TokenArena::allocate(std::size_t size) {
  constexpr std::size_t align = alignof(std::max_align_t);
  size = (size + align - 1) / align * align;
  if (used_ + size > kBlockSize) {
    blocks_.push_back(std::make_unique<std::byte[]>(std::max(kBlockSize, size)));
    used_ = 0;
  }
  void* p = blocks_.back().get() + used_;
  used_ += size;
  return p;
}

std::vector<std::unique_ptr<antlr4::Token>> scanTokens(LexedInput& input, antlr4::TokenSource* source, TokenArena& arena) {
  const std::u32string& d = input.codePoints();
  const std::size_t n = d.size();
  const std::pair<antlr4::TokenSource*, antlr4::CharStream*> from{source, &input.stream()};
  std::vector<std::unique_ptr<antlr4::Token>> out;
  out.reserve(n / 6 + 16);

  std::size_t line = 1, lineStart = 0;  // as ANTLR counts: lines from 1, columns in code points from 0
  std::size_t i = 0;
  // Moves past [i, to), counting the newlines in it.
  auto advance = [&](std::size_t to) {
    for (; i < to; ++i) {
      if (d[i] == '\n') {
        ++line;
        lineStart = i + 1;
      }
    }
  };
  auto emit = [&](std::size_t type, std::size_t end, std::size_t channel = antlr4::Token::DEFAULT_CHANNEL) {
    out.emplace_back(new (arena) ScannedToken(from, type, channel, i, end - 1, line, i - lineStart));
    advance(end);
  };

  while (i < n) {
    const char32_t c = d[i];
    const char32_t next = i + 1 < n ? d[i + 1] : 0;
    if (isSpace(c)) {  // WS: skipped
      std::size_t e = i;
      while (e < n && isSpace(d[e])) ++e;
      advance(e);
      continue;
    }
    if (c == 0xFEFF) {  // BOM: skipped
      advance(i + 1);
      continue;
    }
    if (isIdentStart(c)) {
      std::size_t e = i + 1;
      while (e < n && isIdentPart(d[e])) ++e;
      emit(wordType(d, i, e), e);
      continue;
    }
    if (isDigit(c)) {
      // NUMBER: DIGITS ('.' DIGITS)? then an optional [a-zA-Z%][a-zA-Z0-9%]* suffix.
      std::size_t a = digitsEnd(d, i);
      std::size_t b = a < n && d[a] == '.' && a + 1 < n && isDigit(d[a + 1]) ? digitsEnd(d, a + 1) : a;
      std::size_t numberEnd = b;
      if (b < n && (isLetter(d[b]) || d[b] == '%')) {
        numberEnd = b + 1;
        while (numberEnd < n && (isLetter(d[numberEnd]) || isDigit(d[numberEnd]) || d[numberEnd] == '%')) ++numberEnd;
      }
      // DOTTED: three or more dot-separated digit runs, then an optional '/' DIGITS;
      // always longer than a NUMBER when it matches.
      std::size_t parts = 1, e = a;
      while (e + 1 < n && d[e] == '.' && isDigit(d[e + 1])) {
        e = digitsEnd(d, e + 1);
        ++parts;
      }
      if (parts >= 3) {
        if (e + 1 < n && d[e] == '/' && isDigit(d[e + 1])) e = digitsEnd(d, e + 1);
        emit(GopsLexer::DOTTED, e);
      } else {
        emit(GopsLexer::NUMBER, numberEnd);
      }
      continue;
    }
    if (c == '"') {
      std::size_t e = i + 1;
      bool closed = false;
      while (e < n) {
        char32_t s = d[e];
        if (s == '\\') {
          if (e + 1 < n && d[e + 1] != '\r' && d[e + 1] != '\n') {
            e += 2;
            continue;
          }
          break;
        }
        if (s == '"') {
          closed = true;
          break;
        }
        if (s == '\r' || s == '\n') break;
        ++e;
      }
      if (closed) emit(GopsLexer::STRING, e + 1);
      else emit(GopsLexer::UNTERMINATED_STRING, e);
      continue;
    }
    if (c == '/' && next == '/') {
      std::size_t e = i + 2;
      while (e < n && d[e] != '\r' && d[e] != '\n') ++e;
      bool doc = i + 2 < n && d[i + 2] == '/';
      emit(doc ? GopsLexer::DOC_COMMENT : GopsLexer::LINE_COMMENT, e, GopsLexer::COMMENTS);
      continue;
    }
    if (c == '/' && next == '*') {
      std::size_t e = i + 2;
      while (e + 1 < n && !(d[e] == '*' && d[e + 1] == '/')) ++e;
      if (e + 1 < n) emit(GopsLexer::BLOCK_COMMENT, e + 2, GopsLexer::COMMENTS);
      else emit(GopsLexer::UNTERMINATED_COMMENT, n);
      continue;
    }
    std::size_t type = GopsLexer::ERROR_CHAR;
    std::size_t len = 1;
    switch (c) {
      case '{': type = GopsLexer::LBRACE; break;
      case '}': type = GopsLexer::RBRACE; break;
      case '[': type = GopsLexer::LBRACK; break;
      case ']': type = GopsLexer::RBRACK; break;
      case '(': type = GopsLexer::LPAREN; break;
      case ')': type = GopsLexer::RPAREN; break;
      case ',': type = GopsLexer::COMMA; break;
      case '=': type = GopsLexer::ASSIGN; break;
      case '+': type = GopsLexer::PLUS; break;
      case '-':
        if (next == '>') type = GopsLexer::ARROW, len = 2;
        break;
      case '>':
        if (next == '=') type = GopsLexer::GE, len = 2;
        else type = GopsLexer::GT;
        break;
      case '<':
        if (next == '=') type = GopsLexer::LE, len = 2;
        else type = GopsLexer::LT;
        break;
      default: break;
    }
    emit(type, i + len);
  }
  return out;
}

std::optional<std::string> scannerMismatch(std::string_view text) {
  LexedInput reference(text);
  GopsLexer lexer(&reference.stream());
  lexer.removeErrorListeners();
  std::vector<std::unique_ptr<antlr4::Token>> want = lexer.getAllTokens();
  LexedInput input(text);
  TokenArena arena;
  std::vector<std::unique_ptr<antlr4::Token>> got = scanTokens(input, &lexer, arena);
  auto describe = [&](const antlr4::Token* t) {
    if (!t) return std::string("no token");
    return fmt::format("{} (channel {}) code points {}..{} at {}:{}", lexer.getVocabulary().getSymbolicName(t->getType()),
                       t->getChannel(), t->getStartIndex(), t->getStopIndex(), t->getLine(), t->getCharPositionInLine());
  };
  for (std::size_t k = 0; k < std::max(want.size(), got.size()); ++k) {
    const antlr4::Token* w = k < want.size() ? want[k].get() : nullptr;
    const antlr4::Token* g = k < got.size() ? got[k].get() : nullptr;
    if (w && g && w->getType() == g->getType() && w->getChannel() == g->getChannel() &&
        w->getStartIndex() == g->getStartIndex() && w->getStopIndex() == g->getStopIndex() && w->getLine() == g->getLine() &&
        w->getCharPositionInLine() == g->getCharPositionInLine() && w->getText() == g->getText()) {
      continue;
    }
    return fmt::format("token {}: ANTLR's lexer gives {}, the scanner {}", k, describe(w), describe(g));
  }
  return std::nullopt;
}

}  // namespace gops::syntax
