// The build pass for services and jobs: in every environment, each unit's layers are
// resolved (sema/resolve.h), their statements evaluated (sema/evaluate.h, which also
// holds each value to its attribute's own rules), and the model's service or job
// filled from the values: the fields attributes.def names through `fill`, the rest
// and every rule across attributes here. A rule across attributes is checked for
// each unit and environment, so one broken in a template that many services extend
// is found by each of them; the diagnostics engine reports it once.
#include <algorithm>
#include <cmath>
#include <set>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sema/checking.h"
#include "sema/fill.h"
#include "sema/tables.h"
#include "support/text.h"

namespace gops::sema::detail {

using diag::Code;

namespace {

std::string fmtNum(double d) {
  if (d == static_cast<double>(static_cast<long long>(d))) return fmt::format("{}", static_cast<long long>(d));
  return fmt::format("{}", d);
}

std::string cpuText(int units) { return fmt::format("{} vCPU", fmtNum(units / 1024.0)); }

std::string memText(int mib) {
  if (mib % 1024 == 0) return fmt::format("{} GiB", mib / 1024);
  return fmt::format("{} MiB", mib);
}

/// One unit in one environment: its layers, its resolution and the cached values.
class UnitBuilder {
 public:
  UnitBuilder(CheckState& st, const ast::Decl& d, const std::vector<const ast::Decl*>& layers, const model::Environment& env,
              const EvalContext& ctx)
      : st_(st), d_(d), layers_(layers), env_(env), ctx_(ctx), r_(resolve(layers, env.name)) {}

  /// The winning statement of an attribute, or null.
  const ast::Stmt* stmt(AttrId id) const { return r_[id].stmt; }
  const ast::Stmt* block(BlockId id) const { return r_.block(id); }
  /// The value of an attribute when it is set and evaluated without problems.
  const Val* operator()(AttrId id) const {
    const Setting& s = r_[id];
    if (!s) return nullptr;
    const Val& v = st_.evaluation.value(*s.stmt, attrSpec(id), ctx_);
    return v.ok ? &v : nullptr;
  }

  model::Service service() {
    model::Service s;
    workload(s);
    serviceExpose(s);
    if (block(BlockId::UnitHealth)) health(s);
    if (block(BlockId::UnitAutoscale)) autoscale(s);
    dependsOn(s);
    rollout(s);
    nativeHosts(s);
    if (s.beforeDeploy) beforeDeploy(s);
    return s;
  }

  model::Job job() {
    model::Job j;
    workload(j);
    if (!stmt(AttrId::UnitSchedule)) {
      reportMissing(st_, d_, "job", "schedule", "cron(\"0 3 * * *\")", missingSuffix("schedule"));
    }
    return j;
  }

 private:
  /// " in environment `E`" when `name` is set only in some environments' `in` blocks.
  std::string missingSuffix(const std::string& name) const {
    for (const ast::Decl* d : layers_) {
      for (const auto& s : d->body) {
        if (s.kind != ast::StmtKind::Override) continue;
        for (const auto& o : s.body) {
          if (o.name == name) return fmt::format(" in environment `{}`", env_.name);
        }
      }
    }
    return {};
  }

