#pragma once
/// The file system side of `gops build`: comparing generated files with what is on
/// disk and writing the ones that changed. A build of 1,000 services produces
/// about 7,600 files, so this is written for many small files: POSIX calls instead
/// of streams, the size compared before any byte is read, each directory created
/// once, and the work spread over a few threads (on these machines most of a fresh
/// build's time is the kernel creating files).
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gops::driver {

/// At most `limit` bytes of the file (all of it by default); nullopt when it cannot
/// be opened or read.
std::optional<std::string> readFile(const std::filesystem::path& path, std::size_t limit = SIZE_MAX);

enum class OnDisk { Missing, Same, Different };

/// How the file at `path` compares with `contents`; a file of another size is
/// Different without being read.
OnDisk compareFile(const std::filesystem::path& path, std::string_view contents);

/// Writes `contents` to `path`. A file that exists is replaced through a temporary
/// file and a rename, so readers never see half of it; a new file is written in
/// place. The directory must exist. Returns an error message, empty on success.
std::string writeFile(const std::filesystem::path& path, std::string_view contents, bool exists);

/// Runs `task(i)` for every i in [0, n) on up to `threads` threads (the calling
/// thread included). Tasks must not throw.
void parallelFor(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& task);

/// Threads worth using on this machine for the backends and the file work (at
/// least 1, at most 4).
unsigned workerThreads();

/// Files under `out` that gops generated (they carry the marker) and that are not
/// `produced`, relative and `/`-separated, sorted. `produced` is asked about every
/// file; only the first bytes of the .json and .yml files it declines are read.
/// Skips what tools put next to generated files (.terraform, .git, node_modules).
/// `complete`, when given, says whether the walk saw every file under `out` (no
/// unreadable directory, no symbolic link to one, no error): then a file the walk
/// never passed to `produced` is not on disk.
std::vector<std::string> otherGeneratedFiles(const std::filesystem::path& out,
                                             const std::function<bool(const std::string&)>& produced,
                                             bool* complete = nullptr);

}  // namespace gops::driver
