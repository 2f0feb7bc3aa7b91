#pragma once
/// What the runtime commands (apply, rollback, status, record-tests, promote --check,
/// drift) share in the driver: environment variables, `terraform output -json` files
/// and the AWS client for an environment's plan.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gops/aws/aws.h"
#include "gops/deploy/deploy.h"

namespace gops::driver {

/// The environment variable `name`, or `fallback` when unset or empty.
std::string envOr(const char* name, const std::string& fallback);

/// `terraform output -json` read from `file` (an empty object when `file` is empty).
/// Returns an exit code: 0, or 2 after printing why the file cannot be used.
int loadTfOutputs(const std::string& file, const char* command, nlohmann::json& outputs);

/// Prints a DeployError: `gops <command>: error: <line>` for each of its lines (a plan
/// that is not valid has one per problem).
void printDeployError(const char* command, const std::string& what);

/// `--image-tag` values read (docs/runtime.md): returns an exit code, 0 with `tags` set,
/// or 2 after printing why they are not image tags.
int parseImageTags(const std::vector<std::string>& values, const char* command, deploy::ImageTags& tags);
/// Every name `tags` gives a tag of its own is one of `plan`'s services (or, with
/// `jobs`, its jobs). Returns an exit code: 0, or 2 after naming the others.
int checkImageTagNames(const deploy::ImageTags& tags, const plan::Plan& plan, bool jobs, const char* command);

/// An AWS client configured the way every AWS tool is (runtime/README.md), with the
/// plan's region as the default.
aws::AwsClient makeClient(const deploy::Bundle& bundle);

}  // namespace gops::driver
