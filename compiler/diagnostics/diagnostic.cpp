#include "diagnostics/diagnostic.h"

#include <algorithm>
#include <array>

namespace gops::diag {

namespace {
constexpr std::array kCodes = {
#define GOPS_DIAG(Name, CodeText, Sev, Summary) CodeInfo{Code::Name, #Name, CodeText, Severity::Sev, Summary},
#include "diagnostics/codes.def"
#undef GOPS_DIAG
};
}  // namespace

const CodeInfo& info(Code code) { return kCodes.at(static_cast<std::size_t>(code)); }
std::span<const CodeInfo> allCodes() { return kCodes; }

std::optional<Code> codeFromText(std::string_view text) {
  for (const auto& c : kCodes) {
    if (c.text == text) return c.code;
  }
  // Accept lower case and a missing leading letter ("e0202", "0202").
  for (const auto& c : kCodes) {
    std::string_view t = c.text;
    if (text.size() == t.size() && (text[0] == t[0] || text[0] == t[0] + 32) && text.substr(1) == t.substr(1)) {
      return c.code;
    }
    if (text == t.substr(1)) return c.code;
  }
  return std::nullopt;
}

std::string_view severityName(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

DiagnosticBuilder::~DiagnosticBuilder() {
  if (engine_) engine_->add(std::move(d_));
}

DiagnosticBuilder DiagnosticEngine::report(Code code, SourceRange range, std::string message, std::string label) {
  Diagnostic d;
  d.code = code;
  d.severity = info(code).severity;
  d.message = std::move(message);
  d.primary = {range, std::move(label)};
  return DiagnosticBuilder(*this, std::move(d));
}

void DiagnosticEngine::add(Diagnostic d) {
  if (!seen_.emplace(d.code, d.primary.range, d.message).second) {
    ++repeats_;
    return;
  }
  if (d.severity == Severity::Error) ++errors_;
  if (d.severity == Severity::Warning) ++warnings_;
  diags_.push_back(std::move(d));
}

void DiagnosticEngine::sort() {
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    const auto& ra = a.primary.range;
    const auto& rb = b.primary.range;
    if (ra.file != rb.file) return ra.file < rb.file;
    if (ra.begin != rb.begin) return ra.begin < rb.begin;
    return a.code < b.code;
  });
}

void DiagnosticEngine::clear() {
  diags_.clear();
  seen_.clear();
  errors_ = warnings_ = repeats_ = 0;
}

}  // namespace gops::diag
