#include "task_sets.h"

#include <algorithm>

#include <fmt/format.h>

namespace gops::deploy::exec {

namespace {

std::string colorName(plan::Color c) { return std::string(plan::toString(c)); }

}  // namespace

void TaskSetExecutor::setColors(ServiceRun& r, const std::string& stableTg) {
  r.stableTg = stableTg;
  const bool blueStable = stableTg == r.blueTg;
  r.idleTg = blueStable ? r.greenTg : r.blueTg;
  r.idleColor = blueStable ? plan::Color::Green : plan::Color::Blue;
}

void TaskSetExecutor::observe(ServiceRun& r, const json&) {
  const plan::Traffic& t = *r.svc->traffic;
  r.blueTg = s_.fill(t.blue.arn);
  r.greenTg = s_.fill(t.green.arn);
  for (const auto& rule : t.listenerRules) r.rules.push_back(s_.fill(rule));
  std::map<std::string, int> w = readWeights(r.rules.at(0));
  // The stable group is the one the rule sends traffic to; blue when neither has any.
  const bool greenLive = w[r.greenTg] > w[r.blueTg];
  setColors(r, greenLive ? r.greenTg : r.blueTg);
}

std::map<std::string, int> readListenerWeights(aws::AwsClient& aws, const std::string& ruleArn) {
  std::map<std::string, int> w;
  aws::QueryParams p{{"RuleArns.member.1", ruleArn}};
  auto doc = aws.callQuery("elasticloadbalancing", "DescribeRules", p);
  for (const auto* rule : doc.result().members("Rules")) {
    for (const auto* action : rule->members("Actions")) {
      if (action->childTextOr("Type", "") != "forward") continue;
      bool any = false;
      if (const auto* fc = action->child("ForwardConfig")) {
        for (const auto* tg : fc->members("TargetGroups")) {
          w[tg->childTextOr("TargetGroupArn", "")] = std::stoi(tg->childTextOr("Weight", "1"));
          any = true;
        }
      }
      if (!any) {
        if (auto arn = action->childText("TargetGroupArn")) w[*arn] = 100;
      }
    }
  }
  return w;
}

void TaskSetExecutor::setWeights(ServiceRun& r, const std::string& to, int weight, const std::string& from) {
  for (const auto& rule : r.rules) {
    aws::QueryParams p{{"RuleArn", rule},
                       {"Actions.member.1.Type", "forward"},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn", to},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight", std::to_string(weight)},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn", from},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight", std::to_string(100 - weight)}};
    s_.cli().callQuery("elasticloadbalancing", "ModifyRule", p);
  }
}

void TaskSetExecutor::removeTaskSet(const ServiceRun& r, const std::string& arn) {
  s_.cli().callJson("ecs", "UpdateTaskSet", {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"taskSet", arn},
                                             {"scale", {{"unit", "PERCENT"}, {"value", 0}}}});
  s_.cli().callJson("ecs", "DeleteTaskSet", {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"taskSet", arn}, {"force", true}});
}

void TaskSetExecutor::step(ServiceRun& r, const plan::Step& step) {
  std::visit(Overloaded{
                 [&](const plan::CreateTaskSet& st) { create(r, st); },
                 [&](const plan::Shift& st) { shift(r, st); },
                 [&](const plan::PromoteTaskSet&) { promote(r); },
                 [&](const plan::RetireTaskSet&) { retire(r); },
                 [&](const auto&) { notMyStep(r, step, "task-set"); },
             },
             step);
}

void TaskSetExecutor::create(ServiceRun& r, const plan::CreateTaskSet& st) {
  if (r.newTaskSet.empty()) {
    json doc = s_.fileDoc(r.svc->traffic->group(r.idleColor).taskSetFile);
    doc["taskDefinition"] = r.newTaskDef;
    doc["externalId"] = s_.deployId_;
    doc["scale"] = {{"unit", "PERCENT"}, {"value", planNumber(st.scalePercent)}};
    json res = s_.cli().callJson("ecs", "CreateTaskSet", doc);
    r.newTaskSet = res["taskSet"]["taskSetArn"].get<std::string>();
    s_.journal_.write({{"deploy_id", s_.deployId_}, {"service", r.name}, {"created_task_set", r.newTaskSet}, {"target_group", r.idleTg}});
  }
  s_.waitFor(r, st.timeoutSeconds, [&] {
    json d = s_.cli().callJson("ecs", "DescribeTaskSets",
                               {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"taskSets", json::array({r.newTaskSet})}});
    for (const auto& t : d.value("taskSets", json::array())) {
      if (t.value("stabilityStatus", "") == "STEADY_STATE") return true;
    }
    return false;
  }, "the new task set's steady state");
}

void TaskSetExecutor::shift(ServiceRun& r, const plan::Shift& st) {
  const double w = st.weight;
  setWeights(r, r.idleTg, static_cast<int>(w), r.stableTg);
  r.weight = w;
  s_.record(r, "in_progress");
  s_.report_.emit("weights", r.name, {{"weight", w}, {"target_group", r.svc->traffic->group(r.idleColor).name}},
                  fmt::format("weights: {}% {}, {}% {}", formatNumber(w), colorName(r.idleColor), formatNumber(100 - w),
                              colorName(plan::other(r.idleColor))));
  s_.hold(r, s_.o_.settleSeconds, "settling");
  s_.hold(r, st.holdSeconds, "holding, watching the alarms");
}

