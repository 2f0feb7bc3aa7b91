// Semantic tokens: the lexer's classes, refined with the AST (attribute names are
// properties, declared names are declarations, constructors are functions).
#include <algorithm>
#include <map>

#include "lsp/features.h"

namespace gops::lsp {

const std::vector<std::string>& tokenTypeNames() {
  static const std::vector<std::string> kNames = {"keyword",  "variable", "property", "string",     "number",   "type",
                                                  "operator", "comment",  "function", "enumMember", "namespace"};
  return kNames;
}

namespace {

struct Refined {
  TokenType type;
  bool declaration = false;
};

void collectValue(const ast::Value& v, std::map<std::uint32_t, Refined>& at) {
  if (v.kind == ast::ValueKind::Call || v.kind == ast::ValueKind::Object) {
    if (v.nameRange.valid()) at[v.nameRange.begin] = {TokenType::Function};
  } else if (v.kind == ast::ValueKind::Ref) {
    at[v.range.begin] = {TokenType::EnumMember};
  }
  for (const auto& a : v.args) {
    if (a.nameRange.valid()) at[a.nameRange.begin] = {TokenType::Property};
    for (const auto& av : a.value) collectValue(av, at);
  }
  for (const auto& i : v.items) collectValue(i, at);
  for (const auto& s : v.body) {
    if (s.kind == ast::StmtKind::Attr && s.nameRange.valid()) at[s.nameRange.begin] = {TokenType::Property};
    for (const auto& sv : s.values) collectValue(sv, at);
  }
}

void collectBody(const std::vector<ast::Stmt>& body, std::map<std::uint32_t, Refined>& at) {
  for (const auto& s : body) {
    if ((s.kind == ast::StmtKind::Attr || s.kind == ast::StmtKind::Block) && s.nameRange.valid()) at[s.nameRange.begin] = {TokenType::Property};
    if (s.kind == ast::StmtKind::Override && s.nameRange.valid()) at[s.nameRange.begin] = {TokenType::Namespace};
    for (const auto& v : s.values) collectValue(v, at);
    if (s.kind == ast::StmtKind::Rollback && !s.values.empty()) at[s.values.front().range.begin] = {TokenType::Variable};
    collectBody(s.body, at);
  }
}

}  // namespace

std::vector<SemanticToken> semanticTokens(const Snapshot& s, FileId file) {
  std::vector<SemanticToken> out;
  if (file >= s.program.files.size()) return out;
  const SourceFile& src = s.program.sources.file(file);
  std::map<std::uint32_t, Refined> at;
  for (const auto& d : s.program.files[file].decls) {
    if (d.nameRange.valid() && d.kind != ast::DeclKind::Import) at[d.nameRange.begin] = {TokenType::Namespace, true};
    if (d.baseRange.valid()) at[d.baseRange.begin] = {TokenType::Namespace};
    collectBody(d.body, at);
    for (const auto& v : d.value) collectValue(v, at);
  }
  for (const auto& r : s.analysis.references) {
    if (r.range.file == file) at[r.range.begin] = {TokenType::Namespace};
  }
  for (const auto& t : syntax::lexFile(src)) {
    SemanticToken tok{t.range, TokenType::Variable, false, false};
    switch (t.cls) {
      case syntax::TokenClass::Keyword: tok.type = TokenType::Keyword; break;
      case syntax::TokenClass::Name: {
        auto it = at.find(t.range.begin);
        if (it != at.end()) {
          tok.type = it->second.type;
          tok.declaration = it->second.declaration;
        }
        break;
      }
      case syntax::TokenClass::String: tok.type = TokenType::String; break;
      case syntax::TokenClass::Number:
      case syntax::TokenClass::Cidr: tok.type = TokenType::Number; break;
      case syntax::TokenClass::Unit: tok.type = TokenType::Type; break;
      case syntax::TokenClass::Operator: tok.type = TokenType::Operator; break;
      case syntax::TokenClass::Comment: tok.type = TokenType::Comment; break;
      case syntax::TokenClass::DocComment:
        tok.type = TokenType::Comment;
        tok.documentation = true;
        break;
      case syntax::TokenClass::Punctuation:
      case syntax::TokenClass::Invalid: continue;
    }
    // One token per line: split multi-line tokens (block comments).
    std::uint32_t b = t.range.begin;
    while (b < t.range.end) {
      auto nl = src.text().find('\n', b);
      std::uint32_t e = nl == std::string::npos || nl >= t.range.end ? t.range.end : static_cast<std::uint32_t>(nl);
      if (e > b) {
        SemanticToken part = tok;
        part.range = {file, b, e};
        out.push_back(part);
      }
      b = e + 1;
    }
  }
  return out;
}

}  // namespace gops::lsp