  /// What services and jobs share. Fills every field of `w` the table names.
  template <class W>
  void workload(W& w) {
    w.name = d_.name;
    for (auto it = layers_.rbegin() + 1; it != layers_.rend(); ++it) w.templates.push_back((*it)->name);
    fill(w, Scope::Unit, "", *this);
    if (!stmt(AttrId::UnitImage)) {
      reportMissing(st_, d_, ast::declKeyword(d_.kind), "image", fmt::format("ecr(\"{}/{}\")", st_.out.model.app.name, d_.name),
                    missingSuffix("image"));
    }
    logRetention(w);
    envAndSecrets(w);
    fargateSize(w);
    permissions(w);
    sidecars(w);
    volumes(w);
    if (const Val* v = (*this)(AttrId::UnitEphemeralStorage)) {
      const int gib = static_cast<int>(v->n / 1024);
      w.ephemeralStorageGiB = gib == 20 ? 0 : gib;  // 20 GiB is Fargate's default: none to ask for
    }
    for (const auto& [k, set] : r_.entriesOf(BlockId::UnitLogOptions)) {
      const Val& v = st_.evaluation.value(*set.stmt, Ty::String, ctx_);
      if (v.ok) w.logOptions[k] = v.s;
    }
    std::optional<int> port;
    if constexpr (std::is_same_v<W, model::Service>) port = w.port;
    containerRules(w, port);
    if (w.platform == model::Workload::Platform::Arm64 && w.capacity.spotPercent > 0) {
      const ast::Stmt* capacity = stmt(AttrId::UnitCapacity);
      auto b = st_.diags.report(Code::SpotArm, capacity ? capacity->value().range : d_.nameRange,
                                fmt::format("{} `{}` runs on ARM64, and Fargate Spot runs only x86_64 tasks", ast::declKeyword(d_.kind), d_.name),
                                "Spot with ARM64");
      if (const ast::Stmt* p = stmt(AttrId::UnitPlatform)) b.label(p->value().range, "ARM64 here");
      b.help("run ARM64 tasks on demand (`capacity = on_demand`), or build the image for `platform = x86_64` to use Spot");
    }
  }

  /// The value of a field of the named block `nb` (a sidecar, a volume).
  const Val* namedValue(const NamedBlock& nb, AttrId id) const {
    const Setting* s = nb.field(id);
    if (!s) return nullptr;
    const Val& v = st_.evaluation.value(*s->stmt, attrSpec(id), ctx_);
    return v.ok ? &v : nullptr;
  }

  void permissions(model::Workload& w) {
    const BlockSpec& spec = blockSpec(BlockId::UnitPermissions);
    for (const ast::Stmt* line : r_.clausesOf(BlockId::UnitPermissions)) {
      const Val& v = st_.evaluation.grant(*line, spec, ctx_);
      if (v.ok) w.permissions.push_back(v.grant);
    }
  }

  void sidecars(model::Workload& w) {
    for (const auto& [name, nb] : r_.namedOf(BlockId::UnitSidecar)) {
      model::Sidecar sc;
      sc.name = name;
      fill(sc, Scope::Unit, "sidecar", [&](AttrId id) { return namedValue(nb, id); });
      for (AttrId id : {AttrId::SidecarImage, AttrId::SidecarMemory}) {
        if (nb.field(id)) continue;
        const AttrSpec& a = attrSpec(id);
        st_.diags.report(Code::MissingAttribute, nb.stmt->labelRange, fmt::format("sidecar `{}` has no `{}`", name, a.name),
                         fmt::format("`{}` missing", a.name))
            .help(fmt::format("add `{} = {}`", a.name, id == AttrId::SidecarImage ? "image(\"registry/name:tag\")" : "128 MiB"));
      }
      w.sidecars.push_back(std::move(sc));
    }
  }

  void volumes(model::Workload& w) {
    std::map<std::string, const ast::Stmt*> paths;
    for (const auto& [name, nb] : r_.namedOf(BlockId::UnitVolume)) {
      model::Volume vol;
      vol.name = name;
      fill(vol, Scope::Unit, "volume", [&](AttrId id) { return namedValue(nb, id); });
      for (AttrId id : {AttrId::VolumeEfs, AttrId::VolumePath}) {
        if (nb.field(id)) continue;
        const AttrSpec& a = attrSpec(id);
        st_.diags.report(Code::MissingAttribute, nb.stmt->labelRange, fmt::format("volume `{}` has no `{}`", name, a.name),
                         fmt::format("`{}` missing", a.name))
            .help(fmt::format("add `{} = {}`", a.name, id == AttrId::VolumeEfs ? "\"fs-0123456789abcdef0\"" : "\"/data\""));
      }
      if (namedValue(nb, AttrId::VolumePath)) {
        const ast::Stmt* at = nb.field(AttrId::VolumePath)->stmt;
        auto [it, inserted] = paths.emplace(vol.path, at);
        if (!inserted) {
          st_.diags.report(Code::VolumePath, at->value().range, fmt::format("two volumes are mounted at `{}`", vol.path), "taken")
              .label(it->second->value().range, "mounted here too")
              .help("mount each volume at a path of its own");
        }
      }
      w.volumes.push_back(std::move(vol));
    }
  }

