#include "backends/terraform/refs.h"

#include <fmt/compile.h>
#include <fmt/format.h>

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

std::string templateEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '$' || c == '%') && i + 1 < text.size() && text[i + 1] == '{') out += c;
    out += c;
  }
  return out;
}

std::string tfRef(std::string_view expression) { return fmt::format("${{{}}}"_cf, expression); }

namespace ref {

std::string subnetId(std::string_view kind, int zone) { return fmt::format("aws_subnet.{}_{}.id"_cf, kind, zone); }

std::vector<std::string> subnetIds(std::string_view kind, int zones) {
  std::vector<std::string> out;
  for (int i = 0; i < zones; ++i) out.push_back(tfRef(subnetId(kind, i)));
  return out;
}

std::string subnetList(std::string_view kind, int zones) {
  std::string out = "[";
  for (int i = 0; i < zones; ++i) out += fmt::format("{}{}"_cf, i ? ", " : "", subnetId(kind, i));
  return out + "]";
}

}  // namespace ref

}  // namespace gops::backend::terraform
