// Parse tree -> AST.
#include "syntax/parse_state.h"

#include <cctype>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include <fmt/format.h>

#include "GopsLexer.h"

namespace gops::syntax {

using grammar::GopsLexer;
using grammar::GopsParser;
using diag::Code;

namespace {

// The builder reads the tree through the helpers below rather than the generated
// accessors: ANTLR 4.9's accessors `dynamic_cast` every child of a context on every
// call, and `RuleContext::getText` builds a stringstream; together they were a fifth
// of `gops check`. Labelled alternatives are leaf classes, so an exact `typeid` match
// is the same test as `dynamic_cast`; the parser creates only TerminalNodeImpl and
// ErrorNodeImpl leaves, so every other child is a rule context.

template <class T, class P>
T* as(P* p) {
  return p && typeid(*p) == typeid(T) ? static_cast<T*>(p) : nullptr;
}

bool isTerminal(antlr4::tree::ParseTree* t) {
  const std::type_info& type = typeid(*t);
  return type == typeid(antlr4::tree::TerminalNodeImpl) || type == typeid(antlr4::tree::ErrorNodeImpl);
}

/// The `nth` child of `c` that is the rule `ruleIndex` (nullptr when there is none).
template <class T>
T* child(antlr4::ParserRuleContext* c, std::size_t ruleIndex, std::size_t nth = 0) {
  for (auto* ch : c->children) {
    if (isTerminal(ch)) continue;
    auto* r = static_cast<antlr4::RuleContext*>(ch);
    if (r->getRuleIndex() == ruleIndex && nth-- == 0) return static_cast<T*>(r);
  }
  return nullptr;
}

/// Every child of `c` that is the rule `ruleIndex`.
template <class T>
std::vector<T*> children(antlr4::ParserRuleContext* c, std::size_t ruleIndex) {
  std::vector<T*> out;
  for (auto* ch : c->children) {
    if (isTerminal(ch)) continue;
    auto* r = static_cast<antlr4::RuleContext*>(ch);
    if (r->getRuleIndex() == ruleIndex) out.push_back(static_cast<T*>(r));
  }
  return out;
}

/// The first token child of `c` of type `type` (an error node counts, as in ANTLR's
/// accessors).
antlr4::tree::TerminalNode* token(antlr4::ParserRuleContext* c, std::size_t type) {
  for (auto* ch : c->children) {
    if (!isTerminal(ch)) continue;
    auto* t = static_cast<antlr4::tree::TerminalNode*>(ch);
    if (t->getSymbol()->getType() == type) return t;
  }
  return nullptr;
}

GopsParser::NameContext* nameOf(antlr4::ParserRuleContext* c) { return child<GopsParser::NameContext>(c, GopsParser::RuleName); }
GopsParser::BodyContext* bodyOf(antlr4::ParserRuleContext* c) { return child<GopsParser::BodyContext>(c, GopsParser::RuleBody); }
GopsParser::ValueContext* valueOf(antlr4::ParserRuleContext* c) { return child<GopsParser::ValueContext>(c, GopsParser::RuleValue); }
std::vector<GopsParser::ValueContext*> valuesOf(antlr4::ParserRuleContext* c) {
  return children<GopsParser::ValueContext>(c, GopsParser::RuleValue);
}

class AstBuilder {
 public:
  explicit AstBuilder(FileState& st) : st_(st) {}

  void build(GopsParser::FileContext* file, ast::File& out) {
    if (!file) return;
    for (auto* d : children<GopsParser::DeclContext>(file, GopsParser::RuleDecl)) {
      if (auto decl = buildDecl(d)) out.decls.push_back(std::move(*decl));
    }
  }

 private:
  SourceRange range(const antlr4::Token* t) const { return st_.range(t); }
  SourceRange range(antlr4::ParserRuleContext* c) const { return st_.range(c); }
  SourceRange range(antlr4::tree::TerminalNode* n) const { return n ? st_.range(n->getSymbol()) : SourceRange{}; }

  /// A token's text, sliced from the source (ANTLR's getText converts it back from
  /// the UTF-32 stream). Tokens conjured by error recovery have no source.
  std::string text(const antlr4::Token* t) const {
    if (t->getTokenIndex() == static_cast<std::size_t>(-1) || t->getStartIndex() == static_cast<std::size_t>(-1)) return t->getText();
    SourceRange r = range(t);
    return std::string(st_.file.text().substr(r.begin, r.end - r.begin));
  }
  std::string text(antlr4::tree::TerminalNode* n) const { return text(n->getSymbol()); }
  /// The text of a rule: a name or a comparison is one token.
  std::string text(antlr4::ParserRuleContext* c) const {
    if (c->getStart() && c->getStart() == c->getStop()) return text(c->getStart());
    return c->getText();
  }

