#pragma once
/// What the language accepts and the backends do not generate yet (issues 14 and
/// 15 land in parts): `gops build` refuses a spec that uses any of it rather than
/// generate files that silently leave it out. Each entry names the environment, the
/// workload and the construct; the list empties as the backends catch up.
#include <string>
#include <vector>

#include "model/model.h"

namespace gops::facts {

/// One message per construct used in the selected environments (all when `envs` is
/// empty), in the order of the model.
std::vector<std::string> notGeneratedYet(const model::AppModel& app, const std::vector<std::string>& envs);

}  // namespace gops::facts
