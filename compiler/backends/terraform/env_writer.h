#pragma once
/// The writer of one environment's root module (internal to the backend). It reads
/// the environment's deployment facts and fills a Module; its parts live in one
/// file each:
///
///   env_module.cpp        the order of the parts, module settings, outputs
///   env_network.cpp       VPC, subnets, routes, NAT, VPC endpoints (or an existing VPC
///                         and its subnets), cluster and its capacity providers, Cloud Map
///   env_load_balancer.cpp ALB, certificate, listeners (or an existing ALB and its HTTPS
///                         listener), Route 53 records; per public service target groups and rules
///   env_workloads.cpp     per service and job: logs, roles, security group, task
///                         definition, ECS service, autoscaling, schedule
///   env_alarms.cpp        the alarms of each service, the dashboards
///   env_deploy_role.cpp   the role GitHub deploys the environment with, the role the
///                         promotions out of it check their gates with, the role ECS
///                         moves the listener rules of native deployments with
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/terraform/body.h"
#include "backends/terraform/refs.h"
#include "deploy_facts/env_facts.h"

namespace gops::backend::terraform {

class EnvWriter {
 public:
  EnvWriter(Module& m, const facts::EnvFacts& f, std::vector<std::string>& errors)
      : m_(m), f_(f), app_(f.app), env_(f.env), n_(f.names), refs_(f), errors_(errors) {}

  /// Every block of the module; problems that stop the build go to `errors`.
  void write();

 private:
  // env_module.cpp
  void settings();
  void outputs();

  // env_network.cpp
  /// False (with an error) when the VPC cannot be carved into the zones' subnets.
  bool network();
  void createdNetwork();
  void existingNetwork();
  void endpoints();
  void cluster();
  void egressAll(const std::string& label, const std::string& sgId);

  // env_load_balancer.cpp
  void loadBalancer();
  void certificate();
  void dnsRecords();
  void publicService(const facts::ServiceFacts& s);

  // env_workloads.cpp
  void taskRolePolicy(const facts::WorkloadFacts& w);
  void workload(const facts::WorkloadFacts& w);
  std::string containerDefinitions(const facts::TaskDefinition& t) const;
  void service(const facts::ServiceFacts& s);
  static void nativeConfiguration(Body& b, const facts::NativeStrategy& n);
  static std::string alarmNameRef(const facts::ServiceFacts& s, const facts::RollbackAlarm& a);
  void internalService(const facts::ServiceFacts& s);
  void autoscaling(const facts::ServiceFacts& s);
  void job(const facts::JobFacts& j);

  // env_alarms.cpp
  void alarms(const facts::ServiceFacts& s);
  void dashboards();

  // env_deploy_role.cpp
  void deployRole();
  void gatesRole();
  void ecsInfrastructureRole();
  /// Whether some service has `rollback when` conditions: the alarms a deploy watches
  /// (and a promotion's gates read), the environment's own, `alarm:<prefix>-*`, and
  /// those `alarm("...")` names.
  bool anyWatchedAlarms() const;
  std::vector<std::string> watchedAlarmArns() const;

  // Shared helpers.
  /// The Terraform block of a target group: `<service>` or `<service>_<color>`.
  static std::string tgLabel(const facts::ServiceFacts& s, const facts::TargetGroup& tg);
  /// `aws_security_group.<name>.id`.
  static std::string securityGroupId(std::string_view name);
  static void tags(Body& b, const std::string& name) { b.object("tags").str("Name", name).end(); }
  /// `capacity_provider_strategy` blocks of a workload on Fargate Spot.
  static void capacityProviderStrategy(Body& b, const facts::WorkloadFacts& w);
  /// What a service or schedule must wait for: the cluster's capacity providers when
  /// the workload runs on Fargate Spot in a cluster the module creates.
  std::vector<std::string> capacityDependency(const facts::WorkloadFacts& w) const;

  Module& m_;
  const facts::EnvFacts& f_;
  const model::AppModel& app_;
  const model::Environment& env_;
  const facts::EnvNames& n_;
  const InfraRefs refs_;
  std::vector<std::string>& errors_;
};

}  // namespace gops::backend::terraform
