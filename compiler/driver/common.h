#pragma once
/// What the subcommands share: loading and checking a spec, printing diagnostics,
/// the usage errors every command words the same way.
#include <memory>
#include <string>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "driver/commands.h"
#include "model/model.h"
#include "sema/checker.h"
#include "sema/loader.h"

namespace gops::driver {

bool useColor(const GlobalOptions& g);
std::string executablePath(const GlobalOptions& g);
sema::LoadOptions loadOptions(const GlobalOptions& g);

/// Prints every diagnostic in the human format and the summary line, on stderr.
void printHuman(const GlobalOptions& g, const diag::DiagnosticEngine& diags, const SourceManager& sm);

/// Prints I/O errors; returns exit code 2.
int ioFailure(const std::vector<std::string>& errors);

/// Usage error for an `--env` the spec does not declare; returns exit code 2.
int unknownEnvironment(const model::AppModel& app, const std::string& name);

/// A spec loaded and checked without errors.
struct Checked {
  sema::Program program;
  sema::Analysis analysis;
};

/// Keeps `value` until the process exits, never freeing it: a one-shot command uses
/// its program and model until the end, and freeing their nodes one by one (~100k at
/// a 1,000-service spec) right before exiting would be work for nothing (see main()).
template <class T>
T* keepUntilExit(T&& value) {
  return new T(std::forward<T>(value));  // deliberately never deleted
}

/// Loads and checks `path`; prints its diagnostics (warnings too). Returns null
/// and sets `status` (1 spec errors, 2 I/O errors) when the spec cannot be used.
/// The result lives until the process exits (keepUntilExit).
Checked* loadChecked(const GlobalOptions& g, const std::string& path, int& status);

}  // namespace gops::driver
