// syntax/keywords.def, the C++ side's list of keywords and units, against the grammar
// that defines the tokens (grammar/GopsLexer.g4, GopsParser.g4).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "diagnostics/diagnostic.h"
#include "syntax/parser.h"

using namespace gops;

namespace {

struct DefKeyword {
  std::string token;
  std::string text;
  std::string kind;
};

const std::vector<DefKeyword> kDefKeywords = {
#define GOPS_KEYWORD(Token, Text, Kind) {#Token, Text, #Kind},
#include "syntax/keywords.def"
};

const std::vector<std::string> kDefUnits = {
#define GOPS_UNIT(Text) Text,
#include "syntax/keywords.def"
};

std::string readGrammar(const char* name) {
  auto path = std::filesystem::path(GOPS_SOURCE_STDLIB).parent_path() / "grammar" / name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool isWord(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace

TEST_CASE("keywords.def lists exactly the keyword rules of the generated lexer", "[parser][keywords]") {
  std::vector<syntax::LexerTokenName> vocabulary = syntax::lexerVocabulary();
  // The grammar's keywords: every token whose literal is a word ('app').
  std::map<std::string, std::string> grammarKeywords;  // symbolic name -> spelling
  for (const auto& t : vocabulary) {
    if (t.literal.size() < 3 || t.literal.front() != '\'' || t.literal.back() != '\'') continue;
    std::string text = t.literal.substr(1, t.literal.size() - 2);
    if (isWord(text)) grammarKeywords[t.symbolic] = text;
  }
  REQUIRE(grammarKeywords.size() > 10);

  std::map<std::string, std::string> defKeywords;
  for (const auto& k : kDefKeywords) {
    INFO("keywords.def: " << k.token);
    CHECK(defKeywords.emplace(k.token, k.text).second);
  }
  CHECK(defKeywords == grammarKeywords);

  // In the grammar's order (completion lists them so).
  std::vector<std::string> grammarOrder, defOrder;
  for (const auto& t : vocabulary) {
    if (grammarKeywords.count(t.symbolic)) grammarOrder.push_back(t.symbolic);
  }
  for (const auto& k : kDefKeywords) defOrder.push_back(k.token);
  CHECK(defOrder == grammarOrder);

  std::vector<std::string> texts;
  for (const auto& k : kDefKeywords) texts.push_back(k.text);
  CHECK(syntax::keywords() == texts);
}

TEST_CASE("keywords.def lists exactly the literals of the grammar's UNIT rule", "[parser][keywords]") {
  // The rule `UNIT : 'KiB' | 'MiB' ... ;`: every quoted literal up to its `;`.
  std::string grammar = readGrammar("GopsLexer.g4");
  std::size_t begin = grammar.find("\nUNIT");
  REQUIRE(begin != std::string::npos);
  std::size_t end = grammar.find(';', begin);
  REQUIRE(end != std::string::npos);
  std::vector<std::string> grammarUnits;
  for (std::size_t q = grammar.find('\'', begin); q < end; q = grammar.find('\'', q + 1)) {
    std::size_t close = grammar.find('\'', q + 1);
    REQUIRE(close < end);
    grammarUnits.push_back(grammar.substr(q + 1, close - q - 1));
    q = close;
  }
  REQUIRE(grammarUnits.size() > 10);
  CHECK(kDefUnits == grammarUnits);

  std::vector<syntax::LexerTokenName> vocabulary = syntax::lexerVocabulary();
  CHECK(std::count_if(vocabulary.begin(), vocabulary.end(), [](const auto& t) { return t.symbolic == "UNIT"; }) == 1);
}

TEST_CASE("the scanner lexes every keyword and unit of keywords.def as the generated lexer", "[parser][keywords][scanner]") {
  std::vector<std::string> words(kDefUnits);
  for (const auto& k : kDefKeywords) words.push_back(k.text);
  for (const auto& w : words) {
    for (const std::string& text : {w, w + "x", "_" + w, w + " " + w, "1 " + w, "1" + w, w.substr(0, w.size() - 1)}) {
      INFO("input: " << text);
      CHECK(syntax::scannerMismatch(text) == std::nullopt);
    }
  }
}

TEST_CASE("the Decl and Clause keywords of keywords.def are names to the parser, the Literal ones are not", "[parser][keywords]") {
  for (const auto& k : kDefKeywords) {
    SourceManager sm;
    diag::DiagnosticEngine diags;
    std::string text = "app a { " + k.text + " = 1 }\n";
    syntax::parseFile(sm.file(sm.add("t.gops", text)), diags);
    INFO(text);
    if (k.kind == "Literal") CHECK(diags.errorCount() > 0);
    else CHECK(diags.errorCount() == 0);
  }
  // Decl keywords start a declaration.
  for (const auto& k : kDefKeywords) {
    SourceManager sm;
    diag::DiagnosticEngine diags;
    std::string text = k.text + " x";
    syntax::parseFile(sm.file(sm.add("t.gops", text)), diags);
    INFO(text);
    REQUIRE(diags.errorCount() > 0);
    bool notADeclaration = diags.diagnostics()[0].message.starts_with("expected a declaration");
    CHECK(notADeclaration == (k.kind != "Decl"));
  }
}
