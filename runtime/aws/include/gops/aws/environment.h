#pragma once

// Access to environment variables through a value that tests can replace, so that
// configuration and credential resolution never has to touch the process environment.

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace gops::aws {

/// A read-only view of environment variables.
///
/// Invariant: a variable that is set to the empty string reads as unset, the way the
/// AWS CLI treats `AWS_PROFILE=` and friends.
class Environment {
 public:
  using Lookup = std::function<std::optional<std::string>(const std::string&)>;

  /// The process environment, read at each lookup (not a snapshot).
  static Environment process();
  /// A fixed set of variables (for tests).
  static Environment fromMap(std::map<std::string, std::string> vars);

  explicit Environment(Lookup lookup);

  /// The value of `name`, or nullopt when unset or empty.
  std::optional<std::string> get(const std::string& name) const;
  /// The value of `name`, or `fallback`.
  std::string getOr(const std::string& name, std::string fallback) const;

 private:
  Lookup lookup_;
};

/// Replaces a leading "~" or "~/" by $HOME. Other paths are returned unchanged.
std::string expandHome(const std::string& path, const Environment& env);

}  // namespace gops::aws
