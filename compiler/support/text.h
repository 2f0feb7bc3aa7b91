#pragma once
/// Small text utilities shared by every phase: UTF-8 handling, edit distance and
/// "did you mean" suggestions, joining words for messages.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gops {

/// Number of code points in valid UTF-8 (invalid bytes count as one each).
std::size_t utf8Length(std::string_view s);
/// Byte length of the first `codePoints` code points of `s` (clamped to s.size()).
std::size_t utf8Advance(std::string_view s, std::size_t codePoints);
/// Offset of the first byte that is not part of valid UTF-8, if any.
std::optional<std::size_t> firstInvalidUtf8(std::string_view s);
/// Replaces every invalid byte sequence by U+FFFD (so positions after it shift).
std::string sanitizeUtf8(std::string_view s);
/// Number of UTF-16 code units in valid UTF-8 text.
std::size_t utf16Length(std::string_view s);

/// Damerau-Levenshtein (optimal string alignment) distance, case-sensitive.
std::size_t editDistance(std::string_view a, std::string_view b);

/// The candidate closest to `name`, if it is close enough to be a plausible typo:
/// distance at most max(1, len/3), or equal ignoring case. Ties go to the first candidate.
std::optional<std::string> closestMatch(std::string_view name, const std::vector<std::string>& candidates);

/// "`a`, `b` or `c`" — each item in backticks.
std::string joinQuoted(const std::vector<std::string>& items, std::string_view lastSep = " or ");

/// Escapes a string for a gops string literal (without the quotes).
std::string escapeGopsString(std::string_view s);

bool startsWith(std::string_view s, std::string_view prefix);
bool endsWith(std::string_view s, std::string_view suffix);
std::string toUpper(std::string_view s);
std::string toLower(std::string_view s);

}  // namespace gops
