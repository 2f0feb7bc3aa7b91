// Effective values of an attribute per environment: the checker's own resolution
// (sema/resolve.h) of the unit's templates and `in ENV` blocks, shown as written.
#include <fmt/format.h>

#include "lsp/features.h"
#include "sema/resolve.h"

namespace gops::lsp {

namespace {

std::string collapse(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::vector<EnvValue> effectiveValues(const Snapshot& s, const ast::Decl& unit, const std::vector<std::string>& blockPath,
                                      const std::string& attr) {
  const std::vector<const ast::Decl*> layers = sema::extendsChain(unit, s.analysis.templates);
  const std::string_view block = blockPath.empty() ? std::string_view() : std::string_view(blockPath.front());
  const std::string_view label = blockPath.size() > 1 ? std::string_view(blockPath[1]) : std::string_view();
  std::vector<EnvValue> out;
  for (const auto& env : s.environments()) {
    EnvValue v{env, {}, false, {}};
    sema::Resolution r = sema::resolve(layers, env);
    if (const sema::Setting* set = sema::find(r, block, attr, label); set && *set) {
      v.text = collapse(s.program.sources.textOf(set->stmt->value().range));
      v.overridden = set->inOverride;
    } else if (const sema::AttrSpec* spec = sema::findAttr(sema::Scope::Unit, block, attr)) {
      v.defaultText = sema::describeDefault(*spec);
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string describeValues(const std::vector<EnvValue>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += " · ";
    if (!v.text.empty()) out += v.env + " " + v.text;
    else if (v.defaultText.empty() || v.defaultText == "none") out += v.env + " (not set)";
    else out += fmt::format("{} {} (default)", v.env, v.defaultText);
  }
  return out;
}

}  // namespace gops::lsp
