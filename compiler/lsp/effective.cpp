// Effective values of an attribute per environment, merged the way the checker
// merges them: the `extends` chain from the farthest template to the unit itself,
// each layer's body first and then its `in ENV { }` block.
#include <algorithm>

#include "lsp/features.h"

namespace gops::lsp {

namespace {

std::string collapse(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

/// The statement setting the attribute in this body, if any.
const ast::Stmt* find(const std::vector<ast::Stmt>& body, const std::vector<std::string>& blockPath, const std::string& attr) {
  const std::vector<ast::Stmt>* cur = &body;
  for (const auto& b : blockPath) {
    const ast::Stmt* next = nullptr;
    for (const auto& s : *cur) {
      if (s.kind == ast::StmtKind::Block && s.name == b) next = &s;
    }
    if (!next) return nullptr;
    cur = &next->body;
  }
  const ast::Stmt* found = nullptr;
  for (const auto& s : *cur) {
    if (s.kind == ast::StmtKind::Attr && s.name == attr) found = &s;
  }
  return found;
}

}  // namespace

std::vector<EnvValue> effectiveValues(const Snapshot& s, const ast::Decl& unit, const std::vector<std::string>& blockPath,
                                      const std::string& attr) {
  std::vector<const ast::Decl*> layers{&unit};
  const ast::Decl* cur = &unit;
  while (!cur->base.empty()) {
    const ast::Decl* next = s.findDecl({ast::DeclKind::Template}, cur->base);
    if (!next || std::find(layers.begin(), layers.end(), next) != layers.end()) break;
    layers.push_back(next);
    cur = next;
  }
  std::reverse(layers.begin(), layers.end());
  std::vector<EnvValue> out;
  for (const auto& env : s.environments()) {
    EnvValue v{env, {}, false};
    for (const ast::Decl* d : layers) {
      if (const ast::Stmt* st = find(d->body, blockPath, attr)) {
        v.text = collapse(s.program.sources.textOf(st->value().range));
        v.overridden = false;
      }
      for (const auto& o : d->body) {
        if (o.kind != ast::StmtKind::Override || o.name != env) continue;
        if (const ast::Stmt* st = find(o.body, blockPath, attr)) {
          v.text = collapse(s.program.sources.textOf(st->value().range));
          v.overridden = true;
        }
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string describeValues(const std::vector<EnvValue>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += " · ";
    out += v.env + " " + (v.text.empty() ? "(default)" : v.text);
  }
  return out;
}

}  // namespace gops::lsp
