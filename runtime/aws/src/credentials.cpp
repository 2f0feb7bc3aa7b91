#include "gops/aws/credentials.h"

#include "gops/aws/error.h"

namespace gops::aws {

std::string Credentials::describe() const {
  std::string key = accessKeyId.size() > 4 ? "..." + accessKeyId.substr(accessKeyId.size() - 4) : "...";
  std::string out = "access key " + key;
  if (!sessionToken.empty()) out += " (temporary)";
  if (!source.empty()) out += " from " + source;
  return out;
}

Credentials CredentialsProvider::resolve() {
  if (auto credentials = tryResolve()) return std::move(*credentials);
  throw CredentialsError("no AWS credentials found (tried: " + name() + ")");
}

}  // namespace gops::aws
