#include "ledger.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include <fmt/format.h>

#include "gops/aws/encoding.h"

namespace gops::deploy::exec {

namespace {

/// A claim on a dead lock older than this belongs to a command that died while taking
/// it over (a takeover is a few requests): it is removed and claimed again.
constexpr long long kAbandonedClaimSeconds = 60;

std::string isoOf(long long epoch) { return aws::formatIso8601(Clock::time_point(std::chrono::seconds(epoch))); }

/// What names a lock in a takeover claim: its token (a lock of an older gops has none:
/// its deploy id).
std::string takeoverKey(const json& lock) {
  std::string token = lock.value("token", "");
  return token.empty() ? lock.value("deploy_id", "unknown") : token;
}

}  // namespace

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

std::string Lock::tokenOf(const json& lock) { return lock.value("token", ""); }

LockState Lock::judge(std::optional<json> lock, std::optional<json> heartbeat, long long now) {
  LockState s;
  s.lock = std::move(lock);
  s.heartbeat = std::move(heartbeat);
  if (!s.lock) return s;
  const json& l = *s.lock;
  const std::string token = tokenOf(l);
  const long long ttl = l.value("heartbeat_seconds", 0LL);
  s.expires = l.value("expires", 0LL);
  s.lastBeat = ttl > 0 ? s.expires - ttl : 0;
  if (s.heartbeat && !token.empty() && s.heartbeat->value("token", "") == token) {
    s.expires = s.heartbeat->value("expires", s.expires);
    s.lastBeat = s.heartbeat->value("epoch", s.lastBeat);
  }
  const long long pid = l.value("pid", 0LL);
  const std::string host = l.value("host", "");
  if (pid > 0 && host == hostName() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
    s.why = fmt::format("its process {} on this machine ({}) is gone", pid, host);
    return s;
  }
  if (s.expires <= now) {
    s.why = token.empty() || ttl <= 0
                ? fmt::format("it expired at {}", isoOf(s.expires))
                : fmt::format("its heartbeat stopped at {} ({} s ago; a holder that has not renewed it for {} s is dead)",
                              isoOf(s.lastBeat), now - s.lastBeat, ttl);
    return s;
  }
  s.live = true;
  return s;
}

LockState Lock::inspect() {
  std::optional<json> lock = ledger_.get("lock");
  std::optional<json> heartbeat;
  if (lock && !tokenOf(*lock).empty()) heartbeat = ledger_.get("lock-heartbeat/" + tokenOf(*lock));
  return judge(std::move(lock), std::move(heartbeat), nowEpoch());
}

std::string Lock::describe(const json& lock) {
  return fmt::format("{}, deploy {}, since {}", lock.value("owner", "?"), lock.value("deploy_id", "?"), lock.value("started", "?"));
}

std::optional<json> Lock::heldByAnother() {
  LockState s = inspect();
  if (s.live) return s.lock;
  return std::nullopt;
}

json Lock::value() const {
  return {{"owner", holder_.owner},
          {"deploy_id", holder_.deployId},
          {"image_tag", holder_.imageTag},
          {"command", holder_.command},
          {"host", hostName()},
          {"pid", static_cast<long long>(::getpid())},
          {"started", holder_.started},
          {"token", token_},
          {"heartbeat_seconds", holder_.heartbeatSeconds},
          {"expires", acquiredEpoch_ + holder_.heartbeatSeconds}};
}

bool Lock::acquire(const LockHolder& holder, std::string& heldBy) {
  holder_ = holder;
  if (holder_.heartbeatSeconds < 1) holder_.heartbeatSeconds = 1;
  std::random_device rd;
  token_ = fmt::format("{}-{}-{:08x}", nowEpoch(), ::getpid(), static_cast<unsigned>(rd()));
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto sent = Steady::now();
    acquiredEpoch_ = nowEpoch();
    if (ledger_.create("lock", value())) {
      {
        const std::lock_guard lock(mutex_);
        held_ = true;
        lost_ = false;
        lastOk_ = sent;
      }
      try {
        beat();  // the first heartbeat; until it is written the lock's own `expires` stands for it
      } catch (const std::exception&) {
      }
      return true;
    }
    LockState st = inspect();
    if (!st.lock) continue;  // released in between: try again
    if (st.live) {
      heldBy = describe(*st.lock);
      return false;
    }
    if (!takeOver(st, heldBy)) return false;
  }
  heldBy = "another command took the lock first";
  return false;
}

