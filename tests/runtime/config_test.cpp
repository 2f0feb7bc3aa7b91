// Configuration: shared files, region and profile resolution, endpoints, and the
// credential chain (environment variables, web identity, profiles, AssumeRole).

#include "gops/aws/config.h"

#include <catch2/catch.hpp>

#include "gops/aws/client.h"
#include "gops/aws/credential_providers.h"
#include "gops/aws/encoding.h"
#include "gops/aws/error.h"
#include "gops/aws/services.h"
#include "gops/aws/shared_config.h"
#include "test_support.h"

using namespace gops::aws;
using gops::aws::test::EnvGuard;
using gops::aws::test::FakeTransport;
using gops::aws::test::TempDir;

namespace {

/// Every variable the resolution reads, so that the developer's own setup cannot leak in.
const char* const kAwsVars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME", "AWS_MAX_ATTEMPTS", "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
};

/// Clears every AWS variable (restored at the end of the test) and points the shared
/// files into `dir`.
void isolate(EnvGuard& env, const TempDir& dir) {
  for (const char* name : kAwsVars) env.set(name, std::nullopt);
  env.set("AWS_CONFIG_FILE", (dir.path() / "config").string());
  env.set("AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "credentials").string());
}

const char* kStsCredentials = R"(<{0}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{0}Result>
    <Credentials>
      <AccessKeyId>ASIAROLEKEY</AccessKeyId>
      <SecretAccessKey>roleSecret</SecretAccessKey>
      <SessionToken>roleToken</SessionToken>
      <Expiration>2030-01-01T00:00:00Z</Expiration>
    </Credentials>
  </{0}Result>
</{0}Response>)";

std::string stsResponse(const std::string& action) {
  std::string text = kStsCredentials;
  for (auto pos = text.find("{0}"); pos != std::string::npos; pos = text.find("{0}")) text.replace(pos, 3, action);
  return text;
}

ClientConfig stsConfig(const std::shared_ptr<FakeTransport>& transport) {
  ClientConfig config;
  config.region = "us-east-1";
  config.env = Environment::process();
  config.transport = transport;
  config.sleep = [](std::chrono::milliseconds) {};
  config.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)); };
  return config;
}

