// Formatting: exactly `gops fmt`.
#include "format/formatter.h"
#include "lsp/features.h"

namespace gops::lsp {

FormatResult formatDocument(const Snapshot& s, FileId file) {
  if (file >= s.program.files.size()) return {std::nullopt, "the document is not loaded"};
  const ast::File& tree = s.program.files[file];
  if (!tree.syntaxOk) return {std::nullopt, "the document has syntax errors; fix them to format it"};
  return {format::formatFile(s.program.sources.file(file), tree), {}};
}

}  // namespace gops::lsp
