// `gops apply`: preflight, lock, the rollout of every service, rollback (docs/runtime.md).
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "gops/aws/encoding.h"
#include "gops/aws/error.h"
#include "gops/deploy/deploy.h"

namespace gops::deploy {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

std::string nowIso() { return aws::formatIso8601(Clock::now()); }
long long nowEpoch() { return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count(); }

std::string hostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

/// A lock is stale when it has expired, or when its holder ran on this machine and is gone
/// (`kill -9`, a crash): then it can be taken over.
bool lockIsStale(const nlohmann::json& lock) {
  if (lock.value("expires", 0LL) <= std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()) {
    return true;
  }
  long long pid = lock.value("pid", 0LL);
  if (pid > 0 && lock.value("host", "") == hostName()) {
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
  }
  return false;
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

/// The generated task definitions set memory for the task only. A task definition with
/// a single container that sets neither `memory` nor `memoryReservation` gets the task's
/// memory as its container limit: the same limit ECS applies anyway on Fargate, and what
/// task sets need in some ECS implementations (moto's). See docs/runtime.md.
nlohmann::json withContainerMemory(nlohmann::json td) {
  if (!td.contains("containerDefinitions") || td["containerDefinitions"].size() != 1 || !td.contains("memory")) return td;
  auto& c = td["containerDefinitions"][0];
  if (c.contains("memory") || c.contains("memoryReservation")) return td;
  const auto& m = td["memory"];
  if (m.is_string()) {
    try {
      c["memory"] = std::stoi(m.get<std::string>());
    } catch (const std::exception&) {
    }
  } else if (m.is_number_integer()) {
    c["memory"] = m;
  }
  return td;
}

/// A step that failed: the reason becomes the rollback's "why".
struct StepFailed {
  std::string trigger;  // alarm | unhealthy_targets | failed_tasks | timeout | error
  std::string reason;
};

std::string formatNumber(double v) {
  if (v == static_cast<double>(static_cast<long long>(v))) return std::to_string(static_cast<long long>(v));
  return fmt::format("{}", v);
}

/// Progress for people (one line per event) or machines (one JSON object per line).
/// Thread-safe: the services of a wave report from their own threads, and each line is
/// written whole. With `live` (text on a terminal) a status line under the permanent
/// lines shows each running service's step, weight and time left, redrawn in place
/// (`\r` + clear to the end of the line) four times a second.
class Reporter {
 public:
  Reporter(std::ostream& out, bool json, bool live) : out_(out), json_(json), live_(live && !json) {}
  ~Reporter() { stopLive(); }
  void emit(const std::string& event, const std::string& service, json fields, const std::string& text) {
    const std::lock_guard lock(mutex_);
    if (json_) {
      json e = json::object();
      e["event"] = event;
      if (!service.empty()) e["service"] = service;
      for (auto it = fields.begin(); it != fields.end(); ++it) e[it.key()] = it.value();
      out_ << e.dump() << "\n";
    } else {
      if (shown_) out_ << "\r\x1b[K";
      shown_ = false;
      out_ << (service.empty() ? text : fmt::format("{:<10} {}", service, text)) << "\n";
      drawLocked();
    }
    out_.flush();
  }
  /// The live status of a service: `text`, and a deadline whose time left is shown.
  void status(const std::string& service, const std::string& text, std::optional<Steady::time_point> until = std::nullopt) {
    if (!live_) return;
    const std::lock_guard lock(mutex_);
    statuses_[service] = {text, until};
  }
  void clearStatus(const std::string& service) {
    if (!live_) return;
    const std::lock_guard lock(mutex_);
    statuses_.erase(service);
  }
  void startLive() {
    if (!live_ || ticker_.joinable()) return;
    stop_ = false;
    ticker_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      while (!stop_) {
        drawLocked();
        out_.flush();
        cv_.wait_for(lock, std::chrono::milliseconds(250));
      }
    });
  }
  void stopLive() {
    if (!ticker_.joinable()) return;
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    ticker_.join();
    const std::lock_guard lock(mutex_);
    if (shown_) out_ << "\r\x1b[K";
    shown_ = false;
    out_.flush();
  }

 private:
  struct Status {
    std::string text;
    std::optional<Steady::time_point> until;
  };
  void drawLocked() {
    if (!live_) return;
    if (statuses_.empty()) {
      if (shown_) out_ << "\r\x1b[K";
      shown_ = false;
      return;
    }
    std::string line;
    const auto now = Steady::now();
    for (const auto& [service, st] : statuses_) {
      if (!line.empty()) line += " | ";
      line += service + " " + st.text;
      if (st.until) {
        double left = std::max(0.0, std::chrono::duration<double>(*st.until - now).count());
        line += fmt::format(" {:.0f} s left", std::ceil(left));
      }
    }
    std::size_t width = 120;
    struct winsize ws {};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) width = ws.ws_col - 1;
    if (line.size() > width) line = line.substr(0, width - 3) + "...";
    out_ << "\r\x1b[K" << line;
    shown_ = true;
  }

  std::ostream& out_;
  bool json_;
  bool live_;
  bool shown_ = false;
  bool stop_ = false;
  std::map<std::string, Status> statuses_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread ticker_;
};

/// The local journal: one JSON object per line, flushed to disk before the step runs.
class Journal {
 public:
  explicit Journal(std::string path) : path_(std::move(path)) {}
  void write(json entry) {
    if (path_.empty()) return;
    const std::lock_guard lock(mutex_);
    entry["time"] = nowIso();
    std::string line = entry.dump() + "\n";
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw DeployError(fmt::format("`{}`: cannot write the journal", path_));
    std::size_t done = 0;
    while (done < line.size()) {
      ssize_t n = ::write(fd, line.data() + done, line.size() - done);
      if (n <= 0) {
        ::close(fd);
        throw DeployError(fmt::format("`{}`: cannot write the journal", path_));
      }
      done += static_cast<std::size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
  }
  /// Every entry of `deployId` (a missing journal, or one of another machine, has none).
  std::vector<json> entriesOf(const std::string& deployId) const {
    std::vector<json> r;
    if (path_.empty()) return r;
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      try {
        json e = json::parse(line);
        if (e.is_object() && e.value("deploy_id", "") == deployId) r.push_back(std::move(e));
      } catch (const json::exception&) {
        // a line cut short by the crash
      }
    }
    return r;
  }

 private:
  std::string path_;
  std::mutex mutex_;
};

/// The ledger: SSM parameters under the plan's `ledger` path.
class Ledger {
 public:
  Ledger(std::function<aws::AwsClient&()> aws, std::string root) : aws_(std::move(aws)), root_(std::move(root)) {}
  std::string name(const std::string& rel) const { return root_ + "/" + rel; }
  void put(const std::string& rel, const json& value) {
    aws_().callJson("ssm", "PutParameter",
                    {{"Name", name(rel)}, {"Value", value.dump()}, {"Type", "String"}, {"Overwrite", true}});
  }
  std::optional<json> get(const std::string& rel) {
    try {
      json r = aws_().callJson("ssm", "GetParameter", {{"Name", name(rel)}});
      return json::parse(r["Parameter"]["Value"].get<std::string>());
    } catch (const aws::AwsError& e) {
      if (e.code() == "ParameterNotFound") return std::nullopt;
      throw;
    } catch (const json::exception&) {
      return std::nullopt;
    }
  }
  /// Create-if-absent; false when the parameter exists.
  bool create(const std::string& rel, const json& value) {
    try {
      aws_().callJson("ssm", "PutParameter",
                      {{"Name", name(rel)}, {"Value", value.dump()}, {"Type", "String"}, {"Overwrite", false}});
      return true;
    } catch (const aws::AwsError& e) {
      if (e.code() == "ParameterAlreadyExists") return false;
      throw;
    }
  }
  void remove(const std::string& rel) {
    try {
      aws_().callJson("ssm", "DeleteParameter", {{"Name", name(rel)}});
    } catch (const aws::AwsError& e) {
      if (e.code() != "ParameterNotFound") throw;
    }
  }

 private:
  std::function<aws::AwsClient&()> aws_;
  std::string root_;
};

/// The client of the current thread: a wave's worker threads each have their own.
thread_local aws::AwsClient* tlsClient = nullptr;

struct Weights {
  std::string ruleArn;
  std::map<std::string, int> byTargetGroup;
};