/// The decoded form body of a query request.
QueryParams formParams(const std::string& body) {
  QueryParams out;
  std::size_t start = 0;
  while (start <= body.size()) {
    const auto amp = body.find('&', start);
    const std::string item = body.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    const auto eq = item.find('=');
    out[percentDecode(item.substr(0, eq))] = eq == std::string::npos ? "" : percentDecode(item.substr(eq + 1));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("shared config files", "[config]") {
  const auto shared = SharedConfig::fromStrings(
      R"(# comment
[default]
region = us-west-2
output=json

[profile dev]
region = eu-central-1   # inline comment
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = base
s3 =
  max_concurrent_requests = 4
max_attempts = 7

[sso-session corp]
sso_region = us-east-1

[profile base]
; another comment
Region = ap-south-1
)",
      R"([default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = defaultSecret

[base]
aws_access_key_id=AKIDBASE
aws_secret_access_key=baseSecret
region = sa-east-1
)");
  CHECK(shared.get("default", "region") == "us-west-2");
  CHECK(shared.get("default", "aws_access_key_id") == "AKIDDEFAULT");
  CHECK(shared.get("dev", "region") == "eu-central-1");
  CHECK(shared.get("dev", "max_attempts") == "7");
  CHECK_FALSE(shared.get("dev", "max_concurrent_requests"));
  CHECK(shared.get("dev", "s3") == std::nullopt);  // empty value reads as unset
  CHECK(shared.get("base", "region") == "sa-east-1");  // credentials file wins
  CHECK(shared.get("base", "aws_secret_access_key") == "baseSecret");
  CHECK(shared.profile("corp") == nullptr);
  CHECK(shared.profile("sso-session corp") == nullptr);
  CHECK(shared.profileNames() == std::vector<std::string>{"base", "default", "dev"});
}

TEST_CASE("region resolution order", "[config]") {
  const auto shared = SharedConfig::fromStrings("[default]\nregion = us-west-2\n[profile p]\nregion = eu-west-3\n", "");
  ResolveOptions options;
  options.defaultRegion = "eu-north-1";

  options.env = Environment::fromMap({});
  CHECK(resolveRegion(options, shared, "nope") == "eu-north-1");
  CHECK(resolveRegion(options, shared, "p") == "eu-west-3");
  options.env = Environment::fromMap({{"AWS_DEFAULT_REGION", "ca-central-1"}});
  CHECK(resolveRegion(options, shared, "p") == "ca-central-1");
  options.env = Environment::fromMap({{"AWS_DEFAULT_REGION", "ca-central-1"}, {"AWS_REGION", "us-east-2"}});
  CHECK(resolveRegion(options, shared, "p") == "us-east-2");
  options.regionOverride = "ap-northeast-1";
  CHECK(resolveRegion(options, shared, "p") == "ap-northeast-1");

  ResolveOptions none;
  none.env = Environment::fromMap({{"AWS_REGION", ""}});  // empty is unset
  CHECK_THROWS_AS(resolveRegion(none, SharedConfig::fromStrings("", ""), "default"), ConfigError);
}

TEST_CASE("profile name resolution", "[config]") {
  ResolveOptions options;
  options.env = Environment::fromMap({});
  CHECK(resolveProfileName(options) == "default");
  options.env = Environment::fromMap({{"AWS_DEFAULT_PROFILE", "old"}});
  CHECK(resolveProfileName(options) == "old");
  options.env = Environment::fromMap({{"AWS_DEFAULT_PROFILE", "old"}, {"AWS_PROFILE", "new"}});
  CHECK(resolveProfileName(options) == "new");
  options.profile = "flag";
  CHECK(resolveProfileName(options) == "flag");
}

TEST_CASE("service table", "[config][endpoints]") {
  CHECK(allServices().size() == 9);
  const ServiceInfo& cw = serviceInfo("monitoring");
  CHECK(cw.protocol == Protocol::Json);
  CHECK(cw.jsonVersion == "1.0");
  CHECK(cw.targetPrefix == "GraniteServiceVersion20100801");
  const ServiceInfo& elb = serviceInfo("elasticloadbalancing");
  CHECK(elb.protocol == Protocol::Query);
  CHECK(elb.apiVersion == "2015-12-01");
  CHECK(serviceInfo("sts").apiVersion == "2011-06-15");
  CHECK(serviceInfo("ecr").endpointPrefix == "api.ecr");
  CHECK(findService("api.ecr") == &serviceInfo("ecr"));
  CHECK(findService("dynamodb") == nullptr);
  CHECK_THROWS_AS(serviceInfo("dynamodb"), ConfigError);
}

TEST_CASE("endpoint resolution and environment overrides", "[config][endpoints]") {
  const std::map<std::string, std::string> expected = {
      {"ecs", "ECS"},
      {"elasticloadbalancing", "ELASTIC_LOAD_BALANCING_V2"},
      {"monitoring", "CLOUDWATCH"},
      {"ssm", "SSM"},
      {"secretsmanager", "SECRETS_MANAGER"},
      {"sts", "STS"},
      {"ecr", "ECR"},
      {"logs", "CLOUDWATCH_LOGS"},
      {"application-autoscaling", "APPLICATION_AUTO_SCALING"},
  };
  for (const auto& [key, suffix] : expected) {
    INFO(key);
    const ServiceInfo& service = serviceInfo(key);
    CHECK(endpointEnvSuffix(service) == suffix);

    const auto none = Environment::fromMap({});
    const Endpoint def = resolveEndpoint(service, "eu-west-1", none);
    CHECK(def.url == "https://" + std::string(service.endpointPrefix) + ".eu-west-1.amazonaws.com");
    CHECK(def.source == "default");

    const auto global = Environment::fromMap({{"AWS_ENDPOINT_URL", "http://localhost:5000"}});
    CHECK(resolveEndpoint(service, "eu-west-1", global).url == "http://localhost:5000");
    CHECK(resolveEndpoint(service, "eu-west-1", global).source == "AWS_ENDPOINT_URL");

    const std::string var = "AWS_ENDPOINT_URL_" + suffix;
    const auto specific =
        Environment::fromMap({{"AWS_ENDPOINT_URL", "http://localhost:5000"}, {var, "http://127.0.0.1:6000/"}});
    CHECK(resolveEndpoint(service, "eu-west-1", specific).url == "http://127.0.0.1:6000");
    CHECK(resolveEndpoint(service, "eu-west-1", specific).source == var);

    const auto ignored = Environment::fromMap(
        {{"AWS_ENDPOINT_URL", "http://localhost:5000"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
    CHECK(resolveEndpoint(service, "eu-west-1", ignored).source == "default");

    const std::map<std::string, std::string> overrides = {{key, "https://vpce.example.com"}};
    CHECK(resolveEndpoint(service, "eu-west-1", specific, overrides).url == "https://vpce.example.com");
  }
  // Another service's variable does not apply.
  const auto other = Environment::fromMap({{"AWS_ENDPOINT_URL_ECS", "http://ecs.local"}});
  CHECK(resolveEndpoint(serviceInfo("ecr"), "us-east-1", other).source == "default");
  CHECK(resolveEndpoint(serviceInfo("ecs"), "cn-north-1", Environment::fromMap({})).url ==
        "https://ecs.cn-north-1.amazonaws.com.cn");
  CHECK_THROWS_AS(resolveEndpoint(serviceInfo("ecs"), "", Environment::fromMap({})), ConfigError);
  CHECK_THROWS_AS(resolveEndpoint(serviceInfo("ecs"), "evil.com/x", Environment::fromMap({})), ConfigError);
  CHECK_THROWS_AS(resolveEndpoint(serviceInfo("ecs"), "us-east-1",
                                  Environment::fromMap({{"AWS_ENDPOINT_URL", "ftp://example.com"}})),
                  ConfigError);
  CHECK_THROWS_AS(resolveEndpoint(serviceInfo("ecs"), "us-east-1",
                                  Environment::fromMap({{"AWS_ENDPOINT_URL", "not a url"}})),
                  ConfigError);
}

TEST_CASE("credentials from environment variables", "[config][credentials]") {
  TempDir dir;
  EnvGuard env;
  isolate(env, dir);
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "envSecret");
  env.set("AWS_SESSION_TOKEN", "envToken");
  env.set("AWS_REGION", "eu-west-1");

  const ClientConfig config = resolveClientConfig({});
  CHECK(config.region == "eu-west-1");
  CHECK(config.profile == "default");
  const Credentials c = config.credentials->resolve();
  CHECK(c.accessKeyId == "AKIDENV");
  CHECK(c.secretAccessKey == "envSecret");
  CHECK(c.sessionToken == "envToken");
  CHECK(c.source == "environment");

  env.set("AWS_SECRET_ACCESS_KEY", std::nullopt);
  CHECK_THROWS_AS(EnvironmentCredentialsProvider(Environment::process()).tryResolve(), CredentialsError);
}

TEST_CASE("credentials and settings from temporary profile files", "[config][credentials]") {
  TempDir dir;
  EnvGuard env;
  isolate(env, dir);
  dir.write("config",
            "[default]\nregion = us-west-1\n\n[profile work]\nregion = eu-west-2\nmax_attempts = 6\n");
  dir.write("credentials",
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = defaultSecret\n\n"
            "[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = workSecret\n"
            "aws_session_token = workToken\n");

  SECTION("default profile") {
    const ClientConfig config = resolveClientConfig({.defaultRegion = "ap-south-1"});
    CHECK(config.region == "us-west-1");
    CHECK(config.retry.maxAttempts == 3);
    const Credentials c = config.credentials->resolve();
    CHECK(c.accessKeyId == "AKIDDEFAULT");
    CHECK(c.source == "profile default");
  }
  SECTION("AWS_PROFILE selects a profile; env keys still win over it") {
    env.set("AWS_PROFILE", "work");
    ClientConfig config = resolveClientConfig({});
    CHECK(config.region == "eu-west-2");
    CHECK(config.retry.maxAttempts == 6);
    CHECK(config.credentials->resolve().accessKeyId == "AKIDWORK");
    CHECK(config.credentials->resolve().sessionToken == "workToken");

    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "envSecret");
    env.set("AWS_MAX_ATTEMPTS", "2");
    config = resolveClientConfig({});
    CHECK(config.credentials->resolve().accessKeyId == "AKIDENV");
    CHECK(config.retry.maxAttempts == 2);
  }
  SECTION("an explicit profile ignores environment keys") {
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "envSecret");
    const ClientConfig config = resolveClientConfig({.profile = "work"});
    CHECK(config.credentials->resolve().accessKeyId == "AKIDWORK");
  }
  SECTION("a missing named profile is an error, a missing default is not") {
    env.set("AWS_PROFILE", "missing");
    CHECK_THROWS_AS(resolveClientConfig({.defaultRegion = "us-east-1"}), ConfigError);
    env.set("AWS_PROFILE", std::nullopt);
    dir.write("config", "");
    dir.write("credentials", "");
    const ClientConfig config = resolveClientConfig({.defaultRegion = "us-east-1"});
    CHECK(config.region == "us-east-1");
    CHECK_THROWS_AS(config.credentials->resolve(), CredentialsError);
  }
  SECTION("invalid AWS_MAX_ATTEMPTS") {
    env.set("AWS_MAX_ATTEMPTS", "zero");
    CHECK_THROWS_AS(resolveClientConfig({}), ConfigError);
    env.set("AWS_MAX_ATTEMPTS", "0");
    CHECK_THROWS_AS(resolveClientConfig({}), ConfigError);
  }
  SECTION("files are found under $HOME/.aws by default") {
    env.set("AWS_CONFIG_FILE", std::nullopt);
    env.set("AWS_SHARED_CREDENTIALS_FILE", std::nullopt);
    std::filesystem::create_directories(dir.path() / ".aws");
    dir.write(".aws/credentials", "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = s\n");
    env.set("HOME", dir.path().string());
    const ClientConfig config = resolveClientConfig({.defaultRegion = "us-east-1"});
    CHECK(config.credentials->resolve().accessKeyId == "AKIDHOME");
  }
}

TEST_CASE("role_arn + source_profile assumes the role through STS", "[config][credentials]") {
  TempDir dir;
  EnvGuard env;
  isolate(env, dir);
  const auto shared = SharedConfig::fromStrings(
      "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n"
      "role_session_name = gops-ci\nexternal_id = ext-42\nduration_seconds = 1800\n"
      "[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/second\nsource_profile = deploy\n"
      "[profile loop-a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop-b\n"
      "[profile loop-b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop-a\n"
      "[profile self]\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\n"
      "aws_access_key_id = AKIDSELF\naws_secret_access_key = selfSecret\n"
      "[profile dangling]\nrole_arn = arn:aws:iam::1:role/x\n",
      "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = baseSecret\n");

  SECTION("one hop") {
    auto transport = std::make_shared<FakeTransport>();
    transport->push(200, stsResponse("AssumeRole"));
    ProfileCredentialsProvider provider("deploy", shared, stsConfig(transport), true);
    const Credentials c = provider.resolve();
    CHECK(c.accessKeyId == "ASIAROLEKEY");
    CHECK(c.secretAccessKey == "roleSecret");
    CHECK(c.sessionToken == "roleToken");
    REQUIRE(c.expiration);
    CHECK(formatIso8601(*c.expiration) == "2030-01-01T00:00:00Z");

    REQUIRE(transport->requests.size() == 1);
    const HttpRequest& r = transport->requests[0];
    CHECK(r.url() == "https://sts.us-east-1.amazonaws.com/");
    const QueryParams p = formParams(r.body);
    CHECK(p.at("Action") == "AssumeRole");
    CHECK(p.at("Version") == "2011-06-15");
    CHECK(p.at("RoleArn") == "arn:aws:iam::123456789012:role/deploy");
    CHECK(p.at("RoleSessionName") == "gops-ci");
    CHECK(p.at("ExternalId") == "ext-42");
    CHECK(p.at("DurationSeconds") == "1800");
    // Signed with the source profile's keys.
    CHECK(findHeader(r.headers, "Authorization")->find("Credential=AKIDBASE/") != std::string::npos);
  }
  SECTION("two hops, signed with the first role's credentials") {
    auto transport = std::make_shared<FakeTransport>();
    transport->push(200, stsResponse("AssumeRole"));
    transport->push(200, stsResponse("AssumeRole"));
    ProfileCredentialsProvider provider("chained", shared, stsConfig(transport), true);
    CHECK(provider.resolve().accessKeyId == "ASIAROLEKEY");
    REQUIRE(transport->requests.size() == 2);
    CHECK(formParams(transport->requests[1].body).at("RoleArn") == "arn:aws:iam::123456789012:role/second");
    CHECK(formParams(transport->requests[1].body).at("RoleSessionName") == "gops-1700000000");
    const HttpRequest& second = transport->requests[1];
    CHECK(findHeader(second.headers, "Authorization")->find("Credential=ASIAROLEKEY/") != std::string::npos);
    CHECK(*findHeader(second.headers, "X-Amz-Security-Token") == "roleToken");
  }
  SECTION("a profile that is its own source") {
    auto transport = std::make_shared<FakeTransport>();
    transport->push(200, stsResponse("AssumeRole"));
    ProfileCredentialsProvider provider("self", shared, stsConfig(transport), true);
    CHECK(provider.resolve().accessKeyId == "ASIAROLEKEY");
    CHECK(findHeader(transport->requests.at(0).headers, "Authorization")->find("Credential=AKIDSELF/") !=
          std::string::npos);
  }
  SECTION("broken setups are CredentialsError") {
    auto transport = std::make_shared<FakeTransport>();
    CHECK_THROWS_AS(ProfileCredentialsProvider("loop-a", shared, stsConfig(transport), true).resolve(),
                    CredentialsError);
    CHECK_THROWS_AS(ProfileCredentialsProvider("dangling", shared, stsConfig(transport), true).resolve(),
                    CredentialsError);
    CHECK_THROWS_AS(ProfileCredentialsProvider("absent", shared, stsConfig(transport), true).resolve(),
                    CredentialsError);
    CHECK_FALSE(ProfileCredentialsProvider("absent", shared, stsConfig(transport), false).tryResolve());
    CHECK(transport->requests.empty());
  }
  SECTION("an STS error names the role") {
    auto transport = std::make_shared<FakeTransport>();
    transport->push(403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message></Error>"
                         "</ErrorResponse>");
    ProfileCredentialsProvider provider("deploy", shared, stsConfig(transport), true);
    try {
      provider.resolve();
      FAIL("expected CredentialsError");
    } catch (const CredentialsError& e) {
      const std::string what = e.what();
      CHECK(what.find("arn:aws:iam::123456789012:role/deploy") != std::string::npos);
      CHECK(what.find("AccessDenied") != std::string::npos);
    }
  }
}

TEST_CASE("web identity from the environment", "[config][credentials]") {
  TempDir dir;
  EnvGuard env;
  isolate(env, dir);
  const std::string tokenFile = dir.write("token", "eyJhbGciOiJSUzI1NiJ9.payload.sig\n");
  env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci");
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile);
  env.set("AWS_ROLE_SESSION_NAME", "pipeline-7");

  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, stsResponse("AssumeRoleWithWebIdentity"));
  auto chain = makeDefaultCredentialsChain(stsConfig(transport), SharedConfig::fromStrings("", ""), "default",
                                           false, false);
  const Credentials c = chain->resolve();
  CHECK(c.accessKeyId == "ASIAROLEKEY");
  CHECK(c.sessionToken == "roleToken");
  REQUIRE(transport->requests.size() == 1);
  const HttpRequest& r = transport->requests[0];
  CHECK(findHeader(r.headers, "Authorization") == nullptr);  // an unsigned call
  const QueryParams p = formParams(r.body);
  CHECK(p.at("Action") == "AssumeRoleWithWebIdentity");
  CHECK(p.at("RoleArn") == "arn:aws:iam::123456789012:role/ci");
  CHECK(p.at("RoleSessionName") == "pipeline-7");
  CHECK(p.at("WebIdentityToken") == "eyJhbGciOiJSUzI1NiJ9.payload.sig");

  // Cached: a second resolve does not call STS again (expiry is in 2030).
  CHECK(chain->resolve().accessKeyId == "ASIAROLEKEY");
  CHECK(transport->requests.size() == 1);

  // Environment keys come first in the chain.
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "envSecret");
  auto envFirst = makeDefaultCredentialsChain(stsConfig(transport), SharedConfig::fromStrings("", ""), "default",
                                              false, false);
  CHECK(envFirst->resolve().accessKeyId == "AKIDENV");

  // A missing token file is an error, not "no credentials".
  env.set("AWS_ACCESS_KEY_ID", std::nullopt);
  env.set("AWS_SECRET_ACCESS_KEY", std::nullopt);
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", (dir.path() / "absent").string());
  auto broken = makeDefaultCredentialsChain(stsConfig(transport), SharedConfig::fromStrings("", ""), "default",
                                            false, false);
  CHECK_THROWS_AS(broken->resolve(), CredentialsError);
}

