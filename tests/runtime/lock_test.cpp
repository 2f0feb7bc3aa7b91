// The verdict on the environment's lock (runtime/deploy/src/ledger.h, Lock::judge): a
// holder is alive while its heartbeat (or, before the first one, the lock's own
// expiry) has not expired, and dead at once when it ran on this machine and its
// process is gone. docs/runtime.md, The lock and its heartbeat.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger.h"

using gops::deploy::exec::Lock;
using gops::deploy::exec::LockState;
using nlohmann::json;

namespace {

constexpr long long kNow = 1'800'000'000;

json lockAt(long long taken, int ttl, const std::string& host = "another-runner", long long pid = 4242) {
  return {{"owner", "ci@runner pid 4242"}, {"deploy_id", "1799999000-4242"}, {"command", "apply"}, {"host", host}, {"pid", pid},
          {"started", "2027-01-15T08:00:00Z"}, {"token", "1799999000-4242-0badf00d"}, {"heartbeat_seconds", ttl},
          {"expires", taken + ttl}};
}

json beatAt(long long at, int ttl, const std::string& token = "1799999000-4242-0badf00d") {
  return {{"token", token}, {"epoch", at}, {"expires", at + ttl}};
}

}  // namespace

TEST_CASE("no lock: free", "[lock]") {
  LockState s = Lock::judge(std::nullopt, std::nullopt, kNow);
  CHECK_FALSE(s.lock);
  CHECK_FALSE(s.live);
}

TEST_CASE("a holder is alive while its heartbeat has not expired", "[lock]") {
  // Taken 20 minutes ago with a 5-minute expiry, last heartbeat 1 minute ago: alive.
  LockState s = Lock::judge(lockAt(kNow - 1200, 300), beatAt(kNow - 60, 300), kNow);
  CHECK(s.live);
  CHECK(s.lastBeat == kNow - 60);
  CHECK(s.expires == kNow + 240);
  // Its heartbeat 5 minutes old: dead, and the verdict says since when.
  s = Lock::judge(lockAt(kNow - 1200, 300), beatAt(kNow - 300, 300), kNow);
  CHECK_FALSE(s.live);
  CHECK(s.why.find("its heartbeat stopped at") != std::string::npos);
  CHECK(s.why.find("(300 s ago;") != std::string::npos);
}

TEST_CASE("before its first heartbeat, the lock's own expiry stands for it", "[lock]") {
  CHECK(Lock::judge(lockAt(kNow - 10, 300), std::nullopt, kNow).live);
  CHECK_FALSE(Lock::judge(lockAt(kNow - 400, 300), std::nullopt, kNow).live);
  // Another holder's heartbeat (another token) does not keep this lock alive.
  CHECK_FALSE(Lock::judge(lockAt(kNow - 400, 300), beatAt(kNow - 1, 300, "other-token"), kNow).live);
}

TEST_CASE("a lock of this machine whose process is gone is dead at once", "[lock]") {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  // This process: alive.
  CHECK(Lock::judge(lockAt(kNow, 300, host, ::getpid()), beatAt(kNow, 300), kNow).live);
  // A pid that cannot exist: dead, whatever its heartbeat says.
  LockState s = Lock::judge(lockAt(kNow, 300, host, 999'999'999), beatAt(kNow, 300), kNow);
  CHECK_FALSE(s.live);
  CHECK(s.why.find("on this machine") != std::string::npos);
  // The same pid on another machine says nothing: the heartbeat decides.
  CHECK(Lock::judge(lockAt(kNow, 300, "another-runner", 999'999'999), beatAt(kNow, 300), kNow).live);
}

TEST_CASE("a lock of a gops without heartbeats is judged by its expiry", "[lock]") {
  json legacy = {{"owner", "old"}, {"deploy_id", "1-1"}, {"host", "elsewhere"}, {"pid", 1}, {"expires", kNow + 7000}};
  CHECK(Lock::judge(legacy, std::nullopt, kNow).live);
  legacy["expires"] = kNow - 1;
  LockState s = Lock::judge(legacy, std::nullopt, kNow);
  CHECK_FALSE(s.live);
  CHECK(s.why.find("it expired at") != std::string::npos);
}
