#include "model/model_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/json_writer.h"

namespace gops::model {

using json = nlohmann::ordered_json;

namespace {

json number(double d) {
  if (d == static_cast<double>(static_cast<long long>(d))) return static_cast<long long>(d);
  return d;
}

json deployJson(const Deploy& d) {
  json j;
  j["trigger"] = d.kind == Deploy::Kind::OnPush ? "on_push" : "manual";
  if (d.kind == Deploy::Kind::OnPush) j["branch"] = d.branch;
  return j;
}

json imageJson(const Image& i) {
  json j;
  if (i.kind == Image::Kind::Ecr) {
    j["kind"] = "ecr";
    j["repository"] = i.repository;
  } else {
    j["kind"] = "external";
    j["uri"] = i.uri;
  }
  return j;
}

json secretsJson(const std::map<std::string, Secret>& secrets) {
  json j = json::object();
  for (const auto& [name, s] : secrets) {
    json e;
    e["kind"] = s.kind == Secret::Kind::Ssm ? "ssm" : "secretsmanager";
    e["name"] = s.name;
    if (s.kind == Secret::Kind::SecretsManager) e["key"] = s.key.empty() ? json(nullptr) : json(s.key);
    j[name] = e;
  }
  return j;
}

void workloadJson(json& j, const Workload& w) {
  j["name"] = w.name;
  j["templates"] = w.templates;
  j["image"] = imageJson(w.image);
  j["build"] = w.build.empty() ? json(nullptr) : json(w.build);
  j["command"] = w.command;
  j["cpu"] = w.cpu;
  j["memory"] = w.memory;
  j["env"] = json::object();
  for (const auto& [k, v] : w.env) j["env"][k] = v;
  j["secrets"] = secretsJson(w.secrets);
  j["log_retention_days"] = w.logRetentionDays;
}

/// What real teams' workloads add: the task role's grants, sidecars, volumes, the
/// architecture, Spot, disk and FireLens options (appended after the older keys).
void workloadExtrasJson(json& j, const Workload& w) {
  j["platform"] = toString(w.platform);
  j["capacity"] = {{"spot_percent", number(w.capacity.spotPercent)}, {"on_demand_base", w.capacity.onDemandBase}};
  j["ephemeral_storage_gib"] = w.ephemeralStorageGiB == 0 ? 20 : w.ephemeralStorageGiB;
  j["permissions"] = json::array();
  for (const auto& g : w.permissions) j["permissions"].push_back({{"actions", g.actions}, {"resources", g.resources}});
  j["sidecars"] = json::array();
  for (const auto& sc : w.sidecars) {
    json s;
    s["name"] = sc.name;
    s["image"] = imageJson(sc.image);
    s["cpu"] = sc.cpu;
    s["memory"] = sc.memory;
    s["essential"] = sc.essential;
    s["port"] = sc.port ? json(*sc.port) : json(nullptr);
    s["command"] = sc.command;
    s["env"] = json::object();
    for (const auto& [k, v] : sc.env) s["env"][k] = v;
    s["log_router"] = sc.logRouter.empty() ? json(nullptr) : json(sc.logRouter);
    s["health_check"] = sc.healthCommand;
    j["sidecars"].push_back(s);
  }
  j["volumes"] = json::array();
  for (const auto& v : w.volumes) {
    j["volumes"].push_back({{"name", v.name},
                            {"efs", v.efs},
                            {"path", v.path},
                            {"read_only", v.readOnly},
                            {"access_point", v.accessPoint.empty() ? json(nullptr) : json(v.accessPoint)}});
  }
  j["log_options"] = json::object();
  for (const auto& [k, v] : w.logOptions) j["log_options"][k] = v;
}

json gateJson(const Gate& g) {
  json j;
  j["kind"] = toString(g.kind);
  if (g.kind == Gate::Kind::Soak) j["seconds"] = number(g.soakSeconds);
  return j;
}

json promotionJson(const Promotion& p) {
  json j;
  j["from"] = p.from;
  j["to"] = p.to;
  j["gates"] = json::array();
  for (const auto& g : p.gates) j["gates"].push_back(gateJson(g));
  return j;
}

}  // namespace

json scheduleToJson(const Schedule& s) {
  json j;
  j["kind"] = s.kind == Schedule::Kind::Cron ? "cron" : "rate";
  if (s.kind == Schedule::Kind::Cron) j["cron"] = s.cron;
  else j["seconds"] = number(s.rateSeconds);
  j["expression"] = s.expression;
  return j;
}

json rolloutToJson(const Rollout& r) {
  json j;
  j["strategy"] = toString(r.kind);
  j["preset"] = r.preset.empty() ? json(nullptr) : json(r.preset);
  switch (r.kind) {
    case Rollout::Kind::Rolling:
      j["min_healthy_percent"] = number(r.minHealthyPercent);
      j["max_percent"] = number(r.maxPercent);
      break;
    case Rollout::Kind::BlueGreen:
      j["test_traffic_percent"] = number(r.testTrafficPercent);
      j["bake_seconds"] = number(r.bakeSeconds);
      break;
    case Rollout::Kind::Linear:
      j["step_percent"] = number(r.linearStepPercent);
      j["interval_seconds"] = number(r.linearIntervalSeconds);
      [[fallthrough]];
    case Rollout::Kind::Canary:
      j["steps"] = json::array();
      for (const auto& s : r.steps) j["steps"].push_back({{"weight", number(s.weight)}, {"hold_seconds", number(s.holdSeconds)}});
      break;
  }
  if (r.shiftsTraffic()) {
    j["engine"] = toString(r.engine);
    j["min_requests"] = r.minRequests;
  }
  j["rollback"] = json::array();
  for (const auto& c : r.rollback) {
    json cj;
    cj["metric"] = c.metric;
    if (c.metric == "alarm") cj["alarm_name"] = c.alarmName;
    cj["op"] = toString(c.op);
    if (c.metric != "alarm") {
      if (c.baseline) cj["compare_to"] = "stable";  // threshold: the margin over the stable version
      cj["threshold"] = number(c.threshold);
      cj["unit"] = c.unit;
    }
    cj["for_seconds"] = number(c.forSeconds);
    j["rollback"].push_back(cj);
  }
  j["total_seconds"] = number(r.totalSeconds());
  return j;
}

json environmentToJson(const AppModel& app, const Environment& env) {
  json j;
  j["gops_model_version"] = kModelVersion;
  j["app"] = {{"name", app.app.name}, {"region", app.app.region}, {"repository", app.app.repository}, {"registry", app.app.registry}};
  json e;
  e["name"] = env.name;
  e["account"] = env.account;
  e["region"] = env.region;
  e["deploy"] = deployJson(env.deploy);
  if (env.approval) {
    e["approval"] = {{"reviewers", env.approval->reviewers}, {"required", env.approval->required}};
  } else {
    e["approval"] = nullptr;
  }
  e["network"] = {{"cidr", env.network.cidr}, {"zones", env.network.zones}, {"nat", toString(env.network.nat)}};
  e["tests"] = env.tests;
  e["drift_check"] = env.driftCheck ? scheduleToJson(*env.driftCheck) : json(nullptr);
  e["rollout"] = rolloutToJson(env.rollout);
  e["rollout"]["source"] = env.rolloutSource;
  if (!env.network.existingVpc.empty()) {
    e["network"]["cidr"] = nullptr;  // the existing VPC's own
    e["network"]["nat"] = nullptr;
    e["network"]["vpc"] = env.network.existingVpc;
    e["network"]["private_subnets"] = env.network.privateSubnets;
    e["network"]["public_subnets"] = env.network.publicSubnets;
  }
  e["load_balancer"] = env.existingLoadBalancer.empty() ? json(nullptr) : json(env.existingLoadBalancer);
  e["cluster"] = env.existingCluster.empty() ? json(nullptr) : json(env.existingCluster);
  e["dns"] = env.dns ? json({{"zone", env.dns->zone}}) : json(nullptr);
  e["notify"] = env.notifyTopic.empty() ? json(nullptr) : json(env.notifyTopic);
  j["environment"] = e;

  j["services"] = json::array();
  for (const auto& s : env.services) {
    json sj;
    workloadJson(sj, s);
    sj["replicas"] = s.replicas;
    sj["port"] = s.port ? json(*s.port) : json(nullptr);
    json ex;
    ex["kind"] = s.expose.kind == Expose::Kind::Public ? "public" : s.expose.kind == Expose::Kind::Internal ? "internal" : "none";
    if (s.expose.kind == Expose::Kind::Public) ex["hosts"] = s.expose.hosts;
    if (!s.expose.paths.empty()) ex["paths"] = s.expose.paths;
    sj["expose"] = ex;
    if (s.health) {
      const auto& h = *s.health;
      sj["health"] = {{"path", h.path},
                      {"interval_seconds", number(h.intervalSeconds)},
                      {"timeout_seconds", number(h.timeoutSeconds)},
                      {"healthy_threshold", h.healthyThreshold},
                      {"unhealthy_threshold", h.unhealthyThreshold},
                      {"grace_period_seconds", number(h.gracePeriodSeconds)}};
      if (!h.command.empty()) sj["health"]["command"] = h.command;
    } else {
      sj["health"] = nullptr;
    }
    if (s.autoscale) {
      const auto& a = *s.autoscale;
      json aj;
      aj["min"] = a.min;
      aj["max"] = a.max;
      aj["cpu_percent"] = a.cpuPercent ? number(*a.cpuPercent) : json(nullptr);
      aj["memory_percent"] = a.memoryPercent ? number(*a.memoryPercent) : json(nullptr);
      aj["requests_per_target"] = a.requestsPerTarget ? json(*a.requestsPerTarget) : json(nullptr);
      sj["autoscale"] = aj;
    } else {
      sj["autoscale"] = nullptr;
    }
    sj["rollout"] = rolloutToJson(s.rollout);
    sj["rollout"]["source"] = s.rolloutSource;
    sj["depends_on"] = s.dependsOn;
    if (s.beforeDeploy) {
      const auto& t = *s.beforeDeploy;
      sj["before_deploy"] = {{"command", t.command},
                             {"timeout_seconds", number(t.timeoutSeconds)},
                             {"cpu", t.cpu == 0 ? s.cpu : t.cpu},
                             {"memory", t.memory == 0 ? s.memory : t.memory}};
    } else {
      sj["before_deploy"] = nullptr;
    }
    workloadExtrasJson(sj, s);
    j["services"].push_back(sj);
  }
  j["jobs"] = json::array();
  for (const auto& jb : env.jobs) {
    json jj;
    workloadJson(jj, jb);
    jj["schedule"] = scheduleToJson(jb.schedule);
    jj["timeout_seconds"] = number(jb.timeoutSeconds);
    workloadExtrasJson(jj, jb);
    j["jobs"].push_back(jj);
  }
  json promo;
  promo["into"] = json::array();
  for (const auto* p : app.promotionsInto(env.name)) promo["into"].push_back(promotionJson(*p));
  promo["out_of"] = json::array();
  for (const auto* p : app.promotionsOutOf(env.name)) promo["out_of"].push_back(promotionJson(*p));
  j["promotions"] = promo;
  return j;
}

std::string environmentJson(const AppModel& app, const Environment& env) {
  return environmentToJson(app, env).dump(2) + "\n";
}

namespace {
std::string scalar(const json& v) {
  if (v.is_null()) return "none";
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    bool plain = !s.empty() && s.find_first_of(" :#\"'{}[],&*!|>%@`\n\t") == std::string::npos;
    if (plain) return s;
    std::string out;
    JsonWriter::escape(out, s);
    return "\"" + out + "\"";
  }
  return v.dump();
}

bool isScalarList(const json& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v) {
    if (e.is_object() || e.is_array()) return false;
  }
  return true;
}

