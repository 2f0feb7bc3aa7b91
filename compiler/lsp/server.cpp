#include "lsp/server.h"

#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "diagnostics/diagnostic.h"
#include "lsp/features.h"
#include "lsp/positions.h"

namespace gops::lsp {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;
constexpr int kRequestFailed = -32803;

struct RpcError : std::runtime_error {
  RpcError(int c, const std::string& m) : std::runtime_error(m), code(c) {}
  int code;
};

/// Converts byte ranges of any file of a snapshot, caching line indexes.
class Ranges {
 public:
  explicit Ranges(const Snapshot& s) : s_(s) {}
  const LineIndex& index(FileId f) {
    auto it = indexes_.find(f);
    if (it == indexes_.end()) it = indexes_.emplace(f, LineIndex(s_.program.sources.file(f).text())).first;
    return it->second;
  }
  json position(FileId f, std::uint32_t offset) {
    Position p = index(f).positionOf(offset);
    return {{"line", p.line}, {"character", p.character}};
  }
  json range(SourceRange r) { return {{"start", position(r.file, r.begin)}, {"end", position(r.file, r.end)}}; }
  std::uint32_t offset(FileId f, const json& pos) {
    Position p{clampIndex(pos.at("line")), clampIndex(pos.at("character"))};
    return index(f).offsetOf(p);
  }
  static std::uint32_t clampIndex(const json& v) {
    if (!v.is_number()) throw RpcError(kInvalidParams, "a position needs numeric `line` and `character`");
    if (v.is_number_unsigned()) return static_cast<std::uint32_t>(std::min<std::uint64_t>(v.get<std::uint64_t>(), 0xffffffffu));
    if (v.is_number_integer()) return v.get<std::int64_t>() < 0 ? 0u : static_cast<std::uint32_t>(std::min<std::int64_t>(v.get<std::int64_t>(), 0xffffffff));
    double d = v.get<double>();
    return d < 0 ? 0u : d > 4e9 ? 0xffffffffu : static_cast<std::uint32_t>(d);
  }

 private:
  const Snapshot& s_;
  std::map<FileId, LineIndex> indexes_;
};

const json& member(const json& o, const char* key) {
  static const json kNull;
  if (!o.is_object()) return kNull;
  auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

std::string stringParam(const json& o, const char* key) {
  const json& v = member(o, key);
  if (!v.is_string()) throw RpcError(kInvalidParams, std::string("missing string `") + key + "`");
  return v.get<std::string>();
}

int symbolKind(OutlineKind k) {
  // LSP SymbolKind numbers.
  switch (k) {
    case OutlineKind::App: return 2;          // Module
    case OutlineKind::Environment: return 3;  // Namespace
    case OutlineKind::Service: return 5;      // Class
    case OutlineKind::Job: return 12;         // Function
    case OutlineKind::Template: return 11;    // Interface
    case OutlineKind::Rollout: return 10;     // Enum
    case OutlineKind::Promotion: return 24;   // Event
    case OutlineKind::Import: return 2;       // Module
    case OutlineKind::Attribute: return 7;    // Property
    case OutlineKind::Block: return 23;       // Struct
    case OutlineKind::Override: return 3;     // Namespace
  }
  return 7;
}

int completionKind(CompletionKind k) {
  switch (k) {
    case CompletionKind::Keyword: return 14;
    case CompletionKind::Property: return 10;
    case CompletionKind::Block: return 22;     // Struct
    case CompletionKind::Value: return 20;     // EnumMember
    case CompletionKind::Function: return 3;
    case CompletionKind::Reference: return 18; // Reference
    case CompletionKind::Module: return 9;
    case CompletionKind::Unit: return 11;      // Unit
    case CompletionKind::Metric: return 6;     // Variable
  }
  return 1;
}

}  // namespace

Server::Server(Transport& transport, ServerOptions options)
    : transport_(transport), options_(std::move(options)), engine_(options_.stdlibDir) {}

int Server::run() {
  for (;;) {
    if (!pendingRoots_.empty() && !transport_.waitReadable(options_.debounceMs)) {
      flushDiagnostics();
      continue;
    }
    auto body = transport_.read();
    if (!body) break;
    handle(*body);
    if (exit_) return shutdown_ ? 0 : 1;
  }
  flushDiagnostics();
  return shutdown_ ? 0 : 1;
}

void Server::send(const json& message) {
  bool pretty = transport_.style() == InputStyle::Delimited;
  transport_.write(message.dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace));
}

