#include "syntax/parser.h"

#include <algorithm>
#include <typeinfo>

#include <antlr4-runtime.h>
#include <fmt/format.h>

#include "GopsLexer.h"
#include "GopsParser.h"
#include "support/text.h"
#include "syntax/lexing.h"

namespace gops::syntax {

using grammar::GopsLexer;
using grammar::GopsParser;
using diag::Code;

namespace {

/// Thrown to stop parsing a file once it has produced too many errors.
struct TooManyErrors {};

/// State shared by the error strategy and the AST builder for one file.
struct FileState {
  const SourceFile& file;
  const LexedInput& input;
  diag::DiagnosticEngine& diags;
  const ParseLimits& limits;
  antlr4::TokenStream* tokens = nullptr;
  unsigned errors = 0;
  /// An unterminated string swallowed a `}`: the block it closed is reported with the
  /// string, not again as unclosed at the end of the file.
  bool stringAteBrace = false;

  SourceRange range(const antlr4::Token* t) const { return input.tokenRange(file.id(), t); }
  SourceRange range(antlr4::ParserRuleContext* ctx) const {
    if (!ctx || !ctx->getStart()) return {};
    SourceRange a = range(ctx->getStart());
    const antlr4::Token* stop = ctx->getStop();
    if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) return a;
    return SourceRange::join(a, range(stop));
  }

