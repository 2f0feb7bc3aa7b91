#pragma once
/// Where the generated files that other generated files refer to live: the plan
/// names the ECS JSON it registers, the workflows name the Terraform modules they
/// plan and apply. Paths are `/`-separated, relative to the output directory or, for
/// an environment's ECS files, to the environment's directory `<env>/`.
#include <string>
#include <string_view>

namespace gops::facts::files {

/// `ecs/<workload>.taskdef.json`: RegisterTaskDefinition input, per service and job.
std::string taskDefinition(std::string_view workload);
/// `ecs/<service>.service.json`: CreateService input, per service.
std::string service(std::string_view service);
/// `ecs/<service>.<color>.taskset.json`: CreateTaskSet input, per colour of a service on task sets.
std::string taskSet(std::string_view service, std::string_view color);

/// `<module>/terraform`: the directory of a root module (`bootstrap/<account>`,
/// `global`, `github` or an environment's name).
std::string terraformModuleDir(std::string_view module);
/// `<module>/terraform/main.tf.json`.
std::string terraformModule(std::string_view module);

}  // namespace gops::facts::files
