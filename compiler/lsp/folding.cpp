// Folding ranges: bodies of declarations, blocks, overrides and strategy objects,
// multi-line lists, block comments and runs of line comments.
#include "lsp/features.h"

namespace gops::lsp {

namespace {

class Folder {
 public:
  Folder(const SourceFile& src, std::vector<Fold>& out) : src_(src), out_(out) {}

  void add(SourceRange r, bool comment = false) {
    if (!r.valid()) return;
    if (src_.lineCol(r.end).line > src_.lineCol(r.begin).line) out_.push_back({r, comment});
  }
  void value(const ast::Value& v) {
    if (v.kind == ast::ValueKind::List) add(v.range);
    if (v.kind == ast::ValueKind::Object) add(v.bodyRange);
    for (const auto& i : v.items) value(i);
    for (const auto& a : v.args) {
      for (const auto& av : a.value) value(av);
    }
    body(v.body);
  }
  void body(const std::vector<ast::Stmt>& stmts) {
    for (const auto& s : stmts) {
      if (s.kind == ast::StmtKind::Block || s.kind == ast::StmtKind::Override) add(s.bodyRange);
      for (const auto& v : s.values) value(v);
      body(s.body);
    }
  }

 private:
  const SourceFile& src_;
  std::vector<Fold>& out_;
};

}  // namespace

std::vector<Fold> foldingRanges(const ast::File& file, const SourceFile& source) {
  std::vector<Fold> out;
  Folder f(source, out);
  for (const auto& d : file.decls) {
    if (d.hasBody) f.add(d.bodyRange);
    for (const auto& v : d.value) f.value(v);
    f.body(d.body);
  }
  // Comments: block comments, and runs of line comments on consecutive lines.
  const auto& cs = file.comments;
  for (std::size_t i = 0; i < cs.size();) {
    if (cs[i].block) {
      f.add(cs[i].range, true);
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j + 1 < cs.size() && !cs[j + 1].block &&
           source.lineCol(cs[j + 1].range.begin).line == source.lineCol(cs[j].range.begin).line + 1 &&
           source.lineCol(cs[j + 1].range.begin).column == source.lineCol(cs[i].range.begin).column) {
      ++j;
    }
    if (j > i) f.add(SourceRange{cs[i].range.file, cs[i].range.begin, cs[j].range.end}, true);
    i = j + 1;
  }
  return out;
}

}  // namespace gops::lsp
