// What the environment watches: per service its CPU alarm and the alarms of its
// `rollback when` conditions (deploys watch them by name), and the dashboards. Every
// alarm notifies the environment's `notify` topic, when it has one.
#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/refs.h"
#include "support/json_writer.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace {

/// A CloudWatch dashboard holds at most 500 widgets: 100 services of 5 widgets.
constexpr std::size_t kServicesPerDashboard = 100;
/// The CPU alarm every service gets.
constexpr double kCpuAlarmPercent = 80;
constexpr int kCpuAlarmMinutes = 5;

const char* comparisonOperator(model::Comparison c) {
  switch (c) {
    case model::Comparison::Greater: return "GreaterThanThreshold";
    case model::Comparison::GreaterEqual: return "GreaterThanOrEqualToThreshold";
    case model::Comparison::Less: return "LessThanThreshold";
    case model::Comparison::LessEqual: return "LessThanOrEqualToThreshold";
  }
  return "GreaterThanThreshold";
}

/// Whether the condition fires on high values (`>`, `>=`): the worse of two colours is
/// then the higher one, else the lower one.
bool firesHigh(model::Comparison c) { return c == model::Comparison::Greater || c == model::Comparison::GreaterEqual; }

/// One element of an alarm's `metric_query`: a metric of the load balancer for one
/// target group, or an expression over other elements.
struct Query {
  std::string id;
  std::string expression;   ///< empty: a metric
  std::string label;        ///< expressions only, optional
  std::string metric;       ///< a metric: its name in AWS/ApplicationELB
  std::string stat;         ///< a metric: Sum, Maximum, p99, ...
  std::string targetGroup;  ///< a metric: the target group's block name
  bool returned = false;    ///< the one element the alarm compares with its threshold
};

Query albMetric(std::string id, std::string metric, std::string stat, std::string tg) {
  Query q;
  q.id = std::move(id);
  q.metric = std::move(metric);
  q.stat = std::move(stat);
  q.targetGroup = std::move(tg);
  return q;
}

Query expression(std::string id, std::string expr, std::string label = "", bool returned = false) {
  Query q;
  q.id = std::move(id);
  q.expression = std::move(expr);
  q.label = std::move(label);
  q.returned = returned;
  return q;
}

/// `metric_query`, its elements sorted by id (each once: colours share their queries);
/// `lb` is the load balancer's ARN suffix.
void metricQuery(Body& b, std::vector<Query> queries, const std::string& lb) {
  std::sort(queries.begin(), queries.end(), [](const Query& x, const Query& y) { return x.id < y.id; });
  queries.erase(std::unique(queries.begin(), queries.end(), [](const Query& x, const Query& y) { return x.id == y.id; }),
                queries.end());
  b.array("metric_query");
  for (const auto& q : queries) {
    b.beginObject();
    if (q.expression.empty()) {
      b.str("id", q.id);
      b.object("metric").object("dimensions");
      b.str("LoadBalancer", lb);
      b.str("TargetGroup", tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, q.targetGroup))).end();
      b.str("metric_name", q.metric).str("namespace", "AWS/ApplicationELB").num("period", 60).str("stat", q.stat).end();
    } else {
      b.str("expression", q.expression).str("id", q.id);
      if (!q.label.empty()) b.str("label", q.label);
    }
    b.flag("return_data", q.returned).end();
  }
  b.end();
}

/// What a load balancer metric of a service on blue and green is per colour.
struct PerColor {
  std::string value;  ///< id stem of the per-colour value: `rate` (`rate_blue`), `latency`
  const char* unit;   ///< for labels
  /// The queries of `value_<color>` for the colour's target group `tg`: the colour's
  /// value in a minute where it served at least `minRequests` requests, else 0
  /// (`ok_<color>` says which minutes count).
  std::function<void(std::vector<Query>&, const std::string& color, const std::string& tg)> add;
};

/// `ok_<color>`: 1 in a minute where the colour served at least `minRequests`
/// requests (a verdict), else 0; with its `requests_<color>`.
void requestsGuard(std::vector<Query>& q, const std::string& color, const std::string& tg, int minRequests) {
  q.push_back(albMetric("requests_" + color, "RequestCount", "Sum", tg));
  q.push_back(expression("ok_" + color, fmt::format("FILL(requests_{},0) >= {}"_cf, color, minRequests)));
}

