#include "util.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "gops/aws/encoding.h"

namespace gops::deploy::exec {

std::string nowIso() { return aws::formatIso8601(Clock::now()); }

long long nowEpoch() { return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count(); }

std::string hostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string awsMessage(const std::exception& e) {
  if (const auto* a = dynamic_cast<const aws::AwsError*>(&e)) {
    return fmt::format("{} {}: {}{}", a->service(), a->operation(), a->code(), a->message().empty() ? "" : ": " + a->message());
  }
  return e.what();
}

bool isCode(const aws::AwsError& e, std::initializer_list<const char*> codes) {
  for (const char* c : codes) {
    if (e.code() == c) return true;
  }
  return false;
}

std::string formatNumber(double v) {
  if (v == static_cast<double>(static_cast<long long>(v))) return std::to_string(static_cast<long long>(v));
  return fmt::format("{}", v);
}

json planNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) return static_cast<long long>(v);
  return v;
}

}  // namespace gops::deploy::exec
