// The environment's load balancer (when a service is public): ALB, certificate,
// listeners; per public service its target groups, listener rules and the rule
// that admits the ALB.
#include <set>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/refs.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

void EnvWriter::loadBalancer() {
  const std::string& p = n_.prefix();
  m_.resource("aws_security_group", "alb", [&](Body& b) {
    b.str("description",
          fmt::format("Load balancer of {} {}: HTTP and HTTPS from anywhere"_cf, app_.app.name, env_.name));
    b.str("name", fmt::format("{}-alb"_cf, p));
    b.str("vpc_id", tfRef(ref::kVpcId));
  });
  for (int port : {80, 443}) {
    m_.resource("aws_vpc_security_group_ingress_rule", port == 80 ? "alb_http" : "alb_https", [&](Body& b) {
      b.str("cidr_ipv4", "0.0.0.0/0");
      b.str("description", port == 80 ? "HTTP (redirected to HTTPS)" : "HTTPS");
      b.num("from_port", port).str("ip_protocol", "tcp");
      b.str("security_group_id", tfRef("aws_security_group.alb.id"));
      b.num("to_port", port);
    });
  }
  egressAll("alb", "aws_security_group.alb.id");
  m_.resource("aws_lb", "main", [&](Body& b) {
    b.flag("drop_invalid_header_fields", true).flag("internal", false);
    b.str("load_balancer_type", "application").str("name", n_.loadBalancer());
    b.strings("security_groups", {tfRef("aws_security_group.alb.id")});
    b.strings("subnets", ref::subnetIds("public", f_.network.zones));
  });

  std::set<std::string> hostSet;
  for (const auto& s : f_.services) {
    if (s.isPublic()) hostSet.insert(s.service->expose.hosts.begin(), s.service->expose.hosts.end());
  }
  std::vector<std::string> hosts;
  for (const auto& h : hostSet) hosts.push_back(templateEscape(h));
  m_.resource("aws_acm_certificate", "main", [&](Body& b) {
    b.str("domain_name", hosts.front());
    b.object("lifecycle").flag("create_before_destroy", true).end();
    if (hosts.size() > 1) b.strings("subject_alternative_names", {hosts.begin() + 1, hosts.end()});
    b.str("validation_method", "DNS");
  });
  // Waits until the certificate is issued: create the DNS records listed in
  // the `certificate_validation_records` output.
  m_.resource("aws_acm_certificate_validation", "main",
              [&](Body& b) { b.str("certificate_arn", tfRef("aws_acm_certificate.main.arn")); });
  m_.resource("aws_lb_listener", "https", [&](Body& b) {
    b.str("certificate_arn", tfRef("aws_acm_certificate_validation.main.certificate_arn"));
    b.object("default_action");
    b.object("fixed_response").str("content_type", "text/plain").str("message_body", "not found");
    b.str("status_code", "404").end();
    b.str("type", "fixed-response").end();
    b.str("load_balancer_arn", tfRef(ref::kAlbArn));
    b.num("port", 443).str("protocol", "HTTPS").str("ssl_policy", "ELBSecurityPolicy-TLS13-1-2-2021-06");
  });
  m_.resource("aws_lb_listener", "http", [&](Body& b) {
    b.object("default_action");
    b.object("redirect").str("port", "443").str("protocol", "HTTPS").str("status_code", "HTTP_301").end();
    b.str("type", "redirect").end();
    b.str("load_balancer_arn", tfRef(ref::kAlbArn));
    b.num("port", 80).str("protocol", "HTTP");
  });
}

void EnvWriter::publicService(const facts::ServiceFacts& s) {
  const std::string& name = s.name;
  const int port = *s.service->port;
  model::Health h = s.service->health.value_or(model::Health{});
  for (const auto& tg : s.targetGroups) {
    m_.resource("aws_lb_target_group", tgLabel(s, tg), [&](Body& b) {
      b.str("deregistration_delay", "30");
      b.object("health_check").flag("enabled", true).num("healthy_threshold", h.healthyThreshold);
      b.num("interval", h.intervalSeconds).str("matcher", "200-399").str("path", templateEscape(h.path));
      b.str("port", "traffic-port").str("protocol", "HTTP").num("timeout", h.timeoutSeconds);
      b.num("unhealthy_threshold", h.unhealthyThreshold).end();
      b.str("name", tg.name);
      b.num("port", port).str("protocol", "HTTP").str("target_type", "ip");
      b.str("vpc_id", tfRef(ref::kVpcId));
    });
  }
  for (const auto& rule : s.listenerRules) {
    std::vector<std::string> hosts;
    for (const auto& host : rule.hosts) hosts.push_back(templateEscape(host));
    m_.resource("aws_lb_listener_rule", rule.index == 0 ? name : fmt::format("{}_{}"_cf, name, rule.index + 1),
                [&](Body& b) {
                  b.object("action");
                  if (s.runsOnTaskSets) {
                    // Deploys shift the weights; blue serves everything until the first one.
                    b.object("forward").array("target_group");
                    for (const auto& tg : s.targetGroups) {
                      b.beginObject()
                          .str("arn", tfRef(fmt::format("aws_lb_target_group.{}.arn"_cf, tgLabel(s, tg))))
                          .num("weight", tg.color == "blue" ? 100 : 0)
                          .end();
                    }
                    b.end().end();
                  } else {
                    b.str("target_group_arn", tfRef(fmt::format("aws_lb_target_group.{}.arn"_cf, name)));
                  }
                  b.str("type", "forward").end();
                  b.object("condition").object("host_header").strings("values", hosts).end().end();
                  if (s.runsOnTaskSets) b.object("lifecycle").strings("ignore_changes", {"action"}).end();
                  b.str("listener_arn", tfRef(ref::kHttpsListenerArn));
                  b.num("priority", rule.priority);
                });
  }
  m_.resource("aws_vpc_security_group_ingress_rule", name + "_from_alb", [&](Body& b) {
    b.str("description", fmt::format("Port {} from the load balancer"_cf, port));
    b.num("from_port", port).str("ip_protocol", "tcp");
    b.str("referenced_security_group_id", tfRef("aws_security_group.alb.id"));
    b.str("security_group_id", tfRef(securityGroupId(name)));
    b.num("to_port", port);
  });
}

}  // namespace gops::backend::terraform