  bool countError() {
    if (errors >= limits.maxErrors) return false;
    ++errors;
    if (errors == limits.maxErrors) {
      diags.report(Code::SyntaxError, {file.id(), static_cast<std::uint32_t>(file.text().size()),
                                       static_cast<std::uint32_t>(file.text().size())},
                   fmt::format("too many syntax errors in `{}`; stopped after {}", file.path(), limits.maxErrors));
      throw TooManyErrors{};
    }
    return true;
  }
};

// ---------------------------------------------------------------------------------
// Syntax error messages in plain words.

bool has(const antlr4::misc::IntervalSet& set, size_t type) { return set.contains(type); }

bool isNameToken(size_t type) {
  switch (type) {
    case GopsLexer::IDENT: case GopsLexer::UNIT: case GopsLexer::APP: case GopsLexer::ENVIRONMENT:
    case GopsLexer::SERVICE: case GopsLexer::JOB: case GopsLexer::TEMPLATE: case GopsLexer::ROLLOUT:
    case GopsLexer::PROMOTE: case GopsLexer::IMPORT: case GopsLexer::EXTENDS: case GopsLexer::IN:
    case GopsLexer::STEP: case GopsLexer::FOR: case GopsLexer::EVERY: case GopsLexer::ROLLBACK:
    case GopsLexer::WHEN:
      return true;
    default:
      return false;
  }
}

bool startsValue(size_t type) {
  switch (type) {
    case GopsLexer::STRING: case GopsLexer::NUMBER: case GopsLexer::DOTTED: case GopsLexer::TRUE:
    case GopsLexer::FALSE: case GopsLexer::LBRACK:
      return true;
    default:
      return isNameToken(type);
  }
}

std::string shorten(std::string s) {
  if (utf8Length(s) > 24) s = s.substr(0, utf8Advance(s, 21)) + "...";
  return s;
}

std::string describeToken(const antlr4::Token* t) {
  if (!t) return "nothing";
  switch (t->getType()) {
    case antlr4::Token::EOF: return "the end of the file";
    case GopsLexer::STRING: return fmt::format("the string {}", shorten(t->getText()));
    case GopsLexer::NUMBER: return fmt::format("the number `{}`", t->getText());
    case GopsLexer::DOTTED: return fmt::format("`{}`", t->getText());
    default: return fmt::format("`{}`", shorten(t->getText()));
  }
}

std::string describeExpected(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocab) {
  std::vector<std::string> words;
  bool value = has(set, GopsLexer::STRING) && has(set, GopsLexer::NUMBER);
  bool name = has(set, GopsLexer::IDENT);
  bool decl = has(set, GopsLexer::APP) && has(set, GopsLexer::SERVICE) && has(set, GopsLexer::IMPORT);
  if (decl) words.push_back("a declaration");
  else if (value) words.push_back("a value");
  else if (name) words.push_back("a name");
  for (size_t t : set.toList()) {
    if (decl && (t == GopsLexer::APP || t == GopsLexer::ENVIRONMENT || t == GopsLexer::SERVICE || t == GopsLexer::JOB ||
                 t == GopsLexer::TEMPLATE || t == GopsLexer::ROLLOUT || t == GopsLexer::PROMOTE || t == GopsLexer::IMPORT)) {
      continue;
    }
    if ((value || name) && (isNameToken(t) || startsValue(t))) continue;
    if (t == antlr4::Token::EOF) {
      words.push_back("the end of the file");
      continue;
    }
    std::string lit = vocab.getLiteralName(t);
    if (lit.size() >= 2 && lit.front() == '\'') {
      words.push_back("`" + lit.substr(1, lit.size() - 2) + "`");
    } else if (t == GopsLexer::STRING) {
      words.push_back("a string");
    } else if (t == GopsLexer::NUMBER) {
      words.push_back("a number");
    }
  }
  if (words.empty()) return "something else";
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

const antlr4::Token* previousToken(antlr4::TokenStream* tokens, const antlr4::Token* t) {
  if (!t) return nullptr;
  for (ssize_t i = static_cast<ssize_t>(t->getTokenIndex()) - 1; i >= 0; --i) {
    antlr4::Token* p = tokens->get(static_cast<size_t>(i));
    if (p->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return p;
  }
  return nullptr;
}

class ErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  explicit ErrorStrategy(FileState& st) : st_(st) {}

 protected:
  void reportNoViableAlternative(antlr4::Parser* p, const antlr4::NoViableAltException& e) override {
    report(p, e.getOffendingToken(), e.getStartToken(), e.getExpectedTokens());
  }
  void reportInputMismatch(antlr4::Parser* p, const antlr4::InputMismatchException& e) override {
    report(p, e.getOffendingToken(), nullptr, e.getExpectedTokens());
  }
  void reportFailedPredicate(antlr4::Parser* p, const antlr4::FailedPredicateException& e) override {
    report(p, e.getOffendingToken(), nullptr, e.getExpectedTokens());
  }
  void reportUnwantedToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), nullptr, getExpectedTokens(p));
  }
  void reportMissingToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), nullptr, getExpectedTokens(p));
  }

 private:
  void report(antlr4::Parser* p, antlr4::Token* offending, antlr4::Token* start, const antlr4::misc::IntervalSet& expected) {
    if (!st_.countError()) return;
    const auto& vocab = p->getVocabulary();
    antlr4::TokenStream* tokens = p->getTokenStream();
    const antlr4::Token* prev = previousToken(tokens, offending);
    std::string found = describeToken(offending);
    SourceRange where = st_.range(offending);
    antlr4::ParserRuleContext* ctx = p->getContext();
    size_t rule = ctx ? ctx->getRuleIndex() : static_cast<size_t>(GopsParser::RuleFile);
    size_t type = offending ? offending->getType() : static_cast<size_t>(antlr4::Token::EOF);
    auto& diags = st_.diags;

    // An unclosed block: name the brace that is never closed.
    if (type == antlr4::Token::EOF && has(expected, GopsLexer::RBRACE)) {
      if (st_.stringAteBrace) return;
      for (auto* c = ctx; c; c = dynamic_cast<antlr4::ParserRuleContext*>(c->parent)) {
        if (c->getRuleIndex() == GopsParser::RuleBody && c->getStart() && c->getStart()->getType() == GopsLexer::LBRACE) {
          diags.report(Code::SyntaxError, st_.range(c->getStart()), "unclosed `{`: the file ends before its `}`",
                       "this block is never closed")
              .label(where, "the file ends here")
              .help("add `}` where the block ends");
          return;
        }
      }
    }

    // `name value` inside a block: the `=` is missing.
    if (rule == GopsParser::RuleStmt && start && isNameToken(start->getType()) && offending &&
        offending->getTokenIndex() == start->getTokenIndex() + 1) {
      std::string name = start->getText();
      if (startsValue(type) && type != GopsLexer::LBRACE) {
        diags.report(Code::SyntaxError, where, fmt::format("expected `=` after attribute name `{}`", name), "expected `=` before this")
            .help(fmt::format("write `{} = {}`", name, shorten(offending->getText())))
            .fix("insert `=`", SourceRange{where.file, where.begin, where.begin}, "= ");
      } else {
        diags.report(Code::SyntaxError, where, fmt::format("expected `=` or `{{` after `{}`, found {}", name, found),
                     "expected `=` or `{` here")
            .help(fmt::format("an attribute is written `{} = value`, a block `{} {{ ... }}`", name, name));
      }
      return;
    }

    // Two list elements or arguments without a `,` between them. (Checked before a
    // missing value: the next element is itself a value, so the parser is still in
    // the `value` rule.)
    if (has(expected, GopsLexer::COMMA) && has(expected, GopsLexer::RBRACK)) {
      auto b = diags.report(Code::SyntaxError, where, fmt::format("expected `,` or `]` after a list element, found {}", found),
                            "expected `,` or `]`");
      if (startsValue(type) && prev) {
        SourceRange after = st_.range(prev);
        b.help("separate list elements with `,`, as in `[\"a\", \"b\"]`")
            .fix("insert `,`", SourceRange{after.file, after.end, after.end}, ",");
      }
      return;
    }
    if (has(expected, GopsLexer::COMMA) && has(expected, GopsLexer::RPAREN)) {
      auto b = diags.report(Code::SyntaxError, where, fmt::format("expected `,` or `)` after an argument, found {}", found),
                            "expected `,` or `)`");
      if (startsValue(type)) b.help("separate arguments with `,`, as in `secretsmanager(\"id\", key = \"field\")`");
      return;
    }

    // A missing value.
    if (rule == GopsParser::RuleValue || rule == GopsParser::RuleArg ||
        (has(expected, GopsLexer::STRING) && has(expected, GopsLexer::NUMBER))) {
      if (prev && prev->getType() == GopsLexer::ASSIGN) {
        diags.report(Code::SyntaxError, where, fmt::format("expected a value after `=`, found {}", found), "expected a value");
      } else {
        diags.report(Code::SyntaxError, where, fmt::format("expected a value, found {}", found), "expected a value");
      }
      return;
    }

    // Top level: something that is not a declaration.
    if (rule == GopsParser::RuleFile || (rule == GopsParser::RuleDecl && has(expected, GopsLexer::APP))) {
      auto b = diags.report(Code::SyntaxError, where,
                            fmt::format("expected a declaration (`app`, `environment`, `service`, `job`, `template`, "
                                        "`rollout`, `promote` or `import`), found {}", found),
                            "expected a declaration");
      if (type == GopsLexer::IDENT) {
        static const std::vector<std::string> kDecl = {"app", "environment", "service", "job", "template", "rollout", "promote", "import"};
        if (auto m = closestMatch(offending->getText(), kDecl)) {
          b.help(fmt::format("did you mean `{}`?", *m));
          b.fix(fmt::format("replace with `{}`", *m), where, *m);
        }
      } else if (type == GopsLexer::RBRACE) {
        b.help("this `}` has no matching `{`");
      }
      return;
    }

    if (rule == GopsParser::RuleName) {
      std::string after = prev ? prev->getText() : std::string("this");
      diags.report(Code::SyntaxError, where, fmt::format("expected a name after `{}`, found {}", after, found), "expected a name");
      return;
    }

    if (rule == GopsParser::RuleCompare) {
      diags.report(Code::SyntaxError, where,
                   fmt::format("expected a comparison (`>`, `>=`, `<` or `<=`) after the metric, found {}", found),
                   "expected a comparison")
          .help("write it like `rollback when http_5xx_rate > 1% for 2m`");
      return;
    }

    if (rule == GopsParser::RuleBody || rule == GopsParser::RuleStmt) {
      // `for` and `every` are also names, so a body that expects a statement expects
      // them too; only without a name is this really the middle of a `step`.
      if (has(expected, GopsLexer::FOR) && has(expected, GopsLexer::EVERY) && !has(expected, GopsLexer::IDENT)) {
        diags.report(Code::SyntaxError, where,
                     fmt::format("expected `for` (canary) or `every` (linear) after the step's percentage, found {}", found),
                     "expected `for` or `every`")
            .help("write `step 10% for 5m` in a canary, `step 10% every 1m` in a linear rollout");
        return;
      }
      if (has(expected, GopsLexer::WHEN) && expected.size() == 1) {
        diags.report(Code::SyntaxError, where, fmt::format("expected `when` after `rollback`, found {}", found), "expected `when`")
            .help("write it like `rollback when http_5xx_rate > 1% for 2m`");
        return;
      }
      if (has(expected, GopsLexer::RBRACE) && (has(expected, GopsLexer::IDENT) || rule == GopsParser::RuleBody)) {
        diags.report(Code::SyntaxError, where, fmt::format("expected an attribute, a block or `}}`, found {}", found),
                     "unexpected here");
        return;
      }
    }

    if (rule == GopsParser::RuleDecl) {
      if (has(expected, GopsLexer::ARROW)) {
        diags.report(Code::SyntaxError, where, fmt::format("expected `->` between the two environments of `promote`, found {}", found),
                     "expected `->`")
            .help("write it like `promote dev -> staging { after = [tests_passed] }`");
        return;
      }
      if (has(expected, GopsLexer::STRING) && prev && prev->getType() == GopsLexer::IMPORT) {
        diags.report(Code::SyntaxError, where, fmt::format("expected a path string after `import`, found {}", found), "expected a string")
            .help("write it like `import \"std/rollouts\"` or `import \"./common.gops\"`");
        return;
      }
      if (has(expected, GopsLexer::LBRACE)) {
        std::string what = has(expected, GopsLexer::EXTENDS) ? "`{` or `extends`" : "`{`";
        std::string after = prev ? fmt::format(" after `{}`", prev->getText()) : "";
        diags.report(Code::SyntaxError, where, fmt::format("expected {}{}, found {}", what, after, found), "expected `{`");
        return;
      }
      if (has(expected, GopsLexer::ASSIGN)) {
        diags.report(Code::SyntaxError, where, fmt::format("expected `=` after the rollout's name, found {}", found), "expected `=`")
            .help("write it like `rollout careful = canary { step 10% for 5m }`");
        return;
      }
    }

    diags.report(Code::SyntaxError, where, fmt::format("expected {}, found {}", describeExpected(expected, vocab), found),
                 "unexpected here");
  }

  FileState& st_;
};

