// Starts `disc lsp` for .dis files: diagnostics, hover, go to definition, completion, formatting.
// Syntax highlighting works without this (and without `npm install`); the language server needs
// the `vscode-languageclient` dependency installed and `disc` on the PATH (or `disc.path` set).
const vscode = require("vscode");

let client;

function activate(context) {
  let languageClient;
  try {
    languageClient = require("vscode-languageclient/node");
  } catch (err) {
    vscode.window.showWarningMessage("disc: run `npm install` in the extension folder to enable `disc lsp`");
    return;
  }
  const command = vscode.workspace.getConfiguration("disc").get("path", "disc");
  const server = { command, args: ["lsp"] };
  client = new languageClient.LanguageClient(
    "disc",
    "disc",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "disc" }] }
  );
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
