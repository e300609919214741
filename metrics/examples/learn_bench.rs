//! Timing of the `learn` classifiers at the metric suite's sizes (a benchmark, not a test).
//!
//! A dSprites-sized problem: factors with 3, 6, 40, 32 and 32 values, 10-dimensional codes that are a
//! noisy linear mix of the factors, 10,000 training and 5,000 test rows. Times, per factor and in total,
//! the fits the metrics make: DCI's gradient boosting (one per factor, factors in parallel), the
//! downstream task's `LogisticRegressionCv` at 10,000 rows, SAP's 50 one-code `LinearSvc`s and the
//! BetaVAE score's `LogisticRegression`. With an output directory argument it also writes the arrays
//! (raw little-endian f64, row-major) and the results, so `scikit-learn` can be run on the same data.
//!
//! Run: `cargo run --release -p disc-metrics --example learn_bench [-- OUT_DIR]`.
//! It only reads the clock and, if asked, writes files in OUT_DIR; nothing else.

use std::fmt::Write as _;
use std::time::Instant;

use disc_metrics::learn::{
    Classifier, Fitted, GradientBoosting, LinearSvc, LogisticRegression, LogisticRegressionCv,
};
use ndarray::{Array2, s};
use rayon::prelude::*;

/// Factor sizes of dSprites (without the constant colour factor).
const FACTOR_SIZES: [u32; 5] = [3, 6, 40, 32, 32];
const N_TRAIN: usize = 10_000;
const N_TEST: usize = 5_000;
const N_CODES: usize = 10;

/// SplitMix64: a tiny deterministic generator, enough for synthetic benchmark data.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Factors (n, 5) and codes (n, 10): code j = Σ_f mix[j][f]·(factor_f / size_f) + 0.1·noise.
fn make_data(n: usize, rng: &mut SplitMix, mix: &Array2<f64>) -> (Array2<u32>, Array2<f64>) {
    let factors = Array2::from_shape_fn((n, FACTOR_SIZES.len()), |(_, f)| {
        (rng.uniform() * f64::from(FACTOR_SIZES[f])) as u32 % FACTOR_SIZES[f]
    });
    let mut codes = Array2::zeros((n, N_CODES));
    for i in 0..n {
        for j in 0..N_CODES {
            let mut value = 0.1 * rng.normal();
            for (f, &size) in FACTOR_SIZES.iter().enumerate() {
                value += mix[[j, f]] * f64::from(factors[[i, f]]) / f64::from(size);
            }
            codes[[i, j]] = value;
        }
    }
    (factors, codes)
}

/// CPU seconds this process has used (user + system, from `/proc/self/stat`; 0 where unavailable).
/// Wall time on a shared machine says little; CPU time is what the fits cost.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Clock ticks are 100 per second on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn write_f64(path: &std::path::Path, values: impl Iterator<Item = f64>) -> std::io::Result<()> {
    let bytes: Vec<u8> = values.flat_map(f64::to_le_bytes).collect();
    std::fs::write(path, bytes)
}

