#pragma once
/// Schedules in EventBridge Scheduler's syntax. The conversion from gops's
/// five-field cron lives here (and not in sema) so the backend depends only on the
/// model; sema validated every expression, so the input is well-formed.
#include <string>
#include <string_view>

#include "model/model.h"

namespace gops::backend::terraform {

/// The six-field EventBridge form of a valid five-field cron expression
/// ("0 3 * * *" -> "0 3 * * ? *"): exactly one of day-of-month and day-of-week is
/// `?`, weekday numbers count 1-7 from Sunday, and the year field is `*`.
std::string toEventBridgeCron(std::string_view expr);

/// A job's `schedule_expression`: "cron(0 3 * * ? *)" or "rate(6 hours)". Rates
/// use the largest unit that divides them exactly, at least one minute.
std::string scheduleExpression(const model::Schedule& s);

}  // namespace gops::backend::terraform