// ---------------------------------------------------------------------------------
// Parse tree -> AST.
//
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
      auto* v = valueOf(c);
      out.values.push_back(v ? buildValue(v) : ast::Value{});
    } else if (auto* c = as<GopsParser::BlockStmtContext>(s)) {
      out.kind = ast::StmtKind::Block;
      if (!setNamedBody(out, c)) return std::nullopt;
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
        if (vals.size() < 2) return std::nullopt;
        out.values.push_back(buildValue(vals[1]));
        next = 2;
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
    if (auto* c = as<GopsParser::ListValueContext>(v)) {
      out.kind = ast::ValueKind::List;
      for (auto* item : valuesOf(c)) out.items.push_back(buildValue(item));
      return out;
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

/// Whether an ERROR_CHAR token is a byte that is not UTF-8 (LexedInput turned it into
/// U+FFFD), rather than a character that is not gops.
bool invalidByte(const FileState& st, const antlr4::Token* t) {
  SourceRange r = st.range(t);
  return r.end == r.begin + 1 && static_cast<unsigned char>(st.file.text()[r.begin]) >= 0x80;
}

/// Reports lexical problems and prepares the token list the parser sees: invalid
/// characters and unterminated comments are dropped (after being reported),
/// unterminated strings become strings, comments are kept for the AST.
void screenTokens(FileState& st, std::vector<std::unique_ptr<antlr4::Token>>& tokens, ast::File& out) {
  std::vector<std::unique_ptr<antlr4::Token>> kept;
  kept.reserve(tokens.size());
  FileId fid = st.file.id();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto& t = tokens[i];
    switch (t->getType()) {
      case GopsLexer::ERROR_CHAR: {
        // A byte that is not UTF-8 is covered by the file's E0005; drop it quietly.
        if (invalidByte(st, t.get())) break;
        // One diagnostic for a run of adjacent invalid characters.
        SourceRange r = st.range(t.get());
        std::size_t j = i;
        while (j + 1 < tokens.size() && tokens[j + 1]->getType() == GopsLexer::ERROR_CHAR && !invalidByte(st, tokens[j + 1].get()) &&
               st.range(tokens[j + 1].get()).begin == r.end) {
          ++j;
          r.end = st.range(tokens[j].get()).end;
        }
        std::string_view shown = std::string_view(st.file.text()).substr(r.begin, r.end - r.begin);
        if (st.countError()) {
          bool printable = std::all_of(shown.begin(), shown.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20; });
          std::string what;
          if (printable && shown.size() <= 16) {
            what = fmt::format("invalid character{} `{}`", j > i ? "s" : "", shown);
          } else if (shown.size() <= 4) {
            // Control characters: show their codes, not the raw bytes.
            std::vector<std::string> hex;
            for (char c : shown) hex.push_back(fmt::format("0x{:02X}", static_cast<unsigned char>(c)));
            what = fmt::format("invalid byte{} `{}`", shown.size() > 1 ? "s" : "", fmt::join(hex, " "));
          } else {
            what = fmt::format("{} invalid characters", j - i + 1);
          }
          auto b = st.diags.report(diag::Code::InvalidCharacter, r, fmt::format("{} in gops source", what), "not part of the language");
          if (shown == "'") b.help("strings use double quotes: \"...\"");
          else if (shown == ";") b.help("gops needs no `;`: separate attributes with spaces or new lines");
          else if (shown == ":") b.help("attributes are set with `=`, as in `port = 8080`").fix("write `=`", r, "=");
          else if (shown == "#") b.help("comments start with `//`");
        }
        if (shown == ":") {
          // `port: 8080` means `port = 8080`; parse it so, instead of reporting the
          // missing `=` a second time.
          if (auto* ct = dynamic_cast<antlr4::CommonToken*>(tokens[j].get())) {
            ct->setType(GopsLexer::ASSIGN);
            kept.push_back(std::move(tokens[j]));
          }
        } else if (!shown.empty() && shown.front() == '#') {
          // A `#` comment: the rest of its line is not gops either.
          std::size_t line = tokens[j]->getLine();
          while (j + 1 < tokens.size() && tokens[j + 1]->getLine() == line) ++j;
        }
        i = j;
        break;
      }
      case GopsLexer::UNTERMINATED_COMMENT:
        if (st.countError()) {
          SourceRange r = st.range(t.get());
          st.diags.report(diag::Code::UnterminatedComment, {fid, r.begin, r.begin + 2}, "unterminated block comment: `/*` without `*/`",
                          "comment starts here")
              .help("close the comment with `*/`");
        }
        break;
      case GopsLexer::UNTERMINATED_STRING: {
        if (st.countError()) {
          SourceRange r = st.range(t.get());
          auto b = st.diags.report(diag::Code::UnterminatedString, r, "unterminated string: the line ends before the closing `\"`",
                                   "string starts here");
          b.help("add `\"` at the end of the string; strings cannot span lines (write `\\n` for a line break)");
          if (t->getText().find('}') != std::string::npos) {
            // The `}` is inside the string now; the block it closes would be reported
            // as unclosed at the end of the file, far from the real mistake.
            st.stringAteBrace = true;
            b.note("the `}` after the quote is part of the string, so the block it should close is still open");
          }
        }
        auto* ct = dynamic_cast<antlr4::CommonToken*>(t.get());
        if (ct) ct->setType(GopsLexer::STRING);
        kept.push_back(std::move(t));
        break;
      }
      case GopsLexer::LINE_COMMENT:
      case GopsLexer::DOC_COMMENT:
      case GopsLexer::BLOCK_COMMENT:
        out.comments.push_back({st.range(t.get()), t->getText(), t->getType() == GopsLexer::BLOCK_COMMENT});
        kept.push_back(std::move(t));
        break;
      default:
        kept.push_back(std::move(t));
    }
  }
  tokens = std::move(kept);
}

