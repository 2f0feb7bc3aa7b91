#include "diagnostics/render.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/text.h"

namespace gops::diag {

namespace {

struct Style {
  bool on;
  std::string_view reset() const { return on ? "\x1b[0m" : ""; }
  std::string_view bold() const { return on ? "\x1b[1m" : ""; }
  std::string_view blue() const { return on ? "\x1b[1;34m" : ""; }
  std::string_view cyan() const { return on ? "\x1b[1;36m" : ""; }
  std::string_view sev(Severity s) const {
    if (!on) return "";
    switch (s) {
      case Severity::Error: return "\x1b[1;31m";
      case Severity::Warning: return "\x1b[1;33m";
      case Severity::Note: return "\x1b[1;32m";
    }
    return "";
  }
};

struct Mark {
  std::uint32_t startCol;  // 1-based, code points
  std::uint32_t endCol;    // exclusive
  bool primary;
  std::string message;
};

/// Expands tabs so carets line up with what the terminal shows.
std::string displayLine(std::string_view line) {
  std::string out;
  for (char c : line) {
    if (c == '\t') out += "    ";
    else out += c;
  }
  return out;
}

std::uint32_t displayColumn(std::string_view line, std::uint32_t col) {
  // col is a 1-based code-point column; tabs count as four.
  std::uint32_t display = 1;
  std::size_t bytes = utf8Advance(line, col - 1);
  for (std::size_t i = 0; i < bytes && i < line.size();) {
    if (line[i] == '\t') {
      display += 4;
      ++i;
    } else {
      std::size_t next = utf8Advance(line.substr(i), 1);
      display += 1;
      i += next == 0 ? 1 : next;
    }
  }
  return display;
}

}  // namespace

std::string renderHuman(const Diagnostic& d, const SourceManager& sm, const HumanOptions& opts) {
  Style st{opts.color};
  std::string out;
  fmt::format_to(std::back_inserter(out), "{}{}[{}]{}{}: {}{}\n", st.sev(d.severity), severityName(d.severity),
                 info(d.code).text, st.reset(), st.bold(), d.message, st.reset());

  // Collect labels per file, per line. The primary label's file comes first.
  struct FileMarks {
    FileId file;
    std::map<std::uint32_t, std::vector<Mark>> lines;
    LineCol first{};
  };
  std::vector<FileMarks> files;
  auto addLabel = [&](const Label& l, bool primary) {
    if (!l.range.valid() || l.range.file >= sm.size()) return;
    const SourceFile& f = sm.file(l.range.file);
    LineCol a = f.lineCol(l.range.begin);
    LineCol b = f.lineCol(l.range.end);
    std::uint32_t endCol = b.line == a.line ? b.column : static_cast<std::uint32_t>(utf8Length(f.lineText(a.line))) + 1;
    if (endCol <= a.column) endCol = a.column + 1;
    auto it = std::find_if(files.begin(), files.end(), [&](const FileMarks& fm) { return fm.file == l.range.file; });
    if (it == files.end()) {
      files.push_back({l.range.file, {}, a});
      it = std::prev(files.end());
    }
    it->lines[a.line].push_back({a.column, endCol, primary, l.message});
  };
  addLabel(d.primary, true);
  for (const auto& l : d.secondary) addLabel(l, false);

  std::uint32_t maxLine = 1;
  for (const auto& fm : files) {
    if (!fm.lines.empty()) maxLine = std::max(maxLine, fm.lines.rbegin()->first);
  }
  std::size_t gutter = std::to_string(maxLine).size();
  std::string pad(gutter, ' ');

  for (std::size_t fi = 0; fi < files.size(); ++fi) {
    const auto& fm = files[fi];
    const SourceFile& f = sm.file(fm.file);
    fmt::format_to(std::back_inserter(out), "{}{}{}{} {}:{}:{}\n", pad, st.blue(), fi == 0 ? "-->" : ":::", st.reset(), f.path(),
                   fm.first.line, fm.first.column);
    if (fm.lines.empty()) continue;
    fmt::format_to(std::back_inserter(out), "{} {}|{}\n", pad, st.blue(), st.reset());
    std::uint32_t prevLine = 0;
    for (const auto& [line, marks] : fm.lines) {
      if (prevLine != 0 && line > prevLine + 1) fmt::format_to(std::back_inserter(out), "{}{}...{}\n", pad.substr(1), st.blue(), st.reset());
      prevLine = line;
      std::string_view text = f.lineText(line);
      fmt::format_to(std::back_inserter(out), "{}{:>{}} |{} {}\n", st.blue(), line, gutter, st.reset(), displayLine(text));
      // One underline row per mark, primary marks first; messages after the carets.
      std::vector<Mark> sorted = marks;
      std::stable_sort(sorted.begin(), sorted.end(), [](const Mark& a, const Mark& b) { return a.primary > b.primary; });
      for (const auto& m : sorted) {
        std::uint32_t from = displayColumn(text, m.startCol);
        std::uint32_t to = displayColumn(text, std::min<std::uint32_t>(m.endCol, static_cast<std::uint32_t>(utf8Length(text)) + 1));
        if (to <= from) to = from + 1;
        std::string underline(to - from, m.primary ? '^' : '-');
        std::string_view color = m.primary ? st.sev(d.severity) : st.blue();
        fmt::format_to(std::back_inserter(out), "{} {}|{} {}{}{}{}{}\n", pad, st.blue(), st.reset(), std::string(from - 1, ' '),
                       color, underline, m.message.empty() ? "" : " " + m.message, st.reset());
      }
    }
  }
  if (!d.help.empty() || !d.notes.empty()) {
    if (!files.empty()) fmt::format_to(std::back_inserter(out), "{} {}|{}\n", pad, st.blue(), st.reset());
    for (const auto& n : d.notes) fmt::format_to(std::back_inserter(out), "{} {}={} {}note{}: {}\n", pad, st.blue(), st.reset(), st.bold(), st.reset(), n);
    for (const auto& h : d.help) fmt::format_to(std::back_inserter(out), "{} {}={} {}help{}: {}\n", pad, st.blue(), st.reset(), st.cyan(), st.reset(), h);
  }
  return out;
}

std::string summaryLine(std::size_t errors, std::size_t warnings) {
  auto plural = [](std::size_t n, std::string_view word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); };
  if (errors && warnings) return plural(errors, "error") + " and " + plural(warnings, "warning");
  if (errors) return plural(errors, "error");
  if (warnings) return plural(warnings, "warning");
  return {};
}