  /// Rules across the task's containers: names, ports, the share of CPU and memory
  /// the sidecars take from the task, FireLens.
  void containerRules(const model::Workload& w, std::optional<int> port) {
    const auto& named = r_.namedOf(BlockId::UnitSidecar);
    auto stmtOf = [&](const std::string& sidecar, AttrId id) -> const ast::Stmt* {
      auto it = named.find(sidecar);
      if (it == named.end()) return nullptr;
      const Setting* s = it->second.field(id);
      return s ? s->stmt : nullptr;
    };
    // Names: a sidecar may not take the workload's own container's name.
    for (const auto& sc : w.sidecars) {
      if (sc.name == w.name) {
        st_.diags.report(Code::ContainerName, named.at(sc.name).stmt->labelRange,
                         fmt::format("the sidecar is named `{}`, the name of the {}'s own container", sc.name, ast::declKeyword(d_.kind)), "taken")
            .help("give the sidecar another name, like `envoy`");
      }
    }
    // Ports: one container per port in a task (awsvpc: they share the network).
    std::map<int, std::string> ports;
    if (port) ports[*port] = w.name;
    for (const auto& sc : w.sidecars) {
      if (!sc.port) continue;
      auto [it, inserted] = ports.emplace(*sc.port, sc.name);
      if (!inserted) {
        auto b = st_.diags.report(Code::DuplicatePort, stmtOf(sc.name, AttrId::SidecarPort)->value().range,
                                  fmt::format("sidecar `{}` listens on port {}, and so does `{}`", sc.name, *sc.port, it->second), "port taken");
        if (it->second == w.name && stmt(AttrId::UnitPort)) b.label(stmt(AttrId::UnitPort)->value().range, fmt::format("`{}`'s port", w.name));
        b.help("the containers of a task share its network: give each its own port");
      }
    }
    // CPU and memory: the sidecars' come out of the task's, the rest is the workload's.
    int cpu = 0, memory = 0;
    std::vector<std::string> shares;
    for (const auto& sc : w.sidecars) {
      cpu += sc.cpu;
      memory += sc.memory;
      shares.push_back(fmt::format("`{}` {} MiB and {} CPU units", sc.name, sc.memory, sc.cpu));
    }
    if (!w.sidecars.empty() && (memory + 6 > w.memory || cpu >= w.cpu)) {
      const bool mem = memory + 6 > w.memory;
      const ast::Stmt* taskStmt = stmt(mem ? AttrId::UnitMemory : AttrId::UnitCpu);
      auto b = st_.diags.report(Code::ContainersTooLarge, taskStmt ? taskStmt->value().range : d_.nameRange,
                                mem ? fmt::format("the sidecars take {} MiB of the task's {} MiB, leaving {} for `{}`", memory, w.memory,
                                                  memory >= w.memory ? std::string("nothing") : fmt::format("{} MiB", w.memory - memory), w.name)
                                    : fmt::format("the sidecars take {} of the task's {} CPU units, leaving {} for `{}`", cpu, w.cpu,
                                                  cpu >= w.cpu ? std::string("nothing") : std::to_string(w.cpu - cpu), w.name),
                                "the task is too small");
      for (const auto& sc : w.sidecars) {
        if (const ast::Stmt* s = stmtOf(sc.name, mem ? AttrId::SidecarMemory : AttrId::SidecarCpu)) {
          b.label(s->value().range, fmt::format("`{}` takes this", sc.name));
        }
      }
      b.note(fmt::format("`cpu` and `memory` are the task's: {} take their share, and `{}` the rest", fmt::join(shares, ", "), w.name));
      b.help(mem ? "raise the task's `memory` (to a size Fargate offers for its CPU), or give the sidecars less"
                 : "raise the task's `cpu`, or give the sidecars less");
    }
    // FireLens: one router at most, and options only with one.
    const model::Sidecar* router = nullptr;
    for (const auto& sc : w.sidecars) {
      if (sc.logRouter.empty()) continue;
      if (router) {
        st_.diags.report(Code::LogRouter, stmtOf(sc.name, AttrId::SidecarLogRouter)->value().range,
                         fmt::format("sidecars `{}` and `{}` are both log routers; a task has one", router->name, sc.name), "second log router")
            .label(stmtOf(router->name, AttrId::SidecarLogRouter)->value().range, "first here")
            .help("keep `log_router` on one sidecar");
      } else {
        router = &sc;
      }
    }
    if (!router && !w.logOptions.empty()) {
      st_.diags.report(Code::LogRouter, block(BlockId::UnitLogOptions)->nameRange,
                       "`log_options` configure a FireLens log router, and no sidecar of the task is one", "no log router")
          .help("add a sidecar with `log_router = fluentbit` (the AWS for Fluent Bit image), or remove `log_options`");
    }
  }

