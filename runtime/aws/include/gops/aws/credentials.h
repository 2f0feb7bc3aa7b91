#pragma once

// AWS credentials and the interface of a credential source. The concrete sources
// (environment, web identity, shared profiles, AssumeRole) are in credential_providers.h.

#include <chrono>
#include <optional>
#include <string>

namespace gops::aws {

/// A set of AWS credentials.
///
/// Invariant: these values are secrets (the access key id a little less so). Nothing in
/// this library prints them; `describe()` is the only way to render credentials, and it
/// shows the source and the last four characters of the access key id only.
struct Credentials {
  std::string accessKeyId;
  std::string secretAccessKey;
  /// Session token of temporary credentials; empty for long-term keys.
  std::string sessionToken;
  /// When temporary credentials stop working; nullopt when they do not expire.
  std::optional<std::chrono::system_clock::time_point> expiration;
  /// Which provider produced them, e.g. "environment", "profile default",
  /// "web identity", "assume role (profile dev)".
  std::string source;

  bool complete() const noexcept { return !accessKeyId.empty() && !secretAccessKey.empty(); }
  /// "AKID...WXYZ from environment" without any secret.
  std::string describe() const;
};

/// A source of credentials.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;

  /// nullopt when this source is not configured (the chain then asks the next one).
  /// Throws CredentialsError when the source is configured but fails.
  virtual std::optional<Credentials> tryResolve() = 0;

  /// A short description for error messages, e.g. "environment variables".
  virtual std::string name() const = 0;

  /// tryResolve(), or CredentialsError naming this provider when it gives nothing.
  Credentials resolve();
};

}  // namespace gops::aws
