// Inlay hints: after an attribute of a service, job or template whose value differs
// between environments (overridden in some, or set only in some `in ENV` blocks), the
// value in every environment.
#include "lsp/features.h"

namespace gops::lsp {

namespace {

void hintsIn(const Snapshot& s, const ast::Decl& d, const std::vector<ast::Stmt>& body, std::vector<std::string>& path,
             std::uint32_t begin, std::uint32_t end, std::vector<InlayHint>& out) {
  for (const auto& st : body) {
    if (st.range.end < begin || st.range.begin > end) continue;
    if (st.kind == ast::StmtKind::Block && path.empty()) {
      path.push_back(st.name);
      if (!st.label.empty()) path.push_back(st.label);
      hintsIn(s, d, st.body, path, begin, end, out);
      path.clear();
    }
    // `in prod { ... }` holds the same attributes: the hint shows the other environments.
    if (st.kind == ast::StmtKind::Override && path.empty()) hintsIn(s, d, st.body, path, begin, end, out);
    if (st.kind != ast::StmtKind::Attr || st.values.empty()) continue;
    auto values = effectiveValues(s, d, path, st.name);
    bool differs = false;
    for (const auto& v : values) differs = differs || v.text != values.front().text;
    if (differs) out.push_back({st.value().range.end, describeValues(values)});
  }
}

}  // namespace

std::vector<InlayHint> inlayHints(const Snapshot& s, FileId file, std::uint32_t begin, std::uint32_t end) {
  std::vector<InlayHint> out;
  if (file >= s.program.files.size()) return out;
  for (const auto& d : s.program.files[file].decls) {
    bool unit = d.kind == ast::DeclKind::Service || d.kind == ast::DeclKind::Job || d.kind == ast::DeclKind::Template;
    if (!unit || d.range.end < begin || d.range.begin > end) continue;
    std::vector<std::string> path;
    hintsIn(s, d, d.body, path, begin, end, out);
  }
  return out;
}

}  // namespace gops::lsp
