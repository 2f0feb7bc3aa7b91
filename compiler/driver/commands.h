#pragma once
/// The `gops` subcommands. Each returns the process exit code:
/// 0 success, 1 the spec has errors (or `--check` found differences), 2 usage or I/O.
#include <string>
#include <vector>

namespace gops::driver {

enum class ColorMode { Auto, Always, Never };

struct GlobalOptions {
  ColorMode color = ColorMode::Auto;
  std::string executable;
};

struct CheckOptions {
  std::vector<std::string> paths;
  std::string format = "human";  // human | json | sarif
};
int runCheck(const GlobalOptions& g, const CheckOptions& o);

struct ModelOptions {
  std::string path;
  std::string env;
  std::string format = "text";  // text | json
};
int runModel(const GlobalOptions& g, const ModelOptions& o);

struct FmtOptions {
  std::vector<std::string> paths;
  bool check = false;
};
int runFmt(const GlobalOptions& g, const FmtOptions& o);

struct BuildOptions {
  std::string path;
  std::string out;
  std::vector<std::string> envs;  // empty: every environment
  std::vector<std::string> emit;  // empty: every backend
  bool check = false;             // compare with OUT instead of writing
};
int runBuild(const GlobalOptions& g, const BuildOptions& o);

struct GraphOptions {
  std::string path;
  std::string format = "mermaid";  // mermaid | dot
};
int runGraph(const GlobalOptions& g, const GraphOptions& o);

struct LspOptions {
  std::string inputStyle = "standard";  // standard | delimited
  int debounceMs = 50;
};
int runLsp(const GlobalOptions& g, const LspOptions& o);
struct ApplyOptions {
  std::string path;
  std::string env;
  std::vector<std::string> imageTags;  // --image-tag TAG | NAME=TAG, repeatable (docs/runtime.md)
  std::string tfOutputs;        // `terraform output -json` of the environment's module
  std::string planDir;          // read OUT/<env> instead of compiling the spec
  std::string format = "text";  // text | json
  std::string journal;          // local journal; default .gops/journal/<app>-<env>.jsonl
  double settleSeconds = 60;    // wait after each weight change
  double pollSeconds = 5;       // how often waits and holds look at the APIs
  bool rollback = false;        // gops rollback
  std::string service;          // rollback: only this service
  std::string to;               // rollback: the revision to restore
  std::string tfDir;            // without tfOutputs: run `terraform output -json` here
  bool resume = false;          // apply --resume: finish the apply that died
  int maxParallel = 4;          // services of one wave deployed at the same time
  int heartbeatSeconds = 300;   // the lock's heartbeat expiry
  double graceSeconds = 60;     // after SIGINT/SIGTERM: the rollback's time before stopping at once
  bool rollbackDead = false;    // apply --rollback-dead: roll a dead deploy back first
  bool ifDead = false;          // rollback --if-dead: only a dead deploy
  bool check = false;           // rollback --if-dead --check: say, change nothing
};
/// 0 deployed, 1 preflight failed or locked (nothing changed), 2 usage or I/O,
/// 3 rolled back, 4 the rollback itself failed. Also `gops rollback` (o.rollback;
/// with --if-dead: 0 nothing to do, 3 a dead deploy rolled back or found (--check)).
int runApply(const GlobalOptions& g, const ApplyOptions& o);

struct StatusOptions {
  std::string path;
  std::string env;
  std::string tfOutputs;
  std::string planDir;
  std::string format = "text";  // text | json
};
int runStatus(const GlobalOptions& g, const StatusOptions& o);

struct RecordTestsOptions {
  std::string path;
  std::string env;
  std::string imageTag;
  std::string result;           // passed | failed
  std::string planDir;
  std::string format = "text";  // text | json
};
/// 0 recorded, 1 AWS error, 2 usage or I/O.
int runRecordTests(const GlobalOptions& g, const RecordTestsOptions& o);

struct PromoteOptions {
  std::string path;
  std::string from;
  std::string to;
  std::vector<std::string> imageTags;  // as apply's
  bool check = false;
  std::string format = "text";  // text | json
};
/// `gops promote --check`: 0 every gate met, 1 some gate unmet (or AWS error), 2 usage.
int runPromoteCheck(const GlobalOptions& g, const PromoteOptions& o);

struct DriftOptions {
  std::string path;
  std::string env;
  std::string tfOutputs;
  std::string planDir;
  std::string format = "text";  // text | json | markdown
};
/// 0 no drift, 2 drift, 1 errors (usage errors included).
int runDrift(const GlobalOptions& g, const DriftOptions& o);

struct ExplainOptions {
  std::string topic;        ///< a code (E0202), an attribute (`cpu`, `health.interval`, `environment.region`) or a block
  bool list = false;        ///< every diagnostic code with its summary
  bool attributes = false;  ///< the attribute tables of docs/language.md (of `topic`'s body, or all)
};
int runExplain(const GlobalOptions& g, const ExplainOptions& o);

}  // namespace gops::driver
