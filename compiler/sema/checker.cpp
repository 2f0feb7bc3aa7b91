#include "sema/checker.h"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "sema/eval.h"
#include "sema/schema.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema {

using diag::Code;

const char* toString(SymbolKind k) {
  switch (k) {
    case SymbolKind::App: return "app";
    case SymbolKind::Environment: return "environment";
    case SymbolKind::Template: return "template";
    case SymbolKind::Service: return "service";
    case SymbolKind::Job: return "job";
    case SymbolKind::Rollout: return "rollout";
  }
  return "?";
}

namespace {

/// The statements of one body, indexed, after shape checks.
struct BodyView {
  std::map<std::string, const ast::Stmt*> attrs;
  std::map<std::string, const ast::Stmt*> blocks;
  std::map<std::string, std::map<std::string, const ast::Stmt*>> fields;  ///< block -> field -> stmt
  std::vector<const ast::Stmt*> overrides;
};

/// The winning statement for every attribute and block field of a workload in one
/// environment, after templates and overrides.
struct Merged {
  std::map<std::string, const ast::Stmt*> attrs;
  std::map<std::string, const ast::Stmt*> blocks;
  std::map<std::string, std::map<std::string, const ast::Stmt*>> fields;
};

std::string fmtNum(double d) {
  if (d == static_cast<double>(static_cast<long long>(d))) return fmt::format("{}", static_cast<long long>(d));
  return fmt::format("{}", d);
}

std::string cpuText(int units) {
  double v = units / 1024.0;
  return fmt::format("{} vCPU", fmtNum(v));
}

std::string memText(int mib) {
  if (mib % 1024 == 0) return fmt::format("{} GiB", mib / 1024);
  return fmt::format("{} MiB", mib);
}

bool looksLikeSecretName(const std::string& name) {
  std::string up = toUpper(name);
  return up.find("PASSWORD") != std::string::npos || up.find("TOKEN") != std::string::npos ||
         up.find("SECRET") != std::string::npos || endsWith(up, "_KEY") || up == "KEY" || up.find("PASSWD") != std::string::npos ||
         up.find("API_KEY") != std::string::npos || up.find("PRIVATE_KEY") != std::string::npos;
}

struct Cidr {
  std::uint32_t net = 0;
  int prefix = 0;
};

std::optional<Cidr> parseCidr(const std::string& s) {
  unsigned a, b, c, d;
  int p;
  if (std::sscanf(s.c_str(), "%u.%u.%u.%u/%d", &a, &b, &c, &d, &p) != 5) return std::nullopt;
  if (a > 255 || b > 255 || c > 255 || d > 255 || p < 0 || p > 32) return std::nullopt;
  return Cidr{(a << 24) | (b << 16) | (c << 8) | d, p};
}

bool overlaps(const Cidr& x, const Cidr& y) {
  int p = std::min(x.prefix, y.prefix);
  std::uint32_t mask = p == 0 ? 0 : ~((1u << (32 - p)) - 1);
  return (x.net & mask) == (y.net & mask);
}

class Checker {
 public:
  Checker(const Program& prog, diag::DiagnosticEngine& diags)
      : prog_(prog), diags_(diags), eval_(diags, rollouts_, stdlibRollouts_) {}

  Analysis run() {
    // Errors from reading and parsing (a file refused whole, a declaration lost to a
    // syntax error) explain a missing `app` or environment better than E0102/E0108.
    inputErrors_ = diags_.errorCount() > 0 || std::any_of(prog_.files.begin(), prog_.files.end(), [](const ast::File& f) { return !f.syntaxOk; });
    collect();
    checkApp();
    checkRolloutDecls();
    checkEnvironments();
    checkUnitDecls();
    buildWorkloads();
    reportHostClashes();
    checkPromotions();
    crossEnvironmentChecks();
    orderEnvironments();
    for (const auto& use : eval_.rolloutUses) addReference(SymbolKind::Rollout, use.name, use.range);
    out_.hasApp = app_ != nullptr;
    return std::move(out_);
  }

 private:
  // ---------------------------------------------------------------------------
  // Declarations

  bool isStdlib(const ast::Decl& d) const { return d.range.valid() && d.range.file < prog_.stdlib.size() && prog_.stdlib[d.range.file]; }

  void collect() {
    for (const auto& file : prog_.files) {
      for (const auto& d : file.decls) {
        switch (d.kind) {
          case ast::DeclKind::App:
            if (app_) {
              duplicate(d, *app_, "the app is declared twice", "an app has one `app` declaration; merge the two");
            } else {
              app_ = &d;
              checkName(d, "app");
              addSymbol(SymbolKind::App, d);
            }
            break;
          case ast::DeclKind::Environment:
            if (declare(envs_, d, "environment")) {
              envOrder_.push_back(&d);
              checkName(d, "environment");
              addSymbol(SymbolKind::Environment, d);
            }
            break;
          case ast::DeclKind::Template:
            if (declare(templates_, d, "template")) addSymbol(SymbolKind::Template, d);
            break;
          case ast::DeclKind::Service:
          case ast::DeclKind::Job:
            if (declare(workloads_, d, d.kind == ast::DeclKind::Service ? "service" : "job")) {
              checkName(d, d.kind == ast::DeclKind::Service ? "service" : "job");
              addSymbol(d.kind == ast::DeclKind::Service ? SymbolKind::Service : SymbolKind::Job, d);
            }
            break;
          case ast::DeclKind::Rollout:
            if (declare(rollouts_, d, "rollout")) addSymbol(SymbolKind::Rollout, d);
            if (isStdlib(d)) stdlibRollouts_.push_back(d.name);
            break;
          case ast::DeclKind::Promote:
            promotes_.push_back(&d);
            break;
          case ast::DeclKind::Import:
            break;
        }
      }
    }
  }

  /// Registers a declaration; a user declaration quietly shadows a standard one.
  bool declare(std::map<std::string, const ast::Decl*>& table, const ast::Decl& d, std::string_view what) {
    auto [it, inserted] = table.emplace(d.name, &d);
    if (inserted) return true;
    const ast::Decl& prev = *it->second;
    if (isStdlib(prev) && !isStdlib(d)) {
      it->second = &d;
      return true;
    }
    if (!isStdlib(prev) && isStdlib(d)) return false;
    std::string kind = prev.kind == d.kind ? std::string(what) : fmt::format("{} and a {}", ast::declKeyword(prev.kind), what);
    duplicate(d, prev, fmt::format("`{}` is declared twice", d.name),
              prev.kind == d.kind ? fmt::format("rename one of the two {}s", what)
                                  : "services and jobs share one namespace (their AWS resources are named after them); rename one");
    return false;
  }

  void duplicate(const ast::Decl& d, const ast::Decl& prev, std::string message, std::string help) {
    diags_.report(Code::DuplicateDeclaration, d.nameRange.valid() ? d.nameRange : d.keywordRange, std::move(message), "declared again here")
        .label(prev.nameRange.valid() ? prev.nameRange : prev.keywordRange, "first declared here")
        .help(std::move(help));
  }

