// Per service and job: the log group, roles, security group and first task
// definition they share; the ECS service of a service (with its Cloud Map entry and
// autoscaling); the EventBridge schedule of a job.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/modules.h"
#include "backends/terraform/policy.h"
#include "backends/terraform/refs.h"
#include "support/json_writer.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

void EnvWriter::workload(const facts::WorkloadFacts& w) {
  const std::string& name = w.name;
  m_.resource("aws_cloudwatch_log_group", name, [&](Body& b) {
    b.str("name", w.container().logs.group);
    b.num("retention_in_days", w.workload->logRetentionDays);
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
    for (const auto& arn : w.parameterArns) parameters.insert(templateEscape(arn));
    for (const auto& arn : w.secretArns) secrets.insert(templateEscape(arn));
    if (!parameters.empty()) {
      statements.push_back(
          {"ReadParameters", false, {"ssm:GetParameters"}, {parameters.begin(), parameters.end()}, {}, {}, {}});
    }
    if (!secrets.empty()) {
      statements.push_back(
          {"ReadSecrets", false, {"secretsmanager:GetSecretValue"}, {secrets.begin(), secrets.end()}, {}, {}, {}});
    }
    // The workload's repository, then its sidecars' (by name) not already listed.
    std::vector<std::string> repositories;
    if (w.ecrRepository) repositories.push_back(*w.ecrRepository);
    for (const facts::Container& c : w.task.containers) {
      if (c.image.kind == model::Image::Kind::Ecr && std::find(repositories.begin(), repositories.end(), c.image.repository) == repositories.end()) {
        repositories.push_back(c.image.repository);
      }
    }
    if (!repositories.empty()) {
      statements.push_back({"PullImage",
                            false,
                            {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
                            repositoryArns(n_.partition(), app_.app.region, app_.app.registry, repositories),
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
  taskRolePolicy(w);

  m_.resource("aws_security_group", name, [&](Body& b) {
    b.str("description", fmt::format("{} of {} {}"_cf, name, app_.app.name, env_.name));
    b.str("name", w.family);
    b.str("vpc_id", tfRef(refs_.vpcId()));
  });
  egressAll(name, securityGroupId(name));

  const facts::TaskDefinition& t = w.task;
  m_.resource("aws_ecs_task_definition", name, [&](Body& b) {
    b.str("container_definitions", containerDefinitions(t));
    b.str("cpu", std::to_string(t.cpu));
    if (t.ephemeralStorageGiB) b.object("ephemeral_storage").num("size_in_gib", *t.ephemeralStorageGiB).end();
    b.str("execution_role_arn", tfRef(fmt::format("aws_iam_role.{}_execution.arn"_cf, name)));
    b.str("family", t.family);
    b.str("memory", std::to_string(t.memory));
    b.str("network_mode", t.networkMode);
    b.strings("requires_compatibilities", t.requiresCompatibilities);
    b.object("runtime_platform")
        .str("cpu_architecture", t.runtimePlatform.cpuArchitecture)
        .str("operating_system_family", t.runtimePlatform.operatingSystemFamily)
        .end();
    // Deploys register newer revisions; keep this one registered when Terraform replaces it.
    b.flag("skip_destroy", true);
    b.str("task_role_arn", tfRef(fmt::format("aws_iam_role.{}_task.arn"_cf, name)));
    if (!t.volumes.empty()) {
      b.array("volume");
      for (const facts::EfsVolume& v : t.volumes) {
        b.beginObject().object("efs_volume_configuration").object("authorization_config");
        if (!v.accessPointId.empty()) b.str("access_point_id", templateEscape(v.accessPointId));
        b.str("iam", "ENABLED").end();
        b.str("file_system_id", templateEscape(v.fileSystemId)).str("transit_encryption", "ENABLED").end();
        b.str("name", v.name).end();
      }
      b.end();
    }
  });
}

/// The task role's own policy: one statement per `allow` line of the spec (Sid
/// `Grant1`, `Grant2`... in the order written, templates' first), then the EFS
/// file systems its volumes mount (`ClientWrite` unless every mount is read-only).
void EnvWriter::taskRolePolicy(const facts::WorkloadFacts& w) {
  const model::Workload& mw = *w.workload;
  std::vector<Statement> statements;
  int n = 0;
  for (const model::Grant& g : mw.permissions) {
    Statement st;
    st.sid = fmt::format("Grant{}"_cf, ++n);
    for (const auto& a : g.actions) st.actions.push_back(templateEscape(a));
    for (const auto& r : g.resources) st.resources.push_back(templateEscape(r));
    statements.push_back(std::move(st));
  }
  std::map<std::string, bool> writes;  // file system id -> mounted writable somewhere
  for (const model::Volume& v : mw.volumes) writes[v.efs] = writes[v.efs] || !v.readOnly;
  int mounts = 0;
  for (const auto& [fs, write] : writes) {
    Statement st;
    st.sid = fmt::format("MountFileSystem{}"_cf, ++mounts);
    st.actions = {"elasticfilesystem:ClientMount"};
    if (write) st.actions.push_back("elasticfilesystem:ClientWrite");
    st.resources = {fmt::format("arn:{}:elasticfilesystem:{}:{}:file-system/{}"_cf, n_.partition(), env_.region, env_.account,
                                templateEscape(fs))};
    statements.push_back(std::move(st));
  }
  if (statements.empty()) return;
  m_.resource("aws_iam_role_policy", w.name + "_task", [&](Body& b) {
    b.str("name", "permissions");
    b.str("policy", policyDocument(statements));
    b.str("role", tfRef(fmt::format("aws_iam_role.{}_task.name"_cf, w.name)));
  });
}

/// The container definitions of the first revision, keys sorted. Their health
/// checks are left to the revisions deploys register (the ECS JSON).
std::string EnvWriter::containerDefinitions(const facts::TaskDefinition& t) const {
  std::string out;
  JsonWriter j(out, false);
  j.beginArray();
  for (const facts::Container& c : t.containers) {
    j.beginObject();
    if (!c.command.empty()) {
      j.key("command").beginArray();
      for (const auto& arg : c.command) j.value(templateEscape(arg));
      j.endArray();
    }
    if (c.cpu) j.member("cpu", *c.cpu);
    if (!c.dependsOn.empty()) {
      j.key("dependsOn").beginArray();
      for (const auto& d : c.dependsOn) j.beginObject().member("condition", d.condition).member("containerName", d.containerName).endObject();
      j.endArray();
    }
    if (!c.environment.empty()) {
      j.key("environment").beginArray();
      for (const auto& v : c.environment) {
        j.beginObject().member("name", v.name).member("value", templateEscape(v.value)).endObject();
      }
      j.endArray();
    }
    j.member("essential", c.essential);
    if (!c.firelensType.empty()) j.key("firelensConfiguration").beginObject().member("type", c.firelensType).endObject();
    j.member("image", c.image.kind == model::Image::Kind::External ? templateEscape(c.image.uri)
                                                                   : c.image.reference(tfRef("var.image_tag")));
    j.key("logConfiguration").beginObject().member("logDriver", c.logs.driver).key("options").beginObject();
    if (c.logs.awslogs()) {
      j.member("awslogs-group", c.logs.group).member("awslogs-region", c.logs.region);
      j.member("awslogs-stream-prefix", c.logs.streamPrefix);
    } else {
      for (const auto& [k, v] : c.logs.firelensOptions) j.member(k, templateEscape(v));
    }
    j.endObject().endObject();
    j.member("memory", c.memory);
    if (!c.mountPoints.empty()) {
      j.key("mountPoints").beginArray();
      for (const auto& m : c.mountPoints) {
        j.beginObject().member("containerPath", templateEscape(m.containerPath)).member("readOnly", m.readOnly);
        j.member("sourceVolume", m.sourceVolume).endObject();
      }
      j.endArray();
    }
    j.member("name", c.name);
    if (!c.portMappings.empty()) {
      j.key("portMappings").beginArray();
      for (const auto& p : c.portMappings) {
        j.beginObject().member("containerPort", p.containerPort).member("protocol", p.protocol).endObject();
      }
      j.endArray();
    }
    if (!c.secrets.empty()) {
      j.key("secrets").beginArray();
      for (const auto& s : c.secrets) {
        j.beginObject().member("name", s.name).member("valueFrom", templateEscape(s.valueFrom)).endObject();
      }
      j.endArray();
    }
    j.endObject();
  }
  j.endArray();
  return out;
}

void EnvWriter::service(const facts::ServiceFacts& s) {
  const std::string& name = s.name;
  const model::Service& ms = *s.service;
  workload(s);
  if (s.isPublic()) publicService(s);
  if (s.isInternal()) internalService(s);

  // A service on task sets uses the EXTERNAL deployment controller: each deploy
  // runs its version as a task set behind the idle target group and gops moves the
  // listener weights (docs/plan.md). Its task definition, network, load balancer
  // and registry then belong to the task sets, not to the service.
  // A service that runs natively keeps the ECS controller with ECS's own strategy:
  // ECS moves the production listener rule between blue and green, bakes, and rolls
  // back on the rollback alarms.
  const bool taskSets = s.runsOnTaskSets;
  const facts::Deployment& d = s.deployment;
  // On Fargate Spot, the service (not its task sets) names its capacity providers.
  const bool strategy = !taskSets && !s.capacityStrategy.empty();
  m_.resource("aws_ecs_service", name, [&](Body& b) {
    if (d.native && !d.native->alarmNames.empty()) {
      std::vector<std::string> names;
      for (const auto& a : s.rollbackAlarms) names.push_back(alarmNameRef(s, a));
      b.object("alarms").strings("alarm_names", names).flag("enable", true).flag("rollback", true).end();
    }
    if (strategy) capacityProviderStrategy(b, s);
    b.str("cluster", tfRef(refs_.clusterArn()));
    std::vector<std::string> dependsOn = strategy ? capacityDependency(s) : std::vector<std::string>{};
    // ECS checks that it can assume the infrastructure role when the service is created.
    if (d.native) dependsOn.push_back("aws_iam_role_policy_attachment.ecs_infrastructure");
    if (s.isPublic()) dependsOn.push_back(fmt::format("aws_lb_listener_rule.{}"_cf, name));
    if (!dependsOn.empty()) b.strings("depends_on", dependsOn);
    if (d.circuitBreaker) b.object("deployment_circuit_breaker").flag("enable", true).flag("rollback", true).end();
    if (d.native) nativeConfiguration(b, *d.native);
    b.object("deployment_controller").str("type", d.controller).end();
    b.num("deployment_maximum_percent", d.maximumPercent);
    b.num("deployment_minimum_healthy_percent", d.minimumHealthyPercent);
    b.num("desired_count", ms.replicas);
    b.flag("enable_ecs_managed_tags", true);
    // The provider replaces a service whose strategy changes unless this is set; with
    // it, a changed share of Spot is updated in place by a new deployment.
    if (strategy) b.flag("force_new_deployment", true);
    if (s.healthCheckGracePeriod) b.num("health_check_grace_period_seconds", *s.healthCheckGracePeriod);
    if (!taskSets && !strategy) b.str("launch_type", s.launchType);
    // Deploys register task definitions (or create task sets) and the autoscaler
    // sets the count; Terraform leaves both alone after creating the service. A
    // native deployment swaps the service's target group and its alternate at the
    // end: Terraform leaves the load balancer alone too, or its next apply would
    // start a deployment that swaps them back.
    std::vector<std::string> ignored;
    if (ms.autoscale) ignored.emplace_back("desired_count");
    if (d.native) ignored.emplace_back("load_balancer");
    if (!taskSets) ignored.emplace_back("task_definition");
    if (!ignored.empty()) b.object("lifecycle").strings("ignore_changes", ignored).end();
    if (s.isPublic() && !taskSets) {
      b.object("load_balancer");
      if (d.native) {
        // Blue is the target group the service starts on, green the alternate.
        b.object("advanced_configuration")
            .str("alternate_target_group_arn", tfRef(fmt::format("aws_lb_target_group.{}.arn"_cf, tgLabel(s, s.targetGroups.at(1)))))
            .str("production_listener_rule", tfRef(fmt::format("aws_lb_listener_rule.{}.arn"_cf, name)))
            .str("role_arn", tfRef("aws_iam_role.ecs_infrastructure.arn"))
            .end();
      }
      b.str("container_name", s.container().name).num("container_port", *ms.port);
      b.str("target_group_arn", tfRef(fmt::format("aws_lb_target_group.{}.arn"_cf, tgLabel(s, s.primaryTargetGroup()))))
          .end();
    }
    b.str("name", s.family);
    if (!taskSets) {
      b.object("network_configuration").flag("assign_public_ip", false);
      b.strings("security_groups", {tfRef(securityGroupId(name)), tfRef(ref::kServicesSecurityGroupId)});
      b.strings("subnets", refs_.subnetIds("private")).end();
    }
    b.str("propagate_tags", "SERVICE");
    if (s.isInternal() && !taskSets) {
      b.object("service_registries")
          .str("registry_arn", tfRef(fmt::format("aws_service_discovery_service.{}.arn"_cf, name)))
          .end();
    }
    if (!taskSets) b.str("task_definition", tfRef(fmt::format("aws_ecs_task_definition.{}.arn"_cf, name)));
  });
  if (ms.autoscale) autoscaling(s);
  alarms(s);
}

/// `deployment_configuration` of a service whose rollout ECS runs (docs/terraform.md).
/// The provider takes the minutes as strings.
void EnvWriter::nativeConfiguration(Body& b, const facts::NativeStrategy& n) {
  b.object("deployment_configuration");
  b.str("bake_time_in_minutes", std::to_string(n.bakeTimeMinutes));
  if (n.strategy == "CANARY") {
    b.object("canary_configuration")
        .str("canary_bake_time_in_minutes", std::to_string(n.canaryBakeTimeMinutes))
        .num("canary_percent", n.canaryPercent)
        .end();
  }
  if (n.strategy == "LINEAR") {
    b.object("linear_configuration")
        .str("step_bake_time_in_minutes", std::to_string(n.linearStepBakeTimeMinutes))
        .num("step_percent", n.linearStepPercent)
        .end();
  }
  b.str("strategy", n.strategy).end();
}

/// The alarm of a rollback condition as ECS's `alarm_names` lists it: a reference to
/// the alarm the module creates (so the service waits for it), an existing one by name.
std::string EnvWriter::alarmNameRef(const facts::ServiceFacts& s, const facts::RollbackAlarm& a) {
  if (!a.created) return templateEscape(a.name);
  const std::string& metric = a.condition->metric;
  return tfRef(fmt::format("aws_cloudwatch_metric_alarm.{}_rollback_{}{}.alarm_name"_cf, s.name, metric,
                           a.nth > 1 ? fmt::format("_{}"_cf, a.nth) : ""));
}

void EnvWriter::internalService(const facts::ServiceFacts& s) {
  const std::string& name = s.name;
  const int port = *s.service->port;
  m_.resource("aws_service_discovery_service", name, [&](Body& b) {
    b.object("dns_config");
    b.object("dns_records").num("ttl", 10).str("type", "A").end();
    b.str("namespace_id", tfRef("aws_service_discovery_private_dns_namespace.main.id"));
    b.str("routing_policy", "MULTIVALUE");
    b.end();
    b.str("name", name);
  });
  m_.resource("aws_vpc_security_group_ingress_rule", name + "_from_services", [&](Body& b) {
    b.str("description", fmt::format("Port {} from the services of {} {}"_cf, port, app_.app.name, env_.name));
    b.num("from_port", port).str("ip_protocol", "tcp");
    b.str("referenced_security_group_id", tfRef(ref::kServicesSecurityGroupId));
    b.str("security_group_id", tfRef(securityGroupId(name)));
    b.num("to_port", port);
  });
}

void EnvWriter::autoscaling(const facts::ServiceFacts& s) {
  const std::string& name = s.name;
  const model::Autoscale& a = *s.service->autoscale;
  m_.resource("aws_appautoscaling_target", name, [&](Body& b) {
    b.num("max_capacity", a.max).num("min_capacity", a.min);
    b.str("resource_id", fmt::format("service/{}/{}"_cf, tfRef(refs_.clusterName()),
                                     tfRef(fmt::format("aws_ecs_service.{}.name"_cf, name))));
    b.str("scalable_dimension", "ecs:service:DesiredCount").str("service_namespace", "ecs");
  });
  auto policy = [&](const char* what, const char* metric, double target, const std::string& resourceLabel) {
    m_.resource("aws_appautoscaling_policy", fmt::format("{}_{}"_cf, name, what), [&](Body& b) {
      b.str("name", fmt::format("{}-{}"_cf, s.family, what));
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
    if (!s.isPublic()) {
      errors_.push_back(fmt::format("service `{}` scales on requests per target but has no load balancer"_cf, name));
    } else {
      std::string tg = tgLabel(s, s.primaryTargetGroup());
      policy("requests", "ALBRequestCountPerTarget", *a.requestsPerTarget,
             fmt::format("{}/{}"_cf, tfRef(refs_.albArnSuffix()),
                         tfRef(fmt::format("aws_lb_target_group.{}.arn_suffix"_cf, tg))));
    }
  }
}

void EnvWriter::job(const facts::JobFacts& j) {
  const std::string& name = j.name;
  workload(j);
  const std::string& family = j.family;
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
  pass.resources = {j.task.executionRoleArn, j.task.taskRoleArn};
  pass.conditions = {{"StringEquals", "iam:PassedToService", {"ecs-tasks.amazonaws.com"}}};
  m_.resource("aws_iam_role_policy", name + "_scheduler", [&](Body& b) {
    b.str("name", "run-task");
    b.str("policy", policyDocument({run, pass}));
    b.str("role", tfRef(fmt::format("aws_iam_role.{}_scheduler.name"_cf, name)));
  });
  m_.resource("aws_scheduler_schedule", name, [&](Body& b) {
    if (!j.capacityStrategy.empty()) {
      if (auto dependsOn = capacityDependency(j); !dependsOn.empty()) b.strings("depends_on", dependsOn);
    }
    b.str("description", fmt::format("Runs {} of {} {}: {}"_cf, name, app_.app.name, env_.name,
                                     templateEscape(j.schedule.expression)));
    b.object("flexible_time_window").str("mode", "OFF").end();
    b.str("name", j.scheduleName);
    b.str("schedule_expression", j.schedule.eventBridge);
    b.str("schedule_expression_timezone", "UTC");
    b.object("target").str("arn", tfRef(refs_.clusterArn()));
    b.object("ecs_parameters");
    if (j.capacityStrategy.empty()) {
      b.str("launch_type", j.launchType);
    } else {
      capacityProviderStrategy(b, j);
    }
    b.object("network_configuration").flag("assign_public_ip", false);
    b.strings("security_groups", {tfRef(securityGroupId(name)), tfRef(ref::kServicesSecurityGroupId)});
    b.strings("subnets", refs_.subnetIds("private")).end();
    b.num("task_count", 1);
    // Without a revision: the latest active one, which deploys register.
    b.str("task_definition_arn", tfRef(fmt::format("aws_ecs_task_definition.{}.arn_without_revision"_cf, name))).end();
    b.object("retry_policy").num("maximum_retry_attempts", 0).end();
    b.str("role_arn", tfRef(fmt::format("aws_iam_role.{}_scheduler.arn"_cf, name))).end();
  });
}

void EnvWriter::capacityProviderStrategy(Body& b, const facts::WorkloadFacts& w) {
  b.array("capacity_provider_strategy");
  for (const facts::CapacityProviderShare& share : w.capacityStrategy) {
    b.beginObject().num("base", share.base).str("capacity_provider", share.provider).num("weight", share.weight).end();
  }
  b.end();
}

std::vector<std::string> EnvWriter::capacityDependency(const facts::WorkloadFacts& w) const {
  if (w.capacityStrategy.empty() || f_.cluster.existing) return {};
  return {"aws_ecs_cluster_capacity_providers.main"};
}

}  // namespace gops::backend::terraform
