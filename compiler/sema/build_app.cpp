// The build pass for the bodies that are written once: the app, named rollouts,
// environments and promotions.
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "sema/checking.h"
#include "sema/eval_util.h"
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

std::vector<std::string> splitColons(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t c = s.find(':', start);
    if (out.size() == 5 || c == std::string::npos) {
      out.push_back(s.substr(start));  // the resource part keeps its own colons
      return out;
    }
    out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
}

/// `existing(...)` in the network block: the VPC and subnets, and what they replace.
void buildExistingNetwork(CheckState& st, const BodyView& v, BodyValues& values, model::Environment& e) {
  model::Network& n = e.network;
  const ast::Stmt* vpc = values.stmt(AttrId::NetworkVpc);
  const ast::Stmt* priv = values.stmt(AttrId::NetworkPrivateSubnets);
  const ast::Stmt* pub = values.stmt(AttrId::NetworkPublicSubnets);
  if (!vpc) {
    for (const ast::Stmt* s : {priv, pub}) {
      if (!s) continue;
      st.diags.report(Code::ExistingConflict, s->nameRange, fmt::format("`{}` lists subnets of an existing VPC, and the network has none", s->name),
                      "no existing VPC")
          .help("add `vpc = existing(\"vpc-...\")`, or remove the list and let the environment create its subnets");
    }
    return;
  }
  if (values(AttrId::NetworkVpc) && !validResourceId(n.existingVpc, "vpc")) {
    st.diags.report(Code::InvalidResourceId, vpc->value().range, fmt::format("`{}` is not a VPC id", n.existingVpc), "not a VPC id")
        .help("VPC ids are `vpc-` and 8 or 17 hexadecimal digits, like `vpc-0abc1234def567890`");
  }
  for (AttrId id : {AttrId::NetworkCidr, AttrId::NetworkNat}) {
    if (const ast::Stmt* s = values.stmt(id)) {
      st.diags.report(Code::ExistingConflict, s->nameRange,
                      fmt::format("`{}` is the existing VPC's own: the environment creates no VPC, NAT or subnets", s->name), "not with `existing`")
          .label(vpc->value().range, "the existing VPC")
          .help(fmt::format("remove `{}`", s->name));
    }
  }
  for (const auto& [s, list] : {std::pair{priv, &n.privateSubnets}, std::pair{pub, &n.publicSubnets}}) {
    if (!s || !values(s == priv ? AttrId::NetworkPrivateSubnets : AttrId::NetworkPublicSubnets)) continue;
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (validResourceId((*list)[i], "subnet")) continue;
      const auto& items = s->value().items;
      st.diags.report(Code::InvalidResourceId, i < items.size() ? items[i].range : s->value().range,
                      fmt::format("`{}` is not a subnet id", (*list)[i]), "not a subnet id")
          .help("subnet ids are `subnet-` and 8 or 17 hexadecimal digits");
    }
    if (list->empty()) {
      st.diags.report(Code::MissingAttribute, s->value().range, fmt::format("`{}` is empty", s->name), "no subnets")
          .help("list one subnet per zone, or remove the list to find them by their `Tier` tag");
    }
  }
  if (priv && !n.privateSubnets.empty()) {
    if (const ast::Stmt* z = values.stmt(AttrId::NetworkZones)) {
      if (values(AttrId::NetworkZones) && n.zones != static_cast<int>(n.privateSubnets.size())) {
        st.diags.report(Code::ExistingConflict, z->value().range,
                        fmt::format("`zones = {}`, and `private_subnets` lists {}: with listed subnets, the zones are theirs", n.zones,
                                    n.privateSubnets.size()),
                        "not the number of subnets")
            .label(priv->value().range, "the subnets")
            .help("remove `zones`");
      }
    }
    n.zones = static_cast<int>(n.privateSubnets.size());
  }
  n.cidr.clear();  // the VPC's own, unknown here
  (void)v;
}

