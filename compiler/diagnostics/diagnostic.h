#pragma once
/// Diagnostics: what the compiler tells a user about their spec. Producers raise
/// them through a DiagnosticEngine; consumers (terminal, JSON, SARIF, the language
/// server) render the same objects.
#include <cstdint>
#include <optional>
#include <set>
#include <tuple>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/source.h"

namespace gops::diag {

enum class Severity { Error, Warning, Note };

enum class Code : std::uint16_t {
#define GOPS_DIAG(Name, CodeText, Sev, Summary) Name,
#include "diagnostics/codes.def"
#undef GOPS_DIAG
};

struct CodeInfo {
  Code code;
  std::string_view name;
  std::string_view text;  ///< "E0202"
  Severity severity;
  std::string_view summary;
};

const CodeInfo& info(Code code);
std::span<const CodeInfo> allCodes();
std::optional<Code> codeFromText(std::string_view text);
std::string_view severityName(Severity s);

struct Label {
  SourceRange range;
  std::string message;
};

/// A text edit that fixes the problem; several edits form one fix.
struct Edit {
  SourceRange range;
  std::string replacement;
};

struct Fix {
  std::string title;
  std::vector<Edit> edits;
};

struct Diagnostic {
  Code code;
  Severity severity;
  std::string message;
  Label primary;
  std::vector<Label> secondary;
  std::vector<std::string> help;
  std::vector<std::string> notes;
  std::vector<Fix> fixes;
};

class DiagnosticEngine;

/// A diagnostic under construction; it is reported when the builder goes out of
/// scope, so `engine.report(...).help("...")` needs no explicit commit.
class DiagnosticBuilder {
 public:
  DiagnosticBuilder(DiagnosticEngine& engine, Diagnostic d) : engine_(&engine), d_(std::move(d)) {}
  DiagnosticBuilder(DiagnosticBuilder&& o) noexcept : engine_(o.engine_), d_(std::move(o.d_)) { o.engine_ = nullptr; }
  DiagnosticBuilder(const DiagnosticBuilder&) = delete;
  DiagnosticBuilder& operator=(const DiagnosticBuilder&) = delete;
  ~DiagnosticBuilder();

  DiagnosticBuilder& label(SourceRange range, std::string message) {
    if (range.valid()) d_.secondary.push_back({range, std::move(message)});
    return *this;
  }
  DiagnosticBuilder& help(std::string text) {
    d_.help.push_back(std::move(text));
    return *this;
  }
  DiagnosticBuilder& note(std::string text) {
    d_.notes.push_back(std::move(text));
    return *this;
  }
  /// A one-edit fix.
  DiagnosticBuilder& fix(std::string title, SourceRange range, std::string replacement) {
    d_.fixes.push_back({std::move(title), {{range, std::move(replacement)}}});
    return *this;
  }
  DiagnosticBuilder& primaryLabel(std::string message) {
    d_.primary.message = std::move(message);
    return *this;
  }

 private:
  DiagnosticEngine* engine_;
  Diagnostic d_;
};

class DiagnosticEngine {
 public:
  /// Reports a diagnostic with the code's default severity at `range`.
  DiagnosticBuilder report(Code code, SourceRange range, std::string message, std::string label = {});

  /// Adds a finished diagnostic. Exact duplicates (code, primary range, message) are
  /// dropped: a problem is reported once however many paths find it.
  void add(Diagnostic d);
  /// How many duplicates add() dropped. The checker evaluates a statement once per
  /// context it depends on, so only values that differ by environment (an
  /// interpolated `${env.name}`) can be found more than once.
  std::size_t droppedRepeats() const { return repeats_; }

  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  std::size_t errorCount() const { return errors_; }
  std::size_t warningCount() const { return warnings_; }
  bool hasErrors() const { return errors_ > 0; }
  /// Orders diagnostics by file, then position, then code (stable for equal keys).
  void sort();
  void clear();

 private:
  std::vector<Diagnostic> diags_;
  std::set<std::tuple<Code, SourceRange, std::string>> seen_;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
  std::size_t repeats_ = 0;
};

}  // namespace gops::diag
