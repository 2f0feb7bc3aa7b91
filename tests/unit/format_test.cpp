#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "diagnostics/diagnostic.h"
#include "format/formatter.h"
#include "syntax/parser.h"

using namespace gops;

namespace {

/// Formats `text`, which must parse without errors.
std::string reformat(const std::string& text) {
  SourceManager sm;
  diag::DiagnosticEngine diags;
  FileId id = sm.add("t.gops", text);
  ast::File tree = syntax::parseFile(sm.file(id), diags);
  REQUIRE(diags.errorCount() == 0);
  return format::formatFile(sm.file(id), tree);
}

ast::File parseOk(SourceManager& sm, const std::string& text) {
  diag::DiagnosticEngine diags;
  FileId id = sm.add("t.gops", text);
  ast::File tree = syntax::parseFile(sm.file(id), diags);
  REQUIRE(diags.errorCount() == 0);
  return tree;
}

// Structural equality of two trees, ignoring positions and layout-only flags
// (`singleLine`, `unitSpaced`): what formatting must never change.
bool sameValue(const ast::Value& a, const ast::Value& b);
bool sameStmts(const std::vector<ast::Stmt>& a, const std::vector<ast::Stmt>& b);

bool sameValues(const std::vector<ast::Value>& a, const std::vector<ast::Value>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), sameValue);
}

bool sameValue(const ast::Value& a, const ast::Value& b) {
  if (a.kind != b.kind || a.text != b.text || a.boolean != b.boolean || a.unit != b.unit) return false;
  if (!sameValues(a.items, b.items) || !sameStmts(a.body, b.body) || a.args.size() != b.args.size()) return false;
  for (std::size_t i = 0; i < a.args.size(); ++i) {
    if (a.args[i].name != b.args[i].name || !sameValues(a.args[i].value, b.args[i].value)) return false;
  }
  return a.plainString() == b.plainString();
}

bool sameStmts(const std::vector<ast::Stmt>& a, const std::vector<ast::Stmt>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto &x = a[i], &y = b[i];
    if (x.kind != y.kind || x.name != y.name || x.op != y.op || !sameValues(x.values, y.values) || !sameStmts(x.body, y.body)) {
      return false;
    }
  }
  return true;
}

