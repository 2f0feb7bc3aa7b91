#include "gops/aws/encoding.h"

#include <charconv>
#include <cstdio>

namespace gops::aws {

namespace {

bool isUnreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Civil date/time in UTC.
struct Civil {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

Civil toCivil(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto days = floor<std::chrono::days>(secs);
  const year_month_day ymd{days};
  const hh_mm_ss hms{secs - days};
  return Civil{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()), static_cast<unsigned>(hms.hours().count()),
               static_cast<unsigned>(hms.minutes().count()),
               static_cast<unsigned>(hms.seconds().count())};
}

/// Reads exactly `width` digits at `pos`.
bool readDigits(std::string_view s, std::size_t& pos, std::size_t width, int& out) {
  if (pos + width > s.size()) return false;
  const char* begin = s.data() + pos;
  for (std::size_t i = 0; i < width; ++i) {
    if (begin[i] < '0' || begin[i] > '9') return false;
  }
  std::from_chars(begin, begin + width, out);
  pos += width;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::string uriEncode(std::string_view s, bool keepSlash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (isUnreserved(c) || (keepSlash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0F]);
    }
  }
  return out;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hexValue(s[i + 1]);
      const int lo = hexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string formEncode(const QueryParams& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += uriEncode(key);
    out.push_back('=');
    out += uriEncode(value);
  }
  return out;
}

void addQueryList(QueryParams& params, std::string_view prefix,
                  const std::vector<std::string>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    params[std::string(prefix) + "." + std::to_string(i + 1)] = values[i];
  }
}

std::string hexEncode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0x0F]);
  }
  return out;
}

std::string formatAmzDate(std::chrono::system_clock::time_point t) {
  const Civil c = toCivil(t);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02u%02u%02uZ", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buffer;
}

std::string formatDateStamp(std::chrono::system_clock::time_point t) {
  return formatAmzDate(t).substr(0, 8);
}

std::string formatIso8601(std::chrono::system_clock::time_point t) {
  const Civil c = toCivil(t);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02u:%02u:%02uZ", c.year, c.month, c.day,
                c.hour, c.minute, c.second);
  return buffer;
}

std::optional<std::chrono::system_clock::time_point> parseIso8601(std::string_view s) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const bool basic = s.size() >= 9 && s[4] != '-';  // 20150830T123600Z
  if (!readDigits(s, pos, 4, year)) return std::nullopt;
  if (!basic && !expect(s, pos, '-')) return std::nullopt;
  if (!readDigits(s, pos, 2, month)) return std::nullopt;
  if (!basic && !expect(s, pos, '-')) return std::nullopt;
  if (!readDigits(s, pos, 2, day)) return std::nullopt;
  if (!expect(s, pos, 'T') && !expect(s, pos, 't') && !expect(s, pos, ' ')) return std::nullopt;
  if (!readDigits(s, pos, 2, hour)) return std::nullopt;
  if (!basic && !expect(s, pos, ':')) return std::nullopt;
  if (!readDigits(s, pos, 2, minute)) return std::nullopt;
  if (!basic && !expect(s, pos, ':')) return std::nullopt;
  if (!readDigits(s, pos, 2, second)) return std::nullopt;
  if (expect(s, pos, '.')) {
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  int offsetMinutes = 0;
  if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
    // UTC
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!readDigits(s, pos, 2, oh)) return std::nullopt;
    expect(s, pos, ':');
    if (!readDigits(s, pos, 2, om)) return std::nullopt;
    offsetMinutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const sys_seconds t = sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second} -
                        minutes{offsetMinutes};
  return time_point_cast<system_clock::duration>(t);
}

}  // namespace gops::aws
