#pragma once

// The exceptions of the AWS client library, and the parsers that turn AWS error
// responses (JSON and XML shapes) into AwsError.

#include <stdexcept>
#include <string>
#include <string_view>

#include "gops/aws/http.h"

namespace gops::aws {

/// Base of every exception thrown by this library.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad or missing configuration: unknown service, no region, malformed shared config
/// file, unusable endpoint URL...
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// No credentials were found, or a credential source exists but could not produce
/// credentials (unreadable token file, failed AssumeRole...).
class CredentialsError : public Error {
 public:
  using Error::Error;
};

/// A response body that does not have the expected shape (invalid JSON or XML).
class ResponseError : public Error {
 public:
  using Error::Error;
};

/// No HTTP response was obtained: DNS, connection, TLS or timeout failure.
class TransportError : public Error {
 public:
  enum class Kind {
    Connect,  ///< name resolution or TCP connection failed
    Timeout,  ///< connect, read or total timeout
    Io,       ///< connection broke while sending or receiving
    Tls,      ///< certificate or TLS handshake failure (never retried)
    Other,    ///< anything else (never retried)
  };
  TransportError(Kind kind, const std::string& detail);
  Kind kind() const noexcept { return kind_; }
  /// Connect, Timeout and Io failures are worth retrying.
  bool isTransient() const noexcept;

 private:
  Kind kind_;
};

/// What identifies an AWS error response.
struct AwsErrorInfo {
  std::string service;    ///< our service key, e.g. "ssm"
  std::string operation;  ///< e.g. "GetParameter"
  std::string code;       ///< the service's error code, e.g. "ParameterNotFound"
  std::string message;    ///< the service's message; may be empty
  int httpStatus = 0;
  std::string requestId;  ///< may be empty
};

/// An error response from an AWS service. what() reads
/// "<service> <operation>: <code>: <message> (HTTP <status>, request id <id>)".
class AwsError : public Error {
 public:
  explicit AwsError(AwsErrorInfo info);

  const std::string& code() const noexcept { return info_.code; }
  const std::string& message() const noexcept { return info_.message; }
  int httpStatus() const noexcept { return info_.httpStatus; }
  const std::string& requestId() const noexcept { return info_.requestId; }
  const std::string& service() const noexcept { return info_.service; }
  const std::string& operation() const noexcept { return info_.operation; }
  const AwsErrorInfo& info() const noexcept { return info_; }

  /// A throttling code (see isThrottlingCode) or HTTP 429.
  bool isThrottling() const noexcept;
  /// A transient code (see isTransientCode) or HTTP 500/502/503/504.
  bool isTransient() const noexcept;
  /// isThrottling() || isTransient(): what the standard retry mode retries.
  bool isRetryable() const noexcept { return isThrottling() || isTransient(); }

 private:
  AwsErrorInfo info_;
};

/// The throttling error codes of the AWS standard retry mode: Throttling,
/// ThrottlingException, ThrottledException, RequestThrottledException,
/// TooManyRequestsException, ProvisionedThroughputExceededException,
/// TransactionInProgressException, RequestLimitExceeded, BandwidthLimitExceeded,
/// LimitExceededException, RequestThrottled, SlowDown, PriorRequestNotComplete,
/// EC2ThrottledException.
bool isThrottlingCode(std::string_view code) noexcept;

/// The transient error codes of the standard retry mode: RequestTimeout,
/// RequestTimeoutException, PriorRequestNotComplete, plus InternalError,
/// InternalFailure, InternalServerError and ServiceUnavailable.
bool isTransientCode(std::string_view code) noexcept;

/// HTTP 500, 502, 503 and 504.
bool isTransientStatus(int status) noexcept;

/// Reduces "com.amazon.coral.service#ThrottlingException" or
/// "ThrottlingException:http://internal.amazon.com/..." to "ThrottlingException".
std::string sanitizeErrorCode(std::string_view raw);

/// Builds the error of a JSON-protocol response:
/// code from the `x-amzn-query-error` header ("Code;Sender"), else the body's `__type`
/// (or `code`/`Code`), else the `x-amzn-ErrorType` header, else the HTTP status;
/// message from `message`, `Message` or `errorMessage`; request id from the
/// `x-amzn-RequestId` (or `x-amz-request-id`) header. Never throws on a malformed body.
AwsErrorInfo parseJsonError(const HttpResponse& response);

/// Builds the error of a query-protocol response, whose body is
/// `<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>` (or the
/// EC2 shape `<Response><Errors><Error>...`), parsed with libxml2. Never throws on a
/// malformed body: it falls back to the HTTP status.
AwsErrorInfo parseXmlError(const HttpResponse& response);

}  // namespace gops::aws
