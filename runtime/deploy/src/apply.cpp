// `gops apply`: preflight, lock, the rollout of every service, rollback (docs/runtime.md).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
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
class Reporter {
 public:
  Reporter(std::ostream& out, bool json) : out_(out), json_(json) {}
  void emit(const std::string& event, const std::string& service, json fields, const std::string& text) {
    if (json_) {
      json e = json::object();
      e["event"] = event;
      if (!service.empty()) e["service"] = service;
      for (auto it = fields.begin(); it != fields.end(); ++it) e[it.key()] = it.value();
      out_ << e.dump() << "\n";
    } else {
      out_ << (service.empty() ? text : fmt::format("{:<10} {}", service, text)) << "\n";
    }
    out_.flush();
  }

 private:
  std::ostream& out_;
  bool json_;
};

/// The local journal: one JSON object per line, flushed to disk before the step runs.
class Journal {
 public:
  explicit Journal(std::string path) : path_(std::move(path)) {}
  void write(json entry) {
    if (path_.empty()) return;
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

 private:
  std::string path_;
};

/// The ledger: SSM parameters under the plan's `ledger` path.
class Ledger {
 public:
  Ledger(aws::AwsClient& aws, std::string root) : aws_(aws), root_(std::move(root)) {}
  std::string name(const std::string& rel) const { return root_ + "/" + rel; }
  void put(const std::string& rel, const json& value) {
    aws_.callJson("ssm", "PutParameter",
                  {{"Name", name(rel)}, {"Value", value.dump()}, {"Type", "String"}, {"Overwrite", true}});
  }
  std::optional<json> get(const std::string& rel) {
    try {
      json r = aws_.callJson("ssm", "GetParameter", {{"Name", name(rel)}});
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
      aws_.callJson("ssm", "PutParameter",
                    {{"Name", name(rel)}, {"Value", value.dump()}, {"Type", "String"}, {"Overwrite", false}});
      return true;
    } catch (const aws::AwsError& e) {
      if (e.code() == "ParameterAlreadyExists") return false;
      throw;
    }
  }
  void remove(const std::string& rel) {
    try {
      aws_.callJson("ssm", "DeleteParameter", {{"Name", name(rel)}});
    } catch (const aws::AwsError& e) {
      if (e.code() != "ParameterNotFound") throw;
    }
  }

 private:
  aws::AwsClient& aws_;
  std::string root_;
};

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
  std::string imageTag;  // what the new revision runs
  json steps;            // gops rollback: the steps that restore the target revision
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
        report_(*o.out, o.jsonEvents),
        journal_(o.journalPath),
        ledger_(aws, plan_["ledger"].get<std::string>()) {
    deployId_ = fmt::format("{}-{}", nowEpoch(), ::getpid());
  }

  int run();

