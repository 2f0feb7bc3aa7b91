#include "support/cron.h"

#include <cctype>

#include <fmt/format.h>

#include "support/text.h"

namespace gops::cron {

namespace {

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  std::vector<std::string_view> names;  ///< names for values min.. (months, weekdays)
};

const std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day of month", 1, 31, {}},
    {"month", 1, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    {"day of week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}};

std::optional<Value> parseValue(std::string_view s, const FieldSpec& f) {
  if (s.empty()) return std::nullopt;
  bool digits = true;
  for (char c : s) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits && s.size() <= 3) return Value{std::stoi(std::string(s)), std::string(s)};
  std::string up = toUpper(s);
  for (std::size_t i = 0; i < f.names.size(); ++i) {
    if (f.names[i] == up) return Value{f.min + static_cast<int>(i), std::string(s)};
  }
  return std::nullopt;
}

/// Parses one field into `out`, or returns its first problem.
std::optional<Error> parseField(std::string_view text, std::size_t offset, const FieldSpec& f, Field& out) {
  out.text = std::string(text);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    std::size_t itemOff = offset + pos;
    auto err = [&](std::string msg) { return Error{std::move(msg), itemOff, itemOff + item.size()}; };
    if (item.empty()) return err(fmt::format("empty item in the {} field", f.name));
    Item parsed;
    std::string_view range = item;
    std::size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      std::string_view step = item.substr(slash + 1);
      range = item.substr(0, slash);
      auto n = parseValue(step, FieldSpec{f.name, 1, 1000, {}});
      if (!n || n->number < 1 || n->number > f.max + (f.min == 0 ? 1 : 0)) {
        return err(fmt::format("`{}` is not a valid step for the {} field", step, f.name));
      }
      parsed.step = *n;
    }
    if (range == "*") {
      parsed.any = true;
    } else {
      std::size_t dash = range.find('-');
      std::string_view lo = dash == std::string_view::npos ? range : range.substr(0, dash);
      std::string_view hi = dash == std::string_view::npos ? std::string_view{} : range.substr(dash + 1);
      auto a = parseValue(lo, f);
      if (!a || a->number < f.min || a->number > f.max) {
        return err(fmt::format("`{}` is not a valid {} (expected {}-{}{})", lo, f.name, f.min, f.max,
                               f.names.empty() ? "" : fmt::format(" or a name like `{}`", f.names.front())));
      }
      parsed.first = *a;
      if (dash != std::string_view::npos) {
        auto b = parseValue(hi, f);
        if (!b || b->number < f.min || b->number > f.max) {
          return err(fmt::format("`{}` is not a valid {} (expected {}-{})", hi, f.name, f.min, f.max));
        }
        if (b->number < a->number) return err(fmt::format("the range `{}` in the {} field runs backwards", range, f.name));
        parsed.last = *b;
      }
    }
    out.items.push_back(std::move(parsed));
    pos = comma + 1;
    if (comma == text.size()) break;
  }
  return std::nullopt;
}

}  // namespace

std::variant<Expression, Error> parse(std::string_view expr) {
  std::vector<std::pair<std::size_t, std::string_view>> fields;
  std::size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && expr[i] == ' ') ++i;
    if (i >= expr.size()) break;
    std::size_t start = i;
    while (i < expr.size() && expr[i] != ' ') ++i;
    fields.emplace_back(start, expr.substr(start, i - start));
  }
  if (fields.size() != 5) {
    std::string hint = fields.size() == 6 ? " (gops uses the five-field form; drop the seconds or year field)" : "";
    return Error{fmt::format("a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has {}{}",
                             fields.size(), hint),
                 0, expr.size()};
  }
  Expression out;
  for (std::size_t k = 0; k < 5; ++k) {
    for (char c : fields[k].second) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '*' || c == ',' || c == '-' || c == '/')) {
        return Error{fmt::format("unexpected `{}` in the {} field", c, kFields[k].name), fields[k].first,
                     fields[k].first + fields[k].second.size()};
      }
    }
    if (auto e = parseField(fields[k].second, fields[k].first, kFields[k], out.fields[k])) return *e;
  }
  return out;
}

}  // namespace gops::cron
