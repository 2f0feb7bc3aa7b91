#include "deploy_facts/pending.h"

namespace gops::facts {

std::vector<std::string> notGeneratedYet(const model::AppModel&, const std::vector<std::string>&) {
  // Every construct the checker accepts is generated now (issues 14 and 15 landed in
  // full, before_deploy last): nothing to refuse. A construct the language gains before
  // its backends do is named here, with its environment and workload, until they do.
  return {};
}

}  // namespace gops::facts
