//! `disc lsp`: scripted editor sessions over JSON-RPC on the real binary's stdio.
//!
//! Each test starts `disc lsp`, speaks the protocol as an editor does (initialize, open, change,
//! hover, definition, completion, formatting, shutdown) and checks the answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// An editor session with a running `disc lsp`.
struct Session {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Session {
    fn start() -> Session {
        let mut child = Command::new(env!("CARGO_BIN_EXE_disc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("disc lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (send, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                reader.read_exact(&mut body).expect("a whole message");
                let value: Value = serde_json::from_slice(&body).expect("JSON");
                if send.send(value).is_err() {
                    return;
                }
            }
        });
        let mut session = Session {
            child,
            stdin,
            messages,
            next_id: 1,
        };
        let init = session.request(
            "initialize",
            json!({ "processId": null, "rootUri": uri(repo()), "capabilities": {} }),
        );
        let caps = &init["capabilities"];
        assert_eq!(caps["hoverProvider"], json!(true), "{init}");
        assert_eq!(caps["definitionProvider"], json!(true));
        assert_eq!(caps["documentFormattingProvider"], json!(true));
        assert_eq!(init["serverInfo"]["name"], json!("disc"));
        session.notify("initialized", json!({}));
        session
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next message; a hang guard, not a speed check.
    fn receive(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(120))
            .expect("disc lsp answers")
    }

    /// Sends a request and returns its result (notifications in between are dropped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
        }
    }

    /// The next `publishDiagnostics` for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.receive();
            if message["method"] == json!("textDocument/publishDiagnostics")
                && message["params"]["uri"] == json!(uri)
            {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "disc", "version": 1, "text": text } }),
        );
        self.diagnostics(uri)
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
        self.diagnostics(uri)
    }

    fn at(&mut self, method: &str, uri: &str, (line, character): (usize, usize)) -> Value {
        self.request(
            method,
            json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } }),
        )
    }

    fn finish(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("disc lsp exits");
        assert!(status.success(), "{status}");
    }
}

/// The 0-based line and UTF-16 column of the first `needle` in `text`, plus `shift` characters.
fn position(text: &str, needle: &str, shift: usize) -> (usize, usize) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not found"));
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .encode_utf16()
        .count();
    (line, column + shift)
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("a completion list")
        .iter()
        .map(|i| i["label"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn an_editor_session_on_an_experiment() {
    let path = repo().join("experiments/beta_vae_dsprites.dis");
    let text = std::fs::read_to_string(&path).expect("experiment");
    let doc = uri(&path);
    let mut s = Session::start();

    assert_eq!(s.open(&doc, &text), Vec::<Value>::new());

    // An edit with a mistake: the same diagnostic as `disc check`, with its code and range.
    let typo = text.replace("data = color_dsprites()", "data = colour_dsprites()");
    // The misspelt name also leaves its import unused (W0002); the error is the one to check.
    let diagnostics = errors(s.change(&doc, 2, &typo));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], json!("E0101"));
    assert_eq!(d["severity"], json!(1));
    assert_eq!(d["source"], json!("disc"));
    let (line, column) = position(&typo, "colour_dsprites", 0);
    assert_eq!(
        d["range"]["start"],
        json!({ "line": line, "character": column })
    );
    assert_eq!(
        d["range"]["end"],
        json!({ "line": line, "character": column + "colour_dsprites".len() })
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap_or("")
            .contains("color_dsprites"),
        "the did-you-mean help is in the message: {d}"
    );
    assert_eq!(s.change(&doc, 3, &text), Vec::<Value>::new());

    // Hover: the stdlib signature with its default and its doc comment.
    let hover = s.at(
        "textDocument/hover",
        &doc,
        position(&text, "conv_encoder(latents", 3),
    );
    let value = hover["contents"]["value"].as_str().expect("markdown hover");
    assert!(
        value.contains("def conv_encoder(latents: int = 10): architecture"),
        "{value}"
    );
    assert!(value.contains("309 204 parameters"), "doc comment: {value}");
    assert_eq!(hover["contents"]["kind"], json!("markdown"));

    // Go to definition into the stdlib, as a readable file.
    let location = s.at(
        "textDocument/definition",
        &doc,
        position(&text, "study_v1(", 2),
    );
    let target = location["uri"].as_str().expect("a location");
    assert!(target.ends_with("/metrics.dis"), "{location}");
    let stdlib_text =
        std::fs::read_to_string(target.trim_start_matches("file://")).expect("stdlib file");
    let start = &location["range"]["start"];
    let line = stdlib_text
        .lines()
        .nth(start["line"].as_u64().expect("line") as usize)
        .expect("line in file");
    assert!(
        line[start["character"].as_u64().expect("col") as usize..].starts_with("study_v1"),
        "{line}"
    );

    // Completion inside `training(`: its parameters first, then names in scope.
    let items = s.at(
        "textDocument/completion",
        &doc,
        position(&text, "training(", "training(".len()),
    );
    let names = labels(&items);
    for expected in [
        "steps",
        "batch",
        "optimizer",
        "data",
        "conv_encoder",
        "dense",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} not in {names:?}"
        );
    }
    // A primitive's parameter: its signature and default from the builtins table.
    let steps = items
        .as_array()
        .and_then(|all| all.iter().find(|i| i["label"] == json!("steps")))
        .expect("`steps` is offered");
    assert_eq!(steps["detail"], json!("steps: int = 300000"), "{steps}");
    assert_eq!(
        steps["documentation"],
        json!("optional, default `300000`"),
        "{steps}"
    );
    let import = items
        .as_array()
        .and_then(|all| all.iter().find(|i| i["label"] == json!("shapes3d")))
        .expect("stdlib datasets are offered");
    assert_eq!(
        import["additionalTextEdits"][0]["newText"],
        json!("use std.data.shapes3d\n")
    );

    // Formatting through `disc fmt`: the unformatted text comes back formatted.
    let messy = text.replace("beta = 4", "beta=4");
    s.change(&doc, 4, &messy);
    let edits = s.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": doc }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits[0]["newText"], json!(text), "{edits}");
    s.finish();
}

