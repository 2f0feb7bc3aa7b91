#include "backends/terraform/terraform.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "backends/terraform/modules.h"
#include "deploy_facts/env_facts.h"
#include "deploy_facts/files.h"

namespace gops::backend::terraform {

std::string generatedComment(const std::string& specLabel, const std::string& what) { return generatedNotice(specLabel, what); }

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
  for (const auto& account : o.appFiles ? facts::awsAccounts(app) : std::vector<std::string>{}) {
    Module m(generatedComment(spec, fmt::format("bootstrap of AWS account {}", account)));
    bootstrapModule(m, app, account);
    out.emit(facts::files::terraformModule("bootstrap/" + account), m);
  }
  if (o.appFiles && !app.app.registry.empty()) {
    Module m(generatedComment(spec, fmt::format("ECR repositories in the registry account {}", app.app.registry)));
    globalModule(m, app);
    out.emit(facts::files::terraformModule("global"), m);
  }
  for (const auto& env : app.environments) {
    if (!o.selected(env.name)) continue;
    Module m(generatedComment(spec, fmt::format("environment {}", env.name)));
    std::vector<std::string> errors;
    std::optional<facts::EnvFacts> own;
    envModule(m, o.facts ? o.facts->environment(env.name) : own.emplace(app, env), errors);
    for (auto& e : errors) out.out_.errors.push_back(fmt::format("environment `{}`: {}", env.name, e));
    out.emit(facts::files::terraformModule(env.name), m);
  }
  return out.finish();
}

Output generateGithub(const model::AppModel& app, const Options& o) {
  Emitter out;
  Module m(generatedComment(specOf(app, o), fmt::format("GitHub environments of {}", app.app.repository)));
  githubModule(m, app);
  out.emit(facts::files::terraformModule("github"), m);
  return out.finish();
}

}  // namespace gops::backend::terraform
