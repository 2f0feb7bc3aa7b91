// Parsing of AWS error responses (JSON and XML shapes) and their classification.

#include "gops/aws/error.h"

#include <catch2/catch.hpp>

using namespace gops::aws;

namespace {

HttpResponse response(int status, std::string body, Headers headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

}  // namespace

TEST_CASE("JSON error shapes", "[errors]") {
  SECTION("__type with a namespace and lower-case message") {
    const auto info = parseJsonError(response(
        400, R"({"__type":"com.amazon.coral.service#ThrottlingException","message":"Rate exceeded"})",
        {{"x-amzn-requestid", "req-1"}}));
    CHECK(info.code == "ThrottlingException");
    CHECK(info.message == "Rate exceeded");
    CHECK(info.requestId == "req-1");
    CHECK(info.httpStatus == 400);
    CHECK(AwsError(info).isThrottling());
  }
  SECTION("plain __type and capitalised Message") {
    const auto info =
        parseJsonError(response(400, R"({"__type":"ParameterNotFound","Message":"no such parameter"})"));
    CHECK(info.code == "ParameterNotFound");
    CHECK(info.message == "no such parameter");
    const AwsError error(info);
    CHECK_FALSE(error.isThrottling());
    CHECK_FALSE(error.isTransient());
    CHECK_FALSE(error.isRetryable());
  }
  SECTION("code from the x-amzn-ErrorType header with a URL suffix") {
    const auto info = parseJsonError(response(
        400, "{}", {{"x-amzn-errortype", "ResourceNotFoundException:http://internal.amazon.com/coral/"}}));
    CHECK(info.code == "ResourceNotFoundException");
  }
  SECTION("query-compatible services put the code in x-amzn-query-error") {
    const auto info = parseJsonError(
        response(400, R"({"__type":"com.amazonaws.cloudwatch#LimitExceededFault","message":"slow down"})",
                 {{"x-amzn-query-error", "Throttling;Sender"}}));
    CHECK(info.code == "Throttling");
    CHECK(info.message == "slow down");
  }
  SECTION("a body that is not JSON falls back to the status") {
    const auto info = parseJsonError(response(503, "<html>oops</html>"));
    CHECK(info.code == "503");
    CHECK(info.message == "Service Unavailable");
    CHECK(AwsError(info).isTransient());
  }
}

TEST_CASE("XML error shapes", "[errors]") {
  SECTION("ErrorResponse of the query protocol") {
    const auto info = parseXmlError(response(400, R"(<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <Error>
    <Type>Sender</Type>
    <Code>LoadBalancerNotFound</Code>
    <Message>One or more load balancers not found &amp; more</Message>
  </Error>
  <RequestId>9f6e4c0a-0000-4c1e-9d6e-1a2b3c4d5e6f</RequestId>
</ErrorResponse>)"));
    CHECK(info.code == "LoadBalancerNotFound");
    CHECK(info.message == "One or more load balancers not found & more");
    CHECK(info.requestId == "9f6e4c0a-0000-4c1e-9d6e-1a2b3c4d5e6f");
  }
  SECTION("STS throttling") {
    const auto info = parseXmlError(response(
        400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
             "</Error><RequestId>r</RequestId></ErrorResponse>"));
    const AwsError error(info);
    CHECK(error.code() == "Throttling");
    CHECK(error.isThrottling());
    CHECK(error.isRetryable());
  }
  SECTION("EC2 shape") {
    const auto info = parseXmlError(response(
        503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>m</Message></Error></Errors>"
             "<RequestID>abc</RequestID></Response>"));
    CHECK(info.code == "RequestLimitExceeded");
    CHECK(info.requestId == "abc");
  }
  SECTION("malformed XML falls back to the status") {
    const auto info = parseXmlError(response(502, "<ErrorResponse><Error>"));
    CHECK(info.code == "502");
    CHECK(AwsError(info).isTransient());
  }
  SECTION("empty body with 429") {
    const auto info = parseXmlError(response(429, ""));
    CHECK(AwsError(info).isThrottling());
  }
}

TEST_CASE("AwsError accessors and message", "[errors]") {
  const AwsError error(AwsErrorInfo{"ssm", "GetParameter", "ParameterNotFound", "not found", 400, "rid"});
  CHECK(error.service() == "ssm");
  CHECK(error.operation() == "GetParameter");
  CHECK(error.code() == "ParameterNotFound");
  CHECK(error.message() == "not found");
  CHECK(error.httpStatus() == 400);
  CHECK(error.requestId() == "rid");
  CHECK(std::string(error.what()) == "ssm GetParameter: ParameterNotFound: not found (HTTP 400, request id rid)");
}

TEST_CASE("retryable codes and statuses", "[errors]") {
  for (const char* code : {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                           "TooManyRequestsException", "ProvisionedThroughputExceededException",
                           "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
                           "RequestThrottled", "SlowDown", "EC2ThrottledException"}) {
    INFO(code);
    CHECK(isThrottlingCode(code));
  }
  CHECK_FALSE(isThrottlingCode("AccessDenied"));
  CHECK_FALSE(isThrottlingCode("throttling"));  // codes are case-sensitive
  CHECK(isTransientCode("RequestTimeout"));
  CHECK(isTransientCode("InternalFailure"));
  CHECK_FALSE(isTransientCode("ValidationException"));
  for (int status : {500, 502, 503, 504}) CHECK(isTransientStatus(status));
  for (int status : {400, 403, 404, 501}) CHECK_FALSE(isTransientStatus(status));

  CHECK(TransportError(TransportError::Kind::Connect, "x").isTransient());
  CHECK(TransportError(TransportError::Kind::Timeout, "x").isTransient());
  CHECK(TransportError(TransportError::Kind::Io, "x").isTransient());
  CHECK_FALSE(TransportError(TransportError::Kind::Tls, "x").isTransient());
  CHECK_FALSE(TransportError(TransportError::Kind::Other, "x").isTransient());
}
