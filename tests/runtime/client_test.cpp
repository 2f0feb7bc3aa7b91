// Request formation of both protocols, response handling, pagination and debug-log
// redaction, against a scripted transport.

#include "gops/aws/client.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "gops/aws/credential_providers.h"
#include "gops/aws/error.h"
#include "gops/aws/paginate.h"
#include "test_support.h"

using namespace gops::aws;
using gops::aws::test::FakeTransport;

namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDExampleToken+/=";

ClientConfig testConfig(const std::shared_ptr<FakeTransport>& transport, bool withToken = false) {
  ClientConfig config;
  config.region = "eu-west-1";
  config.env = Environment::fromMap({});
  config.transport = transport;
  Credentials c;
  c.accessKeyId = "AKIDEXAMPLE";
  c.secretAccessKey = kSecret;
  if (withToken) c.sessionToken = kToken;
  config.credentials = std::make_shared<StaticCredentialsProvider>(c);
  config.sleep = [](std::chrono::milliseconds) {};
  config.random = [] { return 0.0; };
  config.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'440'938'160)); };
  return config;
}

std::string header(const HttpRequest& r, std::string_view name) {
  const std::string* v = findHeader(r.headers, name);
  return v ? *v : std::string("<missing>");
}

}  // namespace

TEST_CASE("JSON protocol request", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, R"({"clusters":[{"clusterName":"prod"}]})", {{"x-amzn-requestid", "r1"}});
  AwsClient client(testConfig(transport));
  const auto out = client.callJson("ecs", "DescribeClusters", {{"clusters", {"prod"}}});
  CHECK(out["clusters"][0]["clusterName"] == "prod");

  REQUIRE(transport->requests.size() == 1);
  const HttpRequest& r = transport->requests[0];
  CHECK(r.method == "POST");
  CHECK(r.url() == "https://ecs.eu-west-1.amazonaws.com/");
  CHECK(header(r, "Host") == "ecs.eu-west-1.amazonaws.com");
  CHECK(header(r, "Content-Type") == "application/x-amz-json-1.1");
  CHECK(header(r, "X-Amz-Target") == "AmazonEC2ContainerServiceV20141113.DescribeClusters");
  CHECK(header(r, "X-Amz-Date") == "20150830T123600Z");
  CHECK(nlohmann::json::parse(r.body) == nlohmann::json{{"clusters", {"prod"}}});
  const std::string auth = header(r, "Authorization");
  CHECK(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ecs/aws4_request, "
                   "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
                   0) == 0);
  CHECK(findHeader(r.headers, "X-Amz-Security-Token") == nullptr);
}

TEST_CASE("CloudWatch uses JSON 1.0 and the Granite target prefix", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, "");
  AwsClient client(testConfig(transport, true));
  CHECK(client.callJson("monitoring", "DescribeAlarms") == nlohmann::json::object());
  const HttpRequest& r = transport->requests.at(0);
  CHECK(header(r, "Content-Type") == "application/x-amz-json-1.0");
  CHECK(header(r, "X-Amz-Target") == "GraniteServiceVersion20100801.DescribeAlarms");
  CHECK(header(r, "X-Amz-Security-Token") == kToken);
  CHECK(header(r, "Authorization").find("/eu-west-1/monitoring/aws4_request") != std::string::npos);
  CHECK(header(r, "Authorization").find("x-amz-security-token") != std::string::npos);
  CHECK(r.body == "{}");
}

TEST_CASE("query protocol request and XML response", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, R"(<DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <DescribeLoadBalancersResult>
    <LoadBalancers>
      <member><LoadBalancerName>web</LoadBalancerName><DNSName>web-1.elb.amazonaws.com</DNSName></member>
      <member><LoadBalancerName>api</LoadBalancerName></member>
    </LoadBalancers>
  </DescribeLoadBalancersResult>
  <ResponseMetadata><RequestId>abc-123</RequestId></ResponseMetadata>
</DescribeLoadBalancersResponse>)");
  AwsClient client(testConfig(transport));
  QueryParams params;
  addQueryList(params, "Names.member", {"web", "api gw"});
  const XmlDocument doc = client.callQuery("elasticloadbalancing", "DescribeLoadBalancers", params);
  const auto members = doc.result().members("LoadBalancers");
  REQUIRE(members.size() == 2);
  CHECK(members[0]->childTextOr("LoadBalancerName", "") == "web");
  CHECK(members[0]->childText("DNSName") == "web-1.elb.amazonaws.com");
  CHECK_FALSE(members[1]->childText("DNSName"));
  CHECK(doc.requestId() == "abc-123");

  const HttpRequest& r = transport->requests.at(0);
  CHECK(r.url() == "https://elasticloadbalancing.eu-west-1.amazonaws.com/");
  CHECK(header(r, "Content-Type") == "application/x-www-form-urlencoded; charset=utf-8");
  CHECK(findHeader(r.headers, "X-Amz-Target") == nullptr);
  CHECK(r.body == "Action=DescribeLoadBalancers&Names.member.1=web&Names.member.2=api%20gw&Version=2015-12-01");
  CHECK(header(r, "Authorization").find("/eu-west-1/elasticloadbalancing/aws4_request") != std::string::npos);
}

