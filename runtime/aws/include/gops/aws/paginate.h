#pragma once

// Pagination of list/describe operations.
//
//  - JSON services use a token: the response's `NextToken` goes into the next request's
//    `NextToken` (the names are configurable: ECR and Logs use `nextToken`).
//  - ELBv2 (query) uses a marker: the result's `NextMarker` goes into the next request's
//    `Marker`.
//
// Pagination stops when the response has no (or an empty) token, and throws ResponseError
// when a service returns the same token twice in a row or `maxPages` is exceeded, so that
// a misbehaving endpoint cannot loop forever.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gops/aws/client.h"
#include "gops/aws/encoding.h"
#include "gops/aws/xml.h"

namespace gops::aws {

struct JsonPagination {
  std::string inputToken = "NextToken";
  std::string outputToken = "NextToken";
  int maxPages = 10'000;
};

/// Calls `operation` until the last page, passing each response to `onPage`.
void paginateJson(AwsClient& client, std::string_view service, std::string_view operation,
                  nlohmann::json input,
                  const std::function<void(const nlohmann::json& page)>& onPage,
                  const JsonPagination& pagination = {});

/// The concatenation of the `itemsKey` arrays of every page.
nlohmann::json collectJson(AwsClient& client, std::string_view service,
                           std::string_view operation, nlohmann::json input,
                           std::string_view itemsKey, const JsonPagination& pagination = {});

struct QueryPagination {
  std::string inputMarker = "Marker";
  std::string outputMarker = "NextMarker";
  int maxPages = 10'000;
};

/// Calls `action` until the last page, passing each response's result element to `onPage`.
void paginateQuery(AwsClient& client, std::string_view service, std::string_view action,
                   QueryParams params,
                   const std::function<void(const XmlElement& result)>& onPage,
                   const QueryPagination& pagination = {});

/// Copies of the `<member>`s of list `listName` of every page's result.
std::vector<XmlElement> collectQuery(AwsClient& client, std::string_view service,
                                     std::string_view action, QueryParams params,
                                     std::string_view listName,
                                     const QueryPagination& pagination = {});

}  // namespace gops::aws
