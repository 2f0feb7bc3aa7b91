#pragma once
// The ledger (SSM parameters under the plan's `ledger` path) and the environment's
// lock in it, with its heartbeat (docs/runtime.md, The ledger; The lock).
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
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

/// Who takes the lock.
struct LockHolder {
  std::string owner;     ///< user@host pid N, or the GitHub actor
  std::string deployId;
  std::string imageTag;
  std::string command;   ///< apply | rollback
  std::string started;   ///< ISO 8601
  /// The heartbeat's expiry: another machine may take over a lock whose heartbeat is
  /// older than this. Renewed every fifth of it.
  int heartbeatSeconds = 300;
};

/// What the ledger says about the lock, and the verdict on its holder.
struct LockState {
  std::optional<json> lock;       ///< nullopt: the lock is free
  std::optional<json> heartbeat;  ///< the holder's last heartbeat, when it wrote one
  bool live = false;              ///< held, by a holder that is not known to be dead
  std::string why;                ///< a dead holder: why it is judged dead
  long long expires = 0;          ///< Unix seconds: when the holder counts as dead
  long long lastBeat = 0;         ///< Unix seconds: its last heartbeat (or when it took the lock)
};

/// The lock was taken over by another command (which judged this one dead), deleted by
/// hand, or its heartbeat could not be renewed before it expired: this session may
/// change nothing more.
struct LockLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The environment's lock: `<ledger>/lock`, at most one apply or rollback at a time.
///
/// The lock is created if absent (SSM PutParameter with Overwrite=false), never
/// overwritten. Its holder proves it is alive with a heartbeat in a parameter of its
/// own, `<ledger>/lock-heartbeat/<token>` (the token is unique to one taking of the
/// lock), rewritten every fifth of `heartbeatSeconds` with `expires = now +
/// heartbeatSeconds`; so a renewal never writes anything another holder owns. A lock
/// is dead when its heartbeat (or, before the first one, the lock's own `expires`) has
/// expired, or at once when its holder ran on this machine and its process is gone.
/// The races, and why the protocol is safe under them, are in docs/runtime.md (The lock).
class Lock {
 public:
  Lock(Ledger& ledger, Reporter& report) : ledger_(ledger), report_(report) {}

  /// The verdict on `lock` with `heartbeat` (its holder's, if any) at `now`: pure.
  static LockState judge(std::optional<json> lock, std::optional<json> heartbeat, long long now);
  /// Reads the lock and its heartbeat, and judges them.
  LockState inspect();
  /// `owner, deploy D, since T`: who holds `lock`, for messages.
  static std::string describe(const json& lock);
  /// The lock's value when another, live command holds it (preflight's check).
  std::optional<json> heldByAnother();
  /// Takes the lock for `holder`, taking a dead holder's over (a `lock_taken_over`
  /// event). False, with `heldBy` saying who holds it, when a live one is held (or
  /// another command is taking the same dead lock over right now).
  bool acquire(const LockHolder& holder, std::string& heldBy);

  /// What a heartbeat() found.
  enum class Beat {
    Fine,     ///< renewed, or not due yet
    Failing,  ///< the renewal failed (an AWS error); retried at the next call
    AtRisk,   ///< no renewal for half the expiry: roll back while the lock is still ours
  };
  /// Renews the heartbeat when a fifth of its expiry has passed since the last renewal;
  /// any thread may call it, as often as it likes. Throws LockLost when the lock is no
  /// longer this session's, or when no renewal succeeded for two thirds of the expiry
  /// (a third is left as a margin for clock skew and a request in flight, before
  /// another machine may judge the holder dead).
  Beat heartbeat();
  /// Releases the lock if this session holds it (and deletes its heartbeat); a failure
  /// is a warning. After LockLost it leaves the lock alone (it is another's).
  void release();
  /// This session holds the lock (taken, not released, not lost).
  bool held() const;

 private:
  json value() const;
  static std::string tokenOf(const json& lock);
  std::string heartbeatName() const { return "lock-heartbeat/" + token_; }
  /// Writes the heartbeat; true when the lock was still this session's.
  void beat();
  /// A dead holder's lock (`dead`): claimed through `lock-takeover/<its token>`, so that
  /// only one of several commands taking it over at the same time deletes it. False,
  /// with `heldBy`, when another is taking it over.
  bool takeOver(const LockState& dead, std::string& heldBy);

  Ledger& ledger_;
  Reporter& report_;
  LockHolder holder_;
  std::string token_;
  long long acquiredEpoch_ = 0;
  mutable std::mutex mutex_;
  bool held_ = false;
  bool lost_ = false;
  std::string lostWhy_;
  Steady::time_point lastOk_;  ///< when the last successful renewal was sent
  bool failing_ = false;       ///< the last renewal failed (warned once per streak)
};

}  // namespace gops::deploy::exec
