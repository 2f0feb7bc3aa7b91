#include "gops/aws/config.h"

#include <charconv>

#include "gops/aws/credential_providers.h"
#include "gops/aws/error.h"
#include "gops/aws/shared_config.h"

namespace gops::aws {

namespace {

int parseMaxAttempts(const std::string& text, const std::string& origin) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) {
    throw ConfigError(origin + " must be a positive integer, not '" + text + "'");
  }
  return value;
}

}  // namespace

std::string resolveProfileName(const ResolveOptions& options) {
  if (options.profile && !options.profile->empty()) return *options.profile;
  if (auto p = options.env.get("AWS_PROFILE")) return *p;
  if (auto p = options.env.get("AWS_DEFAULT_PROFILE")) return *p;
  return "default";
}

std::string resolveRegion(const ResolveOptions& options, const SharedConfig& shared,
                          const std::string& profile) {
  if (options.regionOverride && !options.regionOverride->empty()) return *options.regionOverride;
  if (auto r = options.env.get("AWS_REGION")) return *r;
  if (auto r = options.env.get("AWS_DEFAULT_REGION")) return *r;
  if (auto r = shared.get(profile, "region")) return *r;
  if (options.defaultRegion && !options.defaultRegion->empty()) return *options.defaultRegion;
  throw ConfigError("no AWS region configured: set AWS_REGION, a region in profile '" + profile +
                    "', or the region of the deployment spec");
}

ClientConfig resolveClientConfig(const ResolveOptions& options) {
  ClientConfig config;
  config.env = options.env;
  const SharedConfig shared = SharedConfig::load(options.env);
  config.profile = resolveProfileName(options);
  const bool explicitProfile = options.profile && !options.profile->empty();
  const bool mustExist = config.profile != "default";
  if (mustExist && shared.profile(config.profile) == nullptr) {
    throw ConfigError("the AWS profile '" + config.profile + "' does not exist in the shared config files");
  }
  config.region = resolveRegion(options, shared, config.profile);

  if (auto attempts = options.env.get("AWS_MAX_ATTEMPTS")) {
    config.retry.maxAttempts = parseMaxAttempts(*attempts, "AWS_MAX_ATTEMPTS");
  } else if (auto fromProfile = shared.get(config.profile, "max_attempts")) {
    config.retry.maxAttempts = parseMaxAttempts(*fromProfile, "max_attempts of profile " + config.profile);
  }

  config.transport = makeCurlTransport(config.http);
  config.credentials = makeDefaultCredentialsChain(config, shared, config.profile, explicitProfile, mustExist);
  return config;
}

}  // namespace gops::aws
