#include <catch2/catch.hpp>

#include "backends/graph/graph.h"
#include "backends/plan/plan.h"

using namespace gops;

namespace {

model::Service svc(std::string name, std::vector<std::string> deps = {}) {
  model::Service s;
  s.name = std::move(name);
  s.dependsOn = std::move(deps);
  return s;
}

}  // namespace

TEST_CASE("services deploy in waves after what they depend on", "[plan]") {
  model::Environment e;
  e.services = {svc("a", {"c"}), svc("b"), svc("c"), svc("d", {"a", "b"}), svc("e", {"b"})};
  auto w = backend::plan::waves(e);
  REQUIRE(w.size() == 3);
  CHECK(w[0] == std::vector<std::string>{"b", "c"});
  CHECK(w[1] == std::vector<std::string>{"a", "e"});
  CHECK(w[2] == std::vector<std::string>{"d"});

  model::Environment none;
  CHECK(backend::plan::waves(none).empty());
}

TEST_CASE("a plan per selected environment, deterministic", "[plan]") {
  model::AppModel app;
  app.app = {"shop", "us-east-1", "acme/shop", "111111111111", "shop.gops"};
  for (const char* name : {"dev", "prod"}) {
    model::Environment e;
    e.name = name;
    e.account = "111111111111";
    e.region = "us-east-1";
    e.services = {svc("api")};
    app.environments.push_back(e);
  }
  backend::Options only;
  only.environments = {"prod"};
  auto out = backend::plan::generate(app, only);
  REQUIRE(out.files.size() == 1);
  CHECK(out.files[0].path == "prod/plan.json");
  CHECK(out.files[0].contents == backend::plan::generate(app, only).files[0].contents);
  CHECK(out.files[0].contents.find("\"plan_version\": 1") != std::string::npos);
  CHECK(backend::isGenerated(out.files[0].contents));
  CHECK(backend::plan::generate(app).files.size() == 2);
}

TEST_CASE("durations print in their shortest exact unit", "[graph]") {
  using backend::graph::duration;
  CHECK(duration(0) == "0s");
  CHECK(duration(45) == "45s");
  CHECK(duration(300) == "5m");
  CHECK(duration(5400) == "90m");
  CHECK(duration(86400) == "1d");
  CHECK(duration(3725) == "1h2m5s");
  CHECK(duration(1.5) == "1.5s");
}
