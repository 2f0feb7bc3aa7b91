#include "deploy_facts/schedule.h"

#include <cmath>
#include <set>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gops::facts {

namespace {

using cron::Field;
using cron::Item;
using cron::Value;

/// A field written back item by item, each value as `value` renders it.
template <class RenderValue>
std::string renderField(const Field& f, RenderValue&& value) {
  std::string out;
  for (const Item& item : f.items) {
    if (!out.empty()) out += ',';
    if (item.any) {
      out += '*';
    } else {
      out += value(item.first);
      if (item.last) out += '-' + value(*item.last);
    }
    if (item.step) out += '/' + item.step->text;
  }
  return out;
}

/// Names as their numbers, numbers as written.
std::string numbered(const Value& v) { return v.isName() ? std::to_string(v.number) : v.text; }

std::string rateExpression(double seconds) {
  auto minutes = static_cast<long long>(std::ceil(seconds / 60.0));
  if (minutes < 1) minutes = 1;
  auto unit = [](long long n, const char* one) { return fmt::format("rate({} {}{})", n, one, n == 1 ? "" : "s"); };
  if (minutes % (60 * 24) == 0) return unit(minutes / (60 * 24), "day");
  if (minutes % 60 == 0) return unit(minutes / 60, "hour");
  return unit(minutes, "minute");
}

}  // namespace

std::string eventBridgeCron(const cron::Expression& e) {
  const auto& f = e.fields;
  std::string dom = f[cron::kDayOfMonth].text;
  std::string dow;
  if (f[cron::kDayOfWeek].isAny()) {
    dow = "?";
  } else {
    if (f[cron::kDayOfMonth].isAny()) dom = "?";
    // POSIX counts weekdays 0-7 from Sunday, EventBridge 1-7; names stay as written.
    dow = renderField(f[cron::kDayOfWeek], [](const Value& v) {
      return v.isName() ? v.text : std::to_string(v.number == 7 ? 1 : v.number + 1);
    });
  }
  return fmt::format("{} {} {} {} {} *", f[cron::kMinute].text, f[cron::kHour].text, dom, f[cron::kMonth].text, dow);
}

std::string githubCron(const cron::Expression& e) {
  const auto& f = e.fields;
  const Field& dowField = f[cron::kDayOfWeek];
  bool seven = false;
  for (const Item& item : dowField.items) {
    seven = seven || (!item.any && (item.first.number == 7 || (item.last && item.last->number == 7)));
  }
  std::string dow;
  if (!seven) {
    dow = renderField(dowField, numbered);
  } else {
    std::set<int> days;
    for (const Item& item : dowField.items) {
      int stepBy = item.step ? item.step->number : 1;
      int lo = item.any ? 0 : item.first.number;
      int hi = item.any ? 7 : item.last ? item.last->number : item.step ? 7 : lo;
      for (int d = lo; d <= hi; d += stepBy) days.insert(d % 7);
    }
    if (days.size() == 7) {
      dow = "*";
    } else {
      std::vector<std::string> parts;
      for (int d : days) parts.push_back(std::to_string(d));
      dow = fmt::format("{}", fmt::join(parts, ","));
    }
  }
  return fmt::format("{} {} {} {} {}", f[cron::kMinute].text, f[cron::kHour].text, f[cron::kDayOfMonth].text,
                     renderField(f[cron::kMonth], numbered), dow);
}

Schedule scheduleFacts(const model::Schedule& s) {
  Schedule out;
  out.kind = s.kind;
  out.expression = s.expression;
  auto parsed = cron::parse(s.cron);
  if (auto* e = std::get_if<cron::Expression>(&parsed)) out.cron = std::move(*e);
  out.github = out.cron ? githubCron(*out.cron) : s.cron;
  if (s.kind == model::Schedule::Kind::Rate) {
    out.eventBridge = rateExpression(s.rateSeconds);
  } else {
    out.eventBridge = fmt::format("cron({})", out.cron ? eventBridgeCron(*out.cron) : s.cron);
  }
  return out;
}

}  // namespace gops::facts
