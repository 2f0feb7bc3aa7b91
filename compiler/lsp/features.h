#pragma once
/// The editor features, in terms of the compiler's data (byte ranges, AST,
/// analysis), with no knowledge of LSP. One source file per feature implements
/// each group below; the server converts the results to LSP.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "lsp/engine.h"
#include "syntax/parser.h"

namespace gops::lsp {

// effective.cpp ---------------------------------------------------------------
/// The value of one attribute of a service, job or template in one environment.
struct EnvValue {
  std::string env;
  std::string text;              ///< the value as written (whitespace collapsed); empty when unset
  bool overridden = false;       ///< set by an `in ENV { }` block
  std::string defaultText;       ///< when unset: the default as the docs give it (`1`, the environment's, required)
};
/// `blockPath` names at most one block (`autoscale`, or a named one: `sidecar`, `envoy`), `attr` its field.
std::vector<EnvValue> effectiveValues(const Snapshot& s, const ast::Decl& unit, const std::vector<std::string>& blockPath,
                                      const std::string& attr);
/// "dev 2 · staging `1` (default) · prod 6"
std::string describeValues(const std::vector<EnvValue>& values);

// hover.cpp -------------------------------------------------------------------
struct HoverInfo {
  SourceRange range;
  std::string markdown;
};
std::optional<HoverInfo> hover(const Snapshot& s, FileId file, std::uint32_t offset);

// xrefs.cpp: definition, references, rename ------------------------------------
/// The declared symbol whose name or a use of it is at `offset`; `hit` gets that range.
std::optional<std::size_t> symbolAt(const Snapshot& s, FileId file, std::uint32_t offset, SourceRange* hit = nullptr);
/// A declaration, or for an import the file it names (range at its start).
std::optional<SourceRange> definition(const Snapshot& s, FileId file, std::uint32_t offset);
std::vector<SourceRange> references(const Snapshot& s, FileId file, std::uint32_t offset, bool includeDeclaration);
/// The range that would be renamed, or an error message.
struct PrepareRename {
  std::optional<SourceRange> range;
  std::string error;
};
PrepareRename prepareRename(const Snapshot& s, FileId file, std::uint32_t offset);
struct RenameResult {
  std::vector<diag::Edit> edits;  ///< sorted by file and position
  std::string error;              ///< non-empty when refused
};
RenameResult rename(const Snapshot& s, FileId file, std::uint32_t offset, const std::string& newName);

// completion.cpp --------------------------------------------------------------
enum class CompletionKind { Keyword, Property, Block, Value, Function, Reference, Module, Unit, Metric };
struct CompletionItem {
  std::string label;
  CompletionKind kind = CompletionKind::Keyword;
  std::string detail;
  std::string documentation;
  std::string insertText;  ///< empty: the label
  std::optional<SourceRange> replace;  ///< the text the item replaces (a text edit); none: the client's word
};
std::vector<CompletionItem> complete(const Snapshot& s, FileId file, std::uint32_t offset);

// symbols.cpp -----------------------------------------------------------------
enum class OutlineKind { App, Environment, Service, Job, Template, Rollout, Promotion, Import, Attribute, Block, Override };
struct OutlineSymbol {
  std::string name;
  std::string detail;
  OutlineKind kind = OutlineKind::Attribute;
  SourceRange range;
  SourceRange selection;
  std::vector<OutlineSymbol> children;
};
std::vector<OutlineSymbol> outline(const ast::File& file);

// folding.cpp -----------------------------------------------------------------
struct Fold {
  SourceRange range;
  bool comment = false;
};
std::vector<Fold> foldingRanges(const ast::File& file, const SourceFile& source);

// semantic_tokens.cpp ---------------------------------------------------------
/// Token types in the order the server announces them in its legend.
enum class TokenType { Keyword, Variable, Property, String, Number, Type, Operator, Comment, Function, EnumMember, Namespace };
const std::vector<std::string>& tokenTypeNames();
struct SemanticToken {
  SourceRange range;  ///< within one line
  TokenType type;
  bool declaration = false;
  bool documentation = false;
};
std::vector<SemanticToken> semanticTokens(const Snapshot& s, FileId file);

// formatting.cpp --------------------------------------------------------------
/// The formatted text, or an error when the file has syntax errors.
struct FormatResult {
  std::optional<std::string> text;
  std::string error;
};
FormatResult formatDocument(const Snapshot& s, FileId file);

// code_actions.cpp ------------------------------------------------------------
struct QuickFix {
  std::size_t diagnostic;  ///< index into Snapshot::diagnostics
  diag::Fix fix;
};
std::vector<QuickFix> quickFixes(const Snapshot& s, FileId file, std::uint32_t begin, std::uint32_t end);

// inlay_hints.cpp -------------------------------------------------------------
struct InlayHint {
  std::uint32_t offset;  ///< where the hint goes (after the value)
  std::string label;
};
std::vector<InlayHint> inlayHints(const Snapshot& s, FileId file, std::uint32_t begin, std::uint32_t end);

}  // namespace gops::lsp