bool sameTree(const ast::File& a, const ast::File& b) {
  if (a.decls.size() != b.decls.size()) return false;
  for (std::size_t i = 0; i < a.decls.size(); ++i) {
    const auto &x = a.decls[i], &y = b.decls[i];
    if (x.kind != y.kind || x.name != y.name || x.base != y.base || x.hasBody != y.hasBody || x.doc != y.doc ||
        !sameStmts(x.body, y.body) || !sameValues(x.value, y.value)) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> commentTexts(const ast::File& f) {
  std::vector<std::string> out;
  for (const auto& c : f.comments) out.push_back(c.text);
  std::sort(out.begin(), out.end());
  return out;
}

/// Formats `text` and checks what every formatting must satisfy: the result parses
/// to the same tree, keeps every comment exactly once, and is a fixed point.
std::string formatChecked(const std::string& text) {
  SourceManager sm;
  ast::File before = parseOk(sm, text);
  std::string once = format::formatFile(sm.file(before.file), before);
  ast::File after = parseOk(sm, once);
  CHECK(sameTree(before, after));
  std::vector<std::string> commentsBefore = commentTexts(before);
  for (auto& c : commentsBefore) {
    while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.pop_back();
  }
  std::sort(commentsBefore.begin(), commentsBefore.end());
  CHECK(commentTexts(after) == commentsBefore);
  CHECK(format::formatFile(sm.file(after.file), after) == once);
  return once;
}

}  // namespace

TEST_CASE("the shop example is a fixed point", "[format]") {
  std::ifstream in(std::string(GOPS_SOURCE_STDLIB) + "/../examples/shop/shop.gops", std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(formatChecked(ss.str()) == ss.str());
}

TEST_CASE("attributes in a group line up their `=`", "[format]") {
  CHECK(reformat("app a {\nregion = \"r\"\n  repository    = \"o/r\"\n}\n") ==
        "app a {\n  region     = \"r\"\n  repository = \"o/r\"\n}\n");
  // A blank line or a comment-only line starts a new group; a trailing comment does not.
  CHECK(reformat("app a {\n  a = 1\n  bbb = 2 // t\n\n  cc = 3\n  // c\n  d = 4\n  eeeee = 5\n}\n") ==
        "app a {\n  a   = 1\n  bbb = 2  // t\n\n  cc = 3\n  // c\n  d     = 4\n  eeeee = 5\n}\n");
  // An attribute printed over several lines is the last member of its group.
  CHECK(reformat("environment e {\n  a = 1\n  rollout = canary {\n    step 1% for 1m\n  }\n  b = 2\n}\n") ==
        "environment e {\n  a       = 1\n  rollout = canary {\n    step 1% for 1m\n  }\n  b = 2\n}\n");
  // No padding inside one-line bodies.
  CHECK(reformat("app a { a = 1  bbb = 2 }\n") == "app a { a = 1  bbb = 2 }\n");
}

TEST_CASE("a trailing run of one-line blocks joins the attributes above it", "[format]") {
  CHECK(reformat("template web {\n  port = 8080\n  health { path = \"/\" }\n  env { A = \"1\" }\n}\n") ==
        "template web {\n  port   = 8080\n  health { path = \"/\" }\n  env    { A = \"1\" }\n}\n");
  // One-line blocks followed by an attribute are not aligned and split the group.
  CHECK(reformat("environment s {\n  account = \"2\"\n  deploy = manual\n  approval { required = 1 }\n  rollout = r\n  tests = []\n}\n") ==
        "environment s {\n  account = \"2\"\n  deploy  = manual\n  approval { required = 1 }\n  rollout = r\n  tests   = []\n}\n");
  // An override after the blocks keeps them out of the group.
  CHECK(reformat("service a {\n  image = x\n  autoscale { min = 1 }\n  in prod { image = y }\n}\n") ==
        "service a {\n  image = x\n  autoscale { min = 1 }\n  in prod { image = y }\n}\n");
  // Blocks without attributes right above them do not align each other.
  CHECK(reformat("service a {\n  image = x\n\n  autoscale { min = 1 }\n  env { A = \"1\" }\n}\n") ==
        "service a {\n  image = x\n\n  autoscale { min = 1 }\n  env { A = \"1\" }\n}\n");
  // A multi-line block is never part of a group.
  CHECK(reformat("service a {\n  image = x\n  env {\n    A = \"1\"\n  }\n}\n") ==
        "service a {\n  image = x\n  env {\n    A = \"1\"\n  }\n}\n");
}

TEST_CASE("bodies written on one line stay on one line", "[format]") {
  CHECK(reformat("app a {region=\"r\" repository=\"o\"}") == "app a { region = \"r\"  repository = \"o\" }\n");
  CHECK(reformat("app a {\n}\n") == "app a {}\n");
  CHECK(reformat("app a {   }\n") == "app a {}\n");
  CHECK(reformat("app a { x = 1\n}\n") == "app a {\n  x = 1\n}\n");
  CHECK(reformat("app a { x = 1 /* c */ }\n") == "app a {\n  x = 1\n  /* c */\n}\n");
  CHECK(reformat("environment e { rollout = canary {step 1% for 1m} }") ==
        "environment e { rollout = canary { step 1% for 1m } }\n");
  CHECK(reformat("promote a -> b\npromote b -> c {after=[x]}") == "promote a -> b\npromote b -> c { after = [x] }\n");
}

TEST_CASE("comments stay where they were written", "[format]") {
  // Leading comments take the statement's indentation.
  CHECK(reformat("app a {\n      // lead\n  x = 1\n}\n") == "app a {\n  // lead\n  x = 1\n}\n");
  // A trailing comment keeps its column when the code ends 2 or more columns before it.
  CHECK(reformat("app a {\n  x   =    1      // c\n}\n") == "app a {\n  x = 1           // c\n}\n");
  // ... and otherwise goes 2 spaces after the code.
  CHECK(reformat("app a {\n  x = 1 // c\n}\n") == "app a {\n  x = 1  // c\n}\n");
  CHECK(reformat("app a {\n  abc = 1 // c\n  abcdefgh = 2\n}\n") == "app a {\n  abc      = 1  // c\n  abcdefgh = 2\n}\n");
  // After `{`, after `}`, at the end of a block and of the file.
  CHECK(reformat("app a { // open\n  x = 1\n  // end\n} // close\n// eof\n") ==
        "app a {  // open\n  x = 1\n  // end\n}  // close\n// eof\n");
  // A comment inside a statement moves above it rather than being lost.
  CHECK(reformat("app a {\n  x = /* why */ 1\n}\n") == "app a {\n  /* why */\n  x = 1\n}\n");
  // A block comment followed by code goes on its own line above that code.
  CHECK(reformat("app a {\n  x = 1 /* c */ y = 2\n}\n") == "app a {\n  x = 1\n  /* c */\n  y = 2\n}\n");
  // Only comments: kept.
  CHECK(reformat("// a\n\n\n/* b */\n") == "// a\n\n/* b */\n");
}

TEST_CASE("blank lines are kept, collapsed, and never open or close a body", "[format]") {
  CHECK(reformat("\n\napp a {\n\n  x = 1\n\n\n\n  y = 2\n\n}\n\n\n\nimport \"p\"\nimport \"q\"\n\n\n") ==
        "app a {\n  x = 1\n\n  y = 2\n}\n\nimport \"p\"\nimport \"q\"\n");
}

TEST_CASE("values are printed as written, size and CPU units spaced", "[format]") {
  CHECK(reformat("service a { m = 512MiB  c = 0.5vcpu  t = 30s  p = 10%  g = 1   GiB  v = 2 vCPU }") ==
        "service a { m = 512 MiB  c = 0.5 vcpu  t = 30s  p = 10%  g = 1 GiB  v = 2 vCPU }\n");
  CHECK(reformat(R"(app a { s = "a\"b\\c ${env.name} \${x}"  n = 10.0.0.0/16  b = true  f = false })") ==
        "app a { s = \"a\\\"b\\\\c ${env.name} \\${x}\"  n = 10.0.0.0/16  b = true  f = false }\n");
  CHECK(reformat("app a { l = [ 1 ,2, ]  c = f( 1,k=\"v\", )  e = []  n = g() }") ==
        "app a { l = [1, 2]  c = f(1, k = \"v\")  e = []  n = g() }\n");
  CHECK(reformat("app a {\n  l = [\n    1,\n    2\n  ]\n}\n") == "app a {\n  l = [1, 2]\n}\n");
}

TEST_CASE("a list or call with comments keeps one item per line", "[format]") {
  CHECK(reformat("app a {\n  l = [1, // one\n  2]\n}\n") == "app a {\n  l = [\n    1,  // one\n    2,\n  ]\n}\n");
  CHECK(reformat("app a {\n  c = f( // open\n    k = 1\n    // last\n  )\n}\n") ==
        "app a {\n  c = f(  // open\n    k = 1,\n    // last\n  )\n}\n");
}

TEST_CASE("steps and rollbacks", "[format]") {
  CHECK(reformat("rollout r = canary {\nstep   10%   for 5m\n rollback when  p99_latency>=800ms for 2m\n"
               "rollback when alarm( \"x\" )\nrollback when alarm(\"y\") for 3m\n}\n") ==
        "rollout r = canary {\n  step 10% for 5m\n  rollback when p99_latency >= 800ms for 2m\n"
        "  rollback when alarm(\"x\")\n  rollback when alarm(\"y\") for 3m\n}\n");
  CHECK(reformat("rollout l = linear { step 10%   every 1m }") == "rollout l = linear { step 10% every 1m }\n");
}

TEST_CASE("line ends, byte order mark and trailing whitespace", "[format]") {
  CHECK(reformat("\xEF\xBB\xBF" "app a {\r\n  x = 1   \r\n  // c  \r\n}\r\n") == "app a {\n  x = 1\n  // c\n}\n");
  CHECK(reformat("app a {}") == "app a {}\n");
  CHECK(reformat("app a {\n  /* one  \r\n     two */\n}\n") == "app a {\n  /* one\n     two */\n}\n");
}

TEST_CASE("formatting keeps the tree and every comment, and is idempotent", "[format]") {
  const char* inputs[] = {
      "app x{region=\"r\"   // trailing\nrepository=\"o/r\" registry = \"1\"}",
      "/* a */ // b\n/// doc\napp a { // c\n  x = /* d */ 1 // e\n  y /* f */ = 2 /* g */ /* h */\n  /* i */ /* j */\n} /* k */ // l\n",
      "environment e {\n  rollout = canary { // a\n    step /* b */ 10% for 5m // c\n    rollback when m /* d */ > 1% for /* e */ 2m\n"
      "    rollback when alarm(/* f */ \"x\")\n    /* g */ }\n}\n",
      "app a { l = [\n  \"x\", // a\n  /* b */\n] n = 2 }\n",
      "app a { c = f(\"x\"  // a\n) }\n",
      "app a { x = 1 /* a\n  b */ /* c */ y = 2 }\n",
      "app a { x = 1 /* a\n  b */ // c\n  y = 2 }\n",
      "promote a /* x */ -> b // y\nimport /* z */ \"p\" // w\n",
      "service api extends /* a */ web {\n  memory = 512 /* b */ MiB\n  in prod /* c */ { replicas = 2 }\n}\n",
      "rollout r /* a */ = /* b */ canary /* c */ { step 1% for 1m }\n// d\n/* e */",
      "app a { x = [[1, // a\n 2], f(3, // b\n k = canary { step 1% for 1m })] }\n",
      "app a {\n  x = [canary {\n    step 1% for 1m\n  }, 2]\n}\n",
      "app a {\n\n\n  // a\n\n\n  x = 1\n\n\n  // b\n\n\n}\n\n\n// c\n",
  };
  for (const char* in : inputs) {
    INFO(in);
    formatChecked(in);
  }
}

TEST_CASE("formatting is linear", "[format]") {
  std::string text = "// big\n";
  for (int i = 0; i < 1000; ++i) {
    text += "service s" + std::to_string(i) + " extends web {  // service " + std::to_string(i) + "\n";
    text += "  image = ecr(\"s/" + std::to_string(i) + "\")\n  cpu = 0.25vcpu\n  memory = 512 MiB\n";
    text += "  env { A = \"1\"  B = \"2\" }\n  in prod {\n    replicas = 2 // two\n    autoscale { min = 2  max = 4 }\n  }\n}\n\n";
  }
  SourceManager sm;
  ast::File tree = parseOk(sm, text);
  auto start = std::chrono::steady_clock::now();
  std::string out = format::formatFile(sm.file(tree.file), tree);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(std::count(text.begin(), text.end(), '\n') > 10000);
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() < 1000);
  CHECK(reformat(out) == out);
}
