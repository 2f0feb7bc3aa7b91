// The checker's passes one by one (compiler/sema/checking.h): resolution of layers
// and overrides, evaluation once per context, and what the build makes of them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "sema/checking.h"
#include "sema/loader.h"
#include "sema/resolve.h"

using namespace gops;

namespace {

struct Loaded {
  diag::DiagnosticEngine diags;
  sema::Program program;
};

std::unique_ptr<Loaded> load(const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "gops-passes-test";
  std::filesystem::create_directories(dir);
  auto path = dir / "spec.gops";
  std::ofstream(path) << text;
  auto r = std::make_unique<Loaded>();
  sema::LoadOptions opts;
  opts.stdlibDir = GOPS_SOURCE_STDLIB;
  r->program = sema::loadProgram({path.string()}, opts, r->diags);
  return r;
}

/// Runs the passes up to and including the build of services and jobs.
void runPasses(sema::detail::CheckState& st) {
  using namespace sema::detail;
  collectDeclarations(st);
  buildApp(st);
  checkRolloutDecls(st);
  buildEnvironments(st);
  checkUnitDecls(st);
  buildWorkloads(st);
}

const char* kEnvs = R"(
app a { region = "us-east-1"  repository = "o/a"  registry = "111111111111" }
environment dev     { account = "111111111111"  deploy = on_push("dev") }
environment staging { account = "222222222222"  deploy = on_push("main") }
environment prod    { account = "333333333333"  deploy = manual }
)";