/// A service's rollout: what was live before, what this deploy created.
struct ServiceRun {
  const json* plan = nullptr;
  std::string name, ecsService;
  bool external = false;
  bool existed = false;
  std::string prevTaskDef;
  int prevDesired = 0;
  std::string prevPrimaryTaskSet;
  std::vector<std::string> rules;
  std::string blueTg, greenTg, stableTg, idleTg, idleColor;
  std::string newTaskDef, newTaskSet;
  bool promoted = false;
  bool updated = false;
  double weight = 0;
  std::string step;
  std::string stepLabel;  // "3/7"
  std::string imageTag;  // what the new revision runs
  json steps;            // a restore: the steps that restore the target revision
  // What runs this service, and how it ended.
  bool restoring = false;        // gops rollback, or a wave's rollback of a deployed service
  std::string restoreTarget;     // a restore: the revision (empty: from options or the ledger)
  std::optional<json> resumeRec; // --resume: the ledger record of the dead deploy
  bool alreadyDone = false;      // --resume: the dead deploy had finished it
  bool skipped = false;          // not started: another service of its wave failed first
  bool ok = false;               // deployed (or restored)
  bool rollbackOk = true;        // after a failure: the rollback put everything back
  std::optional<StepFailed> failed;
  double seconds = 0;
};

class Applier {
 public:
  Applier(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& o)
      : aws_(aws),
        b_(bundle),
        o_(o),
        plan_(bundle.plan),
        cluster_(plan_["cluster"].get<std::string>()),
        env_(plan_["environment"].get<std::string>()),
        report_(*o.out, o.jsonEvents, o.liveLine),
        journal_(o.journalPath),
        ledger_([this]() -> aws::AwsClient& { return cli(); }, plan_["ledger"].get<std::string>()) {
    deployId_ = fmt::format("{}-{}", nowEpoch(), ::getpid());
  }

  int run();

 private:
  // --- inputs
  aws::AwsClient& cli() { return tlsClient ? *tlsClient : aws_; }
  json fileDoc(const std::string& rel) {
    const std::lock_guard lock(filledMutex_);
    auto it = filled_.find(rel);
    if (it != filled_.end()) return it->second;
    auto f = b_.files.find(rel);
    if (f == b_.files.end()) throw DeployError(fmt::format("`{}` is missing next to the plan", rel));
    json doc;
    try {
      doc = json::parse(f->second);
    } catch (const json::exception& e) {
      throw DeployError(fmt::format("`{}` is not valid JSON: {}", rel, e.what()));
    }
    json filled = fillPlaceholders(doc, o_.tfOutputs, o_.imageTag);
    filled_[rel] = filled;
    return filled;
  }
  std::string fill(const std::string& s) { return fillPlaceholders(json(s), o_.tfOutputs, o_.imageTag).get<std::string>(); }

  // --- phases
  void loadInputs();
  std::vector<std::string> preflight();
  bool acquireLock(std::string& heldBy);
  void releaseLock();
  void deployService(ServiceRun& r);
  bool rollback(ServiceRun& r, const StepFailed& why);
  void registerJobs();
  void prepareRestore(ServiceRun& r, const json& current);
  std::string restoreTarget(ServiceRun& r);
  bool prepareResume(int& exitCode);
  void resumeState(ServiceRun& r, const json& current);
  std::size_t resumeIndex(ServiceRun& r, const json& steps);
  void runWave(std::vector<ServiceRun>& runs);
  void runOne(ServiceRun& r);
  bool restoreDeployed(ServiceRun& done, const std::string& reason, json& summary);
  ServiceRun newRun(const json* s);
  const char* verb() const { return o_.rollback ? "rollback" : "apply"; }

  // --- helpers
  json describeService(const std::string& name);
  Weights readWeights(const std::string& ruleArn);
  void setWeights(ServiceRun& r, const std::string& to, int weight, const std::string& from);
  std::optional<StepFailed> checkWatch(ServiceRun& r, bool taskSets);
  void waitFor(ServiceRun& r, double timeoutSeconds, const std::function<bool()>& done, bool taskSets, const std::string& what);
  void hold(ServiceRun& r, double seconds, bool taskSets, const std::string& what);
  double plannedSeconds(const json& step) const;
  void sleepPoll() { std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(o_.pollSeconds * 1000))); }
  void record(ServiceRun& r, const std::string& status, const std::string& reason = "");

  aws::AwsClient& aws_;
  const Bundle& b_;
  const ApplyOptions& o_;
  const json& plan_;
  std::string cluster_, env_;
  Reporter report_;
  Journal journal_;
  Ledger ledger_;
  std::string deployId_;
  std::string started_;
  std::map<std::string, json> filled_;
  std::mutex filledMutex_;
  std::vector<const json*> services_;  // plan order
  std::vector<std::vector<const json*>> waves_;  // the plan's waves (services_ in waves)
  std::optional<json> previousDeploy_;  // the ledger's `deploy` record before this run
  std::optional<json> resumed_;         // --resume: the dead deploy's `deploy` record
  std::atomic<bool> waveFailed_{false};
  std::mutex waveMutex_;
  std::string waveFailure_;             // the service of the wave that failed first
};

void Applier::loadInputs() {
  if (!plan_.contains("services") || !plan_["services"].is_array()) throw DeployError("plan.json: `services` is missing");
  std::map<std::string, const json*> byName;
  for (const auto& s : plan_["services"]) byName[s.at("name").get<std::string>()] = &s;
  std::set<std::string> seen;
  for (const auto& wave : plan_.value("order", json::array())) {
    std::vector<const json*> w;
    for (const auto& n : wave) {
      auto it = byName.find(n.get<std::string>());
      if (it == byName.end()) throw DeployError(fmt::format("plan.json: `order` names `{}`, which is not a service", n.get<std::string>()));
      if (seen.insert(it->first).second) {
        services_.push_back(it->second);
        w.push_back(it->second);
      }
    }
    if (!w.empty()) waves_.push_back(std::move(w));
  }
  for (const auto& [name, s] : byName) {
    if (!seen.count(name)) {
      services_.push_back(s);
      waves_.push_back({s});
    }
  }
  // Fill every file now, so that a missing output stops the apply before anything changes.
  for (const json* s : services_) {
    for (const auto& step : (*s)["steps"]) {
      if (step.contains("file")) fileDoc(step["file"].get<std::string>());
    }
    if ((*s).contains("service_file")) fileDoc((*s)["service_file"].get<std::string>());
    const json& traffic = (*s)["traffic"];
    if (traffic.is_object()) {
      for (const char* c : {"blue", "green"}) fileDoc(traffic["target_groups"][c]["task_set_file"].get<std::string>());
    }
  }
  for (const auto& j : plan_.value("jobs", json::array())) {
    for (const auto& step : j["steps"]) {
      if (step.contains("file")) fileDoc(step["file"].get<std::string>());
    }
  }
}