/// The error rate (`e5xx`, `e4xx`) or a latency percentile (`p99`) per colour.
PerColor perColor(const std::string& metric, int minRequests) {
  if (metric == "http_5xx_rate" || metric == "http_4xx_rate") {
    const bool e5 = metric == "http_5xx_rate";
    const std::string errors = e5 ? "e5xx" : "e4xx";
    const std::string name = e5 ? "HTTPCode_Target_5XX_Count" : "HTTPCode_Target_4XX_Count";
    return {"rate", "percent of requests", [=](std::vector<Query>& q, const std::string& c, const std::string& tg) {
              q.push_back(albMetric(fmt::format("{}_{}"_cf, errors, c), name, "Sum", tg));
              requestsGuard(q, c, tg, minRequests);
              q.push_back(expression("rate_" + c, fmt::format("IF(ok_{0}, 100*FILL({1}_{0},0)/FILL(requests_{0},0), 0)"_cf, c, errors)));
            }};
  }
  const std::string stat = metric.substr(0, metric.size() - 8);  // pNN_latency
  return {"latency", "seconds", [=](std::vector<Query>& q, const std::string& c, const std::string& tg) {
            q.push_back(albMetric(fmt::format("{}_{}"_cf, stat, c), "TargetResponseTime", stat, tg));
            requestsGuard(q, c, tg, minRequests);
            q.push_back(expression("latency_" + c, fmt::format("IF(ok_{0}, FILL({1}_{0},0), 0)"_cf, c, stat)));
          }};
}

}  // namespace

