#include "gops/aws/retry.h"

#include <algorithm>
#include <cmath>

namespace gops::aws {

std::chrono::milliseconds backoffDelay(int attempt, double random01, const RetryConfig& config) {
  const double r = std::isnan(random01) ? 0.0 : std::clamp(random01, 0.0, 1.0);
  const int exponent = std::clamp(attempt - 1, 0, 30);  // 2^30 s is far above any cap
  const double base = static_cast<double>(config.baseDelay.count());
  const double cap = static_cast<double>(std::max(config.maxBackoff.count(), std::chrono::milliseconds::rep{0}));
  const double ceiling = std::min(cap, base * std::ldexp(1.0, exponent));
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(std::floor(r * ceiling)));
}

RetryQuota::RetryQuota(const RetryConfig& config) : config_(config), available_(config.quotaCapacity) {}

bool RetryQuota::acquire(RetryKind kind, int& taken) {
  taken = 0;
  if (!config_.useRetryQuota) return true;
  const int cost = kind == RetryKind::Timeout ? config_.timeoutRetryCost : config_.retryCost;
  const std::lock_guard lock(mutex_);
  if (available_ < cost) return false;
  available_ -= cost;
  taken = cost;
  return true;
}

void RetryQuota::release(int lastRetryCost) {
  if (!config_.useRetryQuota) return;
  const std::lock_guard lock(mutex_);
  available_ = std::min(config_.quotaCapacity,
                        available_ + (lastRetryCost > 0 ? lastRetryCost : config_.noRetryIncrement));
}

int RetryQuota::available() const {
  const std::lock_guard lock(mutex_);
  return available_;
}

}  // namespace gops::aws