  std::optional<ast::Decl> buildDecl(GopsParser::DeclContext* d) {
    ast::Decl out;
    out.range = range(d);
    if (auto* c = as<GopsParser::UnitDeclContext>(d)) {
      switch (c->kind ? c->kind->getType() : 0) {
        case GopsLexer::SERVICE: out.kind = ast::DeclKind::Service; break;
        case GopsLexer::JOB: out.kind = ast::DeclKind::Job; break;
        case GopsLexer::TEMPLATE: out.kind = ast::DeclKind::Template; break;
        default: return std::nullopt;
      }
      out.keywordRange = range(c->kind);
      if (!setName(out, nameOf(c))) return std::nullopt;
      if (c->base && c->base->getStart() && c->base->getStop()) {
        out.base = text(c->base);
        out.baseRange = range(c->base);
      }
      setBody(out, bodyOf(c));
    } else if (auto* c = as<GopsParser::EnvironmentDeclContext>(d)) {
      out.kind = ast::DeclKind::Environment;
      out.keywordRange = range(token(c, GopsLexer::ENVIRONMENT));
      if (!setName(out, nameOf(c))) return std::nullopt;
      setBody(out, bodyOf(c));
    } else if (auto* c = as<GopsParser::AppDeclContext>(d)) {
      out.kind = ast::DeclKind::App;
      out.keywordRange = range(token(c, GopsLexer::APP));
      if (!setName(out, nameOf(c))) return std::nullopt;
      setBody(out, bodyOf(c));
    } else if (auto* c = as<GopsParser::RolloutDeclContext>(d)) {
      out.kind = ast::DeclKind::Rollout;
      out.keywordRange = range(token(c, GopsLexer::ROLLOUT));
      if (!setName(out, nameOf(c))) return std::nullopt;
      if (auto* v = valueOf(c)) out.value.push_back(buildValue(v));
      else out.value.push_back(ast::Value{});
    } else if (auto* c = as<GopsParser::PromoteDeclContext>(d)) {
      out.kind = ast::DeclKind::Promote;
      out.keywordRange = range(token(c, GopsLexer::PROMOTE));
      if (!setName(out, c->from)) return std::nullopt;
      if (!c->to || !c->to->getStart() || c->to->exception) return std::nullopt;
      out.base = text(c->to);
      out.baseRange = range(c->to);
      if (auto* b = bodyOf(c)) setBody(out, b);
    } else if (auto* c = as<GopsParser::ImportDeclContext>(d)) {
      out.kind = ast::DeclKind::Import;
      out.keywordRange = range(token(c, GopsLexer::IMPORT));
      auto* str = token(c, GopsLexer::STRING);
      if (!str || str->getSymbol()->getTokenIndex() == static_cast<size_t>(-1)) return std::nullopt;
      ast::Value v = buildString(str->getSymbol());
      out.name = v.plainString();
      out.nameRange = v.range;
    } else {
      return std::nullopt;
    }
    return out;
  }

  bool setName(ast::Decl& out, GopsParser::NameContext* n) {
    if (!n || !n->getStart() || n->exception || n->getStop() == nullptr) return false;
    if (n->getStart()->getTokenIndex() == static_cast<size_t>(-1)) return false;  // conjured by recovery
    out.name = text(n);
    out.nameRange = range(n);
    return true;
  }

  void setBody(ast::Decl& out, GopsParser::BodyContext* b) {
    if (!b) return;
    out.hasBody = true;
    fillBody(out, b);
  }

  /// The body, its range and the single-line flag of a declaration, statement or
  /// object value (all empty without a body).
  template <class Node>
  void fillBody(Node& out, GopsParser::BodyContext* b) {
    out.body = buildBody(b);
    out.bodyRange = range(b);
    out.singleLine = b && singleLine(b);
  }

  bool singleLine(GopsParser::BodyContext* b) const {
    auto* open = token(b, GopsLexer::LBRACE);
    auto* close = token(b, GopsLexer::RBRACE);
    if (!open || !close) return false;
    return open->getSymbol()->getLine() == close->getSymbol()->getLine();
  }

