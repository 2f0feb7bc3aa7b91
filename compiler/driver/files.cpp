#include "driver/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "backends/common/output.h"

namespace gops::driver {

namespace fs = std::filesystem;

namespace {

/// A file descriptor closed on scope exit.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

/// Reads up to `n` bytes into `buf`, retrying short reads; the count read, or -1.
ssize_t readAll(int fd, char* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, buf + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

}  // namespace

std::optional<std::string> readFile(const fs::path& path, std::size_t limit) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return std::nullopt;
  std::string data;
  if (S_ISREG(st.st_mode)) {
    // The size is a hint: read one byte more to notice a file that grew meanwhile.
    data.resize(std::min(limit, static_cast<std::size_t>(st.st_size)));
    ssize_t r = readAll(f.fd, data.data(), data.size());
    if (r < 0) return std::nullopt;
    data.resize(static_cast<std::size_t>(r));
    if (data.size() == limit) return data;
  }
  char buf[65536];
  while (data.size() < limit) {
    ssize_t r = readAll(f.fd, buf, std::min(sizeof buf, limit - data.size()));
    if (r < 0) return std::nullopt;
    if (r == 0) break;
    data.append(buf, static_cast<std::size_t>(r));
  }
  return data;
}

OnDisk compareFile(const fs::path& path, std::string_view contents) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return errno == ENOENT || errno == ENOTDIR ? OnDisk::Missing : OnDisk::Different;
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) return OnDisk::Different;
  if (static_cast<std::size_t>(st.st_size) != contents.size()) return OnDisk::Different;
  char buf[65536];
  std::size_t at = 0;
  for (;;) {
    ssize_t r = readAll(f.fd, buf, sizeof buf);
    if (r < 0) return OnDisk::Different;
    if (r == 0) break;
    auto n = static_cast<std::size_t>(r);
    if (at + n > contents.size() || std::memcmp(buf, contents.data() + at, n) != 0) return OnDisk::Different;
    at += n;
  }
  return at == contents.size() ? OnDisk::Same : OnDisk::Different;
}

std::string writeFile(const fs::path& path, std::string_view contents, bool exists) {
  fs::path target = path;
  if (exists) target += ".tmp";
  Fd f(::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (f.fd < 0) return fmt::format("`{}`: cannot write the file: {}", target.string(), std::strerror(errno));
  if (!writeAll(f.fd, contents)) return fmt::format("`{}`: cannot write the file: {}", target.string(), std::strerror(errno));
  if (::close(f.fd) != 0) {
    f.fd = -1;
    return fmt::format("`{}`: cannot write the file: {}", target.string(), std::strerror(errno));
  }
  f.fd = -1;
  if (exists && ::rename(target.c_str(), path.c_str()) != 0) {
    return fmt::format("`{}`: cannot replace the file: {}", path.string(), std::strerror(errno));
  }
  return {};
}

void parallelFor(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& task) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) task(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads && t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

unsigned workerThreads() { return std::clamp(std::thread::hardware_concurrency(), 1u, 4u); }

std::vector<std::string> otherGeneratedFiles(const fs::path& out, const std::function<bool(const std::string&)>& produced,
                                             bool* complete) {
  std::vector<std::string> found;
  bool sawAll = true;
  std::error_code ec;
  if (!fs::is_directory(out, ec)) {
    if (complete) *complete = !fs::exists(fs::symlink_status(out, ec));  // nothing there at all
    return found;
  }
  if (::access(out.c_str(), R_OK | X_OK) != 0) sawAll = false;
  for (auto it = fs::recursive_directory_iterator(out, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      sawAll = false;
      break;
    }
    const fs::path& p = it->path();
    if (it->is_directory(ec)) {
      const std::string name = p.filename().string();
      if (name == ".terraform" || name == ".git" || name == "node_modules") {
        it.disable_recursion_pending();
      } else if (it->is_symlink(ec) || ::access(p.c_str(), R_OK | X_OK) != 0) {
        sawAll = false;  // not followed, or skipped: what lies below is unknown
      }
      continue;
    }
    std::string rel = p.lexically_relative(out).generic_string();
    if (produced(rel)) continue;
    std::string ext = p.extension().string();
    if (ext != ".json" && ext != ".yml" && ext != ".yaml") continue;
    auto head = readFile(p, backend::kMarkerWindow);
    if (head && backend::isGenerated(*head)) found.push_back(std::move(rel));
  }
  if (ec) sawAll = false;
  if (complete) *complete = sawAll;
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace gops::driver
