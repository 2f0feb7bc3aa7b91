#pragma once
/// The versioned store of open documents (what the editor has, saved or not).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lsp/positions.h"

namespace gops::lsp {

struct Draft {
  std::string text;
  std::int64_t version = 0;
};

/// One change of textDocument/didChange: a range edit, or the whole text when
/// `range` is absent.
struct TextChange {
  std::optional<Range> range;
  std::string text;
};

class DraftStore {
 public:
  /// Opens (or reopens, replacing) a document.
  void open(const std::string& path, std::string text, std::int64_t version);
  /// Applies changes in order. Returns false (and changes nothing) when the
  /// document is not open. Ranges outside the text are clamped.
  bool change(const std::string& path, const std::vector<TextChange>& changes, std::int64_t version);
  /// Closes a document; closing one that is not open is harmless.
  bool close(const std::string& path);
  const Draft* get(const std::string& path) const;
  const std::map<std::string, Draft>& all() const { return drafts_; }

 private:
  std::map<std::string, Draft> drafts_;
};

}  // namespace gops::lsp
