#pragma once
/// Writing a plan: the text of `plan.json` (docs/plan.md), keys in the documented
/// order, indented by two spaces. Deterministic: the same plan gives the same bytes,
/// and `read(write(p))` gives `p` back (reader.h).
#include <string>

#include "plan/plan.h"

namespace gops::plan {

/// The whole file, `"//"` and `plan_version` first, ending with a newline.
std::string write(const Plan& plan);

/// One step as compact JSON (`{"action":"shift","weight":10,"hold_seconds":300}`),
/// keys in the plan's order: what the runtime's journal records of a step.
std::string writeStep(const Step& step);

}  // namespace gops::plan
