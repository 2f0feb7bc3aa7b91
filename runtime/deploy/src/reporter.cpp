#include "reporter.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace gops::deploy::exec {

void Reporter::emit(const std::string& event, const std::string& service, json fields, const std::string& text) {
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

void Reporter::status(const std::string& service, const std::string& text, std::optional<Steady::time_point> until) {
  if (!live_) return;
  const std::lock_guard lock(mutex_);
  statuses_[service] = {text, until};
}

void Reporter::clearStatus(const std::string& service) {
  if (!live_) return;
  const std::lock_guard lock(mutex_);
  statuses_.erase(service);
}

void Reporter::startLive() {
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

void Reporter::stopLive() {
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

void Reporter::drawLocked() {
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

}  // namespace gops::deploy::exec
