#pragma once
/// The JSON and text forms of the model printed by `gops model` (docs/model.md).
#include <string>

#include <nlohmann/json_fwd.hpp>  // callers of the *ToJson functions include json.hpp themselves

#include "model/model.h"

namespace gops::model {

/// One environment's view of the model, in the documented key order.
nlohmann::ordered_json environmentToJson(const AppModel& app, const Environment& env);
std::string environmentJson(const AppModel& app, const Environment& env);
/// The same content as indented `key: value` text for people.
std::string environmentText(const AppModel& app, const Environment& env);

nlohmann::ordered_json rolloutToJson(const Rollout& r);
nlohmann::ordered_json scheduleToJson(const Schedule& s);

}  // namespace gops::model