std::vector<std::string> Applier::preflight() {
  std::vector<std::string> problems;
  auto guard = [&](const std::string& what, const std::function<void()>& f) {
    try {
      f();
    } catch (const aws::AwsError& e) {
      problems.push_back(fmt::format("{}: {}", what, awsMessage(e)));
    } catch (const aws::Error& e) {
      problems.push_back(fmt::format("{}: {}", what, e.what()));
    }
  };
  // 1. The account: nothing else is asked of another account.
  std::string account;
  try {
    account = cli().callQuery("sts", "GetCallerIdentity").result().childTextOr("Account", "");
  } catch (const aws::Error& e) {
    problems.push_back(fmt::format("cannot tell which account the credentials belong to: {}", awsMessage(e)));
    return problems;
  }
  if (account != plan_["account"].get<std::string>()) {
    problems.push_back(fmt::format("the credentials are for account {}, but environment {} is account {}; refusing to deploy",
                                   account, env_, plan_["account"].get<std::string>()));
    return problems;
  }
  // 2. Images and secrets of every task definition.
  std::set<std::string> images, ssmNames, secretIds;
  for (const auto& [rel, doc] : filled_) {
    if (rel.find(".taskdef.json") == std::string::npos) continue;
    for (const auto& c : doc.value("containerDefinitions", json::array())) {
      if (c.contains("image")) images.insert(c["image"].get<std::string>());
      for (const auto& s : c.value("secrets", json::array())) {
        std::string from = s.value("valueFrom", "");
        auto parts = from.find(":ssm:") != std::string::npos ? from.find(":parameter/") : std::string::npos;
        if (parts != std::string::npos) {
          ssmNames.insert(from.substr(parts + std::string(":parameter").size()));
        } else if (auto p = from.find(":secret:"); p != std::string::npos) {
          std::string rest = from.substr(p + 8);
          secretIds.insert(rest.substr(0, rest.find(':')));
        } else if (!from.empty() && from[0] == '/') {
          ssmNames.insert(from);
        }
      }
    }
  }
  if (o_.rollback) images.clear();  // the revision restored is one that ran before
  for (const auto& image : images) {
    // <registry>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>
    auto dkr = image.find(".dkr.ecr.");
    auto slash = image.find('/');
    auto colon = image.rfind(':');
    if (dkr == std::string::npos || slash == std::string::npos || colon == std::string::npos || colon < slash) continue;
    std::string registry = image.substr(0, dkr), repo = image.substr(slash + 1, colon - slash - 1), tag = image.substr(colon + 1);
    try {
      cli().callJson("ecr", "DescribeImages",
                    {{"registryId", registry}, {"repositoryName", repo}, {"imageIds", json::array({{{"imageTag", tag}}})}});
    } catch (const aws::AwsError& e) {
      if (isCode(e, {"ImageNotFoundException", "RepositoryNotFoundException"})) {
        problems.push_back(fmt::format("image {}:{} does not exist in ECR (registry {})", repo, tag, registry));
      } else {
        problems.push_back(fmt::format("image {}:{}: {}", repo, tag, awsMessage(e)));
      }
    } catch (const aws::Error& e) {
      problems.push_back(fmt::format("image {}:{}: {}", repo, tag, e.what()));
    }
  }
  if (!ssmNames.empty()) {
    guard("SSM parameters", [&] {
      std::vector<std::string> names(ssmNames.begin(), ssmNames.end());
      for (std::size_t i = 0; i < names.size(); i += 10) {
        json batch = json::array();
        for (std::size_t j = i; j < names.size() && j < i + 10; ++j) batch.push_back(names[j]);
        json r = cli().callJson("ssm", "GetParameters", {{"Names", batch}});
        for (const auto& missing : r.value("InvalidParameters", json::array())) {
          problems.push_back(fmt::format("SSM parameter {} does not exist", missing.get<std::string>()));
        }
      }
    });
  }
  for (const auto& id : secretIds) {
    try {
      cli().callJson("secretsmanager", "DescribeSecret", {{"SecretId", id}});
    } catch (const aws::AwsError& e) {
      if (e.code() == "ResourceNotFoundException") {
        problems.push_back(fmt::format("secret {} does not exist in Secrets Manager", id));
      } else {
        problems.push_back(fmt::format("secret {}: {}", id, awsMessage(e)));
      }
    } catch (const aws::Error& e) {
      problems.push_back(fmt::format("secret {}: {}", id, e.what()));
    }
  }
  // 3. The cluster, target groups and listener rules.
  guard("cluster " + cluster_, [&] {
    json r = cli().callJson("ecs", "DescribeClusters", {{"clusters", json::array({cluster_})}});
    bool active = false;
    for (const auto& c : r.value("clusters", json::array())) active = active || c.value("status", "") == "ACTIVE";
    if (!active) problems.push_back(fmt::format("the ECS cluster {} does not exist (run terraform apply first)", cluster_));
  });
  for (const json* s : services_) {
    const json& traffic = (*s)["traffic"];
    if (!traffic.is_object()) continue;
    for (const char* c : {"blue", "green"}) {
      std::string arn = fill(traffic["target_groups"][c]["arn"].get<std::string>());
      guard(fmt::format("target group {}", traffic["target_groups"][c]["name"].get<std::string>()), [&] {
        aws::QueryParams p{{"TargetGroupArns.member.1", arn}};
        cli().callQuery("elasticloadbalancing", "DescribeTargetGroups", p);
      });
    }
    for (const auto& rule : traffic["listener_rules"]) {
      std::string arn = fill(rule.get<std::string>());
      guard(fmt::format("listener rule {}", arn), [&] {
        aws::QueryParams p{{"RuleArns.member.1", arn}};
        cli().callQuery("elasticloadbalancing", "DescribeRules", p);
      });
    }
  }
  // 4. The lock.
  guard("the lock", [&] {
    if (auto lock = ledger_.get("lock")) {
      if (!lockIsStale(*lock)) {
        problems.push_back(fmt::format("environment {} is locked by another apply ({}, deploy {}, since {}); try again when it has finished",
                                       env_, lock->value("owner", "?"), lock->value("deploy_id", "?"), lock->value("started", "?")));
      }
    }
  });
  return problems;
}

bool Applier::acquireLock(std::string& heldBy) {
  json value = {{"owner", o_.owner}, {"deploy_id", deployId_}, {"image_tag", o_.imageTag}, {"command", verb()},
                {"host", hostName()}, {"pid", static_cast<long long>(::getpid())},
                {"started", started_}, {"expires", nowEpoch() + o_.lockTtlSeconds}};
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (ledger_.create("lock", value)) return true;
    auto held = ledger_.get("lock");
    if (held && !lockIsStale(*held)) {
      heldBy = fmt::format("{}, deploy {}, since {}", held->value("owner", "?"), held->value("deploy_id", "?"), held->value("started", "?"));
      return false;
    }
    // The holder died: its lock has expired, or its process is gone.
    report_.emit("lock_taken_over", "", {{"previous", held ? *held : json()}},
                 fmt::format("the lock of deploy {} is stale (expired, or its process is gone); taking it over",
                             held ? held->value("deploy_id", "?") : "?"));
    ledger_.remove("lock");
  }
  heldBy = "another apply took the expired lock first";
  return false;
}

void Applier::releaseLock() {
  try {
    auto held = ledger_.get("lock");
    if (held && held->value("deploy_id", "") == deployId_) ledger_.remove("lock");
  } catch (const std::exception& e) {
    report_.emit("warning", "", {{"message", awsMessage(e)}}, fmt::format("warning: could not release the lock: {}", awsMessage(e)));
  }
}

json Applier::describeService(const std::string& name) {
  json r = cli().callJson("ecs", "DescribeServices", {{"cluster", cluster_}, {"services", json::array({name})}});
  for (const auto& s : r.value("services", json::array())) {
    if (s.value("status", "") == "ACTIVE" || s.value("status", "") == "DRAINING") return s;
  }
  return json();
}

Weights Applier::readWeights(const std::string& ruleArn) {
  Weights w;
  w.ruleArn = ruleArn;
  aws::QueryParams p{{"RuleArns.member.1", ruleArn}};
  auto doc = cli().callQuery("elasticloadbalancing", "DescribeRules", p);
  for (const auto* rule : doc.result().members("Rules")) {
    for (const auto* action : rule->members("Actions")) {
      if (action->childTextOr("Type", "") != "forward") continue;
      bool any = false;
      if (const auto* fc = action->child("ForwardConfig")) {
        for (const auto* tg : fc->members("TargetGroups")) {
          w.byTargetGroup[tg->childTextOr("TargetGroupArn", "")] = std::stoi(tg->childTextOr("Weight", "1"));
          any = true;
        }
      }
      if (!any) {
        if (auto arn = action->childText("TargetGroupArn")) w.byTargetGroup[*arn] = 100;
      }
    }
  }
  return w;
}

void Applier::setWeights(ServiceRun& r, const std::string& to, int weight, const std::string& from) {
  for (const auto& rule : r.rules) {
    aws::QueryParams p{{"RuleArn", rule},
                       {"Actions.member.1.Type", "forward"},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn", to},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight", std::to_string(weight)},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn", from},
                       {"Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight", std::to_string(100 - weight)}};
    cli().callQuery("elasticloadbalancing", "ModifyRule", p);
  }
}

