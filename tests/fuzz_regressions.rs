//! The fuzz corpus of the front end in the normal test suite (fuzz/README.md): every committed seed and
//! every input that once made the front-end fuzz target fail (`fuzz/regressions/check/`)
//! goes through the same pipeline as the target, with the target's assertions. The dataset readers'
//! corpora run in disc-data's own tests (`datasets/src/fuzz_tests.rs`).

use std::path::{Path, PathBuf};

use disc_compiler::diagnostic::{JsonDiagnostic, RenderOptions, render};
use disc_compiler::{NoFiles, Source, compile};

fn fuzz_inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

/// What `fuzz/fuzz_targets/check.rs` does with one input.
fn check_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = disc_grammar::parse_file(text);
    let compiled = compile(
        Source {
            name: "fuzz.dis".to_string(),
            text: text.to_string(),
        },
        &NoFiles,
    );
    let has_error = compiled.diagnostics.iter().any(|d| d.is_error());
    assert_eq!(has_error, compiled.plan.is_none(), "a plan iff no error");
    for d in &compiled.diagnostics {
        let source = compiled
            .sources
            .get(d.source.0 as usize)
            .expect("diagnostics point at a known source");
        assert!(d.span.start <= d.span.end && d.span.end <= source.text.len());
        let _ = JsonDiagnostic::new(d, &compiled.sources);
    }
    let _ = render(
        &compiled.diagnostics,
        &compiled.sources,
        RenderOptions::PLAIN,
    );
}

#[test]
fn front_end_fuzz_seeds_and_regressions_pass_the_target() {
    let seeds = fuzz_inputs("seeds", "check");
    assert!(!seeds.is_empty(), "fuzz/seeds/check is missing");
    for path in seeds.iter().chain(&fuzz_inputs("regressions", "check")) {
        let data = std::fs::read(path).expect("readable input");
        check_target(&data);
    }
}
