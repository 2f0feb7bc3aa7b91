#pragma once

// HTTP requests and responses as the AWS client sees them, and the transport that sends
// them. The production transport is libcurl (see makeCurlTransport); tests substitute
// their own HttpTransport.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gops::aws {

/// Header fields in the order they were added. Names keep their spelling; every lookup
/// is case-insensitive (ASCII).
using Headers = std::vector<std::pair<std::string, std::string>>;

/// The value of the first header called `name` (case-insensitive), or nullptr.
const std::string* findHeader(const Headers& headers, std::string_view name);

/// Replaces every header called `name` (case-insensitive) by one `name: value`, placed
/// where the first one was, or appended when there was none.
void setHeader(Headers& headers, std::string_view name, std::string value);

/// Removes every header called `name` (case-insensitive).
void removeHeader(Headers& headers, std::string_view name);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// ASCII lower-case copy.
std::string toLower(std::string_view s);

/// One HTTP request.
///
/// Invariant: `path` and `query` are exactly what goes on the wire (already
/// percent-encoded); SigV4 canonicalises them from that form.
struct HttpRequest {
  std::string method = "GET";
  std::string scheme = "https";
  /// The authority, `host` or `host:port`, exactly as it appears in the Host header.
  std::string host;
  /// Absolute path, starting with '/'.
  std::string path = "/";
  /// The query string without the leading '?'; empty for none.
  std::string query;
  Headers headers;
  std::string body;

  /// scheme://host/path[?query]
  std::string url() const;
};

/// One HTTP response. Header names are lower-cased by the transport.
struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

/// Timeouts and TLS settings of the curl transport.
struct HttpOptions {
  /// Time allowed to establish the TCP connection and the TLS session.
  std::chrono::milliseconds connectTimeout{10'000};
  /// Abort when no byte arrives for this long (curl's low-speed limit of 1 byte/s).
  std::chrono::milliseconds readTimeout{30'000};
  /// Upper bound for a whole request, connection included.
  std::chrono::milliseconds totalTimeout{120'000};
  /// PEM bundle of trusted CAs; empty uses the system default. Peer and host name are
  /// always verified: there is deliberately no switch to turn verification off.
  std::string caBundle;
  /// The User-Agent header value (not signed).
  std::string userAgent = "gops-runtime/0.1";
};

/// Sends requests. Implementations throw TransportError when no HTTP response was
/// obtained; any HTTP status, including 4xx/5xx, is returned as a response.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

/// A libcurl transport. It owns one easy handle that is reused for every request, so
/// connections (and TLS sessions) to an endpoint are kept alive between calls. Calls are
/// serialised by an internal mutex: give each thread its own transport for parallelism.
/// Redirects are not followed; only http and https are allowed.
std::shared_ptr<HttpTransport> makeCurlTransport(const HttpOptions& options = {});

/// Splits an absolute http(s) URL (as given in AWS_ENDPOINT_URL) into scheme, authority
/// and path, using libcurl's URL parser. Throws ConfigError when the URL is unusable,
/// or has a query string and `allowQuery` is false (an endpoint may not have one).
struct ParsedUrl {
  std::string scheme;
  std::string host;   ///< host or host:port (port only when the URL names one)
  std::string path;   ///< "/" when the URL has none
  std::string query;  ///< without the '?', as written (allowQuery only)
};
ParsedUrl parseUrl(std::string_view url, bool allowQuery = false);

}  // namespace gops::aws
