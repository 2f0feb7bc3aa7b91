#pragma once
/// Cron expressions as GitHub Actions and most people write them: five fields
/// (minute hour day-of-month month day-of-week), UTC, with `*`, lists, ranges, steps
/// and month/day names. The parser is support/cron.h, shared with the deployment
/// facts that render schedules for EventBridge and GitHub Actions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gops::sema {

struct CronError {
  std::string message;
  std::size_t begin = 0;  ///< byte range inside the expression
  std::size_t end = 0;
};

/// Validates `expr`; returns the first problem.
std::optional<CronError> checkCron(std::string_view expr);

}  // namespace gops::sema
