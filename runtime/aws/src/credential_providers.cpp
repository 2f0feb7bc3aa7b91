#include "gops/aws/credential_providers.h"

#include <charconv>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gops/aws/client.h"
#include "gops/aws/encoding.h"
#include "gops/aws/error.h"
#include "gops/aws/http.h"

namespace gops::aws {

namespace {

std::chrono::system_clock::time_point now(const ClientConfig& config) {
  return config.clock ? config.clock() : std::chrono::system_clock::now();
}

std::string defaultSessionName(const ClientConfig& config) {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now(config).time_since_epoch()).count();
  return "gops-" + std::to_string(seconds);
}

/// The <Credentials> of an AssumeRole* result.
Credentials credentialsFromSts(const XmlDocument& doc, const std::string& source) {
  const XmlElement* element = doc.result().child("Credentials");
  if (element == nullptr) throw CredentialsError(source + ": the STS response has no credentials");
  Credentials out;
  out.accessKeyId = element->childTextOr("AccessKeyId", "");
  out.secretAccessKey = element->childTextOr("SecretAccessKey", "");
  out.sessionToken = element->childTextOr("SessionToken", "");
  if (auto expiration = element->childText("Expiration")) out.expiration = parseIso8601(*expiration);
  out.source = source;
  if (!out.complete()) throw CredentialsError(source + ": the STS response has incomplete credentials");
  return out;
}

/// Runs an STS call, turning its failures into CredentialsError.
template <typename F>
Credentials callSts(const std::string& what, F&& call) {
  try {
    return call();
  } catch (const CredentialsError&) {
    throw;
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    throw CredentialsError(what + " failed: " + e.what());
  }
}

std::string readTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CredentialsError("cannot read the web identity token file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) throw CredentialsError("the web identity token file '" + path + "' is empty");
  return token;
}

int parseDuration(const std::string& text, const std::string& profile) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    throw CredentialsError("profile " + profile + ": duration_seconds '" + text + "' is not a positive integer");
  }
  return value;
}

}  // namespace

// --- StaticCredentialsProvider ---------------------------------------------------------

StaticCredentialsProvider::StaticCredentialsProvider(Credentials credentials)
    : credentials_(std::move(credentials)) {
  if (credentials_.source.empty()) credentials_.source = "static credentials";
}

std::optional<Credentials> StaticCredentialsProvider::tryResolve() {
  if (!credentials_.complete()) return std::nullopt;
  return credentials_;
}

// --- EnvironmentCredentialsProvider ----------------------------------------------------

EnvironmentCredentialsProvider::EnvironmentCredentialsProvider(Environment env) : env_(std::move(env)) {}

