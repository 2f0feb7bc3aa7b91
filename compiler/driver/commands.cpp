#include "driver/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "backends/terraform/terraform.h"
#include "diagnostics/render.h"
#include "format/formatter.h"
#include "model/model_json.h"
#include "sema/checker.h"
#include "sema/loader.h"
#include "support/text.h"
#include "syntax/parser.h"

namespace gops::driver {

namespace fs = std::filesystem;

namespace {

bool useColor(const GlobalOptions& g) {
  if (g.color == ColorMode::Always) return true;
  if (g.color == ColorMode::Never) return false;
  const char* noColor = std::getenv("NO_COLOR");
  if (noColor && *noColor) return false;
  return isatty(STDERR_FILENO) != 0;
}

std::string executablePath(const GlobalOptions& g) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? g.executable : self.string();
}

sema::LoadOptions loadOptions(const GlobalOptions& g) {
  sema::LoadOptions o;
  o.stdlibDir = sema::findStdlib(executablePath(g), GOPS_SOURCE_STDLIB);
  return o;
}

void printHuman(const GlobalOptions& g, const diag::DiagnosticEngine& diags, const SourceManager& sm) {
  diag::HumanOptions opts{useColor(g)};
  for (const auto& d : diags.diagnostics()) std::cerr << diag::renderHuman(d, sm, opts) << "\n";
  std::string summary = diag::summaryLine(diags.errorCount(), diags.warningCount());
  if (!summary.empty()) {
    if (diags.hasErrors()) {
      std::cerr << (opts.color ? "\x1b[1;31merror\x1b[0m\x1b[1m" : "error") << ": found " << summary << (opts.color ? "\x1b[0m" : "") << "\n";
    } else {
      std::cerr << (opts.color ? "\x1b[1;33mwarning\x1b[0m\x1b[1m" : "warning") << ": found " << summary << (opts.color ? "\x1b[0m" : "") << "\n";
    }
  }
}

int ioFailure(const std::vector<std::string>& errors) {
  for (const auto& e : errors) std::cerr << "gops: error: " << e << "\n";
  return 2;
}

/// Usage error for an `--env` the spec does not declare; returns the exit code.
int unknownEnvironment(const model::AppModel& app, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& e : app.environments) names.push_back(e.name);
  std::cerr << fmt::format("gops: error: no environment named `{}`", name);
  if (auto m = closestMatch(name, names)) std::cerr << fmt::format("; did you mean `{}`?", *m);
  std::cerr << "\n";
  if (!names.empty()) std::cerr << fmt::format("  the environments are {}\n", joinQuoted(names, " and "));
  return 2;
}

}  // namespace

int runCheck(const GlobalOptions& g, const CheckOptions& o) {
  diag::DiagnosticEngine diags;
  sema::Program prog = sema::loadProgram(o.paths, loadOptions(g), diags);
  if (!prog.ioErrors.empty()) return ioFailure(prog.ioErrors);
  sema::analyze(prog, diags);
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
  diag::DiagnosticEngine diags;
  sema::Program prog = sema::loadProgram({o.path}, loadOptions(g), diags);
  if (!prog.ioErrors.empty()) return ioFailure(prog.ioErrors);
  sema::Analysis a = sema::analyze(prog, diags);
  diags.sort();
  if (diags.hasErrors()) {
    printHuman(g, diags, prog.sources);
    return 1;
  }
  if (diags.warningCount()) printHuman(g, diags, prog.sources);
  const model::Environment* env = a.model.environment(o.env);
  if (!env) return unknownEnvironment(a.model, o.env);
  std::cout << (o.format == "json" ? model::environmentJson(a.model, *env) : model::environmentText(a.model, *env));
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

namespace {

/// How generated files name the spec: relative to the current directory when it
/// lies below it, else to the enclosing git checkout, so the files do not change
/// with where the checkout lives.
std::string specLabel(const std::string& file) {
  std::error_code ec;
  fs::path p = fs::absolute(file, ec).lexically_normal();
  if (ec) return file;
  auto below = [&](const fs::path& dir) -> std::optional<std::string> {
    fs::path rel = p.lexically_relative(dir);
    if (rel.empty() || *rel.begin() == "..") return std::nullopt;
    return rel.generic_string();
  };
  if (auto r = below(fs::current_path(ec))) return *r;
  for (fs::path dir = p.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    if (fs::exists(dir / ".git", ec)) return *below(dir);
  }
  return p.generic_string();
}

/// Writes `contents` to `path` unless it already holds exactly that (so
/// timestamps only move on change); through a temporary file and a rename.
bool writeIfChanged(const fs::path& path, const std::string& contents, std::string& error) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    if (in && old.str() == contents) return true;
  }
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    error = fmt::format("`{}`: cannot create the directory: {}", path.parent_path().string(), ec.message());
    return false;
  }
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream w(tmp, std::ios::binary | std::ios::trunc);
    w << contents;
    if (!w.flush()) {
      error = fmt::format("`{}`: cannot write the file", tmp.string());
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    error = fmt::format("`{}`: cannot write the file: {}", path.string(), ec.message());
    return false;
  }
  return true;
}

}  // namespace

