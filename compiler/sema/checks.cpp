// The checks that need the whole model: hostnames claimed twice, too few zones for a
// load balancer, `depends_on` and promotion cycles, deploy branches and networks
// that clash across environments; then the environments in promotion order.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "model/deploy_time.h"
#include "sema/checking.h"
#include "support/text.h"

namespace gops::sema::detail {

using diag::Code;

namespace {

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

}  // namespace

void checkEnvironmentServices(CheckState& st, model::Environment& env) {
  // Hostnames are routed by one load balancer per environment.
  // A host and path pattern routes to one service: two services may share a host
  // with different paths (`path = "/api/*"`), or one with paths and one without.
  std::map<std::pair<std::string, std::string>, const model::Service*> routes;
  for (const auto& s : env.services) {
    for (const auto& h : s.expose.hosts) {
      std::vector<std::string> paths = s.expose.paths.empty() ? std::vector<std::string>{""} : s.expose.paths;
      for (const auto& p : paths) {
        auto [it, inserted] = routes.emplace(std::pair{h, p}, &s);
        if (!inserted && it->second != &s) {
          auto& envs = st.hostClashes[{it->second->name, s.name, p.empty() ? h : h + p}];
          if (envs.empty() || envs.back() != env.name) envs.push_back(env.name);
        }
      }
      if (env.dns && h != env.dns->zone && !endsWith(h, "." + env.dns->zone)) {
        auto where = st.hostRanges.find({s.name, h});
        const ast::Stmt* zone = st.envViews[env.name].field("dns", "zone");
        auto b = st.diags.report(Code::HostOutsideZone, where != st.hostRanges.end() ? where->second : st.decls.workloads.at(s.name)->nameRange,
                                 fmt::format("`{}` is not in environment `{}`'s DNS zone `{}`", h, env.name, env.dns->zone), "outside the zone");
        if (zone) b.label(zone->value().range, "the zone");
        b.help(fmt::format("use a hostname under `{}`, like `{}.{}`, or manage this one's records outside gops and remove `dns`", env.dns->zone,
                           s.name, env.dns->zone));
      }
    }
  }
  bool anyPublic = std::any_of(env.services.begin(), env.services.end(), [](const auto& s) { return s.expose.kind == model::Expose::Kind::Public; });
  if (anyPublic && env.network.zones < 2) {
    const ast::Decl* d = st.decls.envs.at(env.name);
    const ast::Stmt* z = st.envViews[env.name].field("network", "zones");
    st.diags.report(Code::TooManyZones, z ? z->value().range : d->nameRange,
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
          auto it = st.depRanges.find({from, to});
          return it != st.depRanges.end() ? it->second : st.decls.workloads.at(from)->nameRange;
        };
        auto b = st.diags.report(Code::DependencyCycle, edge(n, dep), fmt::format("services depend on each other in a cycle: {}", chainText),
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
  checkDeployLength(st, env);
}

namespace {

std::string hoursMinutes(double seconds) {
  auto s = static_cast<long>(seconds);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace

void checkDeployLength(CheckState& st, const model::Environment& env) {
  // The limits the deploy workflow and the deploy role are compiled to: one fact
  // (model/deploy_time.h), so that the warning fires exactly when the generated job's
  // timeout is shorter than the deploy needs.
  const model::DeployLimits limits = model::deployLimits(env);
  if (!limits.exceedsJob()) return;
  const ast::Decl* d = st.decls.envs.at(env.name);
  const ast::Stmt* r = st.envViews[env.name].attr("rollout");
  const bool onPush = env.deploy.kind == model::Deploy::Kind::OnPush;
  auto b = st.diags.report(Code::DeployTooLong, r ? r->value().range : d->nameRange,
                           fmt::format("the holds and bakes of environment `{}`'s deploy add up to {} over {} wave{}; with {} minutes for "
                                       "steady states and tests{} its job needs {}, longer than the 6 hours a GitHub-hosted job may run{}",
                                       env.name, hoursMinutes(limits.rolloutSeconds), limits.waves, limits.waves == 1 ? "" : "s",
                                       model::kDeployMarginMinutes,
                                       onPush ? fmt::format(" and {} for its images", model::kImageWaitMinutes) : std::string(),
                                       hoursMinutes(limits.jobMinutesNeeded * 60.0),
                                       limits.exceedsSession() ? " and the 12 hours a role session may last" : ""),
                           "deploy too long for one job");
  b.note("the waves run one after another, each as long as its longest rollout; services that depend on others wait for them");
  b.note(fmt::format("the deploy job's `timeout-minutes` and its credentials' duration are at most {} minutes", model::kGithubJobLimitMinutes));
  b.help("shorten the holds or bakes, or let more services deploy in one wave (fewer `depends_on`); a self-hosted runner may run longer");
}

/// Two services claiming one hostname, reported once for all the environments where
/// they do (usually every one).
void reportHostClashes(CheckState& st) {
  for (const auto& [key, envs] : st.hostClashes) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& first = std::get<0>(key);
    const std::string& second = std::get<1>(key);
    const std::string& host = std::get<2>(key);
    std::string where;
    if (envs.size() < st.out.model.environments.size()) {
      where = fmt::format(" in environment{} {}", envs.size() == 1 ? "" : "s", joinQuoted(envs, " and "));
    }
    auto hostRange = [&](const std::string& service) {
      auto it = st.hostRanges.find({service, host.substr(0, host.find('/'))});  // `host/path` for a path rule
      return it != st.hostRanges.end() ? it->second : st.decls.workloads.at(service)->nameRange;
    };
    st.diags.report(Code::DuplicateHostname, hostRange(second),
                  fmt::format("services `{}` and `{}` both claim `{}`{}", first, second, host, where), fmt::format("`{}` claims `{}`", second, host))
        .label(hostRange(first), fmt::format("`{}` claims it too", first))
        .help("every hostname routes to one service; give each its own");
  }
}

void checkPromotionCycles(CheckState& st, const std::map<std::pair<std::string, std::string>, const ast::Decl*>& seen) {
  std::map<std::string, std::vector<const model::Promotion*>> outEdges;
  for (const auto& pr : st.out.model.promotions) outEdges[pr.from].push_back(&pr);
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
          auto b = st.diags.report(Code::PromotionCycle, decl->keywordRange, fmt::format("promotions form a cycle: {}", chainText), "closes the cycle");
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
  for (const auto& pr : st.out.model.promotions) {
    if (state[pr.from] == 0) visit(pr.from);
  }
}

void crossEnvironmentChecks(CheckState& st) {
  auto& envs = st.out.model.environments;
  for (std::size_t i = 0; i < envs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = envs[j];
      const auto& b = envs[i];
      if (a.deploy.kind == model::Deploy::Kind::OnPush && b.deploy.kind == model::Deploy::Kind::OnPush && a.deploy.branch == b.deploy.branch &&
          !a.deploy.branch.empty()) {
        const ast::Stmt* sa = st.envViews[a.name].attr("deploy");
        const ast::Stmt* sb = st.envViews[b.name].attr("deploy");
        st.diags.report(Code::DuplicateDeployBranch, sb->value().range,
                      fmt::format("environments `{}` and `{}` both deploy on pushes to `{}`", a.name, b.name, b.deploy.branch),
                      fmt::format("`{}` deploys on `{}`", b.name, b.deploy.branch))
            .label(sa->value().range, fmt::format("`{}` deploys on `{}` too", a.name, a.deploy.branch))
            .help("give each environment its own branch, and reach later environments with `promote` or `deploy = manual`");
      }
      if (!a.account.empty() && a.account == b.account && a.region == b.region) {
        auto ca = parseCidr(a.network.cidr), cb = parseCidr(b.network.cidr);
        if (ca && cb && overlaps(*ca, *cb)) {
          const ast::Stmt* sa = st.envViews[a.name].field("network", "cidr");
          const ast::Stmt* sb = st.envViews[b.name].field("network", "cidr");
          auto d = st.diags.report(Code::CidrOverlap, sb ? sb->value().range : st.decls.envs.at(b.name)->nameRange,
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
void orderEnvironments(CheckState& st) {
  auto& envs = st.out.model.environments;
  std::map<std::string, int> indegree;
  std::map<std::string, std::size_t> declIndex;
  for (std::size_t i = 0; i < envs.size(); ++i) {
    declIndex[envs[i].name] = i;
    indegree[envs[i].name] = 0;
  }
  for (const auto& p : st.out.model.promotions) {
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
    for (const auto& p : st.out.model.promotions) {
      if (p.from == envs[pick].name && indegree.count(p.to)) --indegree[p.to];
    }
    ordered.push_back(std::move(envs[pick]));
  }
  envs = std::move(ordered);
  for (const auto& f : st.prog.entries) st.out.model.sourceFiles.push_back(st.prog.sources.file(f).path());
  for (FileId f = 0; f < st.prog.files.size(); ++f) {
    if (std::find(st.prog.entries.begin(), st.prog.entries.end(), f) == st.prog.entries.end()) {
      st.out.model.sourceFiles.push_back(st.prog.sources.file(f).path());
    }
  }
}

}  // namespace gops::sema::detail
