// The roles GitHub Actions deploy the environment with (`gops apply`, rollback,
// record-tests: trusted from the environment's GitHub environment only, allowed what a
// deploy of this environment does) and check the gates of promotions out of it with
// (read only, trusted from the environments promoted to), and the role ECS moves the
// listener rules of its own deployments with.
#include <set>
#include <string>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "backends/terraform/env_writer.h"
#include "backends/terraform/modules.h"
#include "backends/terraform/policy.h"
#include "backends/terraform/refs.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace {

/// The trust of a role GitHub Actions assume from the given GitHub environments of
/// the repository, through the account's OIDC provider.
Statement githubTrust(const facts::EnvNames& n, const model::AppModel& app, const std::string& account,
                      const std::set<std::string>& environments) {
  Statement trust;
  trust.principalKind = "Federated";
  trust.principals = {fmt::format("arn:{}:iam::{}:oidc-provider/{}"_cf, n.partition(), account, kGithubOidcHost)};
  trust.actions = {"sts:AssumeRoleWithWebIdentity"};
  std::vector<std::string> subjects;
  for (const auto& e : environments) subjects.push_back(fmt::format("repo:{}:environment:{}"_cf, app.app.repository, e));
  trust.conditions = {
      {"StringEquals", fmt::format("{}:aud"_cf, kGithubOidcHost), {kGithubOidcAudience}},
      {"StringEquals", fmt::format("{}:sub"_cf, kGithubOidcHost), subjects},
  };
  return trust;
}

}  // namespace

bool EnvWriter::anyWatchedAlarms() const {
  for (const auto& s : f_.services) {
    if (!s.rollbackAlarms.empty()) return true;
  }
  return false;
}

std::vector<std::string> EnvWriter::watchedAlarmArns() const {
  std::set<std::string> arns = {n_.arn("cloudwatch", fmt::format("alarm:{}-*"_cf, n_.prefix()))};
  for (const auto& s : f_.services) {
    for (const auto& a : s.rollbackAlarms) {
      if (!a.created) arns.insert(n_.arn("cloudwatch", "alarm:" + templateEscape(a.name)));
    }
  }
  return {arns.begin(), arns.end()};
}

