// The root module of one environment: network, cluster, load balancer, and per
// service and job everything it runs on (docs/terraform.md lists it all).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <set>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/cron.h"
#include "backends/terraform/modules.h"
#include "backends/terraform/naming.h"
#include "backends/terraform/policy.h"
#include "support/json_writer.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace {

using model::Job;
using model::Service;
using model::Workload;

/// ALB listener rules accept at most five condition values, so a service with more
/// hosts gets one rule per five.
constexpr std::size_t kHostsPerRule = kHostsPerListenerRule;
/// Listener rule priorities are spread by hash over 1..kRulePriorities, so adding
/// or removing a service leaves the other rules' priorities alone.
constexpr std::uint32_t kRulePriorities = 49000;
/// A CloudWatch dashboard holds at most 500 widgets: 100 services of 5 widgets.
constexpr std::size_t kServicesPerDashboard = 100;
/// The CPU alarm every service gets.
constexpr double kCpuAlarmPercent = 80;
constexpr int kCpuAlarmMinutes = 5;

bool isPublic(const Service& s) { return s.expose.kind == model::Expose::Kind::Public && s.port.has_value(); }
bool isInternal(const Service& s) { return s.expose.kind == model::Expose::Kind::Internal && s.port.has_value(); }
/// Services whose rollout shifts traffic get a blue and a green target group.
bool hasBlueGreen(const Service& s) { return isPublic(s) && s.rollout.shiftsTraffic(); }

const char* comparisonOperator(model::Comparison c) {
  switch (c) {
    case model::Comparison::Greater: return "GreaterThanThreshold";
    case model::Comparison::GreaterEqual: return "GreaterThanOrEqualToThreshold";
    case model::Comparison::Less: return "LessThanThreshold";
    case model::Comparison::LessEqual: return "LessThanOrEqualToThreshold";
  }
  return "GreaterThanThreshold";
}

