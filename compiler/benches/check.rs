//! Benchmark of the front end (issue 2): `check` of every `experiments/*.dis` file and the full plan
//! expansion (`compile`) of `experiments/dlib_unsupervised_study.dis` (12,600 jobs).
//!
//! Run with `cargo bench -p disc-compiler --bench check` (release profile). Each figure is the median
//! wall time of several runs after one warm-up run, measured in-process, so it excludes process start
//! and file reading but includes parsing the embedded standard library. Targets: check < 20 ms per
//! file, expansion < 0.5 s. Exits with status 1 if a file fails to compile, so a broken experiment
//! cannot produce a meaningless figure; missing a target is reported, not fatal (machines differ).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use disc_compiler::diagnostic::error_count;
use disc_compiler::{Compiled, Loader, Source};

/// Imports relative to the experiments directory, as `disc check` resolves them.
struct DirLoader(PathBuf);

impl Loader for DirLoader {
    fn load(&self, _importer: &str, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// Median wall time of `runs` calls of `f` after one warm-up call, and the warm-up's result.
fn median(runs: usize, mut f: impl FnMut() -> Compiled) -> (Duration, Compiled) {
    let warm = f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let compiled = std::hint::black_box(f());
            let elapsed = start.elapsed();
            drop(compiled);
            elapsed
        })
        .collect();
    times.sort();
    (
        times.get(times.len() / 2).copied().unwrap_or_default(),
        warm,
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; nothing to parse.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "dis"))
            .collect(),
        Err(err) => {
            eprintln!("cannot list {}: {err}", dir.display());
            return ExitCode::from(1);
        }
    };
    files.sort();
    let loader = DirLoader(dir.clone());
    let mut ok = true;
    println!(
        "{:<40} {:>12} {:>8}",
        "check (median of 31 runs)", "time (ms)", "target"
    );
    let mut study: Option<(String, String)> = None;
    for path in &files {
        let name = format!(
            "experiments/{}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("cannot read {name}");
            return ExitCode::from(1);
        };
        let (time, compiled) = median(31, || {
            disc_compiler::check(
                Source {
                    name: name.clone(),
                    text: text.clone(),
                },
                &loader,
            )
        });
        if error_count(&compiled.diagnostics) > 0 {
            eprintln!("{name} has errors; fix them before benchmarking");
            ok = false;
        }
        let verdict = if time < Duration::from_millis(20) {
            "< 20 ms"
        } else {
            "MISSED"
        };
        println!("{name:<40} {:>12.3} {verdict:>8}", ms(time));
        if name.ends_with("dlib_unsupervised_study.dis") {
            study = Some((name, text));
        }
    }
    match study {
        Some((name, text)) => {
            let (time, compiled) = median(7, || {
                disc_compiler::compile(
                    Source {
                        name: name.clone(),
                        text: text.clone(),
                    },
                    &loader,
                )
            });
            let jobs = compiled.plan.as_ref().map_or(0, |p| p.jobs.len());
            let verdict = if time < Duration::from_millis(500) {
                "< 0.5 s"
            } else {
                "MISSED"
            };
            println!(
                "{:<40} {:>12.3} {verdict:>8}",
                format!("plan expansion, {jobs} jobs (median of 7)"),
                ms(time)
            );
            if let Some(plan) = &compiled.plan {
                // The share of the expansion spent hashing (each job is hashed once in `compile`).
                let start = Instant::now();
                let hashes: Vec<String> = plan
                    .jobs
                    .iter()
                    .map(disc_compiler::hash::job_hash)
                    .collect();
                let hashing = start.elapsed();
                std::hint::black_box(hashes);
                println!(
                    "{:<40} {:>12.3}",
                    format!("  of which hashing {jobs} jobs (1 run)"),
                    ms(hashing)
                );
            }
            if jobs != 12_600 {
                eprintln!("{name} expanded to {jobs} jobs, not 12600");
                ok = false;
            }
        }
        None => {
            eprintln!("experiments/dlib_unsupervised_study.dis is missing");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
