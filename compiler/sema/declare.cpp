// The declare pass: every declaration by kind, duplicates and names checked, the
// symbols the language server offers. Also the state every pass shares.
#include <algorithm>

#include <fmt/format.h>

#include "sema/checking.h"
#include "support/text.h"

namespace gops::sema::detail {

using diag::Code;

CheckState::CheckState(const Program& p, diag::DiagnosticEngine& d)
    : prog(p), diags(d), eval(d, decls.rollouts, decls.stdlibRollouts), evaluation(eval, decls.rollouts) {}

bool CheckState::isStdlib(const ast::Decl& d) const {
  return d.range.valid() && d.range.file < prog.stdlib.size() && prog.stdlib[d.range.file];
}

std::vector<const ast::Decl*> CheckState::chain(const ast::Decl& d) const { return extendsChain(d, decls.templates); }

void CheckState::addSymbol(SymbolKind k, const ast::Decl& d) { out.symbols.push_back({k, d.name, d.nameRange, d.range, d.doc}); }

void CheckState::addReference(SymbolKind k, const std::string& name, SourceRange range) {
  for (std::size_t i = 0; i < out.symbols.size(); ++i) {
    const auto& s = out.symbols[i];
    bool kindOk = s.kind == k || ((k == SymbolKind::Service || k == SymbolKind::Job) && (s.kind == SymbolKind::Service || s.kind == SymbolKind::Job));
    if (kindOk && s.name == name) {
      out.references.push_back({i, range});
      return;
    }
  }
}

const ast::Stmt* BodyView::attr(const std::string& name) const {
  auto it = attrs.find(name);
  return it == attrs.end() ? nullptr : it->second;
}

const ast::Stmt* BodyView::field(const std::string& block, const std::string& name) const {
  auto b = fields.find(block);
  if (b == fields.end()) return nullptr;
  auto it = b->second.find(name);
  return it == b->second.end() ? nullptr : it->second;
}

namespace {

void duplicate(CheckState& st, const ast::Decl& d, const ast::Decl& prev, std::string message, std::string help) {
  st.diags.report(Code::DuplicateDeclaration, d.nameRange.valid() ? d.nameRange : d.keywordRange, std::move(message), "declared again here")
      .label(prev.nameRange.valid() ? prev.nameRange : prev.keywordRange, "first declared here")
      .help(std::move(help));
}

/// Registers a declaration; a user declaration quietly shadows a standard one.
bool declare(CheckState& st, std::map<std::string, const ast::Decl*>& table, const ast::Decl& d, std::string_view what) {
  auto [it, inserted] = table.emplace(d.name, &d);
  if (inserted) return true;
  const ast::Decl& prev = *it->second;
  if (st.isStdlib(prev) && !st.isStdlib(d)) {
    it->second = &d;
    return true;
  }
  if (!st.isStdlib(prev) && st.isStdlib(d)) return false;
  duplicate(st, d, prev, fmt::format("`{}` is declared twice", d.name),
            prev.kind == d.kind ? fmt::format("rename one of the two {}s", what)
                                : "services and jobs share one namespace (their AWS resources are named after them); rename one");
  return false;
}

void checkName(CheckState& st, const ast::Decl& d, std::string_view what) {
  // [a-z][a-z0-9_]*, without std::regex (it showed in profiles of large specs).
  auto valid = [](std::string_view n) {
    return !n.empty() && n[0] >= 'a' && n[0] <= 'z' &&
           std::all_of(n.begin(), n.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
  };
  std::size_t limit = what == "app" ? 16 : what == "environment" ? 12 : 24;
  if (!valid(d.name)) {
    std::string lower = toLower(d.name);
    std::replace(lower.begin(), lower.end(), '-', '_');
    auto b = st.diags.report(Code::InvalidName, d.nameRange, fmt::format("{} name `{}` cannot be used in AWS resource names", what, d.name),
                             "invalid name");
    b.help("names are lower case letters, digits and `_`, starting with a letter; they become part of names like `<app>-<env>-<service>`");
    if (valid(lower)) b.fix(fmt::format("rename to `{}`", lower), d.nameRange, lower);
  } else if (d.name.size() > limit) {
    st.diags.report(Code::InvalidName, d.nameRange, fmt::format("{} name `{}` is longer than {} characters", what, d.name, limit), "too long")
        .help("AWS limits names like load balancer target groups to 32 characters; use a shorter name");
  }
}

}  // namespace

void collectDeclarations(CheckState& st) {
  Declarations& ds = st.decls;
  for (const auto& file : st.prog.files) {
    for (const auto& d : file.decls) {
      switch (d.kind) {
        case ast::DeclKind::App:
          if (ds.app) {
            duplicate(st, d, *ds.app, "the app is declared twice", "an app has one `app` declaration; merge the two");
          } else {
            ds.app = &d;
            checkName(st, d, "app");
            st.addSymbol(SymbolKind::App, d);
          }
          break;
        case ast::DeclKind::Environment:
          if (declare(st, ds.envs, d, "environment")) {
            ds.envOrder.push_back(&d);
            checkName(st, d, "environment");
            st.addSymbol(SymbolKind::Environment, d);
          }
          break;
        case ast::DeclKind::Template:
          if (declare(st, ds.templates, d, "template")) st.addSymbol(SymbolKind::Template, d);
          break;
        case ast::DeclKind::Service:
        case ast::DeclKind::Job:
          if (declare(st, ds.workloads, d, d.kind == ast::DeclKind::Service ? "service" : "job")) {
            checkName(st, d, d.kind == ast::DeclKind::Service ? "service" : "job");
            st.addSymbol(d.kind == ast::DeclKind::Service ? SymbolKind::Service : SymbolKind::Job, d);
          }
          break;
        case ast::DeclKind::Rollout:
          if (declare(st, ds.rollouts, d, "rollout")) st.addSymbol(SymbolKind::Rollout, d);
          if (st.isStdlib(d)) ds.stdlibRollouts.push_back(d.name);
          break;
        case ast::DeclKind::Promote:
          ds.promotes.push_back(&d);
          break;
        case ast::DeclKind::Import:
          break;
      }
    }
  }
}

}  // namespace gops::sema::detail
