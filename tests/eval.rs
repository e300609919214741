//! `disc eval` end to end: small `.npy` / `.npz` files written here, the binary run on them, its JSON,
//! table, warnings and exit codes checked (0 success, 1 bad input, 2 usage).

use std::path::Path;
use std::process::{Command, Output};

use npyz::WriterBuilder;

mod support;

fn write_npy<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
) {
    let file = std::fs::File::create(path).expect("create npy");
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(std::io::BufWriter::new(file))
        .begin_nd()
        .expect("npy header");
    writer.extend(data.iter().copied()).expect("npy data");
    writer.finish().expect("npy finish");
}

/// The complete grid of factor sizes (4, 5, 6) in row-major order, and 5-d float32 codes that are noisy
/// linear read-outs of it (deterministic pseudo-noise, so the test needs no RNG).
fn grid_arrays() -> (Vec<f32>, Vec<i64>, usize) {
    let sizes = [4i64, 5, 6];
    let mut factors = Vec::new();
    let mut codes = Vec::new();
    let mut row = 0usize;
    for a in 0..sizes[0] {
        for b in 0..sizes[1] {
            for c in 0..sizes[2] {
                factors.extend([a, b, c]);
                let noise =
                    |k: usize| (((row * 7919 + k * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.3;
                codes.extend([
                    a as f32 + noise(0),
                    b as f32 + noise(1),
                    c as f32 + noise(2),
                    0.5 * a as f32 - b as f32 + noise(3),
                    1.0, // a collapsed dimension
                ]);
                row += 1;
            }
        }
    }
    (codes, factors, row)
}

fn disc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_disc"))
        .arg("eval")
        .args(args)
        .output()
        .expect("run disc")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_metric_on_a_grid_with_reference_keys() {
    let scratch = support::scratch("eval", "grid");
    let dir = scratch.path();
    let (codes, factors, n) = grid_arrays();
    let codes_path = dir.join("codes.npy");
    let factors_path = dir.join("factors.npy");
    write_npy(&codes_path, &[n as u64, 5], &codes);
    write_npy(&factors_path, &[n as u64, 3], &factors);
    let output = disc(&[
        "--codes",
        codes_path.to_str().expect("utf-8 path"),
        "--factors",
        factors_path.to_str().expect("utf-8 path"),
        "--factor-sizes",
        "4,5,6",
        "--num-train",
        "80",
        "--num-test",
        "40",
        "--seed",
        "3",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    let expected: [(&str, &[&str]); 10] = [
        ("beta_vae_sklearn", &["train_accuracy", "eval_accuracy"]),
        (
            "factor_vae_metric",
            &["train_accuracy", "eval_accuracy", "num_active_dims"],
        ),
        ("mig", &["discrete_mig"]),
        ("sap_score", &["SAP_score"]),
        (
            "modularity_explicitness",
            &[
                "modularity_score",
                "explicitness_score_train",
                "explicitness_score_test",
            ],
        ),
        (
            "dci",
            &[
                "disentanglement",
                "completeness",
                "informativeness_train",
                "informativeness_test",
            ],
        ),
        ("irs", &["IRS", "num_active_dims"]),
        (
            "unsupervised",
            &[
                "gaussian_total_correlation",
                "gaussian_wasserstein_correlation",
                "gaussian_wasserstein_correlation_norm",
                "mutual_info_score",
            ],
        ),
        (
            "downstream_task_logistic_regression",
            &[
                "10:mean_test_accuracy",
                "80:min_train_accuracy",
                "80:test_accuracy_factor_2",
            ],
        ),
        (
            "downstream_task_boosted_trees",
            &["10:mean_train_accuracy", "80:mean_test_accuracy"],
        ),
    ];
    for (metric, keys) in expected {
        for key in keys {
            let value = json[metric][key].as_f64();
            assert!(
                value.is_some_and(f64::is_finite),
                "{metric}.{key} = {:?}",
                json[metric][key]
            );
        }
    }
    // The collapsed fifth code is counted out of FactorVAE's active dimensions (threshold 0.05).
    assert_eq!(
        json["factor_vae_metric"]["num_active_dims"].as_f64(),
        Some(4.0)
    );
    assert_eq!(json["parameters"]["seed"].as_u64(), Some(3));
    assert_eq!(json["parameters"]["num_points"].as_u64(), Some(120));
    assert_eq!(
        json["parameters"]["metrics"]["dci"]["num_train"].as_u64(),
        Some(80)
    );

    // Same seed, same numbers.
    let again = disc(&[
        "--codes",
        codes_path.to_str().expect("utf-8 path"),
        "--factors",
        factors_path.to_str().expect("utf-8 path"),
        "--factor-sizes",
        "4,5,6",
        "--num-train",
        "80",
        "--num-test",
        "40",
        "--seed",
        "3",
    ]);
    assert_eq!(output.stdout, again.stdout);
}

#[test]
fn npz_input_table_output_and_clipping_warning() {
    let scratch = support::scratch("eval", "npz");
    let dir = scratch.path();
    let (codes, factors, n) = grid_arrays();
    let codes64: Vec<f64> = codes.iter().map(|&c| f64::from(c)).collect();
    let path = dir.join("arrays.npz");
    {
        let mut npz = npyz::npz::NpzWriter::create(&path).expect("create npz");
        let mut writer = npz
            .array::<f64>("codes", Default::default())
            .expect("codes entry")
            .default_dtype()
            .shape(&[n as u64, 5])
            .begin_nd()
            .expect("codes header");
        writer.extend(codes64.iter().copied()).expect("codes data");
        writer.finish().expect("codes finish");
        let mut writer = npz
            .array::<u8>("factors", Default::default())
            .expect("factors entry")
            .default_dtype()
            .shape(&[n as u64, 3])
            .begin_nd()
            .expect("factors header");
        writer
            .extend(factors.iter().map(|&f| f as u8))
            .expect("factors data");
        writer.finish().expect("factors finish");
    }
    let output = disc(&[
        "--codes",
        path.to_str().expect("utf-8 path"),
        "--metric",
        "mig",
        "--metric",
        "dci",
        "--format",
        "table",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("discrete_mig") && stdout.contains("disentanglement"),
        "{stdout}"
    );
    // 120 rows cannot hold 10000 + 5000: DCI is clipped to 80/40, MIG to 120, with warnings.
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("warning: `dci`: num_train = 10000") && stderr.contains("using 80"),
        "{stderr}"
    );
}

/// Runs `disc eval` expecting a failure with `code` and a message containing `needle`.
fn expect_failure(args: &[&str], code: i32, needle: &str) {
    let output = disc(args);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_inputs_are_refused_with_clear_errors() {
    let scratch = support::scratch("eval", "bad");
    let dir = scratch.path();
    let (codes, factors, n) = grid_arrays();
    let p = |name: &str| dir.join(name).to_str().expect("utf-8 path").to_string();
    write_npy(&dir.join("codes.npy"), &[n as u64, 5], &codes);
    write_npy(&dir.join("factors.npy"), &[n as u64, 3], &factors);

    let mut with_nan = codes.clone();
    with_nan[3 * 5 + 1] = f32::NAN;
    write_npy(&dir.join("nan.npy"), &[n as u64, 5], &with_nan);
    expect_failure(
        &[
            "--codes",
            &p("nan.npy"),
            "--factors",
            &p("factors.npy"),
            "--metric",
            "mig",
        ],
        1,
        "row 3, column 1",
    );

    let fractional: Vec<f64> = factors.iter().map(|&f| f as f64 + 0.5).collect();
    write_npy(&dir.join("fractional.npy"), &[n as u64, 3], &fractional);
    expect_failure(
        &[
            "--codes",
            &p("codes.npy"),
            "--factors",
            &p("fractional.npy"),
        ],
        1,
        "integer class indices",
    );

    let mut one_value = factors.clone();
    for row in 0..n {
        one_value[row * 3 + 2] = 4;
    }
    write_npy(&dir.join("one_value.npy"), &[n as u64, 3], &one_value);
    expect_failure(
        &[
            "--codes",
            &p("codes.npy"),
            "--factors",
            &p("one_value.npy"),
            "--metric",
            "mig",
        ],
        1,
        "factor 2 takes the single value 4",
    );

    write_npy(&dir.join("flat.npy"), &[(n * 5) as u64], &codes);
    expect_failure(
        &["--codes", &p("flat.npy"), "--factors", &p("factors.npy")],
        1,
        "2-d array",
    );

    write_npy(&dir.join("short.npy"), &[10, 3], &factors[..30]);
    expect_failure(
        &["--codes", &p("codes.npy"), "--factors", &p("short.npy")],
        1,
        "codes have 120 rows but factors have 10",
    );

    expect_failure(
        &[
            "--codes",
            &p("codes.npy"),
            "--factors",
            &p("factors.npy"),
            "--metric",
            "beta_vae_sklearn",
        ],
        1,
        "needs codes for the complete factor grid",
    );
    expect_failure(
        &[
            "--codes",
            &p("codes.npy"),
            "--factors",
            &p("factors.npy"),
            "--factor-sizes",
            "4,5,7",
            "--metric",
            "factor_vae_metric",
        ],
        1,
        "describe 140 combinations, but the rows hold 120 of them",
    );
    expect_failure(
        &["--codes", &p("missing.npy"), "--factors", &p("factors.npy")],
        1,
        "cannot read",
    );
    expect_failure(&["--codes", &p("codes.npy")], 1, "no factors given");
    expect_failure(
        &[
            "--codes",
            &p("codes.npy"),
            "--factors",
            &p("factors.npy"),
            "--metric",
            "nope",
        ],
        2,
        "nope",
    );
}

/// The issue's case: the complete grid of factor sizes (3, 4, 5, 8), 480 rows in row-major order, and
/// 4-d codes that are a noisy linear map of the factors. Returns (codes, factors, rows).
fn issue_grid() -> (Vec<f32>, Vec<i64>, usize) {
    let mut factors = Vec::new();
    let mut codes = Vec::new();
    let mut row = 0usize;
    for a in 0..3i64 {
        for b in 0..4i64 {
            for c in 0..5i64 {
                for d in 0..8i64 {
                    factors.extend([a, b, c, d]);
                    let noise = |k: usize| {
                        (((row * 7919 + k * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.4
                    };
                    let (a, b, c, d) = (a as f32, b as f32, c as f32, d as f32);
                    codes.extend([
                        a + 0.2 * b + noise(0),
                        b - 0.1 * c + noise(1),
                        c + 0.3 * d + noise(2),
                        d + 0.1 * a + noise(3),
                    ]);
                    row += 1;
                }
            }
        }
    }
    (codes, factors, row)
}

/// Writes the issue's grid as `codes.npy` / `factors.npy` in a fresh directory, returned with the
/// files' paths (the directory is removed when the caller drops it).
fn write_issue_grid(name: &str) -> (tempfile::TempDir, String, String) {
    let scratch = support::scratch("eval", name);
    let dir = scratch.path();
    let (codes, factors, n) = issue_grid();
    let codes_path = dir.join("codes.npy");
    let factors_path = dir.join("factors.npy");
    write_npy(&codes_path, &[n as u64, 4], &codes);
    write_npy(&factors_path, &[n as u64, 4], &factors);
    (
        scratch,
        codes_path.to_str().expect("utf-8 path").to_string(),
        factors_path.to_str().expect("utf-8 path").to_string(),
    )
}

#[test]
fn a_sorted_grid_with_its_sizes_gives_every_metric_by_drawing_rows() {
    let (_scratch, codes, factors) = write_issue_grid("issue-grid");
    // The study's sizes would make this test slow; the sampling path is the same at any size.
    let output = disc(&[
        "--codes",
        &codes,
        "--factors",
        &factors,
        "--factor-sizes",
        "3,4,5,8",
        "--num-train",
        "300",
        "--num-test",
        "150",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("could not be computed"), "{stderr}");
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    for metric in [
        "beta_vae_sklearn",
        "factor_vae_metric",
        "mig",
        "sap_score",
        "modularity_explicitness",
        "dci",
        "irs",
        "unsupervised",
        "downstream_task_logistic_regression",
        "downstream_task_boosted_trees",
    ] {
        let scores = json[metric].as_object().expect("an object per metric");
        assert!(
            !scores.is_empty() && !scores.contains_key("error"),
            "{metric}: {scores:?}"
        );
    }
    // Rows are drawn, not taken in file order: nothing is clipped (450 < 480 would fit anyway, but
    // the file-order split would make factor 0 constant in the test rows, which is the issue's bug).
    assert!(
        json["parameters"]["row_selection"]
            .as_str()
            .is_some_and(|s| s.contains("drawn from the complete grid")),
        "{}",
        json["parameters"]
    );
    assert_eq!(json["parameters"]["clipped"], serde_json::json!([]));
    // Each code mostly reads one factor, so the representation is far from random.
    let modularity = json["modularity_explicitness"]["modularity_score"]
        .as_f64()
        .expect("modularity");
    assert!(modularity > 0.6, "modularity {modularity}");
}

#[test]
fn a_failing_metric_keeps_every_other_value() {
    let (_scratch, codes, factors) = write_issue_grid("issue-file-order");
    let args = [
        "--codes",
        &codes,
        "--factors",
        &factors,
        "--metric",
        "mig",
        "--metric",
        "modularity_explicitness",
        "--metric",
        "unsupervised",
    ];
    // Without --factor-sizes the rows are read in file order: modularity's test block (rows
    // 320..480) has factor 0 fixed at 2, so that metric cannot be computed; the others can.
    let output = disc(&args);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.contains("warning: `modularity_explicitness` could not be computed")
            && stderr.contains("single value 2"),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    let error = json["modularity_explicitness"]["error"]
        .as_str()
        .expect("an error entry");
    assert!(
        error.contains("factor 0 takes the single value 2"),
        "{error}"
    );
    assert!(
        json["mig"]["discrete_mig"]
            .as_f64()
            .is_some_and(f64::is_finite)
    );
    assert!(json["unsupervised"]["mutual_info_score"].as_f64().is_some());
    assert!(
        json["parameters"]["row_selection"]
            .as_str()
            .is_some_and(|s| s.starts_with("file order")),
        "{}",
        json["parameters"]
    );
    assert_eq!(
        json["parameters"]["metrics"]["mig"]["rows"],
        serde_json::json!({"train": [0, 480]})
    );

    // --strict: the same output, exit 1.
    let mut strict = args.to_vec();
    strict.push("--strict");
    let output = disc(&strict);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let again: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is still the JSON");
    assert_eq!(again, json);
    assert!(text(&output.stderr).contains("error: `modularity_explicitness`"));

    // The table says why on the metric's own line.
    let mut table = args.to_vec();
    table.extend(["--format", "table"]);
    let output = disc(&table);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("discrete_mig")
            && stdout.lines().any(|line| line.starts_with("modularity_explicitness")
                && line.contains("error: ")),
        "{stdout}"
    );
}

/// Writes an `.npz` of the named arrays (as `np.savez` does), each given as `.npy` writer input.
fn write_npz_i64_f32(path: &Path, ints: (&str, &[u64], &[i64]), floats: (&str, &[u64], &[f32])) {
    let mut npz = npyz::npz::NpzWriter::create(path).expect("create npz");
    let mut writer = npz
        .array(ints.0, Default::default())
        .expect("npz entry")
        .default_dtype()
        .shape(ints.1)
        .begin_nd()
        .expect("npy header");
    writer.extend(ints.2.iter().copied()).expect("npy data");
    writer.finish().expect("npy finish");
    let mut writer = npz
        .array(floats.0, Default::default())
        .expect("npz entry")
        .default_dtype()
        .shape(floats.1)
        .begin_nd()
        .expect("npy header");
    writer.extend(floats.2.iter().copied()).expect("npy data");
    writer.finish().expect("npy finish");
}

/// The scores of every metric in a JSON report (its `parameters` left out).
fn scores(json: &serde_json::Value) -> serde_json::Value {
    let mut object = json.as_object().expect("a JSON object").clone();
    object.remove("parameters");
    serde_json::Value::Object(object)
}

#[test]
fn a_users_dataset_in_its_own_order_and_names_is_scored_like_the_grid() {
    // The labels of a user's dataset as `arrays(...)` reads them: an `.npz` whose factor array has
    // the user's own name, rows in the user's order (here reversed), and codes for those rows.
    let scratch = support::scratch("eval", "own-dataset");
    let dir = scratch.path();
    let (codes, factors, n) = grid_arrays();
    write_npy(&dir.join("codes.npy"), &[n as u64, 5], &codes);
    write_npy(&dir.join("factors.npy"), &[n as u64, 3], &factors);
    let reversed_codes: Vec<f32> = codes.chunks(5).rev().flatten().copied().collect();
    let reversed_factors: Vec<i64> = factors.chunks(3).rev().flatten().copied().collect();
    write_npz_i64_f32(
        &dir.join("scenes.npz"),
        ("latents", &[n as u64, 3], &reversed_factors),
        ("z", &[n as u64, 5], &reversed_codes),
    );
    let p = |name: &str| dir.join(name).display().to_string();
    let metrics = [
        "--metric",
        "beta_vae_sklearn",
        "--metric",
        "mig",
        "--num-train",
        "200",
        "--num-test",
        "100",
    ];
    let ordered = disc(
        &[
            &[
                "--codes",
                &p("codes.npy"),
                "--factors",
                &p("factors.npy"),
                "--factor-sizes",
                "4,5,6",
            ][..],
            &metrics[..],
        ]
        .concat(),
    );
    assert!(ordered.status.success(), "{}", text(&ordered.stderr));
    // Codes and factors from one file, each by its name, and the factors named.
    let own = disc(
        &[
            &[
                "--codes",
                &p("scenes.npz"),
                "--codes-key",
                "z",
                "--factors-key",
                "latents",
                "--factor-sizes",
                "angle=4,light=5,hue=6",
            ][..],
            &metrics[..],
        ]
        .concat(),
    );
    assert!(own.status.success(), "{}", text(&own.stderr));
    let ordered: serde_json::Value = serde_json::from_slice(&ordered.stdout).expect("JSON");
    let own: serde_json::Value = serde_json::from_slice(&own.stdout).expect("JSON");
    // The same codes for the same combinations, drawn with the same random states: the same scores.
    assert_eq!(scores(&own), scores(&ordered));
    assert!(own["beta_vae_sklearn"]["eval_accuracy"].as_f64().is_some());
    assert_eq!(
        own["parameters"]["factor_names"],
        serde_json::json!(["angle", "light", "hue"])
    );
    assert_eq!(
        ordered["parameters"]["factor_names"],
        serde_json::Value::Null
    );

    // A combination missing from the rows: not a complete grid, said with the first one missing.
    let missing_codes: Vec<f32> = reversed_codes[5..].to_vec();
    let missing_factors: Vec<i64> = reversed_factors[3..].to_vec();
    write_npz_i64_f32(
        &dir.join("missing.npz"),
        ("latents", &[n as u64 - 1, 3], &missing_factors),
        ("z", &[n as u64 - 1, 5], &missing_codes),
    );
    let output = disc(&[
        "--codes",
        &p("missing.npz"),
        "--codes-key",
        "z",
        "--factors-key",
        "latents",
        "--factor-sizes",
        "4,5,6",
        "--metric",
        "mig",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("the rows hold 119 of them (none for [3, 4, 5])"),
        "{}",
        text(&output.stdout)
    );
    // A key the file lacks, and names on some factors only.
    let output = disc(&["--codes", &p("scenes.npz"), "--factor-sizes", "4,5,6"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("holds no array named `codes`"),
        "{}",
        text(&output.stderr)
    );
    let output = disc(&[
        "--codes",
        &p("scenes.npz"),
        "--codes-key",
        "z",
        "--factors-key",
        "latents",
        "--factor-sizes",
        "angle=4,5,6",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("names some factors but not all"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn factors_are_read_from_an_hdf5_file_as_h5py_writes_it() {
    // The `arrays(...)` fixture written by h5py: dataset `latents` (int32, 6 × 2: the complete
    // 2 × 3 grid in row-major order), gzip-compressed.
    let h5 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/data/grid.h5");
    let scratch = support::scratch("eval", "hdf5");
    let dir = scratch.path();
    // Codes that are the factors themselves, plus a constant dimension.
    let codes: Vec<f64> = (0..6)
        .flat_map(|i| [f64::from(i / 3), f64::from(i % 3), 0.5])
        .collect();
    write_npy(&dir.join("codes.npy"), &[6, 3], &codes);
    let codes_path = dir.join("codes.npy").display().to_string();
    let h5_path = h5.display().to_string();
    let output = disc(&[
        "--codes",
        &codes_path,
        "--factors",
        &h5_path,
        "--factors-key",
        "latents",
        "--factor-sizes",
        "a=2,b=3",
        "--metric",
        "beta_vae_sklearn",
        "--num-train",
        "100",
        "--num-test",
        "50",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    // A perfect representation: every intervened factor is read off its own code.
    let accuracy = json["beta_vae_sklearn"]["eval_accuracy"]
        .as_f64()
        .expect("a score");
    assert!(accuracy > 0.95, "accuracy {accuracy}");
    assert_eq!(json["parameters"]["num_factors"].as_u64(), Some(2));
    // The images of that file are no codes: a 4-d array is refused with its shape named.
    let output = disc(&[
        "--codes",
        &h5_path,
        "--codes-key",
        "pixels",
        "--factors-key",
        "latents",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr)
            .contains("codes must be a 2-d array (n, columns), found shape [6, 64, 64, 1]"),
        "{}",
        text(&output.stderr)
    );
}
