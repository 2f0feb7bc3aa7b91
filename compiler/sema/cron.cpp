#include "sema/cron.h"

#include <variant>

#include "support/cron.h"

namespace gops::sema {

std::optional<CronError> checkCron(std::string_view expr) {
  auto parsed = cron::parse(expr);
  if (const auto* e = std::get_if<cron::Error>(&parsed)) return CronError{e->message, e->begin, e->end};
  return std::nullopt;
}

}  // namespace gops::sema
