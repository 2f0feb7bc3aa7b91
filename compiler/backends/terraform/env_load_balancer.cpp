// The environment's load balancer (when a service is public): ALB, certificate,
// listeners, or an existing ALB and its HTTPS listener, read, with the certificate
// added; with `dns`, the Route 53 records; per public service its target groups,
// listener rules (hosts, and path patterns) and the rules that admit the ALB.
#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/refs.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

void EnvWriter::loadBalancer() {
  const facts::LoadBalancerFacts& lb = f_.loadBalancer;
  if (lb.existing) {
    // Read, with its HTTPS listener: the services' rules and certificate are added to it.
    m_.data("aws_lb", "main", [&](Body& b) { b.str("arn", templateEscape(lb.arn)); });
    m_.data("aws_lb_listener", "https", [&](Body& b) {
      b.str("load_balancer_arn", tfRef(refs_.albArn()));
      b.num("port", 443);
    });
    certificate();
    if (f_.dnsZone) dnsRecords();
    return;
  }
  const std::string& p = n_.prefix();
  m_.resource("aws_security_group", "alb", [&](Body& b) {
    b.str("description",
          fmt::format("Load balancer of {} {}: HTTP and HTTPS from anywhere"_cf, app_.app.name, env_.name));
    b.str("name", fmt::format("{}-alb"_cf, p));
    b.str("vpc_id", tfRef(refs_.vpcId()));
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
    b.str("load_balancer_type", "application").str("name", lb.name);
    b.strings("security_groups", {tfRef("aws_security_group.alb.id")});
    b.strings("subnets", refs_.subnetIds("public"));
  });
  certificate();
  m_.resource("aws_lb_listener", "https", [&](Body& b) {
    b.str("certificate_arn", tfRef("aws_acm_certificate_validation.main.certificate_arn"));
    b.object("default_action");
    b.object("fixed_response").str("content_type", "text/plain").str("message_body", "not found");
    b.str("status_code", "404").end();
    b.str("type", "fixed-response").end();
    b.str("load_balancer_arn", tfRef(refs_.albArn()));
    b.num("port", 443).str("protocol", "HTTPS").str("ssl_policy", "ELBSecurityPolicy-TLS13-1-2-2021-06");
  });
  m_.resource("aws_lb_listener", "http", [&](Body& b) {
    b.object("default_action");
    b.object("redirect").str("port", "443").str("protocol", "HTTPS").str("status_code", "HTTP_301").end();
    b.str("type", "redirect").end();
    b.str("load_balancer_arn", tfRef(refs_.albArn()));
    b.num("port", 80).str("protocol", "HTTP");
  });
  if (f_.dnsZone) dnsRecords();
}

/// The certificate of every public hostname (the first, sorted, is the domain name,
/// the others SANs), validated through DNS. `aws_acm_certificate_validation` waits
/// until it is issued: with `dns` the module writes the validation records itself,
/// else create those of the `certificate_validation_records` output. An existing load
/// balancer's HTTPS listener gets it as one more certificate (SNI picks it for these
/// hostnames; the listener's own certificates stay).
void EnvWriter::certificate() {
  std::vector<std::string> hosts;
  for (const auto& h : f_.publicHosts) hosts.push_back(templateEscape(h));
  m_.resource("aws_acm_certificate", "main", [&](Body& b) {
    b.str("domain_name", hosts.front());
    b.object("lifecycle").flag("create_before_destroy", true).end();
    if (hosts.size() > 1) b.strings("subject_alternative_names", {hosts.begin() + 1, hosts.end()});
    b.str("validation_method", "DNS");
  });
  m_.resource("aws_acm_certificate_validation", "main", [&](Body& b) {
    b.str("certificate_arn", tfRef("aws_acm_certificate.main.arn"));
    if (f_.dnsZone) b.str("validation_record_fqdns", tfRef("values(aws_route53_record.certificate_validation)[*].fqdn"));
  });
  if (f_.loadBalancer.existing) {
    m_.resource("aws_lb_listener_certificate", "main", [&](Body& b) {
      b.str("certificate_arn", tfRef("aws_acm_certificate_validation.main.certificate_arn"));
      b.object("lifecycle").flag("create_before_destroy", true).end();
      b.str("listener_arn", tfRef(refs_.httpsListenerArn()));
    });
  }
}