int runBuild(const GlobalOptions& g, const BuildOptions& o) {
  diag::DiagnosticEngine diags;
  sema::Program prog = sema::loadProgram({o.path}, loadOptions(g), diags);
  if (!prog.ioErrors.empty()) return ioFailure(prog.ioErrors);
  sema::Analysis a = sema::analyze(prog, diags);
  diags.sort();
  if (diags.hasErrors()) {
    printHuman(g, diags, prog.sources);
    return 1;
  }
  if (diags.warningCount()) printHuman(g, diags, prog.sources);
  for (const auto& e : o.envs) {
    if (!a.model.environment(e)) return unknownEnvironment(a.model, e);
  }

  std::vector<backend::terraform::File> files;
  bool all = o.emit.empty();
  if (all || std::find(o.emit.begin(), o.emit.end(), "terraform") != o.emit.end()) {
    backend::terraform::Options to;
    to.environments = o.envs;
    to.specLabel = specLabel(a.model.app.sourceFile);
    backend::terraform::Output tf;
    try {
      tf = backend::terraform::generate(a.model, to);
    } catch (const std::exception& e) {
      std::cerr << "gops: internal error: " << e.what() << "\n";
      return 2;
    }
    if (!tf.errors.empty()) {
      for (const auto& e : tf.errors) std::cerr << "gops: error: " << e << "\n";
      return 1;
    }
    for (auto& f : tf.files) files.push_back(std::move(f));
  }

  for (const auto& f : files) {
    std::string error;
    if (!writeIfChanged(fs::path(o.out) / f.path, f.contents, error)) return ioFailure({error});
  }
  return 0;
}

int runExplain(const GlobalOptions&, const std::string& code, bool list) {
  if (list || code.empty()) {
    for (const auto& c : diag::allCodes()) std::cout << fmt::format("{}  {}\n", c.text, c.summary);
    return code.empty() && !list ? 2 : 0;
  }
  auto c = diag::codeFromText(code);
  if (!c) {
    std::vector<std::string> codes;
    for (const auto& i : diag::allCodes()) codes.emplace_back(i.text);
    std::cerr << fmt::format("gops: error: `{}` is not a gops diagnostic code", code);
    if (auto m = closestMatch(toUpper(code), codes)) std::cerr << fmt::format("; did you mean `{}`?", *m);
    std::cerr << "\n  `gops explain --list` lists them all\n";
    return 2;
  }
  std::string_view text = diag::explanation(*c);
  if (text.empty()) {
    const auto& i = diag::info(*c);
    std::cout << fmt::format("{}: {}\n", i.text, i.summary);
    return 0;
  }
  std::cout << text;
  if (text.back() != '\n') std::cout << "\n";
  return 0;
}

}  // namespace gops::driver
