// Completion: attribute and block names valid at the cursor, values by the
// attribute's type, names of environments, templates, rollouts and services,
// metrics after `rollback when`, standard modules after `import`, units after a
// number. Works on half-typed text: the line before the cursor decides the kind,
// the (error-recovered) AST decides the scope.
#include <algorithm>
#include <set>

#include "lsp/features.h"
#include "lsp/selection.h"
#include "sema/tables.h"

namespace gops::lsp {

namespace {

bool isIdent(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view trimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// The identifier ending at the end of `s` (possibly empty) and what is before it.
std::string_view lastWord(std::string_view s, std::string_view* before) {
  std::size_t i = s.size();
  while (i > 0 && isIdent(s[i - 1])) --i;
  if (before) *before = s.substr(0, i);
  return s.substr(i);
}

/// Whether the end of `line` is inside a string literal (escaped quotes skipped).
bool inString(std::string_view line) {
  bool in = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (in && line[i] == '\\') ++i;
    else if (line[i] == '"') in = !in;
  }
  return in;
}

struct NameDoc {
  std::string_view name, doc;
};
/// What `${...}` may name (docs/language.md, "Interpolation"; sema::Evaluator::interpolate).
const std::vector<NameDoc>& interpolationNames() {
  static const std::vector<NameDoc> names = {
      {"app.name", "The app's name (the `app` block's name)."},
      {"app.region", "The app's default region."},
      {"app.repository", "The GitHub repository, `owner/name`."},
      {"env.name", "The name of the environment being resolved."},
      {"env.account", "The AWS account ID of the environment being resolved."},
      {"env.region", "The region of the environment being resolved."},
      {"service.name", "The name of the service or job being resolved."},
  };
  return names;
}

bool endsWithWord(std::string_view s, std::string_view word) {
  s = trimRight(s);
  if (s.size() < word.size() || s.substr(s.size() - word.size()) != word) return false;
  return s.size() == word.size() || !isIdent(s[s.size() - word.size() - 1]);
}

void addValueDoc(std::vector<CompletionItem>& out, std::string_view name, CompletionKind kind) {
  const sema::ValueDoc* d = sema::findValueDoc(name);
  CompletionItem item{std::string(name), kind, d ? std::string(d->signature) : "", d ? std::string(d->doc) : "", {}, {}};
  out.push_back(std::move(item));
}

void addNames(std::vector<CompletionItem>& out, const Snapshot& s, std::initializer_list<ast::DeclKind> kinds, const char* detail) {
  std::set<std::string> seen;
  for (const auto& f : s.program.files) {
    for (const auto& d : f.decls) {
      if (d.name.empty() || std::find(kinds.begin(), kinds.end(), d.kind) == kinds.end() || !seen.insert(d.name).second) continue;
      out.push_back({d.name, CompletionKind::Reference, detail, d.doc, {}, {}});
    }
  }
}

void addValuesFor(std::vector<CompletionItem>& out, const Snapshot& s, sema::Ty type) {
  using sema::Ty;
  switch (type) {
    case Ty::Expose: for (auto n : {"internal", "public", "none"}) addValueDoc(out, n, CompletionKind::Value); break;
    case Ty::Deploy: for (auto n : {"manual", "on_push"}) addValueDoc(out, n, CompletionKind::Value); break;
    case Ty::Nat: for (auto n : {"single", "per_zone", "none"}) addValueDoc(out, n, CompletionKind::Value); break;
    case Ty::Image: for (auto n : {"ecr", "image"}) addValueDoc(out, n, CompletionKind::Function); break;
    case Ty::Secret: for (auto n : {"ssm", "secretsmanager"}) addValueDoc(out, n, CompletionKind::Function); break;
    case Ty::Schedule: for (auto n : {"cron", "rate"}) addValueDoc(out, n, CompletionKind::Function); break;
    case Ty::Engine: for (auto n : {"gops", "ecs"}) addValueDoc(out, n, CompletionKind::Value); break;
    case Ty::GateList: for (auto n : {"tests_passed", "security_scan", "approval", "soak"}) addValueDoc(out, n, CompletionKind::Value); break;
    case Ty::Bool: for (auto n : {"true", "false"}) out.push_back({n, CompletionKind::Keyword, "a boolean", {}, {}, {}}); break;
    case Ty::Rollout:
      for (auto n : {"rolling", "blue_green", "canary", "linear"}) addValueDoc(out, n, CompletionKind::Value);
      addNames(out, s, {ast::DeclKind::Rollout}, "rollout");
      break;
    default: break;
  }
}

CompletionItem attributeItem(const sema::AttrSpec& a) {
  return {std::string(a.name), CompletionKind::Property, std::string(sema::describe(a.type)), sema::attrDocMarkdown(a), {}, {}};
}

std::vector<std::string> unitsFor(std::optional<sema::Ty> type) {
  using sema::Ty;
  if (type == Ty::Duration) return {"ms", "s", "m", "h", "d"};
  if (type == Ty::Percent) return {"%"};
  if (type == Ty::Size) return {"MiB", "GiB"};
  if (type == Ty::Cpu) return {"vcpu"};
  if (type) return {};
  return {"s", "m", "h", "ms", "d", "%", "MiB", "GiB", "vcpu"};
}

/// The attribute `name` where the cursor is; when the half-typed text left no usable
/// tree, any declaration kind's attribute of that name.
const sema::AttrSpec* attrNamed(const Selection& sel, const std::string& name) {
  if (const sema::AttrSpec* spec = attrSpecAt(sel, name)) return spec;
  for (auto scope : {sema::Scope::Unit, sema::Scope::Environment, sema::Scope::App, sema::Scope::Promote}) {
    if (const sema::AttrSpec* spec = sema::schemaFor(scope).attr(name)) return spec;
  }
  for (auto scope : {sema::Scope::Unit, sema::Scope::Environment, sema::Scope::App}) {
    for (const sema::BlockSpec* b : sema::schemaFor(scope).blocks) {
      if (const sema::AttrSpec* a = b->attr(name)) return a;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<CompletionItem> complete(const Snapshot& s, FileId file, std::uint32_t offset) {
  std::vector<CompletionItem> out;
  if (file >= s.program.files.size()) return out;
  const SourceFile& src = s.program.sources.file(file);
  if (offset > src.text().size()) offset = static_cast<std::uint32_t>(src.text().size());
  LineCol lc = src.lineCol(offset);
  std::string_view line = std::string_view(src.text()).substr(src.lineStart(lc.line), offset - src.lineStart(lc.line));
  // Nothing inside comments.
  if (line.find("//") != std::string_view::npos) return out;

  std::string_view before;
  lastWord(line, &before);
  std::string_view lead = trimRight(before);

  // import "std/...
  if (inString(line)) {
    std::string_view head = trimRight(line.substr(0, line.rfind('"')));
    if (endsWithWord(head, "import")) {
      for (const auto& m : sema::stdlibModules(s.stdlibDir)) out.push_back({m, CompletionKind::Module, "standard module", {}, {}, {}});
      return out;
    }
    // "/shop/${env.na  -> the names interpolation knows in this declaration.
    std::string_view str = line.substr(line.rfind('"') + 1);
    std::size_t open = str.rfind("${");
    if (open == std::string_view::npos || str.find('}', open) != std::string_view::npos) return out;
    if (open > 0 && str[open - 1] == '\\') return out;  // `\${` is a literal
    auto typed = static_cast<std::uint32_t>(str.size() - open - 2);
    SourceRange replace{file, offset - typed, offset};
    const ast::Decl* decl = select(s.program.files[file], offset).decl;
    ast::DeclKind kind = decl ? decl->kind : ast::DeclKind::Service;
    bool env = kind != ast::DeclKind::App && kind != ast::DeclKind::Promote;
    bool unit = kind == ast::DeclKind::Service || kind == ast::DeclKind::Job || kind == ast::DeclKind::Template;
    for (const auto& n : interpolationNames()) {
      if ((n.name.rfind("env.", 0) == 0 && !env) || (n.name.rfind("service.", 0) == 0 && !unit)) continue;
      out.push_back({std::string(n.name), CompletionKind::Reference, "interpolation", std::string(n.doc), {}, replace});
    }
    return out;  // nothing else completes inside a string
  }

  // `{` and `.` trigger completion for `${env.`; elsewhere nothing follows them at once.
  if (!trimRight(line).empty() && (trimRight(line).back() == '{' || line.back() == '.')) return out;

  Selection sel = select(s.program.files[file], offset);

  // A unit right after a number: `30` -> `30s`.
  {
    std::size_t i = line.size();
    while (i > 0 && isIdent(line[i - 1]) && !isDigit(line[i - 1])) --i;
    bool afterNumber = i > 0 && isDigit(line[i - 1]);
    std::size_t j = i;
    while (j > 0 && (isDigit(line[j - 1]) || line[j - 1] == '.')) --j;
    if (afterNumber && (j == 0 || !isIdent(line[j - 1]))) {
      std::optional<sema::Ty> type;
      std::string_view head = trimRight(line.substr(0, j));
      if (!head.empty() && head.back() == '=') {
        std::string_view name = lastWord(trimRight(head.substr(0, head.size() - 1)), nullptr);
        if (const sema::AttrSpec* spec = attrNamed(sel, std::string(name))) type = spec->type;
      } else if (endsWithWord(head, "for") || endsWithWord(head, "every")) {
        type = sema::Ty::Duration;
      } else if (endsWithWord(head, "step")) {
        type = sema::Ty::Percent;
      }
      for (const auto& u : unitsFor(type)) out.push_back({u, CompletionKind::Unit, "unit", {}, {}, {}});
      return out;
    }
  }

  if (endsWithWord(lead, "extends")) {
    addNames(out, s, {ast::DeclKind::Template}, "template");
    return out;
  }
  if (endsWithWord(lead, "promote") || (lead.size() >= 2 && lead.substr(lead.size() - 2) == "->")) {
    addNames(out, s, {ast::DeclKind::Environment}, "environment");
    return out;
  }
  if (endsWithWord(lead, "when")) {
    for (const auto& m : sema::metrics()) out.push_back({std::string(m.name), CompletionKind::Metric, "metric", std::string(m.doc), {}, {}});
    return out;
  }
  std::string_view stripped = lead;
  while (!stripped.empty() && (stripped.front() == ' ' || stripped.front() == '\t')) stripped.remove_prefix(1);
  if (stripped == "in") {
    addNames(out, s, {ast::DeclKind::Environment}, "environment");
    return out;
  }

  // A value: `name = |`, or inside a list after it.
  std::string_view valueHead = lead;
  if (auto bracket = valueHead.rfind('['); bracket != std::string_view::npos && valueHead.find(']', bracket) == std::string_view::npos) {
    valueHead = trimRight(valueHead.substr(0, bracket));
  } else if (!valueHead.empty() && valueHead.back() == ',') {
    valueHead = {};
  }
  if (!valueHead.empty() && valueHead.back() == '=') {
    std::string name(lastWord(trimRight(valueHead.substr(0, valueHead.size() - 1)), nullptr));
    if (const sema::AttrSpec* spec = attrNamed(sel, name)) addValuesFor(out, s, spec->type);
    if (name == "rollout" && out.empty()) addValuesFor(out, s, sema::Ty::Rollout);
    return out;
  }

  // The start of a statement.
  if (!stripped.empty() && stripped.back() != '{' && stripped.back() != '}') return out;
  if (!sel.decl || !sel.inBody) {
    for (auto k : {"app", "environment", "service", "job", "template", "rollout", "promote", "import"}) {
      out.push_back({k, CompletionKind::Keyword, "declaration", {}, {}, {}});
    }
    return out;
  }
  if (sel.block) {
    for (const sema::AttrSpec* a : sel.block->attrs) out.push_back(attributeItem(*a));
    return out;
  }
  if (sel.schema) {
    bool job = sel.decl->kind == ast::DeclKind::Job, service = sel.decl->kind == ast::DeclKind::Service;
    for (const sema::AttrSpec* a : sel.schema->attrs) {
      if ((a->serviceOnly() && job) || (a->jobOnly() && service)) continue;
      out.push_back(attributeItem(*a));
    }
    for (const sema::BlockSpec* b : sel.schema->blocks) {
      if (b->serviceOnly() && job) continue;
      out.push_back({std::string(b->name), CompletionKind::Block, "block", std::string(b->doc), {}, {}});
    }
  }
  if (sel.inRolloutStrategy) {
    out.push_back({"step", CompletionKind::Keyword, "step P for D", {}, {}, {}});
    out.push_back({"rollback", CompletionKind::Keyword, "rollback when METRIC > VALUE for D", {}, {}, {}});
  }
  bool unit = sel.decl->kind == ast::DeclKind::Service || sel.decl->kind == ast::DeclKind::Job || sel.decl->kind == ast::DeclKind::Template;
  if (unit && sel.overrideEnv.empty() && !sel.inRolloutStrategy) out.push_back({"in", CompletionKind::Keyword, "in ENV { overrides }", {}, {}, {}});
  return out;
}

}  // namespace gops::lsp