 private:
  // --- inputs
  json fileDoc(const std::string& rel) {
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
  const char* verb() const { return o_.rollback ? "rollback" : "apply"; }

  // --- helpers
  json describeService(const std::string& name);
  Weights readWeights(const std::string& ruleArn);
  void setWeights(ServiceRun& r, const std::string& to, int weight, const std::string& from);
  std::optional<StepFailed> checkWatch(ServiceRun& r, bool taskSets);
  void waitFor(ServiceRun& r, double timeoutSeconds, const std::function<bool()>& done, bool taskSets, const std::string& what);
  void hold(ServiceRun& r, double seconds, bool taskSets);
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
  std::vector<const json*> services_;  // plan order
  std::optional<json> previousDeploy_;  // the ledger's `deploy` record before this run
};

void Applier::loadInputs() {
  if (!plan_.contains("services") || !plan_["services"].is_array()) throw DeployError("plan.json: `services` is missing");
  std::map<std::string, const json*> byName;
  for (const auto& s : plan_["services"]) byName[s.at("name").get<std::string>()] = &s;
  std::set<std::string> seen;
  for (const auto& wave : plan_.value("order", json::array())) {
    for (const auto& n : wave) {
      auto it = byName.find(n.get<std::string>());
      if (it == byName.end()) throw DeployError(fmt::format("plan.json: `order` names `{}`, which is not a service", n.get<std::string>()));
      if (seen.insert(it->first).second) services_.push_back(it->second);
    }
  }
  for (const auto& [name, s] : byName) {
    if (!seen.count(name)) services_.push_back(s);
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
    account = aws_.callQuery("sts", "GetCallerIdentity").result().childTextOr("Account", "");
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
      aws_.callJson("ecr", "DescribeImages",
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
        json r = aws_.callJson("ssm", "GetParameters", {{"Names", batch}});
        for (const auto& missing : r.value("InvalidParameters", json::array())) {
          problems.push_back(fmt::format("SSM parameter {} does not exist", missing.get<std::string>()));
        }
      }
    });
  }
  for (const auto& id : secretIds) {
    try {
      aws_.callJson("secretsmanager", "DescribeSecret", {{"SecretId", id}});
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
    json r = aws_.callJson("ecs", "DescribeClusters", {{"clusters", json::array({cluster_})}});
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
        aws_.callQuery("elasticloadbalancing", "DescribeTargetGroups", p);
      });
    }
    for (const auto& rule : traffic["listener_rules"]) {
      std::string arn = fill(rule.get<std::string>());
      guard(fmt::format("listener rule {}", arn), [&] {
        aws::QueryParams p{{"RuleArns.member.1", arn}};
        aws_.callQuery("elasticloadbalancing", "DescribeRules", p);
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
  json r = aws_.callJson("ecs", "DescribeServices", {{"cluster", cluster_}, {"services", json::array({name})}});
  for (const auto& s : r.value("services", json::array())) {
    if (s.value("status", "") == "ACTIVE" || s.value("status", "") == "DRAINING") return s;
  }
  return json();
}

Weights Applier::readWeights(const std::string& ruleArn) {
  Weights w;
  w.ruleArn = ruleArn;
  aws::QueryParams p{{"RuleArns.member.1", ruleArn}};
  auto doc = aws_.callQuery("elasticloadbalancing", "DescribeRules", p);
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
    aws_.callQuery("elasticloadbalancing", "ModifyRule", p);
  }
}

std::optional<StepFailed> Applier::checkWatch(ServiceRun& r, bool taskSets) {
  if (o_.rollback) return std::nullopt;  // a restore does not stop for the alarms that called for it
  const json& watch = (*r.plan)["watch"];
  json on = (*r.plan)["rollback"].value("on", json::array());
  auto enabled = [&](const char* t) { return std::find(on.begin(), on.end(), t) != on.end(); };
  json alarms = watch.value("alarms", json::array());
  if (!alarms.empty() && enabled("alarm")) {
    json res = aws_.callJson("monitoring", "DescribeAlarms", {{"AlarmNames", alarms}, {"AlarmTypes", json::array({"MetricAlarm", "CompositeAlarm"})}});
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
    auto doc = aws_.callQuery("elasticloadbalancing", "DescribeTargetHealth", p);
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
  for (;;) {
    if (auto f = checkWatch(r, taskSets)) throw *f;
    if (done()) return;
    double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    if (elapsed >= timeoutSeconds) throw StepFailed{"timeout", fmt::format("{} did not happen within {} s", what, formatNumber(timeoutSeconds))};
    sleepPoll();
  }
}

void Applier::hold(ServiceRun& r, double seconds, bool taskSets) {
  auto start = Steady::now();
  for (;;) {
    if (auto f = checkWatch(r, taskSets)) throw *f;
    double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    if (elapsed >= seconds) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(std::min(o_.pollSeconds, seconds - elapsed) * 1000)));
  }
}

