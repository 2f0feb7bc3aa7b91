#include "plan/writer.h"

#include "plan/enum_names.h"
#include "support/json_writer.h"

namespace gops::plan {

namespace {

class Writer {
 public:
  explicit Writer(std::string& out, bool pretty = true) : j_(out, pretty) {}

  void plan(const Plan& p) {
    j_.beginObject();
    j_.member("//", p.notice);
    j_.member("plan_version", kVersion);
    j_.member("app", p.app);
    j_.member("environment", p.environment);
    j_.member("account", p.account);
    j_.member("region", p.region);
    j_.member("cluster", p.cluster);
    j_.member("ledger", p.ledger);
    j_.member("lock", p.lock);
    j_.key("gates").beginArray();
    for (const auto& g : p.gates) gate(g);
    j_.endArray();
    strings("tests", p.tests);
    j_.key("order").beginArray();
    for (const auto& wave : p.order) {
      j_.beginArray();
      for (const auto& name : wave) j_.value(name);
      j_.endArray();
    }
    j_.endArray();
    j_.key("services").beginArray();
    for (const auto& s : p.services) service(s);
    j_.endArray();
    j_.key("jobs").beginArray();
    for (const auto& job : p.jobs) this->job(job);
    j_.endArray();
    j_.endObject();
  }

  void step(const Step& s) {
    j_.beginObject().member("action", actionName(s));
    std::visit([this](const auto& st) { fields(st); }, s);
    j_.endObject();
  }

 private:
  void strings(std::string_view key, const std::vector<std::string>& list) {
    j_.key(key).beginArray();
    for (const auto& s : list) j_.value(s);
    j_.endArray();
  }

  template <class E>
  void enumList(std::string_view key, const std::vector<E>& list) {
    j_.key(key).beginArray();
    for (E v : list) j_.value(names::name(v));
    j_.endArray();
  }

  void gate(const Gate& g) {
    j_.beginObject().member("from", g.from);
    j_.key("require").beginArray();
    for (const auto& r : g.require) {
      j_.beginObject().member("kind", names::name(r.kind));
      if (r.kind == GateKind::Soak) j_.member("seconds", r.seconds);
      j_.endObject();
    }
    j_.endArray().endObject();
  }

  void fields(const RegisterTaskDefinition& s) { j_.member("family", s.family).member("file", s.file); }
  void fields(const UpdateService& s) {
    j_.member("min_healthy_percent", s.minHealthyPercent).member("max_percent", s.maxPercent);
  }
  void fields(const WaitStable& s) { j_.member("timeout_seconds", s.timeoutSeconds); }
  void fields(const Hold& s) { j_.member("hold_seconds", s.holdSeconds); }
  void fields(const CreateTaskSet& s) {
    j_.member("target_group", names::name(s.targetGroup));
    j_.member("scale_percent", s.scalePercent);
    j_.member("timeout_seconds", s.timeoutSeconds);
  }
  void fields(const Shift& s) { j_.member("weight", s.weight).member("hold_seconds", s.holdSeconds); }
  void fields(const PromoteTaskSet&) {}
  void fields(const RetireTaskSet& s) { j_.member("which", names::name(s.which)); }
  void fields(const StartDeployment&) {}
  void fields(const FollowDeployment& s) {
    j_.key("shifts").beginArray();
    for (const auto& sh : s.shifts) j_.beginObject().member("weight", sh.weight).member("hold_seconds", sh.holdSeconds).endObject();
    j_.endArray();
    j_.member("timeout_seconds", s.timeoutSeconds);
  }
  void fields(const RunTask& s) {
    j_.member("container", s.container);
    strings("command", s.command);
    orNull("cpu", s.cpu);
    orNull("memory", s.memory);
    orNull("container_cpu", s.containerCpu);
    orNull("container_memory", s.containerMemory);
    j_.member("placement_file", s.placementFile);
    orNull("log_group", s.logGroup);
    orNull("log_stream_prefix", s.logStreamPrefix);
    j_.member("timeout_seconds", s.timeoutSeconds);
  }

  template <class T>
  void orNull(std::string_view key, const std::optional<T>& v) {
    if (v) j_.member(key, *v);
    else j_.key(key).null();
  }

  void targetGroup(const TargetGroup& tg) {
    j_.beginObject();
    j_.member("name", tg.name);
    j_.member("arn", tg.arn);
    if (!tg.taskSetFile.empty()) j_.member("task_set_file", tg.taskSetFile);
    j_.endObject();
  }

  void service(const Service& s) {
    j_.beginObject();
    j_.member("name", s.name);
    j_.member("ecs_service", s.ecsService);
    j_.member("task_family", s.taskFamily);
    j_.member("service_file", s.serviceFile);
    strings("depends_on", s.dependsOn);
    j_.member("desired_count", s.desiredCount);
    if (s.autoscale) {
      j_.key("autoscale").beginObject().member("min", s.autoscale->min).member("max", s.autoscale->max).endObject();
    } else {
      j_.key("autoscale").null();
    }
    j_.member("strategy", names::name(s.strategy));
    j_.member("strategy_source", names::name(s.strategySource));
    j_.member("controller", names::name(s.controller));
    if (s.engine != Engine::Gops) j_.member("engine", names::name(s.engine));
    if (s.traffic) {
      j_.key("traffic").beginObject();
      strings("listener_rules", s.traffic->listenerRules);
      j_.key("target_groups").beginObject();
      j_.key("blue");
      targetGroup(s.traffic->blue);
      j_.key("green");
      targetGroup(s.traffic->green);
      j_.endObject();
      j_.endObject();
    } else {
      j_.key("traffic").null();
    }
    j_.key("steps").beginArray();
    for (const auto& st : s.steps) step(st);
    j_.endArray();
    j_.key("watch").beginObject();
    strings("alarms", s.watch.alarms);
    if (s.watch.byNewColor()) {  // present only when used: plans without it stay as they were
      j_.key("alarms_by_new_color").beginObject();
      strings("blue", s.watch.newBlue);
      strings("green", s.watch.newGreen);
      j_.endObject();
    }
    j_.member("target_health", s.watch.targetHealth);
    j_.member("failed_tasks", s.watch.failedTasks);
    j_.endObject();
    j_.key("rollback").beginObject();
    enumList("on", s.rollback.on);
    enumList("restores", s.rollback.restores);
    j_.endObject();
    j_.member("timeout_seconds", s.timeoutSeconds);
    j_.endObject();
  }

  void job(const Job& job) {
    j_.beginObject();
    j_.member("name", job.name);
    j_.member("task_family", job.taskFamily);
    j_.member("schedule", job.schedule);
    j_.key("steps").beginArray();
    for (const auto& st : job.steps) step(st);
    j_.endArray();
    j_.endObject();
  }

  JsonWriter j_;
};

}  // namespace

std::string write(const Plan& plan) {
  std::string out;
  out.reserve(4096 + plan.services.size() * 2048);
  Writer(out).plan(plan);
  out += '\n';
  return out;
}

std::string writeStep(const Step& step) {
  std::string out;
  Writer(out, false).step(step);
  return out;
}

}  // namespace gops::plan
