#include "lsp/selection.h"

namespace gops::lsp {

using sema::Scope;

const sema::Schema* declSchema(ast::DeclKind kind) {
  switch (kind) {
    case ast::DeclKind::App: return &sema::schemaFor(Scope::App);
    case ast::DeclKind::Environment: return &sema::schemaFor(Scope::Environment);
    case ast::DeclKind::Service:
    case ast::DeclKind::Job:
    case ast::DeclKind::Template: return &sema::schemaFor(Scope::Unit);
    case ast::DeclKind::Promote: return &sema::schemaFor(Scope::Promote);
    case ast::DeclKind::Rollout:
    case ast::DeclKind::Import: return nullptr;
  }
  return nullptr;
}

const sema::Schema* strategySchema(const std::string& name) {
  if (name == "rolling") return &sema::schemaFor(Scope::Rolling);
  if (name == "blue_green") return &sema::schemaFor(Scope::BlueGreen);
  if (name == "canary") return &sema::schemaFor(Scope::Canary);
  if (name == "linear") return &sema::schemaFor(Scope::Linear);
  return nullptr;
}

namespace {

bool inside(SourceRange r, std::uint32_t offset) { return r.valid() && offset >= r.begin && offset <= r.end; }
/// Strictly between the braces of a body.
bool inBraces(SourceRange r, std::uint32_t offset) { return r.valid() && offset > r.begin && offset < r.end; }

class Walker {
 public:
  Walker(std::uint32_t offset, Selection& sel) : offset_(offset), sel_(sel) {}

  void body(const std::vector<ast::Stmt>& stmts) {
    for (const auto& s : stmts) {
      if (!inside(s.range, offset_)) continue;
      sel_.stmts.push_back(&s);
      if (inside(s.nameRange, offset_)) sel_.nameAt = &s;
      for (const auto& v : s.values) value(v);
      if ((s.kind == ast::StmtKind::Block || s.kind == ast::StmtKind::Override) && inBraces(s.bodyRange, offset_)) {
        sel_.inBody = true;
        if (s.kind == ast::StmtKind::Block) {
          sel_.blockPath.push_back(s.name);
          if (!s.label.empty()) sel_.blockPath.push_back(s.label);  // a named block: `sidecar envoy`
          sel_.block = sel_.schema ? sel_.schema->block(s.name) : nullptr;
          if (!sel_.block) sel_.schema = nullptr;
        } else {
          sel_.overrideEnv = s.name;
        }
        body(s.body);
      }
      return;
    }
  }

  void value(const ast::Value& v) {
    if (!inside(v.range, offset_)) return;
    sel_.valueAt = &v;
    for (const auto& item : v.items) value(item);
    for (const auto& a : v.args) {
      for (const auto& av : a.value) value(av);
    }
    if (v.kind == ast::ValueKind::Object && inBraces(v.bodyRange, offset_)) {
      sel_.inBody = true;
      sel_.schema = strategySchema(v.text);
      sel_.block = nullptr;
      sel_.blockPath.clear();
      sel_.inRolloutStrategy = true;
      body(v.body);
    }
  }

 private:
  std::uint32_t offset_;
  Selection& sel_;
};

}  // namespace

Selection select(const ast::File& file, std::uint32_t offset) {
  Selection sel;
  for (const auto& d : file.decls) {
    if (!inside(d.range, offset)) continue;
    sel.decl = &d;
    Walker w(offset, sel);
    if (d.hasBody && inBraces(d.bodyRange, offset)) {
      sel.inBody = true;
      sel.schema = declSchema(d.kind);
      w.body(d.body);
    }
    for (const auto& v : d.value) w.value(v);
    break;
  }
  return sel;
}

const sema::AttrSpec* attrSpecAt(const Selection& sel, const std::string& name) {
  if (sel.block) return sel.block->attr(name);
  return sel.schema ? sel.schema->attr(name) : nullptr;
}

}  // namespace gops::lsp
