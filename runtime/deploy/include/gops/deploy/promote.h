#pragma once
/// `gops record-tests` and `gops promote --check` (docs/runtime.md): the test results of
/// an image tag in an environment's ledger, and the gates of a `promote FROM -> TO` rule
/// checked against the ledger and the AWS APIs. Reads the plans as data.
#include <chrono>
#include <iosfwd>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gops/deploy/deploy.h"

namespace gops::deploy {

struct RecordTestsOptions {
  std::string imageTag;
  std::string result;  ///< passed | failed
  std::string commit;  ///< GITHUB_SHA, or empty
  std::string actor;   ///< GITHUB_ACTOR, or user@host
};

/// Writes `<ledger>/tests/<tag>` of the bundle's environment: `image_tag`, `result`,
/// `recorded` (ISO 8601), `commit`, `actor`. Returns the record written. Throws aws errors.
nlohmann::json recordTests(aws::AwsClient& aws, const Bundle& env, const RecordTestsOptions& options);

/// The entry of `to`'s plan `gates` for promotions from `from`; null when there is none.
const plan::Gate* promotionGates(const Bundle& to, const std::string& from);

/// Checks every gate of `promote FROM -> TO` for `tags` (every service's, or, scoped,
/// those of the services named): each service deployed successfully to FROM with its
/// tag (ledger and live services) and not replaced or rolled back since, no alarm FROM
/// watches for them in ALARM, then the rule's `require` list (tests_passed of each
/// distinct tag, soak since the last of those deploys; approval and security_scan are
/// reported as left to the workflow). Result: `{from, to, image_tag, passed, gates:
/// [{gate, status: met|unmet|workflow, expected, found}]}`. Throws aws errors.
nlohmann::json checkPromotion(aws::AwsClient& aws, const Bundle& from, const Bundle& to, const ImageTags& tags,
                              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// The text form of checkPromotion's result.
void printPromotion(std::ostream& out, const nlohmann::json& result);

}  // namespace gops::deploy