std::optional<StepFailed> Applier::checkWatch(ServiceRun& r, bool taskSets) {
  if (r.restoring) return std::nullopt;  // a restore does not stop for the alarms that called for it
  if (waveFailed_) {
    const std::lock_guard lock(waveMutex_);
    return StepFailed{"wave", fmt::format("{} of the same wave failed; the wave is rolled back as a whole", waveFailure_)};
  }
  const json& watch = (*r.plan)["watch"];
  json on = (*r.plan)["rollback"].value("on", json::array());
  auto enabled = [&](const char* t) { return std::find(on.begin(), on.end(), t) != on.end(); };
  json alarms = watch.value("alarms", json::array());
  if (!alarms.empty() && enabled("alarm")) {
    json res = cli().callJson("monitoring", "DescribeAlarms", {{"AlarmNames", alarms}, {"AlarmTypes", json::array({"MetricAlarm", "CompositeAlarm"})}});
    for (const char* kind : {"MetricAlarms", "CompositeAlarms"}) {
      for (const auto& a : res.value(kind, json::array())) {
        if (a.value("StateValue", "") == "ALARM") {
          return StepFailed{"alarm", fmt::format("alarm {} is in ALARM ({})", a.value("AlarmName", "?"), a.value("StateReason", ""))};
        }
      }
    }
  }
  if (taskSets && watch.value("target_health", false) && enabled("unhealthy_targets") && !r.idleTg.empty() && !r.newTaskSet.empty()) {
    aws::QueryParams p{{"TargetGroupArn", r.idleTg}};
    auto doc = cli().callQuery("elasticloadbalancing", "DescribeTargetHealth", p);
    int unhealthy = 0;
    for (const auto* t : doc.result().members("TargetHealthDescriptions")) {
      if (const auto* h = t->child("TargetHealth"); h && h->childTextOr("State", "") == "unhealthy") ++unhealthy;
    }
    if (unhealthy > 0) return StepFailed{"unhealthy_targets", fmt::format("{} target(s) of the new version are unhealthy", unhealthy)};
  }
  if (!taskSets && watch.value("failed_tasks", false) && enabled("failed_tasks") && r.updated) {
    json s = describeService(r.ecsService);
    for (const auto& d : s.value("deployments", json::array())) {
      if (d.value("status", "") != "PRIMARY") continue;
      if (d.value("failedTasks", 0) > 0) {
        return StepFailed{"failed_tasks", fmt::format("{} task(s) of the new version stopped with an error", d.value("failedTasks", 0))};
      }
      if (d.value("rolloutState", "") == "FAILED") {
        return StepFailed{"failed_tasks", fmt::format("the deployment failed: {}", d.value("rolloutStateReason", "circuit breaker"))};
      }
    }
  }
  return std::nullopt;
}

void Applier::waitFor(ServiceRun& r, double timeoutSeconds, const std::function<bool()>& done, bool taskSets, const std::string& what) {
  auto start = Steady::now();
  report_.status(r.name, fmt::format("{} {}: waiting for {}", r.stepLabel, r.step, what),
                 start + std::chrono::milliseconds(static_cast<long long>(timeoutSeconds * 1000)));
  for (;;) {
    if (auto f = checkWatch(r, taskSets)) throw *f;
    if (done()) return;
    double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    if (elapsed >= timeoutSeconds) throw StepFailed{"timeout", fmt::format("{} did not happen within {} s", what, formatNumber(timeoutSeconds))};
    sleepPoll();
  }
}

void Applier::hold(ServiceRun& r, double seconds, bool taskSets, const std::string& what) {
  auto start = Steady::now();
  if (seconds > 0) {
    std::string w = r.external ? fmt::format(" at {}%", formatNumber(r.weight)) : "";
    report_.status(r.name, fmt::format("{} {}{}: {}", r.stepLabel, r.step, w, what),
                   start + std::chrono::milliseconds(static_cast<long long>(seconds * 1000)));
  }
  for (;;) {
    if (auto f = checkWatch(r, taskSets)) throw *f;
    double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    if (elapsed >= seconds) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(std::min(o_.pollSeconds, seconds - elapsed) * 1000)));
  }
}

void Applier::record(ServiceRun& r, const std::string& status, const std::string& reason) {
  json v = {{"deploy_id", deployId_}, {"image_tag", r.imageTag}, {"task_definition", r.newTaskDef},
            {"previous_task_definition", r.prevTaskDef}, {"previous_desired_count", r.prevDesired}, {"status", status},
            {"step", r.step}, {"weight", r.weight}, {"started", started_}, {"commit", o_.commit}};
  if (status != "in_progress") v["ended"] = nowIso();
  if (!reason.empty()) v["reason"] = reason;
  ledger_.put("services/" + r.name, v);
}

/// The seconds a step is planned to take at least (its settle and hold).
double Applier::plannedSeconds(const json& step) const {
  const std::string action = step.value("action", "");
  if (action == "shift") return o_.settleSeconds + step.value("hold_seconds", 0.0);
  if (action == "hold") return step.value("hold_seconds", 0.0);
  return 0;
}

/// --resume: what the dead deploy left of this service. The API says which task set is
/// ours (its externalId is the deploy id) and whether it was promoted; the ledger record
/// the revisions before and after.
void Applier::resumeState(ServiceRun& r, const json& current) {
  const json& rec = *r.resumeRec;
  r.prevTaskDef = rec.value("previous_task_definition", "");
  r.prevDesired = rec.value("previous_desired_count", current.is_null() ? 0 : current.value("desiredCount", 0));
  r.newTaskDef = rec.value("task_definition", "");
  r.weight = rec.value("weight", 0.0);
  r.step = rec.value("step", "");
  // A service the dead deploy created has no previous revision: it existed only if the
  // ledger names one.
  r.existed = !current.is_null() && !r.prevTaskDef.empty();
  if (!r.external) {
    if (!current.is_null() && !r.newTaskDef.empty() && current.value("taskDefinition", "") == r.newTaskDef) r.updated = true;
    return;
  }
  // Ours: the task set whose externalId is the deploy id, or the one the journal says
  // the dead deploy created.
  std::string created;
  for (const auto& e : journal_.entriesOf(deployId_)) {
    if (e.value("service", "") == r.name && e.contains("created_task_set")) created = e.value("created_task_set", "");
  }
  json primary, ours;
  for (const auto& ts : current.value("taskSets", json::array())) {
    if (ts.value("externalId", "") == deployId_ || (!created.empty() && ts.value("taskSetArn", "") == created)) ours = ts;
    else if (ts.value("status", "") == "PRIMARY" || primary.is_null()) primary = ts;
  }
  auto tgOf = [](const json& ts) {
    const json lbs = ts.value("loadBalancers", json::array());
    return lbs.empty() ? std::string() : lbs[0].value("targetGroupArn", "");
  };
  if (!primary.is_null()) r.prevPrimaryTaskSet = primary.value("taskSetArn", "");
  if (!ours.is_null()) {
    r.newTaskSet = ours.value("taskSetArn", "");
    r.newTaskDef = ours.value("taskDefinition", r.newTaskDef);
    r.promoted = ours.value("status", "") == "PRIMARY";
    r.idleTg = tgOf(ours);
    r.stableTg = r.idleTg == r.blueTg ? r.greenTg : r.blueTg;
  } else if (!primary.is_null() && !tgOf(primary).empty()) {
    r.stableTg = tgOf(primary);
    r.idleTg = r.stableTg == r.blueTg ? r.greenTg : r.blueTg;
  }
  r.idleColor = r.idleTg == r.blueTg ? "blue" : "green";
}

/// --resume: the step to re-enter (0-based). The journal of this machine says which
/// step started last; without it, the ledger's step and weight. Then the API has the
/// last word: no task set yet means create it; a promoted one, promote (again) and retire.
std::size_t Applier::resumeIndex(ServiceRun& r, const json& steps) {
  const std::size_t n = steps.size();
  auto indexOf = [&](const std::string& action) {
    for (std::size_t i = 0; i < n; ++i) {
      if (steps[i].value("action", "") == action) return i;
    }
    return n;
  };
  std::size_t k = 0;
  long long lastStart = 0, lastDone = 0;
  for (const auto& e : journal_.entriesOf(deployId_)) {
    if (e.value("service", "") != r.name || !e.contains("index")) continue;
    long long i = e.value("index", 0LL);
    if (e.value("phase", "") == "start") lastStart = std::max(lastStart, i);
    if (e.value("phase", "") == "done") lastDone = std::max(lastDone, i);
  }
  if (lastStart > 0 || lastDone > 0) {
    k = static_cast<std::size_t>(lastStart > lastDone ? lastStart - 1 : lastDone);
  } else {
    const std::string step = r.resumeRec->value("step", "");
    if (step == "shift") {
      for (std::size_t i = 0; i < n; ++i) {
        if (steps[i].value("action", "") == "shift" && steps[i].value("weight", 0.0) == r.weight) {
          k = i;
          break;
        }
      }
    } else if (!step.empty()) {
      k = std::min(indexOf(step), n);
    }
  }
  if (r.newTaskDef.empty()) return 0;  // not registered yet: from the start
  k = std::max<std::size_t>(k, 1);     // registered: never again
  if (r.external) {
    if (r.newTaskSet.empty()) k = std::min(k, indexOf("create_task_set"));
    if (r.promoted) k = std::max(k, indexOf("promote_task_set"));
  } else {
    const std::size_t update = indexOf("update_service");
    k = r.updated ? std::max(k, update + 1) : std::min(k, update);
  }
  return std::min(k, n);
}