  void checkName(const ast::Decl& d, std::string_view what) {
    // [a-z][a-z0-9_]*, without std::regex (it showed in profiles of large specs).
    auto valid = [](std::string_view n) {
      return !n.empty() && n[0] >= 'a' && n[0] <= 'z' &&
             std::all_of(n.begin(), n.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
    };
    std::size_t limit = what == "app" ? 16 : what == "environment" ? 12 : 24;
    if (!valid(d.name)) {
      std::string lower = toLower(d.name);
      std::replace(lower.begin(), lower.end(), '-', '_');
      auto b = diags_.report(Code::InvalidName, d.nameRange, fmt::format("{} name `{}` cannot be used in AWS resource names", what, d.name),
                             "invalid name");
      b.help("names are lower case letters, digits and `_`, starting with a letter; they become part of names like `<app>-<env>-<service>`");
      if (valid(lower)) b.fix(fmt::format("rename to `{}`", lower), d.nameRange, lower);
    } else if (d.name.size() > limit) {
      diags_.report(Code::InvalidName, d.nameRange, fmt::format("{} name `{}` is longer than {} characters", what, d.name, limit), "too long")
          .help("AWS limits names like load balancer target groups to 32 characters; use a shorter name");
    }
  }

  void addSymbol(SymbolKind k, const ast::Decl& d) {
    out_.symbols.push_back({k, d.name, d.nameRange, d.range, d.doc});
  }

  void addReference(SymbolKind k, const std::string& name, SourceRange range) {
    for (std::size_t i = 0; i < out_.symbols.size(); ++i) {
      const auto& s = out_.symbols[i];
      bool kindOk = s.kind == k || ((k == SymbolKind::Service || k == SymbolKind::Job) && (s.kind == SymbolKind::Service || s.kind == SymbolKind::Job));
      if (kindOk && s.name == name) {
        out_.references.push_back({i, range});
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Bodies

  enum class BodyMode { Plain, Unit, Override };

  BodyView view(const std::vector<ast::Stmt>& body, const Schema& schema, const std::string& owner, BodyMode mode,
                ast::DeclKind unitKind = ast::DeclKind::Template) {
    BodyView v;
    std::map<std::string, const ast::Stmt*> overridesSeen;
    for (const auto& s : body) {
      switch (s.kind) {
        case ast::StmtKind::Attr: {
          const AttrSpec* spec = schema.attr(s.name);
          if (!spec) {
            unknownName(s, schema, owner, false, unitKind);
            break;
          }
          if (!applies(*spec, unitKind, s)) break;
          if (auto it = v.attrs.find(s.name); it != v.attrs.end()) {
            diags_.report(Code::DuplicateAttribute, s.nameRange, fmt::format("`{}` is set twice in {}", s.name, owner), "set again here")
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
            unknownName(s, schema, owner, true, unitKind);
            break;
          }
          if (spec->serviceOnly && unitKind == ast::DeclKind::Job) {
            diags_.report(Code::UnknownBlock, s.nameRange, fmt::format("`{}` applies to services, not jobs", s.name), "not for jobs")
                .help("remove it from the job");
            break;
          }
          if (auto it = v.blocks.find(s.name); it != v.blocks.end()) {
            diags_.report(Code::DuplicateAttribute, s.nameRange, fmt::format("block `{}` appears twice in {}", s.name, owner), "again here")
                .label(it->second->nameRange, "first here")
                .help("merge the two blocks into one");
            break;
          }
          v.blocks[s.name] = &s;
          auto& fields = v.fields[s.name];
          for (const auto& f : s.body) {
            if (f.kind != ast::StmtKind::Attr) {
              diags_.report(Code::StatementNotAllowed, f.kind == ast::StmtKind::Override ? f.opRange : f.nameRange,
                            fmt::format("`{}` holds only `name = value` lines", s.name), "not allowed here")
                  .help(f.kind == ast::StmtKind::Override
                            ? fmt::format("to change `{}` in one environment, write `in {} {{ {} {{ ... }} }}` in the body around it", s.name, f.name, s.name)
                            : fmt::format("write each setting of `{}` on its own line as `NAME = value`", s.name));
              continue;
            }
            if (!spec->map) {
              bool known = std::any_of(spec->attrs.begin(), spec->attrs.end(), [&](const AttrSpec& a) { return a.name == f.name; });
              if (!known) {
                std::vector<std::string> names;
                for (const auto& a : spec->attrs) names.emplace_back(a.name);
                auto b = diags_.report(Code::UnknownAttribute, f.nameRange, fmt::format("`{}` has no attribute `{}`", s.name, f.name), "unknown attribute");
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
              diags_.report(Code::DuplicateAttribute, f.nameRange, fmt::format("`{}` is set twice in `{}`", f.name, s.name), "set again here")
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
            diags_.report(Code::StatementNotAllowed, s.opRange,
                          mode == BodyMode::Override ? "`in` blocks cannot be nested" : fmt::format("`in` blocks are not allowed in {}", owner),
                          "not allowed here")
                .help(mode == BodyMode::Override ? "move the settings into the outer `in` block"
                                                 : "`in ENV { ... }` overrides settings of a service, job or template for one environment");
            break;
          }
          addReference(SymbolKind::Environment, s.name, s.nameRange);
          if (!envs_.count(s.name)) {
            std::vector<std::string> names;
            for (const auto* e : envOrder_) names.push_back(e->name);
            auto b = diags_.report(Code::UnknownOverrideEnv, s.nameRange, fmt::format("no environment named `{}`", s.name), "unknown environment");
            if (auto m = closestMatch(s.name, names)) {
              b.help(fmt::format("did you mean `{}`?", *m));
              b.fix(fmt::format("replace with `{}`", *m), s.nameRange, *m);
            } else if (!names.empty()) {
              b.help(fmt::format("the environments are {}", joinQuoted(names, " and ")));
            }
          }
          if (auto it = overridesSeen.find(s.name); it != overridesSeen.end()) {
            diags_.report(Code::DuplicateAttribute, s.nameRange, fmt::format("`in {}` appears twice in {}", s.name, owner), "again here")
                .label(it->second->nameRange, "first here")
                .help("merge the two blocks into one");
            break;
          }
          overridesSeen[s.name] = &s;
          view(s.body, schema, fmt::format("`in {}`", s.name), BodyMode::Override, unitKind);
          v.overrides.push_back(&s);
          break;
        }
        case ast::StmtKind::Step:
        case ast::StmtKind::Rollback:
          diags_.report(Code::StatementNotAllowed, s.nameRange, fmt::format("`{}` belongs in a rollout strategy, not in {}", s.name, owner),
                        "not allowed here")
              .help(s.kind == ast::StmtKind::Step ? "write it inside `rollout = canary { ... }` or `linear { ... }`"
                                                  : "write it inside a strategy: `rollout = canary { step 10% for 5m  rollback when ... }`");
          break;
      }
    }
    return v;
  }

  bool applies(const AttrSpec& spec, ast::DeclKind unitKind, const ast::Stmt& s) {
    if (spec.serviceOnly && unitKind == ast::DeclKind::Job) {
      diags_.report(Code::UnknownAttribute, s.nameRange, fmt::format("`{}` applies to services, not jobs", s.name), "not for jobs")
          .help("remove it from the job");
      return false;
    }
    if (spec.jobOnly && unitKind == ast::DeclKind::Service) {
      diags_.report(Code::UnknownAttribute, s.nameRange, fmt::format("`{}` applies to jobs, not services", s.name), "not for services")
          .help(s.name == "schedule" ? "a scheduled task is declared with `job NAME { ... }`" : "remove it from the service");
      return false;
    }
    return true;
  }

  void unknownName(const ast::Stmt& s, const Schema& schema, const std::string& owner, bool isBlock, ast::DeclKind unitKind) {
    if (!isBlock && schema.block(s.name)) {
      diags_.report(Code::TypeMismatch, s.nameRange, fmt::format("`{}` is a block, not an attribute", s.name), "a block")
          .help(fmt::format("write `{} {{ ... }}`", s.name));
      return;
    }
    if (isBlock && schema.attr(s.name)) {
      diags_.report(Code::TypeMismatch, s.nameRange, fmt::format("`{}` is an attribute, not a block", s.name), "an attribute")
          .help(fmt::format("write `{} = ...` with {}, like `{}`", s.name, describe(schema.attr(s.name)->type), example(schema.attr(s.name)->type)));
      return;
    }
    // Only what this body takes: a service is not offered `schedule`, a job not `port`.
    std::vector<std::string> names;
    for (const auto& a : schema.attrs) {
      if ((a.serviceOnly && unitKind == ast::DeclKind::Job) || (a.jobOnly && unitKind == ast::DeclKind::Service)) continue;
      names.emplace_back(a.name);
    }
    for (const auto& bl : schema.blocks) {
      if (bl.serviceOnly && unitKind == ast::DeclKind::Job) continue;
      names.emplace_back(bl.name);
    }
    auto b = diags_.report(isBlock ? Code::UnknownBlock : Code::UnknownAttribute, s.nameRange,
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

  void missing(const ast::Decl& d, std::string_view what, std::string_view attr, std::string_view sample, std::string extra = {}) {
    diags_.report(Code::MissingAttribute, d.nameRange, fmt::format("{} `{}` has no `{}`{}", what, d.name, attr, extra),
                  fmt::format("`{}` missing", attr))
        .help(fmt::format("add `{} = {}`", attr, sample));
  }

  // ---------------------------------------------------------------------------
  // App

  void checkApp() {
    if (!app_) {
      if (inputErrors_) return;
      FileId first = prog_.entries.empty() ? (prog_.files.empty() ? kNoFile : FileId{0}) : prog_.entries.front();
      if (first != kNoFile) {
        diags_.report(Code::MissingApp, {first, 0, 0}, "the spec has no `app` declaration", "expected `app NAME { ... }`")
            .help("add `app NAME { region = \"us-east-1\"  repository = \"owner/name\"  registry = \"123456789012\" }`");
      }
      return;
    }
    auto& a = out_.model.app;
    a.name = app_->name;
    a.sourceFile = prog_.sources.file(app_->range.file).path();
    BodyView v = view(app_->body, schemaFor(Scope::App), "the `app` block", BodyMode::Plain);
    EvalContext ctx{&a, nullptr, false};
    if (auto* s = get(v, "region")) {
      if (Val r = eval_.eval(s->value(), Ty::Region, ctx, "region"); r.ok) a.region = r.s;
    } else {
      missing(*app_, "app", "region", "\"us-east-1\"");
    }
    if (auto* s = get(v, "repository")) {
      if (Val r = eval_.eval(s->value(), Ty::Repository, ctx, "repository"); r.ok) a.repository = r.s;
    } else {
      missing(*app_, "app", "repository", "\"owner/name\"");
    }
    if (auto* s = get(v, "registry")) {
      if (Val r = eval_.eval(s->value(), Ty::Account, ctx, "registry"); r.ok) a.registry = r.s;
    } else {
      missing(*app_, "app", "registry", "\"123456789012\"", " (the AWS account that holds the images)");
    }
  }

  static const ast::Stmt* get(const BodyView& v, const std::string& name) {
    auto it = v.attrs.find(name);
    return it == v.attrs.end() ? nullptr : it->second;
  }
  static const ast::Stmt* field(const BodyView& v, const std::string& block, const std::string& name) {
    auto b = v.fields.find(block);
    if (b == v.fields.end()) return nullptr;
    auto it = b->second.find(name);
    return it == b->second.end() ? nullptr : it->second;
  }

  // ---------------------------------------------------------------------------
  // Named rollouts

  void checkRolloutDecls() {
    std::set<std::set<std::string>> reportedCycles;
    for (const auto& [name, d] : rollouts_) {
      // Aliases (`rollout a = b`) must end in a strategy.
      std::vector<const ast::Decl*> path{d};
      const ast::Decl* cur = d;
      bool cycle = false;
      while (!cur->value.empty() && cur->value.front().kind == ast::ValueKind::Ref) {
        auto it = rollouts_.find(cur->value.front().text);
        if (it == rollouts_.end()) break;
        if (std::find(path.begin(), path.end(), it->second) != path.end()) {
          cycle = it->second == d;  // otherwise `d` only leads into a cycle of others
          break;
        }
        path.push_back(it->second);
        cur = it->second;
      }
      if (cycle) {
        // One report per cycle, at the member declared first in the map's order.
        std::set<std::string> members;
        for (const auto* p : path) members.insert(p->name);
        if (!reportedCycles.insert(members).second) continue;
        std::string chainText;
        for (const auto* p : path) chainText += p->name + " -> ";
        chainText += name;
        auto b = diags_.report(Code::UndefinedReference, d->value.front().range,
                               path.size() == 1 ? fmt::format("rollout `{}` is defined in terms of itself", name)
                                                : fmt::format("rollouts are defined in terms of each other: {}", chainText),
                               "refers back to itself");
        for (const auto* p : path) {
          if (p != d) b.label(p->value.front().range, "part of the cycle");
        }
        b.help("define one of them with a strategy such as `canary { step 10% for 5m }`");
        continue;
      }
      // Checked once without an environment; uses re-check with theirs.
      EvalContext ctx{&out_.model.app, nullptr, true};
      if (!d->value.empty()) eval_.eval(d->value.front(), Ty::Rollout, ctx, name);
    }
  }

  // ---------------------------------------------------------------------------
  // Environments

  void checkEnvironments() {
    if (envOrder_.empty() && app_ && !inputErrors_) {
      diags_.report(Code::NoEnvironments, app_->nameRange, fmt::format("the app `{}` has no environments", app_->name), "nothing to deploy to")
          .help("declare at least one: `environment dev { account = \"123456789012\"  deploy = on_push(\"main\") }`");
    }
    for (const ast::Decl* d : envOrder_) {
      model::Environment e;
      e.name = d->name;
      e.region = out_.model.app.region;
      BodyView v = view(d->body, schemaFor(Scope::Environment), fmt::format("environment `{}`", d->name), BodyMode::Plain);
      envViews_[d->name] = v;
      EvalContext ctx{&out_.model.app, &e, true};
      if (auto* s = get(v, "account")) {
        if (Val r = eval_.eval(s->value(), Ty::Account, ctx, "account"); r.ok) e.account = r.s;
      } else {
        missing(*d, "environment", "account", "\"123456789012\"");
      }
      if (auto* s = get(v, "region")) {
        if (Val r = eval_.eval(s->value(), Ty::Region, ctx, "region"); r.ok) e.region = r.s;
      }
      if (auto* s = get(v, "deploy")) {
        if (Val r = eval_.eval(s->value(), Ty::Deploy, ctx, "deploy"); r.ok) e.deploy = r.deploy;
      } else {
        diags_.report(Code::NoDeployTrigger, d->nameRange, fmt::format("nothing deploys to environment `{}`", d->name), "no `deploy`")
            .help("add `deploy = on_push(\"branch\")` to deploy on every push, or `deploy = manual` to deploy from a workflow run");
      }
      if (v.blocks.count("approval")) {
        model::Approval a;
        const ast::Stmt* block = v.blocks["approval"];
        const ast::Stmt* reviewers = field(v, "approval", "reviewers");
        if (reviewers) {
          if (Val r = eval_.eval(reviewers->value(), Ty::StringList, ctx, "reviewers"); r.ok) a.reviewers = r.list;
        } else {
          diags_.report(Code::MissingAttribute, block->nameRange, "`approval` has no `reviewers`", "`reviewers` missing")
              .help("add `reviewers = [\"org/team\"]`");
        }
        if (const ast::Stmt* req = field(v, "approval", "required")) {
          if (Val r = eval_.eval(req->value(), Ty::Int, ctx, "required"); r.ok) {
            a.required = static_cast<int>(r.n);
            if (a.required < 1) {
              diags_.report(Code::ApprovalCount, req->value().range, "`required` must be at least 1", "too few")
                  .help("remove the `approval` block if no approval is needed");
            } else if (reviewers && !a.reviewers.empty() && a.required > static_cast<int>(a.reviewers.size())) {
              diags_.report(Code::ApprovalCount, req->value().range,
                            fmt::format("{} approvals required but only {} reviewer{} listed", a.required, a.reviewers.size(),
                                        a.reviewers.size() == 1 ? "" : "s"),
                            "more than the reviewers")
                  .label(reviewers->value().range, "the reviewers")
                  .help("list more reviewers or require fewer approvals");
            }
          }
        }
        if (reviewers && a.reviewers.empty() && reviewers->value().kind == ast::ValueKind::List && reviewers->value().items.empty()) {
          diags_.report(Code::ApprovalCount, reviewers->value().range, "`reviewers` is empty", "nobody can approve")
              .help("list GitHub users or teams, like `[\"acme/platform\"]`");
        }
        e.approval = a;
      }
      if (const ast::Stmt* s = field(v, "network", "cidr")) {
        if (Val r = eval_.eval(s->value(), Ty::Cidr, ctx, "cidr"); r.ok) e.network.cidr = r.s;
      } else {
        e.network.cidr = "10.0.0.0/16";
      }
      if (const ast::Stmt* s = field(v, "network", "zones")) {
        if (Val r = eval_.eval(s->value(), Ty::Int, ctx, "zones"); r.ok) {
          e.network.zones = static_cast<int>(r.n);
          const RegionInfo* reg = findRegion(e.region);
          if (e.network.zones < 1) {
            diags_.report(Code::TooManyZones, s->value().range, "`zones` must be at least 1", "too few zones")
                .help("set `zones = 1` or more; an environment with public services needs at least 2");
          } else if (reg && e.network.zones > reg->zones) {
            diags_.report(Code::TooManyZones, s->value().range,
                          fmt::format("`{}` has {} availability zones, not {}", e.region, reg->zones, e.network.zones), "more zones than the region has")
                .help(fmt::format("use at most `zones = {}`", reg->zones));
          }
        }
      }
      if (const ast::Stmt* s = field(v, "network", "nat")) {
        if (Val r = eval_.eval(s->value(), Ty::Nat, ctx, "nat"); r.ok) e.network.nat = r.nat;
      }
      e.rolloutSource = "default";
      if (auto* s = get(v, "rollout")) {
        if (Val r = eval_.eval(s->value(), Ty::Rollout, ctx, "rollout"); r.ok) {
          e.rollout = r.rollout;
          e.rolloutSource = "environment";
        }
      }
      if (auto* s = get(v, "tests")) {
        if (Val r = eval_.eval(s->value(), Ty::StringList, ctx, "tests"); r.ok) e.tests = r.list;
      }
      if (auto* s = get(v, "drift_check")) {
        if (Val r = eval_.eval(s->value(), Ty::Schedule, ctx, "drift_check"); r.ok) e.driftCheck = r.schedule;
      }
      out_.model.environments.push_back(std::move(e));
    }
  }

  // ---------------------------------------------------------------------------
  // Templates, services and jobs

  void checkUnitDecls() {
    auto checkDecl = [&](const ast::Decl& d) {
      std::string owner = fmt::format("{} `{}`", ast::declKeyword(d.kind), d.name);
      unitViews_[&d] = view(d.body, schemaFor(Scope::Unit), owner, BodyMode::Unit, d.kind);
      if (!d.base.empty()) {
        addReference(SymbolKind::Template, d.base, d.baseRange);
        if (!templates_.count(d.base)) {
          if (auto w = workloads_.find(d.base); w != workloads_.end()) {
            diags_.report(Code::ExtendsNotTemplate, d.baseRange,
                          fmt::format("`{}` is a {}; only templates can be extended", d.base, ast::declKeyword(w->second->kind)), "not a template")
                .label(w->second->nameRange, "declared here")
                .help(fmt::format("move what both share into `template {}_base {{ ... }}` and extend that", d.base));
          } else {
            std::vector<std::string> names;
            for (const auto& [n, _] : templates_) names.push_back(n);
            auto b = diags_.report(Code::UndefinedReference, d.baseRange, fmt::format("no template named `{}`", d.base), "undefined template");
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
    for (const auto& [_, d] : templates_) checkDecl(*d);
    for (const auto& [_, d] : workloads_) checkDecl(*d);
    // `extends` cycles among templates.
    std::set<const ast::Decl*> reported;
    for (const auto& [name, d] : templates_) {
      std::vector<const ast::Decl*> path{d};
      const ast::Decl* cur = d;
      while (!cur->base.empty()) {
        auto it = templates_.find(cur->base);
        if (it == templates_.end()) break;
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
            auto b = diags_.report(Code::ExtendsCycle, cur->baseRange,
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

  /// The `extends` chain of a declaration, farthest template first, itself last.
  std::vector<const ast::Decl*> chain(const ast::Decl& d) {
    std::vector<const ast::Decl*> out{&d};
    const ast::Decl* cur = &d;
    while (!cur->base.empty()) {
      auto it = templates_.find(cur->base);
      if (it == templates_.end() || std::find(out.begin(), out.end(), it->second) != out.end()) break;
      cur = it->second;
      out.push_back(cur);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  static void applyBody(Merged& m, const std::vector<ast::Stmt>& body) {
    for (const auto& s : body) {
      if (s.kind == ast::StmtKind::Attr) m.attrs[s.name] = &s;
      if (s.kind == ast::StmtKind::Block) {
        m.blocks[s.name] = &s;
        auto& fields = m.fields[s.name];
        for (const auto& f : s.body) {
          if (f.kind == ast::StmtKind::Attr) fields[f.name] = &f;
        }
      }
    }
  }

  Merged merge(const std::vector<const ast::Decl*>& layers, const std::string& env) {
    Merged m;
    for (const ast::Decl* d : layers) {
      applyBody(m, d->body);
      for (const auto& s : d->body) {
        if (s.kind == ast::StmtKind::Override && s.name == env) applyBody(m, s.body);
      }
    }
    return m;
  }

  /// Evaluates every statement of the layers that applies in `env`, so problems in
  /// values that lose to an override are still reported.
  void evalAll(const std::vector<const ast::Decl*>& layers, const std::string& env, const EvalContext& ctx) {
    const Schema& schema = schemaFor(Scope::Unit);
    auto evalBody = [&](const std::vector<ast::Stmt>& body) {
      for (const auto& s : body) {
        if (s.kind == ast::StmtKind::Attr) {
          if (const AttrSpec* spec = schema.attr(s.name)) eval_.eval(s.value(), spec->type, ctx, s.name);
        } else if (s.kind == ast::StmtKind::Block) {
          const BlockSpec* spec = schema.block(s.name);
          if (!spec) continue;
          for (const auto& f : s.body) {
            if (f.kind != ast::StmtKind::Attr) continue;
            if (spec->map) {
              if (s.name == "env") checkEnvVar(f, ctx);
              else eval_.eval(f.value(), spec->mapType, ctx, f.name);
            } else {
              for (const auto& a : spec->attrs) {
                if (a.name == f.name) eval_.eval(f.value(), a.type, ctx, f.name);
              }
            }
          }
        }
      }
    };
    for (const ast::Decl* d : layers) {
      evalBody(d->body);
      for (const auto& s : d->body) {
        if (s.kind == ast::StmtKind::Override && s.name == env) evalBody(s.body);
      }
    }
  }

  std::optional<std::string> checkEnvVar(const ast::Stmt& f, const EvalContext& ctx) {
    Val r = eval_.eval(f.value(), Ty::String, ctx, f.name);
    if (!r.ok) return std::nullopt;
    if (looksLikeSecretName(f.name) && f.value().kind == ast::ValueKind::String && !f.value().text.empty()) {
      std::string param = "/" + out_.model.app.name + "/${env.name}/" + toLower(f.name);
      std::replace(param.begin(), param.end(), '_', '-');
      diags_.report(Code::SecretInEnv, f.value().range, fmt::format("`{}` looks like a secret but holds a literal value", f.name),
                    "literal value")
          .label(f.nameRange, "the name suggests a secret")
          .help(fmt::format("move it to `secrets {{ {} = ssm(\"{}\") }}` and store the value in SSM Parameter Store", f.name, param))
          .note("values in `env` end up in Git, in the generated task definition and in the ECS console");
      return std::nullopt;
    }
    return r.s;
  }

  void buildWorkloads() {
    const ast::Decl* firstEnvDecl = envOrder_.empty() ? nullptr : envOrder_.front();
    // Templates that nothing extends are still checked, in every environment.
    std::set<const ast::Decl*> used;
    for (const auto& [_, d] : workloads_) {
      for (const ast::Decl* l : chain(*d)) used.insert(l);
    }
    for (auto& env : out_.model.environments) {
      for (const auto& [name, t] : templates_) {
        if (used.count(t) || isStdlib(*t)) continue;
        EvalContext ctx{&out_.model.app, &env, true, &t->name, true};
        evalAll(chain(*t), env.name, ctx);
      }
    }
    (void)firstEnvDecl;

    for (auto& env : out_.model.environments) {
      for (const auto& [name, d] : workloads_) {
        auto layers = chain(*d);
        EvalContext ctx{&out_.model.app, &env, true, &d->name, true};
        evalAll(layers, env.name, ctx);
        Merged m = merge(layers, env.name);
        if (d->kind == ast::DeclKind::Service) {
          env.services.push_back(buildService(*d, layers, m, env, ctx));
        } else {
          env.jobs.push_back(buildJob(*d, layers, m, env, ctx));
        }
      }
      checkEnvironmentServices(env);
    }
  }

  const ast::Stmt* attr(const Merged& m, const std::string& name) const {
    auto it = m.attrs.find(name);
    return it == m.attrs.end() ? nullptr : it->second;
  }
  const ast::Stmt* fieldOf(const Merged& m, const std::string& block, const std::string& name) const {
    auto b = m.fields.find(block);
    if (b == m.fields.end()) return nullptr;
    auto it = b->second.find(name);
    return it == b->second.end() ? nullptr : it->second;
  }

  std::optional<Val> evalAttr(const Merged& m, const std::string& name, Ty t, const EvalContext& ctx) {
    const ast::Stmt* s = attr(m, name);
    if (!s) return std::nullopt;
    Val v = eval_.eval(s->value(), t, ctx, name);
    if (!v.ok) return std::nullopt;
    return v;
  }
  std::optional<Val> evalField(const Merged& m, const std::string& block, const std::string& name, Ty t, const EvalContext& ctx) {
    const ast::Stmt* s = fieldOf(m, block, name);
    if (!s) return std::nullopt;
    Val v = eval_.eval(s->value(), t, ctx, name);
    if (!v.ok) return std::nullopt;
    return v;
  }

  /// Whether `name` is set without any `in` block, or only in some environments.
  std::string missingSuffix(const std::vector<const ast::Decl*>& layers, const std::string& name, const std::string& env) {
    for (const ast::Decl* d : layers) {
      for (const auto& s : d->body) {
        if (s.kind != ast::StmtKind::Override) continue;
        for (const auto& o : s.body) {
          if (o.name == name) return fmt::format(" in environment `{}`", env);
        }
      }
    }
    return {};
  }

  void fillWorkload(model::Workload& w, const ast::Decl& d, const std::vector<const ast::Decl*>& layers, const Merged& m,
                    const model::Environment& env, const EvalContext& ctx) {
    w.name = d.name;
    for (auto it = layers.rbegin() + 1; it != layers.rend(); ++it) w.templates.push_back((*it)->name);
    const char* what = ast::declKeyword(d.kind);
    if (auto v = evalAttr(m, "image", Ty::Image, ctx)) {
      w.image = v->image;
    } else if (!attr(m, "image")) {
      missing(d, what, "image", fmt::format("ecr(\"{}/{}\")", out_.model.app.name, d.name), missingSuffix(layers, "image", env.name));
    }
    if (auto v = evalAttr(m, "build", Ty::String, ctx)) w.build = v->s;
    if (auto v = evalAttr(m, "command", Ty::StringList, ctx)) w.command = v->list;
    if (auto v = evalAttr(m, "cpu", Ty::Cpu, ctx)) w.cpu = static_cast<int>(v->n);
    if (auto v = evalAttr(m, "memory", Ty::Size, ctx)) w.memory = static_cast<int>(v->n);
    if (auto v = evalAttr(m, "log_retention", Ty::Duration, ctx)) {
      const auto& allowed = logRetentionDays();
      double days = v->n / 86400;
      if (std::find(allowed.begin(), allowed.end(), static_cast<int>(days)) == allowed.end() || days != std::floor(days)) {
        std::vector<std::string> opts;
        for (int a : allowed) opts.push_back(fmt::format("{}d", a));
        const ast::Stmt* s = attr(m, "log_retention");
        auto b = diags_.report(Code::InvalidLogRetention, s->value().range,
                               fmt::format("CloudWatch Logs cannot keep logs for `{}{}{}`", s->value().text, s->value().unitSpaced ? " " : "", s->value().unit),
                               "not a retention CloudWatch offers");
        auto nearest = std::lower_bound(allowed.begin(), allowed.end(), static_cast<int>(std::ceil(days)));
        if (nearest != allowed.end()) b.help(fmt::format("the nearest longer retention is `{}d`; the choices are {}", *nearest, fmt::join(opts, ", ")));
      } else {
        w.logRetentionDays = static_cast<int>(days);
      }
    }
    if (auto b = m.fields.find("env"); b != m.fields.end()) {
      for (const auto& [k, s] : b->second) {
        if (auto val = checkEnvVar(*s, ctx)) w.env[k] = *val;
      }
    }
    if (auto b = m.fields.find("secrets"); b != m.fields.end()) {
      for (const auto& [k, s] : b->second) {
        Val v = eval_.eval(s->value(), Ty::Secret, ctx, k);
        if (v.ok) w.secrets[k] = v.secret;
      }
      for (const auto& [k, s] : b->second) {
        if (w.env.count(k)) {
          diags_.report(Code::DuplicateAttribute, s->nameRange, fmt::format("`{}` is both an environment variable and a secret", k), "also in `env`")
              .label(m.fields.at("env").at(k)->nameRange, "set in `env` here")
              .help("keep it in one of the two blocks");
        }
      }
    }
    // Fargate sizes.
    if (!fargateValid(w.cpu, w.memory)) {
      const ast::Stmt* cpuStmt = attr(m, "cpu");
      const ast::Stmt* memStmt = attr(m, "memory");
      auto sizes = fargateMemoryFor(w.cpu);
      SourceRange where = memStmt ? memStmt->value().range : cpuStmt ? cpuStmt->value().range : d.nameRange;
      if (sizes.empty()) {
        std::vector<std::string> cpus;
        for (int c : fargateCpuSizes()) cpus.push_back(fmt::format("{}", c));
        SourceRange cpuWhere = cpuStmt ? cpuStmt->value().range : d.nameRange;
        diags_.report(Code::FargateSize, cpuWhere, fmt::format("Fargate does not offer {} CPU units ({})", w.cpu, cpuText(w.cpu)), "no such Fargate size")
            .help(fmt::format("Fargate CPU sizes are 0.25, 0.5, 1, 2, 4, 8 and 16 vcpu ({} CPU units)", fmt::join(cpus, ", ")));
      } else {
        auto b = diags_.report(Code::FargateSize, where,
                               fmt::format("Fargate does not offer {} with {} of memory", cpuText(w.cpu), memText(w.memory)),
                               fmt::format("{} is not offered with {}", memText(w.memory), cpuText(w.cpu)));
        if (cpuStmt && memStmt) b.label(cpuStmt->value().range, fmt::format("{} set here", cpuText(w.cpu)));
        else if (!cpuStmt) b.note("the CPU is the default, 0.25 vcpu");
        else b.note("the memory is the default, 512 MiB");
        b.help(fmt::format("with {} Fargate offers {}", cpuText(w.cpu), fargateMemoryDescription(w.cpu)));
      }
    }
  }

  model::Service buildService(const ast::Decl& d, const std::vector<const ast::Decl*>& layers, const Merged& m, const model::Environment& env,
                              const EvalContext& ctx) {
    model::Service s;
    fillWorkload(s, d, layers, m, env, ctx);
    if (auto v = evalAttr(m, "replicas", Ty::Int, ctx)) s.replicas = static_cast<int>(v->n);
    if (auto v = evalAttr(m, "port", Ty::Int, ctx)) {
      s.port = static_cast<int>(v->n);
      if (*s.port < 1 || *s.port > 65535) {
        diags_.report(Code::PortOutOfRange, attr(m, "port")->value().range, fmt::format("port {} is outside 1-65535", *s.port), "not a TCP port")
            .help("use the port the container listens on, like `port = 8080`");
        s.port.reset();
      }
    }
    if (auto v = evalAttr(m, "expose", Ty::Expose, ctx)) {
      s.expose = v->expose;
      // Where each hostname is written, for reporting two services that claim one.
      const ast::Value& ev = attr(m, "expose")->value();
      for (std::size_t i = 0; i < s.expose.hosts.size() && i < ev.args.size(); ++i) {
        hostRanges_.emplace(std::pair{d.name, s.expose.hosts[i]}, ev.args[i].value.front().range);
      }
    }
    if (s.expose.kind != model::Expose::Kind::None && !s.port && !attr(m, "port")) {
      diags_.report(Code::MissingAttribute, attr(m, "expose")->value().range,
                    fmt::format("service `{}` is {} but has no `port`", d.name, s.expose.kind == model::Expose::Kind::Public ? "public" : "internal"),
                    "needs a port")
          .help("add `port = 8080` (the port the container listens on)");
    }
    if (m.blocks.count("health")) {
      model::Health h;
      if (auto v = evalField(m, "health", "path", Ty::String, ctx)) {
        h.path = v->s;
        if (h.path.empty() || h.path.front() != '/') {
          const ast::Stmt* p = fieldOf(m, "health", "path");
          diags_.report(Code::HealthPath, p->value().range, fmt::format("health check path `{}` does not start with `/`", h.path), "not an absolute path")
              .help(fmt::format("write `\"/{}\"`", h.path))
              .fix("add the leading `/`", p->value().range, "\"/" + h.path + "\"");
        }
      }
      if (auto v = evalField(m, "health", "interval", Ty::Duration, ctx)) h.intervalSeconds = v->n;
      if (auto v = evalField(m, "health", "timeout", Ty::Duration, ctx)) h.timeoutSeconds = v->n;
      if (auto v = evalField(m, "health", "healthy_threshold", Ty::Int, ctx)) h.healthyThreshold = static_cast<int>(v->n);
      if (auto v = evalField(m, "health", "unhealthy_threshold", Ty::Int, ctx)) h.unhealthyThreshold = static_cast<int>(v->n);
      if (auto v = evalField(m, "health", "grace_period", Ty::Duration, ctx)) h.gracePeriodSeconds = v->n;
      if (h.timeoutSeconds >= h.intervalSeconds) {
        const ast::Stmt* t = fieldOf(m, "health", "timeout");
        const ast::Stmt* i = fieldOf(m, "health", "interval");
        auto b = diags_.report(Code::HealthTimeout, t ? t->value().range : m.blocks.at("health")->nameRange,
                               fmt::format("health check timeout ({}s) must be shorter than its interval ({}s)", fmtNum(h.timeoutSeconds),
                                           fmtNum(h.intervalSeconds)),
                               "not shorter than the interval");
        if (i) b.label(i->value().range, "interval set here");
        else b.note("the interval is the default, 30s");
        if (!t) b.note("the timeout is the default, 5s");
        b.help("a check must finish before the next one starts: lower the timeout or raise the interval");
      }
      if (h.intervalSeconds < 5 || h.intervalSeconds > 300) {
        if (const ast::Stmt* i = fieldOf(m, "health", "interval")) {
          diags_.report(Code::HealthTimeout, i->value().range,
                        fmt::format("health check interval ({}s) must be between 5s and 300s", fmtNum(h.intervalSeconds)), "out of range")
              .help("the load balancer checks health every 5s to 300s");
        }
      }
      if (!s.port && !attr(m, "port")) {
        diags_.report(Code::MissingAttribute, m.blocks.at("health")->nameRange, fmt::format("service `{}` has a health check but no `port`", d.name),
                      "needs a port")
            .help("add `port = 8080` (the port the health path is served on)");
      }
      s.health = h;
    }
    if (m.blocks.count("autoscale")) {
      model::Autoscale a;
      a.min = s.replicas;
      a.max = s.replicas;
      if (auto v = evalField(m, "autoscale", "min", Ty::Int, ctx)) a.min = static_cast<int>(v->n);
      if (auto v = evalField(m, "autoscale", "max", Ty::Int, ctx)) a.max = static_cast<int>(v->n);
      // Without `replicas`, an autoscaled service starts at its minimum.
      if (!attr(m, "replicas") && fieldOf(m, "autoscale", "min")) s.replicas = a.min;
      if (auto v = evalField(m, "autoscale", "cpu", Ty::Percent, ctx)) a.cpuPercent = v->n;
      if (auto v = evalField(m, "autoscale", "memory", Ty::Percent, ctx)) a.memoryPercent = v->n;
      if (auto v = evalField(m, "autoscale", "requests", Ty::Int, ctx)) a.requestsPerTarget = static_cast<int>(v->n);
      const ast::Stmt* minS = fieldOf(m, "autoscale", "min");
      const ast::Stmt* maxS = fieldOf(m, "autoscale", "max");
      if (!fieldOf(m, "autoscale", "cpu") && !fieldOf(m, "autoscale", "memory") && !fieldOf(m, "autoscale", "requests")) {
        diags_.report(Code::MissingAttribute, m.blocks.at("autoscale")->nameRange, "`autoscale` has no target to track", "no target")
            .help("add `cpu = 60%` (or `memory = 70%`, or `requests = 1000` for a public service)");
      }
      if (a.min > a.max) {
        auto b = diags_.report(Code::AutoscaleRange, minS ? minS->value().range : m.blocks.at("autoscale")->nameRange,
                               fmt::format("autoscale minimum {} is greater than its maximum {}", a.min, a.max), "greater than the maximum");
        if (maxS) b.label(maxS->value().range, "maximum set here");
        b.help("swap the two, or raise `max`");
      } else if (s.replicas < a.min || s.replicas > a.max) {
        const ast::Stmt* rep = attr(m, "replicas");
        auto b = diags_.report(Code::ReplicasOutOfRange, rep ? rep->value().range : m.blocks.at("autoscale")->nameRange,
                               fmt::format("`replicas = {}` is outside the autoscale range {}-{}", s.replicas, a.min, a.max), "outside the range");
        if (minS) b.label(minS->value().range, "minimum");
        if (maxS) b.label(maxS->value().range, "maximum");
        b.help("the autoscaler keeps the count within [min, max]; set `replicas` inside it");
      }
      if (a.requestsPerTarget && s.expose.kind != model::Expose::Kind::Public) {
        diags_.report(Code::TrafficShiftNeedsAlb, fieldOf(m, "autoscale", "requests")->value().range,
                      "scaling on requests needs a load balancer, but the service is not public", "no load balancer")
            .help("scale on `cpu` or `memory` instead");
      }
      s.autoscale = a;
    }
    if (auto v = evalAttr(m, "depends_on", Ty::NameList, ctx)) {
      for (const auto& [dep, range] : v->names) {
        addReference(SymbolKind::Service, dep, range);
        auto w = workloads_.find(dep);
        if (w == workloads_.end() || w->second->kind != ast::DeclKind::Service) {
          std::vector<std::string> names;
          for (const auto& [n, decl] : workloads_) {
            if (decl->kind == ast::DeclKind::Service && n != d.name) names.push_back(n);
          }
          auto b = diags_.report(Code::UndefinedReference, range,
                                 w == workloads_.end() ? fmt::format("no service named `{}`", dep) : fmt::format("`{}` is a job, not a service", dep),
                                 "not a service");
          if (auto best = closestMatch(dep, names)) {
            b.help(fmt::format("did you mean `{}`?", *best));
            b.fix(fmt::format("replace with `{}`", *best), range, *best);
          }
          continue;
        }
        if (dep == d.name) {
          diags_.report(Code::DependencyCycle, range, fmt::format("service `{}` depends on itself", dep), "itself")
              .help(fmt::format("remove `{}` from its own `depends_on`", dep));
          continue;
        }
        s.dependsOn.push_back(dep);
        depRanges_.emplace(std::pair{d.name, dep}, range);
      }
      std::sort(s.dependsOn.begin(), s.dependsOn.end());
      s.dependsOn.erase(std::unique(s.dependsOn.begin(), s.dependsOn.end()), s.dependsOn.end());
    }
    // The rollout: the service's own, or the environment's.
    bool lb = s.expose.kind == model::Expose::Kind::Public;
    if (const ast::Stmt* rs = attr(m, "rollout")) {
      Val v = eval_.eval(rs->value(), Ty::Rollout, ctx, "rollout");
      if (v.ok) {
        s.rollout = v.rollout;
        s.rolloutSource = "service";
        if (!lb && s.rollout.shiftsTraffic()) {
          diags_.report(Code::TrafficShiftNeedsAlb, rs->value().range,
                        fmt::format("a {} rollout shifts load balancer traffic, but service `{}` is not public", model::toString(s.rollout.kind), d.name),
                        "needs a load balancer")
              .help("use `rolling { ... }` for services without `expose = public(...)`");
        } else if (!lb) {
          for (const auto& c : s.rollout.rollback) {
            const MetricInfo* info = findMetric(c.metric);
            if (info && info->needsLoadBalancer) {
              SourceRange where = rs->value().range;
              if (rs->value().kind == ast::ValueKind::Object) {
                for (const auto& st : rs->value().body) {
                  if (st.kind == ast::StmtKind::Rollback && !st.values.empty() && st.values[0].text == c.metric) {
                    where = st.values[0].range;
                    break;
                  }
                }
              }
              diags_.report(Code::TrafficShiftNeedsAlb, where,
                            fmt::format("`{}` is measured at the load balancer, but service `{}` is not public", c.metric, d.name),
                            "metric needs a load balancer")
                  .help("roll back on `cpu`, `memory` or an `alarm(...)` instead");
              break;
            }
          }
        }
      }
    } else if (env.rolloutSource == "environment") {
      s.rollout = env.rollout;
      s.rolloutSource = "environment";
      if (!lb && (s.rollout.shiftsTraffic() || std::any_of(s.rollout.rollback.begin(), s.rollout.rollback.end(), [](const auto& c) {
                    const MetricInfo* info = findMetric(c.metric);
                    return info && info->needsLoadBalancer;
                  }))) {
        // Without a load balancer there is no traffic to shift: roll in place,
        // keeping the conditions that do not need one.
        model::Rollout fallback;
        fallback.preset.clear();
        for (const auto& c : env.rollout.rollback) {
          const MetricInfo* info = findMetric(c.metric);
          if (!info || !info->needsLoadBalancer) fallback.rollback.push_back(c);
        }
        if (env.rollout.kind == model::Rollout::Kind::Rolling) {
          fallback.minHealthyPercent = env.rollout.minHealthyPercent;
          fallback.maxPercent = env.rollout.maxPercent;
        }
        s.rollout = fallback;
        s.rolloutSource = "fallback";
      }
    } else {
      s.rolloutSource = "default";
    }
    return s;
  }

  model::Job buildJob(const ast::Decl& d, const std::vector<const ast::Decl*>& layers, const Merged& m, const model::Environment& env,
                      const EvalContext& ctx) {
    model::Job j;
    fillWorkload(j, d, layers, m, env, ctx);
    if (auto v = evalAttr(m, "schedule", Ty::Schedule, ctx)) {
      j.schedule = v->schedule;
    } else if (!attr(m, "schedule")) {
      missing(d, "job", "schedule", "cron(\"0 3 * * *\")", missingSuffix(layers, "schedule", env.name));
    }
    if (auto v = evalAttr(m, "timeout", Ty::Duration, ctx)) j.timeoutSeconds = v->n;
    return j;
  }

  void checkEnvironmentServices(model::Environment& env) {
    // Hostnames are routed by one load balancer per environment.
    std::map<std::string, const model::Service*> hosts;
    for (const auto& s : env.services) {
      for (const auto& h : s.expose.hosts) {
        auto [it, inserted] = hosts.emplace(h, &s);
        if (!inserted) hostClashes_[{it->second->name, s.name, h}].push_back(env.name);
      }
    }
    bool anyPublic = std::any_of(env.services.begin(), env.services.end(), [](const auto& s) { return s.expose.kind == model::Expose::Kind::Public; });
    if (anyPublic && env.network.zones < 2) {
      const ast::Decl* d = envs_.at(env.name);
      const ast::Stmt* z = field(envViews_[env.name], "network", "zones");
      diags_.report(Code::TooManyZones, z ? z->value().range : d->nameRange,
                    fmt::format("environment `{}` has public services, and a load balancer needs at least 2 zones", env.name), "too few zones")
          .help("set `zones = 2` or more");
    }
    // depends_on cycles.
    std::map<std::string, const model::Service*> byName;
    for (const auto& s : env.services) byName[s.name] = &s;
    std::map<std::string, int> state;
    std::vector<std::string> stack;
    std::function<void(const std::string&)> visit = [&](const std::string& n) {
      state[n] = 1;
      stack.push_back(n);
      for (const auto& dep : byName[n]->dependsOn) {
        if (!byName.count(dep)) continue;
        if (state[dep] == 1) {
          auto pos = std::find(stack.begin(), stack.end(), dep);
          std::string chainText;
          for (auto p = pos; p != stack.end(); ++p) chainText += *p + " -> ";
          chainText += dep;
          auto edge = [&](const std::string& from, const std::string& to) {
            auto it = depRanges_.find({from, to});
            return it != depRanges_.end() ? it->second : workloads_.at(from)->nameRange;
          };
          auto b = diags_.report(Code::DependencyCycle, edge(n, dep), fmt::format("services depend on each other in a cycle: {}", chainText),
                                 fmt::format("`{}` depends on `{}`, closing the cycle", n, dep));
          for (auto p = pos; p + 1 != stack.end(); ++p) b.label(edge(*p, *(p + 1)), fmt::format("`{}` depends on `{}`", *p, *(p + 1)));
          b.help("remove one `depends_on` so the services can be deployed in some order");
        } else if (state[dep] == 0) {
          visit(dep);
        }
      }
      stack.pop_back();
      state[n] = 2;
    };
    for (const auto& s : env.services) {
      if (state[s.name] == 0) visit(s.name);
    }
  }

  /// Two services claiming one hostname, reported once for all the environments where
  /// they do (usually every one).
  void reportHostClashes() {
    for (const auto& [key, envs] : hostClashes_) {
      // Not a structured binding: clang 14 cannot capture one in the lambda below.
      const std::string& first = std::get<0>(key);
      const std::string& second = std::get<1>(key);
      const std::string& host = std::get<2>(key);
      std::string where;
      if (envs.size() < out_.model.environments.size()) {
        where = fmt::format(" in environment{} {}", envs.size() == 1 ? "" : "s", joinQuoted(envs, " and "));
      }
      auto hostRange = [&](const std::string& service) {
        auto it = hostRanges_.find({service, host});
        return it != hostRanges_.end() ? it->second : workloads_.at(service)->nameRange;
      };
      diags_.report(Code::DuplicateHostname, hostRange(second),
                    fmt::format("services `{}` and `{}` both claim `{}`{}", first, second, host, where), fmt::format("`{}` claims `{}`", second, host))
          .label(hostRange(first), fmt::format("`{}` claims it too", first))
          .help("every hostname routes to one service; give each its own");
    }
  }

  // ---------------------------------------------------------------------------
  // Promotions

  void checkPromotions() {
    std::map<std::pair<std::string, std::string>, const ast::Decl*> seen;
    std::vector<std::string> envNames;
    for (const auto* e : envOrder_) envNames.push_back(e->name);
    for (const ast::Decl* p : promotes_) {
      bool ok = true;
      for (auto [name, range] : {std::pair{p->name, p->nameRange}, std::pair{p->base, p->baseRange}}) {
        addReference(SymbolKind::Environment, name, range);
        if (!envs_.count(name)) {
          auto b = diags_.report(Code::PromotionUnknownEnv, range, fmt::format("`promote` names an unknown environment `{}`", name), "unknown environment");
          if (auto m = closestMatch(name, envNames)) {
            b.help(fmt::format("did you mean `{}`?", *m));
            b.fix(fmt::format("replace with `{}`", *m), range, *m);
          } else if (!envNames.empty()) {
            b.help(fmt::format("the environments are {}", joinQuoted(envNames, " and ")));
          }
          ok = false;
        }
      }
      if (p->name == p->base && ok) {
        diags_.report(Code::PromotionCycle, p->baseRange, fmt::format("`{}` is promoted to itself", p->name), "same environment")
            .help("a promotion moves an image from one environment to another");
        continue;
      }
      auto [it, inserted] = seen.emplace(std::pair{p->name, p->base}, p);
      if (!inserted) {
        diags_.report(Code::DuplicateDeclaration, p->keywordRange, fmt::format("`promote {} -> {}` is declared twice", p->name, p->base), "again here")
            .label(it->second->keywordRange, "first here")
            .help("merge the gates into one declaration");
        continue;
      }
      model::Promotion promo{p->name, p->base, {}};
      BodyView v = view(p->body, schemaFor(Scope::Promote), fmt::format("`promote {} -> {}`", p->name, p->base), BodyMode::Plain);
      if (auto* s = get(v, "after")) {
        Val r = eval_.eval(s->value(), Ty::GateList, EvalContext{&out_.model.app, nullptr, false}, "after");
        if (r.ok) promo.gates = r.gates;
        if (r.ok && ok) {
          for (std::size_t i = 0; i < promo.gates.size(); ++i) {
            const auto& g = promo.gates[i];
            if (g.kind == model::Gate::Kind::Approval && !envViews_[p->base].blocks.count("approval")) {
              diags_.report(Code::MissingAttribute, s->value().items[i].range,
                            fmt::format("the `approval` gate needs reviewers, but environment `{}` has no `approval` block", p->base),
                            "nobody to approve")
                  .label(envs_.at(p->base)->nameRange, "declared here")
                  .help(fmt::format("add `approval {{ reviewers = [\"org/team\"]  required = 1 }}` to `{}`", p->base));
            }
          }
        }
      }
      if (ok) out_.model.promotions.push_back(std::move(promo));
    }
    // Cycles in the promotion graph.
    std::map<std::string, std::vector<const model::Promotion*>> outEdges;
    for (const auto& pr : out_.model.promotions) outEdges[pr.from].push_back(&pr);
    std::map<std::string, int> state;
    std::vector<std::string> stack;
    std::set<std::set<std::string>> reported;
    std::function<void(const std::string&)> visit = [&](const std::string& n) {
      state[n] = 1;
      stack.push_back(n);
      for (const auto* e : outEdges[n]) {
        if (state[e->to] == 1) {
          auto pos = std::find(stack.begin(), stack.end(), e->to);
          std::set<std::string> members(pos, stack.end());
          if (reported.insert(members).second) {
            std::string chainText;
            for (auto q = pos; q != stack.end(); ++q) chainText += *q + " -> ";
            chainText += e->to;
            const ast::Decl* decl = seen.at({e->from, e->to});
            auto b = diags_.report(Code::PromotionCycle, decl->keywordRange, fmt::format("promotions form a cycle: {}", chainText), "closes the cycle");
            for (auto q = pos; q + 1 != stack.end(); ++q) {
              if (auto it = seen.find({*q, *(q + 1)}); it != seen.end()) b.label(it->second->keywordRange, "part of the cycle");
            }
            b.help("images move one way, from earlier environments to later ones; remove one of these promotions");
          }
        } else if (state[e->to] == 0) {
          visit(e->to);
        }
      }
      stack.pop_back();
      state[n] = 2;
    };
    for (const auto& pr : out_.model.promotions) {
      if (state[pr.from] == 0) visit(pr.from);
    }
  }

  // ---------------------------------------------------------------------------
  // Across environments

  void crossEnvironmentChecks() {
    auto& envs = out_.model.environments;
    for (std::size_t i = 0; i < envs.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        const auto& a = envs[j];
        const auto& b = envs[i];
        if (a.deploy.kind == model::Deploy::Kind::OnPush && b.deploy.kind == model::Deploy::Kind::OnPush && a.deploy.branch == b.deploy.branch &&
            !a.deploy.branch.empty()) {
          const ast::Stmt* sa = get(envViews_[a.name], "deploy");
          const ast::Stmt* sb = get(envViews_[b.name], "deploy");
          diags_.report(Code::DuplicateDeployBranch, sb->value().range,
                        fmt::format("environments `{}` and `{}` both deploy on pushes to `{}`", a.name, b.name, b.deploy.branch),
                        fmt::format("`{}` deploys on `{}`", b.name, b.deploy.branch))
              .label(sa->value().range, fmt::format("`{}` deploys on `{}` too", a.name, a.deploy.branch))
              .help("give each environment its own branch, and reach later environments with `promote` or `deploy = manual`");
        }
        if (!a.account.empty() && a.account == b.account && a.region == b.region) {
          auto ca = parseCidr(a.network.cidr), cb = parseCidr(b.network.cidr);
          if (ca && cb && overlaps(*ca, *cb)) {
            const ast::Stmt* sa = field(envViews_[a.name], "network", "cidr");
            const ast::Stmt* sb = field(envViews_[b.name], "network", "cidr");
            auto d = diags_.report(Code::CidrOverlap, sb ? sb->value().range : envs_.at(b.name)->nameRange,
                                   fmt::format("the networks of `{}` (`{}`) and `{}` (`{}`) overlap in account `{}`", a.name, a.network.cidr, b.name,
                                               b.network.cidr, a.account),
                                   "overlaps");
            if (sa) d.label(sa->value().range, fmt::format("`{}` uses this range", a.name));
            if (!sa || !sb) d.note("an environment without `network { cidr = ... }` uses `10.0.0.0/16`");
            d.help("overlapping VPCs cannot be peered or routed to each other; give each environment its own range");
          }
        }
      }
    }
  }

  /// Environments in promotion order: sources before targets, otherwise as declared.
  void orderEnvironments() {
    auto& envs = out_.model.environments;
    std::map<std::string, int> indegree;
    std::map<std::string, std::size_t> declIndex;
    for (std::size_t i = 0; i < envs.size(); ++i) {
      declIndex[envs[i].name] = i;
      indegree[envs[i].name] = 0;
    }
    for (const auto& p : out_.model.promotions) {
      if (indegree.count(p.to)) ++indegree[p.to];
    }
    std::vector<model::Environment> ordered;
    std::vector<bool> taken(envs.size(), false);
    while (ordered.size() < envs.size()) {
      std::size_t pick = envs.size();
      for (std::size_t i = 0; i < envs.size(); ++i) {
        if (!taken[i] && indegree[envs[i].name] == 0) {
          pick = i;
          break;
        }
      }
      if (pick == envs.size()) {  // a cycle (reported): keep declaration order
        for (std::size_t i = 0; i < envs.size(); ++i) {
          if (!taken[i]) {
            pick = i;
            break;
          }
        }
      }
      taken[pick] = true;
      for (const auto& p : out_.model.promotions) {
        if (p.from == envs[pick].name && indegree.count(p.to)) --indegree[p.to];
      }
      ordered.push_back(std::move(envs[pick]));
    }
    envs = std::move(ordered);
    for (const auto& f : prog_.entries) out_.model.sourceFiles.push_back(prog_.sources.file(f).path());
    for (FileId f = 0; f < prog_.files.size(); ++f) {
      if (std::find(prog_.entries.begin(), prog_.entries.end(), f) == prog_.entries.end()) {
        out_.model.sourceFiles.push_back(prog_.sources.file(f).path());
      }
    }
  }

  const Program& prog_;
  diag::DiagnosticEngine& diags_;
  bool inputErrors_ = false;
  Analysis out_;
  const ast::Decl* app_ = nullptr;
  std::map<std::string, const ast::Decl*> envs_;
  std::vector<const ast::Decl*> envOrder_;
  std::map<std::string, const ast::Decl*> templates_;
  std::map<std::string, const ast::Decl*> workloads_;
  std::map<std::string, const ast::Decl*> rollouts_;
  std::vector<std::string> stdlibRollouts_;
  std::vector<const ast::Decl*> promotes_;
  std::map<std::string, BodyView> envViews_;
  std::map<const ast::Decl*, BodyView> unitViews_;
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<std::string>> hostClashes_;
  std::map<std::pair<std::string, std::string>, SourceRange> hostRanges_;  ///< (service, host) -> where the host is written
  std::map<std::pair<std::string, std::string>, SourceRange> depRanges_;   ///< (service, dependency) -> where `depends_on` names it
  Evaluator eval_;
};

}  // namespace

Analysis analyze(const Program& program, diag::DiagnosticEngine& diags) {
  Checker checker(program, diags);
  return checker.run();
}

}  // namespace gops::sema