bool Lock::takeOver(const LockState& dead, std::string& heldBy) {
  const json& lock = *dead.lock;
  const std::string key = takeoverKey(lock);
  const std::string claim = "lock-takeover/" + key;
  const json claimValue = {{"owner", holder_.owner}, {"deploy_id", holder_.deployId}, {"command", holder_.command},
                           {"at", nowIso()}, {"epoch", nowEpoch()}};
  if (!ledger_.create(claim, claimValue)) {
    auto other = ledger_.get(claim);
    if (other && other->value("epoch", 0LL) + kAbandonedClaimSeconds > nowEpoch()) {
      heldBy = fmt::format("{} ({}) is taking over the dead lock of deploy {} right now", other->value("owner", "?"),
                           other->value("command", "?"), lock.value("deploy_id", "?"));
      return false;
    }
    ledger_.remove(claim);  // abandoned by a command that died while taking it over
    return true;
  }
  // Only this command takes this dead lock over. Delete it only if it is still that
  // lock (it may have been released, or replaced, since it was read).
  auto current = ledger_.get("lock");
  if (current && takeoverKey(*current) == key) {
    report_.emit("lock_taken_over", "", {{"previous", lock}, {"why", dead.why}},
                 fmt::format("the lock of deploy {} ({}) is dead: {}; taking it over", lock.value("deploy_id", "?"),
                             lock.value("owner", "?"), dead.why));
    ledger_.remove("lock");
    if (!tokenOf(lock).empty()) ledger_.remove("lock-heartbeat/" + tokenOf(lock));
  }
  ledger_.remove(claim);
  return true;
}

void Lock::beat() {
  auto current = ledger_.get("lock");
  if (!current) throw LockLost(fmt::format("the lock was deleted while this {} held it (by hand, or by a command that judged it dead)", holder_.command));
  if (tokenOf(*current) != token_) {
    throw LockLost(fmt::format("the lock was taken over by {} ({}), which judged this {} dead",
                               describe(*current), current->value("command", "?"), holder_.command));
  }
  const long long now = nowEpoch();
  ledger_.put(heartbeatName(), {{"token", token_}, {"deploy_id", holder_.deployId}, {"owner", holder_.owner}, {"at", nowIso()},
                                {"epoch", now}, {"expires", now + holder_.heartbeatSeconds}});
}

Lock::Beat Lock::heartbeat() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return Beat::Fine;  // another thread is renewing it now
  if (!held_) {
    if (lost_) throw LockLost(lostWhy_);
    return Beat::Fine;
  }
  const double ttl = holder_.heartbeatSeconds;
  const double since = std::chrono::duration<double>(Steady::now() - lastOk_).count();
  if (since >= ttl * 2 / 3) {
    // Past the holder's own deadline: another machine may judge it dead a third of the
    // expiry later (less the clocks' difference), so it changes nothing more.
    held_ = false;
    lost_ = true;
    lostWhy_ = fmt::format("the lock's heartbeat was not renewed for {} s (of its {} s expiry); another machine may have taken it over",
                           static_cast<long long>(since), holder_.heartbeatSeconds);
    throw LockLost(lostWhy_);
  }
  if (since < ttl / 5 && !failing_) return Beat::Fine;
  const auto sent = Steady::now();
  try {
    beat();
    lastOk_ = sent;
    if (failing_) report_.emit("heartbeat_renewed", "", json::object(), "the lock's heartbeat is renewed again");
    failing_ = false;
    return Beat::Fine;
  } catch (const LockLost& e) {
    held_ = false;
    lost_ = true;
    lostWhy_ = e.what();
    throw;
  } catch (const std::exception& e) {
    if (!failing_) {
      report_.emit("warning", "", {{"message", awsMessage(e)}},
                   fmt::format("warning: could not renew the lock's heartbeat ({}); trying again", awsMessage(e)));
    }
    failing_ = true;
    return since >= ttl / 2 ? Beat::AtRisk : Beat::Failing;
  }
}

void Lock::release() {
  const std::lock_guard lock(mutex_);
  if (!held_) return;
  held_ = false;
  try {
    auto current = ledger_.get("lock");
    if (current && tokenOf(*current) == token_) ledger_.remove("lock");
    ledger_.remove(heartbeatName());
  } catch (const std::exception& e) {
    report_.emit("warning", "", {{"message", awsMessage(e)}}, fmt::format("warning: could not release the lock: {}", awsMessage(e)));
  }
}

bool Lock::held() const {
  const std::lock_guard lock(mutex_);
  return held_;
}

}  // namespace gops::deploy::exec