TEST_CASE("error responses become AwsError per protocol", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(400, R"({"__type":"ParameterNotFound","message":"nope"})", {{"x-amzn-requestid", "j1"}});
  transport->push(403,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message>"
                  "</Error><RequestId>x1</RequestId></ErrorResponse>");
  AwsClient client(testConfig(transport));
  try {
    client.callJson("ssm", "GetParameter", {{"Name", "missing"}});
    FAIL("expected AwsError");
  } catch (const AwsError& e) {
    CHECK(e.code() == "ParameterNotFound");
    CHECK(e.message() == "nope");
    CHECK(e.requestId() == "j1");
  }
  try {
    client.callQuery("sts", "GetCallerIdentity");
    FAIL("expected AwsError");
  } catch (const AwsError& e) {
    CHECK(e.code() == "AccessDenied");
    CHECK(e.httpStatus() == 403);
    CHECK(e.requestId() == "x1");
  }
}

TEST_CASE("protocol mismatches and unknown services are configuration errors", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  AwsClient client(testConfig(transport));
  CHECK_THROWS_AS(client.callJson("sts", "GetCallerIdentity"), ConfigError);
  CHECK_THROWS_AS(client.callQuery("ssm", "GetParameter"), ConfigError);
  CHECK_THROWS_AS(client.callJson("s3", "ListBuckets"), ConfigError);
  CHECK(transport->requests.empty());
}

TEST_CASE("malformed success bodies are ResponseError", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, "{not json");
  transport->push(200, "<unterminated>");
  AwsClient client(testConfig(transport));
  CHECK_THROWS_AS(client.callJson("ssm", "GetParameter"), ResponseError);
  CHECK_THROWS_AS(client.callQuery("sts", "GetCallerIdentity"), ResponseError);
}

TEST_CASE("unsigned requests when there is no credentials provider", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, "<R><RResult/></R>");
  ClientConfig config = testConfig(transport);
  config.credentials = nullptr;
  AwsClient client(config);
  client.callQuery("sts", "AssumeRoleWithWebIdentity");
  CHECK(findHeader(transport->requests.at(0).headers, "Authorization") == nullptr);
}

TEST_CASE("endpoint override with a port and a path", "[client]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, "{}");
  ClientConfig config = testConfig(transport);
  config.endpointOverrides["secretsmanager"] = "http://127.0.0.1:4566/prefix/";
  AwsClient client(config);
  client.callJson("secretsmanager", "ListSecrets");
  const HttpRequest& r = transport->requests.at(0);
  CHECK(r.url() == "http://127.0.0.1:4566/prefix/");
  CHECK(header(r, "Host") == "127.0.0.1:4566");
  CHECK(client.endpoint("secretsmanager") == "http://127.0.0.1:4566/prefix");
}

TEST_CASE("JSON pagination follows NextToken", "[client][paginate]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, R"({"Parameters":[{"Name":"a"},{"Name":"b"}],"NextToken":"t1"})");
  transport->push(200, R"({"Parameters":[{"Name":"c"}],"NextToken":"t2"})");
  transport->push(200, R"({"Parameters":[],"NextToken":""})");
  AwsClient client(testConfig(transport));
  const auto items = collectJson(client, "ssm", "DescribeParameters", {{"MaxResults", 2}}, "Parameters");
  REQUIRE(items.size() == 3);
  CHECK(items[2]["Name"] == "c");
  REQUIRE(transport->requests.size() == 3);
  CHECK_FALSE(nlohmann::json::parse(transport->requests[0].body).contains("NextToken"));
  CHECK(nlohmann::json::parse(transport->requests[1].body)["NextToken"] == "t1");
  CHECK(nlohmann::json::parse(transport->requests[2].body)["NextToken"] == "t2");
  CHECK(nlohmann::json::parse(transport->requests[2].body)["MaxResults"] == 2);
}

TEST_CASE("JSON pagination with other token names, and a looping service", "[client][paginate]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, R"({"repositories":[1],"nextToken":"n"})");
  transport->push(200, R"({"repositories":[2]})");
  AwsClient client(testConfig(transport));
  JsonPagination lower;
  lower.inputToken = lower.outputToken = "nextToken";
  CHECK(collectJson(client, "ecr", "DescribeRepositories", {}, "repositories", lower).size() == 2);

  auto looping = std::make_shared<FakeTransport>();
  looping->push(200, R"({"NextToken":"same"})");
  looping->push(200, R"({"NextToken":"same"})");
  AwsClient loopClient(testConfig(looping));
  CHECK_THROWS_AS(collectJson(loopClient, "ssm", "DescribeParameters", {}, "Parameters"), ResponseError);
}

