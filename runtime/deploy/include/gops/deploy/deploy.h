#pragma once
/// gops::deploy — executes a deployment plan (`<env>/plan.json`, docs/plan.md) and the
/// ECS JSON next to it (docs/ecs.md) against the AWS APIs: `gops apply`.
///
/// Reads only the generated files (as text), never compiler internals: the plan through
/// the contract library (compiler/plan: read and validated once, then typed data), the
/// ECS JSON as documents. See docs/runtime.md for the commands, the exit codes, the
/// ledger layout and the recovery procedures.
#include <atomic>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gops/deploy/image_tags.h"
#include "plan/plan.h"

namespace gops::aws {
class AwsClient;
}  // namespace gops::aws

namespace gops::deploy {

/// Exit codes of the runtime commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;      ///< preflight or user error: nothing was changed
inline constexpr int kExitUsage = 2;       ///< bad input files or arguments
inline constexpr int kExitRolledBack = 3;  ///< the deploy failed and was rolled back completely
inline constexpr int kExitRollbackIncomplete = 4;  ///< the rollback itself failed: see the journal

/// A user-facing error (bad input, a missing output, a failed check).
class DeployError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One environment's generated files: the plan, read, and the ECS JSON by path relative
/// to the environment's directory (`plan.json`, `ecs/web.taskdef.json`, ...).
struct Bundle {
  plan::Plan plan;
  std::map<std::string, std::string> files;
};

/// Builds a bundle from file contents: reads and validates `plan.json` (plan/reader.h).
/// Throws DeployError; for a plan that is not valid, its message has one line per
/// problem, `plan.json: <path>: <problem>`.
Bundle makeBundle(std::map<std::string, std::string> files);
/// Reads `<dir>/plan.json`, `<dir>/ecs/*.json` and, when present, `<dir>/terraform/main.tf.json`
/// (dir = OUT/<env>). Throws DeployError.
Bundle readBundle(const std::string& dir);

/// Replaces `{{tf:NAME}}`, `{{tf:NAME[i]}}` and `{{image_tag}}` in every string value of
/// `doc` (docs/ecs.md, Placeholders). `tfOutputs` is `terraform output -json`.
/// Throws DeployError naming the placeholder when an output is missing or of the wrong kind.
nlohmann::json fillPlaceholders(const nlohmann::json& doc, const nlohmann::json& tfOutputs,
                                const std::string& imageTag);
/// The same for one string (a plan's `{{tf:...}}` ARN, say).
std::string fillPlaceholders(const std::string& text, const nlohmann::json& tfOutputs, const std::string& imageTag);

/// What the command's handlers of SIGINT and SIGTERM record (a cancelled CI job, Ctrl-C):
/// written only by the handlers (lock-free atomics), read by the runtime. The first
/// signal makes `gops apply` roll back; a second one, or the grace time after the
/// first, makes it stop at once (docs/runtime.md, Signals).
struct Interrupts {
  std::atomic<int> count{0};            ///< signals received
  std::atomic<int> first{0};            ///< the first one's number
  std::atomic<long long> firstAtNs{0};  ///< std::chrono::steady_clock time of the first, in ns
};

/// The default expiry of the lock's heartbeat (docs/runtime.md, The lock).
inline constexpr int kHeartbeatSeconds = 300;
/// The default time a rollback may take after a signal before gops stops at once.
inline constexpr double kGraceSeconds = 60;

struct ApplyOptions {
  /// The tags deployed (`--image-tag`): scoped, only the workloads named. Empty for a rollback.
  ImageTags imageTags;
  /// `terraform output -json` of the environment's module; null: none (placeholders
  /// that name an output cannot be filled).
  std::shared_ptr<const nlohmann::json> tfOutputs;
  bool jsonEvents = false;        ///< --format json: one JSON event per line
  std::ostream* out = nullptr;    ///< progress and results (required)
  std::string journalPath;        ///< local journal (JSON lines); empty: no local journal
  std::string commit;             ///< recorded in the ledger (GITHUB_SHA, or empty)
  std::string owner;              ///< who holds the lock (user@host pid)
  double settleSeconds = plan::kShiftSettle;  ///< wait after each weight change (docs/plan.md)
  double pollSeconds = 5;         ///< how often waits and holds look at the APIs
  int heartbeatSeconds = kHeartbeatSeconds;  ///< the lock's heartbeat expiry (renewed every fifth of it)
  const Interrupts* interrupts = nullptr;     ///< the signals received; null: none are handled
  double graceSeconds = kGraceSeconds;        ///< after a signal: the rollback's time before gops stops at once
  bool ifDead = false;            ///< rollback --if-dead: only when the last deploy died; else do nothing (exit 0)
  bool checkOnly = false;         ///< rollback --if-dead --check: say whether one died (exit 3), change nothing
  bool rollbackDead = false;      ///< apply --rollback-dead: roll a dead deploy back first, then deploy
  bool preStep = false;           ///< set by apply(): the rollback of --rollback-dead
  /// How the commands that fix a dead deploy name the spec, the environment and their
  /// files (`SPEC --env ENV --tf-outputs F`), shell-quoted; empty: `PATH --env ENV`.
  std::string commandArgs;
  std::string onlyService;        ///< only this service (gops name); empty: all
  bool rollback = false;          ///< set by rollback()
  std::string toRevision;         ///< rollback: a task definition ARN, family:N or N; empty: from the ledger
  bool resume = false;            ///< --resume: finish the apply that died (ledger + journal)
  int maxParallel = 4;            ///< services of one wave deployed at the same time (at least 1)
  bool liveLine = false;          ///< text mode on a terminal: a status line updated in place
  /// A new client for each worker thread of a wave (its own connection). Null: the
  /// workers share the client passed to apply() (safe, but its calls are serialised).
  std::function<std::unique_ptr<aws::AwsClient>()> newClient;
};

/// `gops apply`: preflight, lock, deploy every service in the plan's order, roll back on
/// failure (or on a signal: `interrupts`). Returns one of the exit codes above. Never
/// throws for AWS or user errors. Refuses (exit 1) an environment whose last deploy
/// died, naming the commands that fix it, unless `rollbackDead` (roll it back first)
/// or `resume`.
int apply(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& options);

/// `gops rollback`: per service (or only `onlyService`), restores `toRevision`, else the
/// revision before the last successful deploy, else the last good one (ledger); traffic
/// included: a half-done deploy's task sets are removed and the weights put back first.
/// Takes the lock like apply. Exit 0 restored, 1 refused, 4 the restore failed.
/// With `ifDead`: only when the last deploy died (its lock's heartbeat stopped, or its
/// lock is gone while its record says in progress), else nothing: exit 0 nothing to do,
/// 3 a dead deploy rolled back, 4 its rollback failed, 1 refused or the ledger unreadable;
/// with `checkOnly` nothing changes: 3 says one died.
int rollback(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& options);

/// `gops status`: per service the revision running, desired/running/pending counts, task
/// sets and listener weights, a deployment in progress (from the ledger) with its step
/// and weight, alarm states, and the last `history` deployments from the ledger.
nlohmann::json collectStatus(aws::AwsClient& aws, const Bundle& bundle, const nlohmann::json& tfOutputs, int history = 5);
/// The text form of collectStatus's result.
void printStatus(std::ostream& out, const nlohmann::json& status);

}  // namespace gops::deploy
