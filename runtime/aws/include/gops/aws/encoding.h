#pragma once

// Encodings used by AWS requests: RFC 3986 percent-encoding as SigV4 defines it,
// form bodies of the query protocol, and the timestamp formats.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gops::aws {

/// Parameters of a query-protocol call (or any form body). A sorted map, so that the
/// encoded body is deterministic.
using QueryParams = std::map<std::string, std::string>;

/// Percent-encodes every byte except the RFC 3986 unreserved characters
/// A-Z a-z 0-9 - _ . ~ (and '/' when `keepSlash`), with upper-case hex digits.
/// This is SigV4's UriEncode.
std::string uriEncode(std::string_view s, bool keepSlash = false);

/// Decodes %XX sequences; malformed sequences are kept verbatim. '+' is not a space.
std::string percentDecode(std::string_view s);

/// "k1=v1&k2=v2" with uriEncode'd keys and values, in map order.
std::string formEncode(const QueryParams& params);

/// Adds `prefix.1`, `prefix.2`... for a query-protocol list, e.g.
/// addQueryList(p, "Names.member", {"a","b"}) sets Names.member.1=a, Names.member.2=b.
void addQueryList(QueryParams& params, std::string_view prefix,
                  const std::vector<std::string>& values);

/// Lower-case hex of raw bytes.
std::string hexEncode(std::string_view bytes);

/// "20150830T123600Z" (UTC, seconds truncated).
std::string formatAmzDate(std::chrono::system_clock::time_point t);

/// "20150830" (UTC).
std::string formatDateStamp(std::chrono::system_clock::time_point t);

/// "2015-08-30T12:36:00Z" (UTC).
std::string formatIso8601(std::chrono::system_clock::time_point t);

/// Parses the ISO 8601 timestamps AWS returns: "2015-08-30T12:36:00Z",
/// "2015-08-30T12:36:00.123Z", "2015-08-30T12:36:00+02:00", "20150830T123600Z".
/// Fractional seconds are dropped. nullopt when the text is not such a timestamp.
std::optional<std::chrono::system_clock::time_point> parseIso8601(std::string_view s);

}  // namespace gops::aws
