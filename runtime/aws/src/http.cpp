#include "gops/aws/http.h"

#include <algorithm>
#include <memory>

#include <curl/curl.h>

#include "gops/aws/error.h"

namespace gops::aws {

namespace {

char lowerAscii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lowerAscii);
  return out;
}

const std::string* findHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

void setHeader(Headers& headers, std::string_view name, std::string value) {
  auto first = std::find_if(headers.begin(), headers.end(),
                            [&](const auto& h) { return iequals(h.first, name); });
  if (first == headers.end()) {
    headers.emplace_back(std::string(name), std::move(value));
    return;
  }
  first->second = std::move(value);
  auto rest = std::remove_if(std::next(first), headers.end(),
                             [&](const auto& h) { return iequals(h.first, name); });
  headers.erase(rest, headers.end());
}

void removeHeader(Headers& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& h) { return iequals(h.first, name); });
}

std::string HttpRequest::url() const {
  std::string out = scheme + "://" + host + (path.empty() ? "/" : path);
  if (!query.empty()) out += "?" + query;
  return out;
}

ParsedUrl parseUrl(std::string_view url, bool allowQuery) {
  struct UrlDeleter {
    void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
  };
  struct StrDeleter {
    void operator()(char* p) const noexcept { curl_free(p); }
  };
  std::unique_ptr<CURLU, UrlDeleter> handle(curl_url());
  if (!handle) throw ConfigError("out of memory parsing a URL");
  const std::string text(url);
  if (curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    throw ConfigError("invalid endpoint URL '" + text + "'");
  }
  auto part = [&](CURLUPart which) -> std::string {
    char* raw = nullptr;
    if (curl_url_get(handle.get(), which, &raw, 0) != CURLUE_OK || raw == nullptr) return {};
    std::unique_ptr<char, StrDeleter> owned(raw);
    return std::string(raw);
  };
  ParsedUrl out;
  out.scheme = toLower(part(CURLUPART_SCHEME));
  if (out.scheme != "http" && out.scheme != "https") {
    throw ConfigError("endpoint URL '" + text + "' must use http or https");
  }
  out.host = part(CURLUPART_HOST);
  if (out.host.empty()) throw ConfigError("endpoint URL '" + text + "' has no host");
  const std::string port = part(CURLUPART_PORT);  // only set when the URL names one
  if (!port.empty()) out.host += ":" + port;
  out.path = part(CURLUPART_PATH);
  if (out.path.empty()) out.path.push_back('/');  // (not = "/": GCC 12 -Wrestrict false positive)
  out.query = part(CURLUPART_QUERY);
  if (!out.query.empty() && !allowQuery) {
    throw ConfigError("endpoint URL '" + text + "' must not have a query string");
  }
  return out;
}

}  // namespace gops::aws
