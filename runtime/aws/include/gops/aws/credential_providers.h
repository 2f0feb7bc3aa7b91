#pragma once

// Credential sources, and the default chain that reads credentials the way every AWS tool
// does:
//
//   1. Environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN].
//   2. Web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE [+ AWS_ROLE_SESSION_NAME],
//      exchanged through STS AssumeRoleWithWebIdentity (an unsigned call); the file is
//      read again at every refresh (the token rotates). Without a token file, in a
//      GitHub Actions job allowed `id-token: write`: AWS_ROLE_ARN with the job's OIDC
//      token request (ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN,
//      audience sts.amazonaws.com), a new token asked for at every refresh.
//   3. The profile in the shared files (see shared_config.h), which may hold
//        - static keys: aws_access_key_id, aws_secret_access_key [, aws_session_token];
//        - role_arn + source_profile [+ role_session_name, external_id,
//          duration_seconds]: the source profile's credentials (themselves possibly a
//          role) are exchanged through STS AssumeRole; a profile that is its own
//          source_profile uses its own static keys as the source;
//        - role_arn + web_identity_token_file [+ role_session_name]: web identity.
//      role_arn takes precedence over static keys in the same profile.
//
// Steps 1 and 2 are skipped when the profile was chosen explicitly (ResolveOptions::
// profile). Not implemented yet: credential_process, SSO, the ECS container endpoint and
// EC2 instance metadata.
//
// The chain is wrapped in a cache that refreshes temporary credentials 5 minutes before
// they expire: a web identity's role session is renewed for as long as the process
// runs (a deploy that outlasts one session keeps working).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gops/aws/config.h"
#include "gops/aws/credentials.h"
#include "gops/aws/environment.h"
#include "gops/aws/shared_config.h"

namespace gops::aws {

/// Always the same credentials.
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials);
  std::optional<Credentials> tryResolve() override;
  std::string name() const override { return "static credentials"; }

 private:
  Credentials credentials_;
};

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Only one of the first
/// two set is a CredentialsError.
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(Environment env);
  std::optional<Credentials> tryResolve() override;
  std::string name() const override { return "environment variables"; }

 private:
  Environment env_;
};

/// The audience of the GitHub Actions OIDC tokens gops asks for: what AWS's OIDC
/// provider for GitHub and the deploy roles' trust policies expect.
inline constexpr const char* kGithubOidcAudience = "sts.amazonaws.com";

/// The parameters of STS AssumeRoleWithWebIdentity, and where its token comes from:
/// `tokenFile`, else GitHub Actions' OIDC token endpoint.
struct WebIdentitySettings {
  std::string roleArn;
  std::string tokenFile;    ///< read at every refresh: the token rotates
  std::string sessionName;  ///< empty: "gops-<unix time>"
  /// Without a token file: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN
  /// of a GitHub Actions job; a token for `audience` is requested at every refresh.
  std::string githubRequestUrl;
  std::string githubRequestToken;  ///< a secret: never logged
  std::string audience = kGithubOidcAudience;
};

/// Asks GitHub Actions' OIDC endpoint for an ID token: GET `requestUrl` with
/// `audience=<audience>` added to its query and `Authorization: bearer <requestToken>`;
/// the answer is JSON `{"value": "<token>"}`. `transport` null: a curl transport.
/// Throws CredentialsError naming the HTTP status (never the tokens).
std::string requestGithubOidcToken(const std::string& requestUrl, const std::string& requestToken,
                                   const std::string& audience, const std::shared_ptr<HttpTransport>& transport);

/// Exchanges a web identity token (an EKS token file, a GitHub Actions OIDC token) for
/// role credentials.
class WebIdentityCredentialsProvider final : public CredentialsProvider {
 public:
  /// `stsConfig` says how to reach STS (region, endpoint overrides, transport...); its
  /// `credentials` are ignored since the call is unsigned.
  WebIdentityCredentialsProvider(WebIdentitySettings settings, ClientConfig stsConfig);
  std::optional<Credentials> tryResolve() override;
  std::string name() const override {
    return settings_.tokenFile.empty() ? "web identity (GitHub Actions OIDC)" : "web identity";
  }

  /// From AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_SESSION_NAME of
  /// stsConfig.env; without a token file, from AWS_ROLE_ARN with GitHub Actions'
  /// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN. nullptr when
  /// AWS_ROLE_ARN is unset or neither token source is.
  static std::shared_ptr<WebIdentityCredentialsProvider> fromEnvironment(
      const ClientConfig& stsConfig);

 private:
  WebIdentitySettings settings_;
  ClientConfig stsConfig_;
};

/// The parameters of STS AssumeRole.
struct AssumeRoleSettings {
  std::string roleArn;
  std::string sessionName;  ///< empty: "gops-<unix time>"
  std::string externalId;   ///< optional
  int durationSeconds = 0;  ///< 0: the STS default (1 hour)
};

/// Assumes a role with credentials from another provider.
class AssumeRoleCredentialsProvider final : public CredentialsProvider {
 public:
  AssumeRoleCredentialsProvider(AssumeRoleSettings settings,
                                std::shared_ptr<CredentialsProvider> source,
                                ClientConfig stsConfig, std::string description);
  std::optional<Credentials> tryResolve() override;
  std::string name() const override { return description_; }

 private:
  AssumeRoleSettings settings_;
  std::shared_ptr<CredentialsProvider> source_;
  ClientConfig stsConfig_;
  std::string description_;
};

/// The credentials of one profile of the shared files (see the top of this file).
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  /// `mustExist`: a missing profile is a CredentialsError rather than "not configured".
  ProfileCredentialsProvider(std::string profile, SharedConfig shared, ClientConfig stsConfig,
                             bool mustExist);
  std::optional<Credentials> tryResolve() override;
  std::string name() const override;

 private:
  std::string profile_;
  SharedConfig shared_;
  ClientConfig stsConfig_;
  bool mustExist_;
};

/// The first provider that gives credentials.
class CredentialsProviderChain final : public CredentialsProvider {
 public:
  explicit CredentialsProviderChain(std::vector<std::shared_ptr<CredentialsProvider>> providers);
  std::optional<Credentials> tryResolve() override;
  std::string name() const override;

 private:
  std::vector<std::shared_ptr<CredentialsProvider>> providers_;
};

/// Remembers the credentials of `inner` until `refreshBefore` ahead of their expiration.
/// Thread-safe.
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::shared_ptr<CredentialsProvider> inner, ClockFn clock,
                             std::chrono::seconds refreshBefore = std::chrono::minutes(5));
  ~CachingCredentialsProvider() override;
  std::optional<Credentials> tryResolve() override;
  std::string name() const override { return inner_->name(); }

 private:
  std::shared_ptr<CredentialsProvider> inner_;
  ClockFn clock_;
  std::chrono::seconds refreshBefore_;
  struct State;
  std::unique_ptr<State> state_;
};

/// The default chain described at the top of this file, cached. `stsConfig` says how to
/// reach STS for the role providers (its `credentials` are ignored).
std::shared_ptr<CredentialsProvider> makeDefaultCredentialsChain(const ClientConfig& stsConfig,
                                                                 const SharedConfig& shared,
                                                                 const std::string& profile,
                                                                 bool explicitProfile,
                                                                 bool profileMustExist);

}  // namespace gops::aws
