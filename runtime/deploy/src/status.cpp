// `gops status`: what runs in an environment now, and its last deployments (docs/runtime.md).
#include <algorithm>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gops/aws/client.h"
#include "gops/aws/error.h"
#include "gops/aws/xml.h"
#include "gops/deploy/deploy.h"
#include "ledger.h"

namespace gops::deploy {

namespace {

using json = nlohmann::json;

/// ECS's own strategy: the deployment ECS runs or ran last, as DescribeServiceDeployments
/// says; where ECS names none (moto), the primary deployment of DescribeServices.
json ecsDeployment(aws::AwsClient& aws, const json& svc) {
  const json config = svc.value("deploymentConfiguration", json::object());
  json out = {{"strategy", config.value("strategy", "")}};
  const std::string arn = svc.value("currentServiceDeployment", "");
  if (!arn.empty()) {
    json r = aws.callJson("ecs", "DescribeServiceDeployments", {{"serviceDeploymentArns", json::array({arn})}});
    for (const auto& d : r.value("serviceDeployments", json::array())) {
      out["service_deployment"] = arn;
      out["status"] = d.value("status", "");
      out["phase"] = d.value("lifecycleStage", "");
      const json target = d.value("targetServiceRevision", json::object());
      if (target.contains("requestedProductionTrafficWeight")) out["weight"] = target["requestedProductionTrafficWeight"];
      if (d.contains("statusReason")) out["reason"] = d["statusReason"];
    }
    return out;
  }
  for (const auto& d : svc.value("deployments", json::array())) {
    if (d.value("status", "") != "PRIMARY") continue;
    out["status"] = d.value("rolloutState", "");
    if (d.contains("rolloutStateReason")) out["reason"] = d["rolloutStateReason"];
  }
  return out;
}

json ledgerValue(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return json();
  }
}

}  // namespace

json collectStatus(aws::AwsClient& aws, const Bundle& bundle, const json& tfOutputs, int history) {
  const plan::Plan& plan = bundle.plan;
  const std::string& cluster = plan.cluster;
  const std::string& ledger = plan.ledger;
  json result = {{"app", plan.app}, {"environment", plan.environment}, {"cluster", cluster}, {"services", json::array()}};
  {
    // The lock, with the verdict on its holder (its heartbeat's age; dead or alive).
    exec::Ledger l([&aws]() -> aws::AwsClient& { return aws; }, ledger);
    std::optional<json> lock = l.get("lock");
    std::optional<json> heartbeat;
    if (lock && !lock->value("token", "").empty()) heartbeat = l.get("lock-heartbeat/" + lock->value("token", ""));
    const exec::LockState st = exec::Lock::judge(lock, heartbeat, exec::nowEpoch());
    if (st.lock) {
      json v = *st.lock;
      v["alive"] = st.live;
      if (st.lastBeat > 0) v["heartbeat_age_seconds"] = exec::nowEpoch() - st.lastBeat;
      if (!st.live) v["dead"] = st.why;
      result["lock"] = v;
    } else {
      result["lock"] = nullptr;
    }
  }
  for (const auto& s : plan.services) {
    const std::string& name = s.name;
    json out = {{"name", name}, {"ecs_service", s.ecsService}, {"strategy", std::string(plan::toString(s.strategy))},
                {"engine", std::string(plan::toString(s.engine))}};
    json r = aws.callJson("ecs", "DescribeServices", {{"cluster", cluster}, {"services", json::array({s.ecsService})}});
    json svc;
    for (const auto& x : r.value("services", json::array())) {
      if (x.value("status", "") != "INACTIVE") svc = x;
    }
    if (svc.is_null()) {
      out["exists"] = false;
    } else {
      out["exists"] = true;
      out["task_definition"] = svc.value("taskDefinition", "");
      out["desired"] = svc.value("desiredCount", 0);
      out["running"] = svc.value("runningCount", 0);
      out["pending"] = svc.value("pendingCount", 0);
      json sets = json::array();
      for (const auto& t : svc.value("taskSets", json::array())) {
        json lb = t.value("loadBalancers", json::array());
        sets.push_back({{"task_set", t.value("taskSetArn", "")}, {"status", t.value("status", "")},
                        {"task_definition", t.value("taskDefinition", "")},
                        {"target_group", lb.empty() ? "" : lb[0].value("targetGroupArn", "")},
                        {"scale", t.contains("scale") ? t["scale"].value("value", 0.0) : 0.0}});
        if (t.value("status", "") == "PRIMARY") out["task_definition"] = t.value("taskDefinition", "");
      }
      if (!sets.empty()) out["task_sets"] = sets;
      if (s.engine == plan::Engine::Ecs) out["ecs_deployment"] = ecsDeployment(aws, svc);
    }
    if (s.traffic) {
      json weights = json::object();
      for (const auto& rule : s.traffic->listenerRules) {
        std::string arn = fillPlaceholders(rule, tfOutputs, "");
        aws::QueryParams q{{"RuleArns.member.1", arn}};
        auto doc = aws.callQuery("elasticloadbalancing", "DescribeRules", q);
        for (const auto* ru : doc.result().members("Rules")) {
          for (const auto* a : ru->members("Actions")) {
            if (const auto* fc = a->child("ForwardConfig")) {
              for (const auto* tg : fc->members("TargetGroups")) {
                std::string tgArn = tg->childTextOr("TargetGroupArn", "");
                std::string label = tgArn;
                for (plan::Color c : {plan::Color::Blue, plan::Color::Green}) {
                  if (fillPlaceholders(s.traffic->group(c).arn, tfOutputs, "") == tgArn) label = plan::toString(c);
                }
                weights[label] = std::stoi(tg->childTextOr("Weight", "0"));
              }
            }
          }
        }
      }
      out["weights"] = weights;
    }
    if (const auto watched = s.watch.allAlarms(); !watched.empty()) {
      json a = aws.callJson("monitoring", "DescribeAlarms", {{"AlarmNames", watched}});
      json states = json::object();
      for (const auto& m : a.value("MetricAlarms", json::array())) states[m.value("AlarmName", "")] = m.value("StateValue", "");
      out["alarms"] = states;
    }
    json deploys = json::array();
    try {
      json h = aws.callJson("ssm", "GetParameterHistory", {{"Name", ledger + "/services/" + name}});
      json params = h.value("Parameters", json::array());
      for (auto it = params.rbegin(); it != params.rend() && static_cast<int>(deploys.size()) < history; ++it) {
        deploys.push_back(ledgerValue((*it).value("Value", "")));
      }
    } catch (const aws::AwsError& e) {
      if (e.code() != "ParameterNotFound") throw;
    }
    // The history lists each update of a deploy's record; keep one (the latest) per deploy.
    json unique = json::array();
    std::vector<std::string> seen;
    for (const auto& d : deploys) {
      std::string id = d.is_object() ? d.value("deploy_id", "") : "";
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
      seen.push_back(id);
      unique.push_back(d);
    }
    if (!unique.empty() && unique[0].value("status", "") == "in_progress") out["in_progress"] = unique[0];
    out["deployments"] = unique;
    result["services"].push_back(out);
  }
  return result;
}

