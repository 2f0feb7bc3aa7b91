#include "driver/runtime_io.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "driver/common.h"

namespace gops::driver {

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

aws::AwsClient makeClient(const deploy::Bundle& bundle) {
  aws::ResolveOptions ro;
  ro.defaultRegion = bundle.plan["region"].get<std::string>();
  return aws::AwsClient(aws::resolveClientConfig(ro));
}

}  // namespace gops::driver