#[test]
fn every_experiment_and_the_stdlib_open_without_errors() {
    let mut s = Session::start();
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["experiments", "stdlib"] {
        for entry in std::fs::read_dir(repo().join(dir)).expect("dir") {
            files.push(entry.expect("entry").path());
        }
    }
    files.sort();
    assert!(files.len() >= 9);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("file");
        // A library opened on its own warns that its definitions are unused (W0001), as
        // `disc check` does; what must not appear is an error.
        assert_eq!(
            errors(s.open(&uri(&path), &text)),
            Vec::<Value>::new(),
            "{}",
            path.display()
        );
    }
    s.finish();
}

#[test]
fn diagnostics_of_an_imported_file_and_unsaved_imports() {
    let dir = std::env::temp_dir().join(format!("disc-lsp-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let main = dir.join("main.dis");
    let lib = dir.join("lib.dis");
    std::fs::write(&lib, "def width(): int =\n").expect("write");
    let main_text = "use \"lib.dis\"\n\nexperiment e {\n  seed = width()\n}\n";
    let mut s = Session::start();
    s.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&main), "languageId": "disc", "version": 1, "text": main_text } }),
    );
    // The syntax error inside the imported file is published to that file.
    let mut by_uri = std::collections::BTreeMap::new();
    while by_uri.len() < 2 {
        let message = s.receive();
        if message["method"] == json!("textDocument/publishDiagnostics") {
            by_uri.insert(
                message["params"]["uri"].as_str().unwrap_or("").to_string(),
                message["params"]["diagnostics"].clone(),
            );
        }
    }
    let codes = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|d| d["code"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(codes(&by_uri[&uri(&lib)]), ["E0001"], "{by_uri:?}");
    assert!(
        codes(&by_uri[&uri(&main)]).contains(&"E0105".to_string()),
        "{by_uri:?}"
    );
    // Opening the import with an unsaved fix: the open text wins over the file on disk.
    assert_eq!(
        errors(s.open(&uri(&lib), "def width(): int = 2\n")),
        Vec::<Value>::new()
    );
    let after = codes(&Value::Array(s.change(&uri(&main), 2, main_text)));
    assert!(!after.contains(&"E0105".to_string()), "{after:?}");
    s.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The diagnostics of severity error (1) among `diagnostics`.
fn errors(diagnostics: Vec<Value>) -> Vec<Value> {
    diagnostics
        .into_iter()
        .filter(|d| d["severity"] == json!(1))
        .collect()
}
