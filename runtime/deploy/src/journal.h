#pragma once
// The local journal (docs/runtime.md): one JSON object per line, flushed to disk
// before the step it announces runs.
#include <mutex>
#include <string>
#include <vector>

#include "util.h"

namespace gops::deploy::exec {

class Journal {
 public:
  /// `path` empty: no journal (writes do nothing, reads find nothing).
  explicit Journal(std::string path) : path_(std::move(path)) {}
  /// Appends `entry` with the time, and fsyncs. Throws DeployError.
  void write(json entry);
  /// Every entry of `deployId` (a missing journal, or one of another machine, has none).
  std::vector<json> entriesOf(const std::string& deployId) const;

 private:
  std::string path_;
  std::mutex mutex_;
};

}  // namespace gops::deploy::exec
