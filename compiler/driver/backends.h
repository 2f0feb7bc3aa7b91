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
  /// Whether a run for one environment (Options::environments) writes only that
  /// environment's files and the app's files follow Options::appFiles, so that the
  /// driver can run it once per environment side by side.
  bool perEnvironment = false;
};

const std::vector<Backend>& backends();

}  // namespace gops::driver
