// libFuzzer target for the parse + check path: any bytes as a spec file must give
// diagnostics, never a crash, a hang or unbounded memory. Built by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "diagnostics/diagnostic.h"
#include "format/formatter.h"
#include "sema/checker.h"
#include "sema/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gops::sema::LoadOptions opts;
  opts.stdlibDir = GOPS_SOURCE_STDLIB;
  const std::string path = "/nonexistent-gops-fuzz/input.gops";
  opts.overlays[path] = std::string(reinterpret_cast<const char*>(data), size);
  gops::diag::DiagnosticEngine diags;
  gops::sema::Program prog = gops::sema::loadProgram({path}, opts, diags);
  gops::sema::analyze(prog, diags);
  // Files that parse are formatted too; the result must parse again.
  if (!prog.files.empty() && prog.files[0].syntaxOk) {
    std::string out = gops::format::formatFile(prog.sources.file(0), prog.files[0]);
    gops::SourceManager sm;
    gops::diag::DiagnosticEngine again;
    gops::syntax::parseFile(sm.file(sm.add("formatted.gops", out)), again);
    if (again.hasErrors()) __builtin_trap();
  }
  return 0;
}
