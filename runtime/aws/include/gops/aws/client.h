#pragma once

// AwsClient: signed, retried calls to the services of services.h.
//
//   auto config = gops::aws::resolveClientConfig({.defaultRegion = "eu-west-1"});
//   gops::aws::AwsClient aws(config);
//   auto p = aws.callJson("ssm", "GetParameter", {{"Name", "/app/version"}});
//   auto who = aws.callQuery("sts", "GetCallerIdentity");
//   std::string account = who.result().childTextOr("Account", "");
//
// Errors: AwsError for an AWS error response (after retries), TransportError when no
// response could be obtained, CredentialsError, ConfigError, ResponseError for a
// malformed success response.
//
// The header declares nlohmann::json only (json_fwd.hpp): code that builds a request
// or reads a response includes <nlohmann/json.hpp>.

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>  // code that reads or builds the JSON includes json.hpp

#include "gops/aws/config.h"
#include "gops/aws/encoding.h"
#include "gops/aws/http.h"
#include "gops/aws/services.h"
#include "gops/aws/xml.h"

namespace gops::aws {

class RetryQuota;

class AwsClient {
 public:
  explicit AwsClient(ClientConfig config);
  ~AwsClient();
  AwsClient(AwsClient&&) noexcept;
  AwsClient& operator=(AwsClient&&) noexcept;
  AwsClient(const AwsClient&) = delete;
  AwsClient& operator=(const AwsClient&) = delete;

  /// A JSON-protocol call: POST / with `X-Amz-Target: <targetPrefix>.<operation>` and
  /// `Content-Type: application/x-amz-json-<version>`. Returns the parsed response body
  /// ({} for an empty body). `service` is a key of services.h ("ssm", "ecs", ...).
  nlohmann::json callJson(std::string_view service, std::string_view operation,
                          const nlohmann::json& input);
  /// The same with the input `{}`. (An overload rather than a default argument, which
  /// would need the complete json type in this header.)
  nlohmann::json callJson(std::string_view service, std::string_view operation);

  /// A query-protocol call: POST / with the form body Action=<action>&Version=<api
  /// version>&<params>. Returns the parsed XML response.
  XmlDocument callQuery(std::string_view service, std::string_view action,
                        const QueryParams& params = {});

  /// The lowest level: signs (once per attempt), sends and retries `request`, which must
  /// be complete but for the signature headers. Returns the 2xx response; throws
  /// AwsError (parsed according to the service's protocol) or TransportError.
  /// `operation` is only used for logs and errors.
  HttpResponse send(const ServiceInfo& service, std::string_view operation, HttpRequest request);

  /// The endpoint URL used for `service`.
  std::string endpoint(std::string_view service) const;

  const ClientConfig& config() const noexcept { return config_; }
  /// Tokens left in the retry quota.
  int retryQuotaAvailable() const;

 private:
  HttpRequest baseRequest(const ServiceInfo& service) const;

  ClientConfig config_;
  std::unique_ptr<RetryQuota> quota_;
};

/// The value a debug log shows for header `name`: "<redacted>" for Authorization,
/// X-Amz-Security-Token, Cookie and Set-Cookie, the value itself otherwise.
std::string redactHeaderValue(std::string_view name, std::string_view value);

}  // namespace gops::aws
