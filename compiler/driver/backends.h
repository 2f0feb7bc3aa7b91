#pragma once
/// The backends `gops build` runs, in order; `--emit` names them.
#include <string_view>
#include <vector>

#include "backends/common/output.h"
#include "model/model.h"

namespace gops::driver {

struct Backend {
  std::string_view name;         ///< what `--emit` calls it
  std::string_view description;  ///< for `gops build --help`
  backend::Output (*generate)(const model::AppModel&, const backend::Options&);
};

const std::vector<Backend>& backends();

}  // namespace gops::driver
