//! Times `compile` on one `.dis` file: `cargo run --release -p disc-compiler --example compile_timing -- FILE`.
//! A quick figure for development; the benchmark proper lives in `bench/`.

use std::time::Instant;

use disc_compiler::{Compiled, Loader, Source, check, compile};

struct Fs;

impl Loader for Fs {
    fn load(&self, importer: &str, path: &str) -> Result<String, String> {
        let dir = std::path::Path::new(importer)
            .parent()
            .unwrap_or(std::path::Path::new(""));
        std::fs::read_to_string(dir.join(path)).map_err(|e| e.to_string())
    }
}

fn main() -> Result<(), String> {
    time(check, "check")?;
    // `--check` times only the check (for profiling it alone).
    if std::env::args().any(|a| a == "--check") {
        return Ok(());
    }
    time(compile, "compile")
}

fn time(run: fn(Source, &dyn Loader) -> Compiled, what: &str) -> Result<(), String> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: compile_timing FILE")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let runs = 20;
    let mut best = f64::INFINITY;
    let mut jobs = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let compiled = run(
            Source {
                name: path.clone(),
                text: text.clone(),
            },
            &Fs,
        );
        best = best.min(start.elapsed().as_secs_f64());
        jobs = compiled.plan.map_or(0, |p| p.jobs.len());
        if !compiled.diagnostics.is_empty() {
            return Err(format!("{} diagnostics", compiled.diagnostics.len()));
        }
    }
    println!(
        "{what} {path}: {jobs} jobs, best of {runs}: {:.1} ms",
        best * 1e3
    );
    Ok(())
}
