//! Benchmark of `disc lsp` (issue 12): how long after an edit the diagnostics of
//! `experiments/dlib_unsupervised_study.dis` (12,600 jobs) reach the editor.
//!
//! Run with `cargo bench --bench lsp` (release profile). Three figures, each the median (and the
//! slowest) of 31 edits after one warm-up:
//! - `analysis`: the pure part, `ide::Analysis::new` on the edited text, in-process;
//! - `lsp edit → diagnostics`: a real `disc lsp` process; the time from writing a `didChange` to
//!   reading the `publishDiagnostics` it causes (JSON-RPC and pipes included);
//! - `disc check process`: what an editor without a server would do per edit, side by side.
//!
//! The edits alternate between a valid text and one with an unknown name (an E0101), so both paths
//! are measured. The target is 10 ms from edit to diagnostics; the ratio to it is printed. Exits
//! with 1 if the server answers wrongly (no diagnostics, or not the expected ones).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use disc_compiler::Source;
use disc_compiler::ide::Analysis;

// The allocator of the `disc` binary, so that the in-process figure measures what the server runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 31;
const TARGET: Duration = Duration::from_millis(10);

fn summary(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let max = times.last().copied().unwrap_or_default();
    (median, max)
}

fn row(what: &str, (median, max): (Duration, Duration)) {
    println!(
        "{what:<34} {:>10.2} {:>10.2} {:>9.2}×",
        median.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        median.as_secs_f64() / TARGET.as_secs_f64()
    );
}

fn frame(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

fn read_message(reader: &mut impl BufRead) -> Option<serde_json::Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("experiments/dlib_unsupervised_study.dis");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("cannot read {}", path.display());
        return ExitCode::from(1);
    };
    // The misspelling a user makes while typing: an unknown dataset in the base `data` field, which
    // the sweep replaces in every job (and which is checked as written all the same).
    let broken = text.replace("data = dsprites_full()", "data = dsprites_fulll()");
    let edits: Vec<&str> = (0..=RUNS)
        .map(|i| {
            if i % 2 == 0 {
                broken.as_str()
            } else {
                text.as_str()
            }
        })
        .collect();
    println!(
        "{:<34} {:>10} {:>10} {:>10}",
        "dlib_unsupervised_study.dis", "median ms", "max ms", "÷ 10 ms"
    );

    // The pure analysis.
    let mut times = Vec::new();
    for (i, edit) in edits.iter().enumerate() {
        let start = Instant::now();
        let analysis = std::hint::black_box(Analysis::new(
            Source {
                name: path.display().to_string(),
                text: (*edit).to_string(),
            },
            &disc_compiler::NoFiles,
        ));
        let elapsed = start.elapsed();
        let broken_edit = i % 2 == 0;
        if analysis.diagnostics().iter().any(|d| d.code == "E0101") != broken_edit {
            eprintln!("analysis: {:?}", analysis.diagnostics());
            return ExitCode::from(1);
        }
        if i > 0 {
            times.push(elapsed);
        }
    }
    row("analysis (in-process)", summary(times));

    // The server, end to end.
    let Ok(mut child) = Command::new(env!("CARGO_BIN_EXE_disc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        eprintln!("cannot start disc lsp");
        return ExitCode::from(1);
    };
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return ExitCode::from(1);
    };
    let mut reader = BufReader::new(stdout);
    let uri = format!("file://{}", path.display());
    let mut send = |value: serde_json::Value| {
        stdin
            .write_all(frame(&value.to_string()).as_bytes())
            .and_then(|()| stdin.flush())
            .is_ok()
    };
    send(
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": null, "capabilities": {}}}),
    );
    if read_message(&mut reader).is_none() {
        eprintln!("disc lsp did not answer initialize");
        return ExitCode::from(1);
    }
    send(serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "disc", "version": 0, "text": text}}}),
    );
    let _ = read_message(&mut reader);
    let mut times = Vec::new();
    for (i, edit) in edits.iter().enumerate() {
        let start = Instant::now();
        send(
            serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": i + 1},
            "contentChanges": [{"text": edit}]}}),
        );
        let Some(message) = read_message(&mut reader) else {
            eprintln!("disc lsp stopped answering");
            return ExitCode::from(1);
        };
        let elapsed = start.elapsed();
        let codes: Vec<&str> = message["params"]["diagnostics"]
            .as_array()
            .map(|all| all.iter().filter_map(|d| d["code"].as_str()).collect())
            .unwrap_or_default();
        if codes.contains(&"E0101") != (i % 2 == 0) || (i % 2 == 1 && !codes.is_empty()) {
            eprintln!("unexpected answer: {message}");
            return ExitCode::from(1);
        }
        if i > 0 {
            times.push(elapsed);
        }
    }
    row("lsp edit → diagnostics", summary(times));
    send(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    let _ = read_message(&mut reader);
    send(serde_json::json!({"jsonrpc": "2.0", "method": "exit"}));
    let _ = child.wait();

    // A fresh `disc check` per edit, for comparison.
    let mut times = Vec::new();
    for i in 0..=RUNS / 3 {
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_disc"))
            .args(["check", "--color", "never"])
            .arg(&path)
            .stderr(Stdio::null())
            .status();
        let elapsed = start.elapsed();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("disc check failed on the study");
            return ExitCode::from(1);
        }
        if i > 0 {
            times.push(elapsed);
        }
    }
    row("disc check process (per edit)", summary(times));
    ExitCode::SUCCESS
}
