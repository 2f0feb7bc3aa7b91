#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/common/output.h"
#include "backends/ecs/ecs.h"
#include "backends/plan/plan.h"
#include "backends/terraform/terraform.h"
#include "backends/workflows/workflows.h"
#include "driver/backends.h"
#include "driver/commands.h"
#include "driver/common.h"

namespace gops::driver {

namespace fs = std::filesystem;

const std::vector<Backend>& backends() {
  static const std::vector<Backend> table = {
      {"terraform", "Terraform root modules: bootstrap per account, global (ECR), one per environment", &backend::terraform::generate},
      {"github", "the Terraform module for the GitHub repository's environments", &backend::terraform::generateGithub},
      {"ecs", "ECS task and service definitions per environment (RegisterTaskDefinition, CreateService input)", &backend::ecs::generate},
      {"workflows", "GitHub Actions workflows: CI, image builds, deploys, infrastructure, drift, rollback", &backend::workflows::generate},
      {"plan", "the deployment plan of each environment, what `gops apply` executes", &backend::plan::generate},
  };
  return table;
}

namespace {

/// How generated files name the spec: relative to the enclosing git checkout (so
/// the files do not change with where the checkout lives or where gops runs), else
/// just its file name.
std::string specLabel(const std::string& file) {
  std::error_code ec;
  fs::path p = fs::absolute(file, ec).lexically_normal();
  if (ec) return fs::path(file).filename().generic_string();
  for (fs::path dir = p.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / ".git", ec)) return p.lexically_relative(dir).generic_string();
    if (dir == dir.root_path()) break;
  }
  return p.filename().generic_string();
}

/// Writes `contents` to `path` unless it already holds exactly that (so
/// timestamps only move on change); through a temporary file and a rename.
bool writeIfChanged(const fs::path& path, const std::string& contents, std::string& error, bool& wrote) {
  wrote = false;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    if (in && old.str() == contents) return true;
  }
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    error = fmt::format("`{}`: cannot create the directory: {}", path.parent_path().string(), ec.message());
    return false;
  }
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream w(tmp, std::ios::binary | std::ios::trunc);
    w << contents;
    if (!w.flush()) {
      error = fmt::format("`{}`: cannot write the file", tmp.string());
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    error = fmt::format("`{}`: cannot write the file: {}", path.string(), ec.message());
    return false;
  }
  wrote = true;
  return true;
}


std::optional<std::string> readFile(const fs::path& path, std::size_t limit = SIZE_MAX) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data;
  if (limit == SIZE_MAX) {
    std::ostringstream s;
    s << in.rdbuf();
    data = s.str();
  } else {
    data.resize(limit);
    in.read(data.data(), static_cast<std::streamsize>(limit));
    data.resize(static_cast<std::size_t>(in.gcount()));
  }
  return data;
}

/// Files under `out` that gops generated (they carry the marker), relative and
/// `/`-separated. Skips what tools put next to them (.terraform, .git, node_modules).
std::vector<std::string> generatedFilesOnDisk(const fs::path& out) {
  std::vector<std::string> found;
  std::error_code ec;
  if (!fs::is_directory(out, ec)) return found;
  for (auto it = fs::recursive_directory_iterator(out, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name == ".terraform" || name == ".git" || name == "node_modules") it.disable_recursion_pending();
      continue;
    }
    std::string ext = it->path().extension().string();
    if (ext != ".json" && ext != ".yml" && ext != ".yaml") continue;
    auto head = readFile(it->path(), backend::kMarkerWindow);
    if (head && backend::isGenerated(*head)) found.push_back(it->path().lexically_relative(out).generic_string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

/// The first line where two texts differ (1-based).
std::size_t firstDifferentLine(const std::string& a, const std::string& b) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < a.size() && i < b.size() && a[i] == b[i]; ++i) {
    if (a[i] == '\n') ++line;
  }
  return line;
}

}  // namespace