  std::vector<ast::Stmt> buildBody(GopsParser::BodyContext* b) {
    std::vector<ast::Stmt> out;
    if (!b) return out;
    out.reserve(b->children.size());
    for (auto* ch : b->children) {
      if (isTerminal(ch)) continue;
      auto* r = static_cast<antlr4::RuleContext*>(ch);
      if (r->getRuleIndex() != GopsParser::RuleStmt) continue;
      if (auto stmt = buildStmt(static_cast<GopsParser::StmtContext*>(r))) out.push_back(std::move(*stmt));
    }
    return out;
  }

  /// The name, body and single-line flag of a statement with a body.
  bool setNamedBody(ast::Stmt& out, antlr4::ParserRuleContext* c) {
    auto* name = nameOf(c);
    if (!name || name->exception) return false;
    out.name = text(name);
    out.nameRange = range(name);
    fillBody(out, bodyOf(c));
    return true;
  }

  std::optional<ast::Stmt> buildStmt(GopsParser::StmtContext* s) {
    ast::Stmt out;
    out.range = range(s);
    if (auto* c = as<GopsParser::AttrStmtContext>(s)) {
      out.kind = ast::StmtKind::Attr;
      auto* name = nameOf(c);
      if (!name || name->exception) return std::nullopt;
      out.name = text(name);
      out.nameRange = range(name);
      if (auto* b = bodyOf(c)) {
        // `capacity = { spot = 70% }`: an object without a name.
        ast::Value v;
        v.kind = ast::ValueKind::Object;
        v.range = range(b);
        fillBody(v, b);
        out.values.push_back(std::move(v));
      } else {
        auto* v = valueOf(c);
        out.values.push_back(v ? buildValue(v) : ast::Value{});
      }
    } else if (auto* c = as<GopsParser::BlockStmtContext>(s)) {
      out.kind = ast::StmtKind::Block;
      if (!setNamedBody(out, c)) return std::nullopt;
    } else if (auto* c = as<GopsParser::LabeledBlockStmtContext>(s)) {
      out.kind = ast::StmtKind::Block;
      if (!c->kind || !c->label || c->label->exception || !c->label->getStop()) return std::nullopt;
      out.name = text(c->kind);
      out.nameRange = range(c->kind);
      out.label = text(c->label);
      out.labelRange = range(c->label);
      fillBody(out, bodyOf(c));
    } else if (auto* c = as<GopsParser::ClauseStmtContext>(s)) {
      out.kind = ast::StmtKind::Clause;
      if (!c->verb) return std::nullopt;
      out.name = text(c->verb);
      out.nameRange = range(c->verb);
      // `verb [list] word [list]`
      out.values.push_back(buildList(child<GopsParser::ListValueContext>(c, GopsParser::RuleListValue, 0)));
      if (c->word && !c->word->exception && c->word->getStop()) {
        out.words.push_back(text(c->word));
        out.wordRanges.push_back(range(c->word));
        out.values.push_back(buildList(child<GopsParser::ListValueContext>(c, GopsParser::RuleListValue, 1)));
      }
    } else if (auto* c = as<GopsParser::OverrideStmtContext>(s)) {
      out.kind = ast::StmtKind::Override;
      auto* name = nameOf(c);
      if (!name || name->exception || !name->getStop()) return std::nullopt;
      out.opRange = range(token(c, GopsLexer::IN));
      if (!setNamedBody(out, c)) return std::nullopt;
    } else if (auto* c = as<GopsParser::StepStmtContext>(s)) {
      out.kind = ast::StmtKind::Step;
      out.name = "step";
      out.nameRange = range(token(c, GopsLexer::STEP));
      auto vals = valuesOf(c);
      if (vals.size() != 2) return std::nullopt;
      out.values.push_back(buildValue(vals[0]));
      out.values.push_back(buildValue(vals[1]));
      if (auto* f = token(c, GopsLexer::FOR)) {
        out.op = "for";
        out.opRange = range(f);
      } else if (auto* e = token(c, GopsLexer::EVERY)) {
        out.op = "every";
        out.opRange = range(e);
      }
    } else if (auto* c = as<GopsParser::RollbackStmtContext>(s)) {
      out.kind = ast::StmtKind::Rollback;
      out.name = "rollback";
      out.nameRange = range(token(c, GopsLexer::ROLLBACK));
      // values: [metric, threshold?, duration?]; op is empty when there is no comparison
      // (`rollback when alarm("name")`), in which case values[1] is an Error placeholder.
      auto vals = valuesOf(c);
      if (vals.empty()) return std::nullopt;
      out.values.push_back(buildValue(vals[0]));
      std::size_t next = 1;
      if (auto* cmp = child<GopsParser::CompareContext>(c, GopsParser::RuleCompare)) {
        out.op = text(cmp);
        out.opRange = range(cmp);
        auto* sum = child<GopsParser::SumContext>(c, GopsParser::RuleSum);
        if (!sum) return std::nullopt;
        out.values.push_back(buildSum(sum));
        next = 1;
      } else {
        out.values.push_back(ast::Value{});
      }
      if (token(c, GopsLexer::FOR) && vals.size() > next) out.values.push_back(buildValue(vals[next]));
    } else {
      return std::nullopt;
    }
    return out;
  }