namespace {
nlohmann::json rangeJson(const SourceRange& r, const SourceManager& sm) {
  const SourceFile& f = sm.file(r.file);
  LineCol a = f.lineCol(r.begin), b = f.lineCol(r.end);
  return {{"start", {{"line", a.line}, {"column", a.column}}}, {"end", {{"line", b.line}, {"column", b.column}}}};
}
}  // namespace

std::string renderJson(const std::vector<Diagnostic>& ds, const SourceManager& sm) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& d : ds) {
    nlohmann::json j;
    j["code"] = std::string(info(d.code).text);
    j["severity"] = std::string(severityName(d.severity));
    j["message"] = d.message;
    if (d.primary.range.valid()) {
      j["file"] = sm.file(d.primary.range.file).path();
      j["range"] = rangeJson(d.primary.range, sm);
    } else {
      j["file"] = nullptr;
      j["range"] = nullptr;
    }
    nlohmann::json labels = nlohmann::json::array();
    auto addLabel = [&](const Label& l, bool primary) {
      if (!l.range.valid()) return;
      labels.push_back({{"file", sm.file(l.range.file).path()},
                        {"range", rangeJson(l.range, sm)},
                        {"message", l.message},
                        {"primary", primary}});
    };
    addLabel(d.primary, true);
    for (const auto& l : d.secondary) addLabel(l, false);
    j["labels"] = labels;
    j["help"] = d.help;
    j["notes"] = d.notes;
    nlohmann::json fixes = nlohmann::json::array();
    for (const auto& f : d.fixes) {
      nlohmann::json edits = nlohmann::json::array();
      for (const auto& e : f.edits) {
        edits.push_back({{"file", sm.file(e.range.file).path()}, {"range", rangeJson(e.range, sm)}, {"replacement", e.replacement}});
      }
      fixes.push_back({{"title", f.title}, {"edits", edits}});
    }
    j["fixes"] = fixes;
    arr.push_back(std::move(j));
  }
  return arr.dump(2) + "\n";
}