void EnvWriter::alarms(const facts::ServiceFacts& s) {
  const std::string& name = s.name;
  const std::string& topic = env_.notifyTopic;
  // `alarm_actions` and `ok_actions`: where each goes among the sorted keys.
  auto alarmActions = [&](Body& b) {
    if (!topic.empty()) b.strings("alarm_actions", {topic});
  };
  auto okActions = [&](Body& b) {
    if (!topic.empty()) b.strings("ok_actions", {topic});
  };
  auto ecsMetric = [&](Body& b, int periods, const char* metric) {
    b.object("dimensions").str("ClusterName", n_.cluster()).str("ServiceName", s.family).end();
    b.num("evaluation_periods", periods);
    b.str("metric_name", metric).str("namespace", "AWS/ECS");
    okActions(b);
    b.num("period", 60).str("statistic", "Average");
  };
  m_.resource("aws_cloudwatch_metric_alarm", name + "_cpu", [&](Body& b) {
    alarmActions(b);
    b.str("alarm_description", fmt::format("{} runs hot: average CPU above {}% for {} minutes"_cf, name,
                                           kCpuAlarmPercent, kCpuAlarmMinutes));
    b.str("alarm_name", n_.alarm(name, "cpu-high"));
    b.str("comparison_operator", "GreaterThanThreshold");
    ecsMetric(b, kCpuAlarmMinutes, "CPUUtilization");
    b.num("threshold", kCpuAlarmPercent).str("treat_missing_data", "notBreaching");
  });

  std::vector<std::string> tgs;
  for (const auto& tg : s.targetGroups) tgs.push_back(tgLabel(s, tg));
  const bool twoColors = tgs.size() == 2;
  const std::string lb = tfRef(refs_.albArnSuffix());
  const int minRequests = s.service->rollout.minRequests;
  for (const auto& alarm : s.rollbackAlarms) {
    if (!alarm.created) continue;  // an existing alarm: deploys watch it by name
    const model::RollbackCondition& c = *alarm.condition;
    const int nth = alarm.nth;
    std::string label = fmt::format("{}_rollback_{}{}{}"_cf, name, c.metric, nth > 1 ? fmt::format("_{}"_cf, nth) : "",
                                    alarm.newColor.empty() ? "" : "_new_" + alarm.newColor);
    const bool rate = c.metric == "http_5xx_rate" || c.metric == "http_4xx_rate";
    const bool latency = c.metric.size() > 8 && c.metric.compare(c.metric.size() - 8, 8, "_latency") == 0;
    const bool alb = rate || latency || c.metric == "unhealthy_targets";
    const bool ecs = c.metric == "cpu" || c.metric == "memory";
    if (!alb && !ecs) {
      errors_.push_back(fmt::format("service `{}`: no CloudWatch metric for `rollback when {}`"_cf, name, c.metric));
      continue;
    }
    if (alb && !s.isPublic()) {
      errors_.push_back(fmt::format(
          "service `{}`: `rollback when {}` needs a load balancer, and the service is not public"_cf, name, c.metric));
      continue;
    }
    if (c.baseline && (!twoColors || !(rate || latency))) {
      errors_.push_back(fmt::format("service `{}`: `rollback when {} > stable + ...` needs a rate or latency of two target groups"_cf,
                                    name, c.metric));
      continue;
    }
    // Rates and latencies of blue and green are judged per colour, on the minutes in
    // which a colour served enough requests: the others have no datapoint at all.
    const bool perColorGuarded = twoColors && (rate || latency);
    const int periods = std::max(1, static_cast<int>(std::ceil(c.forSeconds / 60.0)));
    const std::string forWhat = fmt::format("{} {} {}{} {} for {} s"_cf, c.metric, model::toString(c.op), c.baseline ? "stable + " : "",
                                            JsonWriter::number(c.threshold), c.unit, JsonWriter::number(c.forSeconds));
    std::string description;
    if (c.baseline) {
      const std::string other = alarm.newColor == "blue" ? "green" : "blue";
      description = fmt::format("Rolls back deploys of {} whose new version is behind {}: {} ({} minus {}, in the minutes in which "
                                "both served at least {} requests)"_cf,
                                name, alarm.newColor, forWhat, alarm.newColor, other, minRequests);
    } else if (perColorGuarded) {
      description = fmt::format("Rolls back deploys of {}: {} on the worse of blue and green, each counted in the minutes in which "
                                "it served at least {} requests"_cf,
                                name, forWhat, minRequests);
    } else {
      description = fmt::format("Rolls back deploys of {}: {}"_cf, name, forWhat);
    }
    m_.resource("aws_cloudwatch_metric_alarm", label, [&](Body& b) {
      alarmActions(b);
      b.str("alarm_description", description);
      b.str("alarm_name", alarm.name);
      b.str("comparison_operator", comparisonOperator(c.op));
      b.num("datapoints_to_alarm", periods);
      if (ecs) {
        ecsMetric(b, periods, c.metric == "cpu" ? "CPUUtilization" : "MemoryUtilization");
      } else if (perColorGuarded) {
        PerColor pc = perColor(c.metric, minRequests);
        std::vector<Query> q;
        pc.add(q, "blue", tgs[0]);
        pc.add(q, "green", tgs[1]);
        const std::string blue = pc.value + "_blue", green = pc.value + "_green";
        if (c.baseline) {
          // The new version's colour minus the stable one's, when both have a verdict.
          const std::string& mine = alarm.newColor == "blue" ? blue : green;
          const std::string& theirs = alarm.newColor == "blue" ? green : blue;
          const std::string stable = alarm.newColor == "blue" ? "green" : "blue";
          q.push_back(expression("over_stable", fmt::format("IF(ok_blue AND ok_green, {}-{})"_cf, mine, theirs),
                                 fmt::format("{} minus {} (stable), {}"_cf, alarm.newColor, stable, pc.unit), true));
        } else {
          // The worse colour, among those with a verdict in the minute.
          const std::string worse =
              firesHigh(c.op) ? fmt::format("MAX([{},{}])"_cf, blue, green)
                              : fmt::format("IF(ok_blue AND ok_green, MIN([{0},{1}]), IF(ok_blue, {0}, {1}))"_cf, blue, green);
          q.push_back(expression(pc.value, fmt::format("IF(ok_blue OR ok_green, {})"_cf, worse),
                                 fmt::format("the worse colour, {}"_cf, pc.unit), true));
        }
        b.num("evaluation_periods", periods);
        metricQuery(b, std::move(q), lb);
        okActions(b);
      } else if (rate) {
        // One target group: percent of the service's requests.
        const bool e5 = c.metric == "http_5xx_rate";
        const std::string errors = e5 ? "e5xx" : "e4xx";
        b.num("evaluation_periods", periods);
        metricQuery(b, {albMetric(errors, e5 ? "HTTPCode_Target_5XX_Count" : "HTTPCode_Target_4XX_Count", "Sum", tgs[0]),
                        expression("rate", fmt::format("100*{}/requests"_cf, errors), "percent of requests", true),
                        albMetric("requests", "RequestCount", "Sum", tgs[0])},
                    lb);
        okActions(b);
      } else if (c.metric == "unhealthy_targets" && twoColors) {
        // Each colour's count, the worse one.
        b.num("evaluation_periods", periods);
        metricQuery(b, {expression("unhealthy",
                                   fmt::format("{}([FILL(unhealthy_blue,0),FILL(unhealthy_green,0)])"_cf, firesHigh(c.op) ? "MAX" : "MIN"),
                                   "unhealthy targets, the worse colour", true),
                        albMetric("unhealthy_blue", "UnHealthyHostCount", "Maximum", tgs[0]),
                        albMetric("unhealthy_green", "UnHealthyHostCount", "Maximum", tgs[1])},
                    lb);
        okActions(b);
      } else {
        // One target group: the metric itself.
        b.object("dimensions").str("LoadBalancer", lb);
        b.str("TargetGroup", tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tgs[0]))).end();
        b.num("evaluation_periods", periods);
        if (latency) b.str("extended_statistic", c.metric.substr(0, c.metric.size() - 8));
        b.str("metric_name", latency ? "TargetResponseTime" : "UnHealthyHostCount").str("namespace", "AWS/ApplicationELB");
        okActions(b);
        b.num("period", 60);
        if (!latency) b.str("statistic", "Maximum");
      }
      // A minute without a verdict is no datapoint: it neither breaches nor passes.
      b.num("threshold", c.threshold).str("treat_missing_data", perColorGuarded ? "missing" : "notBreaching");
    });
  }
}

