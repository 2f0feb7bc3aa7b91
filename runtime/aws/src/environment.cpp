#include "gops/aws/environment.h"

#include <cstdlib>
#include <utility>

namespace gops::aws {

Environment Environment::process() {
  return Environment([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

Environment Environment::fromMap(std::map<std::string, std::string> vars) {
  return Environment([vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

Environment::Environment(Lookup lookup) : lookup_(std::move(lookup)) {}

std::optional<std::string> Environment::get(const std::string& name) const {
  if (!lookup_) return std::nullopt;
  auto value = lookup_(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string Environment::getOr(const std::string& name, std::string fallback) const {
  auto value = get(name);
  return value ? std::move(*value) : std::move(fallback);
}

std::string expandHome(const std::string& path, const Environment& env) {
  if (path == "~" || path.starts_with("~/")) {
    if (auto home = env.get("HOME")) return *home + path.substr(1);
  }
  return path;
}

}  // namespace gops::aws
