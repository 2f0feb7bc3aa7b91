#pragma once

// The AWS "standard" retry mode.
//
//  - Only throttling errors (isThrottlingCode, HTTP 429) and transient errors
//    (isTransientCode, HTTP 500/502/503/504, connection failures, timeouts, broken
//    connections) are retried. TLS failures and every other error fail at once.
//  - At most `maxAttempts` attempts in total (default 3; AWS_MAX_ATTEMPTS or the profile's
//    `max_attempts` override it, see config.h).
//  - Before retry n (n = 1, 2, ...) the client sleeps
//        random() * min(maxBackoff, baseDelay * 2^(n-1))
//    i.e. exponential backoff with full jitter. The defaults, baseDelay 1 s and
//    maxBackoff 20 s, are those of the AWS SDKs' standard mode (botocore, AWS CLI).
//  - A retry quota (token bucket) shared by all the calls of one client: it starts at 500,
//    a retry costs 5 (10 after a timeout), a successful call gives back what its last
//    retry cost, or 1 when it needed none. An empty bucket stops retrying, so that a
//    failing endpoint is not hammered by every call.

#include <chrono>
#include <functional>
#include <mutex>

namespace gops::aws {

struct RetryConfig {
  /// Total attempts, the first included. Values below 1 are treated as 1.
  int maxAttempts = 3;
  std::chrono::milliseconds baseDelay{1000};
  std::chrono::milliseconds maxBackoff{20'000};
  bool useRetryQuota = true;
  int quotaCapacity = 500;
  int retryCost = 5;
  int timeoutRetryCost = 10;
  int noRetryIncrement = 1;
};

/// How a failed attempt is classified.
enum class RetryKind {
  None,        ///< not retryable
  Throttling,  ///< throttling error code or HTTP 429
  Transient,   ///< transient code/status, connection failure, broken connection
  Timeout,     ///< the request timed out (costs more quota)
};

/// The delay before the retry that follows failed attempt `attempt` (1-based):
/// random01 * min(maxBackoff, baseDelay * 2^(attempt-1)), random01 clamped to [0, 1].
std::chrono::milliseconds backoffDelay(int attempt, double random01, const RetryConfig& config);

/// The retry token bucket. Thread-safe.
class RetryQuota {
 public:
  explicit RetryQuota(const RetryConfig& config);

  /// Takes the cost of one retry of kind `kind` out of the bucket and stores it in
  /// `taken` (to be given back on success). Returns false, taking nothing, when the
  /// bucket holds less than the cost: the caller must then stop retrying. Always
  /// succeeds (taking 0) when the quota is disabled.
  /// Precondition: kind != RetryKind::None.
  bool acquire(RetryKind kind, int& taken);
  /// A call succeeded; `lastRetryCost` is what its last acquire took (0 when it needed no
  /// retry).
  void release(int lastRetryCost);
  int available() const;

 private:
  RetryConfig config_;
  mutable std::mutex mutex_;
  int available_;
};

}  // namespace gops::aws
