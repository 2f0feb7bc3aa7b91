#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "sema/checker.h"
#include "sema/loader.h"

using namespace gops;

namespace {
struct Result {
  sema::Analysis analysis;
  diag::DiagnosticEngine diags;
};

std::unique_ptr<Result> check(const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "gops-checker-test";
  std::filesystem::create_directories(dir);
  auto path = dir / "spec.gops";
  std::ofstream(path) << text;
  auto r = std::make_unique<Result>();
  sema::LoadOptions opts;
  opts.stdlibDir = GOPS_SOURCE_STDLIB;
  sema::Program prog = sema::loadProgram({path.string()}, opts, r->diags);
  r->analysis = sema::analyze(prog, r->diags);
  return r;
}

const char* kBase = R"(
app a { region = "us-east-1"  repository = "o/a"  registry = "111111111111" }
environment dev  { account = "111111111111"  deploy = on_push("dev") }
environment prod { account = "222222222222"  deploy = manual }
)";
}  // namespace

TEST_CASE("templates and overrides merge field by field", "[checker]") {
  auto r = check(std::string(kBase) + R"(
template base { port = 80  health { path = "/a"  interval = 20s } env { A = "1"  B = "2" } }
template web extends base { health { timeout = 3s } env { B = "x" } in prod { replicas = 4 } }
service s extends web {
  image = ecr("a/s")
  env { C = "3" }
  in prod { health { path = "/p" } env { A = "p" } }
}
)");
  REQUIRE_FALSE(r->diags.hasErrors());
  const auto* prod = r->analysis.model.environment("prod");
  const auto* dev = r->analysis.model.environment("dev");
  REQUIRE(prod);
  REQUIRE(dev);
  const auto& sp = prod->services.at(0);
  const auto& sd = dev->services.at(0);
  CHECK(sp.replicas == 4);
  CHECK(sd.replicas == 1);
  CHECK(sp.health->path == "/p");
  CHECK(sd.health->path == "/a");
  CHECK(sp.health->intervalSeconds == 20);
  CHECK(sp.health->timeoutSeconds == 3);
  CHECK(sp.env.at("A") == "p");
  CHECK(sd.env.at("A") == "1");
  CHECK(sd.env.at("B") == "x");
  CHECK(sd.env.at("C") == "3");
  CHECK(sd.templates == std::vector<std::string>{"web", "base"});
}

TEST_CASE("units are normalised", "[checker]") {
  auto r = check(std::string(kBase) + R"(
service s { image = ecr("a/s")  cpu = 0.5 vcpu  memory = 1 GiB }
job j { image = ecr("a/j")  cpu = 1024  memory = 2048 MiB  schedule = rate(6h) }
)");
  REQUIRE_FALSE(r->diags.hasErrors());
  const auto* dev = r->analysis.model.environment("dev");
  CHECK(dev->services[0].cpu == 512);
  CHECK(dev->services[0].memory == 1024);
  CHECK(dev->jobs[0].cpu == 1024);
  CHECK(dev->jobs[0].schedule.cron == "0 */6 * * *");
}

TEST_CASE("environments come in promotion order", "[checker]") {
  auto r = check(std::string(kBase) + "promote dev -> prod { after = [soak(1h)] }\n");
  REQUIRE_FALSE(r->diags.hasErrors());
  REQUIRE(r->analysis.model.environments.size() == 2);
  CHECK(r->analysis.model.environments[0].name == "dev");
  CHECK(r->analysis.model.promotions.at(0).gates.at(0).soakSeconds == 3600);
}

TEST_CASE("a linear rollout expands into steps", "[checker]") {
  auto r = check(std::string(kBase) + R"(
service s { image = ecr("a/s")  port = 80  expose = public("a.example.com")  rollout = linear { step 25% every 2m } }
)");
  REQUIRE_FALSE(r->diags.hasErrors());
  const auto& ro = r->analysis.model.environment("dev")->services[0].rollout;
  REQUIRE(ro.steps.size() == 3);
  CHECK(ro.steps[2].weight == 75);
  CHECK(ro.steps[2].holdSeconds == 120);
}

TEST_CASE("services without a load balancer fall back to rolling", "[checker]") {
  auto r = check(std::string(kBase) + R"(
environment stage { account = "333333333333"  deploy = manual  rollout = canary { step 10% for 1m  rollback when cpu > 90%  rollback when http_5xx_rate > 1% } }
service w { image = ecr("a/w") }
)");
  REQUIRE_FALSE(r->diags.hasErrors());
  const auto& s = r->analysis.model.environment("stage")->services[0];
  CHECK(s.rolloutSource == "fallback");
  CHECK(s.rollout.kind == model::Rollout::Kind::Rolling);
  REQUIRE(s.rollout.rollback.size() == 1);
  CHECK(s.rollout.rollback[0].metric == "cpu");
}

TEST_CASE("every independent error is reported", "[checker]") {
  auto r = check(std::string(kBase) + R"(
service s { image = ecr("a/s")  memory = 512  port = 70000  replicsa = 1 }
)");
  CHECK(r->diags.errorCount() == 3);
}