/// `load_balancer`, `cluster`, `notify`, `dns`: what the environment uses instead of creating.
void buildExisting(CheckState& st, BodyValues& values, model::Environment& e) {
  const std::string partition = partitionOfRegion(e.region);
  if (values(AttrId::EnvLoadBalancer)) {
    const ast::Stmt* s = values.stmt(AttrId::EnvLoadBalancer);
    std::optional<std::string> problem = arnProblem(e.existingLoadBalancer, partition, "elasticloadbalancing");
    if (!problem) {
      // arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID
      auto parts = splitColons(e.existingLoadBalancer);
      if (parts.size() < 6 || parts[5].rfind("loadbalancer/app/", 0) != 0) problem = "it is not an application load balancer (`loadbalancer/app/NAME/ID`)";
      else if (parts[3] != e.region) problem = fmt::format("it is in `{}`, and the environment in `{}`", parts[3], e.region);
      else if (!e.account.empty() && parts[4] != e.account) problem = fmt::format("it is in account `{}`, and the environment in `{}`", parts[4], e.account);
    }
    if (problem) {
      st.diags.report(Code::InvalidArn, s->value().range, fmt::format("`{}` is not a load balancer the environment can use: {}", e.existingLoadBalancer, *problem),
                      "not this environment's load balancer")
          .help(fmt::format("write the ALB's ARN, like `existing(\"arn:{}:elasticloadbalancing:{}:{}:loadbalancer/app/shared/0123456789abcdef\")`",
                            partition, e.region, e.account.empty() ? "123456789012" : e.account));
    }
  }
  if (values(AttrId::EnvCluster)) {
    const ast::Stmt* s = values.stmt(AttrId::EnvCluster);
    const std::string& c = e.existingCluster;
    bool name = c.size() <= 255 && std::all_of(c.begin(), c.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'; });
    std::optional<std::string> problem;
    if (c.rfind("arn:", 0) == 0) {
      problem = arnProblem(c, partition, "ecs");
      if (!problem) {
        // arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME: a service runs in a cluster of its own account and region.
        auto parts = splitColons(c);
        if (parts[5].rfind("cluster/", 0) != 0) problem = "it is not a cluster (`cluster/NAME`)";
        else if (parts[3] != e.region) problem = fmt::format("it is in `{}`, and the environment in `{}`", parts[3], e.region);
        else if (!e.account.empty() && parts[4] != e.account) problem = fmt::format("it is in account `{}`, and the environment in `{}`", parts[4], e.account);
      }
    } else if (!name) {
      problem = "cluster names are letters, digits, `_` and `-`";
    }
    if (problem) {
      st.diags.report(Code::InvalidArn, s->value().range, fmt::format("`{}` is not an ECS cluster: {}", c, *problem), "not a cluster")
          .help("write the cluster's name, like `existing(\"shared\")`, or its ARN");
    }
  }
  if (values.stmt(AttrId::EnvLoadBalancer) && !values.stmt(AttrId::NetworkVpc)) {
    st.diags.report(Code::ExistingConflict, values.stmt(AttrId::EnvLoadBalancer)->nameRange,
                    "an existing load balancer is in a VPC of its own, and the environment creates a new one",
                    "in another VPC")
        .help("run the environment in the load balancer's VPC: `network { vpc = existing(\"vpc-...\") }`");
  }
}

void buildDns(CheckState& st, BodyValues& values, model::Environment& e) {
  model::Dns dns;
  fill(dns, Scope::Environment, "dns", values);
  const ast::Stmt* zone = values.stmt(AttrId::DnsZone);
  if (!zone) {
    st.diags.report(Code::MissingAttribute, st.envViews[e.name].blocks.at("dns")->nameRange, "`dns` has no `zone`", "`zone` missing")
        .help("add `zone = \"example.com\"`, the Route 53 hosted zone of the public hostnames");
    return;
  }
  if (!values(AttrId::DnsZone)) return;
  dns.zone = toLower(dns.zone);
  while (!dns.zone.empty() && dns.zone.back() == '.') dns.zone.pop_back();
  if (!validDnsName(dns.zone)) {
    st.diags.report(Code::InvalidHostname, zone->value().range, fmt::format("`{}` is not a DNS zone name", dns.zone), "invalid zone")
        .help("write the zone like `shop.example.com`");
    return;
  }
  e.dns = dns;
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
    buildExistingNetwork(st, v, values, e);
    buildExisting(st, values, e);
    if (v.blocks.count("dns")) buildDns(st, values, e);
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
