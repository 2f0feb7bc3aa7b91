#pragma once
/// Source files and positions. Every range in gops is a byte range into one file
/// owned by a SourceManager; lines and columns are computed on demand.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gops {

using FileId = std::uint32_t;
inline constexpr FileId kNoFile = 0xffffffffu;

/// A half-open byte range [begin, end) in one file.
struct SourceRange {
  FileId file = kNoFile;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;

  bool valid() const { return file != kNoFile; }
  bool contains(std::uint32_t offset) const { return offset >= begin && offset <= end; }
  static SourceRange join(SourceRange a, SourceRange b) {
    if (!a.valid()) return b;
    if (!b.valid()) return a;
    return {a.file, a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end};
  }
  friend bool operator==(const SourceRange&, const SourceRange&) = default;
  friend auto operator<=>(const SourceRange&, const SourceRange&) = default;
};

/// A 1-based line and column. Columns count Unicode code points (what a person sees
/// in most editors); the LSP layer converts to UTF-16 itself.
struct LineCol {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

class SourceFile {
 public:
  SourceFile(FileId id, std::string path, std::string text);

  FileId id() const { return id_; }
  /// The path as given (absolute or relative to the working directory).
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  std::uint32_t lineCount() const { return static_cast<std::uint32_t>(lineStarts_.size()); }

  LineCol lineCol(std::uint32_t offset) const;
  /// Byte offset of a 1-based line and code-point column, clamped to the file.
  std::uint32_t offsetOf(LineCol pos) const;
  /// The text of a 1-based line without its line terminator.
  std::string_view lineText(std::uint32_t line) const;
  std::uint32_t lineStart(std::uint32_t line) const;

 private:
  FileId id_;
  std::string path_;
  std::string text_;
  std::vector<std::uint32_t> lineStarts_;
};

/// Owns every source file of one compilation. Files are never removed, so FileIds
/// and references to files stay valid for the manager's lifetime.
class SourceManager {
 public:
  FileId add(std::string path, std::string text);
  const SourceFile& file(FileId id) const { return *files_.at(id); }
  std::size_t size() const { return files_.size(); }
  /// The file with this exact path, or kNoFile.
  FileId find(std::string_view path) const;

  std::string_view textOf(SourceRange r) const;

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace gops
