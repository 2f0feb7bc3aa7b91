#include "gops/aws/paginate.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gops/aws/error.h"

namespace gops::aws {

void paginateJson(AwsClient& client, std::string_view service, std::string_view operation,
                  nlohmann::json input, const std::function<void(const nlohmann::json& page)>& onPage,
                  const JsonPagination& pagination) {
  if (input.is_null()) input = nlohmann::json::object();
  std::string previous;
  for (int page = 1;; ++page) {
    if (page > pagination.maxPages) {
      throw ResponseError(fmt::format("{} {}: more than {} pages", service, operation, pagination.maxPages));
    }
    const nlohmann::json response = client.callJson(service, operation, input);
    onPage(response);
    const auto it = response.find(pagination.outputToken);
    if (it == response.end() || !it->is_string() || it->get<std::string>().empty()) return;
    std::string token = it->get<std::string>();
    if (token == previous) {
      throw ResponseError(fmt::format("{} {}: the service returned the same {} twice", service, operation,
                                      pagination.outputToken));
    }
    input[pagination.inputToken] = token;
    previous = std::move(token);
  }
}

nlohmann::json collectJson(AwsClient& client, std::string_view service, std::string_view operation,
                           nlohmann::json input, std::string_view itemsKey,
                           const JsonPagination& pagination) {
  nlohmann::json items = nlohmann::json::array();
  const std::string key(itemsKey);
  paginateJson(
      client, service, operation, std::move(input),
      [&](const nlohmann::json& page) {
        const auto it = page.find(key);
        if (it == page.end() || it->is_null()) return;
        if (!it->is_array()) {
          throw ResponseError(fmt::format("{} {}: {} is not a list", service, operation, key));
        }
        for (const auto& item : *it) items.push_back(item);
      },
      pagination);
  return items;
}

void paginateQuery(AwsClient& client, std::string_view service, std::string_view action, QueryParams params,
                   const std::function<void(const XmlElement& result)>& onPage,
                   const QueryPagination& pagination) {
  std::string previous;
  for (int page = 1;; ++page) {
    if (page > pagination.maxPages) {
      throw ResponseError(fmt::format("{} {}: more than {} pages", service, action, pagination.maxPages));
    }
    const XmlDocument response = client.callQuery(service, action, params);
    const XmlElement& result = response.result();
    onPage(result);
    std::string marker = result.childTextOr(pagination.outputMarker, "");
    if (marker.empty()) return;
    if (marker == previous) {
      throw ResponseError(fmt::format("{} {}: the service returned the same {} twice", service, action,
                                      pagination.outputMarker));
    }
    params[pagination.inputMarker] = marker;
    previous = std::move(marker);
  }
}

std::vector<XmlElement> collectQuery(AwsClient& client, std::string_view service, std::string_view action,
                                     QueryParams params, std::string_view listName,
                                     const QueryPagination& pagination) {
  std::vector<XmlElement> items;
  paginateQuery(
      client, service, action, std::move(params),
      [&](const XmlElement& result) {
        for (const XmlElement* member : result.members(listName)) items.push_back(*member);
      },
      pagination);
  return items;
}

}  // namespace gops::aws
