// What the environment watches: per service its CPU alarm and one alarm per
// `rollback when` condition (deploys watch them by name), and the dashboards.
#include <algorithm>
#include <cmath>

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

/// A metric of the load balancer (`lb`, its ARN suffix) for one target group, in a metric_query.
void albMetricQuery(Body& b, const std::string& id, const char* metric, const char* stat, const std::string& tg,
                    const std::string& lb) {
  b.beginObject().str("id", id);
  b.object("metric").object("dimensions");
  b.str("LoadBalancer", lb);
  b.str("TargetGroup", tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tg))).end();
  b.str("metric_name", metric).str("namespace", "AWS/ApplicationELB").num("period", 60).str("stat", stat).end();
  b.flag("return_data", false).end();
}

void expressionQuery(Body& b, const std::string& id, const std::string& expression, const char* label, bool returned) {
  b.beginObject().str("expression", expression).str("id", id);
  if (label) b.str("label", label);
  b.flag("return_data", returned).end();
}

}  // namespace

void EnvWriter::alarms(const facts::ServiceFacts& s) {
  const std::string& name = s.name;
  auto ecsDimensions = [&](Body& b) {
    b.object("dimensions").str("ClusterName", n_.cluster()).str("ServiceName", s.family).end();
  };
  m_.resource("aws_cloudwatch_metric_alarm", name + "_cpu", [&](Body& b) {
    b.str("alarm_description", fmt::format("{} runs hot: average CPU above {}% for {} minutes"_cf, name,
                                           kCpuAlarmPercent, kCpuAlarmMinutes));
    b.str("alarm_name", n_.alarm(name, "cpu-high"));
    b.str("comparison_operator", "GreaterThanThreshold");
    ecsDimensions(b);
    b.num("evaluation_periods", kCpuAlarmMinutes);
    b.str("metric_name", "CPUUtilization").str("namespace", "AWS/ECS").num("period", 60).str("statistic", "Average");
    b.num("threshold", kCpuAlarmPercent).str("treat_missing_data", "notBreaching");
  });

  std::vector<std::string> tgs;
  for (const auto& tg : s.targetGroups) tgs.push_back(tgLabel(s, tg));
  const std::string lb = tfRef(refs_.albArnSuffix());
  for (const auto& alarm : s.rollbackAlarms) {
    if (!alarm.created) continue;  // an existing alarm: deploys watch it by name
    const model::RollbackCondition& c = *alarm.condition;
    int nth = alarm.nth;
    std::string label = fmt::format("{}_rollback_{}{}"_cf, name, c.metric, nth > 1 ? fmt::format("_{}"_cf, nth) : "");
    bool alb = c.metric == "http_5xx_rate" || c.metric == "http_4xx_rate" || c.metric == "unhealthy_targets" ||
               (c.metric.size() > 8 && c.metric.compare(c.metric.size() - 8, 8, "_latency") == 0);
    bool ecs = c.metric == "cpu" || c.metric == "memory";
    if (!alb && !ecs) {
      errors_.push_back(fmt::format("service `{}`: no CloudWatch metric for `rollback when {}`"_cf, name, c.metric));
      continue;
    }
    if (alb && !s.isPublic()) {
      errors_.push_back(fmt::format(
          "service `{}`: `rollback when {}` needs a load balancer, and the service is not public"_cf, name, c.metric));
      continue;
    }
    int periods = std::max(1, static_cast<int>(std::ceil(c.forSeconds / 60.0)));
    m_.resource("aws_cloudwatch_metric_alarm", label, [&](Body& b) {
      b.str("alarm_description", fmt::format("Rolls back deploys of {}: {} {} {} {} for {} s"_cf, name, c.metric,
                                             model::toString(c.op), JsonWriter::number(c.threshold), c.unit,
                                             JsonWriter::number(c.forSeconds)));
      b.str("alarm_name", alarm.name);
      b.str("comparison_operator", comparisonOperator(c.op));
      b.num("datapoints_to_alarm", periods);
      if (ecs) {
        ecsDimensions(b);
        b.num("evaluation_periods", periods);
        b.str("metric_name", c.metric == "cpu" ? "CPUUtilization" : "MemoryUtilization");
        b.str("namespace", "AWS/ECS").num("period", 60).str("statistic", "Average");
      } else if (c.metric == "http_5xx_rate" || c.metric == "http_4xx_rate") {
        // Percent of the service's requests, over both colours when it has two.
        const char* metric = c.metric == "http_5xx_rate" ? "HTTPCode_Target_5XX_Count" : "HTTPCode_Target_4XX_Count";
        std::string errors = c.metric == "http_5xx_rate" ? "e5xx" : "e4xx";
        b.num("evaluation_periods", periods);
        b.array("metric_query");
        if (tgs.size() == 1) {
          albMetricQuery(b, errors, metric, "Sum", tgs[0], lb);
          expressionQuery(b, "rate", fmt::format("100*{}/requests"_cf, errors), "percent of requests", true);
          albMetricQuery(b, "requests", "RequestCount", "Sum", tgs[0], lb);
        } else {
          expressionQuery(b, errors, fmt::format("FILL({0}_blue,0)+FILL({0}_green,0)"_cf, errors), nullptr, false);
          albMetricQuery(b, errors + "_blue", metric, "Sum", tgs[0], lb);
          albMetricQuery(b, errors + "_green", metric, "Sum", tgs[1], lb);
          expressionQuery(b, "rate", fmt::format("100*{}/requests"_cf, errors), "percent of requests", true);
          expressionQuery(b, "requests", "FILL(requests_blue,0)+FILL(requests_green,0)", nullptr, false);
          albMetricQuery(b, "requests_blue", "RequestCount", "Sum", tgs[0], lb);
          albMetricQuery(b, "requests_green", "RequestCount", "Sum", tgs[1], lb);
        }
        b.end();
      } else if (c.metric == "unhealthy_targets") {
        if (tgs.size() == 1) {
          b.object("dimensions").str("LoadBalancer", lb);
          b.str("TargetGroup", tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tgs[0]))).end();
          b.num("evaluation_periods", periods);
          b.str("metric_name", "UnHealthyHostCount").str("namespace", "AWS/ApplicationELB").num("period", 60);
          b.str("statistic", "Maximum");
        } else {
          b.num("evaluation_periods", periods);
          b.array("metric_query");
          expressionQuery(b, "unhealthy", "FILL(unhealthy_blue,0)+FILL(unhealthy_green,0)", "unhealthy targets", true);
          albMetricQuery(b, "unhealthy_blue", "UnHealthyHostCount", "Maximum", tgs[0], lb);
          albMetricQuery(b, "unhealthy_green", "UnHealthyHostCount", "Maximum", tgs[1], lb);
          b.end();
        }
      } else {  // pNN_latency, seconds
        std::string stat = c.metric.substr(0, c.metric.size() - 8);
        if (tgs.size() == 1) {
          b.object("dimensions").str("LoadBalancer", lb);
          b.str("TargetGroup", tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tgs[0]))).end();
          b.num("evaluation_periods", periods);
          b.str("extended_statistic", stat);
          b.str("metric_name", "TargetResponseTime").str("namespace", "AWS/ApplicationELB").num("period", 60);
        } else {
          // The slower colour: the new version's latency shows even at a small weight.
          b.num("evaluation_periods", periods);
          b.array("metric_query");
          expressionQuery(b, "latency", fmt::format("MAX([FILL({0}_blue,0),FILL({0}_green,0)])"_cf, stat),
                          "slower colour (seconds)", true);
          albMetricQuery(b, stat + "_blue", "TargetResponseTime", stat.c_str(), tgs[0], lb);
          albMetricQuery(b, stat + "_green", "TargetResponseTime", stat.c_str(), tgs[1], lb);
          b.end();
        }
      }
      b.num("threshold", c.threshold).str("treat_missing_data", "notBreaching");
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
