#pragma once

// The shared AWS configuration files, ~/.aws/config and ~/.aws/credentials, as every AWS
// tool reads them.
//
//  - Paths: $AWS_CONFIG_FILE (default ~/.aws/config) and $AWS_SHARED_CREDENTIALS_FILE
//    (default ~/.aws/credentials). A missing file is the same as an empty one.
//  - In the config file a profile is `[profile name]`, except `[default]`; in the
//    credentials file it is `[name]`. Other config sections (`[sso-session x]`,
//    `[services x]`) are ignored.
//  - `key = value` lines; keys are case-insensitive; `#` and `;` start comment lines;
//    indented lines continue a nested setting (e.g. `s3 =` blocks) and are ignored.
//  - For a profile present in both files, the credentials file wins key by key.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gops/aws/environment.h"

namespace gops::aws {

/// The settings of one profile, keys lower-cased.
using ProfileSettings = std::map<std::string, std::string>;

class SharedConfig {
 public:
  /// Reads both files from the paths given by `env`. Throws ConfigError when a file exists
  /// but cannot be read.
  static SharedConfig load(const Environment& env);
  /// From file contents (for tests).
  static SharedConfig fromStrings(std::string_view configText, std::string_view credentialsText);

  /// The merged settings of profile `name`, or nullptr when neither file has it.
  const ProfileSettings* profile(std::string_view name) const;
  /// One setting of one profile.
  std::optional<std::string> get(std::string_view profile, std::string_view key) const;
  /// Every profile name, sorted.
  std::vector<std::string> profileNames() const;

 private:
  std::map<std::string, ProfileSettings, std::less<>> profiles_;
};

/// Parses one INI file into profile name -> settings. `configFile` selects the
/// `[profile x]` naming of the config file. Never throws: unparseable lines are skipped.
std::map<std::string, ProfileSettings> parseSharedConfigFile(std::string_view text,
                                                             bool configFile);

}  // namespace gops::aws
