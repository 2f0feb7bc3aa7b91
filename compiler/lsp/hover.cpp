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

/// The language's keywords (docs/language.md), shown when the cursor is on one.
std::string_view keywordDoc(std::string_view word) {
  static const std::pair<std::string_view, std::string_view> docs[] = {
      {"app", "```gops\napp NAME { region = ...  repository = ...  registry = ... }\n```\n\n"
              "The app: its name, default region, GitHub repository and the account holding its ECR repositories. Exactly one per app."},
      {"environment", "```gops\nenvironment NAME { account = ...  network { ... } }\n```\n\n"
                      "A deployment target: one AWS account and region with its own network, cluster and load balancer."},
      {"service", "```gops\nservice NAME [extends TEMPLATE] { image = ...  port = ... }\n```\n\n"
                  "A long-running ECS service on Fargate."},
      {"job", "```gops\njob NAME [extends TEMPLATE] { schedule = cron(...) }\n```\n\n"
              "A scheduled task that EventBridge Scheduler runs on the environment's cluster."},
      {"template", "```gops\ntemplate NAME [extends TEMPLATE] { ... }\n```\n\n"
                   "A reusable body for services and jobs; checked against each service or job that uses it."},
      {"rollout", "```gops\nrollout NAME = canary { step 10% for 5m }\n```\n\n"
                  "A named rollout strategy (`rolling`, `blue_green`, `canary`, `linear`) that environments and services can set with `rollout = NAME`."},
      {"promote", "```gops\npromote FROM -> TO { after = [tests_passed, soak(24h)] }\n```\n\n"
                  "An image reaches `TO` only after passing these gates in `FROM`."},
      {"import", "```gops\nimport \"std/rollouts\"\nimport \"./shared.gops\"\n```\n\n"
                 "Makes the declarations of a standard module or of another file visible."},
      {"extends", "```gops\nservice NAME extends TEMPLATE { ... }\n```\n\n"
                  "Applies the template's body first, then this body; blocks merge field by field."},
      {"in", "```gops\nin ENV { replicas = 6 }\n```\n\n"
             "Settings for one environment, merged field by field over the body around it."},
      {"step", "```gops\nstep 10% for 5m      // canary\nstep 10% every 1m    // linear\n```\n\n"
               "A traffic shift: the share of traffic sent to the new version, and how long it is held."},
      {"for", "`for D`: how long a canary step is held, or how long a `rollback when` condition must hold (whole minutes, default `1m`)."},
      {"every", "`step P every D`: a linear rollout's equal steps, one every `D`."},
      {"rollback", "```gops\nrollback when http_5xx_rate > 1% for 2m\nrollback when alarm(\"name\")\n```\n\n"
                   "A condition under which the deploy rolls back automatically."},
      {"when", "`rollback when CONDITION`: the condition that rolls a deploy back."},
      {"true", "A boolean."},
      {"false", "A boolean."},
  };
  for (const auto& [k, d] : docs) {
    if (k == word) return d;
  }
  return {};
}

/// A keyword under the cursor: the lexer's own classification, so a keyword's spelling
/// inside a string or a comment is none.
std::optional<HoverInfo> keywordHover(const Snapshot& s, FileId file, std::uint32_t offset) {
  const SourceFile& src = s.program.sources.file(file);
  for (const auto& t : syntax::lexFile(src)) {
    if (t.range.begin > offset) break;
    if (t.cls != syntax::TokenClass::Keyword || offset > t.range.end) continue;
    std::string_view doc = keywordDoc(s.program.sources.textOf(t.range));
    if (doc.empty()) return std::nullopt;
    return HoverInfo{t.range, std::string(doc)};
  }
  return std::nullopt;
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
        std::string md = fmt::format("**{}**: {}\n\n{}", st.name, sema::describe(spec->type), sema::attrDocMarkdown(*spec));
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
  return keywordHover(s, file, offset);
}

}  // namespace gops::lsp
