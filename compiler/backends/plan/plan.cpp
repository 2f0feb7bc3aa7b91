#include "backends/plan/plan.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/naming.h"
#include "support/json_writer.h"

namespace gops::backend::plan {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace {

using model::Rollout;
using model::Service;
using terraform::EnvNames;

bool shiftsTraffic(const Service& s) {
  return s.rollout.shiftsTraffic() && s.expose.kind == model::Expose::Kind::Public;
}

/// The longest `for` of the service's rollback conditions: how long a hold must
/// last for every alarm to have had its chance to fire.
double longestCondition(const Service& s) {
  double longest = 0;
  for (const auto& c : s.rollout.rollback) longest = std::max(longest, c.forSeconds);
  return longest;
}

class PlanWriter {
 public:
  PlanWriter(const model::AppModel& app, const model::Environment& env, std::string& out)
      : app_(app), env_(env), n_(app.app, env), j_(out) {}

  void write(const std::string& notice) {
    j_.beginObject();
    j_.member("//", notice);
    j_.member("plan_version", kPlanVersion);
    j_.member("app", app_.app.name);
    j_.member("environment", env_.name);
    j_.member("account", env_.account);
    j_.member("region", env_.region);
    j_.member("cluster", n_.cluster());
    j_.member("ledger", n_.ledgerPath());
    j_.member("lock", n_.ledgerPath() + "/lock");
    gates();
    j_.key("tests").beginArray();
    for (const auto& t : env_.tests) j_.value(t);
    j_.endArray();
    j_.key("order").beginArray();
    for (const auto& wave : waves(env_)) {
      j_.beginArray();
      for (const auto& name : wave) j_.value(name);
      j_.endArray();
    }
    j_.endArray();
    j_.key("services").beginArray();
    for (const auto& s : env_.services) service(s);
    j_.endArray();
    j_.key("jobs").beginArray();
    for (const auto& job : env_.jobs) this->job(job);
    j_.endArray();
    j_.endObject();
  }

 private:
  void gates() {
    j_.key("gates").beginArray();
    for (const model::Promotion* p : app_.promotionsInto(env_.name)) {
      j_.beginObject().member("from", p->from);
      j_.key("require").beginArray();
      for (const auto& g : p->gates) {
        j_.beginObject().member("kind", model::toString(g.kind));
        if (g.kind == model::Gate::Kind::Soak) j_.member("seconds", g.soakSeconds);
        j_.endObject();
      }
      j_.endArray().endObject();
    }
    j_.endArray();
  }

  void registerStep(const model::Workload& w) {
    j_.beginObject().member("action", "register_task_definition");
    j_.member("family", n_.workload(w.name));
    j_.member("file", fmt::format("ecs/{}.taskdef.json"_cf, w.name));
    j_.endObject();
  }

  void shift(double weight, double hold) {
    j_.beginObject().member("action", "shift").member("weight", weight).member("hold_seconds", hold).endObject();
    total_ += kShiftSettle + hold;
  }