void Applier::deployService(ServiceRun& r) {
  const json& s = *r.plan;
  json current = describeService(r.ecsService);
  r.existed = !current.is_null();
  if (r.existed) {
    r.prevTaskDef = current.value("taskDefinition", "");
    r.prevDesired = current.value("desiredCount", 0);
    for (const auto& ts : current.value("taskSets", json::array())) {
      if (ts.value("status", "") == "PRIMARY") {
        r.prevPrimaryTaskSet = ts.value("taskSetArn", "");
        r.prevTaskDef = ts.value("taskDefinition", r.prevTaskDef);
      }
    }
  }
  if (r.external) {
    const json& tgs = s["traffic"]["target_groups"];
    r.blueTg = fill(tgs["blue"]["arn"].get<std::string>());
    r.greenTg = fill(tgs["green"]["arn"].get<std::string>());
    for (const auto& rule : s["traffic"]["listener_rules"]) r.rules.push_back(fill(rule.get<std::string>()));
    Weights w = readWeights(r.rules.at(0));
    // The stable group is the one the rule sends traffic to; blue when neither has any.
    bool greenLive = w.byTargetGroup[r.greenTg] > w.byTargetGroup[r.blueTg];
    r.stableTg = greenLive ? r.greenTg : r.blueTg;
    r.idleTg = greenLive ? r.blueTg : r.greenTg;
    r.idleColor = greenLive ? "blue" : "green";
  }
  if (r.resumeRec) resumeState(r, current);
  if (r.restoring) prepareRestore(r, current);

  const json& steps = r.restoring ? r.steps : s["steps"];
  const std::size_t n = steps.size();
  std::size_t from = 0;
  if (r.resumeRec) {
    from = resumeIndex(r, steps);
    std::string at = from < n ? fmt::format("step {}/{} {}", from + 1, n, steps[from]["action"].get<std::string>()) : "its end";
    report_.emit("resume", r.name, {{"index", from + 1}, {"of", n}, {"task_definition", r.newTaskDef}, {"task_set", r.newTaskSet},
                                    {"weight", r.weight}, {"promoted", r.promoted}},
                 fmt::format("resuming at {} (weight {}% on {}{})", at, formatNumber(r.weight), r.external ? r.idleColor : "the new revision",
                             r.promoted ? ", promoted" : ""));
  }
  record(r, "in_progress");

  double left = 0;
  for (std::size_t i = from; i < n; ++i) left += plannedSeconds(steps[i]);
  for (std::size_t i = from; i < n; ++i) {
    const json& step = steps[i];
    const std::string action = step["action"].get<std::string>();
    r.step = action;
    r.stepLabel = fmt::format("{}/{}", i + 1, n);
    json jstep = {{"deploy_id", deployId_}, {"service", r.name}, {"index", i + 1}, {"action", action}};
    journal_.write([&] { json e = jstep; e["phase"] = "start"; e["step"] = step; return e; }());
    json ev = {{"index", i + 1}, {"of", n}, {"action", action}, {"time_left", left}};
    std::string text = fmt::format("step {}/{}  {}", i + 1, n, action);
    if (action == "shift") {
      ev["weight"] = step["weight"];
      ev["hold_seconds"] = step["hold_seconds"];
      text += fmt::format(" {}% to {} (settle {} s, hold {} s)", formatNumber(step["weight"].get<double>()), r.idleColor,
                          formatNumber(o_.settleSeconds), formatNumber(step["hold_seconds"].get<double>()));
    } else if (action == "hold") {
      ev["hold_seconds"] = step["hold_seconds"];
      text += fmt::format(" {} s watching {} alarm(s)", formatNumber(step["hold_seconds"].get<double>()), s["watch"].value("alarms", json::array()).size());
    } else if (action == "wait_stable" || action == "create_task_set") {
      ev["timeout_seconds"] = step["timeout_seconds"];
      text += fmt::format(" (at most {} s)", formatNumber(step["timeout_seconds"].get<double>()));
    }
    if (r.external && action != "shift") ev["weight"] = r.weight;
    text += r.external && action != "shift" ? fmt::format("  [weight {}%, {} s left]", formatNumber(r.weight), formatNumber(std::round(left)))
                                            : fmt::format("  [{} s left]", formatNumber(std::round(left)));
    report_.emit("step", r.name, ev, text);
    report_.status(r.name, fmt::format("{} {}", r.stepLabel, action));
    left -= plannedSeconds(step);

    if (action == "register_task_definition") {
      json doc = withContainerMemory(fileDoc(step["file"].get<std::string>()));
      json res = cli().callJson("ecs", "RegisterTaskDefinition", doc);
      r.newTaskDef = res["taskDefinition"]["taskDefinitionArn"].get<std::string>();
      journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"registered", r.newTaskDef}});
      record(r, "in_progress");
      report_.emit("registered", r.name, {{"task_definition", r.newTaskDef}}, fmt::format("registered {}", r.newTaskDef));
    } else if (action == "update_service") {
      if (!r.existed && describeService(r.ecsService).is_null()) {
        json doc = fileDoc(s["service_file"].get<std::string>());
        doc["taskDefinition"] = r.newTaskDef;
        cli().callJson("ecs", "CreateService", doc);
      } else {
        json input = {{"cluster", cluster_}, {"service", r.ecsService}, {"taskDefinition", r.newTaskDef}};
        json sdoc = fileDoc(s["service_file"].get<std::string>());
        if (sdoc.contains("deploymentConfiguration")) input["deploymentConfiguration"] = sdoc["deploymentConfiguration"];
        cli().callJson("ecs", "UpdateService", input);
      }
      r.updated = true;
    } else if (action == "wait_stable") {
      waitFor(r, step["timeout_seconds"].get<double>(), [&] {
        json cur = describeService(r.ecsService);
        if (cur.is_null()) return false;
        for (const auto& d : cur.value("deployments", json::array())) {
          if (d.value("status", "") != "PRIMARY") continue;
          bool ours = d.value("taskDefinition", "") == r.newTaskDef || cur.value("taskDefinition", "") == r.newTaskDef;
          std::string state = d.value("rolloutState", "");
          bool complete = state == "COMPLETED" || (state.empty() && d.value("runningCount", 0) >= d.value("desiredCount", 0));
          return ours && complete && cur.value("deployments", json::array()).size() == 1;
        }
        return false;
      }, false, "a steady state");
    } else if (action == "hold") {
      hold(r, step["hold_seconds"].get<double>(), false, "holding, watching the alarms");
    } else if (action == "create_task_set") {
      if (r.newTaskSet.empty()) {
        const json& tg = s["traffic"]["target_groups"][r.idleColor];
        json doc = fileDoc(tg["task_set_file"].get<std::string>());
        doc["taskDefinition"] = r.newTaskDef;
        doc["externalId"] = deployId_;
        doc["scale"] = {{"unit", "PERCENT"}, {"value", step["scale_percent"]}};
        json res = cli().callJson("ecs", "CreateTaskSet", doc);
        r.newTaskSet = res["taskSet"]["taskSetArn"].get<std::string>();
        journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"created_task_set", r.newTaskSet}, {"target_group", r.idleTg}});
      }
      waitFor(r, step["timeout_seconds"].get<double>(), [&] {
        json d = cli().callJson("ecs", "DescribeTaskSets", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSets", json::array({r.newTaskSet})}});
        for (const auto& t : d.value("taskSets", json::array())) {
          if (t.value("stabilityStatus", "") == "STEADY_STATE") return true;
        }
        return false;
      }, true, "the new task set's steady state");
    } else if (action == "shift") {
      double w = step["weight"].get<double>();
      setWeights(r, r.idleTg, static_cast<int>(w), r.stableTg);
      r.weight = w;
      record(r, "in_progress");
      report_.emit("weights", r.name, {{"weight", w}, {"target_group", s["traffic"]["target_groups"][r.idleColor]["name"]}},
                   fmt::format("weights: {}% {}, {}% {}", formatNumber(w), r.idleColor, formatNumber(100 - w), r.idleColor == "green" ? "blue" : "green"));
      hold(r, o_.settleSeconds, true, "settling");
      hold(r, step["hold_seconds"].get<double>(), true, "holding, watching the alarms");
    } else if (action == "promote_task_set") {
      cli().callJson("ecs", "UpdateServicePrimaryTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"primaryTaskSet", r.newTaskSet}});
      r.promoted = true;
    } else if (action == "retire_task_set") {
      if (!r.prevPrimaryTaskSet.empty() && r.prevPrimaryTaskSet != r.newTaskSet) {
        try {
          cli().callJson("ecs", "UpdateTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.prevPrimaryTaskSet},
                                                  {"scale", {{"unit", "PERCENT"}, {"value", 0}}}});
          cli().callJson("ecs", "DeleteTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.prevPrimaryTaskSet}, {"force", true}});
        } catch (const aws::AwsError& e) {
          // A resumed deploy may find it deleted already.
          if (!(r.resumeRec && isCode(e, {"TaskSetNotFoundException"}))) throw;
        }
      }
    } else {
      throw DeployError(fmt::format("plan.json: service {}: unknown step `{}`", r.name, action));
    }
    journal_.write([&] { json e = jstep; e["phase"] = "done"; return e; }());
  }
}

