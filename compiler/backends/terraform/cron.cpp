#include "backends/terraform/cron.h"

#include <cctype>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace gops::backend::terraform {

std::string toEventBridgeCron(std::string_view expr) {
  std::vector<std::string> f;
  std::size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && expr[i] == ' ') ++i;
    std::size_t start = i;
    while (i < expr.size() && expr[i] != ' ') ++i;
    if (i > start) f.emplace_back(expr.substr(start, i - start));
  }
  if (f.size() != 5) return std::string(expr);
  std::string dom = f[2], dow = f[4];
  if (dow == "*") {
    dow = "?";
  } else {
    if (dom == "*") dom = "?";
    std::string out;
    bool afterSlash = false;
    for (char c : dow) {
      if (c == '/') afterSlash = true;
      else if (c == ',' || c == '-') afterSlash = false;
      if (std::isdigit(static_cast<unsigned char>(c)) && !afterSlash) {
        int d = c - '0';
        out += std::to_string(d == 7 ? 1 : d + 1);  // POSIX 0-7 from Sunday -> 1-7
      } else {
        out += c;
      }
    }
    dow = out;
  }
  return fmt::format("{} {} {} {} {} *", f[0], f[1], dom, f[3], dow);
}

std::string scheduleExpression(const model::Schedule& s) {
  if (s.kind == model::Schedule::Kind::Cron) return fmt::format("cron({})", toEventBridgeCron(s.cron));
  auto minutes = static_cast<long long>(std::ceil(s.rateSeconds / 60.0));
  if (minutes < 1) minutes = 1;
  auto unit = [](long long n, const char* one) { return fmt::format("rate({} {}{})", n, one, n == 1 ? "" : "s"); };
  if (minutes % (60 * 24) == 0) return unit(minutes / (60 * 24), "day");
  if (minutes % 60 == 0) return unit(minutes / 60, "hour");
  return unit(minutes, "minute");
}

}  // namespace gops::backend::terraform
