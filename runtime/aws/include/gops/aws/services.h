#pragma once

// The AWS services the runtime talks to, and where their endpoints are.

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "gops/aws/environment.h"

namespace gops::aws {

enum class Protocol {
  Json,   ///< POST /, X-Amz-Target: <targetPrefix>.<Operation>, application/x-amz-json-1.x
  Query,  ///< POST /, form body Action=<Action>&Version=<apiVersion>&..., XML response
};

/// Static facts about one service.
struct ServiceInfo {
  std::string_view key;             ///< our name for it: "ecs", "elasticloadbalancing", ...
  std::string_view serviceId;       ///< the SDK service id: "ECS", "Elastic Load Balancing v2"
  std::string_view signingName;     ///< SigV4 service name: "ecs", "monitoring", ...
  std::string_view endpointPrefix;  ///< host prefix: "api.ecr" -> api.ecr.<region>.amazonaws.com
  Protocol protocol;
  std::string_view jsonVersion;     ///< "1.0" or "1.1" (Json only)
  std::string_view targetPrefix;    ///< X-Amz-Target prefix (Json only)
  std::string_view apiVersion;      ///< "2015-12-01" (the Version parameter of Query)
};

/// ecs, elasticloadbalancing (v2), monitoring (CloudWatch), ssm, secretsmanager, ecr,
/// logs, application-autoscaling, sts.
std::span<const ServiceInfo> allServices() noexcept;

/// The service with this key (or signing name, or endpoint prefix), or nullptr.
const ServiceInfo* findService(std::string_view key) noexcept;

/// findService, or ConfigError listing the known keys.
const ServiceInfo& serviceInfo(std::string_view key);

/// The suffix of the per-service endpoint variable: the service id upper-cased with
/// spaces replaced by '_' ("Elastic Load Balancing v2" -> "ELASTIC_LOAD_BALANCING_V2").
std::string endpointEnvSuffix(const ServiceInfo& service);

/// A resolved endpoint.
struct Endpoint {
  std::string url;     ///< "https://ssm.us-east-1.amazonaws.com"
  std::string source;  ///< "override", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL" or "default"
};

/// Resolution order, first match wins:
///  1. `overrides[service.key]` (set programmatically, e.g. by tests or a CLI flag);
///  2. AWS_ENDPOINT_URL_<SERVICE> (see endpointEnvSuffix);
///  3. AWS_ENDPOINT_URL;
///  4. https://<endpointPrefix>.<region>.amazonaws.com (".amazonaws.com.cn" for cn-*).
/// Steps 2 and 3 are skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true".
/// Throws ConfigError when the default is needed and `region` is empty.
Endpoint resolveEndpoint(const ServiceInfo& service, std::string_view region,
                         const Environment& env,
                         const std::map<std::string, std::string>& overrides = {});

}  // namespace gops::aws