namespace {
std::string relativeUri(const std::string& path, std::string_view baseDir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path abs = fs::weakly_canonical(fs::absolute(path, ec), ec);
  fs::path base = fs::weakly_canonical(fs::absolute(fs::path(baseDir), ec), ec);
  fs::path rel = abs.lexically_relative(base);
  std::string s = (!rel.empty() && *rel.begin() != "..") ? rel.generic_string() : abs.generic_string();
  // Percent-encode what a URI reference may not contain.
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || std::string_view("-._~/!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

/// A stable hash of the primary line's text (whitespace-trimmed) with the code, so
/// code scanning tracks an alert across commits that move it to another line.
std::string lineHash(const Diagnostic& d, const SourceManager& sm) {
  std::string text;
  if (d.primary.range.valid()) {
    const SourceFile& f = sm.file(d.primary.range.file);
    std::string_view line = f.lineText(f.lineCol(d.primary.range.begin).line);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    text = std::string(line);
  }
  text += '\0';
  text += info(d.code).text;
  // FNV-1a, 64 bit: deterministic across platforms and runs.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}:1", h);
}
}  // namespace

std::string renderSarif(const std::vector<Diagnostic>& ds, const SourceManager& sm, std::string_view baseDir,
                        std::string_view toolVersion) {
  nlohmann::json rules = nlohmann::json::array();
  std::map<std::string_view, std::size_t> ruleIndex;
  for (const auto& c : allCodes()) {
    ruleIndex[c.text] = rules.size();
    std::string expl(explanation(c.code));
    if (expl.empty()) expl = std::string(c.summary);
    rules.push_back({
        {"id", std::string(c.text)},
        {"name", std::string(c.name)},
        {"shortDescription", {{"text", std::string(c.summary)}}},
        {"fullDescription", {{"text", std::string(c.summary)}}},
        {"help", {{"text", expl}, {"markdown", expl}}},
        {"helpUri", fmt::format("{}/diagnostics/{}.md", GOPS_DOCS_URL, c.text)},
        {"defaultConfiguration", {{"level", c.severity == Severity::Error ? "error" : "warning"}}},
        {"properties", {{"tags", {"gops"}}}},
    });
  }
  nlohmann::json results = nlohmann::json::array();
  for (const auto& d : ds) {
    std::string text = d.message;
    for (const auto& h : d.help) text += "\nhelp: " + h;
    nlohmann::json r = {
        {"ruleId", std::string(info(d.code).text)},
        {"ruleIndex", ruleIndex[info(d.code).text]},
        {"level", d.severity == Severity::Error ? "error" : d.severity == Severity::Warning ? "warning" : "note"},
        {"message", {{"text", text}}},
    };
    if (d.primary.range.valid()) {
      const SourceFile& f = sm.file(d.primary.range.file);
      LineCol a = f.lineCol(d.primary.range.begin), b = f.lineCol(d.primary.range.end);
      if (b.line == a.line && b.column <= a.column) b.column = a.column + 1;
      r["locations"] = nlohmann::json::array({{{"physicalLocation",
                                               {{"artifactLocation", {{"uri", relativeUri(f.path(), baseDir)}, {"uriBaseId", "%SRCROOT%"}}},
                                                {"region",
                                                 {{"startLine", a.line},
                                                  {"startColumn", a.column},
                                                  {"endLine", b.line},
                                                  {"endColumn", b.column}}}}}}});
      nlohmann::json related = nlohmann::json::array();
      int id = 1;
      for (const auto& l : d.secondary) {
        const SourceFile& lf = sm.file(l.range.file);
        LineCol la = lf.lineCol(l.range.begin), lb = lf.lineCol(l.range.end);
        related.push_back({{"id", id++},
                           {"message", {{"text", l.message.empty() ? std::string("related location") : l.message}}},
                           {"physicalLocation",
                            {{"artifactLocation", {{"uri", relativeUri(lf.path(), baseDir)}, {"uriBaseId", "%SRCROOT%"}}},
                             {"region", {{"startLine", la.line}, {"startColumn", la.column}, {"endLine", lb.line}, {"endColumn", lb.column}}}}}});
      }
      if (!related.empty()) r["relatedLocations"] = related;
    } else {
      r["locations"] = nlohmann::json::array();
    }
    r["partialFingerprints"] = {{"primaryLocationLineHash", lineHash(d, sm)}};
    results.push_back(std::move(r));
  }
  nlohmann::json log = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       nlohmann::json::array({{{"tool",
                                {{"driver",
                                  {{"name", "gops"},
                                   {"semanticVersion", std::string(toolVersion)},
                                   {"version", std::string(toolVersion)},
                                   {"informationUri", GOPS_HOME_URL},
                                   {"rules", rules}}}}},
                               {"originalUriBaseIds", {{"%SRCROOT%", {{"uri", "file:///"}}}}},
                               {"results", results}}})},
  };
  // originalUriBaseIds needs an absolute URI ending in '/': the base directory.
  {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string base = fs::weakly_canonical(fs::absolute(fs::path(baseDir), ec), ec).generic_string();
    if (base.empty() || base.back() != '/') base += '/';
    log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "file://" + base;
  }
  return log.dump(2) + "\n";
}

}  // namespace gops::diag
