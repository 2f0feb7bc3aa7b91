// The build pass for the bodies that are written once: the app, named rollouts,
// environments and promotions.
#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "sema/checking.h"
#include "sema/fill.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema::detail {

using diag::Code;

namespace {

/// The values of one body that is not layered (app, environment, promote), each
/// evaluated once, when first asked for.
class BodyValues {
 public:
  BodyValues(CheckState& st, const BodyView& v, const EvalContext& ctx) : st_(st), v_(v), ctx_(ctx) {}

  /// The statement of an attribute or block field, or null when it is not written.
  const ast::Stmt* stmt(AttrId id) const {
    const AttrSpec& a = attrSpec(id);
    return a.block.empty() ? v_.attr(std::string(a.name)) : v_.field(std::string(a.block), std::string(a.name));
  }
  /// Its value when it is written and evaluated without problems, else null.
  const Val* operator()(AttrId id) {
    auto& slot = values_[static_cast<std::size_t>(id)];
    if (!slot) {
      const ast::Stmt* s = stmt(id);
      if (!s) return nullptr;
      slot = st_.eval.eval(s->value(), attrSpec(id).type, ctx_, s->name);
    }
    return slot->ok ? &*slot : nullptr;
  }

 private:
  CheckState& st_;
  const BodyView& v_;
  const EvalContext& ctx_;
  std::array<std::optional<Val>, kAttrCount> values_;
};

}  // namespace

void buildApp(CheckState& st) {
  const ast::Decl* app = st.decls.app;
  if (!app) {
    if (st.inputErrors) return;
    FileId first = st.prog.entries.empty() ? (st.prog.files.empty() ? kNoFile : FileId{0}) : st.prog.entries.front();
    if (first != kNoFile) {
      st.diags.report(Code::MissingApp, {first, 0, 0}, "the spec has no `app` declaration", "expected `app NAME { ... }`")
          .help("add `app NAME { region = \"us-east-1\"  repository = \"owner/name\"  registry = \"123456789012\" }`");
    }
    return;
  }
  auto& a = st.out.model.app;
  a.name = app->name;
  a.sourceFile = st.prog.sources.file(app->range.file).path();
  BodyView v = checkShape(st, app->body, schemaFor(Scope::App), "the `app` block", BodyMode::Plain);
  EvalContext ctx{&a, nullptr, false};
  BodyValues values(st, v, ctx);
  fill(a, Scope::App, "", values);
  if (!values.stmt(AttrId::AppRegion)) reportMissing(st, *app, "app", "region", "\"us-east-1\"");
  if (!values.stmt(AttrId::AppRepository)) reportMissing(st, *app, "app", "repository", "\"owner/name\"");
  if (!values.stmt(AttrId::AppRegistry)) {
    reportMissing(st, *app, "app", "registry", "\"123456789012\"", " (the AWS account that holds the images)");
  }
}