bool Applier::rollback(ServiceRun& r, const StepFailed& why) {
  report_.status(r.name, "rolling back");
  report_.emit("rollback", r.name, {{"trigger", why.trigger}, {"reason", why.reason}, {"step", r.step}},
               fmt::format("ROLLING BACK at {}: {}", r.step.empty() ? "the start" : r.step, why.reason));
  journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"phase", "rollback_start"}, {"reason", why.reason}});
  std::vector<std::string> failures;
  auto attempt = [&](const std::string& what, const std::function<void()>& f) {
    try {
      f();
      report_.emit("restored", r.name, {{"what", what}}, fmt::format("restored: {}", what));
    } catch (const std::exception& e) {
      failures.push_back(fmt::format("{}: {}", what, awsMessage(e)));
    }
  };
  if (r.external) {
    if (!r.stableTg.empty() && !r.rules.empty()) {
      attempt("listener weights (100% to the stable target group)", [&] { setWeights(r, r.stableTg, 100, r.idleTg); });
    }
    if (r.promoted && !r.prevPrimaryTaskSet.empty()) {
      attempt("primary task set (the previous version)", [&] {
        cli().callJson("ecs", "UpdateServicePrimaryTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"primaryTaskSet", r.prevPrimaryTaskSet}});
      });
    }
    if (!r.newTaskSet.empty()) {
      attempt("new task set scaled to 0 and deleted", [&] {
        cli().callJson("ecs", "UpdateTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.newTaskSet},
                                                {"scale", {{"unit", "PERCENT"}, {"value", 0}}}});
        cli().callJson("ecs", "DeleteTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.newTaskSet}, {"force", true}});
      });
    }
  } else if (r.updated && r.existed && !r.prevTaskDef.empty()) {
    attempt(fmt::format("task definition {} and desired count {}", r.prevTaskDef, r.prevDesired), [&] {
      cli().callJson("ecs", "UpdateService", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskDefinition", r.prevTaskDef},
                                              {"desiredCount", r.prevDesired}});
    });
  }
  if (!r.newTaskDef.empty() && !r.restoring) {
    // The new revision is left registered but not live; the family's latest ACTIVE
    // revision is what a task set file names, so deregister it to keep `latest` good.
    try {
      cli().callJson("ecs", "DeregisterTaskDefinition", {{"taskDefinition", r.newTaskDef}});
    } catch (const std::exception&) {
    }
  }
  bool ok = failures.empty();
  for (const auto& f : failures) report_.emit("rollback_failed", r.name, {{"what", f}}, fmt::format("ROLLBACK FAILED: {}", f));
  try {
    record(r, ok ? "rolled_back" : "rollback_failed", why.reason);
  } catch (const std::exception& e) {
    report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
  }
  journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"phase", ok ? "rolled_back" : "rollback_failed"}});
  report_.clearStatus(r.name);
  return ok;
}

std::string Applier::restoreTarget(ServiceRun& r) {
  const json& s = *r.plan;
  std::string target = o_.toRevision;
  if (!target.empty() && target.find_first_not_of("0123456789") == std::string::npos) {
    target = s["task_family"].get<std::string>() + ":" + target;
  }
  if (target.empty()) {
    // Undo the last apply when it finished and deployed the service; after an apply that
    // died (its record still in progress), go back to the last good revision.
    auto rec = ledger_.get("services/" + r.name);
    bool lastDied = previousDeploy_ && previousDeploy_->value("status", "") == "in_progress";
    if (!lastDied && rec && rec->value("status", "") == "succeeded") {
      target = rec->value("previous_task_definition", "");
    }
    if (target.empty()) {
      if (auto good = ledger_.get("last-good/" + r.name)) target = good->value("task_definition", "");
    }
  }
  if (target.empty()) {
    throw DeployError(fmt::format("no revision of {} to restore: the ledger has no successful deploy; name one with --to", r.name));
  }
  return target;
}

void Applier::prepareRestore(ServiceRun& r, const json& current) {
  const json& s = *r.plan;
  std::string target = r.restoreTarget.empty() ? restoreTarget(r) : r.restoreTarget;
  json td = cli().callJson("ecs", "DescribeTaskDefinition", {{"taskDefinition", target}});
  r.newTaskDef = td["taskDefinition"]["taskDefinitionArn"].get<std::string>();
  for (const auto& c : td["taskDefinition"].value("containerDefinitions", json::array())) {
    std::string image = c.value("image", "");
    auto colon = image.rfind(':');
    if (colon != std::string::npos && image.find('/', colon) == std::string::npos) r.imageTag = image.substr(colon + 1);
    break;
  }
  report_.emit("restore", r.name, {{"task_definition", r.newTaskDef}, {"image_tag", r.imageTag}},
               fmt::format("restoring {} ({})", r.newTaskDef, r.imageTag));
  r.steps = json::array();
  if (!r.external) {
    r.steps.push_back({{"action", "update_service"}});
    r.steps.push_back({{"action", "wait_stable"}, {"timeout_seconds", 900}});
    return;
  }
  // A deploy that died half-way: traffic back to the primary task set, the others gone.
  std::string primaryTg;
  for (const auto& ts : current.value("taskSets", json::array())) {
    if (ts.value("status", "") == "PRIMARY" && !ts.value("loadBalancers", json::array()).empty()) {
      primaryTg = ts["loadBalancers"][0].value("targetGroupArn", "");
    }
  }
  if (!primaryTg.empty()) {
    r.stableTg = primaryTg;
    r.idleTg = primaryTg == r.blueTg ? r.greenTg : r.blueTg;
    r.idleColor = primaryTg == r.blueTg ? "green" : "blue";
  }
  setWeights(r, r.stableTg, 100, r.idleTg);
  report_.emit("weights", r.name, {{"weight", 0}, {"target_group", s["traffic"]["target_groups"][r.idleColor]["name"]}},
               fmt::format("weights: 100% {}", r.idleColor == "green" ? "blue" : "green"));
  for (const auto& ts : current.value("taskSets", json::array())) {
    if (ts.value("status", "") == "PRIMARY") continue;
    std::string arn = ts.value("taskSetArn", "");
    cli().callJson("ecs", "UpdateTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", arn},
                                            {"scale", {{"unit", "PERCENT"}, {"value", 0}}}});
    cli().callJson("ecs", "DeleteTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", arn}, {"force", true}});
    report_.emit("removed", r.name, {{"task_set", arn}}, fmt::format("removed task set {}", arn));
  }
  if (r.prevTaskDef == r.newTaskDef && !r.prevPrimaryTaskSet.empty()) return;  // already runs it
  r.steps.push_back({{"action", "create_task_set"}, {"target_group", "idle"}, {"scale_percent", 100}, {"timeout_seconds", 900}});
  r.steps.push_back({{"action", "shift"}, {"weight", 100}, {"hold_seconds", 0}});
  r.steps.push_back({{"action", "promote_task_set"}});
  r.steps.push_back({{"action", "retire_task_set"}, {"which", "previous"}});
}