void printStatus(std::ostream& out, const json& st) {
  out << fmt::format("{} {} (cluster {})\n", st["app"].get<std::string>(), st["environment"].get<std::string>(),
                     st["cluster"].get<std::string>());
  if (st["lock"].is_object()) {
    const json& l = st["lock"];
    out << fmt::format("locked by {} since {} (deploy {}, {})\n", l.value("owner", "?"), l.value("started", "?"), l.value("deploy_id", "?"),
                       l.value("alive", true) ? (l.contains("heartbeat_age_seconds")
                                                     ? fmt::format("last heartbeat {} s ago", l["heartbeat_age_seconds"].get<long long>())
                                                     : std::string("alive"))
                                              : fmt::format("DEAD: {}; run gops rollback, or gops apply --resume", l.value("dead", "?")));
  }
  for (const auto& s : st["services"]) {
    out << "\n" << s["name"].get<std::string>() << " (" << s["strategy"].get<std::string>() << ")\n";
    if (!s.value("exists", false)) {
      out << "  service does not exist\n";
      continue;
    }
    out << fmt::format("  revision  {}\n  tasks     desired {}  running {}  pending {}\n", s.value("task_definition", ""),
                       s.value("desired", 0), s.value("running", 0), s.value("pending", 0));
    if (s.contains("ecs_deployment")) {
      const json& d = s["ecs_deployment"];
      out << fmt::format("  ECS       {} deployment {}{}{}\n", d.value("strategy", "?"), d.value("status", "?"),
                         d.value("phase", "").empty() ? "" : " (" + d.value("phase", "") + ")",
                         d.contains("weight") ? fmt::format(", {}% of production traffic on its revision", d["weight"].dump()) : "");
    }
    if (s.contains("weights")) {
      std::string w;
      for (auto it = s["weights"].begin(); it != s["weights"].end(); ++it) w += fmt::format("  {} {}%", it.key(), it.value().get<int>());
      out << "  weights  " << w << "\n";
    }
    if (s.contains("in_progress")) {
      const json& p = s["in_progress"];
      out << fmt::format("  deploying {} (deploy {}): step {}, weight {}%\n", p.value("image_tag", ""), p.value("deploy_id", ""),
                         p.value("step", ""), p.value("weight", 0.0));
      if (p.contains("before_deploy") && p["before_deploy"].is_object()) {
        // Its before_deploy task: the one running (or how it ended), and where its output goes.
        const json& t = p["before_deploy"];
        out << fmt::format("  before_deploy task {} {}{}\n", t.value("task", ""), t.value("status", ""),
                           t.contains("log_group") ? fmt::format(" (logs: {} {})", t.value("log_group", ""), t.value("log_stream", "")) : "");
      }
    }
    if (s.contains("alarms")) {
      for (auto it = s["alarms"].begin(); it != s["alarms"].end(); ++it) {
        out << fmt::format("  alarm     {} {}\n", it.key(), it.value().get<std::string>());
      }
    }
    for (const auto& d : s["deployments"]) {
      if (!d.is_object()) continue;
      out << fmt::format("  deployed  {:<12} {:<12} {} {}\n", d.value("image_tag", ""), d.value("status", ""), d.value("started", ""),
                         d.value("reason", ""));
    }
  }
}

}  // namespace gops::deploy
