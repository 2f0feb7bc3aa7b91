// `gops drift`: the live state of an environment against its compiled desired state
// (docs/runtime.md).
#include <algorithm>
#include <map>
#include <optional>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gops/aws/client.h"
#include "gops/aws/error.h"
#include "gops/aws/xml.h"
#include "gops/deploy/drift.h"
#include "live.h"

namespace gops::deploy {

namespace {

using json = nlohmann::json;

/// A value as people read it: strings as they are, numbers and booleans as JSON.
std::string show(const json& v) {
  if (v.is_null()) return "(not set)";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

/// The same value, whichever of string and number each side uses ("512" and 512).
bool same(const json& a, const json& b) {
  if (a == b) return true;
  if ((a.is_string() || a.is_number()) && (b.is_string() || b.is_number())) return show(a) == show(b);
  return false;
}

class Drift {
 public:
  Drift(aws::AwsClient& aws, const Bundle& bundle, const json& tf) : aws_(aws), bundle_(bundle), tf_(tf) {
    cluster_ = bundle.plan.cluster;
    ledger_ = bundle.plan.ledger;
    auto it = bundle.files.find("terraform/main.tf.json");
    if (it != bundle.files.end()) {
      try {
        json doc = json::parse(it->second);
        if (doc.contains("resource") && doc["resource"].contains("aws_cloudwatch_metric_alarm")) {
          for (const auto& [label, a] : doc["resource"]["aws_cloudwatch_metric_alarm"].items()) {
            if (a.contains("alarm_name") && a["alarm_name"].is_string()) alarms_[a["alarm_name"].get<std::string>()] = a;
          }
        }
        terraform_ = true;
      } catch (const json::exception&) {
      }
    }
  }

  json run() {
    const plan::Plan& plan = bundle_.plan;
    lock_ = live::ledgerGet(aws_, ledger_, "lock");
    if (lock_) {
      note("", fmt::format("a {} by {} holds the lock since {} (deploy {}): listener weights are not compared",
                           lock_->value("command", "deploy"), lock_->value("owner", "?"), lock_->value("started", "?"),
                           lock_->value("deploy_id", "?")));
    }
    if (!terraform_) note("", "the alarms' settings are not compared: the environment's Terraform JSON (terraform/main.tf.json) is not at hand");
    for (const auto& s : plan.services) service(s);
    return {{"app", plan.app}, {"environment", plan.environment}, {"cluster", cluster_}, {"drifted", !items_.empty()},
            {"items", items_}, {"notes", notes_}};
  }

 private:
  void drift(const std::string& service, const std::string& field, const json& desired, const json& live) {
    items_.push_back({{"service", service}, {"field", field}, {"desired", show(desired)}, {"live", show(live)}});
  }
  void note(const std::string& service, const std::string& text) {
    notes_.push_back(service.empty() ? json{{"note", text}} : json{{"service", service}, {"note", text}});
  }

  /// The value with its placeholders filled; nullopt (and a note) when an output is missing.
  std::optional<json> fill(const std::string& service, const std::string& field, const json& v, const std::string& tag) {
    try {
      return fillPlaceholders(v, tf_, tag);
    } catch (const DeployError& e) {
      note(service, fmt::format("{} not compared: {}", field, e.what()));
      return std::nullopt;
    }
  }

  void service(const plan::Service& s) {
    const std::string& name = s.name;
    const std::string& ecsName = s.ecsService;
    json svc = live::describeService(aws_, cluster_, ecsName);
    if (svc.is_null()) {
      drift(name, "service", ecsName + " in cluster " + cluster_, "does not exist");
      return;
    }
    auto rec = live::ledgerGet(aws_, ledger_, "services/" + name);
    const bool inProgress = lock_.has_value() || (rec && rec->value("status", "") == "in_progress");

    // Desired count, or the autoscaler's bounds.
    const int live = svc.value("desiredCount", 0);
    if (s.autoscale) {
      int lo = s.autoscale->min, hi = s.autoscale->max;
      if (live < lo || live > hi) drift(name, "desired count", fmt::format("between {} and {} (autoscaled)", lo, hi), live);
    } else if (live != s.desiredCount) {
      drift(name, "desired count", s.desiredCount, live);
    }

    taskDefinition(s, svc, rec);
    svc_ = svc;
    deploymentConfiguration(s, svc);
    alarms(s);
    if (s.traffic) weights(s, svc, inProgress);
  }

  void taskDefinition(const plan::Service& s, const json& svc, const std::optional<json>& rec) {
    const std::string& name = s.name;
    std::string file;
    for (const auto& st : s.steps) {
      if (const auto* reg = std::get_if<plan::RegisterTaskDefinition>(&st)) file = reg->file;
    }
    auto it = bundle_.files.find(file);
    if (file.empty() || it == bundle_.files.end()) {
      note(name, fmt::format("the task definition is not compared: `{}` is not in the plan's files", file));
      return;
    }
    json desired;
    try {
      desired = json::parse(it->second);
    } catch (const json::exception&) {
      note(name, fmt::format("the task definition is not compared: `{}` is not JSON", file));
      return;
    }
    const std::string arn = live::runningTaskDefinition(svc);
    if (arn.empty()) {
      drift(name, "task definition", desired.value("family", ""), "none");
      return;
    }
    json td = aws_.callJson("ecs", "DescribeTaskDefinition", {{"taskDefinition", arn}})["taskDefinition"];
    // The image tag: the one gops deployed last (the ledger), not the compiled placeholder.
    std::string tag;
    auto good = live::ledgerGet(aws_, ledger_, "last-good/" + name);
    if (good) tag = good->value("image_tag", "");
    if (tag.empty() && rec) tag = rec->value("image_tag", "");
    if (tag.empty()) note(name, "no deploy in the ledger: only the images' repositories are compared, not their tags");

    const std::string where = fmt::format("task definition {}", arn.substr(arn.rfind('/') + 1));
    if (desired.value("family", "") != td.value("family", "")) drift(name, where + " family", desired.value("family", ""), td.value("family", ""));
    for (const char* key : {"cpu", "memory", "taskRoleArn", "executionRoleArn", "networkMode"}) {
      if (!desired.contains(key)) continue;
      auto want = fill(name, key, desired[key], tag);
      if (!want) continue;
      json got = td.contains(key) ? td[key] : json();
      if (!same(*want, got)) drift(name, fmt::format("{} {}", where, key), *want, got);
    }
    std::map<std::string, json> liveContainers;
    for (const auto& c : td.value("containerDefinitions", json::array())) liveContainers[c.value("name", "")] = c;
    for (const auto& c : desired.value("containerDefinitions", json::array())) {
      const std::string cname = c.value("name", "");
      const std::string prefix = fmt::format("{} container {}", where, cname);
      auto lc = liveContainers.find(cname);
      if (lc == liveContainers.end()) {
        drift(name, prefix, "present", "missing");
        continue;
      }
      const json l = lc->second;  // a copy: the entry is erased below
      liveContainers.erase(lc);
      if (auto img = fill(name, prefix + " image", c.value("image", ""), tag.empty() ? "{{image_tag}}" : tag)) {
        std::string want = img->get<std::string>(), got = l.value("image", "");
        if (tag.empty()) {
          want = want.substr(0, want.rfind(':'));
          got = got.substr(0, got.rfind(':'));
        }
        if (want != got) drift(name, prefix + " image", want, got);
      }
      if (c.contains("command") || l.contains("command")) {
        json want = c.value("command", json::array()), got = l.value("command", json::array());
        if (want != got) drift(name, prefix + " command", want, got);
      }
      pairs(name, prefix + " environment", c.value("environment", json::array()), l.value("environment", json::array()), "value", tag);
      pairs(name, prefix + " secret", c.value("secrets", json::array()), l.value("secrets", json::array()), "valueFrom", tag);
      auto ports = [](const json& list) {
        std::vector<std::string> r;
        for (const auto& p : list) r.push_back(fmt::format("{}/{}", p.value("containerPort", 0), p.value("protocol", "tcp")));
        std::sort(r.begin(), r.end());
        std::string out;
        for (const auto& x : r) out += (out.empty() ? "" : ", ") + x;
        return out.empty() ? std::string("none") : out;
      };
      std::string wantPorts = ports(c.value("portMappings", json::array())), gotPorts = ports(l.value("portMappings", json::array()));
      if (wantPorts != gotPorts) drift(name, prefix + " ports", wantPorts, gotPorts);
    }
    for (const auto& [cname, c] : liveContainers) drift(name, fmt::format("{} container {}", where, cname), "absent", "present");
  }

  /// `[{name, <valueKey>}]` lists compared name by name.
  void pairs(const std::string& service, const std::string& field, const json& want, const json& got, const char* valueKey, const std::string& tag) {
    std::map<std::string, json> w, g;
    for (const auto& e : want) {
      auto v = fill(service, field + " " + e.value("name", ""), e.contains(valueKey) ? e[valueKey] : json(), tag);
      if (!v) continue;
      w[e.value("name", "")] = *v;
    }
    for (const auto& e : got) g[e.value("name", "")] = e.contains(valueKey) ? e[valueKey] : json();
    for (const auto& [k, v] : w) {
      auto it = g.find(k);
      if (it == g.end()) {
        drift(service, fmt::format("{} {}", field, k), v, json());
      } else if (!same(v, it->second)) {
        drift(service, fmt::format("{} {}", field, k), v, it->second);
      }
    }
    for (const auto& [k, v] : g) {
      if (!w.count(k)) drift(service, fmt::format("{} {}", field, k), json(), v);
    }
  }

  void deploymentConfiguration(const plan::Service& s, const json& svc) {
    const std::string& name = s.name;
    auto it = bundle_.files.find(s.serviceFile);
    if (it == bundle_.files.end()) return;
    json file;
    try {
      file = json::parse(it->second);
    } catch (const json::exception&) {
      return;
    }
    if (!file.contains("deploymentConfiguration")) return;
    const json& want = file["deploymentConfiguration"];
    // ECS always reports the deployment configuration; a field it leaves out (some
    // implementations, moto's) is noted, not taken for drift.
    std::vector<std::string> unreported;
    const json got = svc.value("deploymentConfiguration", json::object());
    for (const char* key : {"maximumPercent", "minimumHealthyPercent"}) {
      if (!want.contains(key)) continue;
      if (!got.contains(key)) {
        unreported.push_back(key);
      } else if (!same(want[key], got[key])) {
        drift(name, fmt::format("deployment configuration {}", key), want[key], got[key]);
      }
    }
    if (want.contains("deploymentCircuitBreaker")) {
      const json& w = want["deploymentCircuitBreaker"];
      const json g = got.value("deploymentCircuitBreaker", json::object());
      for (const char* key : {"enable", "rollback"}) {
        if (!w.contains(key)) continue;
        if (!g.contains(key)) {
          unreported.push_back(fmt::format("deploymentCircuitBreaker.{}", key));
        } else if (w[key] != g[key]) {
          drift(name, fmt::format("deployment configuration deploymentCircuitBreaker.{}", key), w[key], g[key]);
        }
      }
    }
    if (s.engine == plan::Engine::Ecs) nativeConfiguration(name, file, want, got, unreported);
    if (!unreported.empty()) {
      std::string list;
      for (const auto& u : unreported) list += (list.empty() ? "" : ", ") + u;
      note(name, fmt::format("deployment configuration {} not compared: DescribeServices does not report it", list));
    }
  }

  /// ECS's own strategy (engine `ecs`): the controller, the strategy, its bakes and
  /// steps, and the alarms ECS rolls back on, as compiled.
  void nativeConfiguration(const std::string& name, const json& file, const json& want, const json& got, std::vector<std::string>& unreported) {
    const std::string controller = file.value("deploymentController", json::object()).value("type", "ECS");
    const json& live = svc_.value("deploymentController", json::object());
    if (live.contains("type") && live["type"] != controller) drift(name, "deployment controller", controller, live["type"]);
    auto compare = [&](const std::string& field, const json& w, const json& g) {
      if (g.is_null()) unreported.push_back(field);
      else if (!same(w, g) && !(w.is_number() && g.is_number() && w.get<double>() == g.get<double>())) {
        drift(name, fmt::format("deployment configuration {}", field), w, g);
      }
    };
    for (const char* key : {"strategy", "bakeTimeInMinutes"}) {
      if (want.contains(key)) compare(key, want[key], got.contains(key) ? got[key] : json());
    }
    for (const char* block : {"canaryConfiguration", "linearConfiguration", "alarms"}) {
      if (!want.contains(block)) continue;
      const json g = got.value(block, json::object());
      for (auto it = want[block].begin(); it != want[block].end(); ++it) {
        compare(fmt::format("{}.{}", block, it.key()), it.value(), g.contains(it.key()) ? g[it.key()] : json());
      }
    }
  }

  void alarms(const plan::Service& s) {
    const std::string& name = s.name;
    const std::vector<std::string> names = s.watch.allAlarms();  // both colours' too
    if (names.empty()) return;
    json r = aws_.callJson("monitoring", "DescribeAlarms", {{"AlarmNames", names}});
    std::map<std::string, json> found;
    for (const auto& m : r.value("MetricAlarms", json::array())) found[m.value("AlarmName", "")] = m;
    for (const auto& alarm : names) {
      auto it = found.find(alarm);
      if (it == found.end()) {
        drift(name, fmt::format("alarm {}", alarm), "exists", "does not exist");
        continue;
      }
      auto def = alarms_.find(alarm);
      if (def == alarms_.end()) continue;  // named with alarm("..."): not ours to define
      const json& want = def->second;
      const json& got = it->second;
      const std::pair<const char*, const char*> keys[] = {
          {"threshold", "Threshold"}, {"comparison_operator", "ComparisonOperator"}, {"evaluation_periods", "EvaluationPeriods"},
          {"datapoints_to_alarm", "DatapointsToAlarm"}};
      for (const auto& [tfKey, apiKey] : keys) {
        if (!want.contains(tfKey)) continue;
        json g = got.contains(apiKey) ? got[apiKey] : json();
        bool eq = same(want[tfKey], g);
        if (!eq && want[tfKey].is_number() && g.is_number()) eq = want[tfKey].get<double>() == g.get<double>();
        if (!eq) drift(name, fmt::format("alarm {} {}", alarm, apiKey), want[tfKey], g);
      }
    }
  }

  void weights(const plan::Service& s, const json& svc, bool inProgress) {
    const std::string& name = s.name;
    if (inProgress) {
      if (!lock_) note(name, "a deploy is in progress: the listener weights are not compared");
      return;
    }
    // The stable group: the PRIMARY task set's; with ECS's own strategy, the service's
    // own (ECS swaps it with the alternate after each deployment). All traffic on it,
    // none on the other.
    std::string primaryTg;
    for (const auto& t : svc.value("taskSets", json::array())) {
      if (t.value("status", "") != "PRIMARY") continue;
      json lb = t.value("loadBalancers", json::array());
      if (!lb.empty()) primaryTg = lb[0].value("targetGroupArn", "");
    }
    if (s.engine == plan::Engine::Ecs) {
      json lb = svc.value("loadBalancers", json::array());
      if (!lb.empty()) primaryTg = lb[0].value("targetGroupArn", "");
    }
    std::map<std::string, std::string> colour;  // arn -> blue | green
    for (plan::Color c : {plan::Color::Blue, plan::Color::Green}) {
      auto arn = fill(name, fmt::format("the {} target group", plan::toString(c)), json(s.traffic->group(c).arn), "");
      if (!arn) return;
      colour[arn->get<std::string>()] = plan::toString(c);
    }
    for (const auto& rule : s.traffic->listenerRules) {
      auto arn = fill(name, "the listener weights", json(rule), "");
      if (!arn) return;
      aws::QueryParams q{{"RuleArns.member.1", arn->get<std::string>()}};
      std::map<std::string, int> got;
      try {
        auto doc = aws_.callQuery("elasticloadbalancing", "DescribeRules", q);
        for (const auto* ru : doc.result().members("Rules")) {
          for (const auto* a : ru->members("Actions")) {
            if (const auto* fc = a->child("ForwardConfig")) {
              for (const auto* tg : fc->members("TargetGroups")) got[tg->childTextOr("TargetGroupArn", "")] = std::stoi(tg->childTextOr("Weight", "0"));
            }
          }
        }
      } catch (const aws::AwsError& e) {
        if (e.code() != "RuleNotFound") throw;
        drift(name, "listener rule", arn->get<std::string>(), "does not exist");
        continue;
      }
      auto label = [&](const std::string& tg) { return colour.count(tg) ? colour[tg] : tg; };
      auto describe = [&](const std::map<std::string, int>& w) {
        std::string out;
        for (const auto& [tg, weight] : w) out += fmt::format("{}{} {}%", out.empty() ? "" : ", ", label(tg), weight);
        return out.empty() ? std::string("no forward action") : out;
      };
      std::map<std::string, int> want;
      if (!primaryTg.empty()) {
        for (const auto& [tg, c] : colour) want[tg] = tg == primaryTg ? 100 : 0;
      }
      // The weights are right when every group of the rule gets its wanted weight
      // (a group the rule does not name counts as 0).
      bool ok = !want.empty();
      for (const auto& [tg, w] : want) {
        int g = got.count(tg) ? got[tg] : 0;
        ok = ok && g == w;
      }
      for (const auto& [tg, w] : got) ok = ok && (want.count(tg) || w == 0);
      if (!ok) {
        drift(name, "listener weights",
              primaryTg.empty() ? std::string("100% on the primary task set's group (there is no primary task set)")
                                : fmt::format("{} 100% (the primary task set's group), {} 0%", label(primaryTg),
                                              label(primaryTg) == "blue" ? "green" : "blue"),
              describe(got));
      }
    }
  }

  aws::AwsClient& aws_;
  const Bundle& bundle_;
  const json& tf_;
  std::string cluster_, ledger_;
  std::map<std::string, json> alarms_;
  bool terraform_ = false;
  std::optional<json> lock_;
  json svc_;  ///< the service being compared (DescribeServices)
  json items_ = json::array();
  json notes_ = json::array();
};

std::string mdCell(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '|') r += "\\|";
    else if (c == '\n') r += ' ';
    else r += c;
  }
  return r;
}

}  // namespace

