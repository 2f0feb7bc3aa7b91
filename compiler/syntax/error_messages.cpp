// Syntax errors in plain words: the error strategy of the parser's second stage turns
// what ANTLR found and expected into one diagnostic that says what is wrong and, where
// it can, how to fix it.
#include "syntax/parse_state.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "GopsLexer.h"
#include "support/text.h"
#include "syntax/keywords.h"

namespace gops::syntax {

using grammar::GopsLexer;
using grammar::GopsParser;
using diag::Code;

namespace {

bool has(const antlr4::misc::IntervalSet& set, size_t type) { return set.contains(type); }

/// Whether `type` is a keyword that starts a declaration.
bool isDeclKeyword(size_t type) {
  const Keyword* k = keywordOf(type);
  return k && k->kind == KeywordKind::Decl;
}

/// Whether `set` holds every keyword that starts a declaration.
bool expectsDeclaration(const antlr4::misc::IntervalSet& set) {
  return std::ranges::all_of(kKeywords, [&](const Keyword& k) { return k.kind != KeywordKind::Decl || has(set, k.type); });
}

/// The keywords that start a declaration, for a message: "`app`, `environment`, ... or `import`".
std::string declKeywordList() {
  std::vector<std::string> words;
  for (const Keyword& k : kKeywords) {
    if (k.kind == KeywordKind::Decl) words.push_back(fmt::format("`{}`", k.text));
  }
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
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
  bool decl = expectsDeclaration(set);
  if (decl) words.push_back("a declaration");
  else if (value) words.push_back("a value");
  else if (name) words.push_back("a name");
  for (size_t t : set.toList()) {
    if (decl && isDeclKeyword(t)) continue;
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
      static const std::string kDeclList = declKeywordList();
      auto b = diags.report(Code::SyntaxError, where, fmt::format("expected a declaration ({}), found {}", kDeclList, found),
                            "expected a declaration");
      if (type == GopsLexer::IDENT) {
        static const std::vector<std::string> kDecl = [] {
          std::vector<std::string> words;
          for (const Keyword& k : kKeywords) {
            if (k.kind == KeywordKind::Decl) words.emplace_back(k.text);
          }
          return words;
        }();
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

}  // namespace

std::shared_ptr<antlr4::ANTLRErrorStrategy> makeErrorStrategy(FileState& st) { return std::make_shared<ErrorStrategy>(st); }

}  // namespace gops::syntax
