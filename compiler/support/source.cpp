#include "support/source.h"

#include <algorithm>

#include "support/text.h"

namespace gops {

SourceFile::SourceFile(FileId id, std::string path, std::string text)
    : id_(id), path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (std::uint32_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') lineStarts_.push_back(i + 1);
  }
}

LineCol SourceFile::lineCol(std::uint32_t offset) const {
  if (offset > text_.size()) offset = static_cast<std::uint32_t>(text_.size());
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  auto line = static_cast<std::uint32_t>(it - lineStarts_.begin());
  std::uint32_t start = lineStarts_[line - 1];
  std::uint32_t column = 1 + static_cast<std::uint32_t>(
                                 utf8Length(std::string_view(text_).substr(start, offset - start)));
  return {line, column};
}

std::uint32_t SourceFile::lineStart(std::uint32_t line) const {
  if (line == 0) return 0;
  if (line > lineStarts_.size()) return static_cast<std::uint32_t>(text_.size());
  return lineStarts_[line - 1];
}

std::string_view SourceFile::lineText(std::uint32_t line) const {
  if (line == 0 || line > lineStarts_.size()) return {};
  std::uint32_t start = lineStarts_[line - 1];
  std::uint32_t end = line < lineStarts_.size() ? lineStarts_[line] : static_cast<std::uint32_t>(text_.size());
  std::string_view s = std::string_view(text_).substr(start, end - start);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::uint32_t SourceFile::offsetOf(LineCol pos) const {
  std::uint32_t start = lineStart(pos.line);
  std::string_view line = lineText(pos.line == 0 ? 1 : pos.line);
  std::size_t bytes = utf8Advance(line, pos.column > 0 ? pos.column - 1 : 0);
  return start + static_cast<std::uint32_t>(bytes);
}

FileId SourceManager::add(std::string path, std::string text) {
  auto id = static_cast<FileId>(files_.size());
  files_.push_back(std::make_unique<SourceFile>(id, std::move(path), std::move(text)));
  return id;
}

FileId SourceManager::find(std::string_view path) const {
  for (const auto& f : files_) {
    if (f->path() == path) return f->id();
  }
  return kNoFile;
}

std::string_view SourceManager::textOf(SourceRange r) const {
  if (!r.valid() || r.file >= files_.size()) return {};
  const std::string& t = files_[r.file]->text();
  if (r.begin > t.size() || r.end > t.size() || r.end < r.begin) return {};
  return std::string_view(t).substr(r.begin, r.end - r.begin);
}

}  // namespace gops