std::string dnsSuffix(const std::string& partition) { return partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"; }

class EnvWriter {
 public:
  EnvWriter(Module& m, const model::AppModel& app, const model::Environment& env, std::vector<std::string>& errors)
      : m_(m), app_(app), env_(env), errors_(errors), n_(app.app, env) {
    for (const auto& s : env_.services) {
      if (isPublic(s)) public_.push_back(&s);
      if (isInternal(s)) anyInternal_ = true;
    }
  }

  void write() {
    settings();
    if (!network()) return;
    cluster();
    if (!public_.empty()) loadBalancer();
    assignRulePriorities();
    for (const auto& s : env_.services) service(s);
    for (const auto& j : env_.jobs) job(j);
    deployRole();
    dashboards();
    outputs();
  }

 private:
  // ---------------------------------------------------------------- helpers
  std::string tgLabel(const Service& s, std::string_view color) const {
    return color.empty() ? s.name : fmt::format("{}_{}"_cf, s.name, color);
  }
  /// The target groups of a public service: {"blue", "green"} or {""}.
  std::vector<std::string> colors(const Service& s) const {
    return hasBlueGreen(s) ? std::vector<std::string>{"blue", "green"} : std::vector<std::string>{""};
  }
  /// The target group the ECS service registers with when it is created.
  std::string primaryTg(const Service& s) const { return tgLabel(s, hasBlueGreen(s) ? "blue" : ""); }

  std::vector<std::string> subnetRefs(const char* kind) const {
    std::vector<std::string> out;
    for (int i = 0; i < env_.network.zones; ++i) out.push_back(tfRef(fmt::format("aws_subnet.{}_{}.id"_cf, kind, i)));
    return out;
  }
  std::string subnetList(const char* kind) const {
    std::string out = "[";
    for (int i = 0; i < env_.network.zones; ++i) {
      out += fmt::format("{}aws_subnet.{}_{}.id"_cf, i ? ", " : "", kind, i);
    }
    return out + "]";
  }

  void tags(Body& b, const std::string& name) { b.object("tags").str("Name", name).end(); }

  std::string ssmArn(const std::string& name) const {
    if (name.rfind("arn:", 0) == 0) return name;
    return n_.arn("ssm", fmt::format("parameter/{}"_cf, name.front() == '/' ? name.substr(1) : name));
  }
  std::string secretArn(const std::string& id) const {
    if (id.rfind("arn:", 0) == 0) return id;
    return n_.arn("secretsmanager", fmt::format("secret:{}"_cf, id));
  }
  std::string repositoryArn(const std::string& repository) const {
    return fmt::format("arn:{}:ecr:{}:{}:repository/{}"_cf, n_.partition(), app_.app.region, app_.app.registry,
                       repository);
  }
  std::string imageRef(const Workload& w) const {
    if (w.image.kind == model::Image::Kind::External) return templateEscape(w.image.uri);
    return fmt::format("{}.dkr.ecr.{}.{}/{}:{}"_cf, app_.app.registry, app_.app.region, dnsSuffix(n_.partition()),
                       w.image.repository, tfRef("var.image_tag"));
  }

  // ---------------------------------------------------------------- module settings
  void settings() {
    StateLocation state{stateBucket(app_.app, env_.account), n_.stateKey(), app_.app.region};
    terraformSettings(m_, &state, true, false);
    awsProvider(m_, env_.region, env_.account,
                {{"app", app_.app.name}, {"environment", env_.name}, {"managed-by", "gops"}});
    m_.variable("image_tag", [&](Body& b) {
      b.str("default", "bootstrap");
      b.str("description",
            "Image tag of the task definitions Terraform registers first; deploys register their own revisions");
      b.str("type", "string");
    });
  }

  // ---------------------------------------------------------------- network
  bool network() {
    std::string error;
    auto layout = subnetLayout(env_.network.cidr, env_.network.zones, &error);
    if (!layout) {
      errors_.push_back(error);
      return false;
    }
    const std::string& cidr = env_.network.cidr;
    const std::string& p = n_.prefix();
    int zones = env_.network.zones;
    m_.data("aws_availability_zones", "available", [&](Body& b) {
      b.object("filter").str("name", "opt-in-status").strings("values", {"opt-in-not-required"}).end();
      b.str("state", "available");
    });
    m_.resource("aws_vpc", "main", [&](Body& b) {
      b.str("cidr_block", cidr).flag("enable_dns_hostnames", true).flag("enable_dns_support", true);
      tags(b, p);
    });
    m_.resource("aws_internet_gateway", "main", [&](Body& b) {
      tags(b, p);
      b.str("vpc_id", tfRef("aws_vpc.main.id"));
    });
    for (int i = 0; i < zones; ++i) {
      for (const char* kind : {"public", "private"}) {
        bool pub = kind[1] == 'u';
        m_.resource("aws_subnet", fmt::format("{}_{}"_cf, kind, i), [&](Body& b) {
          b.str("availability_zone", tfRef(fmt::format("data.aws_availability_zones.available.names[{}]"_cf, i)));
          b.str("cidr_block", pub ? layout->publicCidr(cidr, i) : layout->privateCidr(cidr, i));
          tags(b, fmt::format("{}-{}-{}"_cf, p, kind, i));
          b.str("vpc_id", tfRef("aws_vpc.main.id"));
        });
        m_.resource("aws_route_table_association", fmt::format("{}_{}"_cf, kind, i), [&](Body& b) {
          b.str("route_table_id", tfRef(pub ? std::string("aws_route_table.public.id")
                                          : fmt::format("aws_route_table.private_{}.id"_cf, i)));
          b.str("subnet_id", tfRef(fmt::format("aws_subnet.{}_{}.id"_cf, kind, i)));
        });
      }
      m_.resource("aws_route_table", fmt::format("private_{}"_cf, i), [&](Body& b) {
        tags(b, fmt::format("{}-private-{}"_cf, p, i));
        b.str("vpc_id", tfRef("aws_vpc.main.id"));
      });
    }
    m_.resource("aws_route_table", "public", [&](Body& b) {
      tags(b, fmt::format("{}-public"_cf, p));
      b.str("vpc_id", tfRef("aws_vpc.main.id"));
    });
    m_.resource("aws_route", "public_internet", [&](Body& b) {
      b.str("destination_cidr_block", "0.0.0.0/0");
      b.str("gateway_id", tfRef("aws_internet_gateway.main.id"));
      b.str("route_table_id", tfRef("aws_route_table.public.id"));
    });

    int nats = env_.network.nat == model::Network::Nat::None     ? 0
               : env_.network.nat == model::Network::Nat::Single ? 1
                                                                 : zones;
    for (int i = 0; i < nats; ++i) {
      m_.resource("aws_eip", fmt::format("nat_{}"_cf, i), [&](Body& b) {
        b.strings("depends_on", {"aws_internet_gateway.main"});
        b.str("domain", "vpc");
        tags(b, fmt::format("{}-nat-{}"_cf, p, i));
      });
      m_.resource("aws_nat_gateway", fmt::format("nat_{}"_cf, i), [&](Body& b) {
        b.str("allocation_id", tfRef(fmt::format("aws_eip.nat_{}.id"_cf, i)));
        b.strings("depends_on", {"aws_internet_gateway.main"});
        b.str("subnet_id", tfRef(fmt::format("aws_subnet.public_{}.id"_cf, i)));
        tags(b, fmt::format("{}-nat-{}"_cf, p, i));
      });
    }
    for (int i = 0; i < zones && nats > 0; ++i) {
      m_.resource("aws_route", fmt::format("private_{}_nat"_cf, i), [&](Body& b) {
        b.str("destination_cidr_block", "0.0.0.0/0");
        b.str("nat_gateway_id", tfRef(fmt::format("aws_nat_gateway.nat_{}.id"_cf, nats == 1 ? 0 : i)));
        b.str("route_table_id", tfRef(fmt::format("aws_route_table.private_{}.id"_cf, i)));
      });
    }

    // Every task carries this group besides its own; internal services admit it.
    m_.resource("aws_security_group", "services", [&](Body& b) {
      b.str("description", fmt::format("Member of the services of {} {}"_cf, app_.app.name, env_.name));
      b.str("name", fmt::format("{}-services"_cf, p));
      b.str("vpc_id", tfRef("aws_vpc.main.id"));
    });

    if (nats == 0) endpoints();
    return true;
  }

  /// Without NAT, private subnets reach ECR, CloudWatch Logs, SSM and Secrets
  /// Manager through VPC endpoints.
  void endpoints() {
    std::vector<std::string> privateRts;
    for (int i = 0; i < env_.network.zones; ++i)
      privateRts.push_back(tfRef(fmt::format("aws_route_table.private_{}.id"_cf, i)));
    std::string service = fmt::format("com.amazonaws.{}."_cf, env_.region);
    m_.resource("aws_vpc_endpoint", "s3", [&](Body& b) {
      b.strings("route_table_ids", privateRts);
      b.str("service_name", service + "s3");
      b.str("vpc_endpoint_type", "Gateway");
      b.str("vpc_id", tfRef("aws_vpc.main.id"));
    });
    bool ssm = false, secretsManager = false;
    auto scan = [&](const Workload& w) {
      for (const auto& [_, s] : w.secrets) (s.kind == model::Secret::Kind::Ssm ? ssm : secretsManager) = true;
    };
    for (const auto& s : env_.services) scan(s);
    for (const auto& j : env_.jobs) scan(j);
    std::vector<std::string> interfaces = {"ecr.api", "ecr.dkr", "logs"};
    if (secretsManager) interfaces.push_back("secretsmanager");
    if (ssm) interfaces.push_back("ssm");
    for (const auto& name : interfaces) {
      std::string label = name;
      std::replace(label.begin(), label.end(), '.', '_');
      m_.resource("aws_vpc_endpoint", label, [&](Body& b) {
        b.flag("private_dns_enabled", true);
        b.strings("security_group_ids", {tfRef("aws_security_group.endpoints.id")});
        b.str("service_name", service + name);
        b.strings("subnet_ids", subnetRefs("private"));
        b.str("vpc_endpoint_type", "Interface");
        b.str("vpc_id", tfRef("aws_vpc.main.id"));
      });
    }
    m_.resource("aws_security_group", "endpoints", [&](Body& b) {
      b.str("description", "VPC endpoints, reachable over HTTPS from the services");
      b.str("name", fmt::format("{}-endpoints"_cf, n_.prefix()));
      b.str("vpc_id", tfRef("aws_vpc.main.id"));
    });
    m_.resource("aws_vpc_security_group_ingress_rule", "endpoints_from_services", [&](Body& b) {
      b.str("description", "HTTPS from the services");
      b.num("from_port", 443).str("ip_protocol", "tcp");
      b.str("referenced_security_group_id", tfRef("aws_security_group.services.id"));
      b.str("security_group_id", tfRef("aws_security_group.endpoints.id"));
      b.num("to_port", 443);
    });
  }

  // ---------------------------------------------------------------- cluster
  void cluster() {
    m_.resource("aws_ecs_cluster", "main", [&](Body& b) {
      b.str("name", n_.cluster());
      b.object("setting").str("name", "containerInsights").str("value", "enabled").end();
    });
    if (anyInternal_) {
      m_.resource("aws_service_discovery_private_dns_namespace", "main", [&](Body& b) {
        b.str("description", fmt::format("Internal services of {} {}"_cf, app_.app.name, env_.name));
        b.str("name", n_.dnsNamespace());
        b.str("vpc", tfRef("aws_vpc.main.id"));
      });
    }
  }

  // ---------------------------------------------------------------- load balancer
  void loadBalancer() {
    const std::string& p = n_.prefix();
    m_.resource("aws_security_group", "alb", [&](Body& b) {
      b.str("description",
            fmt::format("Load balancer of {} {}: HTTP and HTTPS from anywhere"_cf, app_.app.name, env_.name));
      b.str("name", fmt::format("{}-alb"_cf, p));
      b.str("vpc_id", tfRef("aws_vpc.main.id"));
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
      b.strings("subnets", subnetRefs("public"));
    });

    std::set<std::string> hostSet;
    for (const Service* s : public_) hostSet.insert(s->expose.hosts.begin(), s->expose.hosts.end());
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
      b.str("load_balancer_arn", tfRef("aws_lb.main.arn"));
      b.num("port", 443).str("protocol", "HTTPS").str("ssl_policy", "ELBSecurityPolicy-TLS13-1-2-2021-06");
    });
    m_.resource("aws_lb_listener", "http", [&](Body& b) {
      b.object("default_action");
      b.object("redirect").str("port", "443").str("protocol", "HTTPS").str("status_code", "HTTP_301").end();
      b.str("type", "redirect").end();
      b.str("load_balancer_arn", tfRef("aws_lb.main.arn"));
      b.num("port", 80).str("protocol", "HTTP");
    });
  }

  void assignRulePriorities() {
    std::set<std::uint32_t> used;
    for (const Service* s : public_) {
      std::size_t rules = (s->expose.hosts.size() + kHostsPerRule - 1) / kHostsPerRule;
      for (std::size_t k = 0; k < rules; ++k) {
        std::uint32_t pr = 1 + stableHash(fmt::format("{}#{}"_cf, s->name, k)) % kRulePriorities;
        while (used.count(pr)) pr = pr % kRulePriorities + 1;
        used.insert(pr);
        priorities_[s->name].push_back(pr);
      }
    }
  }

  void egressAll(const std::string& label, const std::string& sgId) {
    m_.resource("aws_vpc_security_group_egress_rule", label + "_all", [&](Body& b) {
      b.str("cidr_ipv4", "0.0.0.0/0");
      b.str("description", "All outbound traffic");
      b.str("ip_protocol", "-1");
      b.str("security_group_id", tfRef(sgId));
    });
  }

  // ---------------------------------------------------------------- workloads
  /// What services and jobs share: logs, roles, security group, task definition.
  void workload(const Workload& w, std::optional<int> port) {
    const std::string& name = w.name;
    std::string logGroup = n_.logGroup(name);
    m_.resource("aws_cloudwatch_log_group", name, [&](Body& b) {
      b.str("name", logGroup);
      b.num("retention_in_days", w.logRetentionDays);
    });

    std::string ecsTrust = serviceTrustPolicy("ecs-tasks.amazonaws.com", env_.account);
    m_.resource("aws_iam_role", name + "_execution", [&](Body& b) {
      b.str("assume_role_policy", ecsTrust);
      b.str("description", fmt::format("ECS starts {} of {} {} with this role"_cf, name, app_.app.name, env_.name));
      b.str("name", n_.role(name, "execution"));
      b.str("path", n_.taskRolePath());
    });
    m_.resource("aws_iam_role_policy_attachment", name + "_execution", [&](Body& b) {
      b.str("policy_arn",
            fmt::format("arn:{}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"_cf, n_.partition()));
      b.str("role", tfRef(fmt::format("aws_iam_role.{}_execution.name"_cf, name)));
    });
    std::vector<Statement> statements;
    {
      std::set<std::string> parameters, secrets;
      for (const auto& [_, s] : w.secrets) {
        if (s.kind == model::Secret::Kind::Ssm) parameters.insert(templateEscape(ssmArn(s.name)));
        else secrets.insert(templateEscape(secretArn(s.name) + (s.name.rfind("arn:", 0) == 0 ? "" : "-??????")));
      }
      if (!parameters.empty()) {
        statements.push_back({"ReadParameters", false, {"ssm:GetParameters"}, {parameters.begin(), parameters.end()}, {}, {}, {}});
      }
      if (!secrets.empty()) {
        statements.push_back(
            {"ReadSecrets", false, {"secretsmanager:GetSecretValue"}, {secrets.begin(), secrets.end()}, {}, {}, {}});
      }
      if (w.image.kind == model::Image::Kind::Ecr) {
        statements.push_back({"PullImage",
                              false,
                              {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
                              {repositoryArn(w.image.repository)},
                              {},
                              {},
                              {}});
      }
    }
    if (!statements.empty()) {
      m_.resource("aws_iam_role_policy", name + "_execution", [&](Body& b) {
        b.str("name", "image-and-secrets");
        b.str("policy", policyDocument(statements));
        b.str("role", tfRef(fmt::format("aws_iam_role.{}_execution.name"_cf, name)));
      });
    }
    m_.resource("aws_iam_role", name + "_task", [&](Body& b) {
      b.str("assume_role_policy", ecsTrust);
      b.str("description", fmt::format("{} of {} {} runs with this role"_cf, name, app_.app.name, env_.name));
      b.str("name", n_.role(name, "task"));
      b.str("path", n_.taskRolePath());
    });

    m_.resource("aws_security_group", name, [&](Body& b) {
      b.str("description", fmt::format("{} of {} {}"_cf, name, app_.app.name, env_.name));
      b.str("name", n_.workload(name));
      b.str("vpc_id", tfRef("aws_vpc.main.id"));
    });
    egressAll(name, fmt::format("aws_security_group.{}.id"_cf, name));

    m_.resource("aws_ecs_task_definition", name, [&](Body& b) {
      b.str("container_definitions", containerDefinitions(w, port, logGroup));
      b.str("cpu", std::to_string(w.cpu));
      b.str("execution_role_arn", tfRef(fmt::format("aws_iam_role.{}_execution.arn"_cf, name)));
      b.str("family", n_.workload(name));
      b.str("memory", std::to_string(w.memory));
      b.str("network_mode", "awsvpc");
      b.strings("requires_compatibilities", {"FARGATE"});
      b.object("runtime_platform").str("cpu_architecture", "X86_64").str("operating_system_family", "LINUX").end();
      // Deploys register newer revisions; keep this one registered when Terraform replaces it.
      b.flag("skip_destroy", true);
      b.str("task_role_arn", tfRef(fmt::format("aws_iam_role.{}_task.arn"_cf, name)));
    });
  }

  /// The container definitions of the first revision, as the ECS JSON holds them
  /// (one essential container named after the workload).
  std::string containerDefinitions(const Workload& w, std::optional<int> port, const std::string& logGroup) const {
    std::string out;
    JsonWriter j(out, false);
    j.beginArray().beginObject();
    if (!w.command.empty()) {
      j.key("command").beginArray();
      for (const auto& c : w.command) j.value(templateEscape(c));
      j.endArray();
    }
    if (!w.env.empty()) {
      j.key("environment").beginArray();
      for (const auto& [k, v] : w.env) j.beginObject().member("name", k).member("value", templateEscape(v)).endObject();
      j.endArray();
    }
    j.member("essential", true).member("image", imageRef(w));
    j.key("logConfiguration").beginObject().member("logDriver", "awslogs").key("options").beginObject();
    j.member("awslogs-group", logGroup).member("awslogs-region", env_.region).member("awslogs-stream-prefix", w.name);
    j.endObject().endObject();
    j.member("name", w.name);
    if (port) {
      j.key("portMappings").beginArray().beginObject().member("containerPort", *port).member("protocol", "tcp");
      j.endObject().endArray();
    }
    if (!w.secrets.empty()) {
      j.key("secrets").beginArray();
      for (const auto& [k, s] : w.secrets) {
        std::string from = s.kind == model::Secret::Kind::Ssm ? ssmArn(s.name)
                                                              : secretArn(s.name) + (s.key.empty() ? "" : ":" + s.key + "::");
        j.beginObject().member("name", k).member("valueFrom", templateEscape(from)).endObject();
      }
      j.endArray();
    }
    j.endObject().endArray();
    return out;
  }

  // ---------------------------------------------------------------- services
  void service(const Service& s) {
    const std::string& name = s.name;
    workload(s, s.port);
    if (isPublic(s)) publicService(s);
    if (isInternal(s)) {
      m_.resource("aws_service_discovery_service", name, [&](Body& b) {
        b.object("dns_config");
        b.object("dns_records").num("ttl", 10).str("type", "A").end();
        b.str("namespace_id", tfRef("aws_service_discovery_private_dns_namespace.main.id"));
        b.str("routing_policy", "MULTIVALUE");
        b.end();
        b.str("name", name);
      });
      m_.resource("aws_vpc_security_group_ingress_rule", name + "_from_services", [&](Body& b) {
        b.str("description", fmt::format("Port {} from the services of {} {}"_cf, *s.port, app_.app.name, env_.name));
        b.num("from_port", *s.port).str("ip_protocol", "tcp");
        b.str("referenced_security_group_id", tfRef("aws_security_group.services.id"));
        b.str("security_group_id", tfRef(fmt::format("aws_security_group.{}.id"_cf, name)));
        b.num("to_port", *s.port);
      });
    }

    bool rolling = s.rollout.kind == model::Rollout::Kind::Rolling;
    // A service whose rollout shifts traffic uses the EXTERNAL deployment controller:
    // each deploy runs its version as a task set behind the idle target group and
    // gops moves the listener weights (docs/plan.md). Its task definition, network,
    // load balancer and registry then belong to the task sets, not to the service.
    bool taskSets = hasBlueGreen(s);
    m_.resource("aws_ecs_service", name, [&](Body& b) {
      b.str("cluster", tfRef("aws_ecs_cluster.main.arn"));
      if (isPublic(s)) b.strings("depends_on", {fmt::format("aws_lb_listener_rule.{}"_cf, name)});
      if (!taskSets) b.object("deployment_circuit_breaker").flag("enable", true).flag("rollback", true).end();
      b.object("deployment_controller").str("type", taskSets ? "EXTERNAL" : "ECS").end();
      b.num("deployment_maximum_percent", rolling ? s.rollout.maxPercent : 200);
      b.num("deployment_minimum_healthy_percent", rolling ? s.rollout.minHealthyPercent : 100);
      b.num("desired_count", s.replicas);
      b.flag("enable_ecs_managed_tags", true);
      if (isPublic(s)) b.num("health_check_grace_period_seconds", s.health.value_or(model::Health{}).gracePeriodSeconds);
      if (!taskSets) b.str("launch_type", "FARGATE");
      // Deploys register task definitions (or create task sets) and the autoscaler
      // sets the count; Terraform leaves both alone after creating the service.
      std::vector<std::string> ignored;
      if (s.autoscale) ignored.emplace_back("desired_count");
      if (!taskSets) ignored.emplace_back("task_definition");
      if (!ignored.empty()) b.object("lifecycle").strings("ignore_changes", ignored).end();
      if (isPublic(s) && !taskSets) {
        b.object("load_balancer").str("container_name", name).num("container_port", *s.port);
        b.str("target_group_arn", tfRef(fmt::format("aws_lb_target_group.{}.arn"_cf, primaryTg(s)))).end();
      }
      b.str("name", n_.workload(name));
      if (!taskSets) {
        b.object("network_configuration").flag("assign_public_ip", false);
        b.strings("security_groups",
                  {tfRef(fmt::format("aws_security_group.{}.id"_cf, name)), tfRef("aws_security_group.services.id")});
        b.strings("subnets", subnetRefs("private")).end();
      }
      b.str("propagate_tags", "SERVICE");
      if (isInternal(s) && !taskSets) {
        b.object("service_registries")
            .str("registry_arn", tfRef(fmt::format("aws_service_discovery_service.{}.arn"_cf, name)))
            .end();
      }
      if (!taskSets) b.str("task_definition", tfRef(fmt::format("aws_ecs_task_definition.{}.arn"_cf, name)));
    });
    if (s.autoscale) autoscaling(s);
    alarms(s);
  }

  void publicService(const Service& s) {
    const std::string& name = s.name;
    model::Health h = s.health.value_or(model::Health{});
    for (const auto& color : colors(s)) {
      m_.resource("aws_lb_target_group", tgLabel(s, color), [&](Body& b) {
        b.str("deregistration_delay", "30");
        b.object("health_check").flag("enabled", true).num("healthy_threshold", h.healthyThreshold);
        b.num("interval", h.intervalSeconds).str("matcher", "200-399").str("path", templateEscape(h.path));
        b.str("port", "traffic-port").str("protocol", "HTTP").num("timeout", h.timeoutSeconds);
        b.num("unhealthy_threshold", h.unhealthyThreshold).end();
        b.str("name", n_.targetGroup(name, color));
        b.num("port", *s.port).str("protocol", "HTTP").str("target_type", "ip");
        b.str("vpc_id", tfRef("aws_vpc.main.id"));
      });
    }
    const auto& prios = priorities_.at(name);
    for (std::size_t k = 0; k < prios.size(); ++k) {
      auto first = s.expose.hosts.begin() + static_cast<std::ptrdiff_t>(k * kHostsPerRule);
      auto last = s.expose.hosts.begin() + static_cast<std::ptrdiff_t>(std::min(s.expose.hosts.size(), (k + 1) * kHostsPerRule));
      std::vector<std::string> hosts;
      for (auto it = first; it != last; ++it) hosts.push_back(templateEscape(*it));
      m_.resource("aws_lb_listener_rule", k == 0 ? name : fmt::format("{}_{}"_cf, name, k + 1), [&](Body& b) {
        b.object("action");
        if (hasBlueGreen(s)) {
          // Deploys shift the weights; blue serves everything until the first one.
          b.object("forward").array("target_group");
          b.beginObject()
              .str("arn", tfRef(fmt::format("aws_lb_target_group.{}_blue.arn"_cf, name)))
              .num("weight", 100)
              .end();
          b.beginObject()
              .str("arn", tfRef(fmt::format("aws_lb_target_group.{}_green.arn"_cf, name)))
              .num("weight", 0)
              .end();
          b.end().end();
        } else {
          b.str("target_group_arn", tfRef(fmt::format("aws_lb_target_group.{}.arn"_cf, name)));
        }
        b.str("type", "forward").end();
        b.object("condition").object("host_header").strings("values", hosts).end().end();
        if (hasBlueGreen(s)) b.object("lifecycle").strings("ignore_changes", {"action"}).end();
        b.str("listener_arn", tfRef("aws_lb_listener.https.arn"));
        b.num("priority", prios[k]);
      });
    }
    m_.resource("aws_vpc_security_group_ingress_rule", name + "_from_alb", [&](Body& b) {
      b.str("description", fmt::format("Port {} from the load balancer"_cf, *s.port));
      b.num("from_port", *s.port).str("ip_protocol", "tcp");
      b.str("referenced_security_group_id", tfRef("aws_security_group.alb.id"));
      b.str("security_group_id", tfRef(fmt::format("aws_security_group.{}.id"_cf, name)));
      b.num("to_port", *s.port);
    });
  }

  void autoscaling(const Service& s) {
    const std::string& name = s.name;
    const model::Autoscale& a = *s.autoscale;
    m_.resource("aws_appautoscaling_target", name, [&](Body& b) {
      b.num("max_capacity", a.max).num("min_capacity", a.min);
      b.str("resource_id", fmt::format("service/{}/{}"_cf, tfRef("aws_ecs_cluster.main.name"),
                                       tfRef(fmt::format("aws_ecs_service.{}.name"_cf, name))));
      b.str("scalable_dimension", "ecs:service:DesiredCount").str("service_namespace", "ecs");
    });
    auto policy = [&](const char* what, const char* metric, double target, const std::string& resourceLabel) {
      m_.resource("aws_appautoscaling_policy", fmt::format("{}_{}"_cf, name, what), [&](Body& b) {
        b.str("name", fmt::format("{}-{}"_cf, n_.workload(name), what));
        b.str("policy_type", "TargetTrackingScaling");
        b.str("resource_id", tfRef(fmt::format("aws_appautoscaling_target.{}.resource_id"_cf, name)));
        b.str("scalable_dimension", tfRef(fmt::format("aws_appautoscaling_target.{}.scalable_dimension"_cf, name)));
        b.str("service_namespace", tfRef(fmt::format("aws_appautoscaling_target.{}.service_namespace"_cf, name)));
        b.object("target_tracking_scaling_policy_configuration");
        b.object("predefined_metric_specification").str("predefined_metric_type", metric);
        if (!resourceLabel.empty()) b.str("resource_label", resourceLabel);
        b.end();
        b.num("target_value", target).end();
      });
    };
    if (a.cpuPercent) policy("cpu", "ECSServiceAverageCPUUtilization", *a.cpuPercent, "");
    if (a.memoryPercent) policy("memory", "ECSServiceAverageMemoryUtilization", *a.memoryPercent, "");
    if (a.requestsPerTarget) {
      if (!isPublic(s)) {
        errors_.push_back(fmt::format("service `{}` scales on requests per target but has no load balancer"_cf, name));
      } else {
        policy("requests", "ALBRequestCountPerTarget", *a.requestsPerTarget,
               fmt::format("{}/{}"_cf, tfRef("aws_lb.main.arn_suffix"),
                           tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, primaryTg(s)))));
      }
    }
  }

  // ---------------------------------------------------------------- alarms
  /// A metric of the load balancer for one target group, in a metric_query.
  void albMetricQuery(Body& b, const std::string& id, const char* metric, const char* stat, const std::string& tg) {
    b.beginObject().str("id", id);
    b.object("metric").object("dimensions");
    b.str("LoadBalancer", tfRef("aws_lb.main.arn_suffix"));
    b.str("TargetGroup", tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tg))).end();
    b.str("metric_name", metric).str("namespace", "AWS/ApplicationELB").num("period", 60).str("stat", stat).end();
    b.flag("return_data", false).end();
  }
  void expressionQuery(Body& b, const std::string& id, const std::string& expression, const char* label, bool returned) {
    b.beginObject().str("expression", expression).str("id", id);
    if (label) b.str("label", label);
    b.flag("return_data", returned).end();
  }

  void alarms(const Service& s) {
    const std::string& name = s.name;
    auto ecsDimensions = [&](Body& b) {
      b.object("dimensions").str("ClusterName", n_.cluster()).str("ServiceName", n_.workload(name)).end();
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

    std::map<std::string, int> seen;
    for (const auto& c : s.rollout.rollback) {
      if (c.metric == "alarm") continue;  // an existing alarm: deploys watch it by name
      int nth = ++seen[c.metric];
      std::string what = rollbackAlarmSuffix(c.metric, nth);
      std::string label = fmt::format("{}_rollback_{}{}"_cf, name, c.metric, nth > 1 ? fmt::format("_{}"_cf, nth) : "");
      bool alb = c.metric == "http_5xx_rate" || c.metric == "http_4xx_rate" || c.metric == "unhealthy_targets" ||
                 (c.metric.size() > 8 && c.metric.compare(c.metric.size() - 8, 8, "_latency") == 0);
      bool ecs = c.metric == "cpu" || c.metric == "memory";
      if (!alb && !ecs) {
        errors_.push_back(fmt::format("service `{}`: no CloudWatch metric for `rollback when {}`"_cf, name, c.metric));
        continue;
      }
      if (alb && !isPublic(s)) {
        errors_.push_back(
            fmt::format("service `{}`: `rollback when {}` needs a load balancer, and the service is not public"_cf,
                        name, c.metric));
        continue;
      }
      int periods = std::max(1, static_cast<int>(std::ceil(c.forSeconds / 60.0)));
      std::vector<std::string> tgs;
      for (const auto& color : colors(s)) tgs.push_back(tgLabel(s, color));
      m_.resource("aws_cloudwatch_metric_alarm", label, [&](Body& b) {
        b.str("alarm_description", fmt::format("Rolls back deploys of {}: {} {} {} {} for {} s"_cf, name, c.metric,
                                               model::toString(c.op), JsonWriter::number(c.threshold), c.unit,
                                               JsonWriter::number(c.forSeconds)));
        b.str("alarm_name", n_.alarm(name, what));
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
            albMetricQuery(b, errors, metric, "Sum", tgs[0]);
            expressionQuery(b, "rate", fmt::format("100*{}/requests"_cf, errors), "percent of requests", true);
            albMetricQuery(b, "requests", "RequestCount", "Sum", tgs[0]);
          } else {
            expressionQuery(b, errors, fmt::format("FILL({0}_blue,0)+FILL({0}_green,0)"_cf, errors), nullptr, false);
            albMetricQuery(b, errors + "_blue", metric, "Sum", tgs[0]);
            albMetricQuery(b, errors + "_green", metric, "Sum", tgs[1]);
            expressionQuery(b, "rate", fmt::format("100*{}/requests"_cf, errors), "percent of requests", true);
            expressionQuery(b, "requests", "FILL(requests_blue,0)+FILL(requests_green,0)", nullptr, false);
            albMetricQuery(b, "requests_blue", "RequestCount", "Sum", tgs[0]);
            albMetricQuery(b, "requests_green", "RequestCount", "Sum", tgs[1]);
          }
          b.end();
        } else if (c.metric == "unhealthy_targets") {
          if (tgs.size() == 1) {
            b.object("dimensions").str("LoadBalancer", tfRef("aws_lb.main.arn_suffix"));
            b.str("TargetGroup", tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tgs[0]))).end();
            b.num("evaluation_periods", periods);
            b.str("metric_name", "UnHealthyHostCount").str("namespace", "AWS/ApplicationELB").num("period", 60);
            b.str("statistic", "Maximum");
          } else {
            b.num("evaluation_periods", periods);
            b.array("metric_query");
            expressionQuery(b, "unhealthy", "FILL(unhealthy_blue,0)+FILL(unhealthy_green,0)", "unhealthy targets", true);
            albMetricQuery(b, "unhealthy_blue", "UnHealthyHostCount", "Maximum", tgs[0]);
            albMetricQuery(b, "unhealthy_green", "UnHealthyHostCount", "Maximum", tgs[1]);
            b.end();
          }
        } else {  // pNN_latency, seconds
          std::string stat = c.metric.substr(0, c.metric.size() - 8);
          if (tgs.size() == 1) {
            b.object("dimensions").str("LoadBalancer", tfRef("aws_lb.main.arn_suffix"));
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
            albMetricQuery(b, stat + "_blue", "TargetResponseTime", stat.c_str(), tgs[0]);
            albMetricQuery(b, stat + "_green", "TargetResponseTime", stat.c_str(), tgs[1]);
            b.end();
          }
        }
        b.num("threshold", c.threshold).str("treat_missing_data", "notBreaching");
      });
    }
  }

  // ---------------------------------------------------------------- jobs
  void job(const Job& j) {
    const std::string& name = j.name;
    workload(j, std::nullopt);
    std::string family = n_.workload(name);
    Statement trust;
    trust.principalKind = "Service";
    trust.principals = {"scheduler.amazonaws.com"};
    trust.actions = {"sts:AssumeRole"};
    trust.conditions = {{"StringEquals", "aws:SourceAccount", {env_.account}}};
    m_.resource("aws_iam_role", name + "_scheduler", [&](Body& b) {
      b.str("assume_role_policy", policyDocument({trust}));
      b.str("description",
            fmt::format("EventBridge Scheduler runs {} of {} {} with this role"_cf, name, app_.app.name, env_.name));
      b.str("name", n_.role(name, "scheduler"));
      b.str("path", n_.rolePath());
    });
    Statement run;
    run.sid = "RunTask";
    run.actions = {"ecs:RunTask"};
    run.resources = {n_.arn("ecs", "task-definition/" + family), n_.arn("ecs", "task-definition/" + family + ":*")};
    run.conditions = {{"ArnEquals", "ecs:cluster", {n_.arn("ecs", "cluster/" + n_.cluster())}}};
    Statement pass;
    pass.sid = "PassTaskRoles";
    pass.actions = {"iam:PassRole"};
    pass.resources = {n_.roleArn(n_.taskRolePath(), n_.role(name, "execution")),
                      n_.roleArn(n_.taskRolePath(), n_.role(name, "task"))};
    pass.conditions = {{"StringEquals", "iam:PassedToService", {"ecs-tasks.amazonaws.com"}}};
    m_.resource("aws_iam_role_policy", name + "_scheduler", [&](Body& b) {
      b.str("name", "run-task");
      b.str("policy", policyDocument({run, pass}));
      b.str("role", tfRef(fmt::format("aws_iam_role.{}_scheduler.name"_cf, name)));
    });
    m_.resource("aws_scheduler_schedule", name, [&](Body& b) {
      b.str("description", fmt::format("Runs {} of {} {}: {}"_cf, name, app_.app.name, env_.name,
                                       templateEscape(j.schedule.expression)));
      b.object("flexible_time_window").str("mode", "OFF").end();
      b.str("name", n_.schedule(name));
      b.str("schedule_expression", scheduleExpression(j.schedule));
      b.str("schedule_expression_timezone", "UTC");
      b.object("target").str("arn", tfRef("aws_ecs_cluster.main.arn"));
      b.object("ecs_parameters").str("launch_type", "FARGATE");
      b.object("network_configuration").flag("assign_public_ip", false);
      b.strings("security_groups",
                {tfRef(fmt::format("aws_security_group.{}.id"_cf, name)), tfRef("aws_security_group.services.id")});
      b.strings("subnets", subnetRefs("private")).end();
      b.num("task_count", 1);
      // Without a revision: the latest active one, which deploys register.
      b.str("task_definition_arn", tfRef(fmt::format("aws_ecs_task_definition.{}.arn_without_revision"_cf, name)))
          .end();
      b.object("retry_policy").num("maximum_retry_attempts", 0).end();
      b.str("role_arn", tfRef(fmt::format("aws_iam_role.{}_scheduler.arn"_cf, name))).end();
    });
  }

  // ---------------------------------------------------------------- GitHub deploy role
  void deployRole() {
    const std::string& p = n_.prefix();
    std::string cluster = n_.arn("ecs", "cluster/" + n_.cluster());
    Statement trust;
    trust.principalKind = "Federated";
    trust.principals = {
        fmt::format("arn:{}:iam::{}:oidc-provider/{}"_cf, n_.partition(), env_.account, kGithubOidcHost)};
    trust.actions = {"sts:AssumeRoleWithWebIdentity"};
    trust.conditions = {
        {"StringEquals", fmt::format("{}:aud"_cf, kGithubOidcHost), {kGithubOidcAudience}},
        {"StringEquals", fmt::format("{}:sub"_cf, kGithubOidcHost),
         {fmt::format("repo:{}:environment:{}"_cf, app_.app.repository, env_.name)}},
    };

    std::vector<Statement> st;
    st.push_back({"EcsCluster", false, {"ecs:DescribeClusters"}, {cluster}, {}, {}, {}});
    st.push_back({"EcsServices", false, {"ecs:DescribeServices", "ecs:UpdateService"},
                  {n_.arn("ecs", fmt::format("service/{}/*"_cf, n_.cluster()))}, {}, {}, {}});
    bool anyTaskSets = std::any_of(env_.services.begin(), env_.services.end(), [&](const Service& s) { return hasBlueGreen(s); });
    if (anyTaskSets) {
      // Traffic-shifting deploys run each version as a task set (EXTERNAL controller).
      st.push_back({"EcsTaskSets",
                    false,
                    {"ecs:CreateTaskSet", "ecs:DeleteTaskSet", "ecs:DescribeTaskSets",
                     "ecs:UpdateServicePrimaryTaskSet", "ecs:UpdateTaskSet"},
                    {n_.arn("ecs", fmt::format("service/{}/*"_cf, n_.cluster())),
                     n_.arn("ecs", fmt::format("task-set/{}/*"_cf, n_.cluster()))},
                    {},
                    {},
                    {}});
    }
    st.push_back({"EcsTasks",
                  false,
                  {"ecs:DescribeTasks"},
                  {n_.arn("ecs", fmt::format("task/{}/*"_cf, n_.cluster()))},
                  {},
                  {},
                  {}});
    st.push_back({"EcsListTasks", false, {"ecs:ListTasks"}, {"*"}, {{"ArnEquals", "ecs:cluster", {cluster}}}, {}, {}});
    // RegisterTaskDefinition and DescribeTaskDefinition have no resource-level
    // permissions; what a registered revision may do is bounded by PassRole below.
    st.push_back({"EcsTaskDefinitions", false, {"ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"}, {"*"}, {}, {}, {}});
    st.push_back({"EcsTagTaskDefinitions",
                  false,
                  {"ecs:TagResource"},
                  {n_.arn("ecs", fmt::format("task-definition/{}-*"_cf, p))},
                  {{"StringEquals", "ecs:CreateAction", {"RegisterTaskDefinition"}}},
                  {},
                  {}});
    st.push_back({"PassTaskRoles", false, {"iam:PassRole"}, {n_.roleArn(n_.taskRolePath(), "*")},
                  {{"StringEquals", "iam:PassedToService", {"ecs-tasks.amazonaws.com"}}}, {}, {}});
    std::set<std::string> alarmArns = {n_.arn("cloudwatch", fmt::format("alarm:{}-*"_cf, p))};
    for (const auto& s : env_.services) {
      for (const auto& c : s.rollout.rollback) {
        if (c.metric == "alarm") alarmArns.insert(n_.arn("cloudwatch", "alarm:" + templateEscape(c.alarmName)));
      }
    }
    st.push_back({"RollbackAlarms", false, {"cloudwatch:DescribeAlarms"}, {alarmArns.begin(), alarmArns.end()}, {}, {}, {}});
    if (!public_.empty()) {
      st.push_back({"ShiftTraffic",
                    false,
                    {"elasticloadbalancing:ModifyRule"},
                    {n_.arn("elasticloadbalancing", fmt::format("listener-rule/app/{}/*"_cf, n_.loadBalancer()))},
                    {},
                    {},
                    {}});
      // ELB's Describe* actions have no resource-level permissions.
      st.push_back({"ReadLoadBalancer", false,
                    {"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                     "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"},
                    {"*"}, {}, {}, {}});
    }
    std::string ledger = n_.ledgerPath();
    st.push_back({"DeployLedger",
                  false,
                  {"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath",
                   "ssm:PutParameter"},
                  {n_.arn("ssm", "parameter" + ledger), n_.arn("ssm", fmt::format("parameter{}/*"_cf, ledger))},
                  {},
                  {},
                  {}});
    std::set<std::string> repos;
    for (const auto& s : env_.services) {
      if (s.image.kind == model::Image::Kind::Ecr) repos.insert(s.image.repository);
    }
    for (const auto& j : env_.jobs) {
      if (j.image.kind == model::Image::Kind::Ecr) repos.insert(j.image.repository);
    }
    if (!repos.empty()) {
      st.push_back({"ImageLookup", false, {"ecr:DescribeImages"},
                    repositoryArns(n_.partition(), app_.app.region, app_.app.registry, {repos.begin(), repos.end()}), {}, {}, {}});
    }

    m_.resource("aws_iam_role", "github_deploy", [&](Body& b) {
      b.str("assume_role_policy", policyDocument({trust}));
      b.str("description", fmt::format("GitHub Actions of {} deploy {} {} with this role (environment {} only)"_cf,
                                       app_.app.repository, app_.app.name, env_.name, env_.name));
      b.str("name", n_.deployRole());
      b.str("path", n_.rolePath());
    });
    m_.resource("aws_iam_role_policy", "github_deploy", [&](Body& b) {
      b.str("name", "gops-apply");
      b.str("policy", policyDocument(st));
      b.str("role", tfRef("aws_iam_role.github_deploy.name"));
    });
  }

  // ---------------------------------------------------------------- dashboard
  void dashboards() {
    const auto& services = env_.services;
    std::size_t parts = std::max<std::size_t>(1, (services.size() + kServicesPerDashboard - 1) / kServicesPerDashboard);
    for (std::size_t part = 0; part < parts; ++part) {
      std::string body;
      JsonWriter j(body, false);
      j.beginObject().key("widgets").beginArray();
      int y = 0;
      std::size_t end = std::min(services.size(), (part + 1) * kServicesPerDashboard);
      for (std::size_t i = part * kServicesPerDashboard; i < end; ++i) {
        const Service& s = services[i];
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
          j.value("ServiceName").value(n_.workload(s.name)).endArray();
        };
        auto albMetrics = [&](const char* metric) {
          for (const auto& color : colors(s)) {
            j.beginArray().value("AWS/ApplicationELB").value(metric).value("LoadBalancer").value(tfRef("aws_lb.main.arn_suffix"));
            j.value("TargetGroup").value(tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tgLabel(s, color))));
            if (!color.empty()) j.beginObject().member("label", color).endObject();
            j.endArray();
          }
        };
        widget(fmt::format("{}: CPU %"_cf, s.name), "Average", [&] { ecsMetric("CPUUtilization"); });
        widget(fmt::format("{}: memory %"_cf, s.name), "Average", [&] { ecsMetric("MemoryUtilization"); });
        if (isPublic(s)) {
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
                    b.str("dashboard_name", part == 0 ? n_.cluster() : fmt::format("{}-{}"_cf, n_.cluster(), part + 1));
                  });
    }
  }

  // ---------------------------------------------------------------- outputs
  void outputs() {
    m_.output("cluster_arn", "aws_ecs_cluster.main.arn", "ECS cluster ARN");
    m_.output("cluster_name", "aws_ecs_cluster.main.name", "ECS cluster name");
    m_.output("vpc_id", "aws_vpc.main.id", "VPC id");
    m_.output("private_subnet_ids", subnetList("private"), "Private subnets, one per zone: where tasks run");
    m_.output("public_subnet_ids", subnetList("public"), "Public subnets, one per zone: the load balancer and NAT");
    m_.output("services_security_group_id", "aws_security_group.services.id",
              "Security group every task carries besides its own; internal services admit it");
    m_.output("github_deploy_role_arn", "aws_iam_role.github_deploy.arn", "Role the GitHub environment deploys with");
    if (!public_.empty()) {
      m_.output("alb_arn", "aws_lb.main.arn", "Load balancer ARN");
      m_.output("alb_dns_name", "aws_lb.main.dns_name", "Load balancer DNS name: point the public hostnames here");
      m_.output("alb_zone_id", "aws_lb.main.zone_id", "Load balancer hosted zone, for Route 53 alias records");
      m_.output("https_listener_arn", "aws_lb_listener.https.arn", "HTTPS listener ARN");
      m_.output("certificate_validation_records", "aws_acm_certificate.main.domain_validation_options",
                "DNS records that validate the certificate; create them in the hostnames' zones");
    }
    if (anyInternal_) {
      m_.output("service_discovery_namespace_id", "aws_service_discovery_private_dns_namespace.main.id",
                "Cloud Map namespace of the internal services");
    }
    auto workloadOutputs = [&](const Workload& w) {
      m_.output(w.name + "_security_group_id", fmt::format("aws_security_group.{}.id"_cf, w.name),
                fmt::format("Security group of {}"_cf, w.name));
      m_.output(w.name + "_execution_role_arn", fmt::format("aws_iam_role.{}_execution.arn"_cf, w.name),
                fmt::format("Task execution role of {}"_cf, w.name));
      m_.output(w.name + "_task_role_arn", fmt::format("aws_iam_role.{}_task.arn"_cf, w.name),
                fmt::format("Task role of {}"_cf, w.name));
    };
    for (const auto& s : env_.services) {
      workloadOutputs(s);
      if (isPublic(s)) {
        m_.output(s.name + "_target_group_arn", fmt::format("aws_lb_target_group.{}.arn"_cf, primaryTg(s)),
                  fmt::format("Target group {} registers with"_cf, s.name));
        if (hasBlueGreen(s)) {
          for (const char* color : {"blue", "green"}) {
            m_.output(fmt::format("{}_target_group_{}_arn"_cf, s.name, color),
                      fmt::format("aws_lb_target_group.{}_{}.arn"_cf, s.name, color),
                      fmt::format("The {} target group of {}"_cf, color, s.name));
          }
        }
        m_.output(s.name + "_listener_rule_arn", fmt::format("aws_lb_listener_rule.{}.arn"_cf, s.name),
                  fmt::format("Listener rule routing {}'s hosts"_cf, s.name));
        // More than kHostsPerRule hosts take more rules; deploys shift all of them.
        for (std::size_t k = 1; k < priorities_.at(s.name).size(); ++k) {
          m_.output(fmt::format("{}_listener_rule_{}_arn"_cf, s.name, k + 1),
                    fmt::format("aws_lb_listener_rule.{}_{}.arn"_cf, s.name, k + 1),
                    fmt::format("Listener rule {} routing {}'s hosts"_cf, k + 1, s.name));
        }
      }
      if (isInternal(s)) {
        m_.output(s.name + "_discovery_service_arn", fmt::format("aws_service_discovery_service.{}.arn"_cf, s.name),
                  fmt::format("Cloud Map service of {}"_cf, s.name));
      }
    }
    for (const auto& j : env_.jobs) workloadOutputs(j);
  }

  Module& m_;
  const model::AppModel& app_;
  const model::Environment& env_;
  std::vector<std::string>& errors_;
  EnvNames n_;
  std::vector<const Service*> public_;
  bool anyInternal_ = false;
  std::map<std::string, std::vector<std::uint32_t>> priorities_;
};

}  // namespace

void envModule(Module& m, const model::AppModel& app, const model::Environment& env, std::vector<std::string>& errors) {
  EnvWriter(m, app, env, errors).write();
}

}  // namespace gops::backend::terraform
