//! The fuzz corpora of the front end and the CLI in the normal test suite (fuzz/README.md): every
//! committed seed and every input that once made a fuzz target fail (`fuzz/regressions/<target>/`)
//! goes through the same code as the target, with the target's assertions: `.dis` text (`check`),
//! and `.npy` files (`npy`) and `.npz` archives (`npz`) through `disc eval` itself. The RON plans' corpus runs in the
//! compiler's tests (`compiler/src/fuzz_tests.rs`), the dataset readers' in disc-data's
//! (`datasets/src/fuzz_tests.rs`), the runtime's in `runtime/tests/fuzz_inputs.rs`.

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

/// Runs `disc eval` on `codes` and `factors` (arrays `images` and `labels` when they are `.npz`
/// archives, the names the `npz` target reads) with one metric, and checks it did not panic (exit
/// status 101); returns its standard error.
fn disc_eval_without_panic(input: &Path, codes: &Path, factors: &Path) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_disc"))
        .arg("eval")
        .arg("--codes")
        .arg(codes)
        .args(["--codes-key", "images"])
        .arg("--factors")
        .arg(factors)
        .args(["--factors-key", "labels"])
        .arg("--metric")
        .arg("mig")
        .output()
        .expect("disc runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_ne!(
        output.status.code(),
        Some(101),
        "disc eval panicked on {}: {stderr}",
        input.display(),
    );
    stderr
}

/// Every committed seed and regression of the `target` corpus (`npy` or `npz`) as the codes and as
/// the factors of `disc eval`: refused or not, never a panic (exit status 101). The input named
/// `overflow` claims shape (2³², 2³², 4), which npyz would multiply out unchecked; as the codes it
/// must be refused with `message`.
fn disc_eval_never_panics_on(target: &str, overflow: &str, message: &str) {
    let inputs: Vec<PathBuf> = fuzz_inputs("seeds", target)
        .into_iter()
        .chain(fuzz_inputs("regressions", target))
        .collect();
    assert!(!inputs.is_empty(), "fuzz/seeds/{target} is missing");
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/npy");
    let labels = seeds.join("labels_i64.npy");
    let codes = seeds.join("codes_f32.npy");
    for input in &inputs {
        let as_codes = disc_eval_without_panic(input, input, &labels);
        disc_eval_without_panic(input, &codes, input);
        if input.ends_with(overflow) {
            assert!(as_codes.contains(message), "{as_codes}");
        }
    }
}

/// `--codes x.npz` reads its member through npyz, as the `npz` target's reader does; the overflow
/// is refused with the file and the array named.
#[test]
fn disc_eval_never_panics_on_npz_fuzz_inputs() {
    disc_eval_never_panics_on(
        "npz",
        "shape_count_overflows.npz",
        "shape_count_overflows.npz`: the codes array `images` has a shape whose element count does not fit in 64 bits",
    );
}

#[test]
fn disc_eval_never_panics_on_npy_fuzz_inputs() {
    disc_eval_never_panics_on(
        "npy",
        "shape_count_overflows.npy",
        "shape_count_overflows.npy`: the codes array has a shape whose element count does not fit in 64 bits",
    );
}
