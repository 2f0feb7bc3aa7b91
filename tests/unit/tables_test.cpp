#include <catch2/catch.hpp>

#include "sema/tables.h"

using namespace gops::sema;

TEST_CASE("the Fargate table matches the documented sizes", "[tables]") {
  CHECK(fargateValid(256, 512));
  CHECK(fargateValid(256, 2048));
  CHECK_FALSE(fargateValid(256, 3072));
  CHECK(fargateValid(512, 1024));
  CHECK(fargateValid(1024, 2048));
  CHECK_FALSE(fargateValid(1024, 512));
  CHECK(fargateValid(4096, 30720));
  CHECK_FALSE(fargateValid(4096, 31744));
  CHECK(fargateValid(8192, 20480));
  CHECK_FALSE(fargateValid(8192, 18432));  // 4 GiB steps
  CHECK(fargateValid(16384, 122880));
  CHECK(fargateMemoryFor(384).empty());
  CHECK(fargateMemoryDescription(1024) == "2 GiB to 8 GiB in 1 GiB steps");
}

TEST_CASE("regions know their zones", "[tables]") {
  REQUIRE(findRegion("us-east-1"));
  CHECK(findRegion("us-east-1")->zones == 6);
  CHECK(findRegion("us-west-1")->zones == 2);
  CHECK_FALSE(findRegion("us-east-9"));
}

TEST_CASE("metrics carry units", "[tables]") {
  REQUIRE(findMetric("p99_latency"));
  CHECK(findMetric("p99_latency")->unit == MetricUnit::Duration);
  CHECK(findMetric("http_5xx_rate")->unit == MetricUnit::Percent);
  CHECK(findMetric("unhealthy_targets")->unit == MetricUnit::Count);
  CHECK_FALSE(findMetric("latency"));
}
