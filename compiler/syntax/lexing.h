#pragma once
/// Private to the syntax layer: feeding source text to ANTLR and mapping ANTLR's
/// code-point indexes back to byte offsets.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <antlr4-runtime.h>

#include "support/source.h"

namespace gops::syntax {

/// The text as UTF-32 for ANTLR. Invalid UTF-8 bytes become U+FFFD, one code point per
/// byte, so every code point maps back to a byte offset.
class LexedInput {
 public:
  explicit LexedInput(std::string_view text);

  antlr4::ANTLRInputStream& stream() { return *stream_; }
  const std::u32string& codePoints() const { return stream_->codePoints(); }
  std::uint32_t byteOffset(std::size_t codePoint) const {
    return codePoint < offsets_.size() ? offsets_[codePoint] : offsets_.back();
  }
  SourceRange tokenRange(FileId file, const antlr4::Token* t) const {
    if (!t) return {};
    std::size_t start = t->getStartIndex();
    std::size_t stop = t->getStopIndex();
    if (t->getType() == antlr4::Token::EOF || start == static_cast<std::size_t>(-1)) {
      std::uint32_t end = offsets_.back();
      return {file, end, end};
    }
    std::uint32_t b = byteOffset(start);
    std::uint32_t e = stop + 1 >= start ? byteOffset(stop + 1) : b;
    return {file, b, e};
  }

 private:
  class Stream : public antlr4::ANTLRInputStream {
   public:
    explicit Stream(std::u32string data) {
      _data = std::move(data);
      p = 0;
    }
    const std::u32string& codePoints() const { return _data; }
  };
  std::vector<std::uint32_t> offsets_;  ///< byte offset of each code point, plus the end
  std::unique_ptr<Stream> stream_;
};

/// Storage for the scanner's tokens, released all at once. ANTLR owns each token
/// through a unique_ptr and deletes them one at a time, which with glibc's allocator
/// costs more than the scan itself at scale (a 10,000-service spec: 700k tokens, a
/// quarter of `gops check` in malloc_consolidate); a token from the arena ignores its
/// delete. The arena must outlive everything that holds its tokens.
class TokenArena {
 public:
  void* allocate(std::size_t size);

 private:
  static constexpr std::size_t kBlockSize = std::size_t{1} << 20;
  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  std::size_t used_ = kBlockSize;
};

/// Splits the input into the tokens of grammar/GopsLexer.g4 (skipped ones left out,
/// no EOF), exactly as the lexer ANTLR generates from it would (a unit test compares
/// the two on every spec in the repository and on generated inputs), at a small
/// fraction of its cost: ANTLR 4.9's lexer takes a lock on its DFA for every
/// character. Each token's source is `source` and the input's stream, so its text and
/// error recovery work as for the generated lexer's tokens.
/// The tokens live in `arena`.
std::vector<std::unique_ptr<antlr4::Token>> scanTokens(LexedInput& input, antlr4::TokenSource* source, TokenArena& arena);

}  // namespace gops::syntax