void textOf(std::string& out, const json& v, int indent) {
  std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  for (auto it = v.begin(); it != v.end(); ++it) {
    const json& val = it.value();
    if (val.is_object()) {
      if (val.empty()) {
        out += fmt::format("{}{}: {{}}\n", pad, it.key());
      } else {
        out += fmt::format("{}{}:\n", pad, it.key());
        textOf(out, val, indent + 1);
      }
    } else if (isScalarList(val)) {
      std::string items;
      for (const auto& e : val) items += (items.empty() ? "" : ", ") + scalar(e);
      out += fmt::format("{}{}: [{}]\n", pad, it.key(), items);
    } else if (val.is_array()) {
      out += fmt::format("{}{}:\n", pad, it.key());
      for (const auto& e : val) {
        // First key on the dash line, like YAML.
        std::string sub;
        textOf(sub, e, indent + 2);
        std::string dashPad(static_cast<std::size_t>(indent + 1) * 2, ' ');
        if (sub.size() > dashPad.size() + 2) sub.replace(0, dashPad.size() + 2, dashPad + "- ");
        out += sub;
      }
    } else {
      out += fmt::format("{}{}: {}\n", pad, it.key(), scalar(val));
    }
  }
}
}  // namespace

std::string environmentText(const AppModel& app, const Environment& env) {
  std::string out;
  textOf(out, environmentToJson(app, env), 0);
  return out;
}

}  // namespace gops::model
