#pragma once

// AWS Signature Version 4 (header-based signing), implemented with OpenSSL.
//
// The steps are exposed separately (canonical request, string to sign, signing key) so
// that the published AWS SigV4 test-suite vectors can check each of them.

#include <chrono>
#include <string>
#include <string_view>

#include "gops/aws/credentials.h"
#include "gops/aws/http.h"

namespace gops::aws {

/// What a signature is bound to besides the request itself.
struct SigningParams {
  std::string region;   ///< e.g. "us-east-1"
  std::string service;  ///< the signing name, e.g. "ssm", "monitoring"
  std::chrono::system_clock::time_point time;
  /// Add (and sign) `x-amz-content-sha256: <hex sha256 of the body>`. Only S3-like
  /// services need it; none of the services in services.h do.
  bool addContentSha256 = false;
};

/// Every intermediate value of one signature. Contains the signature, so treat it as a
/// secret: never log it.
struct SigningResult {
  std::string canonicalRequest;
  std::string stringToSign;
  std::string signedHeaders;  ///< "host;x-amz-date"
  std::string signature;      ///< lower-case hex
  std::string authorization;  ///< the Authorization header value
};

/// Signs `request` in place. It
///  - adds `Host` from request.host when the request has no Host header,
///  - sets `X-Amz-Date` from params.time (replacing any value),
///  - sets `X-Amz-Security-Token` when credentials.sessionToken is not empty,
///  - sets `x-amz-content-sha256` when params.addContentSha256,
///  - signs every header then present (except Authorization), and
///  - sets `Authorization`.
/// Throws CredentialsError when the credentials are incomplete.
SigningResult signRequest(HttpRequest& request, const Credentials& credentials,
                          const SigningParams& params);

namespace sigv4 {

/// The canonical URI: `path` (as sent on the wire) with empty and "." segments removed,
/// ".." segments applied, a trailing '/' kept, and every segment uriEncode'd. Since the
/// wire path is already percent-encoded, a '%' is encoded again ("%20" -> "%2520"), as
/// SigV4 requires for every service but S3.
std::string canonicalUri(std::string_view path);

/// The canonical query string: parameters decoded, re-encoded with uriEncode, sorted by
/// key then value, "k=v" joined by '&' (a missing value gives "k=").
std::string canonicalQuery(std::string_view query);

/// Canonical headers ("name:value\n" for each, names lower-cased and sorted, values
/// trimmed with inner runs of spaces collapsed, repeated headers joined with ',') and
/// the signed-headers list ("host;x-amz-date"). Authorization is never included.
struct CanonicalHeaders {
  std::string text;
  std::string signedHeaders;
};
CanonicalHeaders canonicalHeaders(const Headers& headers);

/// The hex SHA-256 of the payload: the `x-amz-content-sha256` header if present, else
/// computed from request.body.
std::string payloadHash(const HttpRequest& request);

/// method \n canonicalUri \n canonicalQuery \n canonicalHeaders \n signedHeaders \n hash
std::string canonicalRequest(const HttpRequest& request);

/// "<date>/<region>/<service>/aws4_request"
std::string credentialScope(std::string_view dateStamp, std::string_view region,
                            std::string_view service);

/// "AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex sha256 of canonicalRequest>"
std::string stringToSign(std::string_view amzDate, std::string_view scope,
                         std::string_view canonicalRequest);

/// The raw 32-byte key HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
/// "aws4_request").
std::string signingKey(std::string_view secretAccessKey, std::string_view dateStamp,
                       std::string_view region, std::string_view service);

/// Lower-case hex HMAC-SHA256 of `stringToSign` under `signingKey`.
std::string signature(std::string_view signingKey, std::string_view stringToSign);

/// Lower-case hex SHA-256.
std::string sha256Hex(std::string_view data);

/// Raw HMAC-SHA256.
std::string hmacSha256(std::string_view key, std::string_view data);

}  // namespace sigv4
}  // namespace gops::aws
