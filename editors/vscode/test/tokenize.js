// Runs the TextMate grammar with VS Code's own engine (vscode-textmate + Oniguruma) over every .dis
// file of the repository and fails if any non-blank text is left without a scope. The Rust test
// tests/editors.rs checks the same grammar against the lexer without Node; this is the check with
// the real engine: `npm install && npm test` in editors/vscode.
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const repo = path.join(__dirname, "..", "..", "..");
const grammarPath = path.join(__dirname, "..", "syntaxes", "disc.tmLanguage.json");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
const onigLib = oniguruma.loadWASM(wasm).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (text) => new oniguruma.OnigString(text),
}));
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
});

function disFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return disFiles(full);
    return entry.name.endsWith(".dis") ? [full] : [];
  });
}

registry.loadGrammar("source.disc").then((grammar) => {
  const files = ["tests/fixtures", "stdlib", "experiments"].flatMap((d) => disFiles(path.join(repo, d)));
  let unscoped = 0;
  let tokens = 0;
  for (const file of files) {
    let rule = vsctm.INITIAL;
    fs.readFileSync(file, "utf8").split("\n").forEach((line, index) => {
      const result = grammar.tokenizeLine(line, rule);
      rule = result.ruleStack;
      for (const token of result.tokens) {
        tokens += 1;
        const text = line.slice(token.startIndex, token.endIndex);
        if (token.scopes.length === 1 && text.trim() !== "") {
          console.error(`${path.relative(repo, file)}:${index + 1}: no scope for ${JSON.stringify(text)}`);
          unscoped += 1;
        }
      }
    });
  }
  console.log(`${files.length} files, ${tokens} tokens, ${unscoped} without a scope`);
  process.exit(unscoped === 0 && files.length > 0 ? 0 : 1);
});
