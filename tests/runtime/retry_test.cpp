// The standard retry mode: backoff bounds, the retry quota, and the client's retry loop
// with an injected sleep and random source (no test ever waits).

#include "gops/aws/retry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gops/aws/client.h"
#include "gops/aws/credential_providers.h"
#include "gops/aws/error.h"
#include "test_support.h"

using namespace gops::aws;
using namespace std::chrono_literals;
using gops::aws::test::FakeTransport;

namespace {

struct Harness {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::vector<std::chrono::milliseconds> sleeps;
  double randomValue = 0.5;
  ClientConfig config;

  Harness() {
    config.region = "us-east-1";
    config.env = Environment::fromMap({});
    config.transport = transport;
    Credentials c;
    c.accessKeyId = "AKIDEXAMPLE";
    c.secretAccessKey = "secret";
    config.credentials = std::make_shared<StaticCredentialsProvider>(c);
    config.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    config.random = [this] { return randomValue; };
    config.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'440'938'160)); };
  }
};

const char* kThrottled = R"({"__type":"ThrottlingException","message":"Rate exceeded"})";

}  // namespace

TEST_CASE("backoff is full jitter under an exponential ceiling", "[retry]") {
  const RetryConfig config;  // base 1 s, cap 20 s
  CHECK(backoffDelay(1, 0.0, config) == 0ms);
  CHECK(backoffDelay(1, 0.5, config) == 500ms);
  CHECK(backoffDelay(2, 0.5, config) == 1000ms);
  CHECK(backoffDelay(3, 0.5, config) == 2000ms);
  CHECK(backoffDelay(5, 1.0, config) == 16000ms);
  CHECK(backoffDelay(6, 1.0, config) == 20000ms);     // capped
  CHECK(backoffDelay(100, 1.0, config) == 20000ms);   // no overflow
  CHECK(backoffDelay(1, 7.0, config) == 1000ms);      // random clamped to [0, 1]
  CHECK(backoffDelay(1, -1.0, config) == 0ms);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    for (double r : {0.0, 0.1, 0.37, 0.99, 0.999999}) {
      const auto d = backoffDelay(attempt, r, config);
      CHECK(d >= 0ms);
      CHECK(d <= config.maxBackoff);
      CHECK(d.count() <= (1000LL << std::min(attempt - 1, 20)));
    }
  }
  RetryConfig fast;
  fast.baseDelay = 100ms;
  fast.maxBackoff = 1000ms;
  CHECK(backoffDelay(3, 1.0, fast) == 400ms);
  CHECK(backoffDelay(9, 1.0, fast) == 1000ms);
}

TEST_CASE("retry quota", "[retry]") {
  RetryConfig config;
  config.quotaCapacity = 12;
  RetryQuota quota(config);
  int taken = 0;
  CHECK(quota.acquire(RetryKind::Throttling, taken));
  CHECK(taken == 5);
  CHECK(quota.available() == 7);
  CHECK(quota.acquire(RetryKind::Transient, taken));
  CHECK(quota.available() == 2);
  CHECK_FALSE(quota.acquire(RetryKind::Timeout, taken));
  CHECK(taken == 0);
  CHECK(quota.available() == 2);
  quota.release(5);
  CHECK(quota.available() == 7);
  quota.release(0);  // success without retry: +1
  CHECK(quota.available() == 8);
  quota.release(10);
  CHECK(quota.available() == 12);  // capped at capacity

  RetryConfig off;
  off.useRetryQuota = false;
  off.quotaCapacity = 0;
  RetryQuota unlimited(off);
  CHECK(unlimited.acquire(RetryKind::Timeout, taken));
  CHECK(taken == 0);
}