  /// Days, as the model keeps it (the evaluation checked it is a retention CloudWatch offers).
  void logRetention(model::Workload& w) {
    if (const Val* v = (*this)(AttrId::UnitLogRetention)) w.logRetentionDays = static_cast<int>(v->n / 86400);
  }

  void envAndSecrets(model::Workload& w) {
    const auto& env = r_.entriesOf(BlockId::UnitEnv);
    for (const auto& [k, set] : env) {
      const Val& v = st_.evaluation.envVar(*set.stmt, ctx_, st_.out.model.app.name);
      if (v.ok) w.env[k] = v.s;
    }
    const auto& secrets = r_.entriesOf(BlockId::UnitSecrets);
    for (const auto& [k, set] : secrets) {
      const Val& v = st_.evaluation.value(*set.stmt, Ty::Secret, ctx_);
      if (v.ok) w.secrets[k] = v.secret;
    }
    for (const auto& [k, set] : secrets) {
      if (w.env.count(k)) {
        st_.diags.report(Code::DuplicateAttribute, set.stmt->nameRange, fmt::format("`{}` is both an environment variable and a secret", k),
                         "also in `env`")
            .label(env.at(k).stmt->nameRange, "set in `env` here")
            .help("keep it in one of the two blocks");
      }
    }
  }

  void fargateSize(const model::Workload& w) {
    if (fargateValid(w.cpu, w.memory)) return;
    const ast::Stmt* cpuStmt = stmt(AttrId::UnitCpu);
    const ast::Stmt* memStmt = stmt(AttrId::UnitMemory);
    auto sizes = fargateMemoryFor(w.cpu);
    SourceRange where = memStmt ? memStmt->value().range : cpuStmt ? cpuStmt->value().range : d_.nameRange;
    if (sizes.empty()) {
      std::vector<std::string> cpus;
      for (int c : fargateCpuSizes()) cpus.push_back(fmt::format("{}", c));
      SourceRange cpuWhere = cpuStmt ? cpuStmt->value().range : d_.nameRange;
      st_.diags.report(Code::FargateSize, cpuWhere, fmt::format("Fargate does not offer {} CPU units ({})", w.cpu, cpuText(w.cpu)),
                       "no such Fargate size")
          .help(fmt::format("Fargate CPU sizes are 0.25, 0.5, 1, 2, 4, 8 and 16 vcpu ({} CPU units)", fmt::join(cpus, ", ")));
      return;
    }
    auto b = st_.diags.report(Code::FargateSize, where, fmt::format("Fargate does not offer {} with {} of memory", cpuText(w.cpu), memText(w.memory)),
                              fmt::format("{} is not offered with {}", memText(w.memory), cpuText(w.cpu)));
    if (cpuStmt && memStmt) b.label(cpuStmt->value().range, fmt::format("{} set here", cpuText(w.cpu)));
    else if (!cpuStmt) b.note("the CPU is the default, 0.25 vcpu");
    else b.note("the memory is the default, 512 MiB");
    b.help(fmt::format("with {} Fargate offers {}", cpuText(w.cpu), fargateMemoryDescription(w.cpu)));
  }

