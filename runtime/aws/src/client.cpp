#include "gops/aws/client.h"

#include <chrono>
#include <exception>
#include <mutex>
#include <ostream>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gops/aws/credentials.h"
#include "gops/aws/error.h"
#include "gops/aws/retry.h"
#include "gops/aws/sigv4.h"

namespace gops::aws {

namespace {

/// Query parameters that carry secrets in presigned URLs.
bool isSecretQueryParam(std::string_view name) {
  return iequals(name, "X-Amz-Signature") || iequals(name, "X-Amz-Security-Token") ||
         iequals(name, "X-Amz-Credential");
}

/// The URL with secret query parameters redacted.
std::string redactUrl(const HttpRequest& request) {
  std::string out = request.scheme + "://" + request.host + request.path;
  if (request.query.empty()) return out;
  out.push_back('?');
  std::size_t start = 0;
  bool first = true;
  while (start <= request.query.size()) {
    const auto amp = request.query.find('&', start);
    const std::string_view item = std::string_view(request.query).substr(
        start, amp == std::string::npos ? std::string::npos : amp - start);
    const auto eq = item.find('=');
    if (!first) out.push_back('&');
    first = false;
    if (eq != std::string_view::npos && isSecretQueryParam(item.substr(0, eq))) {
      out += std::string(item.substr(0, eq)) + "=<redacted>";
    } else {
      out += std::string(item);
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

std::string trimmed(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

RandomFn defaultRandom() {
  struct State {
    std::mutex mutex;
    std::mt19937_64 engine{std::random_device{}()};
  };
  auto state = std::make_shared<State>();
  return [state] {
    const std::lock_guard lock(state->mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(state->engine);
  };
}

}  // namespace

std::string redactHeaderValue(std::string_view name, std::string_view value) {
  if (iequals(name, "Authorization") || iequals(name, "X-Amz-Security-Token") ||
      iequals(name, "Cookie") || iequals(name, "Set-Cookie")) {
    return "<redacted>";
  }
  return std::string(value);
}

AwsClient::AwsClient(ClientConfig config)
    : config_(std::move(config)), quota_(std::make_unique<RetryQuota>(config_.retry)) {
  if (!config_.transport) config_.transport = makeCurlTransport(config_.http);
  if (!config_.clock) config_.clock = [] { return std::chrono::system_clock::now(); };
  if (!config_.sleep) config_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!config_.random) config_.random = defaultRandom();
}

AwsClient::~AwsClient() = default;
AwsClient::AwsClient(AwsClient&&) noexcept = default;
AwsClient& AwsClient::operator=(AwsClient&&) noexcept = default;

int AwsClient::retryQuotaAvailable() const { return quota_->available(); }

std::string AwsClient::endpoint(std::string_view service) const {
  return resolveEndpoint(serviceInfo(service), config_.region, config_.env, config_.endpointOverrides).url;
}

HttpRequest AwsClient::baseRequest(const ServiceInfo& service) const {
  const Endpoint endpoint =
      resolveEndpoint(service, config_.region, config_.env, config_.endpointOverrides);
  const ParsedUrl url = parseUrl(endpoint.url);
  HttpRequest request;
  request.method = "POST";
  request.scheme = url.scheme;
  request.host = url.host;
  // Both protocols POST to "/", which is appended to any path of the endpoint.
  request.path = url.path.ends_with('/') ? url.path : url.path + "/";
  request.headers.emplace_back("Host", url.host);
  return request;
}

nlohmann::json AwsClient::callJson(std::string_view service, std::string_view operation,
                                   const nlohmann::json& input) {
  const ServiceInfo& info = serviceInfo(service);
  if (info.protocol != Protocol::Json) {
    throw ConfigError(fmt::format("{} is not a JSON-protocol service: use callQuery", info.key));
  }
  HttpRequest request = baseRequest(info);
  request.headers.emplace_back("Content-Type", fmt::format("application/x-amz-json-{}", info.jsonVersion));
  request.headers.emplace_back("X-Amz-Target", fmt::format("{}.{}", info.targetPrefix, operation));
  try {
    request.body = input.is_null() ? std::string("{}") : input.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{} {}: cannot encode the request: {}", info.key, operation, e.what()));
  }
  const HttpResponse response = send(info, operation, std::move(request));
  if (trimmed(response.body).empty()) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    throw ResponseError(fmt::format("{} {}: the response is not valid JSON", info.key, operation));
  }
  return parsed;
}

nlohmann::json AwsClient::callJson(std::string_view service, std::string_view operation) {
  return callJson(service, operation, nlohmann::json::object());
}

XmlDocument AwsClient::callQuery(std::string_view service, std::string_view action,
                                 const QueryParams& params) {
  const ServiceInfo& info = serviceInfo(service);
  if (info.protocol != Protocol::Query) {
    throw ConfigError(fmt::format("{} is not a query-protocol service: use callJson", info.key));
  }
  QueryParams all = params;
  all["Action"] = std::string(action);
  all["Version"] = std::string(info.apiVersion);
  HttpRequest request = baseRequest(info);
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  request.body = formEncode(all);
  const HttpResponse response = send(info, action, std::move(request));
  try {
    return XmlDocument::parse(response.body);
  } catch (const ResponseError& e) {
    throw ResponseError(fmt::format("{} {}: {}", info.key, action, e.what()));
  }
}

HttpResponse AwsClient::send(const ServiceInfo& service, std::string_view operation, HttpRequest request) {
  const int maxAttempts = std::max(1, config_.retry.maxAttempts);
  std::ostream* log = config_.debugLog;
  std::string what = fmt::format("action={}", operation);
  if (const std::string* target = findHeader(request.headers, "X-Amz-Target")) what = "target=" + *target;

  std::optional<Credentials> credentials;
  if (config_.credentials) credentials = config_.credentials->resolve();
  const std::string signingRegion = config_.region.empty() ? std::string("us-east-1") : config_.region;

  int lastRetryCost = 0;
  for (int attempt = 1;; ++attempt) {
    HttpRequest wire = request;
    if (credentials) {
      signRequest(wire, *credentials,
                  SigningParams{signingRegion, std::string(service.signingName), config_.clock(), false});
    }

    const auto started = std::chrono::steady_clock::now();
    std::exception_ptr failure;
    RetryKind kind = RetryKind::None;
    std::string outcome;
    HttpResponse response;
    try {
      response = config_.transport->send(wire);
    } catch (const TransportError& e) {
      failure = std::current_exception();
      if (e.isTransient()) {
        kind = e.kind() == TransportError::Kind::Timeout ? RetryKind::Timeout : RetryKind::Transient;
      }
      outcome = e.kind() == TransportError::Kind::Timeout ? "timeout" : "transport error";
    }
    const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);

    std::string requestId;
    if (!failure) {
      for (const char* name : {"x-amzn-requestid", "x-amz-request-id"}) {
        if (const std::string* id = findHeader(response.headers, name)) {
          requestId = *id;
          break;
        }
      }
      if (response.status >= 200 && response.status < 300) {
        outcome = std::to_string(response.status);
      } else {
        AwsErrorInfo info = service.protocol == Protocol::Json ? parseJsonError(response)
                                                                : parseXmlError(response);
        info.service = std::string(service.key);
        info.operation = std::string(operation);
        if (requestId.empty()) requestId = info.requestId;
        const AwsError error(std::move(info));
        kind = error.isThrottling() ? RetryKind::Throttling
               : error.isTransient() ? RetryKind::Transient
                                     : RetryKind::None;
        outcome = fmt::format("{} {}", error.httpStatus(), error.code());
        failure = std::make_exception_ptr(error);
      }
    }

    if (log != nullptr) {
      *log << fmt::format("[aws] {} {}: {} {} {} attempt {}/{} -> {} in {} ms", service.key, operation,
                          wire.method, redactUrl(wire), what, attempt, maxAttempts, outcome,
                          latency.count());
      if (!requestId.empty()) *log << " request-id=" << requestId;
      *log << '\n';
      *log << "[aws]   request headers:";
      for (const auto& [name, value] : wire.headers) {
        *log << ' ' << name << '=' << redactHeaderValue(name, value) << ';';
      }
      *log << '\n';
    }

    if (!failure) {
      quota_->release(lastRetryCost);
      return response;
    }
    if (kind == RetryKind::None || attempt >= maxAttempts) std::rethrow_exception(failure);
    int taken = 0;
    if (!quota_->acquire(kind, taken)) {
      if (log != nullptr) *log << "[aws]   retry quota exhausted, not retrying\n";
      std::rethrow_exception(failure);
    }
    lastRetryCost = taken;
    const auto delay = backoffDelay(attempt, config_.random(), config_.retry);
    if (log != nullptr) {
      *log << fmt::format("[aws]   retrying in {} ms (retry quota left {})\n", delay.count(),
                          quota_->available());
    }
    config_.sleep(delay);
  }
}

}  // namespace gops::aws
