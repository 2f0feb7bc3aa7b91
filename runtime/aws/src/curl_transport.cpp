// The libcurl transport: one easy handle per transport, reused for every request so that
// connections and TLS sessions stay alive between calls.

#include "gops/aws/http.h"

#include <algorithm>
#include <mutex>
#include <string>

#include <curl/curl.h>

#include "gops/aws/error.h"

namespace gops::aws {

namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw TransportError(TransportError::Kind::Other, "curl_global_init failed");
    }
  });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

std::string trim(std::string_view s) {
  const auto* ws = " \t\r\n";
  const auto begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(ws);
  return std::string(s.substr(begin, end - begin + 1));
}

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  body->append(data, size * count);
  return size * count;
}

std::size_t onHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* headers = static_cast<Headers*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100 Continue or a proxy CONNECT)
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace_back(toLower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return size * count;
}

TransportError::Kind classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return TransportError::Kind::Connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::Kind::Timeout;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportError::Kind::Io;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return TransportError::Kind::Tls;
    default:
      return TransportError::Kind::Other;
  }
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(HttpOptions options) : options_(std::move(options)) {
    globalInit();
    handle_ = curl_easy_init();
    if (handle_ == nullptr) throw TransportError(TransportError::Kind::Other, "curl_easy_init failed");
  }
  ~CurlTransport() override { curl_easy_cleanup(handle_); }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  HttpResponse send(const HttpRequest& request) override {
    const std::lock_guard lock(mutex_);
    // curl_easy_reset keeps the connection cache, the DNS cache and TLS session ids.
    curl_easy_reset(handle_);

    std::unique_ptr<curl_slist, SlistDeleter> headerList;
    auto append = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(headerList.get(), line.c_str());
      if (next == nullptr) throw TransportError(TransportError::Kind::Other, "out of memory");
      (void)headerList.release();
      headerList.reset(next);
    };
    for (const auto& [name, value] : request.headers) {
      // "Name;" is curl's way to send a header with an empty value.
      append(value.empty() ? name + ";" : name + ": " + value);
    }
    append("Expect:");  // no 100-continue round trip for larger bodies

    HttpResponse response;
    char errorBuffer[CURL_ERROR_SIZE] = {};
    const std::string url = request.url();

    auto set = [&](CURLoption option, auto value) {
      if (curl_easy_setopt(handle_, option, value) != CURLE_OK) {
        throw TransportError(TransportError::Kind::Other, "curl_easy_setopt failed");
      }
    };
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.caBundle.empty()) set(CURLOPT_CAINFO, options_.caBundle.c_str());
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connectTimeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(options_.totalTimeout.count()));
    set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(CURLOPT_LOW_SPEED_TIME,
        std::max(1L, static_cast<long>((options_.readTimeout.count() + 999) / 1000)));
    set(CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
    set(CURLOPT_USERAGENT, options_.userAgent.c_str());
    set(CURLOPT_HTTPHEADER, headerList.get());
    set(CURLOPT_ERRORBUFFER, errorBuffer);
    set(CURLOPT_WRITEFUNCTION, &onBody);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&response.body));
    set(CURLOPT_HEADERFUNCTION, &onHeader);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&response.headers));

    if (request.method == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else {
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDS, request.body.data());
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    const CURLcode code = curl_easy_perform(handle_);
    if (code != CURLE_OK) {
      std::string detail = curl_easy_strerror(code);
      if (errorBuffer[0] != '\0') detail += std::string(": ") + errorBuffer;
      throw TransportError(classify(code), request.method + " " + url + ": " + detail);
    }
    long status = 0;
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

 private:
  HttpOptions options_;
  std::mutex mutex_;
  CURL* handle_ = nullptr;
};

}  // namespace

std::shared_ptr<HttpTransport> makeCurlTransport(const HttpOptions& options) {
  return std::make_shared<CurlTransport>(options);
}

}  // namespace gops::aws