  /// The size a before_deploy task runs with: the one it gives and, for what it leaves
  /// out, the service's; a size Fargate offers, with room for the sidecars (the task
  /// itself checked a pair it gives whole).
  void beforeDeploy(const model::Service& s) {
    const model::Task& t = *s.beforeDeploy;
    if (t.cpu == 0 && t.memory == 0) return;
    const int cpu = t.cpu != 0 ? t.cpu : s.cpu;
    const int memory = t.memory != 0 ? t.memory : s.memory;
    const ast::Stmt* where = stmt(AttrId::UnitBeforeDeploy);
    const SourceRange range = where ? where->value().range : d_.nameRange;
    if ((t.cpu == 0 || t.memory == 0) && !fargateValid(cpu, memory)) {
      st_.diags.report(Code::FargateSize, range,
                       fmt::format("Fargate does not offer {} with {} of memory for the `before_deploy` task", cpuText(cpu), memText(memory)),
                       "not a Fargate size")
          .note(t.cpu == 0 ? fmt::format("the task's CPU is the service's, {}", cpuText(cpu))
                           : fmt::format("the task's memory is the service's, {}", memText(memory)))
          .help(fargateMemoryFor(cpu).empty()
                    ? std::string("give the task a Fargate CPU size: 0.25, 0.5, 1, 2, 4, 8 or 16 vcpu")
                    : fmt::format("give the task both `cpu` and `memory`; with {} Fargate offers {}", cpuText(cpu), fargateMemoryDescription(cpu)));
      return;
    }
    int sidecarCpu = 0, sidecarMemory = 0;
    for (const auto& sc : s.sidecars) {
      sidecarCpu += sc.cpu;
      sidecarMemory += sc.memory;
    }
    if (!s.sidecars.empty() && (sidecarMemory + 6 > memory || sidecarCpu >= cpu)) {
      const bool mem = sidecarMemory + 6 > memory;
      st_.diags.report(Code::ContainersTooLarge, range,
                       mem ? fmt::format("the sidecars take {} MiB of the `before_deploy` task's {} MiB, leaving {} for `{}`", sidecarMemory, memory,
                                         sidecarMemory >= memory ? std::string("nothing") : fmt::format("{} MiB", memory - sidecarMemory), s.name)
                           : fmt::format("the sidecars take {} of the `before_deploy` task's {} CPU units, leaving {} for `{}`", sidecarCpu, cpu,
                                         sidecarCpu >= cpu ? std::string("nothing") : std::to_string(cpu - sidecarCpu), s.name),
                       "the task is too small")
          .note("the task runs the service's sidecars too; they keep their share")
          .help(mem ? "give the task more `memory`, or leave it out to run with the service's" : "give the task more `cpu`, or leave it out");
    }
  }

  void serviceExpose(const model::Service& s) {
    if ((*this)(AttrId::UnitExpose)) {
      // Where each hostname is written, for reporting two services that claim one.
      const ast::Value& ev = stmt(AttrId::UnitExpose)->value();
      std::size_t host = 0;
      for (const auto& a : ev.args) {
        if (!a.name.empty() || host >= s.expose.hosts.size()) continue;  // `path = ...`
        st_.hostRanges.emplace(std::pair{d_.name, s.expose.hosts[host++]}, a.value.front().range);
      }
    }
    if (s.expose.kind != model::Expose::Kind::None && !s.port && !stmt(AttrId::UnitPort)) {
      st_.diags.report(Code::MissingAttribute, stmt(AttrId::UnitExpose)->value().range,
                       fmt::format("service `{}` is {} but has no `port`", d_.name, s.expose.kind == model::Expose::Kind::Public ? "public" : "internal"),
                       "needs a port")
          .help("add `port = 8080` (the port the container listens on)");
    }
  }

