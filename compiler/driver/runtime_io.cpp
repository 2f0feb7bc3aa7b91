#include "driver/runtime_io.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "driver/common.h"
#include "support/text.h"

namespace gops::driver {

int parseImageTags(const std::vector<std::string>& values, const char* command, deploy::ImageTags& tags) {
  try {
    tags = deploy::ImageTags::parse(values);
    return 0;
  } catch (const deploy::DeployError& e) {
    std::cerr << fmt::format("gops {}: error: {}\n", command, e.what());
    return 2;
  }
}

int checkImageTagNames(const deploy::ImageTags& tags, const plan::Plan& plan, bool jobs, const char* command) {
  std::vector<std::string> names;
  for (const auto& s : plan.services) names.push_back(s.name);
  if (jobs) {
    for (const auto& j : plan.jobs) names.push_back(j.name);
  }
  int rc = 0;
  for (const auto& [name, tag] : tags.own()) {
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    std::cerr << fmt::format("gops {}: error: `{}={}`: environment {} has no {} `{}`", command, name, tag, plan.environment,
                             jobs ? "service or job" : "service", name);
    if (auto m = closestMatch(name, names)) std::cerr << fmt::format("; did you mean `{}`?", *m);
    std::cerr << "\n";
    rc = 2;
  }
  return rc;
}

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

int loadTfOutputs(const std::string& file, const char* command, nlohmann::json& outputs) {
  outputs = nlohmann::json::object();
  if (file.empty()) return 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) return ioFailure({fmt::format("`{}`: cannot read the Terraform outputs", file)});
  std::ostringstream s;
  s << in.rdbuf();
  try {
    outputs = nlohmann::json::parse(s.str());
  } catch (const nlohmann::json::exception& e) {
    std::cerr << fmt::format("gops {}: error: `{}` is not `terraform output -json`: {}\n", command, file, e.what());
    return 2;
  }
  return 0;
}

void printDeployError(const char* command, const std::string& what) {
  std::size_t start = 0;
  while (start <= what.size()) {
    std::size_t end = what.find('\n', start);
    if (end == std::string::npos) end = what.size();
    std::cerr << fmt::format("gops {}: error: {}\n", command, what.substr(start, end - start));
    start = end + 1;
  }
}

aws::AwsClient makeClient(const deploy::Bundle& bundle) {
  aws::ResolveOptions ro;
  ro.defaultRegion = bundle.plan.region;
  return aws::AwsClient(aws::resolveClientConfig(ro));
}

}  // namespace gops::driver