void Applier::registerJobs() {
  for (const auto& j : plan_.value("jobs", json::array())) {
    for (const auto& step : j["steps"]) {
      if (step.value("action", "") != "register_task_definition") continue;
      json res = cli().callJson("ecs", "RegisterTaskDefinition", withContainerMemory(fileDoc(step["file"].get<std::string>())));
      std::string arn = res["taskDefinition"]["taskDefinitionArn"].get<std::string>();
      report_.emit("registered", j["name"].get<std::string>(), {{"task_definition", arn}}, fmt::format("registered {} (job)", arn));
    }
  }
}

/// --resume: the dead deploy to finish. False (with the exit code) when there is none,
/// or it cannot be resumed.
bool Applier::prepareResume(int& exitCode) {
  std::optional<json> dep;
  try {
    dep = ledger_.get("deploy");
  } catch (const std::exception& e) {
    report_.emit("result", "", {{"status", "error"}, {"message", awsMessage(e)}, {"exit", kExitFailed}},
                 fmt::format("gops apply --resume: cannot read the ledger: {}", awsMessage(e)));
    exitCode = kExitFailed;
    return false;
  }
  if (!dep || dep->value("status", "") != "in_progress") {
    // Nothing died: resuming again after a resume, or before any apply.
    bool deployed = dep && dep->value("status", "") == "succeeded" && dep->value("kind", "apply") != "rollback" &&
                    dep->value("image_tag", "") == o_.imageTag;
    exitCode = deployed ? kExitOk : kExitFailed;
    std::string last = dep ? fmt::format("the last deploy ({}, image tag {}) ended {}", dep->value("deploy_id", "?"),
                                         dep->value("image_tag", "?"), dep->value("status", "?"))
                           : std::string("no deploy is recorded in the ledger");
    report_.emit("result", "", {{"status", "nothing_to_resume"}, {"last", dep ? *dep : json()}, {"exit", exitCode}},
                 fmt::format("gops apply --resume: nothing to resume in {}: {}{}", env_, last,
                             deployed ? fmt::format("; {} is deployed", o_.imageTag)
                                      : "; nothing was changed (run gops apply to deploy)"));
    return false;
  }
  if (dep->value("kind", "apply") == "rollback") {
    exitCode = kExitFailed;
    report_.emit("result", "", {{"status", "cannot_resume"}, {"exit", exitCode}},
                 fmt::format("gops apply --resume: the command that died in {} was a gops rollback (deploy {}); run gops rollback again",
                             env_, dep->value("deploy_id", "?")));
    return false;
  }
  if (dep->value("image_tag", "") != o_.imageTag) {
    exitCode = kExitFailed;
    report_.emit("result", "", {{"status", "cannot_resume"}, {"image_tag", dep->value("image_tag", "")}, {"exit", exitCode}},
                 fmt::format("gops apply --resume: the deploy that died in {} (deploy {}) was deploying image tag {}, not {}; "
                             "resume it with --image-tag {}, or run gops rollback and then gops apply; nothing was changed",
                             env_, dep->value("deploy_id", "?"), dep->value("image_tag", "?"), o_.imageTag, dep->value("image_tag", "?")));
    return false;
  }
  for (const json* s : services_) {
    auto rec = ledger_.get("services/" + (*s)["name"].get<std::string>());
    if (rec && rec->value("deploy_id", "") == dep->value("deploy_id", "") &&
        (rec->value("status", "") == "rolled_back" || rec->value("status", "") == "rollback_failed")) {
      exitCode = kExitFailed;
      report_.emit("result", "", {{"status", "cannot_resume"}, {"exit", exitCode}},
                   fmt::format("gops apply --resume: deploy {} had failed and was rolling back ({} {}) when it died; "
                               "run gops rollback, then gops apply; nothing was changed",
                               dep->value("deploy_id", "?"), (*s)["name"].get<std::string>(), rec->value("status", "")));
      return false;
    }
  }
  resumed_ = dep;
  deployId_ = dep->value("deploy_id", deployId_);
  started_ = dep->value("started", started_);
  return true;
}

ServiceRun Applier::newRun(const json* s) {
  ServiceRun r;
  r.plan = s;
  r.name = (*s)["name"].get<std::string>();
  r.ecsService = (*s)["ecs_service"].get<std::string>();
  r.external = (*s).value("controller", "ECS") == "EXTERNAL" && (*s)["traffic"].is_object();
  r.imageTag = o_.imageTag;
  r.restoring = o_.rollback;
  return r;
}

/// One service, from its first step to `succeeded`, or to its rollback.
void Applier::runOne(ServiceRun& r) {
  auto start = Steady::now();
  try {
    deployService(r);
  } catch (const StepFailed& f) {
    r.failed = f;
  } catch (const DeployError& e) {
    r.failed = StepFailed{"error", e.what()};
  } catch (const aws::Error& e) {
    r.failed = StepFailed{"error", awsMessage(e)};
  } catch (const json::exception& e) {
    r.failed = StepFailed{"error", fmt::format("unexpected API answer: {}", e.what())};
  } catch (const std::exception& e) {
    r.failed = StepFailed{"error", e.what()};
  }
  r.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  if (!r.failed) {
    try {
      record(r, r.restoring ? "restored" : "succeeded");
    } catch (const std::exception& e) {
      report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
    }
    r.ok = true;
    report_.clearStatus(r.name);
    report_.emit("service_done", r.name, {{"status", r.restoring ? "restored" : "succeeded"}, {"seconds", static_cast<long long>(r.seconds)}},
                 r.restoring ? fmt::format("restored {} in {} s", r.imageTag, static_cast<long long>(r.seconds))
                             : fmt::format("deployed {} in {} s", r.imageTag, static_cast<long long>(r.seconds)));
    return;
  }
  if (!r.restoring && r.failed->trigger != "wave") {
    const std::lock_guard lock(waveMutex_);
    if (!waveFailed_) {
      waveFailure_ = r.name;
      waveFailed_ = true;
    }
  }
  try {
    r.rollbackOk = rollback(r, *r.failed);
  } catch (const std::exception& e) {
    r.rollbackOk = false;
    report_.emit("rollback_failed", r.name, {{"what", e.what()}}, fmt::format("ROLLBACK FAILED: {}", e.what()));
  }
}

/// The services of one wave, at most maxParallel at a time, each worker thread with its
/// own AWS client. A failure stops the others of the wave at their next look at the
/// APIs (they roll back); services not started yet are skipped.
void Applier::runWave(std::vector<ServiceRun>& runs) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (;;) {
      std::size_t i = next++;
      if (i >= runs.size()) return;
      ServiceRun& r = runs[i];
      if (r.alreadyDone) continue;
      if (waveFailed_ && !r.restoring) {
        r.skipped = true;
        continue;
      }
      runOne(r);
    }
  };
  std::size_t todo = 0;
  for (const auto& r : runs) todo += r.alreadyDone ? 0 : 1;
  const std::size_t workers = std::min<std::size_t>(todo, static_cast<std::size_t>(std::max(1, o_.maxParallel)));
  if (workers <= 1) {
    work();
    return;
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < workers; ++t) {
    threads.emplace_back([&] {
      std::unique_ptr<aws::AwsClient> own;
      try {
        if (o_.newClient) own = o_.newClient();
      } catch (const std::exception&) {
        own.reset();  // share the main client
      }
      tlsClient = own.get();
      work();
      tlsClient = nullptr;
    });
  }
  for (auto& t : threads) t.join();
}

/// A wave failed after `done` had deployed: put its previous revision back (traffic
/// included), as gops rollback would, so that the wave ends on one release.
bool Applier::restoreDeployed(ServiceRun& done, const std::string& reason, json& summary) {
  ServiceRun rr = newRun(done.plan);
  rr.restoring = true;
  rr.restoreTarget = done.prevTaskDef;
  report_.emit("rollback", done.name, {{"trigger", "wave"}, {"reason", reason}, {"step", "done"}},
               fmt::format("ROLLING BACK (deployed already): {}", reason));
  if (rr.restoreTarget.empty()) {
    report_.emit("rollback_failed", done.name, {{"what", "no previous revision (the deploy created the service)"}},
                 "ROLLBACK FAILED: no previous revision (the deploy created the service); it stays deployed");
    summary["services"][done.name] = "rollback_failed";
    return false;
  }
  runOne(rr);
  if (!rr.ok) {
    summary["services"][done.name] = "rollback_failed";
    return false;
  }
  rr.imageTag = rr.imageTag.empty() ? done.imageTag : rr.imageTag;
  try {
    ServiceRun copy = rr;
    record(copy, "rolled_back", reason);
  } catch (const std::exception&) {
  }
  summary["services"][done.name] = "rolled_back";
  return true;
}