json collectDrift(aws::AwsClient& aws, const Bundle& bundle, const json& tfOutputs) {
  Drift d(aws, bundle, tfOutputs);
  return d.run();
}

void printDrift(std::ostream& out, const json& d, bool markdown) {
  const std::string app = d.value("app", ""), env = d.value("environment", "");
  const json& items = d["items"];
  if (markdown) {
    out << fmt::format("## gops drift: {} {}\n\n", app, env);
    if (items.empty()) {
      out << "No drift: the live services, task definitions, alarms and listener weights are as compiled.\n";
    } else {
      out << fmt::format("{} field(s) differ from the compiled spec (cluster `{}`):\n\n", items.size(), d.value("cluster", ""));
      out << "| service | field | desired | live |\n|---|---|---|---|\n";
      for (const auto& i : items) {
        out << fmt::format("| {} | {} | `{}` | `{}` |\n", mdCell(i.value("service", "")), mdCell(i.value("field", "")),
                           mdCell(i.value("desired", "")), mdCell(i.value("live", "")));
      }
    }
    if (!d["notes"].empty()) {
      out << "\nNot compared:\n\n";
      for (const auto& n : d["notes"]) {
        out << fmt::format("- {}{}\n", n.contains("service") ? n.value("service", "") + ": " : "", mdCell(n.value("note", "")));
      }
    }
    return;
  }
  for (const auto& i : items) {
    out << fmt::format("{:<10} {}\n           desired: {}\n           live:    {}\n", i.value("service", ""), i.value("field", ""),
                       i.value("desired", ""), i.value("live", ""));
  }
  for (const auto& n : d["notes"]) {
    out << fmt::format("note: {}{}\n", n.contains("service") ? n.value("service", "") + ": " : "", n.value("note", ""));
  }
  out << (items.empty() ? fmt::format("gops drift: no drift in {} {}\n", app, env)
                        : fmt::format("gops drift: {} field(s) drifted in {} {}\n", items.size(), app, env));
}

}  // namespace gops::deploy
