// The shape pass: each body's statements against the schema of where it is written
// (known names, each once, blocks holding `name = value` lines, `in ENV` only in
// services, jobs and templates, naming declared environments), and the `extends`
// of templates, services and jobs.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "sema/checking.h"
#include "support/text.h"

namespace gops::sema::detail {

using diag::Code;

namespace {

bool applies(CheckState& st, const AttrSpec& spec, ast::DeclKind unitKind, const ast::Stmt& s) {
  if (spec.serviceOnly() && unitKind == ast::DeclKind::Job) {
    st.diags.report(Code::UnknownAttribute, s.nameRange, fmt::format("`{}` applies to services, not jobs", s.name), "not for jobs")
        .help("remove it from the job");
    return false;
  }
  if (spec.jobOnly() && unitKind == ast::DeclKind::Service) {
    st.diags.report(Code::UnknownAttribute, s.nameRange, fmt::format("`{}` applies to jobs, not services", s.name), "not for services")
        .help(s.name == "schedule" ? "a scheduled task is declared with `job NAME { ... }`" : "remove it from the service");
    return false;
  }
  return true;
}

void unknownName(CheckState& st, const ast::Stmt& s, const Schema& schema, const std::string& owner, bool isBlock, ast::DeclKind unitKind) {
  if (!isBlock && schema.block(s.name)) {
    st.diags.report(Code::TypeMismatch, s.nameRange, fmt::format("`{}` is a block, not an attribute", s.name), "a block")
        .help(fmt::format("write `{} {{ ... }}`", s.name));
    return;
  }
  if (isBlock && schema.attr(s.name)) {
    st.diags.report(Code::TypeMismatch, s.nameRange, fmt::format("`{}` is an attribute, not a block", s.name), "an attribute")
        .help(fmt::format("write `{} = ...` with {}, like `{}`", s.name, describe(schema.attr(s.name)->type), example(schema.attr(s.name)->type)));
    return;
  }
  // Only what this body takes: a service is not offered `schedule`, a job not `port`.
  std::vector<std::string> names;
  for (const AttrSpec* a : schema.attrs) {
    if ((a->serviceOnly() && unitKind == ast::DeclKind::Job) || (a->jobOnly() && unitKind == ast::DeclKind::Service)) continue;
    names.emplace_back(a->name);
  }
  for (const BlockSpec* bl : schema.blocks) {
    if (bl->serviceOnly() && unitKind == ast::DeclKind::Job) continue;
    names.emplace_back(bl->name);
  }
  auto b = st.diags.report(isBlock ? Code::UnknownBlock : Code::UnknownAttribute, s.nameRange,
                         fmt::format("unknown {} `{}` in {}", isBlock ? "block" : "attribute", s.name, owner),
                         isBlock ? "unknown block" : "unknown attribute");
  if (auto m = closestMatch(s.name, names)) {
    b.help(fmt::format("did you mean `{}`?", *m));
    b.fix(fmt::format("replace with `{}`", *m), s.nameRange, *m);
  } else if (!names.empty()) {
    std::sort(names.begin(), names.end());
    b.help(fmt::format("{} takes {}", owner, joinQuoted(names, " and ")));
  }
}

/// A named block's name becomes a container or volume name in the task definition: ECS
/// takes up to 255 letters, digits, `_` and `-` (identifiers have no other characters).
void checkLabel(CheckState& st, const ast::Stmt& s) {
  const std::string& n = s.label;
  bool chars = std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
  if (!n.empty() && chars && n.size() <= 255) return;
  const std::string what = s.name == "volume" ? "volume" : "container";
  if (!chars) {
    st.diags.report(Code::ContainerName, s.labelRange, fmt::format("`{}` cannot name a {}: names are letters, digits, `_` and `-`", n, s.name),
                    "invalid name")
        .help("use a name like `envoy` or `log_router`");
  } else {
    st.diags.report(Code::ContainerName, s.labelRange,
                    fmt::format("the {} name `{}...` is {} characters long, and ECS takes {} names of up to 255", s.name, n.substr(0, 16), n.size(), what),
                    "too long")
        .help("use a shorter name, like `envoy` or `log_router`");
  }
}

}  // namespace

BodyView checkShape(CheckState& st, const std::vector<ast::Stmt>& body, const Schema& schema, const std::string& owner, BodyMode mode,
                    ast::DeclKind unitKind) {
  BodyView v;
  std::map<std::string, const ast::Stmt*> overridesSeen;
  for (const auto& s : body) {
    switch (s.kind) {
      case ast::StmtKind::Attr: {
        const AttrSpec* spec = schema.attr(s.name);
        if (!spec) {
          unknownName(st, s, schema, owner, false, unitKind);
          break;
        }
        if (!applies(st, *spec, unitKind, s)) break;
        if (auto it = v.attrs.find(s.name); it != v.attrs.end()) {
          st.diags.report(Code::DuplicateAttribute, s.nameRange, fmt::format("`{}` is set twice in {}", s.name, owner), "set again here")
              .label(it->second->nameRange, "first set here")
              .help("remove one of them");
          break;
        }
        v.attrs[s.name] = &s;
        break;
      }
      case ast::StmtKind::Block: {
        const BlockSpec* spec = schema.block(s.name);
        if (!spec) {
          unknownName(st, s, schema, owner, true, unitKind);
          break;
        }
        if (spec->serviceOnly() && unitKind == ast::DeclKind::Job) {
          st.diags.report(Code::UnknownBlock, s.nameRange, fmt::format("`{}` applies to services, not jobs", s.name), "not for jobs")
              .help("remove it from the job");
          break;
        }
        if (spec->named() && s.label.empty()) {
          st.diags.report(Code::StatementNotAllowed, s.nameRange, fmt::format("a `{}` block needs a name of its own", s.name), "name missing")
              .help(fmt::format("write it like `{} NAME {{ ... }}`", s.name))
              .fix("add a name", SourceRange{s.nameRange.file, s.nameRange.end, s.nameRange.end}, std::string(" ") + s.name + "_1");
          break;
        }
        if (!spec->named() && !s.label.empty()) {
          st.diags.report(Code::StatementNotAllowed, s.labelRange, fmt::format("`{}` takes no name: there is one per {}", s.name, owner),
                          "unexpected name")
              .help(fmt::format("write `{} {{ ... }}`", s.name))
              .fix("remove the name", SourceRange{s.labelRange.file, s.nameRange.end, s.labelRange.end}, "");
          break;
        }
        if (!s.label.empty()) checkLabel(st, s);
        const std::string key = s.label.empty() ? s.name : s.name + " " + s.label;
        if (auto it = v.blocks.find(key); it != v.blocks.end()) {
          st.diags.report(Code::DuplicateAttribute, s.nameRange, fmt::format("block `{}` appears twice in {}", key, owner), "again here")
              .label(it->second->nameRange, "first here")
              .help("merge the two blocks into one");
          break;
        }
        v.blocks[key] = &s;
        if (spec->clauses()) {
          for (const auto& f : s.body) {
            if (f.kind == ast::StmtKind::Clause) continue;  // checked when evaluated
            st.diags.report(Code::StatementNotAllowed, f.kind == ast::StmtKind::Override ? f.opRange : f.nameRange,
                            fmt::format("`{}` holds only `{} [...] {} [...]` lines", s.name, spec->verb, spec->word), "not allowed here")
                .help(fmt::format("write each grant on its own line, like `{} [\"s3:GetObject\"] {} [\"arn:aws:s3:::bucket/*\"]`", spec->verb,
                                  spec->word));
          }
          break;
        }
        auto& fields = v.fields[key];
        for (const auto& f : s.body) {
          if (f.kind != ast::StmtKind::Attr) {
            st.diags.report(Code::StatementNotAllowed, f.kind == ast::StmtKind::Override ? f.opRange : f.nameRange,
                          fmt::format("`{}` holds only `name = value` lines", s.name), "not allowed here")
                .help(f.kind == ast::StmtKind::Override
                          ? fmt::format("to change `{}` in one environment, write `in {} {{ {} {{ ... }} }}` in the body around it", s.name, f.name, s.name)
                          : fmt::format("write each setting of `{}` on its own line as `NAME = value`", s.name));
            continue;
          }
          if (!spec->map) {
            bool known = spec->attr(f.name) != nullptr;
            if (!known) {
              std::vector<std::string> names;
              for (const AttrSpec* a : spec->attrs) names.emplace_back(a->name);
              auto b = st.diags.report(Code::UnknownAttribute, f.nameRange, fmt::format("`{}` has no attribute `{}`", s.name, f.name), "unknown attribute");
              if (auto m = closestMatch(f.name, names)) {
                b.help(fmt::format("did you mean `{}`?", *m));
                b.fix(fmt::format("replace with `{}`", *m), f.nameRange, *m);
              } else {
                b.help(fmt::format("the attributes of `{}` are {}", s.name, joinQuoted(names, " and ")));
              }
              continue;
            }
          }
          if (auto it = fields.find(f.name); it != fields.end()) {
            st.diags.report(Code::DuplicateAttribute, f.nameRange, fmt::format("`{}` is set twice in `{}`", f.name, s.name), "set again here")
                .label(it->second->nameRange, "first set here")
                .help("remove one of them");
            continue;
          }
          fields[f.name] = &f;
        }
        break;
      }
      case ast::StmtKind::Override: {
        if (mode != BodyMode::Unit) {
          st.diags.report(Code::StatementNotAllowed, s.opRange,
                        mode == BodyMode::Override ? "`in` blocks cannot be nested" : fmt::format("`in` blocks are not allowed in {}", owner),
                        "not allowed here")
              .help(mode == BodyMode::Override ? "move the settings into the outer `in` block"
                                               : "`in ENV { ... }` overrides settings of a service, job or template for one environment");
          break;
        }
        st.addReference(SymbolKind::Environment, s.name, s.nameRange);
        if (!st.decls.envs.count(s.name)) {
          std::vector<std::string> names;
          for (const auto* e : st.decls.envOrder) names.push_back(e->name);
          auto b = st.diags.report(Code::UnknownOverrideEnv, s.nameRange, fmt::format("no environment named `{}`", s.name), "unknown environment");
          if (auto m = closestMatch(s.name, names)) {
            b.help(fmt::format("did you mean `{}`?", *m));
            b.fix(fmt::format("replace with `{}`", *m), s.nameRange, *m);
          } else if (!names.empty()) {
            b.help(fmt::format("the environments are {}", joinQuoted(names, " and ")));
          }
        }
        if (auto it = overridesSeen.find(s.name); it != overridesSeen.end()) {
          st.diags.report(Code::DuplicateAttribute, s.nameRange, fmt::format("`in {}` appears twice in {}", s.name, owner), "again here")
              .label(it->second->nameRange, "first here")
              .help("merge the two blocks into one");
          break;
        }
        overridesSeen[s.name] = &s;
        checkShape(st, s.body, schema, fmt::format("`in {}`", s.name), BodyMode::Override, unitKind);
        v.overrides.push_back(&s);
        break;
      }
      case ast::StmtKind::Clause: {
        // `allow [...] on [...]` belongs in a block that takes such lines.
        std::string where;
        for (const BlockSpec* b : schema.blocks) {
          if (b->clauses() && b->verb == s.name) where = std::string(b->name);
        }
        auto d = st.diags.report(Code::StatementNotAllowed, s.nameRange, fmt::format("`{}` lines do not belong directly in {}", s.name, owner),
                                 "not allowed here");
        if (!where.empty()) d.help(fmt::format("write it inside `{} {{ ... }}`", where));
        else d.help("write `name = value`, or a block `name { ... }`");
        break;
      }
      case ast::StmtKind::Step:
      case ast::StmtKind::Rollback:
        st.diags.report(Code::StatementNotAllowed, s.nameRange, fmt::format("`{}` belongs in a rollout strategy, not in {}", s.name, owner),
                      "not allowed here")
            .help(s.kind == ast::StmtKind::Step ? "write it inside `rollout = canary { ... }` or `linear { ... }`"
                                                : "write it inside a strategy: `rollout = canary { step 10% for 5m  rollback when ... }`");
        break;
    }
  }
  return v;
}


void reportMissing(CheckState& st, const ast::Decl& d, std::string_view what, std::string_view attr, std::string_view sample, std::string extra) {
  st.diags.report(Code::MissingAttribute, d.nameRange, fmt::format("{} `{}` has no `{}`{}", what, d.name, attr, extra),
                fmt::format("`{}` missing", attr))
      .help(fmt::format("add `{} = {}`", attr, sample));
}

// Templates, services and jobs

void checkUnitDecls(CheckState& st) {
  auto checkDecl = [&](const ast::Decl& d) {
    std::string owner = fmt::format("{} `{}`", ast::declKeyword(d.kind), d.name);
    st.unitViews[&d] = checkShape(st, d.body, schemaFor(Scope::Unit), owner, BodyMode::Unit, d.kind);
    if (!d.base.empty()) {
      st.addReference(SymbolKind::Template, d.base, d.baseRange);
      if (!st.decls.templates.count(d.base)) {
        if (auto w = st.decls.workloads.find(d.base); w != st.decls.workloads.end()) {
          st.diags.report(Code::ExtendsNotTemplate, d.baseRange,
                        fmt::format("`{}` is a {}; only templates can be extended", d.base, ast::declKeyword(w->second->kind)), "not a template")
              .label(w->second->nameRange, "declared here")
              .help(fmt::format("move what both share into `template {}_base {{ ... }}` and extend that", d.base));
        } else {
          std::vector<std::string> names;
          for (const auto& [n, _] : st.decls.templates) names.push_back(n);
          auto b = st.diags.report(Code::UndefinedReference, d.baseRange, fmt::format("no template named `{}`", d.base), "undefined template");
          if (auto m = closestMatch(d.base, names)) {
            b.help(fmt::format("did you mean `{}`?", *m));
            b.fix(fmt::format("replace with `{}`", *m), d.baseRange, *m);
          } else {
            b.help(fmt::format("declare it with `template {} {{ ... }}`", d.base));
          }
        }
      }
    }
  };
  for (const auto& [_, d] : st.decls.templates) checkDecl(*d);
  for (const auto& [_, d] : st.decls.workloads) checkDecl(*d);
  // `extends` cycles among templates.
  std::set<const ast::Decl*> reported;
  for (const auto& [name, d] : st.decls.templates) {
    std::vector<const ast::Decl*> path{d};
    const ast::Decl* cur = d;
    while (!cur->base.empty()) {
      auto it = st.decls.templates.find(cur->base);
      if (it == st.decls.templates.end()) break;
      const ast::Decl* next = it->second;
      auto pos = std::find(path.begin(), path.end(), next);
      if (pos != path.end()) {
        if (!reported.count(cur)) {
          std::string chain;
          for (auto p = pos; p != path.end(); ++p) {
            chain += (*p)->name + " -> ";
            reported.insert(*p);
          }
          chain += next->name;
          auto b = st.diags.report(Code::ExtendsCycle, cur->baseRange,
                                 next == cur ? fmt::format("template `{}` extends itself", cur->name)
                                             : fmt::format("templates extend each other in a cycle: {}", chain),
                                 "closes the cycle");
          for (auto p = pos; p != path.end(); ++p) {
            if (*p != cur) b.label((*p)->baseRange, "extends here");
          }
          b.help("break the cycle: a template extends at most one other, and never itself in the end");
        }
        break;
      }
      path.push_back(next);
      cur = next;
    }
  }
}

}  // namespace gops::sema::detail
