#include "deploy_facts/outputs.h"

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::facts {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

namespace output {

std::string securityGroupId(std::string_view workload) { return fmt::format("{}_security_group_id"_cf, workload); }
std::string executionRoleArn(std::string_view workload) { return fmt::format("{}_execution_role_arn"_cf, workload); }
std::string taskRoleArn(std::string_view workload) { return fmt::format("{}_task_role_arn"_cf, workload); }

std::string targetGroupArn(std::string_view service) { return fmt::format("{}_target_group_arn"_cf, service); }

std::string targetGroupArn(std::string_view service, std::string_view color) {
  return fmt::format("{}_target_group_{}_arn"_cf, service, color);
}

std::string listenerRuleArn(std::string_view service, std::size_t rule) {
  return rule == 0 ? fmt::format("{}_listener_rule_arn"_cf, service)
                   : fmt::format("{}_listener_rule_{}_arn"_cf, service, rule + 1);
}

std::string discoveryServiceArn(std::string_view service) {
  return fmt::format("{}_discovery_service_arn"_cf, service);
}

}  // namespace output

std::string tfPlaceholder(std::string_view output, int index) {
  return index < 0 ? fmt::format("{{{{tf:{}}}}}"_cf, output) : fmt::format("{{{{tf:{}[{}]}}}}"_cf, output, index);
}

}  // namespace gops::facts