int Applier::run() {
  started_ = nowIso();
  const std::string app = plan_["app"].get<std::string>();
  try {
    loadInputs();
  } catch (const DeployError& e) {
    report_.emit("error", "", {{"message", e.what()}}, fmt::format("gops apply: error: {}", e.what()));
    return kExitFailed;
  }
  report_.emit("preflight", "", {{"app", app}, {"environment", env_}, {"image_tag", o_.imageTag}},
               fmt::format("preflight: {} {} image tag {}", app, env_, o_.imageTag));
  auto problems = preflight();
  if (!problems.empty()) {
    for (const auto& p : problems) report_.emit("preflight_failed", "", {{"message", p}}, fmt::format("preflight: {}", p));
    report_.emit("result", "", {{"status", "preflight_failed"}, {"exit", kExitFailed}},
                 fmt::format("gops {}: {} problem(s) found before changing anything; nothing was changed", verb(), problems.size()));
    return kExitFailed;
  }
  if (o_.resume) {
    int rc = kExitFailed;
    if (!prepareResume(rc)) return rc;
  }
  std::string heldBy;
  try {
    if (!acquireLock(heldBy)) {
      report_.emit("result", "", {{"status", "locked"}, {"held_by", heldBy}, {"exit", kExitFailed}},
                   fmt::format("gops {}: environment {} is locked by another apply ({}); nothing was changed", verb(), env_, heldBy));
      return kExitFailed;
    }
  } catch (const std::exception& e) {
    report_.emit("result", "", {{"status", "error"}, {"message", awsMessage(e)}, {"exit", kExitFailed}},
                 fmt::format("gops apply: cannot take the lock: {}", awsMessage(e)));
    return kExitFailed;
  }
  report_.emit("locked", "", {{"deploy_id", deployId_}}, fmt::format("lock taken: deploy {}", deployId_));
  if (resumed_) {
    report_.emit("resume", "", {{"deploy_id", deployId_}, {"image_tag", o_.imageTag}, {"started", started_}},
                 fmt::format("resuming deploy {} of image tag {} (started {})", deployId_, o_.imageTag, started_));
  }
  journal_.write({{"deploy_id", deployId_}, {"phase", resumed_ ? "resume_start" : "apply_start"}, {"app", app}, {"environment", env_},
                  {"image_tag", o_.imageTag}});

  json summary = {{"deploy_id", deployId_}, {"image_tag", o_.imageTag}, {"status", "in_progress"}, {"started", started_},
                  {"commit", o_.commit}, {"services", json::object()}};
  if (resumed_) {
    summary = *resumed_;
    if (!summary.contains("services") || !summary["services"].is_object()) summary["services"] = json::object();
    json times = summary.value("resumed", json::array());
    times.push_back(nowIso());
    summary["resumed"] = times;
  }
  int exitCode = kExitOk;
  try {
    previousDeploy_ = ledger_.get("deploy");
    ledger_.put("deploy", summary);
  } catch (const std::exception& e) {
    report_.emit("error", "", {{"message", awsMessage(e)}}, fmt::format("gops apply: cannot write the ledger: {}", awsMessage(e)));
    releaseLock();
    return kExitFailed;
  }

  report_.startLive();
  for (const auto& wave : waves_) {
    std::vector<ServiceRun> runs;
    for (const json* s : wave) {
      ServiceRun r = newRun(s);
      if (!o_.onlyService.empty() && r.name != o_.onlyService) continue;
      if (resumed_) {
        std::optional<json> rec;
        try {
          rec = ledger_.get("services/" + r.name);
        } catch (const std::exception& e) {
          r.failed = StepFailed{"error", awsMessage(e)};
        }
        if (rec && rec->value("deploy_id", "") == deployId_) {
          if (rec->value("status", "") == "succeeded") {
            r.alreadyDone = r.ok = true;
            r.newTaskDef = rec->value("task_definition", "");
            r.prevTaskDef = rec->value("previous_task_definition", "");
            report_.emit("service_done", r.name, {{"status", "succeeded"}, {"resumed", true}},
                         fmt::format("deployed {} already (by deploy {} before it died)", o_.imageTag, deployId_));
          } else {
            r.resumeRec = rec;
          }
        }
      }
      runs.push_back(std::move(r));
    }
    if (runs.empty()) continue;
    waveFailed_ = false;
    runWave(runs);
    const ServiceRun* first = nullptr;
    bool allRolledBack = true;
    for (auto& r : runs) {
      if (r.failed && (!first || (first->failed->trigger == "wave" && r.failed->trigger != "wave"))) first = &r;
      if (r.failed) {
        summary["services"][r.name] = o_.rollback ? "failed" : r.rollbackOk ? "rolled_back" : "rollback_failed";
        allRolledBack = allRolledBack && r.rollbackOk;
      } else if (r.skipped) {
        summary["services"][r.name] = "not_started";
      }
    }
    if (!first) {
      for (auto& r : runs) {
        summary["services"][r.name] = o_.rollback ? "restored" : "succeeded";
        try {
          ledger_.put("last-good/" + r.name, {{"task_definition", r.newTaskDef}, {"image_tag", r.imageTag}, {"deploy_id", deployId_},
                                              {"ended", nowIso()}, {"commit", o_.commit}});
        } catch (const std::exception& e) {
          report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
        }
      }
      continue;
    }
    summary["reason"] = fmt::format("{}: {}", first->name, first->failed->reason);
    if (o_.rollback) {
      for (auto& r : runs) {
        if (r.ok) summary["services"][r.name] = "restored";
      }
      exitCode = kExitRollbackIncomplete;
      break;
    }
    // The wave rolls back as a whole: the services it had deployed get their previous
    // revision back, so the environment does not end half on the new release.
    for (auto& r : runs) {
      if (!r.ok) continue;
      allRolledBack = restoreDeployed(r, fmt::format("{} of the same wave failed: {}", first->name, first->failed->reason), summary) && allRolledBack;
    }
    exitCode = allRolledBack ? kExitRolledBack : kExitRollbackIncomplete;
    break;
  }
  report_.stopLive();
  if (exitCode == kExitOk && !o_.rollback) {
    try {
      registerJobs();
    } catch (const std::exception& e) {
      report_.emit("error", "", {{"message", awsMessage(e)}}, fmt::format("gops apply: registering the jobs failed: {}", awsMessage(e)));
      summary["reason"] = fmt::format("jobs: {}", awsMessage(e));
      exitCode = kExitRolledBack;
    }
  }
  if (o_.rollback) summary["kind"] = "rollback";
  summary["status"] = exitCode == kExitOk ? (o_.rollback ? "restored" : "succeeded") : exitCode == kExitRolledBack ? "rolled_back" : "rollback_failed";
  summary["ended"] = nowIso();
  try {
    ledger_.put("deploy", summary);
  } catch (const std::exception& e) {
    report_.emit("warning", "", {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
  }
  journal_.write({{"deploy_id", deployId_}, {"phase", "apply_end"}, {"status", summary["status"]}});
  releaseLock();
  std::string text = exitCode == kExitOk && o_.rollback ? fmt::format("gops rollback: {} {} restored", app, env_)
                     : exitCode == kExitOk ? fmt::format("gops apply: {} {} deployed {}{}", app, env_, o_.imageTag, resumed_ ? " (resumed)" : "")
                     : exitCode == kExitRolledBack
                         ? fmt::format("gops apply: rolled back ({}); {} {} runs what it ran before", summary.value("reason", ""), app, env_)
                         : fmt::format("gops {}: the rollback is INCOMPLETE ({}); see docs/runtime.md, Recovery", verb(), summary.value("reason", ""));
  report_.emit("result", "", {{"status", summary["status"]}, {"deploy_id", deployId_}, {"exit", exitCode}}, text);
  return exitCode;
}

}  // namespace

int rollback(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& options) {
  ApplyOptions o = options;
  o.rollback = true;
  return apply(aws, bundle, o);
}

int apply(aws::AwsClient& aws, const Bundle& bundle, const ApplyOptions& options) {
  if (options.out == nullptr) throw std::logic_error("gops::deploy::apply: ApplyOptions::out is null");
  Applier a(aws, bundle, options);
  return a.run();
}

}  // namespace gops::deploy
