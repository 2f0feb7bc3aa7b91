#include "journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "gops/deploy/deploy.h"

namespace gops::deploy::exec {

void Journal::write(json entry) {
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

std::vector<json> Journal::entriesOf(const std::string& deployId) const {
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

}  // namespace gops::deploy::exec
