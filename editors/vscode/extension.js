// The gops extension: starts `gops lsp` (the path is the `gops.path` setting) for
// .gops files. Everything else (diagnostics, hover, completion, rename, formatting,
// outline, folding, semantic tokens, quick fixes, inlay hints) comes from the server.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

async function start() {
  const command = vscode.workspace.getConfiguration("gops").get("path") || "gops";
  client = new LanguageClient(
    "gops",
    "gops language server",
    { command, args: ["lsp"], transport: TransportKind.stdio },
    { documentSelector: [{ scheme: "file", language: "gops" }] }
  );
  await client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("gops.path") && client) {
        await client.stop();
        await start();
      }
    })
  );
  await start();
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
