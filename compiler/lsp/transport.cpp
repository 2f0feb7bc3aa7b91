#include "lsp/transport.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace gops::lsp {

namespace {
/// Headers longer than this, or bodies larger than this, are refused (skipped).
constexpr std::size_t kMaxHeaderLine = 4096;
constexpr std::size_t kMaxBody = 256u << 20;
}  // namespace

bool Transport::fill() {
  if (eof_) return false;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(in_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

bool Transport::waitReadable(int timeoutMs) {
  if (pos_ < buf_.size() || eof_) return true;
  pollfd p{in_, POLLIN, 0};
  int r = ::poll(&p, 1, timeoutMs);
  return r != 0;
}

std::optional<std::string> Transport::readLine() {
  for (;;) {
    std::size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      std::string line = buf_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (!fill()) {
      if (pos_ < buf_.size()) {
        std::string line = buf_.substr(pos_);
        pos_ = buf_.size();
        return line;
      }
      return std::nullopt;
    }
  }
}

std::optional<std::string> Transport::readStandard() {
  for (;;) {
    std::size_t length = 0;
    bool haveLength = false;
    // Headers up to an empty line.
    for (;;) {
      auto line = readLine();
      if (!line) return std::nullopt;
      if (line->empty()) {
        if (haveLength) break;
        continue;  // stray blank line between messages
      }
      if (line->size() > kMaxHeaderLine) continue;
      constexpr std::string_view kName = "content-length:";
      if (line->size() > kName.size()) {
        std::string lower;
        for (std::size_t i = 0; i < kName.size(); ++i) lower += static_cast<char>(std::tolower(static_cast<unsigned char>((*line)[i])));
        if (lower == kName) {
          char* end = nullptr;
          unsigned long long v = std::strtoull(line->c_str() + kName.size(), &end, 10);
          if (end != line->c_str() + kName.size() && v <= kMaxBody) {
            length = static_cast<std::size_t>(v);
            haveLength = true;
          }
        }
      }
    }
    while (buf_.size() - pos_ < length) {
      if (!fill()) return std::nullopt;
    }
    std::string body = buf_.substr(pos_, length);
    pos_ += length;
    return body;
  }
}

std::optional<std::string> Transport::readDelimited() {
  std::string body;
  bool any = false;
  for (;;) {
    auto line = readLine();
    if (!line) {
      if (any) return body;
      return std::nullopt;
    }
    if (*line == "---") {
      if (any) return body;
      continue;
    }
    if (!line->empty() && (*line)[0] == '#') continue;
    std::string_view v(*line);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    if (v.empty()) continue;
    any = true;
    body += *line;
    body += '\n';
  }
}

std::optional<std::string> Transport::read() {
  return style_ == InputStyle::Standard ? readStandard() : readDelimited();
}

void Transport::write(const std::string& body) {
  std::string msg = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (style_ == InputStyle::Delimited) msg += "\n";
  std::size_t done = 0;
  while (done < msg.size()) {
    ssize_t n = ::write(out_, msg.data() + done, msg.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away; nothing sensible to do
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace gops::lsp
