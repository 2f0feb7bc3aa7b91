#include "backends/common/output.h"

#include <fmt/format.h>

namespace gops::backend {

std::string generatedNotice(const std::string& specLabel, const std::string& what) {
  return fmt::format("{} from {}: {}. Do not edit; change the spec and run `gops build` again.", kGeneratedMarker, specLabel, what);
}

}  // namespace gops::backend
