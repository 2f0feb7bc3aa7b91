// The role GitHub Actions deploy the environment with (`gops apply`, rollback,
// status): trusted from the environment's GitHub environment only, allowed what a
// deploy of this environment does.
#include <set>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/modules.h"
#include "backends/terraform/policy.h"
#include "backends/terraform/refs.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

void EnvWriter::deployRole() {
  const std::string& p = n_.prefix();
  std::string cluster = n_.arn("ecs", "cluster/" + n_.cluster());
  Statement trust;
  trust.principalKind = "Federated";
  trust.principals = {fmt::format("arn:{}:iam::{}:oidc-provider/{}"_cf, n_.partition(), env_.account, kGithubOidcHost)};
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
  if (f_.anyTaskSets) {
    // Deploys of services on task sets run each version as a task set (EXTERNAL controller).
    st.push_back({"EcsTaskSets",
                  false,
                  {"ecs:CreateTaskSet", "ecs:DeleteTaskSet", "ecs:DescribeTaskSets", "ecs:UpdateServicePrimaryTaskSet",
                   "ecs:UpdateTaskSet"},
                  {n_.arn("ecs", fmt::format("service/{}/*"_cf, n_.cluster())),
                   n_.arn("ecs", fmt::format("task-set/{}/*"_cf, n_.cluster()))},
                  {},
                  {},
                  {}});
  }
  if (f_.anyNative) {
    // Services whose rollout ECS runs: gops starts the deployment (UpdateService, which
    // passes the ECS infrastructure role), follows it, and stops it with a rollback.
    st.push_back({"EcsServiceDeployments",
                  false,
                  {"ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"},
                  {n_.arn("ecs", fmt::format("service/{}/*"_cf, n_.cluster())),
                   n_.arn("ecs", fmt::format("service-deployment/{}/*"_cf, n_.cluster()))},
                  {},
                  {},
                  {}});
    st.push_back({"PassEcsInfrastructureRole", false, {"iam:PassRole"}, {n_.ecsInfrastructureRoleArn()},
                  {{"StringEquals", "iam:PassedToService", {"ecs.amazonaws.com"}}}, {}, {}});
  }
  st.push_back({"EcsTasks", false, {"ecs:DescribeTasks"}, {n_.arn("ecs", fmt::format("task/{}/*"_cf, n_.cluster()))},
                {}, {}, {}});
  st.push_back({"EcsListTasks", false, {"ecs:ListTasks"}, {"*"}, {{"ArnEquals", "ecs:cluster", {cluster}}}, {}, {}});
  // RegisterTaskDefinition and DescribeTaskDefinition have no resource-level
  // permissions; what a registered revision may do is bounded by PassRole below.
  st.push_back(
      {"EcsTaskDefinitions", false, {"ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"}, {"*"}, {}, {}, {}});
  st.push_back({"EcsTagTaskDefinitions",
                false,
                {"ecs:TagResource"},
                {n_.arn("ecs", fmt::format("task-definition/{}-*"_cf, p))},
                {{"StringEquals", "ecs:CreateAction", {"RegisterTaskDefinition"}}},
                {},
                {}});
  st.push_back({"PassTaskRoles", false, {"iam:PassRole"}, {n_.roleArn(n_.taskRolePath(), "*")},
                {{"StringEquals", "iam:PassedToService", {"ecs-tasks.amazonaws.com"}}}, {}, {}});
  if (f_.anyBeforeDeploy) {
    // `before_deploy`: a one-off task of the new revision (RunTask, with its roles passed
    // by PassTaskRoles), its tags propagated from the task definition, stopped when it
    // runs out of time; DescribeTasks is EcsTasks'. A stopped deploy deregisters the
    // revision it registered (DeregisterTaskDefinition has no resource-level permissions).
    std::vector<std::string> families;
    for (const auto& s : f_.services) {
      if (s.beforeDeploy) families.push_back(n_.arn("ecs", fmt::format("task-definition/{}:*"_cf, s.family)));
    }
    const std::string tasks = n_.arn("ecs", fmt::format("task/{}/*"_cf, n_.cluster()));
    st.push_back({"BeforeDeployRunTask", false, {"ecs:RunTask"}, families, {{"ArnEquals", "ecs:cluster", {cluster}}}, {}, {}});
    st.push_back({"BeforeDeployStopTask", false, {"ecs:StopTask"}, {tasks}, {{"ArnEquals", "ecs:cluster", {cluster}}}, {}, {}});
    st.push_back({"BeforeDeployTagTask", false, {"ecs:TagResource"}, {tasks}, {{"StringEquals", "ecs:CreateAction", {"RunTask"}}}, {}, {}});
    st.push_back({"BeforeDeployDeregister", false, {"ecs:DeregisterTaskDefinition"}, {"*"}, {}, {}, {}});
  }
  std::set<std::string> alarmArns = {n_.arn("cloudwatch", fmt::format("alarm:{}-*"_cf, p))};
  for (const auto& s : f_.services) {
    for (const auto& a : s.rollbackAlarms) {
      if (!a.created) alarmArns.insert(n_.arn("cloudwatch", "alarm:" + templateEscape(a.name)));
    }
  }
  st.push_back(
      {"RollbackAlarms", false, {"cloudwatch:DescribeAlarms"}, {alarmArns.begin(), alarmArns.end()}, {}, {}, {}});
  if (f_.anyPublic) {
    st.push_back({"ShiftTraffic",
                  false,
                  {"elasticloadbalancing:ModifyRule"},
                  {f_.loadBalancer.listenerRulesArn},
                  {},
                  {},
                  {}});
    // ELB's Describe* actions have no resource-level permissions.
    st.push_back({"ReadLoadBalancer",
                  false,
                  {"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                   "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"},
                  {"*"},
                  {},
                  {},
                  {}});
  }
  std::string ledger = n_.ledgerPath();
  st.push_back({"DeployLedger",
                false,
                {"ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters",
                 "ssm:GetParametersByPath", "ssm:PutParameter"},
                {n_.arn("ssm", "parameter" + ledger), n_.arn("ssm", fmt::format("parameter{}/*"_cf, ledger))},
                {},
                {},
                {}});
  if (!f_.ecrRepositories.empty()) {
    st.push_back({"ImageLookup", false, {"ecr:DescribeImages"},
                  repositoryArns(n_.partition(), app_.app.region, app_.app.registry,
                                 {f_.ecrRepositories.begin(), f_.ecrRepositories.end()}),
                  {}, {}, {}});
  }

  m_.resource("aws_iam_role", "github_deploy", [&](Body& b) {
    b.str("assume_role_policy", policyDocument({trust}));
    b.str("description", fmt::format("GitHub Actions of {} deploy {} {} with this role (environment {} only)"_cf,
                                     app_.app.repository, app_.app.name, env_.name, env_.name));
    // Sessions as long as the deploy job may run (model/deploy_time.h): the workflow's
    // role-duration-seconds is the same number, and may not exceed this.
    b.num("max_session_duration", f_.deployLimits.sessionSeconds);
    b.str("name", n_.deployRole());
    b.str("path", n_.rolePath());
  });
  m_.resource("aws_iam_role_policy", "github_deploy", [&](Body& b) {
    b.str("name", "gops-apply");
    b.str("policy", policyDocument(st));
    b.str("role", tfRef("aws_iam_role.github_deploy.name"));
  });
}

/// The role ECS assumes to move the production listener rule of the services whose
/// rollout it runs (`engine = ecs`): trusted by ECS, with the AWS-managed policy for
/// load balancers (docs/terraform.md).
void EnvWriter::ecsInfrastructureRole() {
  Statement trust;
  trust.sid = "EcsManagesLoadBalancers";
  trust.principalKind = "Service";
  trust.principals = {"ecs.amazonaws.com"};
  trust.actions = {"sts:AssumeRole"};
  m_.resource("aws_iam_role", "ecs_infrastructure", [&](Body& b) {
    b.str("assume_role_policy", policyDocument({trust}));
    b.str("description", fmt::format("ECS shifts the listener rules of {} {} with this role during the deployments it runs"_cf,
                                     app_.app.name, env_.name));
    b.str("name", n_.ecsInfrastructureRole());
    b.str("path", n_.rolePath());
  });
  m_.resource("aws_iam_role_policy_attachment", "ecs_infrastructure", [&](Body& b) {
    b.str("policy_arn", fmt::format("arn:{}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"_cf, n_.partition()));
    b.str("role", tfRef("aws_iam_role.ecs_infrastructure.name"));
  });
}

}  // namespace gops::backend::terraform