void Applier::record(ServiceRun& r, const std::string& status, const std::string& reason) {
  json v = {{"deploy_id", deployId_}, {"image_tag", r.imageTag}, {"task_definition", r.newTaskDef},
            {"previous_task_definition", r.prevTaskDef}, {"status", status}, {"step", r.step},
            {"weight", r.weight}, {"started", started_}, {"commit", o_.commit}};
  if (status != "in_progress") v["ended"] = nowIso();
  if (!reason.empty()) v["reason"] = reason;
  ledger_.put("services/" + r.name, v);
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
  if (o_.rollback) prepareRestore(r, current);
  record(r, "in_progress");

  const json& steps = o_.rollback ? r.steps : s["steps"];
  const std::size_t n = steps.size();
  for (std::size_t i = 0; i < n; ++i) {
    const json& step = steps[i];
    const std::string action = step["action"].get<std::string>();
    r.step = action;
    json jstep = {{"deploy_id", deployId_}, {"service", r.name}, {"index", i + 1}, {"action", action}};
    journal_.write([&] { json e = jstep; e["phase"] = "start"; e["step"] = step; return e; }());
    json ev = {{"index", i + 1}, {"of", n}, {"action", action}};
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
    report_.emit("step", r.name, ev, text);

    if (action == "register_task_definition") {
      json doc = withContainerMemory(fileDoc(step["file"].get<std::string>()));
      json res = aws_.callJson("ecs", "RegisterTaskDefinition", doc);
      r.newTaskDef = res["taskDefinition"]["taskDefinitionArn"].get<std::string>();
      report_.emit("registered", r.name, {{"task_definition", r.newTaskDef}}, fmt::format("registered {}", r.newTaskDef));
    } else if (action == "update_service") {
      if (!r.existed) {
        json doc = fileDoc(s["service_file"].get<std::string>());
        doc["taskDefinition"] = r.newTaskDef;
        aws_.callJson("ecs", "CreateService", doc);
      } else {
        json input = {{"cluster", cluster_}, {"service", r.ecsService}, {"taskDefinition", r.newTaskDef}};
        json sdoc = fileDoc(s["service_file"].get<std::string>());
        if (sdoc.contains("deploymentConfiguration")) input["deploymentConfiguration"] = sdoc["deploymentConfiguration"];
        aws_.callJson("ecs", "UpdateService", input);
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
      }, false, "the service reaching a steady state");
    } else if (action == "hold") {
      hold(r, step["hold_seconds"].get<double>(), false);
    } else if (action == "create_task_set") {
      const json& tg = s["traffic"]["target_groups"][r.idleColor];
      json doc = fileDoc(tg["task_set_file"].get<std::string>());
      doc["taskDefinition"] = r.newTaskDef;
      doc["externalId"] = deployId_;
      doc["scale"] = {{"unit", "PERCENT"}, {"value", step["scale_percent"]}};
      json res = aws_.callJson("ecs", "CreateTaskSet", doc);
      r.newTaskSet = res["taskSet"]["taskSetArn"].get<std::string>();
      journal_.write({{"deploy_id", deployId_}, {"service", r.name}, {"created_task_set", r.newTaskSet}, {"target_group", r.idleTg}});
      waitFor(r, step["timeout_seconds"].get<double>(), [&] {
        json d = aws_.callJson("ecs", "DescribeTaskSets", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSets", json::array({r.newTaskSet})}});
        for (const auto& t : d.value("taskSets", json::array())) {
          if (t.value("stabilityStatus", "") == "STEADY_STATE") return true;
        }
        return false;
      }, true, "the new task set reaching a steady state");
    } else if (action == "shift") {
      double w = step["weight"].get<double>();
      setWeights(r, r.idleTg, static_cast<int>(w), r.stableTg);
      r.weight = w;
      record(r, "in_progress");
      report_.emit("weights", r.name, {{"weight", w}, {"target_group", s["traffic"]["target_groups"][r.idleColor]["name"]}},
                   fmt::format("weights: {}% {}, {}% {}", formatNumber(w), r.idleColor, formatNumber(100 - w), r.idleColor == "green" ? "blue" : "green"));
      hold(r, o_.settleSeconds, true);
      hold(r, step["hold_seconds"].get<double>(), true);
    } else if (action == "promote_task_set") {
      aws_.callJson("ecs", "UpdateServicePrimaryTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"primaryTaskSet", r.newTaskSet}});
      r.promoted = true;
    } else if (action == "retire_task_set") {
      if (!r.prevPrimaryTaskSet.empty()) {
        aws_.callJson("ecs", "UpdateTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.prevPrimaryTaskSet},
                                               {"scale", {{"unit", "PERCENT"}, {"value", 0}}}});
        aws_.callJson("ecs", "DeleteTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.prevPrimaryTaskSet}, {"force", true}});
      }
    } else {
      throw DeployError(fmt::format("plan.json: service {}: unknown step `{}`", r.name, action));
    }
    journal_.write([&] { json e = jstep; e["phase"] = "done"; return e; }());
  }
}

bool Applier::rollback(ServiceRun& r, const StepFailed& why) {
  report_.emit("rollback", r.name, {{"trigger", why.trigger}, {"reason", why.reason}, {"step", r.step}},
               fmt::format("ROLLING BACK at {}: {}", r.step, why.reason));
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
        aws_.callJson("ecs", "UpdateServicePrimaryTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"primaryTaskSet", r.prevPrimaryTaskSet}});
      });
    }
    if (!r.newTaskSet.empty()) {
      attempt("new task set scaled to 0 and deleted", [&] {
        aws_.callJson("ecs", "UpdateTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.newTaskSet},
                                               {"scale", {{"unit", "PERCENT"}, {"value", 0}}}});
        aws_.callJson("ecs", "DeleteTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", r.newTaskSet}, {"force", true}});
      });
    }
  } else if (r.updated && r.existed && !r.prevTaskDef.empty()) {
    attempt(fmt::format("task definition {} and desired count {}", r.prevTaskDef, r.prevDesired), [&] {
      aws_.callJson("ecs", "UpdateService", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskDefinition", r.prevTaskDef},
                                             {"desiredCount", r.prevDesired}});
    });
  }
  if (!r.newTaskDef.empty() && !o_.rollback) {
    // The new revision is left registered but not live; the family's latest ACTIVE
    // revision is what a task set file names, so deregister it to keep `latest` good.
    try {
      aws_.callJson("ecs", "DeregisterTaskDefinition", {{"taskDefinition", r.newTaskDef}});
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
  return ok;
}

void Applier::prepareRestore(ServiceRun& r, const json& current) {
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
  json td = aws_.callJson("ecs", "DescribeTaskDefinition", {{"taskDefinition", target}});
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
    aws_.callJson("ecs", "UpdateTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", arn},
                                           {"scale", {{"unit", "PERCENT"}, {"value", 0}}}});
    aws_.callJson("ecs", "DeleteTaskSet", {{"cluster", cluster_}, {"service", r.ecsService}, {"taskSet", arn}, {"force", true}});
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
      json res = aws_.callJson("ecs", "RegisterTaskDefinition", withContainerMemory(fileDoc(step["file"].get<std::string>())));
      std::string arn = res["taskDefinition"]["taskDefinitionArn"].get<std::string>();
      report_.emit("registered", j["name"].get<std::string>(), {{"task_definition", arn}}, fmt::format("registered {} (job)", arn));
    }
  }
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
  journal_.write({{"deploy_id", deployId_}, {"phase", "apply_start"}, {"app", app}, {"environment", env_}, {"image_tag", o_.imageTag}});

  json summary = {{"deploy_id", deployId_}, {"image_tag", o_.imageTag}, {"status", "in_progress"}, {"started", started_},
                  {"commit", o_.commit}, {"services", json::object()}};
  int exitCode = kExitOk;
  try {
    previousDeploy_ = ledger_.get("deploy");
    ledger_.put("deploy", summary);
  } catch (const std::exception& e) {
    report_.emit("error", "", {{"message", awsMessage(e)}}, fmt::format("gops apply: cannot write the ledger: {}", awsMessage(e)));
    releaseLock();
    return kExitFailed;
  }

  for (const json* s : services_) {
    ServiceRun r;
    r.plan = s;
    r.name = (*s)["name"].get<std::string>();
    r.ecsService = (*s)["ecs_service"].get<std::string>();
    r.external = (*s).value("controller", "ECS") == "EXTERNAL" && (*s)["traffic"].is_object();
    r.imageTag = o_.imageTag;
    if (!o_.onlyService.empty() && r.name != o_.onlyService) continue;
    auto start = Steady::now();
    std::optional<StepFailed> failed;
    try {
      deployService(r);
    } catch (const StepFailed& f) {
      failed = f;
    } catch (const DeployError& e) {
      failed = StepFailed{"error", e.what()};
    } catch (const aws::Error& e) {
      failed = StepFailed{"error", awsMessage(e)};
    } catch (const json::exception& e) {
      failed = StepFailed{"error", fmt::format("unexpected API answer: {}", e.what())};
    }
    double secs = std::chrono::duration<double>(Steady::now() - start).count();
    if (!failed) {
      try {
        record(r, o_.rollback ? "restored" : "succeeded");
        ledger_.put("last-good/" + r.name, {{"task_definition", r.newTaskDef}, {"image_tag", r.imageTag}, {"deploy_id", deployId_},
                                            {"ended", nowIso()}, {"commit", o_.commit}});
      } catch (const std::exception& e) {
        report_.emit("warning", r.name, {{"message", awsMessage(e)}}, fmt::format("warning: could not write the ledger: {}", awsMessage(e)));
      }
      summary["services"][r.name] = "succeeded";
      report_.emit("service_done", r.name, {{"status", "succeeded"}, {"seconds", static_cast<long long>(secs)}},
                   fmt::format("deployed {} in {} s", o_.imageTag, static_cast<long long>(secs)));
      continue;
    }
    if (o_.rollback) {
      // A restore that failed: put back what was live when it started, and say so.
      rollback(r, *failed);
      summary["services"][r.name] = "failed";
      summary["reason"] = fmt::format("{}: {}", r.name, failed->reason);
      exitCode = kExitRollbackIncomplete;
      break;
    }
    bool ok = rollback(r, *failed);
    summary["services"][r.name] = ok ? "rolled_back" : "rollback_failed";
    summary["reason"] = fmt::format("{}: {}", r.name, failed->reason);
    exitCode = ok ? kExitRolledBack : kExitRollbackIncomplete;
    break;
  }
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
                     : exitCode == kExitOk ? fmt::format("gops apply: {} {} deployed {}", app, env_, o_.imageTag)
                     : exitCode == kExitRolledBack
                         ? fmt::format("gops apply: rolled back ({}); {} {} runs what it ran before", summary.value("reason", ""), app, env_)
                         : fmt::format("gops apply: the rollback is INCOMPLETE ({}); see docs/runtime.md, Recovery", summary.value("reason", ""));
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
