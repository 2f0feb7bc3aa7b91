#pragma once
// Small helpers of the apply/rollback machinery (namespace gops::deploy::exec):
// clocks, AWS error text, numbers as the progress lines and events print them.
#include <chrono>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "gops/aws/error.h"

namespace gops::deploy::exec {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

/// Now, ISO 8601 (UTC).
std::string nowIso();
/// Now, Unix seconds.
long long nowEpoch();
/// This machine's host name.
std::string hostName();

/// An error as one line: `service Operation: Code: message` for AWS errors.
std::string awsMessage(const std::exception& e);
bool isCode(const aws::AwsError& e, std::initializer_list<const char*> codes);

/// `10`, `0.5`: a number as the progress lines show it.
std::string formatNumber(double v);
/// A plan's number as a JSON value: an integer when it is one (as plan.json spells
/// it), else a double. Events and API inputs carry the plan's values this way.
json planNumber(double v);

/// A step that failed: the reason becomes the rollback's "why".
struct StepFailed {
  std::string trigger;  ///< alarm | unhealthy_targets | failed_tasks | timeout | error | wave
  std::string reason;
};

}  // namespace gops::deploy::exec
