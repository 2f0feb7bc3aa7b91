#include "driver/common.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "diagnostics/render.h"
#include "support/text.h"

namespace gops::driver {

namespace fs = std::filesystem;

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
#if GOPS_WITH_MIMALLOC
  // ANTLR's tokens and parse trees are freed as soon as each file's AST is built:
  // mimalloc frees a node in a few instructions and the checker reuses the memory,
  // 13% less peak memory for `gops check` of 10,000 services (docs/performance.md).
  o.residue = nullptr;
#else
  // With glibc's malloc they are kept until the process exits, like the program and
  // model (keepUntilExit): freeing a million small nodes one by one costs glibc a
  // malloc_consolidate pass over all of them, a quarter of `gops check` of 10,000
  // services. Deliberately never deleted.
  static auto* residue = new syntax::ParseResidue;
  o.residue = residue;
#endif
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

int unknownEnvironment(const model::AppModel& app, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& e : app.environments) names.push_back(e.name);
  std::cerr << fmt::format("gops: error: no environment named `{}`", name);
  if (auto m = closestMatch(name, names)) std::cerr << fmt::format("; did you mean `{}`?", *m);
  std::cerr << "\n";
  if (!names.empty()) std::cerr << fmt::format("  the environments are {}\n", joinQuoted(names, " and "));
  return 2;
}


Checked* loadChecked(const GlobalOptions& g, const std::string& path, int& status) {
  diag::DiagnosticEngine diags;
  auto* c = keepUntilExit(Checked{});
  c->program = sema::loadProgram({path}, loadOptions(g), diags);
  if (!c->program.ioErrors.empty()) {
    status = ioFailure(c->program.ioErrors);
    return nullptr;
  }
  c->analysis = sema::analyze(c->program, diags);
  diags.sort();
  if (!diags.diagnostics().empty()) printHuman(g, diags, c->program.sources);
  if (diags.hasErrors()) {
    status = 1;
    return nullptr;
  }
  return c;
}

}  // namespace gops::driver