  void health(model::Service& s) {
    model::Health h;
    fill(h, Scope::Unit, "health", *this);
    const ast::Stmt* healthBlock = block(BlockId::UnitHealth);
    const ast::Stmt* t = stmt(AttrId::HealthTimeout);
    const ast::Stmt* i = stmt(AttrId::HealthInterval);
    if (h.timeoutSeconds >= h.intervalSeconds) {
      auto b = st_.diags.report(Code::HealthTimeout, t ? t->value().range : healthBlock->nameRange,
                                fmt::format("health check timeout ({}s) must be shorter than its interval ({}s)", fmtNum(h.timeoutSeconds),
                                            fmtNum(h.intervalSeconds)),
                                "not shorter than the interval");
      if (i) b.label(i->value().range, "interval set here");
      else b.note("the interval is the default, 30s");
      if (!t) b.note("the timeout is the default, 5s");
      b.help("a check must finish before the next one starts: lower the timeout or raise the interval");
    }
    // A check of the container alone (a `command`) needs no port; the load balancer's does.
    bool loadBalancerCheck = false;
    for (AttrId id : {AttrId::HealthPath, AttrId::HealthInterval, AttrId::HealthTimeout, AttrId::HealthHealthyThreshold,
                      AttrId::HealthUnhealthyThreshold, AttrId::HealthGracePeriod}) {
      loadBalancerCheck = loadBalancerCheck || stmt(id);
    }
    if (!stmt(AttrId::HealthCommand)) loadBalancerCheck = true;
    if (!s.port && !stmt(AttrId::UnitPort) && loadBalancerCheck) {
      st_.diags.report(Code::MissingAttribute, healthBlock->nameRange, fmt::format("service `{}` has a health check but no `port`", d_.name),
                       "needs a port")
          .help("add `port = 8080` (the port the health path is served on)");
    }
    s.health = h;
  }

  void autoscale(model::Service& s) {
    const ast::Stmt* autoscaleBlock = block(BlockId::UnitAutoscale);
    model::Autoscale a;
    a.min = s.replicas;
    a.max = s.replicas;
    fill(a, Scope::Unit, "autoscale", *this);
    const ast::Stmt* minS = stmt(AttrId::AutoscaleMin);
    const ast::Stmt* maxS = stmt(AttrId::AutoscaleMax);
    // Without `replicas`, an autoscaled service starts at its minimum.
    if (!stmt(AttrId::UnitReplicas) && minS) s.replicas = a.min;
    if (!stmt(AttrId::AutoscaleCpu) && !stmt(AttrId::AutoscaleMemory) && !stmt(AttrId::AutoscaleRequests)) {
      st_.diags.report(Code::MissingAttribute, autoscaleBlock->nameRange, "`autoscale` has no target to track", "no target")
          .help("add `cpu = 60%` (or `memory = 70%`, or `requests = 1000` for a public service)");
    }
    if (a.min > a.max) {
      auto b = st_.diags.report(Code::AutoscaleRange, minS ? minS->value().range : autoscaleBlock->nameRange,
                                fmt::format("autoscale minimum {} is greater than its maximum {}", a.min, a.max), "greater than the maximum");
      if (maxS) b.label(maxS->value().range, "maximum set here");
      b.help("swap the two, or raise `max`");
    } else if (s.replicas < a.min || s.replicas > a.max) {
      const ast::Stmt* rep = stmt(AttrId::UnitReplicas);
      auto b = st_.diags.report(Code::ReplicasOutOfRange, rep ? rep->value().range : autoscaleBlock->nameRange,
                                fmt::format("`replicas = {}` is outside the autoscale range {}-{}", s.replicas, a.min, a.max), "outside the range");
      if (minS) b.label(minS->value().range, "minimum");
      if (maxS) b.label(maxS->value().range, "maximum");
      b.help("the autoscaler keeps the count within [min, max]; set `replicas` inside it");
    }
    if (a.requestsPerTarget && s.expose.kind != model::Expose::Kind::Public) {
      st_.diags.report(Code::TrafficShiftNeedsAlb, stmt(AttrId::AutoscaleRequests)->value().range,
                       "scaling on requests needs a load balancer, but the service is not public", "no load balancer")
          .help("scale on `cpu` or `memory` instead");
    }
    s.autoscale = a;
  }