TEST_CASE("query pagination follows NextMarker", "[client][paginate]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200,
                  "<DescribeTargetGroupsResponse><DescribeTargetGroupsResult><TargetGroups>"
                  "<member><TargetGroupName>a</TargetGroupName></member></TargetGroups>"
                  "<NextMarker>m1</NextMarker></DescribeTargetGroupsResult></DescribeTargetGroupsResponse>");
  transport->push(200,
                  "<DescribeTargetGroupsResponse><DescribeTargetGroupsResult><TargetGroups>"
                  "<member><TargetGroupName>b</TargetGroupName></member></TargetGroups>"
                  "</DescribeTargetGroupsResult></DescribeTargetGroupsResponse>");
  AwsClient client(testConfig(transport));
  const auto groups = collectQuery(client, "elasticloadbalancing", "DescribeTargetGroups", {}, "TargetGroups");
  REQUIRE(groups.size() == 2);
  CHECK(groups[1].childTextOr("TargetGroupName", "") == "b");
  CHECK(transport->requests[0].body.find("Marker=") == std::string::npos);
  CHECK(transport->requests[1].body.find("Marker=m1") != std::string::npos);
}

TEST_CASE("the debug log never shows secrets, tokens or signatures", "[client][redaction]") {
  auto transport = std::make_shared<FakeTransport>();
  transport->push(400, R"({"__type":"ThrottlingException"})", {{"x-amzn-requestid", "rid-1"}});
  transport->push(200, R"({"Parameter":{"Name":"/db/password","Value":"hunter2-super-secret"}})");
  // An STS response carrying credentials: bodies are never logged.
  transport->push(200,
                  "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIANEW</AccessKeyId>"
                  "<SecretAccessKey>NEWSECRETKEYVALUE</SecretAccessKey><SessionToken>NEWTOKENVALUE</SessionToken>"
                  "</Credentials></AssumeRoleResult></AssumeRoleResponse>");
  std::ostringstream log;
  ClientConfig config = testConfig(transport, true);
  config.debugLog = &log;
  AwsClient client(config);
  client.callJson("ssm", "GetParameter", {{"Name", "/db/password"}, {"WithDecryption", true}});
  client.callQuery("sts", "AssumeRole", {{"RoleArn", "arn:aws:iam::123456789012:role/x"}});

  const std::string text = log.str();
  INFO(text);
  // What the log is for.
  CHECK(text.find("POST https://ssm.eu-west-1.amazonaws.com/") != std::string::npos);
  CHECK(text.find("target=AmazonSSM.GetParameter") != std::string::npos);
  CHECK(text.find("action=AssumeRole") != std::string::npos);
  CHECK(text.find("400 ThrottlingException") != std::string::npos);
  CHECK(text.find("attempt 2/3 -> 200") != std::string::npos);
  CHECK(text.find("retrying in") != std::string::npos);
  CHECK(text.find("request-id=rid-1") != std::string::npos);
  CHECK(text.find(" ms") != std::string::npos);
  CHECK(text.find("Authorization=<redacted>") != std::string::npos);
  CHECK(text.find("X-Amz-Security-Token=<redacted>") != std::string::npos);
  // What it must never contain.
  CHECK(text.find(kSecret) == std::string::npos);
  CHECK(text.find(kToken) == std::string::npos);
  CHECK(text.find("Signature=") == std::string::npos);
  for (const HttpRequest& r : transport->requests) {
    const std::string auth = *findHeader(r.headers, "Authorization");
    const std::string signature = auth.substr(auth.find("Signature=") + 10);
    REQUIRE(signature.size() == 64);
    CHECK(text.find(signature) == std::string::npos);
  }
  CHECK(text.find("hunter2-super-secret") == std::string::npos);
  CHECK(text.find("NEWSECRETKEYVALUE") == std::string::npos);
  CHECK(text.find("NEWTOKENVALUE") == std::string::npos);
}

TEST_CASE("redactHeaderValue", "[redaction]") {
  CHECK(redactHeaderValue("authorization", "AWS4-HMAC-SHA256 ...") == "<redacted>");
  CHECK(redactHeaderValue("X-AMZ-SECURITY-TOKEN", "tok") == "<redacted>");
  CHECK(redactHeaderValue("Cookie", "a=b") == "<redacted>");
  CHECK(redactHeaderValue("X-Amz-Target", "AmazonSSM.GetParameter") == "AmazonSSM.GetParameter");
}

TEST_CASE("Credentials::describe shows no secret", "[redaction]") {
  Credentials c;
  c.accessKeyId = "AKIAIOSFODNN7EXAMPLE";
  c.secretAccessKey = kSecret;
  c.sessionToken = kToken;
  c.source = "environment";
  const std::string text = c.describe();
  CHECK(text == "access key ...MPLE (temporary) from environment");
  CHECK(text.find(kSecret) == std::string::npos);
  CHECK(text.find(kToken) == std::string::npos);
}
