#include "gops/aws/services.h"

#include <array>

#include "gops/aws/error.h"
#include "gops/aws/http.h"

namespace gops::aws {

namespace {

// The facts come from each service's API model (metadata: serviceId, signingName,
// endpointPrefix, protocol, jsonVersion, targetPrefix, apiVersion).
constexpr std::array<ServiceInfo, 9> kServices = {{
    {"ecs", "ECS", "ecs", "ecs", Protocol::Json, "1.1", "AmazonEC2ContainerServiceV20141113",
     "2014-11-13"},
    {"elasticloadbalancing", "Elastic Load Balancing v2", "elasticloadbalancing",
     "elasticloadbalancing", Protocol::Query, "", "", "2015-12-01"},
    {"monitoring", "CloudWatch", "monitoring", "monitoring", Protocol::Json, "1.0",
     "GraniteServiceVersion20100801", "2010-08-01"},
    {"ssm", "SSM", "ssm", "ssm", Protocol::Json, "1.1", "AmazonSSM", "2014-11-06"},
    {"secretsmanager", "Secrets Manager", "secretsmanager", "secretsmanager", Protocol::Json, "1.1",
     "secretsmanager", "2017-10-17"},
    {"ecr", "ECR", "ecr", "api.ecr", Protocol::Json, "1.1", "AmazonEC2ContainerRegistry_V20150921",
     "2015-09-21"},
    {"logs", "CloudWatch Logs", "logs", "logs", Protocol::Json, "1.1", "Logs_20140328", "2014-03-28"},
    {"application-autoscaling", "Application Auto Scaling", "application-autoscaling",
     "application-autoscaling", Protocol::Json, "1.1", "AnyScaleFrontendService", "2016-02-06"},
    {"sts", "STS", "sts", "sts", Protocol::Query, "", "", "2011-06-15"},
}};

std::string trimTrailingSlash(std::string url) {
  while (url.size() > 1 && url.back() == '/' && url[url.size() - 2] != '/') url.pop_back();
  return url;
}

}  // namespace

std::span<const ServiceInfo> allServices() noexcept { return kServices; }

const ServiceInfo* findService(std::string_view key) noexcept {
  for (const ServiceInfo& s : kServices) {
    if (s.key == key) return &s;
  }
  for (const ServiceInfo& s : kServices) {
    if (s.signingName == key || s.endpointPrefix == key) return &s;
  }
  return nullptr;
}

const ServiceInfo& serviceInfo(std::string_view key) {
  if (const ServiceInfo* s = findService(key)) return *s;
  std::string known;
  for (const ServiceInfo& s : kServices) {
    if (!known.empty()) known += ", ";
    known += s.key;
  }
  throw ConfigError("unknown AWS service '" + std::string(key) + "' (known: " + known + ")");
}

std::string endpointEnvSuffix(const ServiceInfo& service) {
  std::string out;
  for (const char c : service.serviceId) {
    if (c == ' ' || c == '-') {
      out.push_back('_');
    } else if (c >= 'a' && c <= 'z') {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Endpoint resolveEndpoint(const ServiceInfo& service, std::string_view region,
                         const Environment& env,
                         const std::map<std::string, std::string>& overrides) {
  auto checked = [](std::string url, std::string source) {
    (void)parseUrl(url);  // throws ConfigError naming the URL when unusable
    return Endpoint{trimTrailingSlash(std::move(url)), std::move(source)};
  };
  if (const auto it = overrides.find(std::string(service.key)); it != overrides.end() && !it->second.empty()) {
    return checked(it->second, "override");
  }
  const bool ignoreConfigured = toLower(env.getOr("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")) == "true";
  if (!ignoreConfigured) {
    const std::string perService = "AWS_ENDPOINT_URL_" + endpointEnvSuffix(service);
    if (auto url = env.get(perService)) return checked(*url, perService);
    if (auto url = env.get("AWS_ENDPOINT_URL")) return checked(*url, "AWS_ENDPOINT_URL");
  }
  if (region.empty()) {
    throw ConfigError("no region configured for " + std::string(service.serviceId) +
                      " (set AWS_REGION or the region of the deployment spec)");
  }
  for (const char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      throw ConfigError("invalid region name '" + std::string(region) + "'");
    }
  }
  const std::string suffix = region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  return Endpoint{"https://" + std::string(service.endpointPrefix) + "." + std::string(region) + suffix,
                  "default"};
}

}  // namespace gops::aws