TEST_CASE("web identity from GitHub Actions' OIDC token request", "[config][credentials]") {
  TempDir dir;
  EnvGuard env;
  isolate(env, dir);
  env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deploy");
  env.set("AWS_ROLE_SESSION_NAME", "gops-deploy-prod");
  env.set("ACTIONS_ID_TOKEN_REQUEST_URL", "https://pipelines.example.net/oidc/token?api-version=2.0");
  env.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-secret");

  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, R"({"count":1,"value":"gh.jwt.1"})");
  transport->push(200, stsResponse("AssumeRoleWithWebIdentity"));
  auto chain = makeDefaultCredentialsChain(stsConfig(transport), SharedConfig::fromStrings("", ""), "default",
                                           false, false);
  CHECK(chain->name() == "environment variables, web identity (GitHub Actions OIDC), profile default");
  CHECK(chain->resolve().accessKeyId == "ASIAROLEKEY");
  REQUIRE(transport->requests.size() == 2);
  const HttpRequest& t = transport->requests[0];
  CHECK(t.method == "GET");
  CHECK(t.url() == "https://pipelines.example.net/oidc/token?api-version=2.0&audience=sts.amazonaws.com");
  REQUIRE(findHeader(t.headers, "Authorization") != nullptr);
  CHECK(*findHeader(t.headers, "Authorization") == "bearer request-secret");
  const QueryParams p = formParams(transport->requests[1].body);
  CHECK(p.at("Action") == "AssumeRoleWithWebIdentity");
  CHECK(p.at("RoleArn") == "arn:aws:iam::123456789012:role/deploy");
  CHECK(p.at("RoleSessionName") == "gops-deploy-prod");
  CHECK(p.at("WebIdentityToken") == "gh.jwt.1");

  // A token file, when set, is the source.
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", dir.write("token", "file.jwt"));
  auto fromFile = WebIdentityCredentialsProvider::fromEnvironment(stsConfig(transport));
  REQUIRE(fromFile);
  CHECK(fromFile->name() == "web identity");
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", std::nullopt);

  // Without id-token: write the endpoint refuses: an error naming the status, never the secret.
  transport->push(401, "{}");
  auto refused = WebIdentityCredentialsProvider::fromEnvironment(stsConfig(transport));
  REQUIRE(refused);
  try {
    refused->resolve();
    FAIL("no error");
  } catch (const CredentialsError& e) {
    const std::string what = e.what();
    CHECK(what.find("HTTP 401") != std::string::npos);
    CHECK(what.find("id-token: write") != std::string::npos);
    CHECK(what.find("request-secret") == std::string::npos);
  }
  // An answer without a token.
  transport->push(200, R"({"count":0})");
  CHECK_THROWS_AS(refused->resolve(), CredentialsError);
  // Only the role, or only one of the two variables: not this source.
  env.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", std::nullopt);
  CHECK_FALSE(WebIdentityCredentialsProvider::fromEnvironment(stsConfig(transport)));
}