void Server::reply(const json& id, json result) { send({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}); }

void Server::replyError(const json& id, int code, const std::string& message) {
  send({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
}

void Server::notify(const std::string& method, json params) {
  send({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
}

void Server::handle(const std::string& body) {
  json msg = json::parse(body, nullptr, false);
  if (msg.is_discarded()) {
    replyError(nullptr, kParseError, "the message is not valid JSON");
    return;
  }
  if (!msg.is_object()) {
    replyError(nullptr, kInvalidRequest, "a JSON-RPC message is an object");
    return;
  }
  const json& id = member(msg, "id");
  bool isRequest = msg.contains("id") && (id.is_number() || id.is_string());
  const json& method = member(msg, "method");
  if (!method.is_string()) {
    // A response to a request of ours (we send none), or garbage.
    if (!msg.contains("result") && !msg.contains("error")) replyError(isRequest ? id : json(nullptr), kInvalidRequest, "a request needs a `method`");
    return;
  }
  try {
    dispatch(method.get<std::string>(), member(msg, "params"), isRequest ? &id : nullptr);
  } catch (const RpcError& e) {
    if (isRequest) replyError(id, e.code, e.what());
  } catch (const json::exception& e) {
    if (isRequest) replyError(id, kInvalidParams, std::string("invalid params: ") + e.what());
  } catch (const std::exception& e) {
    if (isRequest) replyError(id, kInternalError, e.what());
  }
}

void Server::dispatch(const std::string& m, const json& params, const json* id) {
  if (m == "exit") {
    exit_ = true;
    return;
  }
  if (m == "initialize") {
    if (!id) return;
    initialized_ = true;
    reply(*id, onInitialize(params));
    return;
  }
  if (!initialized_) {
    if (id) replyError(*id, kServerNotInitialized, "the server is not initialized");
    return;
  }
  if (shutdown_ && id) {
    replyError(*id, kInvalidRequest, "the server is shutting down");
    return;
  }
  // Notifications.
  if (!id) {
    if (m == "textDocument/didOpen") onDidOpen(params);
    else if (m == "textDocument/didChange") onDidChange(params);
    else if (m == "textDocument/didClose") onDidClose(params);
    // Anything else (initialized, didSave, $/cancelRequest, $/setTrace, ...) needs nothing.
    return;
  }
  // Requests see the diagnostics of every edit before them.
  flushDiagnostics();
  using Handler = json (Server::*)(const json&);
  static const std::map<std::string, Handler> kHandlers = {
      {"textDocument/formatting", &Server::onFormatting},
      {"textDocument/documentSymbol", &Server::onDocumentSymbol},
      {"textDocument/hover", &Server::onHover},
      {"textDocument/definition", &Server::onDefinition},
      {"textDocument/references", &Server::onReferences},
      {"textDocument/completion", &Server::onCompletion},
      {"textDocument/prepareRename", &Server::onPrepareRename},
      {"textDocument/rename", &Server::onRename},
      {"textDocument/foldingRange", &Server::onFoldingRange},
      {"textDocument/semanticTokens/full", &Server::onSemanticTokens},
      {"textDocument/semanticTokens/full/delta", &Server::onSemanticTokensDelta},
      {"textDocument/semanticTokens/range", &Server::onSemanticTokensRange},
      {"textDocument/codeAction", &Server::onCodeAction},
      {"textDocument/inlayHint", &Server::onInlayHint},
  };
  if (m == "shutdown") {
    shutdown_ = true;
    reply(*id, nullptr);
    return;
  }
  auto it = kHandlers.find(m);
  if (it == kHandlers.end()) {
    replyError(*id, kMethodNotFound, "method not found: " + m);
    return;
  }
  reply(*id, (this->*(it->second))(params));
}

json Server::onInitialize(const json&) {
  json legend = {{"tokenTypes", tokenTypeNames()}, {"tokenModifiers", {"declaration", "documentation"}}};
  return {
      {"capabilities",
       {
           {"positionEncoding", "utf-16"},
           {"textDocumentSync", {{"openClose", true}, {"change", 2}, {"save", false}}},
           {"documentFormattingProvider", true},
           {"documentSymbolProvider", true},
           {"hoverProvider", true},
           {"definitionProvider", true},
           {"referencesProvider", true},
           {"completionProvider", {{"triggerCharacters", {" ", "\"", "/", "=", "{", "."}}}},
           {"renameProvider", {{"prepareProvider", true}}},
           {"foldingRangeProvider", true},
           {"semanticTokensProvider", {{"legend", legend}, {"full", {{"delta", true}}}, {"range", true}}},
           {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
           {"inlayHintProvider", true},
       }},
      {"serverInfo", {{"name", "gops"}, {"version", GOPS_VERSION}}},
  };
}

std::string Server::pathOf(const json& params) {
  std::string uri = stringParam(member(params, "textDocument"), "uri");
  std::string path = pathFromUri(uri);
  if (path.empty()) throw RpcError(kInvalidParams, "only file: URIs are supported, not `" + uri + "`");
  std::string canonical = canonicalPath(path);
  uris_.emplace(canonical, uri);
  return canonical;
}

std::string Server::uriOf(const std::string& path) const {
  auto it = uris_.find(path);
  return it != uris_.end() ? it->second : uriFromPath(path);
}

std::string Server::appRoot(const std::string& path) const {
  fs::path p(path);
  return p.extension() == ".gops" ? p.parent_path().string() : path;
}

void Server::onDidOpen(const json& params) {
  std::string path = pathOf(params);
  const json& doc = member(params, "textDocument");
  const json& version = member(doc, "version");
  drafts_.open(path, stringParam(doc, "text"), version.is_number_integer() ? version.get<std::int64_t>() : 0);
  engine_.setText(path, drafts_.get(path)->text);
  pendingRoots_.insert(appRoot(path));
}

void Server::onDidChange(const json& params) {
  std::string path = pathOf(params);
  const json& changes = member(params, "contentChanges");
  if (!changes.is_array()) throw RpcError(kInvalidParams, "missing `contentChanges`");
  std::vector<TextChange> list;
  for (const auto& c : changes) {
    TextChange tc;
    tc.text = stringParam(c, "text");
    const json& r = member(c, "range");
    if (r.is_object()) {
      tc.range = Range{{Ranges::clampIndex(r.at("start").at("line")), Ranges::clampIndex(r.at("start").at("character"))},
                       {Ranges::clampIndex(r.at("end").at("line")), Ranges::clampIndex(r.at("end").at("character"))}};
    }
    list.push_back(std::move(tc));
  }
  const json& version = member(member(params, "textDocument"), "version");
  if (!drafts_.change(path, list, version.is_number_integer() ? version.get<std::int64_t>() : 0)) return;  // not open: ignore
  engine_.setText(path, drafts_.get(path)->text);
  pendingRoots_.insert(appRoot(path));
}

void Server::onDidClose(const json& params) {
  std::string path = pathOf(params);
  if (!drafts_.close(path)) return;  // closed twice, or never opened
  lastTokens_.erase(path);
  engine_.removeText(path);
  pendingRoots_.insert(appRoot(path));
}

void Server::flushDiagnostics() {
  auto roots = std::move(pendingRoots_);
  pendingRoots_.clear();
  for (const auto& r : roots) publish(r);
}

void Server::publish(const std::string& root) {
  // The open documents of this app; with none left, clear what was shown.
  std::string anyOpen;
  for (const auto& [path, draft] : drafts_.all()) {
    if (appRoot(path) == root) {
      anyOpen = path;
      break;
    }
  }
  std::set<std::string> now;
  std::map<std::string, json> byUri;
  if (!anyOpen.empty()) {
    auto snap = engine_.snapshot(anyOpen);
    Ranges ranges(*snap);
    for (FileId f = 0; f < snap->program.files.size(); ++f) {
      if (!snap->program.stdlib[f]) byUri[uriOf(snap->program.realPaths[f])] = json::array();
    }
    for (const auto& d : snap->diagnostics) {
      FileId f = d.primary.range.file;
      if (f == kNoFile || f >= snap->program.files.size()) continue;
      const auto& info = diag::info(d.code);
      std::string message = d.message;
      for (const auto& h : d.help) message += "\nhelp: " + h;
      for (const auto& n : d.notes) message += "\nnote: " + n;
      json item = {
          {"range", ranges.range(d.primary.range)},
          {"severity", d.severity == diag::Severity::Error ? 1 : d.severity == diag::Severity::Warning ? 2 : 3},
          {"code", std::string(info.text)},
          {"codeDescription", {{"href", options_.docsUrl + "/diagnostics/" + std::string(info.text) + ".md"}}},
          {"source", "gops"},
          {"message", message},
      };
      json related = json::array();
      for (const auto& l : d.secondary) {
        if (!l.range.valid() || l.range.file >= snap->program.files.size()) continue;
        related.push_back({{"location", {{"uri", uriOf(snap->program.realPaths[l.range.file])}, {"range", ranges.range(l.range)}}},
                           {"message", l.message.empty() ? std::string("related") : l.message}});
      }
      if (!related.empty()) item["relatedInformation"] = related;
      // A file of the standard library can be shown too if something in it is wrong.
      byUri[uriOf(snap->program.realPaths[f])].push_back(std::move(item));
    }
  }
  for (const auto& uri : published_[root]) {
    if (!byUri.count(uri)) byUri[uri] = json::array();
  }
  for (auto& [uri, list] : byUri) {
    bool had = published_[root].count(uri) > 0;
    if (!list.empty()) now.insert(uri);
    // Unchanged empty lists for files never shown are skipped, except open ones.
    bool open = false;
    for (const auto& [path, draft] : drafts_.all()) open = open || uriOf(path) == uri;
    if (list.empty() && !had && !open) continue;
    json params = {{"uri", uri}, {"diagnostics", std::move(list)}};
    for (const auto& [path, draft] : drafts_.all()) {
      if (uriOf(path) == uri) params["version"] = draft.version;
    }
    notify("textDocument/publishDiagnostics", std::move(params));
  }
  published_[root] = std::move(now);
}

// --- Features -----------------------------------------------------------------

#define GOPS_DOC(params)                                                                         \
  std::string path_ = pathOf(params);                                                            \
  auto snap_ = engine_.snapshot(path_);                                                          \
  FileId file = snap_->fileOf(path_);                                                            \
  if (file == kNoFile) throw RpcError(kRequestFailed, "the document is not loaded: " + path_);   \
  const Snapshot& snap = *snap_;                                                                 \
  Ranges ranges(snap)

json Server::onFormatting(const json& params) {
  GOPS_DOC(params);
  FormatResult r = formatDocument(snap, file);
  if (!r.text) throw RpcError(kRequestFailed, r.error);
  const std::string& old = snap.program.sources.file(file).text();
  if (*r.text == old) return json::array();
  return json::array({{{"range", ranges.range({file, 0, static_cast<std::uint32_t>(old.size())})}, {"newText", *r.text}}});
}

namespace {
json outlineJson(const std::vector<OutlineSymbol>& syms, std::function<json(SourceRange)> range) {
  json out = json::array();
  for (const auto& s : syms) {
    json item = {{"name", s.name}, {"kind", symbolKind(s.kind)}, {"range", range(s.range)}, {"selectionRange", range(s.selection)}};
    if (!s.detail.empty()) item["detail"] = s.detail;
    if (!s.children.empty()) item["children"] = outlineJson(s.children, range);
    out.push_back(std::move(item));
  }
  return out;
}
}  // namespace

json Server::onDocumentSymbol(const json& params) {
  GOPS_DOC(params);
  return outlineJson(outline(snap.program.files[file]), [&](SourceRange r) { return ranges.range(r); });
}

json Server::onHover(const json& params) {
  GOPS_DOC(params);
  auto h = hover(snap, file, ranges.offset(file, params.at("position")));
  if (!h) return nullptr;
  return {{"contents", {{"kind", "markdown"}, {"value", h->markdown}}}, {"range", ranges.range(h->range)}};
}

json Server::onDefinition(const json& params) {
  GOPS_DOC(params);
  auto d = definition(snap, file, ranges.offset(file, params.at("position")));
  if (!d) return nullptr;
  return {{"uri", uriOf(snap.program.realPaths[d->file])}, {"range", ranges.range(*d)}};
}

json Server::onReferences(const json& params) {
  GOPS_DOC(params);
  bool withDecl = member(member(params, "context"), "includeDeclaration") == json(true);
  json out = json::array();
  for (const auto& r : references(snap, file, ranges.offset(file, params.at("position")), withDecl)) {
    out.push_back({{"uri", uriOf(snap.program.realPaths[r.file])}, {"range", ranges.range(r)}});
  }
  return out;
}

json Server::onCompletion(const json& params) {
  GOPS_DOC(params);
  json items = json::array();
  for (const auto& c : complete(snap, file, ranges.offset(file, params.at("position")))) {
    json item = {{"label", c.label}, {"kind", completionKind(c.kind)}};
    if (!c.detail.empty()) item["detail"] = c.detail;
    if (!c.documentation.empty()) item["documentation"] = {{"kind", "markdown"}, {"value", c.documentation}};
    if (c.replace) {
      item["textEdit"] = {{"range", ranges.range(*c.replace)}, {"newText", c.insertText.empty() ? c.label : c.insertText}};
      item["filterText"] = c.label;
    } else if (!c.insertText.empty()) {
      item["insertText"] = c.insertText;
    }
    items.push_back(std::move(item));
  }
  return {{"isIncomplete", false}, {"items", items}};
}

json Server::onPrepareRename(const json& params) {
  GOPS_DOC(params);
  PrepareRename p = prepareRename(snap, file, ranges.offset(file, params.at("position")));
  if (!p.range) throw RpcError(kRequestFailed, p.error);
  return {{"range", ranges.range(*p.range)}, {"placeholder", std::string(snap.program.sources.textOf(*p.range))}};
}

json Server::onRename(const json& params) {
  GOPS_DOC(params);
  RenameResult r = rename(snap, file, ranges.offset(file, params.at("position")), stringParam(params, "newName"));
  if (!r.error.empty()) throw RpcError(kRequestFailed, r.error);
  json changes = json::object();
  for (const auto& e : r.edits) {
    std::string uri = uriOf(snap.program.realPaths[e.range.file]);
    if (!changes.contains(uri)) changes[uri] = json::array();
    changes[uri].push_back({{"range", ranges.range(e.range)}, {"newText", e.replacement}});
  }
  return {{"changes", changes}};
}

json Server::onFoldingRange(const json& params) {
  GOPS_DOC(params);
  json out = json::array();
  for (const auto& f : foldingRanges(snap.program.files[file], snap.program.sources.file(file))) {
    json s = ranges.position(file, f.range.begin), e = ranges.position(file, f.range.end);
    json item = {{"startLine", s["line"]}, {"endLine", e["line"]}};
    if (f.comment) item["kind"] = "comment";
    out.push_back(std::move(item));
  }
  return out;
}

namespace {
/// The LSP encoding of semantic tokens in [begin, end): five numbers per token, each
/// position relative to the token before.
std::vector<std::uint32_t> encodeTokens(const Snapshot& snap, FileId file, const LineIndex& index, std::uint32_t begin,
                                        std::uint32_t end) {
  std::vector<std::uint32_t> data;
  std::uint32_t prevLine = 0, prevChar = 0;
  for (const auto& t : semanticTokens(snap, file)) {
    if (t.range.end <= begin || t.range.begin >= end) continue;
    Position b = index.positionOf(t.range.begin);
    Position e = index.positionOf(t.range.end);
    if (e.line != b.line || e.character <= b.character) continue;
    std::uint32_t dLine = b.line - prevLine;
    std::uint32_t dChar = dLine == 0 ? b.character - prevChar : b.character;
    unsigned mods = (t.declaration ? 1u : 0u) | (t.documentation ? 2u : 0u);
    data.insert(data.end(), {dLine, dChar, e.character - b.character, static_cast<std::uint32_t>(t.type), mods});
    prevLine = b.line;
    prevChar = b.character;
  }
  return data;
}
}  // namespace

json Server::onSemanticTokens(const json& params) {
  GOPS_DOC(params);
  auto data = encodeTokens(snap, file, ranges.index(file), 0, 0xffffffffu);
  std::string id = std::to_string(++tokenResults_);
  json out = {{"resultId", id}, {"data", data}};
  lastTokens_[path_] = {id, std::move(data)};
  return out;
}

json Server::onSemanticTokensDelta(const json& params) {
  GOPS_DOC(params);
  auto data = encodeTokens(snap, file, ranges.index(file), 0, 0xffffffffu);
  std::string id = std::to_string(++tokenResults_);
  const json& previous = member(params, "previousResultId");
  auto it = lastTokens_.find(path_);
  json out;
  if (it != lastTokens_.end() && previous.is_string() && previous.get<std::string>() == it->second.first) {
    // One edit: what lies between the common prefix and the common suffix.
    const auto& old = it->second.second;
    std::size_t prefix = 0;
    while (prefix < old.size() && prefix < data.size() && old[prefix] == data[prefix]) ++prefix;
    std::size_t suffix = 0;
    while (suffix < old.size() - prefix && suffix < data.size() - prefix &&
           old[old.size() - 1 - suffix] == data[data.size() - 1 - suffix]) {
      ++suffix;
    }
    json edits = json::array();
    if (prefix + suffix != old.size() || prefix + suffix != data.size()) {
      edits.push_back({{"start", prefix},
                       {"deleteCount", old.size() - prefix - suffix},
                       {"data", std::vector<std::uint32_t>(data.begin() + static_cast<std::ptrdiff_t>(prefix),
                                                           data.end() - static_cast<std::ptrdiff_t>(suffix))}});
    }
    out = {{"resultId", id}, {"edits", edits}};
  } else {
    out = {{"resultId", id}, {"data", data}};  // unknown previous result: the full tokens
  }
  lastTokens_[path_] = {id, std::move(data)};
  return out;
}

json Server::onSemanticTokensRange(const json& params) {
  GOPS_DOC(params);
  const json& r = params.at("range");
  std::uint32_t b = ranges.offset(file, r.at("start")), e = ranges.offset(file, r.at("end"));
  return {{"data", encodeTokens(snap, file, ranges.index(file), b, e)}};
}

json Server::onCodeAction(const json& params) {
  GOPS_DOC(params);
  const json& r = params.at("range");
  std::uint32_t b = ranges.offset(file, r.at("start")), e = ranges.offset(file, r.at("end"));
  json out = json::array();
  for (const auto& q : quickFixes(snap, file, b, e)) {
    const auto& d = snap.diagnostics[q.diagnostic];
    json changes = json::object();
    for (const auto& edit : q.fix.edits) {
      std::string uri = uriOf(snap.program.realPaths[edit.range.file]);
      if (!changes.contains(uri)) changes[uri] = json::array();
      changes[uri].push_back({{"range", ranges.range(edit.range)}, {"newText", edit.replacement}});
    }
    out.push_back({{"title", q.fix.title},
                   {"kind", "quickfix"},
                   {"diagnostics", json::array({{{"range", ranges.range(d.primary.range)},
                                                 {"code", std::string(diag::info(d.code).text)},
                                                 {"message", d.message}}})},
                   {"isPreferred", d.fixes.size() == 1},
                   {"edit", {{"changes", changes}}}});
  }
  return out;
}

json Server::onInlayHint(const json& params) {
  GOPS_DOC(params);
  const json& r = params.at("range");
  std::uint32_t b = ranges.offset(file, r.at("start")), e = ranges.offset(file, r.at("end"));
  json out = json::array();
  for (const auto& h : inlayHints(snap, file, b, e)) {
    out.push_back({{"position", ranges.position(file, h.offset)}, {"label", h.label}, {"paddingLeft", true}});
  }
  return out;
}

#undef GOPS_DOC

int serve(InputStyle style, ServerOptions options) {
  // A client that goes away must not kill the server mid-write; writes just fail.
  std::signal(SIGPIPE, SIG_IGN);
  Transport transport(0, 1, style);
  if (options.docsUrl.empty()) options.docsUrl = GOPS_DOCS_URL;
  Server server(transport, std::move(options));
  return server.run();
}

}  // namespace gops::lsp
