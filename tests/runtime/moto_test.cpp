// End-to-end calls against moto_server. Hidden cases ([.][moto]): run_moto_tests.sh starts
// a server and runs them with GOPS_TEST_AWS_ENDPOINT set. moto does not check signatures
// and answers as account 123456789012.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>

#include "gops/aws/client.h"
#include "gops/aws/config.h"
#include "gops/aws/credential_providers.h"
#include "gops/aws/error.h"
#include "gops/aws/paginate.h"
#include "test_support.h"

using namespace gops::aws;
using gops::aws::test::TempDir;

namespace {

constexpr const char* kAccount = "123456789012";
constexpr const char* kMotoSecret = "motoSecretKeyThatMustNeverBeLogged";
constexpr const char* kMotoToken = "motoSessionTokenThatMustNeverBeLogged";

/// The moto endpoint, or "" when the cases run outside run_moto_tests.sh.
std::string motoEndpoint() {
  const char* value = std::getenv("GOPS_TEST_AWS_ENDPOINT");
  return value != nullptr ? value : "";
}

/// Variables for resolveClientConfig: moto everywhere, no shared files of the developer.
std::map<std::string, std::string> motoVars(const TempDir& dir) {
  return {
      {"AWS_ENDPOINT_URL", motoEndpoint()},
      {"AWS_REGION", "us-east-1"},
      {"AWS_CONFIG_FILE", (dir.path() / "config").string()},
      {"AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "credentials").string()},
      {"HOME", dir.path().string()},
  };
}

ClientConfig motoConfig(const TempDir& dir, std::ostream* log = nullptr) {
  auto vars = motoVars(dir);
  vars["AWS_ACCESS_KEY_ID"] = "AKIDMOTOTEST";
  vars["AWS_SECRET_ACCESS_KEY"] = kMotoSecret;
  vars["AWS_SESSION_TOKEN"] = kMotoToken;
  ClientConfig config = resolveClientConfig({.env = Environment::fromMap(vars)});
  config.debugLog = log;
  return config;
}

#define REQUIRE_MOTO()                                                   \
  if (motoEndpoint().empty()) {                                          \
    WARN("GOPS_TEST_AWS_ENDPOINT is not set: run run_moto_tests.sh");    \
    return;                                                              \
  }

}  // namespace

TEST_CASE("moto: STS GetCallerIdentity (query protocol, XML)", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  AwsClient aws(motoConfig(dir));
  CHECK(aws.endpoint("sts") == motoEndpoint());
  const XmlDocument who = aws.callQuery("sts", "GetCallerIdentity");
  CHECK(who.result().childTextOr("Account", "") == kAccount);
  CHECK(who.result().childTextOr("Arn", "").starts_with("arn:aws:"));
  CHECK_FALSE(who.requestId().empty());
}

TEST_CASE("moto: SSM parameters (JSON 1.1), errors and pagination", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  AwsClient aws(motoConfig(dir));
  for (int i = 1; i <= 5; ++i) {
    aws.callJson("ssm", "PutParameter",
                 {{"Name", "/gops/test/p" + std::to_string(i)}, {"Value", "v" + std::to_string(i)},
                  {"Type", "String"}, {"Overwrite", true}});
  }
  const auto got = aws.callJson("ssm", "GetParameter", {{"Name", "/gops/test/p3"}});
  CHECK(got["Parameter"]["Value"] == "v3");
  CHECK(got["Parameter"]["Version"] == 1);

  try {
    aws.callJson("ssm", "GetParameter", {{"Name", "/gops/test/absent"}});
    FAIL("expected ParameterNotFound");
  } catch (const AwsError& e) {
    CHECK(e.code() == "ParameterNotFound");
    CHECK(e.httpStatus() == 400);
    CHECK_FALSE(e.isRetryable());
  }

  const auto all = collectJson(aws, "ssm", "DescribeParameters", {{"MaxResults", 2}}, "Parameters");
  CHECK(all.size() == 5);
}

TEST_CASE("moto: CloudWatch alarms (JSON 1.0)", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  AwsClient aws(motoConfig(dir));
  aws.callJson("monitoring", "PutMetricAlarm",
               {{"AlarmName", "gops-high-cpu"},
                {"MetricName", "CPUUtilization"},
                {"Namespace", "AWS/ECS"},
                {"Statistic", "Average"},
                {"Period", 60},
                {"EvaluationPeriods", 2},
                {"Threshold", 80.0},
                {"ComparisonOperator", "GreaterThanThreshold"}});
  const auto alarms = aws.callJson("monitoring", "DescribeAlarms", {{"AlarmNames", {"gops-high-cpu"}}});
  REQUIRE(alarms["MetricAlarms"].size() == 1);
  CHECK(alarms["MetricAlarms"][0]["AlarmName"] == "gops-high-cpu");
  CHECK(alarms["MetricAlarms"][0]["Threshold"] == 80.0);
}

TEST_CASE("moto: ELBv2 (query protocol) lists, results and XML errors", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  AwsClient aws(motoConfig(dir));
  const XmlDocument lbs = aws.callQuery("elasticloadbalancing", "DescribeLoadBalancers");
  CHECK(lbs.result().name() == "DescribeLoadBalancersResult");
  CHECK(lbs.result().members("LoadBalancers").empty());

  const XmlDocument created = aws.callQuery("elasticloadbalancing", "CreateTargetGroup",
                                            {{"Name", "gops-tg"}, {"TargetType", "lambda"}});
  const auto groups = created.result().members("TargetGroups");
  REQUIRE(groups.size() == 1);
  CHECK(groups[0]->childTextOr("TargetGroupName", "") == "gops-tg");
  const std::string arn = groups[0]->childTextOr("TargetGroupArn", "");
  CHECK(arn.starts_with("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gops-tg/"));

  const auto listed = collectQuery(aws, "elasticloadbalancing", "DescribeTargetGroups", {}, "TargetGroups");
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].childTextOr("TargetGroupArn", "") == arn);

  QueryParams missing;
  addQueryList(missing, "Names.member", {"no-such-lb"});
  try {
    aws.callQuery("elasticloadbalancing", "DescribeLoadBalancers", missing);
    FAIL("expected LoadBalancerNotFound");
  } catch (const AwsError& e) {
    CHECK(e.code() == "LoadBalancerNotFound");
    CHECK(e.service() == "elasticloadbalancing");
  }
}

