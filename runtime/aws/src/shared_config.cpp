#include "gops/aws/shared_config.h"

#include <fstream>
#include <sstream>
#include <system_error>
#include <filesystem>

#include "gops/aws/error.h"
#include "gops/aws/http.h"

namespace gops::aws {

namespace {

std::string_view trim(std::string_view s) {
  const auto* ws = " \t\r\n";
  const auto begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(ws);
  return s.substr(begin, end - begin + 1);
}

/// The contents of `path`, or "" when it does not exist.
std::string readOptionalFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read AWS shared config file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::map<std::string, ProfileSettings> parseSharedConfigFile(std::string_view text, bool configFile) {
  std::map<std::string, ProfileSettings> profiles;
  ProfileSettings* current = nullptr;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto eol = text.find('\n', pos);
    const std::string_view raw = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;

    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;

    if (line.front() == '[') {
      current = nullptr;
      const auto close = line.find(']');
      if (close == std::string_view::npos) continue;
      std::string_view section = trim(line.substr(1, close - 1));
      if (configFile) {
        if (section.starts_with("profile ") || section.starts_with("profile\t")) {
          section = trim(section.substr(8));
        } else if (section != "default") {
          continue;  // [sso-session x], [services x], or a malformed profile header
        }
      }
      if (section.empty()) continue;
      current = &profiles[std::string(section)];
      continue;
    }
    // An indented line continues a nested setting ("s3 =\n  max_concurrent_requests = 2").
    if (raw.front() == ' ' || raw.front() == '\t') continue;
    if (current == nullptr) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = toLower(trim(line.substr(0, eq)));
    std::string_view value = trim(line.substr(eq + 1));
    if (key.empty()) continue;
    // Inline comments need a preceding space: "region = us-east-1 # note".
    for (const std::string_view marker : {std::string_view(" #"), std::string_view(" ;"),
                                          std::string_view("\t#"), std::string_view("\t;")}) {
      if (const auto c = value.find(marker); c != std::string_view::npos) value = trim(value.substr(0, c));
    }
    (*current)[key] = std::string(value);
  }
  return profiles;
}

SharedConfig SharedConfig::load(const Environment& env) {
  const std::string configPath = expandHome(env.getOr("AWS_CONFIG_FILE", "~/.aws/config"), env);
  const std::string credentialsPath =
      expandHome(env.getOr("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), env);
  // "~" left unexpanded means there is no HOME: no default files then.
  const std::string configText = configPath.starts_with("~") ? std::string() : readOptionalFile(configPath);
  const std::string credentialsText =
      credentialsPath.starts_with("~") ? std::string() : readOptionalFile(credentialsPath);
  return fromStrings(configText, credentialsText);
}

SharedConfig SharedConfig::fromStrings(std::string_view configText, std::string_view credentialsText) {
  SharedConfig out;
  for (auto& [name, settings] : parseSharedConfigFile(configText, true)) {
    out.profiles_[name] = std::move(settings);
  }
  for (auto& [name, settings] : parseSharedConfigFile(credentialsText, false)) {
    ProfileSettings& merged = out.profiles_[name];
    for (auto& [key, value] : settings) merged[key] = std::move(value);
  }
  return out;
}

const ProfileSettings* SharedConfig::profile(std::string_view name) const {
  const auto it = profiles_.find(name);
  return it == profiles_.end() ? nullptr : &it->second;
}

std::optional<std::string> SharedConfig::get(std::string_view profileName, std::string_view key) const {
  const ProfileSettings* settings = profile(profileName);
  if (settings == nullptr) return std::nullopt;
  const auto it = settings->find(std::string(key));
  if (it == settings->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::vector<std::string> SharedConfig::profileNames() const {
  std::vector<std::string> names;
  for (const auto& [name, settings] : profiles_) names.push_back(name);
  return names;
}

}  // namespace gops::aws