void EnvWriter::dashboards() {
  const auto& services = f_.services;
  std::size_t parts = std::max<std::size_t>(1, (services.size() + kServicesPerDashboard - 1) / kServicesPerDashboard);
  for (std::size_t part = 0; part < parts; ++part) {
    std::string body;
    JsonWriter j(body, false);
    j.beginObject().key("widgets").beginArray();
    int y = 0;
    std::size_t end = std::min(services.size(), (part + 1) * kServicesPerDashboard);
    for (std::size_t i = part * kServicesPerDashboard; i < end; ++i) {
      const facts::ServiceFacts& s = services[i];
      int x = 0;
      auto widget = [&](const std::string& title, const char* stat, auto&& metrics) {
        if (x == 24) {
          x = 0;
          y += 6;
        }
        j.beginObject().member("height", 6).key("properties").beginObject();
        j.key("metrics").beginArray();
        metrics();
        j.endArray();
        j.member("period", 60).member("region", env_.region).member("stat", stat).member("title", title);
        j.member("view", "timeSeries").endObject();
        j.member("type", "metric").member("width", 8).member("x", x).member("y", y).endObject();
        x += 8;
      };
      auto ecsMetric = [&](const char* metric) {
        j.beginArray().value("AWS/ECS").value(metric).value("ClusterName").value(n_.cluster());
        j.value("ServiceName").value(s.family).endArray();
      };
      auto albMetrics = [&](const char* metric) {
        for (const auto& tg : s.targetGroups) {
          j.beginArray().value("AWS/ApplicationELB").value(metric);
          j.value("LoadBalancer").value(tfRef(refs_.albArnSuffix()));
          j.value("TargetGroup").value(tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tgLabel(s, tg))));
          if (!tg.color.empty()) j.beginObject().member("label", tg.color).endObject();
          j.endArray();
        }
      };
      widget(fmt::format("{}: CPU %"_cf, s.name), "Average", [&] { ecsMetric("CPUUtilization"); });
      widget(fmt::format("{}: memory %"_cf, s.name), "Average", [&] { ecsMetric("MemoryUtilization"); });
      if (s.isPublic()) {
        widget(fmt::format("{}: requests"_cf, s.name), "Sum", [&] { albMetrics("RequestCount"); });
        widget(fmt::format("{}: 5xx responses"_cf, s.name), "Sum", [&] { albMetrics("HTTPCode_Target_5XX_Count"); });
        widget(fmt::format("{}: p99 latency (s)"_cf, s.name), "p99", [&] { albMetrics("TargetResponseTime"); });
      }
      y += 6;
    }
    j.endArray().endObject();
    m_.resource("aws_cloudwatch_dashboard", part == 0 ? std::string("main") : fmt::format("main_{}"_cf, part + 1),
                [&](Body& b) {
                  b.str("dashboard_body", body);
                  b.str("dashboard_name", part == 0 ? n_.dashboard() : fmt::format("{}-{}"_cf, n_.dashboard(), part + 1));
                });
  }
}

}  // namespace gops::backend::terraform
