#include "gops/aws/error.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "gops/aws/xml.h"

namespace gops::aws {

namespace {

std::string describeKind(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::Connect: return "connection failed";
    case TransportError::Kind::Timeout: return "timed out";
    case TransportError::Kind::Io: return "connection broken";
    case TransportError::Kind::Tls: return "TLS failure";
    case TransportError::Kind::Other: break;
  }
  return "transport failure";
}

std::string describe(const AwsErrorInfo& info) {
  std::string out = info.service;
  if (!info.operation.empty()) out += " " + info.operation;
  out += ": " + info.code;
  if (!info.message.empty()) out += ": " + info.message;
  out += " (HTTP " + std::to_string(info.httpStatus);
  if (!info.requestId.empty()) out += ", request id " + info.requestId;
  out += ")";
  return out;
}

std::string reasonPhrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return {};
  }
}

std::string headerOr(const HttpResponse& response, std::string_view name) {
  const std::string* value = findHeader(response.headers, name);
  return value != nullptr ? *value : std::string();
}

std::string requestIdFromHeaders(const HttpResponse& response) {
  for (const char* name : {"x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"}) {
    if (const std::string* value = findHeader(response.headers, name)) return *value;
  }
  return {};
}

/// The fallback when the body says nothing: the status as the code, like botocore.
void fillFromStatus(AwsErrorInfo& info, int status) {
  if (info.code.empty()) info.code = std::to_string(status);
  if (info.message.empty()) info.message = reasonPhrase(status);
}

/// The first element called `name` anywhere below `element` (depth first), or nullptr.
const XmlElement* findDeep(const XmlElement& element, std::string_view name) {
  for (const XmlElement& child : element.children()) {
    if (child.name() == name) return &child;
    if (const XmlElement* found = findDeep(child, name)) return found;
  }
  return nullptr;
}

}  // namespace

TransportError::TransportError(Kind kind, const std::string& detail)
    : Error(describeKind(kind) + ": " + detail), kind_(kind) {}

bool TransportError::isTransient() const noexcept {
  return kind_ == Kind::Connect || kind_ == Kind::Timeout || kind_ == Kind::Io;
}

AwsError::AwsError(AwsErrorInfo info) : Error(describe(info)), info_(std::move(info)) {}

bool AwsError::isThrottling() const noexcept {
  return info_.httpStatus == 429 || isThrottlingCode(info_.code);
}

bool AwsError::isTransient() const noexcept {
  return isTransientStatus(info_.httpStatus) || isTransientCode(info_.code);
}

bool isThrottlingCode(std::string_view code) noexcept {
  static constexpr std::array<std::string_view, 14> codes = {
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestThrottledException",
      "TooManyRequestsException",
      "ProvisionedThroughputExceededException",
      "TransactionInProgressException",
      "RequestLimitExceeded",
      "BandwidthLimitExceeded",
      "LimitExceededException",
      "RequestThrottled",
      "SlowDown",
      "PriorRequestNotComplete",
      "EC2ThrottledException",
  };
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

bool isTransientCode(std::string_view code) noexcept {
  static constexpr std::array<std::string_view, 7> codes = {
      "RequestTimeout",  "RequestTimeoutException", "PriorRequestNotComplete",
      "InternalError",   "InternalFailure",         "InternalServerError",
      "ServiceUnavailable",
  };
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

bool isTransientStatus(int status) noexcept {
  return status == 500 || status == 502 || status == 503 || status == 504;
}

std::string sanitizeErrorCode(std::string_view raw) {
  std::string_view code = raw;
  if (const auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  if (const auto hash = code.rfind('#'); hash != std::string_view::npos) code = code.substr(hash + 1);
  while (!code.empty() && (code.front() == ' ' || code.front() == '\t')) code.remove_prefix(1);
  while (!code.empty() && (code.back() == ' ' || code.back() == '\t')) code.remove_suffix(1);
  return std::string(code);
}

AwsErrorInfo parseJsonError(const HttpResponse& response) {
  AwsErrorInfo info;
  info.httpStatus = response.status;
  info.requestId = requestIdFromHeaders(response);

  // awsQueryCompatible services (CloudWatch) put the query-protocol code in a header.
  if (const std::string queryError = headerOr(response, "x-amzn-query-error"); !queryError.empty()) {
    info.code = sanitizeErrorCode(queryError.substr(0, queryError.find(';')));
  }

  const auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    auto text = [&](std::initializer_list<const char*> keys) -> std::string {
      for (const char* key : keys) {
        const auto it = body.find(key);
        if (it != body.end() && it->is_string()) return it->get<std::string>();
      }
      return {};
    };
    if (info.code.empty()) info.code = sanitizeErrorCode(text({"__type", "code", "Code"}));
    info.message = text({"message", "Message", "errorMessage"});
  }
  if (info.code.empty()) info.code = sanitizeErrorCode(headerOr(response, "x-amzn-errortype"));
  fillFromStatus(info, response.status);
  return info;
}

AwsErrorInfo parseXmlError(const HttpResponse& response) {
  AwsErrorInfo info;
  info.httpStatus = response.status;
  info.requestId = requestIdFromHeaders(response);
  if (!response.body.empty()) {
    try {
      const XmlDocument doc = XmlDocument::parse(response.body);
      const XmlElement& root = doc.root();
      const XmlElement* error = root.name() == "Error" ? &root : findDeep(root, "Error");
      if (error != nullptr) {
        info.code = sanitizeErrorCode(error->childTextOr("Code", ""));
        info.message = error->childTextOr("Message", "");
      }
      if (const XmlElement* id = findDeep(root, "RequestId"); id != nullptr && !id->text().empty()) {
        info.requestId = id->text();
      } else if (const XmlElement* upper = findDeep(root, "RequestID"); upper != nullptr) {
        info.requestId = upper->text();
      }
    } catch (const ResponseError&) {
      // Not XML (an HTML page from a proxy...): fall back to the status.
    }
  }
  fillFromStatus(info, response.status);
  return info;
}

}  // namespace gops::aws
