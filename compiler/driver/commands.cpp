#include "driver/commands.h"
#include "driver/common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "diagnostics/render.h"
#include "format/formatter.h"
#include "model/model_json.h"
#include "sema/checker.h"
#include "sema/loader.h"
#include "support/text.h"
#include "syntax/parser.h"

namespace gops::driver {

namespace fs = std::filesystem;

int runCheck(const GlobalOptions& g, const CheckOptions& o) {
  diag::DiagnosticEngine diags;
  sema::Program& prog = *keepUntilExit(sema::loadProgram(o.paths, loadOptions(g), diags));
  if (!prog.ioErrors.empty()) return ioFailure(prog.ioErrors);
  keepUntilExit(sema::analyze(prog, diags));
  diags.sort();
  if (o.format == "json") {
    std::cout << diag::renderJson(diags.diagnostics(), prog.sources);
  } else if (o.format == "sarif") {
    std::error_code ec;
    std::cout << diag::renderSarif(diags.diagnostics(), prog.sources, fs::current_path(ec).string(), GOPS_VERSION);
  } else {
    printHuman(g, diags, prog.sources);
  }
  return diags.hasErrors() ? 1 : 0;
}

int runModel(const GlobalOptions& g, const ModelOptions& o) {
  int status = 0;
  auto c = loadChecked(g, o.path, status);
  if (!c) return status;
  const model::Environment* env = c->analysis.model.environment(o.env);
  if (!env) return unknownEnvironment(c->analysis.model, o.env);
  std::cout << (o.format == "json" ? model::environmentJson(c->analysis.model, *env) : model::environmentText(c->analysis.model, *env));
  return 0;
}

namespace {

void collectGopsFiles(const fs::path& dir, std::vector<std::string>& out) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (it->is_directory(ec) && (name == ".git" || name == "node_modules" || startsWith(name, "build"))) {
      it.disable_recursion_pending();
      continue;
    }
    if (p.extension() == ".gops" && it->is_regular_file(ec)) out.push_back(p.string());
  }
}

}  // namespace

int runFmt(const GlobalOptions& g, const FmtOptions& o) {
  std::vector<std::string> files;
  bool useStdin = false;
  std::vector<std::string> io;
  for (const auto& p : o.paths) {
    std::error_code ec;
    if (p == "-") useStdin = true;
    else if (fs::is_directory(p, ec)) collectGopsFiles(p, files);
    else if (fs::exists(p, ec)) files.push_back(p);
    else io.push_back(fmt::format("`{}`: no such file or directory", p));
  }
  if (!io.empty()) return ioFailure(io);
  std::sort(files.begin(), files.end());

  SourceManager sm;
  diag::DiagnosticEngine diags;
  int status = 0;
  auto formatOne = [&](const std::string& path, std::string text, bool toStdout) {
    FileId id = sm.add(path, std::move(text));
    const SourceFile& f = sm.file(id);
    std::size_t before = diags.errorCount();
    ast::File tree = syntax::parseFile(f, diags);
    if (diags.errorCount() != before) {
      status = std::max(status, 1);
      return;
    }
    std::string out = format::formatFile(f, tree);
    if (toStdout) {
      std::cout << out;
      return;
    }
    if (out == f.text()) return;
    if (o.check) {
      std::cout << path << "\n";
      status = std::max(status, 1);
      return;
    }
    std::ofstream w(path, std::ios::binary | std::ios::trunc);
    w << out;
    if (!w) {
      std::cerr << fmt::format("gops: error: `{}`: cannot write the file\n", path);
      status = 2;
      return;
    }
    std::cerr << "formatted " << path << "\n";
  };
  if (useStdin) {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    formatOne("<stdin>", ss.str(), true);
  }
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::cerr << fmt::format("gops: error: `{}`: cannot read the file\n", path);
      status = 2;
      continue;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    formatOne(path, ss.str(), false);
  }
  diags.sort();
  if (!diags.diagnostics().empty()) printHuman(g, diags, sm);
  return status;
}

}  // namespace gops::driver
