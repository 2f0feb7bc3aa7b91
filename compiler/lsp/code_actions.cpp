// Code actions: the fixes the checker attached to its diagnostics (did-you-mean
// replacements, missing units, a literal secret moved to `ssm(...)`, ...).
#include "lsp/features.h"

namespace gops::lsp {

std::vector<QuickFix> quickFixes(const Snapshot& s, FileId file, std::uint32_t begin, std::uint32_t end) {
  std::vector<QuickFix> out;
  for (std::size_t i = 0; i < s.diagnostics.size(); ++i) {
    const auto& d = s.diagnostics[i];
    const SourceRange& r = d.primary.range;
    if (r.file != file || r.end < begin || r.begin > end) continue;
    for (const auto& f : d.fixes) {
      bool ok = !f.edits.empty();
      for (const auto& e : f.edits) ok = ok && e.range.valid();
      if (ok) out.push_back({i, f});
    }
  }
  return out;
}

}  // namespace gops::lsp
