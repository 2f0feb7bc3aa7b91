#pragma once
/// The one parser of five-field cron expressions (minute hour day-of-month month
/// day-of-week, UTC, with `*`, lists, ranges, steps and month/day names), shared by
/// the checker (sema/cron.h reports its errors) and the deployment facts (which
/// render the parsed form for EventBridge and GitHub Actions). Fields are separated
/// by spaces; each item keeps the text it was written with, so a renderer can copy
/// what it does not need to change.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gops::cron {

enum FieldIndex : std::size_t { kMinute = 0, kHour = 1, kDayOfMonth = 2, kMonth = 3, kDayOfWeek = 4 };

/// One value of an item: its number (names resolved: JAN = 1, SUN = 0) and its text.
struct Value {
  int number = 0;
  std::string text;  ///< as written: "5", "05", "mon"
  bool isName() const { return !text.empty() && !(text[0] >= '0' && text[0] <= '9'); }
};

/// One comma-separated item: `*`, `v` or `a-b`, each optionally `/step`.
struct Item {
  bool any = false;             ///< `*`
  Value first;                  ///< !any
  std::optional<Value> last;    ///< `a-b`: b
  std::optional<Value> step;    ///< `/n`
};

struct Field {
  std::string text;  ///< as written
  std::vector<Item> items;
  bool isAny() const { return text == "*"; }
};

struct Expression {
  std::array<Field, 5> fields;
};

struct Error {
  std::string message;
  std::size_t begin = 0;  ///< byte range inside the expression
  std::size_t end = 0;
};

/// Parses `text`; on error, the first problem with the bytes it concerns.
std::variant<Expression, Error> parse(std::string_view text);

}  // namespace gops::cron
