// `gops lsp`: the language server on standard input and output.
#include "driver/commands.h"
#include "driver/common.h"
#include "lsp/server.h"

namespace gops::driver {

int runLsp(const GlobalOptions& g, const LspOptions& o) {
  lsp::ServerOptions opts;
  opts.stdlibDir = loadOptions(g).stdlibDir;
  opts.debounceMs = o.debounceMs;
  return lsp::serve(o.inputStyle == "delimited" ? lsp::InputStyle::Delimited : lsp::InputStyle::Standard, opts);
}

}  // namespace gops::driver
