#pragma once
// Progress of an apply for people (one line per event) or machines (one JSON object
// per line), and the live status line on a terminal (docs/runtime.md, Progress).
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "util.h"

namespace gops::deploy::exec {

/// Thread-safe: the services of a wave report from their own threads, and each line is
/// written whole. With `live` (text on a terminal) a status line under the permanent
/// lines shows each running service's step, weight and time left, redrawn in place
/// (`\r` + clear to the end of the line) four times a second.
class Reporter {
 public:
  Reporter(std::ostream& out, bool json, bool live) : out_(out), json_(json), live_(live && !json) {}
  ~Reporter() { stopLive(); }
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;

  /// One event: `{"event": event, "service": service, ...fields}` in JSON, else `text`
  /// (after the service's name, when there is one).
  void emit(const std::string& event, const std::string& service, json fields, const std::string& text);
  /// The live status of a service: `text`, and a deadline whose time left is shown.
  void status(const std::string& service, const std::string& text, std::optional<Steady::time_point> until = std::nullopt);
  void clearStatus(const std::string& service);
  void startLive();
  void stopLive();

 private:
  struct Status {
    std::string text;
    std::optional<Steady::time_point> until;
  };
  void drawLocked();

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

}  // namespace gops::deploy::exec
