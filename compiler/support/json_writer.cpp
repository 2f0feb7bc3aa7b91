#include "support/json_writer.h"

#include <array>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gops {

namespace {

constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

#if defined(__SSE2__)
/// Bit k set when byte k of the sixteen in `v` needs escaping in JSON (a quote, a
/// backslash or a control character).
int specialMask(__m128i v) {
  __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);  // unsigned v <= 0x1f
  __m128i quoteOrBackslash = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  return _mm_movemask_epi8(_mm_or_si128(quoteOrBackslash, control));
}
#endif

/// The index of the first byte at or after `i` that JSON needs escaped, or
/// `s.size()`. Sixteen bytes at a time where the CPU has SSE2 (every x86-64): nearly
/// every byte gops writes needs no escape.
std::size_t nextSpecial(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
  for (; i + 16 <= s.size(); i += 16) {
    int mask = specialMask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i)));
    if (mask) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < s.size(); ++i) {
    if (kNeedsEscape[static_cast<unsigned char>(s[i])]) return i;
  }
  return s.size();
}

}  // namespace

void JsonWriter::newline() {
  if (!pretty_) return;
  out_ += '\n';
  out_.append(stack_.size() * 2, ' ');
}

void JsonWriter::beforeValue() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (!stack_.empty()) {
    if (!stack_.back().empty) out_ += ',';
    stack_.back().empty = false;
    newline();
  }
}

JsonWriter& JsonWriter::beginObject() {
  beforeValue();
  out_ += '{';
  stack_.push_back({true});
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  beforeValue();
  out_ += '[';
  stack_.push_back({false});
  return *this;
}


JsonWriter& JsonWriter::key(std::string_view k) {
  beforeValue();
  out_ += '"';
  escape(out_, k);
  out_ += pretty_ ? "\": " : "\":";
  afterKey_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  beforeValue();
  out_ += '"';
  escape(out_, s);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n) {
  beforeValue();
  out_ += fmt::format_int(n).str();
  return *this;
}

JsonWriter& JsonWriter::value(double d) {
  beforeValue();
  out_ += number(d);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  beforeValue();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  beforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  beforeValue();
  out_ += json;
  return *this;
}

std::string JsonWriter::number(double d) {
  if (!std::isfinite(d)) return "null";
  if (d == std::floor(d) && std::fabs(d) < 9.0e15) return fmt::to_string(static_cast<std::int64_t>(d));
  return fmt::to_string(d);  // the shortest round-tripping form
}

void JsonWriter::escape(std::string& out, std::string_view s) {
  // Nearly every string gops writes needs no escape: one scan, one append.
  std::size_t i = nextSpecial(s, 0);
  out.append(s.data(), i);
  if (i == s.size()) return;
  // The rest holds escapes, often one every few bytes (policies and container
  // definitions are JSON inside JSON strings). Make room for two bytes per byte
  // (plus a 16-byte block of slack) and write through a pointer; the rare byte that
  // becomes `\u00XX` makes room for its other four.
  static constexpr char kHex[] = "0123456789abcdef";
  const std::size_t start = out.size();
  out.resize(start + 2 * (s.size() - i) + 16);
  char* p = out.data() + start;
  auto put = [&p, &out](unsigned char c) {
    *p++ = '\\';
    switch (c) {
      case '"': *p++ = '"'; break;
      case '\\': *p++ = '\\'; break;
      case '\n': *p++ = 'n'; break;
      case '\r': *p++ = 'r'; break;
      case '\t': *p++ = 't'; break;
      case '\b': *p++ = 'b'; break;
      case '\f': *p++ = 'f'; break;
      default: {
        const auto at = static_cast<std::size_t>(p - out.data());
        out.resize(out.size() + 4);
        p = out.data() + at;
        *p++ = 'u', *p++ = '0', *p++ = '0', *p++ = kHex[c >> 4], *p++ = kHex[c & 15];
      }
    }
  };
  put(static_cast<unsigned char>(s[i++]));
#if defined(__SSE2__)
  // Sixteen bytes at a time: store the block whole, then keep only the part before
  // its first special byte (if any), escape that byte, and go on after it.
  while (i + 16 <= s.size()) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
    int mask = specialMask(v);
    if (mask == 0) {
      p += 16;
      i += 16;
      continue;
    }
    auto k = static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    p += k;
    put(static_cast<unsigned char>(s[i + k]));
    i += k + 1;
  }
#endif
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (kNeedsEscape[c]) put(c);
    else *p++ = static_cast<char>(c);
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

}  // namespace gops