TEST_CASE("moto: every other JSON service answers", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  AwsClient aws(motoConfig(dir));

  aws.callJson("secretsmanager", "CreateSecret", {{"Name", "gops/db"}, {"SecretString", "s3cr3t"}});
  CHECK(aws.callJson("secretsmanager", "GetSecretValue", {{"SecretId", "gops/db"}})["SecretString"] == "s3cr3t");

  aws.callJson("ecs", "CreateCluster", {{"clusterName", "gops"}});
  const auto clusters = aws.callJson("ecs", "DescribeClusters", {{"clusters", {"gops"}}});
  REQUIRE(clusters["clusters"].size() == 1);
  CHECK(clusters["clusters"][0]["clusterArn"] == "arn:aws:ecs:us-east-1:123456789012:cluster/gops");

  aws.callJson("ecr", "CreateRepository", {{"repositoryName", "gops/app"}});
  const auto repos = aws.callJson("ecr", "DescribeRepositories", {{"repositoryNames", {"gops/app"}}});
  CHECK(repos["repositories"][0]["repositoryName"] == "gops/app");

  aws.callJson("logs", "CreateLogGroup", {{"logGroupName", "/gops/app"}});
  JsonPagination logsPages;
  logsPages.inputToken = logsPages.outputToken = "nextToken";
  const auto groups = collectJson(aws, "logs", "DescribeLogGroups", {{"logGroupNamePrefix", "/gops/"}},
                                  "logGroups", logsPages);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0]["logGroupName"] == "/gops/app");

  aws.callJson("ecs", "RegisterTaskDefinition",
               {{"family", "web"},
                {"containerDefinitions", {{{"name", "web"}, {"image", "nginx:1.27"}, {"memory", 128}}}}});
  aws.callJson("ecs", "CreateService",
               {{"cluster", "gops"}, {"serviceName", "web"}, {"taskDefinition", "web"}, {"desiredCount", 1}});
  aws.callJson("application-autoscaling", "RegisterScalableTarget",
               {{"ServiceNamespace", "ecs"},
                {"ResourceId", "service/gops/web"},
                {"ScalableDimension", "ecs:service:DesiredCount"},
                {"MinCapacity", 1},
                {"MaxCapacity", 4}});
  const auto targets =
      aws.callJson("application-autoscaling", "DescribeScalableTargets", {{"ServiceNamespace", "ecs"}});
  REQUIRE(targets["ScalableTargets"].size() == 1);
  CHECK(targets["ScalableTargets"][0]["MaxCapacity"] == 4);
}

TEST_CASE("moto: web identity credentials through the default chain", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  auto vars = motoVars(dir);
  vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/gops-deployer";
  vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir.write("token", "header.payload.signature");
  vars["AWS_ROLE_SESSION_NAME"] = "gops-moto";
  ClientConfig config = resolveClientConfig({.env = Environment::fromMap(vars)});
  const Credentials credentials = config.credentials->resolve();
  CHECK(credentials.accessKeyId.starts_with("ASIA"));
  CHECK_FALSE(credentials.sessionToken.empty());
  CHECK(credentials.expiration.has_value());

  AwsClient aws(config);
  const XmlDocument who = aws.callQuery("sts", "GetCallerIdentity");
  CHECK(who.result().childTextOr("Account", "") == kAccount);
  CHECK(who.result().childTextOr("Arn", "") ==
        "arn:aws:sts::123456789012:assumed-role/gops-deployer/gops-moto");
}

TEST_CASE("moto: role_arn + source_profile in temporary profile files", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  dir.write("config",
            "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/gops-admin\n"
            "source_profile = base\nrole_session_name = gops-profile\nduration_seconds = 900\n");
  dir.write("credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = baseSecret\n");
  auto vars = motoVars(dir);
  vars["AWS_PROFILE"] = "deploy";
  AwsClient aws(resolveClientConfig({.env = Environment::fromMap(vars)}));
  const XmlDocument who = aws.callQuery("sts", "GetCallerIdentity");
  CHECK(who.result().childTextOr("Arn", "") == "arn:aws:sts::123456789012:assumed-role/gops-admin/gops-profile");
}

TEST_CASE("moto: the debug log of real calls holds no secret", "[.][moto]") {
  REQUIRE_MOTO();
  TempDir dir;
  std::ostringstream log;
  AwsClient aws(motoConfig(dir, &log));
  aws.callJson("secretsmanager", "CreateSecret", {{"Name", "gops/log-check"}, {"SecretString", "topsecretvalue"}});
  aws.callJson("secretsmanager", "GetSecretValue", {{"SecretId", "gops/log-check"}});
  aws.callQuery("sts", "GetCallerIdentity");
  const std::string text = log.str();
  INFO(text);
  CHECK(text.find("target=secretsmanager.GetSecretValue") != std::string::npos);
  CHECK(text.find("action=GetCallerIdentity") != std::string::npos);
  CHECK(text.find(kMotoSecret) == std::string::npos);
  CHECK(text.find(kMotoToken) == std::string::npos);
  CHECK(text.find("Signature=") == std::string::npos);
  CHECK(text.find("topsecretvalue") == std::string::npos);
}
