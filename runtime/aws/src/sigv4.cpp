#include "gops/aws/sigv4.h"

#include <algorithm>
#include <map>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gops/aws/encoding.h"
#include "gops/aws/error.h"

namespace gops::aws {

namespace sigv4 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

/// Trims the value and collapses every run of spaces and tabs into one space.
std::string canonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pendingSpace = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pendingSpace = !out.empty();
      continue;
    }
    if (pendingSpace) out.push_back(' ');
    pendingSpace = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto next = s.find(sep, start);
    parts.push_back(s.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start));
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  return parts;
}

}  // namespace

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error("OpenSSL SHA-256 failed");
  }
  return hexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length) == nullptr) {
    throw Error("OpenSSL HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string canonicalUri(std::string_view path) {
  std::vector<std::string_view> segments;
  for (const std::string_view segment : split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  if (segments.empty()) return "/";
  std::string out;
  for (const std::string_view segment : segments) {
    out.push_back('/');
    out += uriEncode(segment);
  }
  if (path.ends_with('/')) out.push_back('/');
  return out;
}

std::string canonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!query.empty()) {
    for (const std::string_view item : split(query, '&')) {
      if (item.empty()) continue;
      const auto eq = item.find('=');
      const std::string_view key = item.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      params.emplace_back(uriEncode(percentDecode(key)), uriEncode(percentDecode(value)));
    }
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += key;
    out.push_back('=');
    out += value;
  }
  return out;
}

CanonicalHeaders canonicalHeaders(const Headers& headers) {
  // Sorted by lower-cased name; repeated headers keep their order of appearance.
  std::map<std::string, std::vector<std::string>> byName;
  for (const auto& [name, value] : headers) {
    std::string lower = toLower(name);
    if (lower == "authorization") continue;
    byName[std::move(lower)].push_back(canonicalHeaderValue(value));
  }
  CanonicalHeaders out;
  for (const auto& [name, values] : byName) {
    out.text += name;
    out.text.push_back(':');
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out.text.push_back(',');
      out.text += values[i];
    }
    out.text.push_back('\n');
    if (!out.signedHeaders.empty()) out.signedHeaders.push_back(';');
    out.signedHeaders += name;
  }
  return out;
}

std::string payloadHash(const HttpRequest& request) {
  if (const std::string* given = findHeader(request.headers, "x-amz-content-sha256")) return *given;
  return sha256Hex(request.body);
}

std::string canonicalRequest(const HttpRequest& request) {
  const CanonicalHeaders headers = canonicalHeaders(request.headers);
  std::string out;
  out += request.method;
  out += '\n';
  out += canonicalUri(request.path);
  out += '\n';
  out += canonicalQuery(request.query);
  out += '\n';
  out += headers.text;
  out += '\n';
  out += headers.signedHeaders;
  out += '\n';
  out += payloadHash(request);
  return out;
}

std::string credentialScope(std::string_view dateStamp, std::string_view region,
                            std::string_view service) {
  std::string out(dateStamp);
  out += '/';
  out += region;
  out += '/';
  out += service;
  out += "/aws4_request";
  return out;
}

std::string stringToSign(std::string_view amzDate, std::string_view scope,
                         std::string_view canonicalRequest) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amzDate;
  out += '\n';
  out += scope;
  out += '\n';
  out += sha256Hex(canonicalRequest);
  return out;
}

std::string signingKey(std::string_view secretAccessKey, std::string_view dateStamp,
                       std::string_view region, std::string_view service) {
  const std::string kSecret = "AWS4" + std::string(secretAccessKey);
  const std::string kDate = hmacSha256(kSecret, dateStamp);
  const std::string kRegion = hmacSha256(kDate, region);
  const std::string kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, "aws4_request");
}

std::string signature(std::string_view signingKey, std::string_view stringToSign) {
  return hexEncode(hmacSha256(signingKey, stringToSign));
}

}  // namespace sigv4

SigningResult signRequest(HttpRequest& request, const Credentials& credentials,
                          const SigningParams& params) {
  if (!credentials.complete()) {
    throw CredentialsError("cannot sign a request: the credentials have no access key id or secret key");
  }
  removeHeader(request.headers, "Authorization");
  if (findHeader(request.headers, "Host") == nullptr) {
    request.headers.insert(request.headers.begin(), {"Host", request.host});
  }
  const std::string amzDate = formatAmzDate(params.time);
  const std::string dateStamp = amzDate.substr(0, 8);
  setHeader(request.headers, "X-Amz-Date", amzDate);
  if (!credentials.sessionToken.empty()) {
    setHeader(request.headers, "X-Amz-Security-Token", credentials.sessionToken);
  }
  if (params.addContentSha256) {
    setHeader(request.headers, "x-amz-content-sha256", sigv4::sha256Hex(request.body));
  }

  SigningResult result;
  result.canonicalRequest = sigv4::canonicalRequest(request);
  result.signedHeaders = sigv4::canonicalHeaders(request.headers).signedHeaders;
  const std::string scope = sigv4::credentialScope(dateStamp, params.region, params.service);
  result.stringToSign = sigv4::stringToSign(amzDate, scope, result.canonicalRequest);
  const std::string key =
      sigv4::signingKey(credentials.secretAccessKey, dateStamp, params.region, params.service);
  result.signature = sigv4::signature(key, result.stringToSign);
  result.authorization = std::string(sigv4::kAlgorithm) + " Credential=" + credentials.accessKeyId +
                         "/" + scope + ", SignedHeaders=" + result.signedHeaders +
                         ", Signature=" + result.signature;
  request.headers.emplace_back("Authorization", result.authorization);
  return result;
}

}  // namespace gops::aws