TEST_CASE("client retries throttling and transient errors, then succeeds", "[retry]") {
  Harness h;
  h.transport->push(400, kThrottled);
  h.transport->pushError(TransportError::Kind::Connect);
  h.transport->push(200, R"({"Parameter":{"Value":"v"}})");
  AwsClient client(h.config);
  const auto result = client.callJson("ssm", "GetParameter", {{"Name", "p"}});
  CHECK(result["Parameter"]["Value"] == "v");
  CHECK(h.transport->requests.size() == 3);
  REQUIRE(h.sleeps.size() == 2);
  CHECK(h.sleeps[0] == 500ms);   // 0.5 * 1 s
  CHECK(h.sleeps[1] == 1000ms);  // 0.5 * 2 s
  CHECK(client.retryQuotaAvailable() == 500 - 5 - 5 + 5);
}

TEST_CASE("client gives up after maxAttempts with the last error", "[retry]") {
  Harness h;
  for (int i = 0; i < 3; ++i) h.transport->push(503, "");
  AwsClient client(h.config);
  try {
    client.callJson("ecs", "DescribeServices", {});
    FAIL("expected AwsError");
  } catch (const AwsError& e) {
    CHECK(e.httpStatus() == 503);
    CHECK(e.isTransient());
    CHECK(e.service() == "ecs");
    CHECK(e.operation() == "DescribeServices");
  }
  CHECK(h.transport->requests.size() == 3);
  CHECK(h.sleeps.size() == 2);
}

TEST_CASE("maxAttempts is configurable", "[retry]") {
  Harness h;
  h.config.retry.maxAttempts = 5;
  for (int i = 0; i < 5; ++i) h.transport->push(429, "{}");
  AwsClient client(h.config);
  CHECK_THROWS_AS(client.callJson("logs", "DescribeLogGroups"), AwsError);
  CHECK(h.transport->requests.size() == 5);
  CHECK(h.sleeps.size() == 4);

  Harness once;
  once.config.retry.maxAttempts = 1;
  once.transport->push(400, kThrottled);
  AwsClient single(once.config);
  CHECK_THROWS_AS(single.callJson("ssm", "GetParameter"), AwsError);
  CHECK(once.transport->requests.size() == 1);
  CHECK(once.sleeps.empty());
}

TEST_CASE("non-retryable errors fail at once", "[retry]") {
  Harness h;
  h.transport->push(400, R"({"__type":"ValidationException","message":"bad"})");
  AwsClient client(h.config);
  CHECK_THROWS_AS(client.callJson("ssm", "PutParameter"), AwsError);
  CHECK(h.transport->requests.size() == 1);
  CHECK(h.sleeps.empty());

  Harness tls;
  tls.transport->pushError(TransportError::Kind::Tls, "certificate verify failed");
  AwsClient tlsClient(tls.config);
  CHECK_THROWS_AS(tlsClient.callJson("ssm", "PutParameter"), TransportError);
  CHECK(tls.transport->requests.size() == 1);
}

TEST_CASE("timeouts are retried and cost more quota", "[retry]") {
  Harness h;
  h.config.retry.quotaCapacity = 10;
  h.config.retry.maxAttempts = 10;
  h.transport->pushError(TransportError::Kind::Timeout);
  h.transport->pushError(TransportError::Kind::Timeout);
  AwsClient client(h.config);
  CHECK_THROWS_AS(client.callQuery("sts", "GetCallerIdentity"), TransportError);
  // The first timeout takes the whole quota (10), so the second is not retried.
  CHECK(h.transport->requests.size() == 2);
  CHECK(client.retryQuotaAvailable() == 0);
}

TEST_CASE("every attempt is signed anew", "[retry]") {
  Harness h;
  int tick = 0;
  h.config.clock = [&tick] {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'440'938'160 + 10 * tick++));
  };
  h.transport->push(500, "");
  h.transport->push(200, "{}");
  AwsClient client(h.config);
  client.callJson("monitoring", "DescribeAlarms");
  REQUIRE(h.transport->requests.size() == 2);
  const auto& first = h.transport->requests[0].headers;
  const auto& second = h.transport->requests[1].headers;
  CHECK(*findHeader(first, "X-Amz-Date") == "20150830T123600Z");
  CHECK(*findHeader(second, "X-Amz-Date") == "20150830T123610Z");
  CHECK(*findHeader(first, "Authorization") != *findHeader(second, "Authorization"));
}
