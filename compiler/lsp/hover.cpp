// Hover: declarations, attributes with their type, meaning and effective value in
// every environment, constructors and metrics with their documentation.
#include <fmt/format.h>

#include "lsp/features.h"
#include "lsp/selection.h"
#include "sema/tables.h"

namespace gops::lsp {

namespace {

bool isUnit(const ast::Decl& d) {
  return d.kind == ast::DeclKind::Service || d.kind == ast::DeclKind::Job || d.kind == ast::DeclKind::Template;
}

std::string declarationLine(const Snapshot& s, const sema::Symbol& sym) {
  std::string_view text = s.program.sources.textOf(sym.declRange);
  auto brace = text.find_first_of("{\n");
  std::string_view head = brace == std::string_view::npos ? text : text.substr(0, brace);
  while (!head.empty() && (head.back() == ' ' || head.back() == '\t' || head.back() == '\r')) head.remove_suffix(1);
  return std::string(head);
}

std::string symbolHover(const Snapshot& s, const sema::Symbol& sym) {
  std::string md = fmt::format("```gops\n{}\n```", declarationLine(s, sym));
  if (!sym.doc.empty()) md += "\n\n" + sym.doc;
  if (sym.declRange.valid() && sym.declRange.file < s.program.sources.size()) {
    const SourceFile& f = s.program.sources.file(sym.declRange.file);
    md += fmt::format("\n\n{} `{}`, declared in {}:{}", sema::toString(sym.kind), sym.name, f.path(), f.lineCol(sym.nameRange.begin).line);
  }
  return md;
}

}  // namespace

std::optional<HoverInfo> hover(const Snapshot& s, FileId file, std::uint32_t offset) {
  if (file >= s.program.files.size()) return std::nullopt;
  SourceRange hit;
  if (auto sym = symbolAt(s, file, offset, &hit)) return HoverInfo{hit, symbolHover(s, s.analysis.symbols[*sym])};

  Selection sel = select(s.program.files[file], offset);
  if (sel.nameAt) {
    const ast::Stmt& st = *sel.nameAt;
    if (st.kind == ast::StmtKind::Attr) {
      if (const sema::AttrSpec* spec = attrSpecAt(sel, st.name)) {
        std::string md = fmt::format("**{}**: {}\n\n{}", st.name, sema::describe(spec->type), spec->doc);
        if (sel.decl && isUnit(*sel.decl) && !sel.inRolloutStrategy) {
          auto values = effectiveValues(s, *sel.decl, sel.blockPath, st.name);
          if (!values.empty()) md += fmt::format("\n\n{}: {}", st.name, describeValues(values));
        }
        return HoverInfo{st.nameRange, md};
      }
    } else if (st.kind == ast::StmtKind::Block) {
      const sema::BlockSpec* b = sel.schema ? sel.schema->block(st.name) : nullptr;
      if (sel.block) b = nullptr;  // blocks do not nest
      if (b) return HoverInfo{st.nameRange, fmt::format("**{}** {{ ... }}\n\n{}", st.name, b->doc)};
    }
  }
  if (!sel.stmts.empty() && sel.stmts.back()->kind == ast::StmtKind::Rollback && sel.valueAt &&
      sel.valueAt == &sel.stmts.back()->values.front()) {
    if (const sema::MetricInfo* m = sema::findMetric(sel.valueAt->text)) {
      return HoverInfo{sel.valueAt->range, fmt::format("**{}** (metric)\n\n{}", m->name, m->doc)};
    }
  }
  if (const ast::Value* v = sel.valueAt) {
    bool named = v->kind == ast::ValueKind::Ref || v->kind == ast::ValueKind::Call || v->kind == ast::ValueKind::Object;
    SourceRange nameRange = v->kind == ast::ValueKind::Ref ? v->range : v->nameRange;
    if (named && nameRange.contains(offset)) {
      if (const sema::ValueDoc* d = sema::findValueDoc(v->text)) {
        return HoverInfo{nameRange, fmt::format("```gops\n{}\n```\n\n{}", d->signature, d->doc)};
      }
    }
  }
  return std::nullopt;
}

}  // namespace gops::lsp