  void service(const Service& s) {
    const Rollout& r = s.rollout;
    const bool taskSets = shiftsTraffic(s);
    total_ = 0;
    j_.beginObject();
    j_.member("name", s.name);
    j_.member("ecs_service", n_.workload(s.name));
    j_.member("task_family", n_.workload(s.name));
    j_.member("service_file", fmt::format("ecs/{}.service.json"_cf, s.name));
    j_.key("depends_on").beginArray();
    for (const auto& d : s.dependsOn) j_.value(d);
    j_.endArray();
    j_.member("desired_count", s.replicas);
    if (s.autoscale) {
      j_.key("autoscale").beginObject().member("min", s.autoscale->min).member("max", s.autoscale->max).endObject();
    } else {
      j_.key("autoscale").null();
    }
    j_.member("strategy", model::toString(r.kind));
    j_.member("strategy_source", s.rolloutSource);
    j_.member("controller", taskSets ? "EXTERNAL" : "ECS");

    if (taskSets) {
      j_.key("traffic").beginObject();
      j_.key("listener_rules").beginArray();
      std::size_t rules = (s.expose.hosts.size() + terraform::kHostsPerListenerRule - 1) / terraform::kHostsPerListenerRule;
      for (std::size_t k = 0; k < std::max<std::size_t>(rules, 1); ++k) {
        j_.value(k == 0 ? fmt::format("{{{{tf:{}_listener_rule_arn}}}}"_cf, s.name)
                        : fmt::format("{{{{tf:{}_listener_rule_{}_arn}}}}"_cf, s.name, k + 1));
      }
      j_.endArray();
      j_.key("target_groups").beginObject();
      for (const char* color : {"blue", "green"}) {
        j_.key(color).beginObject();
        j_.member("name", n_.targetGroup(s.name, color));
        j_.member("arn", fmt::format("{{{{tf:{}_target_group_{}_arn}}}}"_cf, s.name, color));
        j_.member("task_set_file", fmt::format("ecs/{}.{}.taskset.json"_cf, s.name, color));
        j_.endObject();
      }
      j_.endObject();
      j_.endObject();
    } else {
      j_.key("traffic").null();
    }

    j_.key("steps").beginArray();
    registerStep(s);
    if (!taskSets) {
      j_.beginObject().member("action", "update_service");
      j_.member("min_healthy_percent", r.kind == Rollout::Kind::Rolling ? r.minHealthyPercent : 100.0);
      j_.member("max_percent", r.kind == Rollout::Kind::Rolling ? r.maxPercent : 200.0);
      j_.endObject();
      j_.beginObject().member("action", "wait_stable").member("timeout_seconds", kStabilizeTimeout).endObject();
      total_ += kStabilizeTimeout;
      if (double hold = longestCondition(s); hold > 0) {
        j_.beginObject().member("action", "hold").member("hold_seconds", hold).endObject();
        total_ += hold;
      }
    } else {
      j_.beginObject().member("action", "create_task_set").member("target_group", "idle").member("scale_percent", 100);
      j_.member("timeout_seconds", kStabilizeTimeout).endObject();
      total_ += kStabilizeTimeout;
      if (r.kind == Rollout::Kind::BlueGreen) {
        if (r.testTrafficPercent > 0) shift(r.testTrafficPercent, std::max(kMinTestTrafficHold, longestCondition(s)));
        shift(100, r.bakeSeconds);
      } else {
        for (const auto& step : r.steps) shift(step.weight, step.holdSeconds);
        shift(100, 0);
      }
      j_.beginObject().member("action", "promote_task_set").endObject();
      j_.beginObject().member("action", "retire_task_set").member("which", "previous").endObject();
    }
    j_.endArray();

    j_.key("watch").beginObject();
    j_.key("alarms").beginArray();
    for (const auto& a : n_.rollbackAlarms(s)) j_.value(a);
    j_.endArray();
    j_.member("target_health", taskSets);
    j_.member("failed_tasks", true);
    j_.endObject();

    j_.key("rollback").beginObject();
    j_.key("on").beginArray();
    if (!n_.rollbackAlarms(s).empty()) j_.value("alarm");
    if (taskSets) j_.value("unhealthy_targets");
    j_.value("failed_tasks");
    if (!taskSets) j_.value("circuit_breaker");
    j_.value("timeout");
    j_.endArray();
    j_.key("restores").beginArray();
    if (taskSets) {
      j_.value("listener_weights");  // 100% to the stable target group
      j_.value("delete_new_task_set");
      j_.value("primary_task_set");  // stays the previous version's
    } else {
      j_.value("previous_task_definition");
      j_.value("desired_count");
    }
    j_.endArray();
    j_.endObject();

    j_.member("timeout_seconds", total_);
    j_.endObject();
  }

  void job(const model::Job& job) {
    j_.beginObject();
    j_.member("name", job.name);
    j_.member("task_family", n_.workload(job.name));
    j_.member("schedule", n_.schedule(job.name));
    j_.key("steps").beginArray();
    // The schedule runs the family's latest ACTIVE revision: registering is the deploy.
    registerStep(job);
    j_.endArray();
    j_.endObject();
  }

  const model::AppModel& app_;
  const model::Environment& env_;
  EnvNames n_;
  JsonWriter j_;
  double total_ = 0;
};

}  // namespace

std::vector<std::vector<std::string>> waves(const model::Environment& env) {
  std::map<std::string, int> level;
  std::map<std::string, const Service*> byName;
  for (const auto& s : env.services) byName[s.name] = &s;
  // Depth-first; the checker guarantees the graph is acyclic and names exist.
  std::function<int(const Service&, int)> depth = [&](const Service& s, int guard) -> int {
    if (auto it = level.find(s.name); it != level.end()) return it->second;
    if (guard > static_cast<int>(env.services.size())) return 0;  // defensive: never loop
    int d = 0;
    for (const auto& dep : s.dependsOn) {
      if (auto it = byName.find(dep); it != byName.end()) d = std::max(d, depth(*it->second, guard + 1) + 1);
    }
    level[s.name] = d;
    return d;
  };
  std::vector<std::vector<std::string>> out;
  for (const auto& s : env.services) {
    int d = depth(s, 0);
    if (out.size() <= static_cast<std::size_t>(d)) out.resize(static_cast<std::size_t>(d) + 1);
    out[static_cast<std::size_t>(d)].push_back(s.name);
  }
  for (auto& w : out) std::sort(w.begin(), w.end());
  return out;
}

Output generate(const model::AppModel& app, const Options& o) {
  Output out;
  std::string spec = o.specLabel.empty() ? app.app.sourceFile : o.specLabel;
  for (const auto& env : app.environments) {
    if (!o.selected(env.name)) continue;
    std::string text;
    PlanWriter(app, env, text)
        .write(generatedNotice(spec, fmt::format("deployment plan of environment {}"_cf, env.name)));
    text += '\n';
    out.files.push_back({fmt::format("{}/plan.json"_cf, env.name), std::move(text)});
  }
  std::sort(out.files.begin(), out.files.end(), [](const File& a, const File& b) { return a.path < b.path; });
  return out;
}

}  // namespace gops::backend::plan
