// The table of attributes (compiler/sema/attributes.def) against itself, the model
// and the checker: what the docs and the editors say of an attribute must be what
// the checker does with it.
#include <catch2/catch.hpp>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/model_json.h"
#include "sema/checker.h"
#include "sema/loader.h"
#include "sema/schema.h"

using namespace gops;
using sema::AttrSpec;
using sema::Scope;

namespace {

struct Checked {
  diag::DiagnosticEngine diags;
  sema::Analysis analysis;
};

std::unique_ptr<Checked> checkText(const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "gops-attributes-test";
  std::filesystem::create_directories(dir);
  auto path = dir / "spec.gops";
  std::ofstream(path) << text;
  auto r = std::make_unique<Checked>();
  sema::LoadOptions opts;
  opts.stdlibDir = GOPS_SOURCE_STDLIB;
  sema::Program prog = sema::loadProgram({path.string()}, opts, r->diags);
  r->analysis = sema::analyze(prog, r->diags);
  return r;
}

std::string errorsOf(const Checked& c) {
  std::string out;
  for (const auto& d : c.diags.diagnostics()) {
    if (d.severity == diag::Severity::Error) out += d.message + " [" + d.primary.message + "]\n";
  }
  return out;
}

/// A valid spec, as lines per body, so that a test can add or leave out one line.
struct Spec {
  std::map<std::string, std::vector<std::string>> lines = {
      {"app", {"region = \"us-east-1\"", "repository = \"o/a\"", "registry = \"111111111111\""}},
      {"env", {"account = \"111111111111\"", "deploy = on_push(\"dev\")"}},
      {"env.approval", {"reviewers = [\"o/t\", \"o/u\"]"}},
      {"env.network", {}},
      {"env.dns", {"zone = \"example.com\""}},
      {"promote", {}},
      {"service", {"image = ecr(\"a/s\")", "port = 8080", "expose = public(\"s.example.com\")"}},
      {"service.health", {}},
      {"service.task", {"command = [\"bin/migrate\"]"}},
      {"worker", {"image = ecr(\"a/w\")"}},
      {"worker.sidecar", {"image = image(\"envoy:1\")", "memory = 64 MiB"}},
      {"worker.volume", {"efs = \"fs-0123456789abcdef0\"", "path = \"/data\""}},
      {"job", {"image = ecr(\"a/j\")", "schedule = cron(\"0 3 * * *\")"}},
      {"job.capacity", {}},
  };
  /// The rollout of service s: "" (the environment's default) or a strategy whose
  /// body is lines[strategy]; "rolling" is dev's rollout instead.
  std::string strategy;

  /// The body an attribute is written in.
  static std::string bodyOf(const AttrSpec& a) {
    switch (a.scope) {
      case Scope::App: return "app";
      case Scope::Environment: return a.block.empty() ? "env" : "env." + std::string(a.block);
      case Scope::Promote: return "promote";
      case Scope::Rolling: return "rolling";
      case Scope::BlueGreen: return "blue_green";
      case Scope::Canary: return "canary";
      case Scope::Linear: return "linear";
      case Scope::Task: return "service.task";
      case Scope::Capacity: return "job.capacity";
      case Scope::Unit:
        if (!a.block.empty()) return a.block == "health" ? "service.health" : "worker." + std::string(a.block);
        if (a.applies == sema::Applies::Service && a.name == "before_deploy") return "worker";
        return a.applies == sema::Applies::Job ? "job" : "worker";
      default: return "?";
    }
  }

  std::string join(const std::string& key) const {
    auto it = lines.find(key);
    return it == lines.end() ? std::string() : fmt::format("{}", fmt::join(it->second, "  "));
  }

  std::string text() const {
    std::string out = fmt::format("app a {{ {} }}\n", join("app"));
    out += fmt::format("environment dev {{ {} {} approval {{ {} }} network {{ {} }} dns {{ {} }} }}\n", join("env"),
                       strategy == "rolling" ? fmt::format("rollout = rolling {{ {} }}", join("rolling")) : "", join("env.approval"),
                       join("env.network"), join("env.dns"));
    out += "environment prod { account = \"222222222222\"  deploy = manual }\n";
    out += fmt::format("promote dev -> prod {{ {} }}\n", join("promote"));
    std::string rollout;
    if (strategy == "blue_green") rollout = fmt::format("rollout = blue_green {{ {} }}", join("blue_green"));
    if (strategy == "canary") rollout = fmt::format("rollout = canary {{ step 10% for 1m  {} }}", join("canary"));
    if (strategy == "linear") rollout = fmt::format("rollout = linear {{ step 25% every 1m  {} }}", join("linear"));
    out += fmt::format("service s {{ {} {} health {{ {} }}  before_deploy = task {{ {} }} }}\n", join("service"), rollout, join("service.health"),
                       join("service.task"));
    out += fmt::format("service w {{ {}  sidecar proxy {{ {} }}  volume data {{ {} }} }}\n", join("worker"), join("worker.sidecar"),
                       join("worker.volume"));
    out += fmt::format("job j {{ {}  capacity = {{ {} }} }}\n", join("job"), join("job.capacity"));
    return out;
  }
};

/// Every environment's model as JSON, without where rollouts came from (setting an
/// attribute to its default still sets it).
std::string modelJson(const Checked& c) {
  std::string out;
  for (const auto& e : c.analysis.model.environments) {
    std::string j = model::environmentJson(c.analysis.model, e);
    for (const char* key : {"\"source\": \"environment\"", "\"source\": \"service\"", "\"source\": \"default\""}) {
      for (std::size_t p; (p = j.find(key)) != std::string::npos;) j.replace(p, std::string_view(key).size(), "\"source\": *");
    }
    out += j;
  }
  return out;
}

bool literalDefault(const AttrSpec& a) {
  return !a.defaultText.empty() && !a.required() && a.defaultText.front() != '(';
}

}  // namespace

