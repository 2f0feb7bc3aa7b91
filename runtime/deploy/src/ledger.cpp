#include "ledger.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace gops::deploy::exec {

void Ledger::put(const std::string& rel, const json& value) {
  aws_().callJson("ssm", "PutParameter", {{"Name", name(rel)}, {"Value", value.dump()}, {"Type", "String"}, {"Overwrite", true}});
}

std::optional<json> Ledger::get(const std::string& rel) {
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

bool Ledger::create(const std::string& rel, const json& value) {
  try {
    aws_().callJson("ssm", "PutParameter", {{"Name", name(rel)}, {"Value", value.dump()}, {"Type", "String"}, {"Overwrite", false}});
    return true;
  } catch (const aws::AwsError& e) {
    if (e.code() == "ParameterAlreadyExists") return false;
    throw;
  }
}

void Ledger::remove(const std::string& rel) {
  try {
    aws_().callJson("ssm", "DeleteParameter", {{"Name", name(rel)}});
  } catch (const aws::AwsError& e) {
    if (e.code() != "ParameterNotFound") throw;
  }
}

bool Lock::isStale(const json& lock) {
  if (lock.value("expires", 0LL) <= nowEpoch()) return true;
  long long pid = lock.value("pid", 0LL);
  if (pid > 0 && lock.value("host", "") == hostName()) {
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
  }
  return false;
}

std::string Lock::describe(const json& lock) {
  return fmt::format("{}, deploy {}, since {}", lock.value("owner", "?"), lock.value("deploy_id", "?"), lock.value("started", "?"));
}

std::optional<json> Lock::heldByAnother() {
  auto lock = ledger_.get("lock");
  if (lock && !isStale(*lock)) return lock;
  return std::nullopt;
}

json Lock::value() const {
  return {{"owner", holder_.owner}, {"deploy_id", holder_.deployId}, {"image_tag", holder_.imageTag}, {"command", holder_.command},
          {"host", hostName()}, {"pid", static_cast<long long>(::getpid())}, {"started", holder_.started},
          {"expires", nowEpoch() + holder_.ttlSeconds}};
}

bool Lock::acquire(const LockHolder& holder, std::string& heldBy) {
  holder_ = holder;
  const json v = value();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (ledger_.create("lock", v)) return true;
    auto held = ledger_.get("lock");
    if (held && !isStale(*held)) {
      heldBy = describe(*held);
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

void Lock::release() {
  try {
    auto held = ledger_.get("lock");
    if (held && held->value("deploy_id", "") == holder_.deployId) ledger_.remove("lock");
  } catch (const std::exception& e) {
    report_.emit("warning", "", {{"message", awsMessage(e)}}, fmt::format("warning: could not release the lock: {}", awsMessage(e)));
  }
}

}  // namespace gops::deploy::exec
