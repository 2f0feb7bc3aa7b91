#pragma once
/// `gops drift` (docs/runtime.md): the live services, task definitions, deployment
/// configurations, alarms and listener weights of an environment compared with its
/// compiled desired state (the plan, the ECS JSON and, for the alarms' settings, the
/// environment's Terraform JSON `terraform/main.tf.json` when the bundle holds it).
#include <iosfwd>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gops/deploy/deploy.h"

namespace gops::deploy {

/// `{app, environment, drifted, items: [{service, field, desired, live}], notes: [...]}`.
/// `notes` are what could not be compared (a placeholder without --tf-outputs, a deploy in
/// progress). Throws aws errors.
nlohmann::json collectDrift(aws::AwsClient& aws, const Bundle& bundle, const nlohmann::json& tfOutputs);

/// The text (`markdown == false`) or Markdown form of collectDrift's result (the body of
/// the drift workflow's issue).
void printDrift(std::ostream& out, const nlohmann::json& drift, bool markdown);

}  // namespace gops::deploy