int runBuild(const GlobalOptions& g, const BuildOptions& o) {
  int status = 0;
  auto c = loadChecked(g, o.path, status);
  if (!c) return status;
  const model::AppModel& app = c->analysis.model;
  for (const auto& e : o.envs) {
    if (!app.environment(e)) return unknownEnvironment(app, e);
  }

  backend::Options bo;
  bo.environments = o.envs;
  bo.specLabel = specLabel(app.app.sourceFile);
  std::map<std::string, std::string> files;  // path -> contents, sorted
  bool failed = false;
  for (const auto& b : backends()) {
    if (!o.emit.empty() && std::find(o.emit.begin(), o.emit.end(), b.name) == o.emit.end()) continue;
    backend::Output out;
    try {
      out = b.generate(app, bo);
    } catch (const std::exception& e) {
      std::cerr << fmt::format("gops: internal error in the {} backend: {}\n", b.name, e.what());
      return 2;
    }
    for (const auto& e : out.errors) std::cerr << fmt::format("gops: error: {}\n", e);
    failed = failed || !out.errors.empty();
    for (auto& f : out.files) {
      auto [it, inserted] = files.emplace(f.path, std::move(f.contents));
      if (!inserted) {
        std::cerr << fmt::format("gops: internal error: two backends generate `{}`\n", it->first);
        return 2;
      }
    }
  }
  if (failed) return 1;

  // A generated file on disk that this build does not produce is extra: anywhere
  // under OUT when everything is built, else only in directories this build writes
  // to (so `--env prod` does not call dev's files extra).
  const fs::path out(o.out);
  const bool everything = o.envs.empty() && o.emit.empty();
  std::set<std::string> dirs;
  for (const auto& [path, _] : files) dirs.insert(fs::path(path).parent_path().generic_string());
  std::vector<std::string> extra;
  for (const auto& path : generatedFilesOnDisk(out)) {
    if (files.count(path)) continue;
    if (everything || dirs.count(fs::path(path).parent_path().generic_string())) extra.push_back(path);
  }

  if (o.check) {
    std::vector<std::string> problems;
    for (const auto& [path, contents] : files) {
      auto disk = readFile(out / path);
      if (!disk) {
        problems.push_back(fmt::format("missing  {}", path));
      } else if (*disk != contents) {
        problems.push_back(fmt::format("stale    {} (differs from line {})", path, firstDifferentLine(*disk, contents)));
      }
    }
    for (const auto& path : extra) problems.push_back(fmt::format("extra    {} (generated by gops, no longer produced)", path));
    if (problems.empty()) {
      std::cout << fmt::format("{} generated files in {} are up to date\n", files.size(), o.out);
      return 0;
    }
    for (const auto& p : problems) std::cout << p << "\n";
    std::string again = fmt::format("gops build {} -o {}", o.path, o.out);
    if (!o.envs.empty()) again += fmt::format(" --env {}", fmt::join(o.envs, ","));
    if (!o.emit.empty()) again += fmt::format(" --emit {}", fmt::join(o.emit, ","));
    std::cout << fmt::format("{} of {} generated files in {} are out of date; run `{}` and commit the result\n", problems.size(),
                             files.size() + extra.size(), o.out, again);
    return 1;
  }

  std::size_t changed = 0;
  for (const auto& [path, contents] : files) {
    std::string error;
    bool wrote = false;
    if (!writeIfChanged(out / path, contents, error, wrote)) return ioFailure({error});
    changed += wrote ? 1 : 0;
  }
  for (const auto& path : extra) {
    std::error_code ec;
    fs::remove(out / path, ec);
    if (ec) return ioFailure({fmt::format("`{}`: cannot remove the file: {}", (out / path).string(), ec.message())});
    std::cerr << fmt::format("removed {} (no longer generated)\n", (out / path).generic_string());
  }
  std::cerr << fmt::format("wrote {} files to {} ({} changed{})\n", files.size(), o.out, changed,
                           extra.empty() ? "" : fmt::format(", {} removed", extra.size()));
  return 0;
}

}  // namespace gops::driver
