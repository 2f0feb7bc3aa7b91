// Drives `gops lsp` with vscode-jsonrpc and vscode-languageserver-protocol: opens the
// shop example with an introduced error and checks the diagnostic, a hover, a
// completion, a rename edit and formatting. Usage: node e2e.js GOPS SHOP_DIR
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const assert = require("assert");
const rpc = require("vscode-jsonrpc/node");
const lsp = require("vscode-languageserver-protocol");

const [gops, shopDir] = process.argv.slice(2);
const file = path.join(shopDir, "shop.gops");
const uri = "file://" + file;
const original = fs.readFileSync(file, "utf8");
// The introduced error: `memory = 1` in api, a number where a size is expected.
const broken = original.replace("memory   = 1 GiB", "memory   = 1");
assert.notStrictEqual(broken, original);

const lines = broken.split("\n");
const pos = (needle, after = 0, delta = 0) => {
  for (let i = after; i < lines.length; i++) {
    const c = lines[i].indexOf(needle);
    if (c >= 0) return { line: i, character: c + delta };
  }
  throw new Error("not found: " + needle);
};

const server = spawn(gops, ["lsp", "--debounce-ms", "50"], { stdio: ["pipe", "pipe", "inherit"] });
const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(server.stdout), new rpc.StreamMessageWriter(server.stdin));
const diagnostics = [];
let onDiagnostics = null;
conn.onNotification(lsp.PublishDiagnosticsNotification.type, (p) => {
  diagnostics.push(p);
  if (onDiagnostics) onDiagnostics(p);
});
conn.listen();

const waitDiagnostics = (pred) =>
  new Promise((resolve, reject) => {
    const found = diagnostics.find(pred);
    if (found) return resolve(found);
    const timer = setTimeout(() => reject(new Error("no matching diagnostics within 10 s")), 10000);
    onDiagnostics = (p) => {
      if (pred(p)) {
        clearTimeout(timer);
        onDiagnostics = null;
        resolve(p);
      }
    };
  });

(async () => {
  const init = await conn.sendRequest(lsp.InitializeRequest.type, { processId: process.pid, rootUri: "file://" + shopDir, capabilities: {} });
  assert.ok(init.capabilities.hoverProvider, "hover capability");
  await conn.sendNotification(lsp.InitializedNotification.type, {});
  await conn.sendNotification(lsp.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "gops", version: 1, text: broken },
  });

  // The diagnostic.
  const published = await waitDiagnostics((p) => p.uri === uri && p.diagnostics.length > 0);
  const d = published.diagnostics.find((x) => x.code === "E0202");
  assert.ok(d, "an E0202 diagnostic: " + JSON.stringify(published.diagnostics));
  assert.match(d.message, /`memory` expects a size/);
  assert.deepStrictEqual(d.range.start, pos("memory   = 1", 0, 11));
  assert.match(d.codeDescription.href, /diagnostics\/E0202\.md$/);
  console.log("ok diagnostic:", d.message.split("\n")[0]);

  // A hover on `replicas` of api shows its value in every environment.
  const api = pos("service api").line;
  const hover = await conn.sendRequest(lsp.HoverRequest.type, { textDocument: { uri }, position: pos("replicas = 2", api, 2) });
  assert.match(hover.contents.value, /replicas: dev 2 · staging 2 · prod 6/);
  console.log("ok hover:", hover.contents.value.split("\n").pop());

  // Completion after `expose   = ` offers the exposures.
  const exposeAt = pos("expose   = ", api, "expose   = ".length);
  await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: exposeAt, end: { line: exposeAt.line, character: lines[exposeAt.line].length } }, text: "" }],
  });
  const completion = await conn.sendRequest(lsp.CompletionRequest.type, { textDocument: { uri }, position: exposeAt });
  const labels = completion.items.map((i) => i.label);
  for (const want of ["internal", "public", "none"]) assert.ok(labels.includes(want), `completion offers ${want}: ${labels}`);
  console.log("ok completion:", labels.join(", "));
  // Put the line back.
  await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 3 },
    contentChanges: [{ range: { start: exposeAt, end: exposeAt }, text: lines[exposeAt.line].slice(exposeAt.character) }],
  });

  // Renaming the template `web` edits its declaration and both `extends web`.
  const rename = await conn.sendRequest(lsp.RenameRequest.type, { textDocument: { uri }, position: pos("template web", 0, 9), newName: "web_service" });
  const edits = rename.changes[uri];
  assert.strictEqual(edits.length, 3, JSON.stringify(rename));
  assert.ok(edits.every((e) => e.newText === "web_service"));
  console.log("ok rename:", edits.map((e) => `${e.range.start.line + 1}:${e.range.start.character + 1}`).join(" "));

  // Formatting: a badly spaced line comes back canonical.
  const messy = broken.replace("  port   = 8080", "port=8080");
  await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 4 }, contentChanges: [{ text: messy }] });
  const formatting = await conn.sendRequest(lsp.DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  assert.strictEqual(formatting.length, 1);
  assert.strictEqual(formatting[0].newText, broken);
  console.log("ok formatting");

  // Fixing the error clears the diagnostic.
  diagnostics.length = 0;
  await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 5 }, contentChanges: [{ text: original }] });
  await waitDiagnostics((p) => p.uri === uri && p.diagnostics.length === 0);
  console.log("ok cleared");

  await conn.sendRequest(lsp.ShutdownRequest.type);
  await conn.sendNotification(lsp.ExitNotification.type);
  const code = await new Promise((resolve) => server.on("exit", resolve));
  assert.strictEqual(code, 0);
  console.log("lsp-e2e (node): all passed");
  process.exit(0);
})().catch((e) => {
  console.error("lsp-e2e (node): FAILED:", e.message || e);
  server.kill();
  process.exit(1);
});