  void dependsOn(model::Service& s) {
    const Val* v = (*this)(AttrId::UnitDependsOn);
    if (!v) return;
    const auto& workloads = st_.decls.workloads;
    for (const auto& [dep, range] : v->names) {
      st_.addReference(SymbolKind::Service, dep, range);
      auto w = workloads.find(dep);
      if (w == workloads.end() || w->second->kind != ast::DeclKind::Service) {
        std::vector<std::string> names;
        for (const auto& [n, decl] : workloads) {
          if (decl->kind == ast::DeclKind::Service && n != d_.name) names.push_back(n);
        }
        auto b = st_.diags.report(Code::UndefinedReference, range,
                                  w == workloads.end() ? fmt::format("no service named `{}`", dep) : fmt::format("`{}` is a job, not a service", dep),
                                  "not a service");
        if (auto best = closestMatch(dep, names)) {
          b.help(fmt::format("did you mean `{}`?", *best));
          b.fix(fmt::format("replace with `{}`", *best), range, *best);
        }
        continue;
      }
      if (dep == d_.name) {
        st_.diags.report(Code::DependencyCycle, range, fmt::format("service `{}` depends on itself", dep), "itself")
            .help(fmt::format("remove `{}` from its own `depends_on`", dep));
        continue;
      }
      s.dependsOn.push_back(dep);
      st_.depRanges.emplace(std::pair{d_.name, dep}, range);
    }
    std::sort(s.dependsOn.begin(), s.dependsOn.end());
    s.dependsOn.erase(std::unique(s.dependsOn.begin(), s.dependsOn.end()), s.dependsOn.end());
  }

  /// ECS's own strategies move one production listener rule per load balancer, and a
  /// rule takes at most 3 hostnames, and 5 values with its path patterns
  /// (model::Expose::hostsPerRule): more would leave the other rules on the old version.
  void nativeHosts(const model::Service& s) {
    const std::size_t perRule = s.expose.hostsPerRule();
    if (s.rollout.engine != model::Rollout::Engine::Ecs || !s.rollout.shiftsTraffic() || s.expose.kind != model::Expose::Kind::Public ||
        s.expose.hosts.size() <= perRule || !stmt(AttrId::UnitExpose)) {
      return;
    }
    const std::size_t rules = (s.expose.hosts.size() + perRule - 1) / perRule;
    st_.diags.report(Code::EngineUnsupported, stmt(AttrId::UnitExpose)->value().range,
                     s.expose.paths.empty()
                         ? fmt::format("ECS shifts one listener rule per service, and the {} hostnames of service `{}` need {} rules of at most {}",
                                       s.expose.hosts.size(), d_.name, rules, perRule)
                         : fmt::format("ECS shifts one listener rule per service, and the {} hostnames of service `{}` need {} rules of at most {} "
                                       "beside its {} path pattern(s)",
                                       s.expose.hosts.size(), d_.name, rules, perRule, s.expose.paths.size()),
                     "ECS cannot run this")
        .help(fmt::format("keep at most {} hostnames, or use `engine = gops`, which shifts every rule", perRule));
  }

  static bool needsLoadBalancer(const model::RollbackCondition& c) {
    const MetricInfo* info = findMetric(c.metric);
    return info && info->needsLoadBalancer;
  }