const ast::Decl* declNamed(const sema::Program& p, const std::string& name) {
  for (const auto& f : p.files) {
    for (const auto& d : f.decls) {
      if (d.name == name) return &d;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("resolution applies templates, then bodies, then `in ENV`, field by field", "[passes]") {
  auto l = load(std::string(kEnvs) + R"(
template base { cpu = 256  health { path = "/a"  interval = 20s }  env { A = "1"  B = "2" } }
template web extends base { cpu = 512  health { timeout = 3s }  in prod { cpu = 1024  env { B = "p" } } }
service s extends web { image = ecr("a/s")  port = 80  in prod { health { path = "/p" } } }
)");
  std::map<std::string, const ast::Decl*> templates = {{"base", declNamed(l->program, "base")}, {"web", declNamed(l->program, "web")}};
  const ast::Decl* s = declNamed(l->program, "s");
  auto layers = sema::extendsChain(*s, templates);
  REQUIRE(layers.size() == 3);
  CHECK(layers[0]->name == "base");
  CHECK(layers[2]->name == "s");

  sema::Resolution dev = sema::resolve(layers, "dev");
  const sema::Setting& cpu = dev[sema::AttrId::UnitCpu];
  REQUIRE(cpu);
  CHECK(cpu.layer->name == "web");
  CHECK_FALSE(cpu.inOverride);
  CHECK(cpu.stmt->value().text == "512");
  REQUIRE(cpu.overrode.size() == 1);
  CHECK(cpu.overrode[0]->value().text == "256");
  CHECK(dev[sema::AttrId::HealthPath].stmt->value().text == "/a");
  CHECK(dev[sema::AttrId::HealthTimeout].layer->name == "web");
  CHECK(dev.entriesOf(sema::BlockId::UnitEnv).at("B").stmt->value().text == "2");
  CHECK_FALSE(dev[sema::AttrId::UnitReplicas]);

  sema::Resolution prod = sema::resolve(layers, "prod");
  const sema::Setting& prodCpu = prod[sema::AttrId::UnitCpu];
  CHECK(prodCpu.stmt->value().text == "1024");
  CHECK(prodCpu.inOverride);
  REQUIRE(prodCpu.overrode.size() == 2);
  CHECK(prodCpu.overrode[0]->value().text == "512");  // the one it replaced last comes first
  CHECK(prodCpu.overrode[1]->value().text == "256");
  CHECK(prod[sema::AttrId::HealthPath].stmt->value().text == "/p");
  CHECK(prod[sema::AttrId::HealthInterval].stmt->value().text == "20");
  CHECK(prod.entriesOf(sema::BlockId::UnitEnv).at("B").inOverride);
  CHECK(prod.entriesOf(sema::BlockId::UnitEnv).at("A").layer->name == "base");

  const sema::Setting* found = sema::find(prod, "env", "B");
  REQUIRE(found);
  CHECK(found->stmt->value().text == "p");
  CHECK(sema::find(prod, "", "nonsense") == nullptr);
  CHECK(sema::find(prod, "health", "path") == &prod[sema::AttrId::HealthPath]);
}

TEST_CASE("each statement is evaluated once per context it depends on", "[passes]") {
  std::string text = std::string(kEnvs) + R"(
template t {
  cpu = 0.5 vcpu
  memory = 1 GiB
  env { WHERE = "${env.name}"  WHO = "${service.name}" }
}
)";
  for (int i = 0; i < 10; ++i) text += fmt::format("service s{} extends t {{ image = ecr(\"a/s{}\") }}\n", i, i);
  auto l = load(text);
  sema::detail::CheckState st(l->program, l->diags);
  runPasses(st);
  REQUIRE_FALSE(l->diags.hasErrors());
  // cpu and memory: once in all. WHERE: once per environment. WHO: once per
  // service. Each image: once. Without the cache: 3 environments x 10 services x 5.
  CHECK(st.evaluation.evaluations() == 1 + 1 + 3 + 10 + 10);
  CHECK(st.evaluation.hits() > 0);
  const auto& prod = st.out.model.environments.at(2);
  CHECK(prod.services.at(3).env.at("WHERE") == "prod");
  CHECK(prod.services.at(3).env.at("WHO") == "s3");
  CHECK(prod.services.at(3).cpu == 512);
}

TEST_CASE("a problem in a template is found once however many services and environments use it", "[passes]") {
  std::string text = std::string(kEnvs) + R"(
template t {
  memory = 512
  port = "8080"
  health { interval = 1000s }
}
)";
  for (int i = 0; i < 10; ++i) text += fmt::format("service s{} extends t {{ image = ecr(\"a/s{}\") }}\n", i, i);
  auto l = load(text);
  sema::Analysis a = sema::analyze(l->program, l->diags);
  // `memory` and `port` have the wrong types; the interval is out of range. Each is
  // found by the one evaluation of its statement: nothing is reported twice.
  CHECK(l->diags.errorCount() == 3);
  CHECK(l->diags.droppedRepeats() == 0);
  CHECK(a.model.environments.size() == 3);
}

TEST_CASE("the build fills the model from the table's fields and its own rules", "[passes]") {
  auto l = load(std::string(kEnvs) + R"(
service api {
  image = ecr("a/api")
  cpu = 1 vcpu
  memory = 2 GiB
  replicas = 3
  port = 8080
  expose = public("api.example.com")
  health { path = "/healthz"  timeout = 2s }
  autoscale { max = 9  cpu = 60% }
  log_retention = 7d
  in prod { replicas = 6  autoscale { min = 6  max = 30 } }
}
job nightly { image = ecr("a/n")  schedule = rate(1h)  timeout = 30m }
)");
  sema::Analysis a = sema::analyze(l->program, l->diags);
  REQUIRE_FALSE(l->diags.hasErrors());
  const auto& dev = *a.model.environment("dev");
  const auto& s = dev.services.at(0);
  CHECK(s.cpu == 1024);
  CHECK(s.memory == 2048);
  CHECK(s.replicas == 3);
  CHECK(s.port == 8080);
  CHECK(s.expose.hosts == std::vector<std::string>{"api.example.com"});
  CHECK(s.health->path == "/healthz");
  CHECK(s.health->timeoutSeconds == 2);
  CHECK(s.health->intervalSeconds == 30);  // the default
  CHECK(s.autoscale->min == 3);            // min defaults to replicas
  CHECK(s.autoscale->max == 9);
  CHECK(*s.autoscale->cpuPercent == 60);
  CHECK(s.logRetentionDays == 7);
  const auto& prod = *a.model.environment("prod");
  CHECK(prod.services.at(0).replicas == 6);
  CHECK(prod.services.at(0).autoscale->max == 30);
  CHECK(dev.jobs.at(0).timeoutSeconds == 1800);
  CHECK(dev.jobs.at(0).schedule.rateSeconds == 3600);
  CHECK(a.templates.empty());
}