void TaskSetExecutor::promote(ServiceRun& r) {
  s_.cli().callJson("ecs", "UpdateServicePrimaryTaskSet",
                    {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"primaryTaskSet", r.newTaskSet}});
  r.promoted = true;
}

void TaskSetExecutor::retire(ServiceRun& r) {
  if (r.prevPrimaryTaskSet.empty() || r.prevPrimaryTaskSet == r.newTaskSet) return;
  try {
    removeTaskSet(r, r.prevPrimaryTaskSet);
  } catch (const aws::AwsError& e) {
    // A resumed deploy may find it deleted already.
    if (!(r.resumeRec && isCode(e, {"TaskSetNotFoundException"}))) throw;
  }
}

void TaskSetExecutor::undo(ServiceRun& r, const std::function<void(const std::string&, const std::function<void()>&)>& attempt) {
  if (!r.stableTg.empty() && !r.rules.empty()) {
    attempt("listener weights (100% to the stable target group)", [&] { setWeights(r, r.stableTg, 100, r.idleTg); });
  }
  if (r.promoted && !r.prevPrimaryTaskSet.empty()) {
    attempt("primary task set (the previous version)", [&] {
      s_.cli().callJson("ecs", "UpdateServicePrimaryTaskSet",
                        {{"cluster", s_.cluster_}, {"service", r.ecsService}, {"primaryTaskSet", r.prevPrimaryTaskSet}});
    });
  }
  if (!r.newTaskSet.empty()) attempt("new task set scaled to 0 and deleted", [&] { removeTaskSet(r, r.newTaskSet); });
}

std::vector<plan::Step> TaskSetExecutor::restoreSteps(ServiceRun& r, const json& current) {
  // A deploy that died half-way: traffic back to the primary task set, the others gone.
  std::string primaryTg;
  for (const auto& ts : current.value("taskSets", json::array())) {
    if (ts.value("status", "") == "PRIMARY" && !ts.value("loadBalancers", json::array()).empty()) {
      primaryTg = ts["loadBalancers"][0].value("targetGroupArn", "");
    }
  }
  if (!primaryTg.empty()) setColors(r, primaryTg);
  setWeights(r, r.stableTg, 100, r.idleTg);
  s_.report_.emit("weights", r.name, {{"weight", 0}, {"target_group", r.svc->traffic->group(r.idleColor).name}},
                  fmt::format("weights: 100% {}", colorName(plan::other(r.idleColor))));
  for (const auto& ts : current.value("taskSets", json::array())) {
    if (ts.value("status", "") == "PRIMARY") continue;
    std::string arn = ts.value("taskSetArn", "");
    removeTaskSet(r, arn);
    s_.report_.emit("removed", r.name, {{"task_set", arn}}, fmt::format("removed task set {}", arn));
  }
  if (r.prevTaskDef == r.newTaskDef && !r.prevPrimaryTaskSet.empty()) return {};  // already runs it
  return {plan::CreateTaskSet{plan::TargetGroupChoice::Idle, 100, plan::kStabilizeTimeout}, plan::Shift{100, 0}, plan::PromoteTaskSet{},
          plan::RetireTaskSet{plan::TaskSetChoice::Previous}};
}

/// What the dead deploy left: the API says which task set is ours (its externalId is
/// the deploy id, or the journal names it) and whether it was promoted.
void TaskSetExecutor::resumeState(ServiceRun& r, const json& current) {
  std::string created;
  for (const auto& e : s_.journal_.entriesOf(s_.deployId_)) {
    if (e.value("service", "") == r.name && e.contains("created_task_set")) created = e.value("created_task_set", "");
  }
  json primary, ours;
  for (const auto& ts : current.value("taskSets", json::array())) {
    if (ts.value("externalId", "") == s_.deployId_ || (!created.empty() && ts.value("taskSetArn", "") == created)) ours = ts;
    else if (ts.value("status", "") == "PRIMARY" || primary.is_null()) primary = ts;
  }
  auto tgOf = [](const json& ts) {
    const json lbs = ts.value("loadBalancers", json::array());
    return lbs.empty() ? std::string() : lbs[0].value("targetGroupArn", "");
  };
  if (!primary.is_null()) r.prevPrimaryTaskSet = primary.value("taskSetArn", "");
  if (!ours.is_null()) {
    r.newTaskSet = ours.value("taskSetArn", "");
    r.newTaskDef = ours.value("taskDefinition", r.newTaskDef);
    r.promoted = ours.value("status", "") == "PRIMARY";
    r.idleTg = tgOf(ours);
    r.stableTg = r.idleTg == r.blueTg ? r.greenTg : r.blueTg;
  } else if (!primary.is_null() && !tgOf(primary).empty()) {
    r.stableTg = tgOf(primary);
    r.idleTg = r.stableTg == r.blueTg ? r.greenTg : r.blueTg;
  }
  r.idleColor = r.idleTg == r.blueTg ? plan::Color::Blue : plan::Color::Green;
}

std::size_t TaskSetExecutor::resumeIndex(const ServiceRun& r, std::size_t k) const {
  // No task set yet: create it; a promoted one: promote (again) and retire.
  if (r.newTaskSet.empty()) k = std::min(k, indexOf(r.steps(), plan::StepKind::CreateTaskSet));
  if (r.promoted) k = std::max(k, indexOf(r.steps(), plan::StepKind::PromoteTaskSet));
  return k;
}

}  // namespace gops::deploy::exec
