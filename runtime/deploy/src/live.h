#pragma once
// Helpers shared by promote.cpp and drift.cpp: reading the ledger and the live services.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gops/aws/client.h"
#include "gops/aws/error.h"
#include "gops/aws/paginate.h"

namespace gops::deploy::live {

/// The JSON value of the ledger parameter `<ledger>/<rel>`; nullopt when it does not exist
/// (or does not hold JSON).
inline std::optional<nlohmann::json> ledgerGet(aws::AwsClient& aws, const std::string& ledger, const std::string& rel) {
  try {
    nlohmann::json r = aws.callJson("ssm", "GetParameter", {{"Name", ledger + "/" + rel}});
    return nlohmann::json::parse(r["Parameter"]["Value"].get<std::string>());
  } catch (const aws::AwsError& e) {
    if (e.code() == "ParameterNotFound") return std::nullopt;
    throw;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

/// Every version of a ledger parameter, oldest first (values parsed; unparsable ones null).
inline nlohmann::json ledgerHistory(aws::AwsClient& aws, const std::string& ledger, const std::string& rel) {
  nlohmann::json out = nlohmann::json::array();
  try {
    nlohmann::json params = aws::collectJson(aws, "ssm", "GetParameterHistory", {{"Name", ledger + "/" + rel}}, "Parameters");
    for (const auto& p : params) {
      try {
        out.push_back(nlohmann::json::parse(p.value("Value", "")));
      } catch (const nlohmann::json::exception&) {
        out.push_back(nullptr);
      }
    }
  } catch (const aws::AwsError& e) {
    if (e.code() != "ParameterNotFound") throw;
  }
  return out;
}

/// The ECS service (DescribeServices), or null when it does not exist or is INACTIVE.
inline nlohmann::json describeService(aws::AwsClient& aws, const std::string& cluster, const std::string& service) {
  nlohmann::json r = aws.callJson("ecs", "DescribeServices", {{"cluster", cluster}, {"services", nlohmann::json::array({service})}});
  nlohmann::json svc;
  for (const auto& x : r.value("services", nlohmann::json::array())) {
    if (x.value("status", "") != "INACTIVE") svc = x;
  }
  return svc;
}

/// The revision a service runs: its PRIMARY task set's (EXTERNAL controller), else its own.
inline std::string runningTaskDefinition(const nlohmann::json& svc) {
  for (const auto& t : svc.value("taskSets", nlohmann::json::array())) {
    if (t.value("status", "") == "PRIMARY") return t.value("taskDefinition", "");
  }
  return svc.value("taskDefinition", "");
}

}  // namespace gops::deploy::live
