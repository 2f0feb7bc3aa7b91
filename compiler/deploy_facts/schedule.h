#pragma once
/// A schedule (a job's, an environment's drift check) parsed once, with the forms
/// the services that run it take: EventBridge Scheduler (the job's
/// `aws_scheduler_schedule`) and GitHub Actions (`on.schedule` of drift.yml).
#include <optional>
#include <string>

#include "model/model.h"
#include "support/cron.h"

namespace gops::facts {

struct Schedule {
  model::Schedule::Kind kind = model::Schedule::Kind::Cron;
  std::string expression;  ///< as written: `cron("0 3 * * *")`, `rate(6h)`
  /// The model's five-field cron (for a rate, its equivalent), parsed by the
  /// checker's parser. Empty only for a model that did not come from the checker
  /// (a hand-built one with no or a broken cron); the forms below then carry the
  /// cron text unchanged.
  std::optional<cron::Expression> cron;
  /// EventBridge Scheduler's `schedule_expression`: `cron(0 3 * * ? *)` or
  /// `rate(6 hours)` (the largest unit that divides the rate, at least a minute).
  std::string eventBridge;
  /// The five-field cron GitHub Actions (and actionlint) accept.
  std::string github;
};

Schedule scheduleFacts(const model::Schedule& s);

/// The six-field EventBridge form of a parsed cron ("0 3 * * *" -> "0 3 * * ? *"):
/// day-of-month becomes `?` when day-of-week is given and day-of-week `?` when it
/// is `*`, weekday numbers count 1-7 from Sunday, and the year field is `*`.
std::string eventBridgeCron(const cron::Expression& e);

/// The form GitHub Actions accepts: month and weekday names become numbers, and a
/// weekday field that uses 7 (Sunday) is written as the list of its days 0-6.
std::string githubCron(const cron::Expression& e);

}  // namespace gops::facts
