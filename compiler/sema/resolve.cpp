#include "sema/resolve.h"

#include <algorithm>

namespace gops::sema {

namespace {

void win(Setting& s, const ast::Stmt& stmt, const ast::Decl& layer, bool inOverride) {
  if (s.stmt) s.overrode.insert(s.overrode.begin(), s.stmt);
  s.stmt = &stmt;
  s.layer = &layer;
  s.inOverride = inOverride;
}

void apply(Resolution& r, const Schema& schema, const std::vector<ast::Stmt>& body, const ast::Decl& layer, bool inOverride) {
  for (const auto& s : body) {
    if (s.kind == ast::StmtKind::Attr) {
      if (const AttrSpec* a = schema.attr(s.name)) win(r.attrs[static_cast<std::size_t>(a->id)], s, layer, inOverride);
    } else if (s.kind == ast::StmtKind::Block) {
      const BlockSpec* b = schema.block(s.name);
      if (!b) continue;
      auto id = static_cast<std::size_t>(b->id);
      r.blocks[id] = &s;
      if (b->clauses()) {
        for (const auto& f : s.body) {
          if (f.kind == ast::StmtKind::Clause) r.clauses[id].push_back(&f);
        }
        continue;
      }
      if (b->named()) {
        if (s.label.empty()) continue;
        NamedBlock& nb = r.named[id][s.label];
        nb.stmt = &s;
        for (const auto& f : s.body) {
          if (f.kind != ast::StmtKind::Attr) continue;
          if (const AttrSpec* a = b->attr(f.name)) win(nb.fields[a->id], f, layer, inOverride);
        }
        continue;
      }
      for (const auto& f : s.body) {
        if (f.kind != ast::StmtKind::Attr) continue;
        if (b->map) {
          win(r.entries[id][f.name], f, layer, inOverride);
        } else if (const AttrSpec* a = b->attr(f.name)) {
          win(r.attrs[static_cast<std::size_t>(a->id)], f, layer, inOverride);
        }
      }
    }
  }
}

}  // namespace

std::vector<const ast::Decl*> extendsChain(const ast::Decl& unit, const std::map<std::string, const ast::Decl*>& templates) {
  std::vector<const ast::Decl*> out{&unit};
  const ast::Decl* cur = &unit;
  while (!cur->base.empty()) {
    auto it = templates.find(cur->base);
    if (it == templates.end() || std::find(out.begin(), out.end(), it->second) != out.end()) break;
    cur = it->second;
    out.push_back(cur);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Resolution resolve(const std::vector<const ast::Decl*>& layers, std::string_view env) {
  Resolution r;
  const Schema& schema = schemaFor(Scope::Unit);
  for (const ast::Decl* d : layers) {
    apply(r, schema, d->body, *d, false);
    for (const auto& s : d->body) {
      if (s.kind == ast::StmtKind::Override && s.name == env) apply(r, schema, s.body, *d, true);
    }
  }
  return r;
}

const Setting* find(const Resolution& r, std::string_view block, std::string_view name, std::string_view label) {
  const Schema& schema = schemaFor(Scope::Unit);
  if (!block.empty()) {
    const BlockSpec* b = schema.block(block);
    if (!b) return nullptr;
    if (b->named()) {
      const auto& named = r.namedOf(b->id);
      auto it = named.find(std::string(label));
      const AttrSpec* a = b->attr(name);
      if (it == named.end() || !a) return nullptr;
      auto f = it->second.fields.find(a->id);
      return f == it->second.fields.end() ? nullptr : &f->second;
    }
    if (b->map) {
      const auto& entries = r.entriesOf(b->id);
      auto it = entries.find(std::string(name));
      return it == entries.end() ? nullptr : &it->second;
    }
    const AttrSpec* a = b->attr(name);
    return a ? &r[a->id] : nullptr;
  }
  const AttrSpec* a = schema.attr(name);
  return a ? &r[a->id] : nullptr;
}

}  // namespace gops::sema
