#include "lsp/drafts.h"

namespace gops::lsp {

void DraftStore::open(const std::string& path, std::string text, std::int64_t version) {
  drafts_[path] = Draft{std::move(text), version};
}

bool DraftStore::change(const std::string& path, const std::vector<TextChange>& changes, std::int64_t version) {
  auto it = drafts_.find(path);
  if (it == drafts_.end()) return false;
  std::string text = it->second.text;
  for (const auto& c : changes) {
    if (!c.range) {
      text = c.text;
      continue;
    }
    LineIndex index(text);
    std::uint32_t b = index.offsetOf(c.range->start);
    std::uint32_t e = index.offsetOf(c.range->end);
    if (e < b) std::swap(b, e);
    text.replace(b, e - b, c.text);
  }
  it->second.text = std::move(text);
  it->second.version = version;
  return true;
}

bool DraftStore::close(const std::string& path) { return drafts_.erase(path) > 0; }

const Draft* DraftStore::get(const std::string& path) const {
  auto it = drafts_.find(path);
  return it == drafts_.end() ? nullptr : &it->second;
}

}  // namespace gops::lsp