  ast::Value buildValue(GopsParser::ValueContext* v) {
    ast::Value out;
    if (!v) return out;
    out.range = range(v);
    if (auto* c = as<GopsParser::StringValueContext>(v)) {
      return buildString(token(c, GopsLexer::STRING)->getSymbol());
    }
    if (auto* c = as<GopsParser::NumberValueContext>(v)) {
      out.kind = ast::ValueKind::Number;
      auto* number = token(c, GopsLexer::NUMBER);
      std::string text = this->text(number);
      size_t i = 0;
      while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
      out.text = text.substr(0, i);
      SourceRange nr = range(number);
      if (i < text.size()) {
        out.unit = text.substr(i);
        out.unitRange = {nr.file, nr.begin + static_cast<std::uint32_t>(i), nr.end};
      }
      if (auto* unit = token(c, GopsLexer::UNIT)) {
        if (!out.unit.empty()) {
          st_.diags.report(Code::InvalidUnit, range(unit),
                           fmt::format("`{}{}` already has the unit `{}`; a second unit `{}` makes no sense", out.text, out.unit, out.unit,
                                       this->text(unit)),
                           "second unit")
              .help("keep one unit");
        } else {
          out.unit = this->text(unit);
          out.unitRange = range(unit);
          out.unitSpaced = true;
        }
      }
      return out;
    }
    if (auto* c = as<GopsParser::RefValueContext>(v)) {
      out.kind = ast::ValueKind::Ref;
      auto* name = nameOf(c);
      if (!name || name->exception) return ast::Value{};
      out.text = text(name);
      out.nameRange = range(name);
      return out;
    }
    if (auto* c = as<GopsParser::DottedValueContext>(v)) {
      out.kind = ast::ValueKind::Dotted;
      out.text = text(token(c, GopsLexer::DOTTED));
      return out;
    }
    if (auto* c = as<GopsParser::BoolValueContext>(v)) {
      out.kind = ast::ValueKind::Bool;
      out.boolean = token(c, GopsLexer::TRUE) != nullptr;
      out.text = out.boolean ? "true" : "false";
      return out;
    }
    if (auto* c = as<GopsParser::ListValueAltContext>(v)) {
      return buildList(child<GopsParser::ListValueContext>(c, GopsParser::RuleListValue));
    }
    if (auto* c = as<GopsParser::CallValueContext>(v)) {
      out.kind = ast::ValueKind::Call;
      auto* name = nameOf(c);
      if (!name) return ast::Value{};
      out.text = text(name);
      out.nameRange = range(name);
      for (auto* a : children<GopsParser::ArgContext>(c, GopsParser::RuleArg)) {
        ast::Arg arg;
        if (auto* argName = nameOf(a)) {
          arg.name = text(argName);
          arg.nameRange = range(argName);
        }
        arg.value.push_back(buildValue(valueOf(a)));
        out.args.push_back(std::move(arg));
      }
      return out;
    }
    if (auto* c = as<GopsParser::ObjectValueContext>(v)) {
      out.kind = ast::ValueKind::Object;
      auto* name = nameOf(c);
      if (!name) return ast::Value{};
      out.text = text(name);
      out.nameRange = range(name);
      fillBody(out, bodyOf(c));
      return out;
    }
    return out;
  }

  ast::Value buildList(GopsParser::ListValueContext* c) {
    ast::Value out;
    if (!c) return out;
    out.kind = ast::ValueKind::List;
    out.range = range(c);
    for (auto* item : valuesOf(c)) out.items.push_back(buildValue(item));
    return out;
  }

  /// `a` alone, or `a + b` as a Sum of the two.
  ast::Value buildSum(GopsParser::SumContext* c) {
    auto vals = valuesOf(c);
    if (vals.empty()) return ast::Value{};
    if (!token(c, GopsLexer::PLUS) || vals.size() < 2) return buildValue(vals[0]);
    ast::Value out;
    out.kind = ast::ValueKind::Sum;
    out.range = range(c);
    out.items.push_back(buildValue(vals[0]));
    out.items.push_back(buildValue(vals[1]));
    return out;
  }

