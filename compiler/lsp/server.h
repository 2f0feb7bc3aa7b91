#pragma once
/// The protocol binding: one method per LSP message, converting between JSON and
/// the engine's features. Single-threaded; diagnostics are debounced by waiting
/// for the input to go quiet (or for the next request) before checking.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lsp/drafts.h"
#include "lsp/engine.h"
#include "lsp/transport.h"

namespace gops::lsp {

struct ServerOptions {
  std::string stdlibDir;
  /// Quiet time after an edit before diagnostics are computed and published.
  int debounceMs = 50;
  /// Prefix of `codeDescription.href`: `<docsUrl>/diagnostics/E0202.md`.
  std::string docsUrl;
};

class Server {
 public:
  Server(Transport& transport, ServerOptions options);
  /// Serves until `exit` or the end of input. Returns the process exit code:
  /// 0 after shutdown then exit, 1 otherwise (as LSP specifies).
  int run();

 private:
  using json = nlohmann::json;

  void handle(const std::string& body);
  void dispatch(const std::string& method, const json& params, const json* id);
  void reply(const json& id, json result);
  void replyError(const json& id, int code, const std::string& message);
  void notify(const std::string& method, json params);
  void send(const json& message);

  // Lifecycle and documents.
  json onInitialize(const json& params);
  void onDidOpen(const json& params);
  void onDidChange(const json& params);
  void onDidClose(const json& params);
  // Features.
  json onFormatting(const json& params);
  json onDocumentSymbol(const json& params);
  json onHover(const json& params);
  json onDefinition(const json& params);
  json onReferences(const json& params);
  json onCompletion(const json& params);
  json onPrepareRename(const json& params);
  json onRename(const json& params);
  json onFoldingRange(const json& params);
  json onSemanticTokens(const json& params);
  json onSemanticTokensDelta(const json& params);
  json onSemanticTokensRange(const json& params);
  json onCodeAction(const json& params);
  json onInlayHint(const json& params);

  /// Checks every app with pending edits and publishes its diagnostics.
  void flushDiagnostics();
  void publish(const std::string& root);

  /// The canonical path of a document URI in `params.textDocument.uri`; throws
  /// InvalidParams when it is not a file URI.
  std::string pathOf(const json& params);
  std::string uriOf(const std::string& path) const;
  std::string appRoot(const std::string& path) const;

  Transport& transport_;
  ServerOptions options_;
  Engine engine_;
  DraftStore drafts_;
  bool initialized_ = false;
  bool shutdown_ = false;
  bool exit_ = false;
  std::set<std::string> pendingRoots_;
  std::map<std::string, std::set<std::string>> published_;  ///< app root -> URIs with diagnostics
  /// The last semantic tokens sent per document, for delta requests: result id and data.
  std::map<std::string, std::pair<std::string, std::vector<std::uint32_t>>> lastTokens_;
  std::uint64_t tokenResults_ = 0;
  std::map<std::string, std::string> uris_;                 ///< canonical path -> URI as the client sent it
};

/// Serves LSP on standard input and output; returns the exit code.
int serve(InputStyle style, ServerOptions options);

}  // namespace gops::lsp
