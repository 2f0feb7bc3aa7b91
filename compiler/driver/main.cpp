// The `gops` command line.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#if GOPS_WITH_MIMALLOC
#include <mimalloc.h>
#endif

#include "driver/backends.h"
#include "driver/commands.h"

namespace {
int run(int argc, char** argv) {
  using namespace gops::driver;
  CLI::App app{"gops: compile deployment specs into Terraform, ECS definitions, GitHub workflows and deployment plans"};
  app.set_version_flag("--version", std::string("gops ") + GOPS_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions global;
  global.executable = argc > 0 ? argv[0] : "gops";
  std::string color = "auto";
  app.add_option("--color", color, "Colour diagnostics: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  CheckOptions check;
  auto* checkCmd = app.add_subcommand("check", "Parse and check specs; print every problem found");
  checkCmd->add_option("paths", check.paths, "Spec files, or directories of .gops files (one app)")->required();
  checkCmd->add_option("--format", check.format, "Output: human, json or sarif")->check(CLI::IsMember({"human", "json", "sarif"}));

  ModelOptions model;
  auto* modelCmd = app.add_subcommand("model", "Print the resolved model of one environment");
  modelCmd->add_option("path", model.path, "A spec file or a directory of .gops files")->required();
  modelCmd->add_option("--env", model.env, "The environment")->required();
  modelCmd->add_option("--format", model.format, "Output: text or json")->check(CLI::IsMember({"text", "json"}));

  FmtOptions fmtOpts;
  auto* fmtCmd = app.add_subcommand("fmt", "Format specs in place (`-` formats standard input to standard output)");
  fmtCmd->add_option("paths", fmtOpts.paths, "Files or directories (searched recursively)")->required();
  fmtCmd->add_flag("--check", fmtOpts.check, "Change nothing; list the files that are not formatted and exit 1 if any");

  BuildOptions build;
  std::vector<std::string> emitNames;
  std::string emitHelp = "Only these outputs (comma-separated or repeated):";
  for (const auto& b : backends()) {
    emitNames.emplace_back(b.name);
    emitHelp += fmt::format("\n  {:<10} {}", b.name, b.description);
  }
  auto* buildCmd = app.add_subcommand("build", "Generate the deployment files (Terraform, ECS, workflows, plan) from a spec");
  buildCmd->add_option("path", build.path, "A spec file or a directory of .gops files")->required();
  buildCmd->add_option("-o,--out", build.out, "Output directory")->required();
  buildCmd->add_option("--env", build.envs, "Only these environments' files (repeatable); default all")->delimiter(',');
  buildCmd->add_option("--emit", build.emit, emitHelp)->delimiter(',')->check(CLI::IsMember(emitNames));
  buildCmd->add_flag("--check", build.check,
                     "Write nothing; list every generated file that is missing, stale or extra in OUT and exit 1 if any");

  GraphOptions graph;
  auto* graphCmd = app.add_subcommand("graph", "Draw the environments, promotions and services (Mermaid or Graphviz DOT)");
  graphCmd->add_option("path", graph.path, "A spec file or a directory of .gops files")->required();
  graphCmd->add_option("--format", graph.format, "mermaid (GitHub renders it in Markdown) or dot")
      ->check(CLI::IsMember({"mermaid", "dot"}));

  ApplyOptions applyOpts;
  auto* applyCmd = app.add_subcommand("apply", "Deploy an environment to AWS: preflight, rollout by the plan, rollback on failure (docs/runtime.md)");
  applyCmd->add_option("path", applyOpts.path, "A spec file or a directory of .gops files")->required();
  applyCmd->add_option("--env", applyOpts.env, "The environment")->required();
  applyCmd->add_option("--image-tag", applyOpts.imageTags,
                       "The image tag to deploy (every service and job), and/or NAME=TAG for one of them (repeatable; only "
                       "the ones named when no tag is for all)")
      ->required()
      ->allow_extra_args(false);
  applyCmd->add_option("--tf-outputs", applyOpts.tfOutputs, "`terraform output -json` of the environment's module (a file); default: run it in --tf-dir");
  applyCmd->add_option("--tf-dir", applyOpts.tfDir, "The environment's Terraform module, where `terraform output -json` runs without --tf-outputs (default: <plan-dir>/terraform, else <env>/terraform)");
  auto* resume = applyCmd->add_flag("--resume", applyOpts.resume, "Finish the apply that died (kill -9, a lost runner) from where it stopped, with the same image tag");
  applyCmd->add_option("--max-parallel", applyOpts.maxParallel, "Services of one wave deployed at the same time (default 4)")->check(CLI::Range(1, 64));
  applyCmd->add_option("--plan-dir", applyOpts.planDir, "Execute OUT/<env> as written by `gops build` instead of compiling the spec");
  applyCmd->add_option("--format", applyOpts.format, "Progress: text (one line per step) or json (one event per line)")
      ->check(CLI::IsMember({"text", "json"}));
  applyCmd->add_option("--journal", applyOpts.journal, "The local journal (default .gops/journal/<app>-<env>.jsonl)");
  applyCmd->add_option("--settle-seconds", applyOpts.settleSeconds, "Wait after each weight change (default 60)")->check(CLI::NonNegativeNumber);
  applyCmd->add_option("--poll-seconds", applyOpts.pollSeconds, "How often waits and holds look at the APIs (default 5)")->check(CLI::PositiveNumber);
  applyCmd->add_flag("--rollback-dead", applyOpts.rollbackDead,
                     "When the environment's last deploy died (its lock's heartbeat stopped), roll it back first, then deploy "
                     "(without it such an apply is refused, naming the commands that fix it)")
      ->excludes(resume);
  applyCmd->add_option("--heartbeat-seconds", applyOpts.heartbeatSeconds,
                       "The lock's heartbeat expiry: after this long without a renewal any machine may take the lock over (default 300; renewed every fifth)")
      ->check(CLI::Range(1, 86400));
  applyCmd->add_option("--grace-seconds", applyOpts.graceSeconds,
                       "After SIGINT or SIGTERM, how long the rollback may take before gops stops at once (default 60; a second signal stops at once)")
      ->check(CLI::NonNegativeNumber);

  ApplyOptions rollbackOpts;
  rollbackOpts.rollback = true;
  auto* rollbackCmd = app.add_subcommand("rollback", "Restore the previous (or the named) revision of an environment's services, traffic included; "
                                                     "--if-dead: only undo a deploy that died");
  rollbackCmd->add_option("path", rollbackOpts.path, "A spec file or a directory of .gops files")->required();
  rollbackCmd->add_option("--env", rollbackOpts.env, "The environment")->required();
  rollbackCmd->add_option("--service", rollbackOpts.service, "Only this service");
  rollbackCmd->add_option("--to", rollbackOpts.to, "The revision: a task definition ARN, family:N or N (default: from the ledger)");
  rollbackCmd->add_option("--tf-outputs", rollbackOpts.tfOutputs, "`terraform output -json` of the environment's module (a file); default: run it in --tf-dir");
  rollbackCmd->add_option("--tf-dir", rollbackOpts.tfDir, "The environment's Terraform module (default: <plan-dir>/terraform, else <env>/terraform)");
  rollbackCmd->add_option("--max-parallel", rollbackOpts.maxParallel, "Services of one wave restored at the same time (default 4)")->check(CLI::Range(1, 64));
  rollbackCmd->add_option("--plan-dir", rollbackOpts.planDir, "Read OUT/<env> as written by `gops build` instead of compiling the spec");
  rollbackCmd->add_option("--format", rollbackOpts.format, "Progress: text or json")->check(CLI::IsMember({"text", "json"}));
  rollbackCmd->add_option("--journal", rollbackOpts.journal, "The local journal (default .gops/journal/<app>-<env>.jsonl)");
  rollbackCmd->add_option("--settle-seconds", rollbackOpts.settleSeconds, "Wait after each weight change (default 60)")->check(CLI::NonNegativeNumber);
  rollbackCmd->add_option("--poll-seconds", rollbackOpts.pollSeconds, "How often waits look at the APIs (default 5)")->check(CLI::PositiveNumber);
  auto* ifDead = rollbackCmd->add_flag(
      "--if-dead", rollbackOpts.ifDead,
      "Only when the last deploy died (its lock's heartbeat stopped, or its lock is gone while it is in progress): roll it back; "
      "else do nothing. Exit 0 nothing to do, 3 rolled back, 4 its rollback failed, 1 refused or error");
  rollbackCmd->add_flag("--check", rollbackOpts.check, "With --if-dead: only say whether the last deploy died (exit 3) or not (0); change nothing")
      ->needs(ifDead);
  rollbackCmd->add_option("--heartbeat-seconds", rollbackOpts.heartbeatSeconds,
                          "The lock's heartbeat expiry while this rollback holds it (default 300)")
      ->check(CLI::Range(1, 86400));
  rollbackCmd->add_option("--grace-seconds", rollbackOpts.graceSeconds,
                          "After SIGINT or SIGTERM, how long the restore may go on before gops stops at once (default 60)")
      ->check(CLI::NonNegativeNumber);

  StatusOptions statusOpts;
  auto* statusCmd = app.add_subcommand("status", "Show what runs in an environment: revisions, counts, weights, alarms, last deployments");
  statusCmd->add_option("path", statusOpts.path, "A spec file or a directory of .gops files")->required();
  statusCmd->add_option("--env", statusOpts.env, "The environment")->required();
  statusCmd->add_option("--tf-outputs", statusOpts.tfOutputs, "`terraform output -json` of the environment's module (for listener weights)");
  statusCmd->add_option("--plan-dir", statusOpts.planDir, "Read OUT/<env> as written by `gops build` instead of compiling the spec");
  statusCmd->add_option("--format", statusOpts.format, "text or json")->check(CLI::IsMember({"text", "json"}));

  RecordTestsOptions recordOpts;
  auto* recordCmd = app.add_subcommand("record-tests", "Record the result of an environment's tests for an image tag in its ledger");
  recordCmd->add_option("path", recordOpts.path, "A spec file or a directory of .gops files")->required();
  recordCmd->add_option("--env", recordOpts.env, "The environment whose tests ran")->required();
  recordCmd->add_option("--image-tag", recordOpts.imageTag, "The image tag the tests ran against")->required();
  recordCmd->add_option("--result", recordOpts.result, "passed or failed")->required()->check(CLI::IsMember({"passed", "failed"}));
  recordCmd->add_option("--plan-dir", recordOpts.planDir, "Read OUT/<env> as written by `gops build` instead of compiling the spec");
  recordCmd->add_option("--format", recordOpts.format, "text or json")->check(CLI::IsMember({"text", "json"}));

  PromoteOptions promoteOpts;
  auto* promoteCmd = app.add_subcommand("promote", "Check the gates of `promote FROM -> TO` for an image tag (--check)");
  promoteCmd->add_flag("--check", promoteOpts.check, "Check every gate against the ledger and AWS; exit 1 listing each unmet one");
  promoteCmd->add_option("path", promoteOpts.path, "A spec file or a directory of .gops files")->required();
  promoteCmd->add_option("from", promoteOpts.from, "The environment promoted from")->required();
  promoteCmd->add_option("to", promoteOpts.to, "The environment promoted to")->required();
  promoteCmd->add_option("--image-tag", promoteOpts.imageTags,
                         "The image tag to promote (every service), and/or SERVICE=TAG (repeatable; only the services named "
                         "when no tag is for all)")
      ->required()
      ->allow_extra_args(false);
  promoteCmd->add_option("--format", promoteOpts.format, "text or json")->check(CLI::IsMember({"text", "json"}));

  DriftOptions driftOpts;
  auto* driftCmd = app.add_subcommand("drift", "Compare what runs in an environment with the compiled spec; exit 2 on drift");
  driftCmd->add_option("path", driftOpts.path, "A spec file or a directory of .gops files")->required();
  driftCmd->add_option("--env", driftOpts.env, "The environment")->required();
  driftCmd->add_option("--tf-outputs", driftOpts.tfOutputs, "`terraform output -json` of the environment's module (a file)");
  driftCmd->add_option("--plan-dir", driftOpts.planDir, "Read OUT/<env> as written by `gops build` instead of compiling the spec");
  driftCmd->add_option("--format", driftOpts.format, "text, json or markdown (the drift issue's body)")
      ->check(CLI::IsMember({"text", "json", "markdown"}));

  ExplainOptions explain;
  auto* explainCmd = app.add_subcommand("explain", "Explain a diagnostic code (with a wrong and a right example) or an attribute");
  explainCmd->add_option("topic", explain.topic, "A code such as E0202, or an attribute such as `cpu`, `health.interval`, `environment.region`");
  explainCmd->add_flag("--list", explain.list, "List every code with its summary");
  explainCmd->add_flag("--attributes", explain.attributes,
                       "Every attribute, as the Markdown tables of docs/language.md (only those of a body: `--attributes service`)");

  LspOptions lsp;
  auto* lspCmd = app.add_subcommand("lsp", "Run the language server (LSP over standard input and output) for editors");
  lspCmd->add_option("--input-style", lsp.inputStyle,
                     "standard (Content-Length headers), or delimited: messages separated by a line `---`, `#` comments (for tests)")
      ->check(CLI::IsMember({"standard", "delimited"}));
  lspCmd->add_option("--debounce-ms", lsp.debounceMs, "Quiet time after an edit before the spec is checked again (default 50)")
      ->check(CLI::Range(0, 10000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return driftCmd->parsed() ? 1 : 2;  // gops drift: 2 means drift
  }
  global.color = color == "always" ? ColorMode::Always : color == "never" ? ColorMode::Never : ColorMode::Auto;

#if GOPS_WITH_MIMALLOC
  // A command that runs for seconds keeps the memory it frees for its own reuse:
  // handing it back to the kernel and faulting it in again cost a quarter of the page
  // faults of `gops build` (each 10-20 us on the VMs we measure on). The language
  // server, which runs for hours, still returns what it frees.
  if (!*lspCmd) mi_option_disable(mi_option_allow_decommit);
#endif
  if (*checkCmd) return runCheck(global, check);
  if (*modelCmd) return runModel(global, model);
  if (*fmtCmd) return runFmt(global, fmtOpts);
  if (*buildCmd) return runBuild(global, build);
  if (*graphCmd) return runGraph(global, graph);
  if (*lspCmd) return runLsp(global, lsp);
  if (*applyCmd) return runApply(global, applyOpts);
  if (*rollbackCmd) return runApply(global, rollbackOpts);
  if (*statusCmd) return runStatus(global, statusOpts);
  if (*recordCmd) return runRecordTests(global, recordOpts);
  if (*promoteCmd) return runPromoteCheck(global, promoteOpts);
  if (*driftCmd) return runDrift(global, driftOpts);
  if (*explainCmd) return runExplain(global, explain);
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  int status = run(argc, argv);
  // Like clang's -disable-free: what a command built (the program, its model, ANTLR's
  // tables) dies with the process instead of being freed piece by piece, which would
  // cost a sizeable share of a check or build (docs/performance.md).
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(status);
}
