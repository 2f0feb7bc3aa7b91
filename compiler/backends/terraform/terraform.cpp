#include "backends/terraform/terraform.h"

#include <algorithm>

#include <fmt/format.h>

#include "backends/terraform/modules.h"

namespace gops::backend::terraform {

std::string homeAccount(const model::AppModel& app) {
  if (!app.app.registry.empty()) return app.app.registry;
  return app.environments.empty() ? std::string() : app.environments.front().account;
}

std::string generatedComment(const std::string& specLabel, const std::string& what) { return generatedNotice(specLabel, what); }

std::vector<std::string> accounts(const model::AppModel& app) {
  std::vector<std::string> out;
  for (const auto& e : app.environments) out.push_back(e.account);
  if (!app.app.registry.empty()) out.push_back(app.app.registry);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

/// Renders modules into an Output, turning names generated twice into errors.
class Emitter {
 public:
  void emit(std::string path, Module& m) {
    std::vector<std::string> duplicates;
    std::string text = m.render(duplicates);
    for (const auto& d : duplicates) {
      out_.errors.push_back(fmt::format("{}: the {} is generated twice; a service or job name clashes with a name gops "
                                        "generates (see docs/terraform.md, Naming), so rename it",
                                        path, d));
    }
    out_.files.push_back({std::move(path), std::move(text)});
  }
  Output finish() {
    if (!out_.errors.empty()) out_.files.clear();
    std::sort(out_.files.begin(), out_.files.end(), [](const File& a, const File& b) { return a.path < b.path; });
    return std::move(out_);
  }
  Output out_;
};

std::string specOf(const model::AppModel& app, const Options& o) { return o.specLabel.empty() ? app.app.sourceFile : o.specLabel; }

}  // namespace

Output generate(const model::AppModel& app, const Options& o) {
  Emitter out;
  std::string spec = specOf(app, o);
  for (const auto& account : o.appFiles ? accounts(app) : std::vector<std::string>{}) {
    Module m(generatedComment(spec, fmt::format("bootstrap of AWS account {}", account)));
    bootstrapModule(m, app, account);
    out.emit(fmt::format("bootstrap/{}/terraform/main.tf.json", account), m);
  }
  if (o.appFiles && !app.app.registry.empty()) {
    Module m(generatedComment(spec, fmt::format("ECR repositories in the registry account {}", app.app.registry)));
    globalModule(m, app);
    out.emit("global/terraform/main.tf.json", m);
  }
  for (const auto& env : app.environments) {
    if (!o.selected(env.name)) continue;
    Module m(generatedComment(spec, fmt::format("environment {}", env.name)));
    std::vector<std::string> errors;
    envModule(m, app, env, errors);
    for (auto& e : errors) out.out_.errors.push_back(fmt::format("environment `{}`: {}", env.name, e));
    out.emit(fmt::format("{}/terraform/main.tf.json", env.name), m);
  }
  return out.finish();
}

Output generateGithub(const model::AppModel& app, const Options& o) {
  Emitter out;
  Module m(generatedComment(specOf(app, o), fmt::format("GitHub environments of {}", app.app.repository)));
  githubModule(m, app);
  out.emit("github/terraform/main.tf.json", m);
  return out.finish();
}

}  // namespace gops::backend::terraform
