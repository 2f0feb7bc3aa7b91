#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/common/output.h"
#include "backends/ecs/ecs.h"
#include "backends/plan/plan.h"
#include "backends/terraform/terraform.h"
#include "backends/workflows/workflows.h"
#include "deploy_facts/env_facts.h"
#include "driver/backends.h"
#include "driver/commands.h"
#include "driver/common.h"
#include "driver/files.h"

namespace gops::driver {

namespace fs = std::filesystem;

const std::vector<Backend>& backends() {
  static const std::vector<Backend> table = {
      {"terraform", "Terraform root modules: bootstrap per account, global (ECR), one per environment", &backend::terraform::generate, true},
      {"github", "the Terraform module for the GitHub repository's environments", &backend::terraform::generateGithub},
      {"ecs", "ECS task and service definitions per environment (RegisterTaskDefinition, CreateService input)", &backend::ecs::generate, true},
      {"workflows", "GitHub Actions workflows: CI, image builds, deploys, infrastructure, drift, rollback", &backend::workflows::generate},
      {"plan", "the deployment plan of each environment, what `gops apply` executes", &backend::plan::generate, true},
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

  // The deployment facts of every environment, computed once for all the backends.
  const facts::AppFacts deployFacts(app);
  backend::Options bo;
  bo.environments = o.envs;
  bo.specLabel = specLabel(app.app.sourceFile);
  bo.facts = &deployFacts;
  // The backends read the model only, so they run side by side: those that can, once
  // per environment (the Terraform modules of the environments are the largest
  // pieces of work), the first of those runs also writing the app's files.
  std::vector<std::string> envs;
  for (const auto& env : app.environments) {
    if (bo.selected(env.name)) envs.push_back(env.name);  // each once, in declaration order
  }
  struct Task {
    const Backend* backend;
    backend::Options options;
    backend::Output output;
    std::string crash;
  };
  std::vector<Task> tasks;
  for (const auto& b : backends()) {
    if (!o.emit.empty() && std::find(o.emit.begin(), o.emit.end(), b.name) == o.emit.end()) continue;
    if (!b.perEnvironment || envs.size() < 2) {
      tasks.push_back({&b, bo, {}, {}});
      continue;
    }
    for (std::size_t i = 0; i < envs.size(); ++i) {
      backend::Options one = bo;
      one.environments = {envs[i]};
      one.appFiles = i == 0;
      tasks.push_back({&b, std::move(one), {}, {}});
    }
  }
  parallelFor(tasks.size(), workerThreads(), [&](std::size_t i) {
    try {
      tasks[i].output = tasks[i].backend->generate(app, tasks[i].options);
    } catch (const std::exception& e) {
      tasks[i].crash = e.what();
    }
  });
  std::map<std::string, std::string> files;  // path -> contents, sorted
  bool failed = false;
  for (auto& task : tasks) {
    if (!task.crash.empty()) {
      std::cerr << fmt::format("gops: internal error in the {} backend: {}\n", task.backend->name, task.crash);
      return 2;
    }
    for (const auto& e : task.output.errors) std::cerr << fmt::format("gops: error: {}\n", e);
    failed = failed || !task.output.errors.empty();
    for (auto& f : task.output.files) {
      auto [it, inserted] = files.emplace(std::move(f.path), std::move(f.contents));
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
  // The same walk tells which of the files exist: only those need opening.
  std::vector<std::string> extra;
  std::set<std::string> present;
  bool sawAll = false;
  for (auto& path : otherGeneratedFiles(
           out,
           [&](const std::string& p) {
             if (!files.count(p)) return false;
             present.insert(p);
             return true;
           },
           &sawAll)) {
    if (everything || dirs.count(fs::path(path).parent_path().generic_string())) extra.push_back(std::move(path));
  }

  // Compare every file with what is on disk, on a few threads.
  std::vector<std::pair<const std::string*, const std::string*>> list;
  list.reserve(files.size());
  for (const auto& [path, contents] : files) list.emplace_back(&path, &contents);
  std::vector<OnDisk> state(list.size());
  parallelFor(list.size(), workerThreads(), [&](std::size_t i) {
    state[i] = sawAll && !present.count(*list[i].first) ? OnDisk::Missing : compareFile(out / *list[i].first, *list[i].second);
  });

  if (o.check) {
    std::vector<std::string> problems;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string& path = *list[i].first;
      if (state[i] == OnDisk::Missing) {
        problems.push_back(fmt::format("missing  {}", path));
      } else if (state[i] == OnDisk::Different) {
        auto disk = readFile(out / path);
        problems.push_back(disk ? fmt::format("stale    {} (differs from line {})", path, firstDifferentLine(*disk, *list[i].second))
                                : fmt::format("stale    {} (cannot be read)", path));
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

  // Create each directory a changed file needs once, then write the files.
  std::vector<std::size_t> toWrite;
  std::set<fs::path> made;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (state[i] == OnDisk::Same) continue;
    toWrite.push_back(i);
    fs::path dir = (out / *list[i].first).parent_path();
    if (state[i] == OnDisk::Different || !made.insert(dir).second) continue;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return ioFailure({fmt::format("`{}`: cannot create the directory: {}", dir.string(), ec.message())});
  }
  std::vector<std::string> errors(toWrite.size());
  parallelFor(toWrite.size(), workerThreads(), [&](std::size_t k) {
    std::size_t i = toWrite[k];
    errors[k] = writeFile(out / *list[i].first, *list[i].second, state[i] == OnDisk::Different);
  });
  errors.erase(std::remove(errors.begin(), errors.end(), std::string()), errors.end());
  if (!errors.empty()) return ioFailure(errors);
  const std::size_t changed = toWrite.size();
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