  /// Decodes a string token: escapes and `${...}` interpolations.
  ast::Value buildString(const antlr4::Token* tok) {
    ast::Value out;
    out.kind = ast::ValueKind::String;
    out.range = range(tok);
    std::string_view src(st_.file.text());
    std::uint32_t begin = out.range.begin, end = out.range.end;
    // Strip the quotes (an unterminated string has no closing one).
    std::uint32_t contentBegin = begin + 1;
    std::uint32_t contentEnd = end;
    if (contentEnd > contentBegin && src[contentEnd - 1] == '"' && tok->getType() == GopsLexer::STRING) --contentEnd;
    if (contentEnd < contentBegin) contentEnd = contentBegin;
    out.text = std::string(src.substr(contentBegin, contentEnd - contentBegin));
    FileId fid = st_.file.id();

    std::string literal;
    std::uint32_t literalStart = contentBegin;
    auto flush = [&](std::uint32_t upTo) {
      if (!literal.empty()) out.parts.push_back({false, literal, {fid, literalStart, upTo}});
      literal.clear();
    };
    for (std::uint32_t i = contentBegin; i < contentEnd;) {
      char c = src[i];
      if (c == '\\' && i + 1 < contentEnd) {
        char e = src[i + 1];
        switch (e) {
          case 'n': literal += '\n'; break;
          case 't': literal += '\t'; break;
          case 'r': literal += '\r'; break;
          case '"': literal += '"'; break;
          case '\\': literal += '\\'; break;
          case '$': literal += '$'; break;
          default:
            st_.diags.report(Code::InvalidEscape, {fid, i, i + 2}, fmt::format("unknown escape `\\{}` in a string", e), "unknown escape")
                .help("the escapes are `\\n`, `\\t`, `\\r`, `\\\"`, `\\\\` and `\\$`; write `\\\\` for a backslash");
            literal += e;
        }
        i += 2;
        continue;
      }
      if (c == '$' && i + 1 < contentEnd && src[i + 1] == '{') {
        std::size_t close = src.find('}', i + 2);
        if (close == std::string_view::npos || close >= contentEnd) {
          st_.diags.report(Code::InvalidEscape, {fid, i, contentEnd}, "unclosed interpolation: `${` without a matching `}`",
                           "interpolation starts here")
              .help("close it with `}`, or write `\\${` for a literal `${`");
          literal.append(src.substr(i, contentEnd - i));
          i = contentEnd;
          continue;
        }
        flush(i);
        std::string path(src.substr(i + 2, close - i - 2));
        std::string trimmed = path;
        while (!trimmed.empty() && trimmed.front() == ' ') trimmed.erase(trimmed.begin());
        while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
        SourceRange r{fid, i, static_cast<std::uint32_t>(close + 1)};
        if (!isDottedPath(trimmed)) {
          st_.diags.report(Code::InvalidEscape, r, fmt::format("`${{{}}}` is not an interpolation gops understands", path),
                           "expected a name like `env.name`")
              .help("interpolations name a value: `${env.name}`, `${env.account}`, `${app.name}`, `${app.region}`, `${service.name}`");
          // Reported once, here: the checker sees literal text, not an unknown name.
          if (literal.empty()) literalStart = i;
          literal.append(src.substr(i, close + 1 - i));
          i = static_cast<std::uint32_t>(close + 1);
          continue;
        }
        out.parts.push_back({true, trimmed, r});
        i = static_cast<std::uint32_t>(close + 1);
        literalStart = i;
        continue;
      }
      if (literal.empty()) literalStart = i;
      literal += c;
      ++i;
    }
    flush(contentEnd);
    return out;
  }

  static bool isDottedPath(const std::string& s) {
    if (s.empty()) return false;
    bool atStart = true;
    for (char c : s) {
      if (c == '.') {
        if (atStart) return false;
        atStart = true;
        continue;
      }
      bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (!atStart && std::isdigit(static_cast<unsigned char>(c)));
      if (!ok) return false;
      atStart = false;
    }
    return !atStart;
  }

  FileState& st_;
};

}  // namespace

void buildAst(FileState& st, GopsParser::FileContext* tree, ast::File& out) { AstBuilder(st).build(tree, out); }

}  // namespace gops::syntax
