// `gops apply`: compiles the environment's plan and ECS JSON in memory (or reads them
// from OUT/<env> with --plan-dir) and hands them to the runtime (runtime/deploy).
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "driver/backends.h"
#include "driver/commands.h"
#include "driver/common.h"
#include "driver/runtime_io.h"
#include "gops/aws/aws.h"
#include "gops/deploy/deploy.h"

namespace gops::driver {

namespace fs = std::filesystem;

namespace {

/// The environment's plan and ECS JSON: compiled in memory, or read from --plan-dir.
/// Returns an exit code (0 when `bundle` is ready).
int loadBundle(const GlobalOptions& g, const std::string& path, const std::string& env, const std::string& planDir,
               const char* command, deploy::Bundle& bundle) {
  try {
    if (!planDir.empty()) {
      bundle = deploy::readBundle(planDir);
      if (bundle.plan.environment != env) {
        std::cerr << fmt::format("gops {}: error: `{}` holds the plan of environment {}, not {}\n", command, planDir,
                                 bundle.plan.environment, env);
        return 2;
      }
      return 0;
    }
    int status = 0;
    auto c = loadChecked(g, path, status);
    if (!c) return status;
    const model::AppModel& app = c->analysis.model;
    if (!app.environment(env)) return unknownEnvironment(app, env);
    backend::Options bo;
    bo.environments = {env};
    std::map<std::string, std::string> files;
    const std::string prefix = env + "/";
    for (const auto& b : backends()) {
      if (b.name != "plan" && b.name != "ecs") continue;
      backend::Output out = b.generate(app, bo);
      for (const auto& e : out.errors) std::cerr << fmt::format("gops: error: {}\n", e);
      if (!out.errors.empty()) return 1;
      for (auto& f : out.files) {
        if (f.path.rfind(prefix, 0) == 0) files[f.path.substr(prefix.size())] = std::move(f.contents);
      }
    }
    bundle = deploy::makeBundle(std::move(files));
    return 0;
  } catch (const deploy::DeployError& e) {
    printDeployError(command, e.what());
    return 2;
  }
}

/// The executable `name` on PATH, or empty.
std::string onPath(const std::string& name) {
  const std::string path = envOr("PATH", "");
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    fs::path candidate = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}

/// Without --tf-outputs: `terraform output -json`, run in the environment's Terraform
/// module (--tf-dir; else <plan-dir>/terraform; else <env>/terraform under the current
/// directory, where `gops build -o .` writes it). The generated workflows never rely on
/// this: they read the outputs themselves and pass --tf-outputs.
int runTerraformOutput(const ApplyOptions& o, const char* command, nlohmann::json& outputs) {
  const std::string dir = !o.tfDir.empty() ? o.tfDir : !o.planDir.empty() ? (fs::path(o.planDir) / "terraform").string()
                                                                          : (fs::path(o.env) / "terraform").string();
  const std::string terraform = onPath("terraform");
  if (terraform.empty()) {
    std::cerr << fmt::format("gops {}: error: no --tf-outputs given and `terraform` is not on PATH; pass --tf-outputs FILE "
                             "(`terraform output -json` of environment {}'s module, saved to a file)\n", command, o.env);
    return 2;
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::cerr << fmt::format("gops {}: error: no --tf-outputs given and `{}` is not a directory; name the environment's "
                             "Terraform module with --tf-dir, or pass --tf-outputs FILE\n", command, dir);
    return 2;
  }
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) return ioFailure({"cannot run terraform: pipe failed"});
  std::cout.flush();
  pid_t pid = ::fork();
  if (pid < 0) return ioFailure({"cannot run terraform: fork failed"});
  if (pid == 0) {
    ::dup2(pipeFds[1], STDOUT_FILENO);
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    const char* argv[] = {terraform.c_str(), "output", "-json", nullptr};
    ::execv(terraform.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(pipeFds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipeFds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << fmt::format("gops {}: error: `terraform output -json` in {} failed (exit {}); pass --tf-outputs FILE instead\n", command,
                             dir, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 2;
  }
  try {
    outputs = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::cerr << fmt::format("gops {}: error: `terraform output -json` in {} did not print JSON: {}\n", command, dir, e.what());
    return 2;
  }
  if (!outputs.is_object()) {
    std::cerr << fmt::format("gops {}: error: `terraform output -json` in {} did not print an object\n", command, dir);
    return 2;
  }
  return 0;
}

/// What SIGINT and SIGTERM set while a deploy runs: a cancelled CI job sends SIGINT,
/// then SIGTERM 7.5 s later (GitHub Actions); Ctrl-C on a terminal sends SIGINT.
deploy::Interrupts gInterrupts;

extern "C" void onInterrupt(int signo) {
  // Async-signal-safe: lock-free atomics and clock_gettime only.
  if (gInterrupts.count.load() == 0) {
    gInterrupts.first.store(signo);
    gInterrupts.firstAtNs.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count());
  }
  gInterrupts.count.fetch_add(1);
}

/// From here on SIGINT and SIGTERM are the deploy's to handle (docs/runtime.md, Signals).
void handleInterrupts() {
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  // Each handler runs whole before the other: two signals delivered together are
  // counted in the order they came (the first is the one named).
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

/// A word as a POSIX shell reads it: quoted when it needs to be.
std::string shellWord(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+-,") == std::string::npos) {
    return w;
  }
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// How the commands that fix a dead deploy name the spec, the environment and the
/// files this command was given: `SPEC --env ENV [--plan-dir D] [--tf-outputs F] ...`.
std::string commandArgs(const ApplyOptions& o) {
  std::string out = shellWord(o.path) + " --env " + shellWord(o.env);
  auto add = [&](const char* flag, const std::string& v) {
    if (!v.empty()) out += std::string(" ") + flag + " " + shellWord(v);
  };
  add("--plan-dir", o.planDir);
  add("--tf-outputs", o.tfOutputs);
  add("--tf-dir", o.tfDir);
  add("--journal", o.journal);
  return out;
}

}  // namespace

int runApply(const GlobalOptions& g, const ApplyOptions& o) {
  handleInterrupts();
  deploy::Bundle bundle;
  const char* command = o.rollback ? "rollback" : "apply";
  if (o.ifDead && (!o.service.empty() || !o.to.empty())) {
    std::cerr << "gops rollback: error: --if-dead rolls back the whole deploy that died; it takes neither --service nor --to\n";
    return 2;
  }
  deploy::ApplyOptions ao;
  if (!o.rollback) {
    if (int rc = parseImageTags(o.imageTags, command, ao.imageTags)) return rc;
  }
  if (int rc = loadBundle(g, o.path, o.env, o.planDir, command, bundle)) return rc;
  if (int rc = checkImageTagNames(ao.imageTags, bundle.plan, true, command)) return rc;

  ao.jsonEvents = o.format == "json";
  ao.out = &std::cout;
  ao.settleSeconds = o.settleSeconds;
  ao.pollSeconds = o.pollSeconds;
  ao.commit = envOr("GITHUB_SHA", "");
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  ao.owner = fmt::format("{}@{} pid {}", envOr("GITHUB_ACTOR", envOr("USER", "unknown")), host, ::getpid());
  ao.onlyService = o.service;
  ao.toRevision = o.to;
  ao.resume = o.resume;
  ao.maxParallel = o.maxParallel;
  ao.heartbeatSeconds = o.heartbeatSeconds;
  ao.graceSeconds = o.graceSeconds;
  ao.interrupts = &gInterrupts;
  ao.rollbackDead = o.rollbackDead;
  ao.ifDead = o.ifDead;
  ao.checkOnly = o.check;
  ao.commandArgs = commandArgs(o);
  // The live line: text progress on a terminal, not in CI.
  ao.liveLine = o.format != "json" && ::isatty(STDOUT_FILENO) && envOr("CI", "") != "true";
  nlohmann::json outputs = nlohmann::json::object();
  if (o.check) {
    // --if-dead --check reads only the ledger: no Terraform outputs needed.
  } else if (o.tfOutputs.empty()) {
    if (int rc = runTerraformOutput(o, command, outputs)) return rc;
  } else if (int rc = loadTfOutputs(o.tfOutputs, command, outputs)) {
    return rc;
  }
  ao.tfOutputs = std::make_shared<const nlohmann::json>(std::move(outputs));
  if (!o.service.empty() && !bundle.plan.service(o.service)) {
    std::cerr << fmt::format("gops {}: error: environment {} has no service `{}`\n", command, o.env, o.service);
    return 2;
  }
  const std::string& app = bundle.plan.app;
  ao.journalPath = o.journal.empty() ? fmt::format(".gops/journal/{}-{}.jsonl", app, o.env) : o.journal;
  std::error_code ec;
  if (fs::path(ao.journalPath).has_parent_path()) fs::create_directories(fs::path(ao.journalPath).parent_path(), ec);

  try {
    aws::AwsClient client = makeClient(bundle);
    // Each worker thread of a wave gets its own client: the same configuration and
    // (cached, thread-safe) credentials, its own connection.
    ao.newClient = [&client]() {
      aws::ClientConfig config = client.config();
      config.transport = aws::makeCurlTransport(config.http);
      return std::make_unique<aws::AwsClient>(std::move(config));
    };
    return o.rollback ? deploy::rollback(client, bundle, ao) : deploy::apply(client, bundle, ao);
  } catch (const aws::Error& e) {
    std::cerr << fmt::format("gops {}: error: {}\n", command, e.what());
    return 1;
  } catch (const deploy::DeployError& e) {
    std::cerr << fmt::format("gops {}: error: {}\n", command, e.what());
    return 1;
  }
}

int runStatus(const GlobalOptions& g, const StatusOptions& o) {
  deploy::Bundle bundle;
  if (int rc = loadBundle(g, o.path, o.env, o.planDir, "status", bundle)) return rc;
  nlohmann::json tf;
  if (int rc = loadTfOutputs(o.tfOutputs, "status", tf)) return rc;
  try {
    aws::AwsClient client = makeClient(bundle);
    nlohmann::json st = deploy::collectStatus(client, bundle, tf);
    if (o.format == "json") {
      std::cout << st.dump(2) << "\n";
    } else {
      deploy::printStatus(std::cout, st);
    }
    return 0;
  } catch (const aws::AwsError& e) {
    std::cerr << fmt::format("gops status: error: {} {}: {}: {}\n", e.service(), e.operation(), e.code(), e.message());
    return 1;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("gops status: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace gops::driver