/// `dns { zone = ... }`: the public hosted zone, read by name; the certificate's
/// validation records and an alias record (A) per public hostname to the load
/// balancer, created or existing.
void EnvWriter::dnsRecords() {
  m_.data("aws_route53_zone", "main", [&](Body& b) {
    b.str("name", templateEscape(*f_.dnsZone));
    b.flag("private_zone", false);
  });
  const std::string zoneId = tfRef("data.aws_route53_zone.main.zone_id");
  m_.resource("aws_route53_record", "certificate_validation", [&](Body& b) {
    // A record left by an earlier certificate of the same names, or written by hand
    // to validate it, is taken over rather than failing the apply.
    b.flag("allow_overwrite", true);
    b.str("for_each",
          tfRef("{for o in aws_acm_certificate.main.domain_validation_options : o.domain_name => o}"));
    b.str("name", tfRef("each.value.resource_record_name"));
    b.strings("records", {tfRef("each.value.resource_record_value")});
    b.num("ttl", 60);
    b.str("type", tfRef("each.value.resource_record_type"));
    b.str("zone_id", zoneId);
  });
  m_.resource("aws_route53_record", "hosts", [&](Body& b) {
    b.object("alias").flag("evaluate_target_health", true);
    b.str("name", tfRef(refs_.albDnsName())).str("zone_id", tfRef(refs_.albZoneId())).end();
    b.object("for_each");
    for (const auto& h : f_.publicHosts) b.str(templateEscape(h), templateEscape(h));
    b.end();
    b.str("name", tfRef("each.key"));
    b.str("type", "A");
    b.str("zone_id", zoneId);
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
      b.str("vpc_id", tfRef(refs_.vpcId()));
    });
  }
  for (const auto& rule : s.listenerRules) {
    auto escaped = [](const std::vector<std::string>& values) {
      std::vector<std::string> out;
      for (const auto& v : values) out.push_back(templateEscape(v));
      return out;
    };
    m_.resource("aws_lb_listener_rule", rule.index == 0 ? name : fmt::format("{}_{}"_cf, name, rule.index + 1),
                [&](Body& b) {
                  b.object("action");
                  if (s.targetGroups.size() == 2) {
                    // Deploys shift the weights (gops' engine or ECS's own strategy);
                    // blue serves everything until the first one.
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
                  if (rule.paths.empty()) {
                    b.object("condition").object("host_header").strings("values", escaped(rule.hosts)).end().end();
                  } else {
                    // Both must match: one of the hosts and one of the path patterns.
                    b.array("condition");
                    b.beginObject().object("host_header").strings("values", escaped(rule.hosts)).end().end();
                    b.beginObject().object("path_pattern").strings("values", escaped(rule.paths)).end().end();
                    b.end();
                  }
                  if (s.targetGroups.size() == 2) b.object("lifecycle").strings("ignore_changes", {"action"}).end();
                  b.str("listener_arn", tfRef(refs_.httpsListenerArn()));
                  b.num("priority", rule.priority);
                });
  }
  m_.resource("aws_vpc_security_group_ingress_rule", name + "_from_alb", [&](Body& b) {
    b.str("description", fmt::format("Port {} from the load balancer"_cf, port));
    // An existing load balancer: one rule per security group it has.
    if (f_.loadBalancer.existing) b.str("for_each", tfRef(refs_.albSecurityGroups()));
    b.num("from_port", port).str("ip_protocol", "tcp");
    b.str("referenced_security_group_id",
          f_.loadBalancer.existing ? tfRef("each.value") : tfRef("aws_security_group.alb.id"));
    b.str("security_group_id", tfRef(securityGroupId(name)));
    b.num("to_port", port);
  });
}

}  // namespace gops::backend::terraform