/// Refuses input nested deeper than the limit before the recursive parser sees it.
bool checkDepth(FileState& st, const std::vector<std::unique_ptr<antlr4::Token>>& tokens) {
  unsigned depth = 0;
  for (const auto& t : tokens) {
    switch (t->getType()) {
      case GopsLexer::LBRACE: case GopsLexer::LBRACK: case GopsLexer::LPAREN:
        if (++depth > st.limits.maxDepth) {
          st.diags.report(diag::Code::NestingTooDeep, st.range(t.get()),
                          fmt::format("nesting deeper than {} levels; the file is not parsed", st.limits.maxDepth),
                          "too deep here")
              .help("a gops spec needs only a few levels of `{ }`, `[ ]` and `( )`");
          return false;
        }
        break;
      case GopsLexer::RBRACE: case GopsLexer::RBRACK: case GopsLexer::RPAREN:
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

void attachDocComments(const SourceFile& file, ast::File& out) {
  // A declaration's doc is the run of `///` comments on the lines right above it.
  std::size_t ci = 0;
  for (auto& d : out.decls) {
    std::vector<const ast::Comment*> run;
    std::uint32_t expectLine = 0;
    while (ci < out.comments.size() && out.comments[ci].range.begin < d.range.begin) {
      const auto& c = out.comments[ci++];
      std::uint32_t line = file.lineCol(c.range.begin).line;
      if (!startsWith(c.text, "///") || (expectLine && line != expectLine)) run.clear();
      if (startsWith(c.text, "///")) run.push_back(&c);
      expectLine = line + 1;
    }
    if (!run.empty() && file.lineCol(d.range.begin).line == expectLine) {
      for (const auto* c : run) {
        std::string_view t(c->text);
        t.remove_prefix(3);
        if (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        if (!d.doc.empty()) d.doc += '\n';
        d.doc += t;
      }
    }
  }
}

/// ANTLR's objects of one parse, in the order they depend on each other (members are
/// destroyed in reverse: the parser and its tree first, the input last).
struct AntlrState {
  explicit AntlrState(std::string_view text) : input(text), lexer(&input.stream()) {}
  LexedInput input;
  GopsLexer lexer;
  TokenArena arena;  ///< the tokens: after everything that holds them, so freed last
  std::unique_ptr<antlr4::ListTokenSource> source;
  std::unique_ptr<antlr4::CommonTokenStream> tokens;
  std::unique_ptr<GopsParser> parser;
};

}  // namespace

void ParseResidue::keep(std::shared_ptr<void> part) {
  std::lock_guard<std::mutex> lock(mutex_);
  parts_.push_back(std::move(part));
}

std::size_t ParseResidue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return parts_.size();
}

ast::File parseFile(const SourceFile& file, diag::DiagnosticEngine& diags, const ParseLimits& limits, ParseResidue* residue) {
  ast::File out;
  out.file = file.id();
  std::size_t errorsBefore = diags.errorCount();

  // A NUL byte never occurs in a text file: this is a binary file (or UTF-16 text).
  // Parsing it would only bury this one fact under pages of syntax errors.
  if (auto nul = file.text().find('\0'); nul != std::string::npos) {
    auto off = static_cast<std::uint32_t>(nul);
    diags.report(diag::Code::InvalidUtf8, {file.id(), off, off + 1},
                 fmt::format("`{}` is not a UTF-8 text file: it contains a NUL byte at offset {}", file.path(), off), "NUL byte")
        .help("gops specs are UTF-8 text; if this file is one, save it as UTF-8 (not UTF-16)");
    out.syntaxOk = false;
    return out;
  }

  auto state = std::make_shared<AntlrState>(file.text());
  LexedInput& input = state->input;
  if (auto bad = firstInvalidUtf8(file.text())) {
    auto off = static_cast<std::uint32_t>(*bad);
    diags.report(diag::Code::InvalidUtf8, {file.id(), off, off + 1},
                 fmt::format("`{}` is not valid UTF-8 (first bad byte at offset {})", file.path(), off), "invalid byte")
        .help("save the file as UTF-8");
  }

  FileState st{file, input, diags, limits};
  try {
    GopsLexer& lexer = state->lexer;
    lexer.removeErrorListeners();
    std::vector<std::unique_ptr<antlr4::Token>> tokens = scanTokens(input, &lexer, state->arena);
    screenTokens(st, tokens, out);
    if (!checkDepth(st, tokens)) {
      out.syntaxOk = false;
      return out;
    }
    if (tokens.empty()) {  // an empty file (or only invalid characters): nothing to parse
      out.syntaxOk = diags.errorCount() == errorsBefore;
      return out;
    }
    state->source = std::make_unique<antlr4::ListTokenSource>(std::move(tokens));
    state->tokens = std::make_unique<antlr4::CommonTokenStream>(state->source.get());
    antlr4::CommonTokenStream& tokenStream = *state->tokens;
    tokenStream.fill();
    st.tokens = &tokenStream;

    state->parser = std::make_unique<GopsParser>(&tokenStream);
    GopsParser& parser = *state->parser;
    parser.removeErrorListeners();
    // Two-stage parsing: fast SLL prediction that bails on the first error, then full
    // LL with error recovery only for files that need it.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    GopsParser::FileContext* tree = nullptr;
    try {
      tree = parser.file();
    } catch (const antlr4::ParseCancellationException&) {
      tokenStream.seek(0);
      parser.reset();
      parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
      parser.setErrorHandler(std::make_shared<ErrorStrategy>(st));
      tree = parser.file();
    }
    AstBuilder builder(st);
    builder.build(tree, out);
    attachDocComments(file, out);
  } catch (const TooManyErrors&) {
    // Already reported; keep what was built.
  }
  out.syntaxOk = diags.errorCount() == errorsBefore;
  if (residue) residue->keep(std::move(state));
  return out;
}

}  // namespace gops::syntax