  /// The rollout: the service's own, or the environment's.
  void rollout(model::Service& s) {
    bool lb = s.expose.kind == model::Expose::Kind::Public;
    if (const ast::Stmt* rs = stmt(AttrId::UnitRollout)) {
      const Val* v = (*this)(AttrId::UnitRollout);
      if (!v) return;
      s.rollout = v->rollout;
      s.rolloutSource = "service";
      if (!lb && s.rollout.shiftsTraffic()) {
        st_.diags.report(Code::TrafficShiftNeedsAlb, rs->value().range,
                         fmt::format("a {} rollout shifts load balancer traffic, but service `{}` is not public", model::toString(s.rollout.kind), d_.name),
                         "needs a load balancer")
            .help("use `rolling { ... }` for services without `expose = public(...)`");
        return;
      }
      if (lb) return;
      for (const auto& c : s.rollout.rollback) {
        if (!needsLoadBalancer(c)) continue;
        SourceRange where = rs->value().range;
        if (rs->value().kind == ast::ValueKind::Object) {
          for (const auto& line : rs->value().body) {
            if (line.kind == ast::StmtKind::Rollback && !line.values.empty() && line.values[0].text == c.metric) {
              where = line.values[0].range;
              break;
            }
          }
        }
        st_.diags.report(Code::TrafficShiftNeedsAlb, where, fmt::format("`{}` is measured at the load balancer, but service `{}` is not public", c.metric, d_.name),
                         "metric needs a load balancer")
            .help("roll back on `cpu`, `memory` or an `alarm(...)` instead");
        break;
      }
      return;
    }
    if (env_.rolloutSource != "environment") {
      s.rolloutSource = "default";
      return;
    }
    s.rollout = env_.rollout;
    s.rolloutSource = "environment";
    if (!lb && (s.rollout.shiftsTraffic() || std::any_of(s.rollout.rollback.begin(), s.rollout.rollback.end(), needsLoadBalancer))) {
      // Without a load balancer there is no traffic to shift: roll in place,
      // keeping the conditions that do not need one.
      model::Rollout fallback;
      for (const auto& c : env_.rollout.rollback) {
        if (!needsLoadBalancer(c)) fallback.rollback.push_back(c);
      }
      if (env_.rollout.kind == model::Rollout::Kind::Rolling) {
        fallback.minHealthyPercent = env_.rollout.minHealthyPercent;
        fallback.maxPercent = env_.rollout.maxPercent;
      }
      s.rollout = fallback;
      s.rolloutSource = "fallback";
    }
  }

  CheckState& st_;
  const ast::Decl& d_;
  const std::vector<const ast::Decl*>& layers_;
  const model::Environment& env_;
  const EvalContext& ctx_;
  Resolution r_;
};

}  // namespace

void buildWorkloads(CheckState& st) {
  // Templates that nothing extends are still checked, in every environment.
  std::set<const ast::Decl*> used;
  for (const auto& [_, d] : st.decls.workloads) {
    for (const ast::Decl* l : st.chain(*d)) used.insert(l);
  }
  const std::string& appName = st.out.model.app.name;
  for (auto& env : st.out.model.environments) {
    for (const auto& [name, t] : st.decls.templates) {
      if (used.count(t) || st.isStdlib(*t)) continue;
      EvalContext ctx{&st.out.model.app, &env, true, &t->name, true};
      st.evaluation.evaluateUnit(st.chain(*t), env.name, ctx, appName);
    }
  }
  for (auto& env : st.out.model.environments) {
    for (const auto& [name, d] : st.decls.workloads) {
      auto layers = st.chain(*d);
      EvalContext ctx{&st.out.model.app, &env, true, &d->name, true};
      st.evaluation.evaluateUnit(layers, env.name, ctx, appName);
      UnitBuilder unit(st, *d, layers, env, ctx);
      if (d->kind == ast::DeclKind::Service) env.services.push_back(unit.service());
      else env.jobs.push_back(unit.job());
    }
    checkEnvironmentServices(st, env);
  }
}

}  // namespace gops::sema::detail