std::optional<Credentials> EnvironmentCredentialsProvider::tryResolve() {
  auto key = env_.get("AWS_ACCESS_KEY_ID");
  auto secret = env_.get("AWS_SECRET_ACCESS_KEY");
  if (!key && !secret) return std::nullopt;
  if (!key || !secret) {
    throw CredentialsError(std::string("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (only ") +
                           (key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is set)");
  }
  Credentials out;
  out.accessKeyId = std::move(*key);
  out.secretAccessKey = std::move(*secret);
  out.sessionToken = env_.getOr("AWS_SESSION_TOKEN", "");
  out.source = "environment";
  return out;
}

// --- WebIdentityCredentialsProvider ----------------------------------------------------

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(WebIdentitySettings settings,
                                                               ClientConfig stsConfig)
    : settings_(std::move(settings)), stsConfig_(std::move(stsConfig)) {
  stsConfig_.credentials = nullptr;  // AssumeRoleWithWebIdentity is an unsigned call
}

std::shared_ptr<WebIdentityCredentialsProvider> WebIdentityCredentialsProvider::fromEnvironment(
    const ClientConfig& stsConfig) {
  auto role = stsConfig.env.get("AWS_ROLE_ARN");
  if (!role) return nullptr;
  WebIdentitySettings settings;
  settings.roleArn = *role;
  settings.sessionName = stsConfig.env.getOr("AWS_ROLE_SESSION_NAME", "");
  if (auto file = stsConfig.env.get("AWS_WEB_IDENTITY_TOKEN_FILE")) {
    settings.tokenFile = expandHome(*file, stsConfig.env);
  } else {
    auto url = stsConfig.env.get("ACTIONS_ID_TOKEN_REQUEST_URL");
    auto token = stsConfig.env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    if (!url || !token) return nullptr;
    settings.githubRequestUrl = *url;
    settings.githubRequestToken = *token;
  }
  return std::make_shared<WebIdentityCredentialsProvider>(std::move(settings), stsConfig);
}

std::string requestGithubOidcToken(const std::string& requestUrl, const std::string& requestToken,
                                   const std::string& audience, const std::shared_ptr<HttpTransport>& transport) {
  const std::string what = "web identity: the GitHub Actions OIDC token request";
  ParsedUrl url;
  try {
    url = parseUrl(requestUrl, true);
  } catch (const ConfigError&) {
    throw CredentialsError(what + ": ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL");
  }
  HttpRequest request;
  request.method = "GET";
  request.scheme = url.scheme;
  request.host = url.host;
  request.path = url.path;
  request.query = url.query + (url.query.empty() ? "" : "&") + "audience=" + uriEncode(audience);
  request.headers = {{"Authorization", "bearer " + requestToken},
                     {"Accept", "application/json; api-version=2.0"},
                     {"Host", url.host}};
  HttpResponse response;
  try {
    std::shared_ptr<HttpTransport> t = transport ? transport : makeCurlTransport();
    response = t->send(request);
  } catch (const Error& e) {
    throw CredentialsError(what + " failed: " + e.what());
  }
  if (response.status != 200) {
    throw CredentialsError(what + " failed: HTTP " + std::to_string(response.status) +
                           " (is the job allowed `permissions: id-token: write`?)");
  }
  std::string token;
  try {
    token = nlohmann::json::parse(response.body).at("value").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    throw CredentialsError(what + ": the answer has no token (`value`)");
  }
  if (token.empty()) throw CredentialsError(what + ": the answer's token is empty");
  return token;
}

std::optional<Credentials> WebIdentityCredentialsProvider::tryResolve() {
  const std::string token =
      settings_.tokenFile.empty()
          ? requestGithubOidcToken(settings_.githubRequestUrl, settings_.githubRequestToken, settings_.audience, stsConfig_.transport)
          : readTokenFile(settings_.tokenFile);
  QueryParams params;
  params["RoleArn"] = settings_.roleArn;
  params["RoleSessionName"] =
      settings_.sessionName.empty() ? defaultSessionName(stsConfig_) : settings_.sessionName;
  params["WebIdentityToken"] = token;
  return callSts("web identity: AssumeRoleWithWebIdentity for " + settings_.roleArn, [&] {
    AwsClient sts(stsConfig_);
    return credentialsFromSts(sts.callQuery("sts", "AssumeRoleWithWebIdentity", params),
                              "web identity (" + settings_.roleArn + ")");
  });
}

// --- AssumeRoleCredentialsProvider -----------------------------------------------------

AssumeRoleCredentialsProvider::AssumeRoleCredentialsProvider(AssumeRoleSettings settings,
                                                             std::shared_ptr<CredentialsProvider> source,
                                                             ClientConfig stsConfig, std::string description)
    : settings_(std::move(settings)),
      source_(std::move(source)),
      stsConfig_(std::move(stsConfig)),
      description_(std::move(description)) {
  stsConfig_.credentials = source_;
}

std::optional<Credentials> AssumeRoleCredentialsProvider::tryResolve() {
  QueryParams params;
  params["RoleArn"] = settings_.roleArn;
  params["RoleSessionName"] =
      settings_.sessionName.empty() ? defaultSessionName(stsConfig_) : settings_.sessionName;
  if (!settings_.externalId.empty()) params["ExternalId"] = settings_.externalId;
  if (settings_.durationSeconds > 0) params["DurationSeconds"] = std::to_string(settings_.durationSeconds);
  return callSts(description_ + ": AssumeRole " + settings_.roleArn, [&] {
    AwsClient sts(stsConfig_);
    return credentialsFromSts(sts.callQuery("sts", "AssumeRole", params), description_);
  });
}

// --- ProfileCredentialsProvider --------------------------------------------------------

ProfileCredentialsProvider::ProfileCredentialsProvider(std::string profile, SharedConfig shared,
                                                       ClientConfig stsConfig, bool mustExist)
    : profile_(std::move(profile)),
      shared_(std::move(shared)),
      stsConfig_(std::move(stsConfig)),
      mustExist_(mustExist) {
  stsConfig_.credentials = nullptr;
}

std::string ProfileCredentialsProvider::name() const { return "profile " + profile_; }

namespace {

/// Resolves profile `name` of `shared`, following source_profile links.
/// `top`: the profile the user asked for (an empty one is "not configured" rather than
/// an error). Returns nullopt only for an empty top-level profile.
std::optional<Credentials> resolveProfile(const SharedConfig& shared, const std::string& name,
                                          const ClientConfig& sts, std::set<std::string>& visiting,
                                          bool top) {
  const ProfileSettings* settings = shared.profile(name);
  if (settings == nullptr) throw CredentialsError("the AWS profile '" + name + "' does not exist");
  if (!visiting.insert(name).second) {
    throw CredentialsError("the AWS profile '" + name + "' is part of a source_profile cycle");
  }
  auto get = [&](const char* key) { return shared.get(name, key).value_or(""); };

  auto staticKeys = [&]() -> std::optional<Credentials> {
    const std::string key = get("aws_access_key_id");
    const std::string secret = get("aws_secret_access_key");
    if (key.empty() && secret.empty()) return std::nullopt;
    if (key.empty() || secret.empty()) {
      throw CredentialsError("the AWS profile '" + name +
                             "' must set both aws_access_key_id and aws_secret_access_key");
    }
    Credentials out;
    out.accessKeyId = key;
    out.secretAccessKey = secret;
    out.sessionToken = get("aws_session_token");
    out.source = "profile " + name;
    return out;
  };

  const std::string roleArn = get("role_arn");
  if (roleArn.empty()) {
    if (auto keys = staticKeys()) return keys;
    for (const char* unsupported : {"credential_process", "sso_session", "sso_start_url"}) {
      if (!get(unsupported).empty()) {
        throw CredentialsError("the AWS profile '" + name + "' uses " + unsupported +
                               ", which gops does not support yet");
      }
    }
    if (top) return std::nullopt;
    throw CredentialsError("the AWS profile '" + name + "' has no credentials");
  }

  const std::string sessionName = get("role_session_name");
  if (const std::string tokenFile = get("web_identity_token_file"); !tokenFile.empty()) {
    WebIdentitySettings settings;
    settings.roleArn = roleArn;
    settings.tokenFile = expandHome(tokenFile, sts.env);
    settings.sessionName = sessionName;
    WebIdentityCredentialsProvider provider(std::move(settings), sts);
    return provider.tryResolve();
  }
  const std::string sourceProfile = get("source_profile");
  if (sourceProfile.empty()) {
    if (!get("credential_source").empty()) {
      throw CredentialsError("the AWS profile '" + name + "' uses credential_source, which gops does not support yet");
    }
    throw CredentialsError("the AWS profile '" + name +
                           "' sets role_arn without source_profile or web_identity_token_file");
  }
  std::optional<Credentials> source;
  if (sourceProfile == name) {
    source = staticKeys();  // a profile that is its own source uses its own keys
    if (!source) throw CredentialsError("the AWS profile '" + name + "' is its own source_profile but has no keys");
  } else {
    source = resolveProfile(shared, sourceProfile, sts, visiting, false);
  }
  AssumeRoleSettings role;
  role.roleArn = roleArn;
  role.sessionName = sessionName;
  role.externalId = get("external_id");
  if (const std::string duration = get("duration_seconds"); !duration.empty()) {
    role.durationSeconds = parseDuration(duration, name);
  }
  AssumeRoleCredentialsProvider provider(std::move(role),
                                         std::make_shared<StaticCredentialsProvider>(std::move(*source)),
                                         sts, "assume role (profile " + name + ")");
  return provider.tryResolve();
}

}  // namespace

std::optional<Credentials> ProfileCredentialsProvider::tryResolve() {
  if (shared_.profile(profile_) == nullptr) {
    if (mustExist_) throw CredentialsError("the AWS profile '" + profile_ + "' does not exist");
    return std::nullopt;
  }
  std::set<std::string> visiting;
  return resolveProfile(shared_, profile_, stsConfig_, visiting, true);
}

// --- CredentialsProviderChain ----------------------------------------------------------

CredentialsProviderChain::CredentialsProviderChain(std::vector<std::shared_ptr<CredentialsProvider>> providers)
    : providers_(std::move(providers)) {}

std::optional<Credentials> CredentialsProviderChain::tryResolve() {
  for (const auto& provider : providers_) {
    if (auto credentials = provider->tryResolve()) return credentials;
  }
  return std::nullopt;
}

std::string CredentialsProviderChain::name() const {
  std::string out;
  for (const auto& provider : providers_) {
    if (!out.empty()) out += ", ";
    out += provider->name();
  }
  return out;
}

// --- CachingCredentialsProvider --------------------------------------------------------

struct CachingCredentialsProvider::State {
  std::mutex mutex;
  std::optional<Credentials> cached;
};

CachingCredentialsProvider::CachingCredentialsProvider(std::shared_ptr<CredentialsProvider> inner,
                                                       ClockFn clock, std::chrono::seconds refreshBefore)
    : inner_(std::move(inner)),
      clock_(clock ? std::move(clock) : ClockFn([] { return std::chrono::system_clock::now(); })),
      refreshBefore_(refreshBefore),
      state_(std::make_unique<State>()) {}

CachingCredentialsProvider::~CachingCredentialsProvider() = default;

std::optional<Credentials> CachingCredentialsProvider::tryResolve() {
  const std::lock_guard lock(state_->mutex);
  const auto current = clock_();
  auto& cached = state_->cached;
  if (cached && (!cached->expiration || current < *cached->expiration - refreshBefore_)) return cached;
  try {
    auto fresh = inner_->tryResolve();
    if (fresh) cached = fresh;
    return fresh;
  } catch (const Error&) {
    // A failed refresh still leaves credentials that work until they expire.
    if (cached && cached->expiration && current < *cached->expiration) return cached;
    throw;
  }
}

// --- default chain ---------------------------------------------------------------------

std::shared_ptr<CredentialsProvider> makeDefaultCredentialsChain(const ClientConfig& stsConfig,
                                                                 const SharedConfig& shared,
                                                                 const std::string& profile,
                                                                 bool explicitProfile,
                                                                 bool profileMustExist) {
  ClientConfig sts = stsConfig;
  sts.credentials = nullptr;
  std::vector<std::shared_ptr<CredentialsProvider>> providers;
  if (!explicitProfile) {
    providers.push_back(std::make_shared<EnvironmentCredentialsProvider>(sts.env));
    if (auto webIdentity = WebIdentityCredentialsProvider::fromEnvironment(sts)) {
      providers.push_back(std::move(webIdentity));
    }
  }
  providers.push_back(std::make_shared<ProfileCredentialsProvider>(profile, shared, sts, profileMustExist));
  return std::make_shared<CachingCredentialsProvider>(
      std::make_shared<CredentialsProviderChain>(std::move(providers)), sts.clock);
}

}  // namespace gops::aws