void EnvWriter::deployRole() {
  const std::string& p = n_.prefix();
  const std::string cluster = n_.arn("ecs", "cluster/" + n_.cluster());
  const std::string services = n_.arn("ecs", fmt::format("service/{}/*"_cf, n_.cluster()));
  const Statement trust = githubTrust(n_, app_, env_.account, {env_.name});

  // Every action is one the runtime calls (`gops apply`, `rollback`, `status`,
  // `record-tests`), or one the deploy workflows need; tests/deploy_role_check.py holds
  // the runtime's calls to this list, resource by resource.
  std::vector<Statement> st;
  st.push_back({"EcsCluster", false, {"ecs:DescribeClusters"}, {cluster}, {}, {}, {}});
  // UpdateService deploys the services ECS rolls (rolling, or ECS's own strategies);
  // those on task sets change through their task sets alone.
  bool anyEcsController = false;
  for (const auto& s : f_.services) anyEcsController = anyEcsController || !s.runsOnTaskSets;
  std::vector<std::string> serviceActions = {"ecs:DescribeServices"};
  if (anyEcsController) serviceActions.push_back("ecs:UpdateService");
  st.push_back({"EcsServices", false, serviceActions, {services}, {}, {}, {}});
  if (f_.anyTaskSets) {
    // Deploys of services on task sets run each version as a task set (EXTERNAL
    // controller), created with the task set file's tags.
    const std::string taskSets = n_.arn("ecs", fmt::format("task-set/{}/*"_cf, n_.cluster()));
    st.push_back({"EcsTaskSets",
                  false,
                  {"ecs:CreateTaskSet", "ecs:DeleteTaskSet", "ecs:DescribeTaskSets", "ecs:UpdateServicePrimaryTaskSet",
                   "ecs:UpdateTaskSet"},
                  {services, taskSets},
                  {},
                  {},
                  {}});
    st.push_back({"EcsTagTaskSets", false, {"ecs:TagResource"}, {taskSets},
                  {{"StringEquals", "ecs:CreateAction", {"CreateTaskSet"}}}, {}, {}});
  }
  if (f_.anyNative) {
    // Services whose rollout ECS runs: gops starts the deployment (UpdateService, which
    // passes the ECS infrastructure role), follows it, and stops it with a rollback.
    st.push_back({"EcsServiceDeployments",
                  false,
                  {"ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"},
                  {services, n_.arn("ecs", fmt::format("service-deployment/{}/*"_cf, n_.cluster()))},
                  {},
                  {},
                  {}});
    st.push_back({"PassEcsInfrastructureRole", false, {"iam:PassRole"}, {n_.ecsInfrastructureRoleArn()},
                  {{"StringEquals", "iam:PassedToService", {"ecs.amazonaws.com"}}}, {}, {}});
  }
  // DescribeTaskDefinition (rollback) and DeregisterTaskDefinition (a rolled back or
  // stopped deploy's new revision) have no resource-level permissions.
  st.push_back(
      {"EcsTaskDefinitions", false, {"ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"}, {"*"}, {}, {}, {}});
  // New revisions of the environment's families only; what a revision may do is
  // bounded by PassRole below.
  const std::string families = n_.arn("ecs", fmt::format("task-definition/{}-*"_cf, p));
  st.push_back({"EcsRegisterTaskDefinitions", false, {"ecs:RegisterTaskDefinition"}, {families}, {}, {}, {}});
  st.push_back({"EcsTagTaskDefinitions", false, {"ecs:TagResource"}, {families},
                {{"StringEquals", "ecs:CreateAction", {"RegisterTaskDefinition"}}}, {}, {}});
  st.push_back({"PassTaskRoles", false, {"iam:PassRole"}, {n_.roleArn(n_.taskRolePath(), "*")},
                {{"StringEquals", "iam:PassedToService", {"ecs-tasks.amazonaws.com"}}}, {}, {}});
  if (f_.anyBeforeDeploy) {
    // `before_deploy`: a one-off task of the new revision (RunTask, with its roles passed
    // by PassTaskRoles), its tags propagated from the task definition, looked for and
    // waited on (ListTasks, DescribeTasks), stopped when it runs out of time.
    std::vector<std::string> taskFamilies;
    for (const auto& s : f_.services) {
      if (s.beforeDeploy) taskFamilies.push_back(n_.arn("ecs", fmt::format("task-definition/{}:*"_cf, s.family)));
    }
    const std::string tasks = n_.arn("ecs", fmt::format("task/{}/*"_cf, n_.cluster()));
    st.push_back({"EcsTasks", false, {"ecs:DescribeTasks"}, {tasks}, {}, {}, {}});
    st.push_back({"EcsListTasks", false, {"ecs:ListTasks"}, {"*"}, {{"ArnEquals", "ecs:cluster", {cluster}}}, {}, {}});
    st.push_back({"BeforeDeployRunTask", false, {"ecs:RunTask"}, taskFamilies, {{"ArnEquals", "ecs:cluster", {cluster}}}, {}, {}});
    st.push_back({"BeforeDeployStopTask", false, {"ecs:StopTask"}, {tasks}, {{"ArnEquals", "ecs:cluster", {cluster}}}, {}, {}});
    st.push_back({"BeforeDeployTagTask", false, {"ecs:TagResource"}, {tasks}, {{"StringEquals", "ecs:CreateAction", {"RunTask"}}}, {}, {}});
  }
  // The preflight checks that every secret of the task definitions exists (names and
  // metadata: GetParameters without decryption, DescribeSecret); the values are the
  // execution roles' to read.
  std::vector<std::string> parameters, secrets;
  auto collect = [&](const facts::WorkloadFacts& w) {
    for (const auto& a : w.parameterArns) parameters.push_back(templateEscape(a));
    for (const auto& a : w.secretArns) secrets.push_back(templateEscape(a));
  };
  for (const auto& s : f_.services) collect(s);
  for (const auto& j : f_.jobs) collect(j);
  if (!parameters.empty()) {
    st.push_back({"PreflightParameters", false, {"ssm:GetParameters"}, groupedArns(parameters), {}, {}, {}});
  }
  if (!secrets.empty()) {
    st.push_back({"PreflightSecrets", false, {"secretsmanager:DescribeSecret"}, groupedArns(secrets), {}, {}, {}});
  }
  if (anyWatchedAlarms()) {
    st.push_back({"RollbackAlarms", false, {"cloudwatch:DescribeAlarms"}, watchedAlarmArns(), {}, {}, {}});
  }
  if (f_.anyTaskSets || f_.anyNative) {
    // The services whose traffic is shifted (by gops on task sets, or by ECS): their
    // listener rules and target groups looked at (preflight, status), their weights
    // moved by gops on task sets, the health of the new version's targets watched.
    // ELB's Describe* actions have no resource-level permissions.
    if (f_.anyTaskSets) {
      st.push_back({"ShiftTraffic", false, {"elasticloadbalancing:ModifyRule"}, {f_.loadBalancer.listenerRulesArn}, {}, {}, {}});
    }
    std::vector<std::string> reads = {"elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups"};
    if (f_.anyTaskSets) reads.push_back("elasticloadbalancing:DescribeTargetHealth");
    st.push_back({"ReadLoadBalancer", false, reads, {"*"}, {}, {}, {}});
  }
  st.push_back({"DeployLedger",
                false,
                {"ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:PutParameter"},
                {n_.arn("ssm", fmt::format("parameter{}/*"_cf, n_.ledgerPath()))},
                {},
                {},
                {}});
  if (!f_.ecrRepositories.empty()) {
    st.push_back({"ImageLookup", false, {"ecr:DescribeImages"},
                  repositoryArns(n_.partition(), app_.app.region, app_.app.registry,
                                 {f_.ecrRepositories.begin(), f_.ecrRepositories.end()}),
                  {}, {}, {}});
  }
  // The deploy workflows read the environment's Terraform outputs (`terraform init`,
  // `terraform output`): its own state object, read only, no lock. The bucket is
  // encrypted with S3's own keys (AES256), so no KMS permission is needed.
  const std::string bucket = fmt::format("arn:{}:s3:::{}"_cf, n_.partition(), n_.stateBucket());
  st.push_back({"TerraformStateList", false, {"s3:ListBucket"}, {bucket},
                {{"StringEquals", "s3:prefix", {n_.stateKey()}}}, {}, {}});
  st.push_back({"TerraformStateRead", false, {"s3:GetObject"}, {fmt::format("{}/{}"_cf, bucket, n_.stateKey())}, {}, {}, {}});

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

/// The role the deploys of the environments promoted from this one check the
/// promotion gates with (`gops promote --check FROM TO`, reading FROM's ledger,
/// services and alarms): trusted from those environments' GitHub environments, read only.
void EnvWriter::gatesRole() {
  std::set<std::string> targets;
  for (const model::Promotion* pr : app_.promotionsOutOf(env_.name)) targets.insert(pr->to);
  if (targets.empty()) return;
  const Statement trust = githubTrust(n_, app_, env_.account, targets);
  std::vector<Statement> st;
  st.push_back({"ReadLedger", false, {"ssm:GetParameter", "ssm:GetParameterHistory"},
                {n_.arn("ssm", fmt::format("parameter{}/*"_cf, n_.ledgerPath()))}, {}, {}, {}});
  st.push_back({"ReadServices", false, {"ecs:DescribeServices"},
                {n_.arn("ecs", fmt::format("service/{}/*"_cf, n_.cluster()))}, {}, {}, {}});
  if (anyWatchedAlarms()) st.push_back({"ReadAlarms", false, {"cloudwatch:DescribeAlarms"}, watchedAlarmArns(), {}, {}, {}});
  std::string to;
  for (const auto& t : targets) to += (to.empty() ? "" : ", ") + t;
  m_.resource("aws_iam_role", "github_gates", [&](Body& b) {
    b.str("assume_role_policy", policyDocument({trust}));
    b.str("description", fmt::format("GitHub Actions of {} check the gates of promotions out of {} {} with this role "
                                     "(deploys of {}; read only)"_cf,
                                     app_.app.repository, app_.app.name, env_.name, to));
    b.str("name", n_.gatesRole());
    b.str("path", n_.rolePath());
  });
  m_.resource("aws_iam_role_policy", "github_gates", [&](Body& b) {
    b.str("name", "gops-promotion-gates");
    b.str("policy", policyDocument(st));
    b.str("role", tfRef("aws_iam_role.github_gates.name"));
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
