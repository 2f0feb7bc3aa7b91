#pragma once
// The ledger (SSM parameters under the plan's `ledger` path) and the environment's
// lock in it (docs/runtime.md, The ledger).
#include <functional>
#include <optional>
#include <string>

#include "gops/aws/client.h"
#include "reporter.h"
#include "util.h"

namespace gops::deploy::exec {

class Ledger {
 public:
  /// `aws` gives the client of the calling thread.
  Ledger(std::function<aws::AwsClient&()> aws, std::string root) : aws_(std::move(aws)), root_(std::move(root)) {}
  std::string name(const std::string& rel) const { return root_ + "/" + rel; }
  void put(const std::string& rel, const json& value);
  /// The value of `rel`; nullopt when it does not exist (or does not hold JSON).
  std::optional<json> get(const std::string& rel);
  /// Create-if-absent; false when the parameter exists.
  bool create(const std::string& rel, const json& value);
  void remove(const std::string& rel);

 private:
  std::function<aws::AwsClient&()> aws_;
  std::string root_;
};

/// Who takes the lock, and for how long.
struct LockHolder {
  std::string owner;     ///< user@host pid N, or the GitHub actor
  std::string deployId;
  std::string imageTag;
  std::string command;   ///< apply | rollback
  std::string started;   ///< ISO 8601
  int ttlSeconds = 7200;  ///< after this a lock belongs to a dead apply
};

/// The environment's lock: `<ledger>/lock`, at most one apply or rollback at a time.
/// Its value is written in one place (value()), which is where a heartbeat would
/// renew `expires`.
class Lock {
 public:
  Lock(Ledger& ledger, Reporter& report) : ledger_(ledger), report_(report) {}
  /// A lock is stale when it has expired, or when its holder ran on this machine and
  /// is gone (`kill -9`, a crash): then it can be taken over.
  static bool isStale(const json& lock);
  /// `owner, deploy D, since T`: who holds `lock`, for messages.
  static std::string describe(const json& lock);
  /// The lock's value when another, live apply holds it (preflight's check).
  std::optional<json> heldByAnother();
  /// Takes the lock for `holder`, taking a stale one over (a `lock_taken_over`
  /// event). False, with `heldBy` saying who holds it, when a live one is held.
  bool acquire(const LockHolder& holder, std::string& heldBy);
  /// Releases the lock if this session holds it; a failure is a warning.
  void release();

 private:
  json value() const;

  Ledger& ledger_;
  Reporter& report_;
  LockHolder holder_;
};

}  // namespace gops::deploy::exec
