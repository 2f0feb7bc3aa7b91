// `gops record-tests`, `gops promote --check` and `gops drift`: compile the environments'
// plans (and ECS JSON, and for drift the Terraform JSON) in memory, or read them from
// --plan-dir, and hand them to the runtime (runtime/deploy) as data.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "driver/backends.h"
#include "driver/commands.h"
#include "driver/common.h"
#include "driver/runtime_io.h"
#include "gops/aws/aws.h"
#include "gops/deploy/deploy.h"
#include "gops/deploy/drift.h"
#include "gops/deploy/promote.h"

namespace gops::driver {

namespace {

using json = nlohmann::json;

/// The bundles of `envs` (plan and ECS JSON, plus the Terraform module with `terraform`),
/// compiled in memory from one load of the spec. Returns an exit code (0: ready).
int compileBundles(const GlobalOptions& g, const std::string& path, const std::vector<std::string>& envs, bool terraform,
                   const char* command, std::vector<deploy::Bundle>& bundles) {
  int status = 0;
  auto c = loadChecked(g, path, status);
  if (!c) return status;
  const model::AppModel& app = c->analysis.model;
  for (const auto& env : envs) {
    if (!app.environment(env)) return unknownEnvironment(app, env);
  }
  backend::Options bo;
  bo.environments = envs;
  std::map<std::string, std::map<std::string, std::string>> files;  // env -> rel -> contents
  for (const auto& b : backends()) {
    if (b.name != "plan" && b.name != "ecs" && !(terraform && b.name == "terraform")) continue;
    backend::Output out = b.generate(app, bo);
    bool fatal = b.name != "terraform";  // without the Terraform JSON, drift skips the alarms' settings
    if (fatal) {
      for (const auto& e : out.errors) std::cerr << fmt::format("gops: error: {}\n", e);
      if (!out.errors.empty()) return 1;
    }
    for (auto& f : out.files) {
      for (const auto& env : envs) {
        const std::string prefix = env + "/";
        if (f.path.rfind(prefix, 0) != 0) continue;
        std::string rel = f.path.substr(prefix.size());
        if (b.name == "terraform" && rel != "terraform/main.tf.json") continue;
        files[env][rel] = f.contents;
      }
    }
  }
  try {
    for (const auto& env : envs) bundles.push_back(deploy::makeBundle(std::move(files[env])));
  } catch (const deploy::DeployError& e) {
    printDeployError(command, e.what());
    return 2;
  }
  return 0;
}

int loadOne(const GlobalOptions& g, const std::string& path, const std::string& env, const std::string& planDir, bool terraform,
            const char* command, deploy::Bundle& bundle) {
  if (!planDir.empty()) {
    try {
      bundle = deploy::readBundle(planDir);
    } catch (const deploy::DeployError& e) {
      printDeployError(command, e.what());
      return 2;
    }
    if (bundle.plan.environment != env) {
      std::cerr << fmt::format("gops {}: error: `{}` holds the plan of environment {}, not {}\n", command, planDir,
                               bundle.plan.environment, env);
      return 2;
    }
    return 0;
  }
  std::vector<deploy::Bundle> bundles;
  if (int rc = compileBundles(g, path, {env}, terraform, command, bundles)) return rc;
  bundle = std::move(bundles.front());
  return 0;
}

std::string errorText(const std::exception& e) {
  if (const auto* a = dynamic_cast<const aws::AwsError*>(&e)) {
    return fmt::format("{} {}: {}{}", a->service(), a->operation(), a->code(), a->message().empty() ? "" : ": " + a->message());
  }
  return e.what();
}


}  // namespace

int runRecordTests(const GlobalOptions& g, const RecordTestsOptions& o) {
  if (!deploy::validImageTag(o.imageTag)) {
    std::cerr << fmt::format("gops record-tests: error: `{}` is not an image tag (letters, digits, `_`, `.`, `-`; at most 128)\n", o.imageTag);
    return 2;
  }
  deploy::Bundle bundle;
  if (int rc = loadOne(g, o.path, o.env, o.planDir, false, "record-tests", bundle)) return rc;
  deploy::RecordTestsOptions ro;
  ro.imageTag = o.imageTag;
  ro.result = o.result;
  ro.commit = envOr("GITHUB_SHA", "");
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  ro.actor = envOr("GITHUB_ACTOR", fmt::format("{}@{}", envOr("USER", "unknown"), host));
  try {
    aws::AwsClient client = makeClient(bundle);
    json rec = deploy::recordTests(client, bundle, ro);
    if (o.format == "json") {
      std::cout << rec.dump() << "\n";
    } else {
      std::cout << fmt::format("gops record-tests: the tests of {} in {} {}: recorded in {}\n", o.imageTag, o.env, o.result,
                               rec["parameter"].get<std::string>());
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("gops record-tests: error: {}\n", errorText(e));
    return 1;
  }
}

int runPromoteCheck(const GlobalOptions& g, const PromoteOptions& o) {
  if (!o.check) {
    std::cerr << "gops promote: error: say what to do: `gops promote --check PATH FROM TO --image-tag TAG`\n";
    return 2;
  }
  deploy::ImageTags tags;
  if (int rc = parseImageTags(o.imageTags, "promote", tags)) return rc;
  if (o.from == o.to) {
    std::cerr << fmt::format("gops promote: error: FROM and TO are both `{}`\n", o.from);
    return 2;
  }
  std::vector<deploy::Bundle> bundles;
  if (int rc = compileBundles(g, o.path, {o.from, o.to}, false, "promote", bundles)) return rc;
  const deploy::Bundle& from = bundles[0];
  const deploy::Bundle& to = bundles[1];
  if (!deploy::promotionGates(to, o.from)) {
    std::vector<std::string> sources;
    for (const auto& gt : to.plan.gates) sources.push_back("`promote " + gt.from + " -> " + o.to + "`");
    std::cerr << fmt::format("gops promote: error: the spec has no `promote {} -> {}`", o.from, o.to);
    if (sources.empty()) {
      std::cerr << fmt::format("; nothing is promoted into {}\n", o.to);
    } else {
      std::string list;
      for (const auto& s : sources) list += (list.empty() ? "" : ", ") + s;
      std::cerr << fmt::format("; {} has {}\n", o.to, list);
    }
    return 2;
  }
  if (int rc = checkImageTagNames(tags, from.plan, false, "promote")) return rc;
  try {
    aws::AwsClient client = makeClient(from);
    json r = deploy::checkPromotion(client, from, to, tags);
    if (o.format == "json") {
      std::cout << r.dump(2) << "\n";
    } else {
      deploy::printPromotion(std::cout, r);
    }
    return r.value("passed", false) ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("gops promote: error: cannot check the gates: {}\n", errorText(e));
    return 1;
  }
}

int runDrift(const GlobalOptions& g, const DriftOptions& o) {
  // Exit 2 means drift here: errors, usage errors included, are 1.
  deploy::Bundle bundle;
  if (loadOne(g, o.path, o.env, o.planDir, true, "drift", bundle) != 0) return 1;
  json tf;
  if (loadTfOutputs(o.tfOutputs, "drift", tf) != 0) return 1;
  try {
    aws::AwsClient client = makeClient(bundle);
    json d = deploy::collectDrift(client, bundle, tf);
    if (o.format == "json") {
      std::cout << d.dump(2) << "\n";
    } else {
      deploy::printDrift(std::cout, d, o.format == "markdown");
    }
    return d.value("drifted", false) ? 2 : 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("gops drift: error: {}\n", errorText(e));
    return 1;
  }
}

}  // namespace gops::driver
