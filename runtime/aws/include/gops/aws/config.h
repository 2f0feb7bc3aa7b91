#pragma once

// Client configuration, and its resolution from the environment and the shared files.
//
// Region, first match wins:
//   1. ResolveOptions::regionOverride  (an explicit choice, e.g. a --region flag)
//   2. AWS_REGION, then AWS_DEFAULT_REGION
//   3. the profile's `region` in the config file
//   4. ResolveOptions::defaultRegion   (the region written in the deployment spec)
// No region at all is a ConfigError.
//
// Profile: ResolveOptions::profile (explicit), else AWS_PROFILE, else AWS_DEFAULT_PROFILE,
// else "default". A profile named explicitly or through the environment must exist in
// the shared files when anything needs it; "default" may be absent.
//
// Max attempts: AWS_MAX_ATTEMPTS, else the profile's `max_attempts`, else 3.
//
// Credentials: see makeDefaultCredentialsChain in credential_providers.h.
// Endpoints: see resolveEndpoint in services.h.

#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "gops/aws/environment.h"
#include "gops/aws/http.h"
#include "gops/aws/retry.h"

namespace gops::aws {

class CredentialsProvider;
class SharedConfig;

/// Sleeps for the given time (injected by tests so that retries do not wait).
using SleepFn = std::function<void(std::chrono::milliseconds)>;
/// Returns a uniformly distributed number in [0, 1) (injected by tests).
using RandomFn = std::function<double()>;
/// The current time, used for request signatures and credential expiry.
using ClockFn = std::function<std::chrono::system_clock::time_point()>;

/// Everything an AwsClient needs. Members left empty get the documented defaults.
struct ClientConfig {
  std::string region;
  /// The profile the configuration was resolved with (for messages only).
  std::string profile;
  Environment env = Environment::process();
  /// Where credentials come from; asked once per call (not per attempt), so a provider
  /// that calls STS should be wrapped in a CachingCredentialsProvider (the default chain
  /// is). Null: requests are sent unsigned.
  std::shared_ptr<CredentialsProvider> credentials;
  /// Null: AwsClient creates a curl transport from `http`. resolveClientConfig already
  /// sets one, so changing `http` afterwards needs `transport = makeCurlTransport(http)`.
  std::shared_ptr<HttpTransport> transport;
  HttpOptions http;
  RetryConfig retry;
  /// Service key -> endpoint URL; beats every environment setting (see resolveEndpoint).
  std::map<std::string, std::string> endpointOverrides;
  /// Debug log: one line per attempt (method, URL, target or action, status, latency,
  /// retries). Off when null. Never receives a secret key, a session token, a
  /// signature or a request/response body: sensitive headers are redacted.
  std::ostream* debugLog = nullptr;
  SleepFn sleep;    ///< null: std::this_thread::sleep_for
  RandomFn random;  ///< null: a mt19937_64 seeded from std::random_device
  ClockFn clock;    ///< null: std::chrono::system_clock::now
};

/// The inputs of resolveClientConfig.
struct ResolveOptions {
  /// An explicit region that beats everything (e.g. a command-line flag).
  std::optional<std::string> regionOverride = std::nullopt;
  /// The region of the deployment spec, used when nothing else names one.
  std::optional<std::string> defaultRegion = std::nullopt;
  /// An explicit profile (e.g. a --profile flag). When set, credentials in the
  /// environment variables are ignored, as the AWS CLI does for --profile.
  std::optional<std::string> profile = std::nullopt;
  Environment env = Environment::process();
};

/// The profile to use: options.profile, AWS_PROFILE, AWS_DEFAULT_PROFILE or "default".
std::string resolveProfileName(const ResolveOptions& options);

/// The region, by the order documented at the top of this file. Throws ConfigError when
/// there is none.
std::string resolveRegion(const ResolveOptions& options, const SharedConfig& shared,
                          const std::string& profile);

/// Reads the shared files, resolves profile, region and max attempts, and installs the
/// default credential chain (cached) and a curl transport. Throws ConfigError.
ClientConfig resolveClientConfig(const ResolveOptions& options);

}  // namespace gops::aws