fn main() -> std::io::Result<()> {
    let out_dir = std::env::args().nth(1).map(std::path::PathBuf::from);
    let mut rng = SplitMix(42);
    // Each factor drives two codes strongly and leaks weakly into the others.
    let mix = Array2::from_shape_fn((N_CODES, FACTOR_SIZES.len()), |(j, f)| {
        if j / 2 == f {
            1.0
        } else {
            0.05 * ((j * 7 + f * 3) % 5) as f64
        }
    });
    let (train_factors, train_codes) = make_data(N_TRAIN, &mut rng, &mix);
    let (test_factors, test_codes) = make_data(N_TEST, &mut rng, &mix);
    let labels = |factors: &Array2<u32>, f: usize| factors.column(f).to_vec();
    let mut report = String::new();
    let threads = rayon::current_num_threads();
    writeln!(report, "threads {threads}, train {N_TRAIN}, test {N_TEST}, codes {N_CODES}, factors {FACTOR_SIZES:?}").ok();

    // DCI: one gradient-boosting fit per factor, factors in parallel (as the metric does).
    let cpu = cpu_seconds();
    let start = Instant::now();
    let dci: Vec<(f64, f64, f64, Vec<f64>)> = (0..FACTOR_SIZES.len())
        .into_par_iter()
        .map(|f| {
            let t = Instant::now();
            let model = GradientBoosting::default()
                .fit(train_codes.view(), &labels(&train_factors, f))
                .expect("benchmark data is valid");
            let fit = t.elapsed().as_secs_f64();
            let train = model.score(train_codes.view(), &labels(&train_factors, f));
            let test = model.score(test_codes.view(), &labels(&test_factors, f));
            (fit, train, test, model.feature_importances())
        })
        .collect();
    let dci_total = start.elapsed().as_secs_f64();
    for (f, (fit, train, test, importances)) in dci.iter().enumerate() {
        let top = importances
            .iter()
            .map(|v| format!("{v:.3}"))
            .collect::<Vec<_>>()
            .join(" ");
        writeln!(report, "gbt factor {f} (K={}): fit {fit:.2} s, train acc {train:.4}, test acc {test:.4}, importances {top}", FACTOR_SIZES[f]).ok();
    }
    writeln!(
        report,
        "gbt all factors (DCI fits): {dci_total:.2} s wall, {:.2} s cpu",
        cpu_seconds() - cpu
    )
    .ok();

    // Downstream task at 10,000 training rows: LogisticRegressionCV per factor, factors in parallel.
    let cpu = cpu_seconds();
    let start = Instant::now();
    let lrcv: Vec<(f64, f64, f64, f64)> = (0..FACTOR_SIZES.len())
        .into_par_iter()
        .map(|f| {
            let t = Instant::now();
            let model = LogisticRegressionCv::default()
                .fit(train_codes.view(), &labels(&train_factors, f))
                .expect("benchmark data is valid");
            let fit = t.elapsed().as_secs_f64();
            (
                fit,
                model.best_c(),
                model.score(train_codes.view(), &labels(&train_factors, f)),
                model.score(test_codes.view(), &labels(&test_factors, f)),
            )
        })
        .collect();
    let lrcv_total = start.elapsed().as_secs_f64();
    for (f, (fit, c, train, test)) in lrcv.iter().enumerate() {
        writeln!(
            report,
            "lrcv factor {f}: fit {fit:.2} s, C {c:.4e}, train acc {train:.4}, test acc {test:.4}"
        )
        .ok();
    }
    writeln!(
        report,
        "lrcv all factors: {lrcv_total:.2} s wall, {:.2} s cpu",
        cpu_seconds() - cpu
    )
    .ok();

    // SAP: one LinearSvc per (code, factor) on that code alone.
    let cpu = cpu_seconds();
    let start = Instant::now();
    let sap: Vec<f64> = (0..N_CODES * FACTOR_SIZES.len())
        .into_par_iter()
        .map(|job| {
            let (code, f) = (job / FACTOR_SIZES.len(), job % FACTOR_SIZES.len());
            let model = LinearSvc::default()
                .fit(
                    train_codes.slice(s![.., code..code + 1]),
                    &labels(&train_factors, f),
                )
                .expect("benchmark data is valid");
            model.score(
                test_codes.slice(s![.., code..code + 1]),
                &labels(&test_factors, f),
            )
        })
        .collect();
    let sap_total = start.elapsed().as_secs_f64();
    writeln!(report, "svc 50 fits: {sap_total:.2} s wall, {:.2} s cpu; test acc code0/factor0 {:.4}, code4/factor2 {:.4}", cpu_seconds() - cpu, sap[0], sap[4 * 5 + 2]).ok();

    // BetaVAE-score-like: one multinomial logistic regression, 5 classes.
    let start = Instant::now();
    let y = labels(&train_factors, 1);
    let model = LogisticRegression::default()
        .fit(train_codes.view(), &y)
        .expect("benchmark data is valid");
    writeln!(
        report,
        "lr K=6 fit: {:.3} s, {} iterations, train acc {:.4}",
        start.elapsed().as_secs_f64(),
        model.iterations(),
        model.score(train_codes.view(), &y)
    )
    .ok();
    print!("{report}");

    if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir)?;
        write_f64(&dir.join("train_codes.f64"), train_codes.iter().copied())?;
        write_f64(&dir.join("test_codes.f64"), test_codes.iter().copied())?;
        write_f64(
            &dir.join("train_factors.f64"),
            train_factors.iter().map(|&v| f64::from(v)),
        )?;
        write_f64(
            &dir.join("test_factors.f64"),
            test_factors.iter().map(|&v| f64::from(v)),
        )?;
        write_f64(&dir.join("svc_acc.f64"), sap.iter().copied())?;
        std::fs::write(dir.join("rust_report.txt"), report)?;
    }
    Ok(())
}
