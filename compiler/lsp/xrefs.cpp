// Cross references: go to definition, find references, rename. Symbols and their
// uses come from the checker's analysis, so they span every file of the app.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "lsp/features.h"

namespace gops::lsp {

namespace {

bool hits(SourceRange r, FileId file, std::uint32_t offset) {
  return r.valid() && r.file == file && offset >= r.begin && offset <= r.end;
}

bool sameGroup(sema::SymbolKind a, sema::SymbolKind b) {
  auto unit = [](sema::SymbolKind k) { return k == sema::SymbolKind::Service || k == sema::SymbolKind::Job; };
  return a == b || (unit(a) && unit(b));
}

bool validName(std::string_view n) {
  return !n.empty() && n[0] >= 'a' && n[0] <= 'z' &&
         std::all_of(n.begin(), n.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

std::optional<std::size_t> symbolAt(const Snapshot& s, FileId file, std::uint32_t offset, SourceRange* hit) {
  const auto& syms = s.analysis.symbols;
  for (std::size_t i = 0; i < syms.size(); ++i) {
    if (hits(syms[i].nameRange, file, offset)) {
      if (hit) *hit = syms[i].nameRange;
      return i;
    }
  }
  for (const auto& r : s.analysis.references) {
    if (hits(r.range, file, offset)) {
      if (hit) *hit = r.range;
      return r.symbol;
    }
  }
  return std::nullopt;
}

std::optional<SourceRange> definition(const Snapshot& s, FileId file, std::uint32_t offset) {
  if (auto sym = symbolAt(s, file, offset)) return s.analysis.symbols[*sym].nameRange;
  for (const auto& imp : s.program.imports) {
    if (imp.from == file && hits(imp.range, file, offset) && imp.to != kNoFile) return SourceRange{imp.to, 0, 0};
  }
  return std::nullopt;
}

std::vector<SourceRange> references(const Snapshot& s, FileId file, std::uint32_t offset, bool includeDeclaration) {
  std::vector<SourceRange> out;
  auto sym = symbolAt(s, file, offset);
  if (!sym) {
    // An import: every import of the same file.
    for (const auto& imp : s.program.imports) {
      if (imp.from == file && hits(imp.range, file, offset) && imp.to != kNoFile) {
        for (const auto& other : s.program.imports) {
          if (other.to == imp.to) out.push_back(other.range);
        }
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  if (includeDeclaration) out.push_back(s.analysis.symbols[*sym].nameRange);
  for (const auto& r : s.analysis.references) {
    if (r.symbol == *sym) out.push_back(r.range);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

PrepareRename prepareRename(const Snapshot& s, FileId file, std::uint32_t offset) {
  SourceRange hit;
  auto sym = symbolAt(s, file, offset, &hit);
  if (!sym) return {std::nullopt, "nothing to rename here: rename works on environments, templates, rollouts, services and jobs"};
  const auto& symbol = s.analysis.symbols[*sym];
  if (symbol.kind == sema::SymbolKind::App) return {std::nullopt, "the app name is used in every AWS resource name; change it by hand"};
  if (symbol.nameRange.file < s.program.stdlib.size() && s.program.stdlib[symbol.nameRange.file]) {
    return {std::nullopt, fmt::format("`{}` is declared in the standard library", symbol.name)};
  }
  return {hit, {}};
}

RenameResult rename(const Snapshot& s, FileId file, std::uint32_t offset, const std::string& newName) {
  PrepareRename p = prepareRename(s, file, offset);
  if (!p.range) return {{}, p.error};
  std::size_t sym = *symbolAt(s, file, offset);
  const auto& symbol = s.analysis.symbols[sym];
  if (!validName(newName)) {
    return {{}, fmt::format("`{}` is not a valid name: lower case letters, digits and `_`, starting with a letter", newName)};
  }
  for (const auto& other : s.analysis.symbols) {
    if (&other != &symbol && other.name == newName && sameGroup(other.kind, symbol.kind)) {
      return {{}, fmt::format("a {} named `{}` already exists", sema::toString(other.kind), newName)};
    }
  }
  RenameResult out;
  std::set<SourceRange> seen;
  for (const auto& r : references(s, symbol.nameRange.file, symbol.nameRange.begin, true)) {
    if (seen.insert(r).second) out.edits.push_back({r, newName});
  }
  return out;
}

}  // namespace gops::lsp
