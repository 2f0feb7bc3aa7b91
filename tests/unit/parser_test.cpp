#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "diagnostics/diagnostic.h"
#include "syntax/parser.h"

using namespace gops;

namespace {
ast::File parse(const std::string& text, diag::DiagnosticEngine& diags, SourceManager& sm) {
  FileId id = sm.add("t.gops", text);
  return syntax::parseFile(sm.file(id), diags);
}
}  // namespace

TEST_CASE("literals with units lex as one number", "[parser]") {
  SourceManager sm;
  diag::DiagnosticEngine diags;
  auto f = parse("service a { memory = 512 MiB  cpu = 0.25 vcpu  x = 30s  y = 10%  z = 512MiB  c = 10.10.0.0/16 }", diags, sm);
  REQUIRE(diags.errorCount() == 0);
  REQUIRE(f.decls.size() == 1);
  const auto& body = f.decls[0].body;
  REQUIRE(body.size() == 6);
  CHECK(body[0].value().text == "512");
  CHECK(body[0].value().unit == "MiB");
  CHECK(body[0].value().unitSpaced);
  CHECK(body[1].value().unit == "vcpu");
  CHECK(body[2].value().unit == "s");
  CHECK(body[3].value().unit == "%");
  CHECK(body[4].value().unit == "MiB");
  CHECK_FALSE(body[4].value().unitSpaced);
  CHECK(body[5].value().kind == ast::ValueKind::Dotted);
}

TEST_CASE("strings decode escapes and interpolations", "[parser]") {
  SourceManager sm;
  diag::DiagnosticEngine diags;
  auto f = parse(R"(app a { x = "a\"b ${env.name} \${lit}" })", diags, sm);
  REQUIRE(diags.errorCount() == 0);
  const auto& v = f.decls[0].body[0].value();
  REQUIRE(v.parts.size() == 3);
  CHECK(v.parts[0].text == "a\"b ");
  CHECK(v.parts[1].interpolation);
  CHECK(v.parts[1].text == "env.name");
  CHECK(v.parts[2].text == " ${lit}");
}

TEST_CASE("keywords may be used as attribute names", "[parser]") {
  SourceManager sm;
  diag::DiagnosticEngine diags;
  auto f = parse("environment e { rollout = canary { step 10% for 5m  rollback when p99_latency > 1s for 2m } }", diags, sm);
  REQUIRE(diags.errorCount() == 0);
  const auto& strategy = f.decls[0].body[0].value();
  CHECK(strategy.kind == ast::ValueKind::Object);
  REQUIRE(strategy.body.size() == 2);
  CHECK(strategy.body[0].kind == ast::StmtKind::Step);
  CHECK(strategy.body[1].kind == ast::StmtKind::Rollback);
  CHECK(strategy.body[1].op == ">");
  CHECK(strategy.body[1].values.size() == 3);
}

TEST_CASE("syntax errors are reported in plain words and parsing recovers", "[parser]") {
  SourceManager sm;
  diag::DiagnosticEngine diags;
  auto f = parse("service a {\n  cpu 0.5 vcpu\n  memory = 1 GiB\n}\nservice b { replicas = }\n", diags, sm);
  REQUIRE(diags.errorCount() == 2);
  CHECK(diags.diagnostics()[0].message == "expected `=` after attribute name `cpu`");
  CHECK(diags.diagnostics()[1].message == "expected a value after `=`, found `}`");
  CHECK(f.decls.size() == 2);
}

TEST_CASE("deep nesting is refused without recursion", "[parser]") {
  SourceManager sm;
  diag::DiagnosticEngine diags;
  std::string deep = "app a { x = " + std::string(100000, '[') + " }";
  auto f = parse(deep, diags, sm);
  REQUIRE(diags.errorCount() == 1);
  CHECK(diags.diagnostics()[0].code == diag::Code::NestingTooDeep);
}

TEST_CASE("garbage input yields bounded diagnostics", "[parser]") {
  SourceManager sm;
  diag::DiagnosticEngine diags;
  std::string junk;
  for (int i = 0; i < 5000; ++i) junk += static_cast<char>((i * 37) % 256);
  parse(junk, diags, sm);
  CHECK(diags.errorCount() > 0);
  CHECK(diags.errorCount() <= 52);
}

namespace {
// Every .gops file of the repository (examples, tests, the standard library, the
// editors' samples).
std::vector<std::string> repositorySpecs() {
  std::vector<std::string> out;
  std::filesystem::path root = std::filesystem::path(GOPS_SOURCE_STDLIB).parent_path();
  for (const char* dir : {"examples", "tests", "stdlib", "editors", "bench"}) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root / dir, ec); !ec && it != std::filesystem::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->path().extension() == ".gops") out.push_back(it->path().string());
    }
  }
  return out;
}
}  // namespace

TEST_CASE("the scanner lexes exactly as the generated ANTLR lexer", "[parser][scanner]") {
  auto specs = repositorySpecs();
  REQUIRE(specs.size() > 20);
  for (const auto& path : specs) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(path);
    CHECK(syntax::scannerMismatch(text) == std::nullopt);
  }

  // Fragments around every rule's edges, glued into random inputs: literals with and
  // without units, CIDRs and near-CIDRs, keywords and words that start like them,
  // strings with escapes and without an end, every kind of comment (closed or not),
  // operators and their prefixes, whitespace, a BOM, non-ASCII and invalid UTF-8.
  const std::vector<std::string> pieces = {
      "app", "apps", "in", "index", "for", "format", "true", "falsey", "KiB", "KiBs", "vcpu", "vcpus", "vCPU", "gib", "GB",
      "_x", "a1", "1", "12", "1.5", "1.", ".5", "1.2.3", "10.0.0.0/16", "10.0.0/16", "1.2.3.4/", "1.2.3.4/x", "1.2.3.4.5",
      "1.5GiB", "512MiB", "30s", "10%", "1e5", "1.2.3x", "1.2a", "1a.5", "0.25", "7%%", "\"", "\"\"", "\"a\"", "\"a\\\"b\"",
      "\"a\\", "\"a\\n\"", "\"${env.name}\"", "\"é\"", "/", "//", "///", "////", "// c", "/// doc", "/*", "*/", "/**/", "/* x */",
      "/*/", "/* * */", "**", "*", "-", "->", "--", ">", ">=", "<", "<=", "=", "==", "{", "}", "[", "]", "(", ")", ",",
      " ", "  ", "\t", "\n", "\r\n", "\r", "\f", "\xEF\xBB\xBF", "é", "日本", "\xff", "\xc3", "#", "$", "@", "\\", ";", ":",
  };
  std::mt19937 rng(20261127);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1), count(1, 12);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (std::size_t k = count(rng); k > 0; --k) text += pieces[pick(rng)];
    auto mismatch = syntax::scannerMismatch(text);
    INFO("input: " << text);
    REQUIRE(mismatch == std::nullopt);
  }
}