TEST_CASE("the table of attributes is well-formed", "[attributes]") {
  std::set<std::string> seen;
  for (const AttrSpec& a : sema::allAttrs()) {
    INFO(a.path());
    CHECK(seen.insert(fmt::format("{}/{}", sema::toString(a.scope), a.path())).second);
    CHECK(&sema::attrSpec(a.id) == &a);
    CHECK_FALSE(a.doc.empty());
    CHECK(a.doc.back() == '.');
    CHECK((a.applies == sema::Applies::Any || a.scope == Scope::Unit));
    if (!a.block.empty()) {
      const sema::BlockSpec* b = sema::schemaFor(a.scope).block(a.block);
      REQUIRE(b);
      CHECK_FALSE(b->map);
      CHECK(b->attr(a.name) == &a);
    } else {
      CHECK(sema::schemaFor(a.scope).attr(a.name) == &a);
    }
    CHECK(sema::findAttr(a.scope, a.block, a.name) == &a);
  }
  for (const sema::BlockSpec& b : sema::allBlocks()) {
    INFO(b.name);
    CHECK(&sema::blockSpec(b.id) == &b);
    CHECK(sema::schemaFor(b.scope).block(b.name) == &b);
    CHECK((b.map || b.clauses() || !b.attrs.empty()));
    CHECK(b.clauses() == !b.verb.empty());
  }
}

TEST_CASE("defaults in the table agree with the model", "[attributes]") {
  // Writing an attribute's documented default must change nothing in the model.
  int tested = 0;
  for (const AttrSpec& a : sema::allAttrs()) {
    if (!literalDefault(a)) continue;
    INFO(fmt::format("{} `{}` = {}", sema::toString(a.scope), a.path(), a.defaultText));
    Spec without;
    for (Scope sc : {Scope::Rolling, Scope::BlueGreen, Scope::Canary, Scope::Linear}) {
      if (a.scope == sc) without.strategy = std::string(sema::toString(sc));
    }

    Spec with = without;
    with.lines[Spec::bodyOf(a)].push_back(fmt::format("{} = {}", a.name, a.defaultText));
    auto c0 = checkText(without.text());
    auto c1 = checkText(with.text());
    REQUIRE(errorsOf(*c0) == "");
    REQUIRE(errorsOf(*c1) == "");
    CHECK(modelJson(*c1) == modelJson(*c0));
    ++tested;
  }
  CHECK(tested >= 35);
}

TEST_CASE("a missing required attribute is reported by name", "[attributes]") {
  int tested = 0;
  for (const AttrSpec& a : sema::allAttrs()) {
    if (!a.required()) continue;
    INFO(a.path());
    Spec spec;
    auto& body = spec.lines[Spec::bodyOf(a)];
    std::string prefix = fmt::format("{} = ", a.name);
    auto it = std::find_if(body.begin(), body.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
    REQUIRE(it != body.end());
    body.erase(it);
    auto c = checkText(spec.text());
    CHECK(errorsOf(*c).find(fmt::format("`{}`", a.name)) != std::string::npos);
    ++tested;
  }
  CHECK(tested >= 14);
}

TEST_CASE("hovers and completion document an attribute from the table", "[attributes]") {
  const AttrSpec* cpu = sema::findAttr(Scope::Unit, "", "cpu");
  REQUIRE(cpu);
  CHECK(sema::attrDocMarkdown(*cpu) ==
        "CPU per task: `0.25 vcpu` ... `16 vcpu`, or CPU units (`256` = 0.25 vCPU).\n\nDefault: `0.25 vcpu`. Rules: a Fargate CPU size.");
  const AttrSpec* image = sema::findAttr(Scope::Unit, "", "image");
  REQUIRE(image);
  CHECK(sema::attrDocMarkdown(*image).find("\n\nRequired. Rules: ") != std::string::npos);
  CHECK(sema::describeDefault(*sema::findAttr(Scope::Environment, "", "region")) == "the app's");
  CHECK(sema::describeDefault(*sema::findAttr(Scope::Unit, "", "port")) == "none");
}