TEST_CASE("a web identity session is renewed before it expires, with a new token each time", "[config][credentials]") {
  using namespace std::chrono_literals;
  TempDir dir;
  const std::string file = dir.write("token", "first.jwt");
  auto transport = std::make_shared<FakeTransport>();
  std::chrono::system_clock::time_point now{std::chrono::seconds(1'700'000'000)};
  auto sts = [&](const std::string& key, std::chrono::system_clock::time_point expires) {
    std::string text = stsResponse("AssumeRoleWithWebIdentity");
    text.replace(text.find("ASIAROLEKEY"), 11, key);
    text.replace(text.find("2030-01-01T00:00:00Z"), 20, formatIso8601(expires));
    transport->push(200, text);
  };
  ClientConfig config = stsConfig(transport);
  config.clock = [&] { return now; };
  WebIdentitySettings fromFile;
  fromFile.roleArn = "arn:aws:iam::1:role/r";
  fromFile.tokenFile = file;
  fromFile.sessionName = "s1";
  auto fileProvider = std::make_shared<WebIdentityCredentialsProvider>(fromFile, config);
  CachingCredentialsProvider cache(fileProvider, [&] { return now; });
  sts("ASIAONE", now + 1h);
  CHECK(cache.resolve().accessKeyId == "ASIAONE");
  dir.write("token", "second.jwt\n");  // the token rotates on disk
  now += 50min;
  CHECK(cache.resolve().accessKeyId == "ASIAONE");  // still 10 minutes left
  sts("ASIATWO", now + 1h + 6min);
  now += 6min;  // 4 minutes left: renewed, with the file read again
  CHECK(cache.resolve().accessKeyId == "ASIATWO");
  REQUIRE(transport->requests.size() == 2);
  CHECK(formParams(transport->requests[0].body).at("WebIdentityToken") == "first.jwt");
  CHECK(formParams(transport->requests[1].body).at("WebIdentityToken") == "second.jwt");

  // GitHub Actions: a new OIDC token for each session.
  transport->requests.clear();
  WebIdentitySettings gh;
  gh.roleArn = "arn:aws:iam::1:role/r";
  gh.sessionName = "s2";
  gh.githubRequestUrl = "http://127.0.0.1:9/token";
  gh.githubRequestToken = "rt";
  CachingCredentialsProvider ghCache(std::make_shared<WebIdentityCredentialsProvider>(gh, config), [&] { return now; });
  for (int i = 1; i <= 3; ++i) {
    transport->push(200, R"({"value":"gh.jwt.)" + std::to_string(i) + R"("})");
    sts("ASIAGH" + std::to_string(i), now + 1h);
    CHECK(ghCache.resolve().accessKeyId == "ASIAGH" + std::to_string(i));
    now += 56min;
  }
  REQUIRE(transport->requests.size() == 6);
  CHECK(transport->requests[0].url() == "http://127.0.0.1:9/token?audience=sts.amazonaws.com");
  for (int i = 0; i < 3; ++i) {
    CHECK(formParams(transport->requests[2 * i + 1].body).at("WebIdentityToken") == "gh.jwt." + std::to_string(i + 1));
  }
}

TEST_CASE("web identity from a profile", "[config][credentials]") {
  TempDir dir;
  const std::string tokenFile = dir.write("token", "tok");
  const auto shared = SharedConfig::fromStrings(
      "[profile oidc]\nrole_arn = arn:aws:iam::1:role/oidc\nweb_identity_token_file = " + tokenFile + "\n", "");
  auto transport = std::make_shared<FakeTransport>();
  transport->push(200, stsResponse("AssumeRoleWithWebIdentity"));
  ProfileCredentialsProvider provider("oidc", shared, stsConfig(transport), true);
  CHECK(provider.resolve().accessKeyId == "ASIAROLEKEY");
  CHECK(formParams(transport->requests.at(0).body).at("WebIdentityToken") == "tok");
}

namespace {

/// Counts calls and returns credentials expiring at a set time.
class CountingProvider final : public CredentialsProvider {
 public:
  std::optional<Credentials> tryResolve() override {
    ++calls;
    if (fail) throw CredentialsError("refresh failed");
    Credentials c;
    c.accessKeyId = "AKID" + std::to_string(calls);
    c.secretAccessKey = "s";
    c.expiration = expiration;
    return c;
  }
  std::string name() const override { return "counting"; }
  int calls = 0;
  bool fail = false;
  std::chrono::system_clock::time_point expiration;
};

}  // namespace

TEST_CASE("cached credentials are refreshed 5 minutes before they expire", "[config][credentials]") {
  using namespace std::chrono_literals;
  auto inner = std::make_shared<CountingProvider>();
  std::chrono::system_clock::time_point now{std::chrono::seconds(1'000'000)};
  inner->expiration = now + 1h;
  CachingCredentialsProvider cache(inner, [&] { return now; });

  CHECK(cache.resolve().accessKeyId == "AKID1");
  now += 54min;
  CHECK(cache.resolve().accessKeyId == "AKID1");
  now += 2min;  // within 5 minutes of expiry
  inner->expiration = now + 1h;
  CHECK(cache.resolve().accessKeyId == "AKID2");
  CHECK(inner->calls == 2);

  // A failed refresh keeps serving credentials that have not expired yet...
  now += 56min;
  inner->fail = true;
  CHECK(cache.resolve().accessKeyId == "AKID2");
  // ...but not expired ones.
  now += 10min;
  CHECK_THROWS_AS(cache.resolve(), CredentialsError);
}
