#include <catch2/catch.hpp>

#include "sema/cron.h"

using namespace gops::sema;

TEST_CASE("valid cron expressions pass", "[cron]") {
  CHECK_FALSE(checkCron("0 6 * * 1"));
  CHECK_FALSE(checkCron("*/15 0-6 1,15 JAN-MAR MON-FRI"));
  CHECK_FALSE(checkCron("0 3 * * *"));
}

TEST_CASE("invalid cron expressions name the bad field", "[cron]") {
  auto e = checkCron("0 25 * * *");
  REQUIRE(e);
  CHECK(e->message.find("hour") != std::string::npos);
  CHECK(e->begin == 2);
  CHECK(e->end == 4);
  CHECK(checkCron("0 3 * *"));
  CHECK(checkCron("0 3 * * * *")->message.find("five-field") != std::string::npos);
  CHECK(checkCron("0 3 * 13 *"));
  CHECK(checkCron("0 3 * * FOO"));
  CHECK(checkCron("5-1 * * * *"));
}
