#pragma once
/// LSP positions: 0-based lines and UTF-16 code units, converted to and from the
/// byte offsets gops uses everywhere else. Every conversion clamps: a position past
/// the end of a line or of the document maps to that end, never to a failure.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gops::lsp {

struct Position {
  std::uint32_t line = 0;
  std::uint32_t character = 0;  ///< UTF-16 code units
  friend bool operator==(const Position&, const Position&) = default;
};

struct Range {
  Position start;
  Position end;
};

/// Line starts of one text, for repeated conversions.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  std::uint32_t offsetOf(Position p) const;
  Position positionOf(std::uint32_t offset) const;
  std::uint32_t lineCount() const { return static_cast<std::uint32_t>(starts_.size()); }

 private:
  std::string_view text_;
  std::vector<std::uint32_t> starts_;
};

/// `file:///a/b%20c.gops` -> `/a/b c.gops`; empty if not a file URI.
std::string pathFromUri(std::string_view uri);
/// `/a/b c.gops` -> `file:///a/b%20c.gops`.
std::string uriFromPath(std::string_view path);

}  // namespace gops::lsp
