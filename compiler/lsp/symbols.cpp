// Document symbols: an outline of declarations with their attributes, blocks and
// per-environment overrides.
#include "lsp/features.h"

namespace gops::lsp {

namespace {

OutlineKind kindOf(ast::DeclKind k) {
  switch (k) {
    case ast::DeclKind::App: return OutlineKind::App;
    case ast::DeclKind::Environment: return OutlineKind::Environment;
    case ast::DeclKind::Service: return OutlineKind::Service;
    case ast::DeclKind::Job: return OutlineKind::Job;
    case ast::DeclKind::Template: return OutlineKind::Template;
    case ast::DeclKind::Rollout: return OutlineKind::Rollout;
    case ast::DeclKind::Promote: return OutlineKind::Promotion;
    case ast::DeclKind::Import: return OutlineKind::Import;
  }
  return OutlineKind::Attribute;
}

std::vector<OutlineSymbol> body(const std::vector<ast::Stmt>& stmts) {
  std::vector<OutlineSymbol> out;
  for (const auto& s : stmts) {
    if (s.name.empty() || !s.range.valid()) continue;
    SourceRange sel = s.nameRange.valid() ? s.nameRange : s.range;
    switch (s.kind) {
      case ast::StmtKind::Attr: out.push_back({s.name, {}, OutlineKind::Attribute, s.range, sel, {}}); break;
      case ast::StmtKind::Block:
        out.push_back({s.label.empty() ? s.name : s.name + " " + s.label, {}, OutlineKind::Block, s.range, s.labelRange.valid() ? s.labelRange : sel,
                       body(s.body)});
        break;
      case ast::StmtKind::Override: out.push_back({"in " + s.name, {}, OutlineKind::Override, s.range, sel, body(s.body)}); break;
      case ast::StmtKind::Step:
      case ast::StmtKind::Rollback:
      case ast::StmtKind::Clause: break;
    }
  }
  return out;
}

}  // namespace

std::vector<OutlineSymbol> outline(const ast::File& file) {
  std::vector<OutlineSymbol> out;
  for (const auto& d : file.decls) {
    if (!d.range.valid()) continue;
    OutlineSymbol sym;
    sym.kind = kindOf(d.kind);
    sym.range = d.range;
    sym.selection = d.nameRange.valid() ? d.nameRange : d.keywordRange.valid() ? d.keywordRange : d.range;
    sym.detail = ast::declKeyword(d.kind);
    if (d.kind == ast::DeclKind::Promote) {
      sym.name = d.name + " -> " + d.base;
    } else if (d.kind == ast::DeclKind::Import) {
      sym.name = "\"" + d.name + "\"";
    } else {
      sym.name = d.name;
      if (!d.base.empty()) sym.detail += " extends " + d.base;
    }
    if (sym.name.empty() || sym.name == "\"\"" || sym.name == " -> ") sym.name = ast::declKeyword(d.kind);
    sym.children = body(d.body);
    out.push_back(std::move(sym));
  }
  return out;
}

}  // namespace gops::lsp
