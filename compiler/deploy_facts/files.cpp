#include "deploy_facts/files.h"

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::facts::files {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

std::string taskDefinition(std::string_view workload) { return fmt::format("ecs/{}.taskdef.json"_cf, workload); }
std::string service(std::string_view service) { return fmt::format("ecs/{}.service.json"_cf, service); }
std::string taskSet(std::string_view service, std::string_view color) {
  return fmt::format("ecs/{}.{}.taskset.json"_cf, service, color);
}

std::string terraformModuleDir(std::string_view module) { return fmt::format("{}/terraform"_cf, module); }
std::string terraformModule(std::string_view module) { return fmt::format("{}/terraform/main.tf.json"_cf, module); }

}  // namespace gops::facts::files
