#pragma once
/// Consumers of diagnostics: the terminal (rustc-like), JSON lines and SARIF 2.1.0.
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "support/source.h"

namespace gops::diag {

struct HumanOptions {
  bool color = false;
};

/// One diagnostic as a person reads it:
///   error[E0202]: mismatched types ...
///    --> file:line:col
///     |
///  12 |   memory = 512
///     |            ^^^ expected a size
///     = help: write `512 MiB`
std::string renderHuman(const Diagnostic& d, const SourceManager& sm, const HumanOptions& opts);

/// "2 errors and 1 warning" style summary; empty when there is nothing.
std::string summaryLine(std::size_t errors, std::size_t warnings);

/// A JSON array of diagnostic objects (code, severity, message, file, range, labels,
/// help, notes, fixes). Lines and columns are 1-based; columns count code points.
std::string renderJson(const std::vector<Diagnostic>& ds, const SourceManager& sm);

/// A SARIF 2.1.0 log as GitHub code scanning reads it. File URIs are relative to
/// `baseDir` when the file lies under it.
std::string renderSarif(const std::vector<Diagnostic>& ds, const SourceManager& sm, std::string_view baseDir,
                        std::string_view toolVersion);

/// The long explanation of a code (markdown), or empty if none is embedded.
std::string_view explanation(Code code);

}  // namespace gops::diag