void checkRolloutDecls(CheckState& st) {
  std::set<std::set<std::string>> reportedCycles;
  const auto& rollouts = st.decls.rollouts;
  for (const auto& [name, d] : rollouts) {
    // Aliases (`rollout a = b`) must end in a strategy.
    std::vector<const ast::Decl*> path{d};
    const ast::Decl* cur = d;
    bool cycle = false;
    while (!cur->value.empty() && cur->value.front().kind == ast::ValueKind::Ref) {
      auto it = rollouts.find(cur->value.front().text);
      if (it == rollouts.end()) break;
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
      auto b = st.diags.report(Code::UndefinedReference, d->value.front().range,
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
    EvalContext ctx{&st.out.model.app, nullptr, true};
    if (!d->value.empty()) st.eval.eval(d->value.front(), Ty::Rollout, ctx, name);
  }
}

namespace {

void buildApproval(CheckState& st, const BodyView& v, BodyValues& values, model::Environment& e) {
  const ast::Stmt* block = v.blocks.at("approval");
  model::Approval a;
  fill(a, Scope::Environment, "approval", values);
  const ast::Stmt* reviewers = values.stmt(AttrId::ApprovalReviewers);
  if (!reviewers) {
    st.diags.report(Code::MissingAttribute, block->nameRange, "`approval` has no `reviewers`", "`reviewers` missing")
        .help("add `reviewers = [\"org/team\"]`");
  }
  if (values(AttrId::ApprovalRequired)) {
    const ast::Stmt* req = values.stmt(AttrId::ApprovalRequired);
    if (a.required < 1) {
      st.diags.report(Code::ApprovalCount, req->value().range, "`required` must be at least 1", "too few")
          .help("remove the `approval` block if no approval is needed");
    } else if (reviewers && !a.reviewers.empty() && a.required > static_cast<int>(a.reviewers.size())) {
      st.diags.report(Code::ApprovalCount, req->value().range,
                      fmt::format("{} approvals required but only {} reviewer{} listed", a.required, a.reviewers.size(),
                                  a.reviewers.size() == 1 ? "" : "s"),
                      "more than the reviewers")
          .label(reviewers->value().range, "the reviewers")
          .help("list more reviewers or require fewer approvals");
    }
  }
  if (reviewers && a.reviewers.empty() && reviewers->value().kind == ast::ValueKind::List && reviewers->value().items.empty()) {
    st.diags.report(Code::ApprovalCount, reviewers->value().range, "`reviewers` is empty", "nobody can approve")
        .help("list GitHub users or teams, like `[\"acme/platform\"]`");
  }
  e.approval = a;
}

void buildNetwork(CheckState& st, BodyValues& values, model::Environment& e) {
  fill(e.network, Scope::Environment, "network", values);
  if (values(AttrId::NetworkZones)) {
    const ast::Stmt* s = values.stmt(AttrId::NetworkZones);
    const RegionInfo* reg = findRegion(e.region);
    if (e.network.zones < 1) {
      st.diags.report(Code::TooManyZones, s->value().range, "`zones` must be at least 1", "too few zones")
          .help("set `zones = 1` or more; an environment with public services needs at least 2");
    } else if (reg && e.network.zones > reg->zones) {
      st.diags.report(Code::TooManyZones, s->value().range,
                      fmt::format("`{}` has {} availability zones, not {}", e.region, reg->zones, e.network.zones), "more zones than the region has")
          .help(fmt::format("use at most `zones = {}`", reg->zones));
    }
  }
}

}  // namespace

void buildEnvironments(CheckState& st) {
  const ast::Decl* app = st.decls.app;
  if (st.decls.envOrder.empty() && app && !st.inputErrors) {
    st.diags.report(Code::NoEnvironments, app->nameRange, fmt::format("the app `{}` has no environments", app->name), "nothing to deploy to")
        .help("declare at least one: `environment dev { account = \"123456789012\"  deploy = on_push(\"main\") }`");
  }
  for (const ast::Decl* d : st.decls.envOrder) {
    model::Environment e;
    e.name = d->name;
    e.region = st.out.model.app.region;
    const BodyView& v = st.envViews[d->name] =
        checkShape(st, d->body, schemaFor(Scope::Environment), fmt::format("environment `{}`", d->name), BodyMode::Plain);
    // `${env.region}` and `${env.account}` read what the attributes before them set:
    // `account` and `region` come first in the table.
    EvalContext ctx{&st.out.model.app, &e, true};
    BodyValues values(st, v, ctx);
    fill(e, Scope::Environment, "", values);
    if (!values.stmt(AttrId::EnvAccount)) reportMissing(st, *d, "environment", "account", "\"123456789012\"");
    if (!values.stmt(AttrId::EnvDeploy)) {
      st.diags.report(Code::NoDeployTrigger, d->nameRange, fmt::format("nothing deploys to environment `{}`", d->name), "no `deploy`")
          .help("add `deploy = on_push(\"branch\")` to deploy on every push, or `deploy = manual` to deploy from a workflow run");
    }
    e.rolloutSource = values(AttrId::EnvRollout) ? "environment" : "default";
    if (v.blocks.count("approval")) buildApproval(st, v, values, e);
    buildNetwork(st, values, e);
    st.out.model.environments.push_back(std::move(e));
  }
}

void buildPromotions(CheckState& st) {
  std::map<std::pair<std::string, std::string>, const ast::Decl*> seen;
  std::vector<std::string> envNames;
  for (const auto* e : st.decls.envOrder) envNames.push_back(e->name);
  for (const ast::Decl* p : st.decls.promotes) {
    bool ok = true;
    for (auto [name, range] : {std::pair{p->name, p->nameRange}, std::pair{p->base, p->baseRange}}) {
      st.addReference(SymbolKind::Environment, name, range);
      if (!st.decls.envs.count(name)) {
        auto b = st.diags.report(Code::PromotionUnknownEnv, range, fmt::format("`promote` names an unknown environment `{}`", name),
                                 "unknown environment");
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
      st.diags.report(Code::PromotionCycle, p->baseRange, fmt::format("`{}` is promoted to itself", p->name), "same environment")
          .help("a promotion moves an image from one environment to another");
      continue;
    }
    auto [it, inserted] = seen.emplace(std::pair{p->name, p->base}, p);
    if (!inserted) {
      st.diags.report(Code::DuplicateDeclaration, p->keywordRange, fmt::format("`promote {} -> {}` is declared twice", p->name, p->base), "again here")
          .label(it->second->keywordRange, "first here")
          .help("merge the gates into one declaration");
      continue;
    }
    model::Promotion promo{p->name, p->base, {}};
    BodyView v = checkShape(st, p->body, schemaFor(Scope::Promote), fmt::format("`promote {} -> {}`", p->name, p->base), BodyMode::Plain);
    EvalContext ctx{&st.out.model.app, nullptr, false};
    BodyValues values(st, v, ctx);
    fill(promo, Scope::Promote, "", values);
    if (values(AttrId::PromoteAfter) && ok) {
      const ast::Stmt* s = values.stmt(AttrId::PromoteAfter);
      for (std::size_t i = 0; i < promo.gates.size(); ++i) {
        const auto& g = promo.gates[i];
        if (g.kind == model::Gate::Kind::Approval && !st.envViews[p->base].blocks.count("approval")) {
          st.diags.report(Code::MissingAttribute, s->value().items[i].range,
                          fmt::format("the `approval` gate needs reviewers, but environment `{}` has no `approval` block", p->base),
                          "nobody to approve")
              .label(st.decls.envs.at(p->base)->nameRange, "declared here")
              .help(fmt::format("add `approval {{ reviewers = [\"org/team\"]  required = 1 }}` to `{}`", p->base));
        }
      }
    }
    if (ok) st.out.model.promotions.push_back(std::move(promo));
  }
  checkPromotionCycles(st, seen);
}

}  // namespace gops::sema::detail
