//! Your own data (issue 14), through the binary as a user runs it: arrays written here with the
//! formats numpy writes (`.npz`, `.npy`), `disc check` reporting every mistake in them before any
//! compute, and a short `disc run` on a complete grid whose metrics use the user's factors.

use std::path::Path;
use std::process::{Command, Output};

use disc_compiler::plan::{DatasetKind, Plan};
use disc_runtime::artifacts::RunDir;
use npyz::WriterBuilder;

mod support;

/// Runs `disc` with `args` in `dir` (data paths are relative to the current directory).
fn disc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_disc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("the disc binary built by cargo can be started")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A complete 2 × 3 grid of 8×8 grey images, two rows per combination (12 rows): the brightness
/// follows factor `a`, a bright column's position follows factor `b`.
fn grid() -> (Vec<u8>, Vec<i64>) {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for copy in 0..2 {
        for a in 0..2i64 {
            for b in 0..3i64 {
                for y in 0..8 {
                    for x in 0..8 {
                        let on = x == 2 * b as usize + 1 || y == copy;
                        images.push(if on { 255 } else { 60 + 100 * a as u8 });
                    }
                }
                labels.extend([a, b]);
            }
        }
    }
    (images, labels)
}

fn write_npz(path: &Path, images: &[u8], image_shape: &[u64], labels: &[i64], columns: u64) {
    let mut npz = npyz::npz::NpzWriter::create(path).expect("create npz");
    let mut writer = npz
        .array::<u8>("images", Default::default())
        .expect("images entry")
        .default_dtype()
        .shape(image_shape)
        .begin_nd()
        .expect("images header");
    writer.extend(images.iter().copied()).expect("images data");
    writer.finish().expect("images finish");
    let mut writer = npz
        .array::<i64>("factors", Default::default())
        .expect("factors entry")
        .default_dtype()
        .shape(&[labels.len() as u64 / columns, columns])
        .begin_nd()
        .expect("factors header");
    writer.extend(labels.iter().copied()).expect("factors data");
    writer.finish().expect("factors finish");
}

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

/// An experiment on `data` with a tiny fully connected VAE for 8×8×1 images.
fn experiment(data: &str, metrics: &str) -> String {
    format!(
        "use std.models.beta_vae\n\
         use std.metrics.{{beta_vae_score, factor_vae_score, mig, dci}}\n\
         experiment mine {{\n\
         \x20 data = {data}\n\
         \x20 model = vae(latents: 3, encoder: [flatten, dense(32), relu, gaussian_head(3)],\n\
         \x20   decoder: [dense(32), relu, dense(64), reshape((8, 8, 1))], recon: bernoulli(logits))\n\
         \x20 loss = beta_vae(beta: 1)\n\
         \x20 train = training(steps: 4, batch: 8, optimizer: adam(lr: 1e-3), log_every: 2)\n\
         \x20 evaluate = evaluation(metrics: {metrics}, representation: mean)\n\
         }}\n"
    )
}

const METRICS: &str = "[beta_vae_score(batch_size: 4, num_train: 20, num_eval: 10), \
                       factor_vae_score(batch_size: 4, num_train: 20, num_eval: 10, num_variance_estimate: 50), \
                       mig(num_train: 50), dci(num_train: 8, num_test: 4)]";

#[test]
fn a_user_made_grid_checks_plans_trains_and_is_scored_against_its_factors() {
    let scratch = support::scratch("arrays", "grid");
    let dir = scratch.path();
    let (images, labels) = grid();
    write_npz(&dir.join("scenes.npz"), &images, &[12, 8, 8, 1], &labels, 2);
    let file = dir.join("mine.dis");
    std::fs::write(
        &file,
        experiment(
            r#"arrays(images: "scenes.npz", factors: {light: 2, column: 3}, name: "scenes")"#,
            METRICS,
        ),
    )
    .expect("writable");
    let out = disc(dir, &["check", "mine.dis"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = disc(dir, &["plan", "mine.dis"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: Plan = ron::from_str(&text(&out.stdout)).expect("a plan");
    let job = &plan.jobs[0];
    assert!(job.dataset.complete_grid, "every combination is present");
    assert_eq!(job.dataset.observation_shape, [8, 8, 1]);
    assert!(matches!(
        job.dataset.kind,
        DatasetKind::Arrays {
            rows: 12,
            combinations: 6,
            ..
        }
    ));

    let out = disc(
        dir,
        &["run", "mine.dis", "--device", "cpu", "--out", "runs"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The job opens the user's arrays with the user's factors: the metrics sample those.
    let data = disc_runtime::train::open_dataset(&{
        let mut job = job.clone();
        if let disc_compiler::plan::DataSource::File { path } = &mut job.dataset.source {
            *path = dir.join(&*path).to_string_lossy().into_owned();
        }
        if let DatasetKind::Arrays { labels, .. } = &mut job.dataset.kind {
            *labels = dir.join(&*labels).to_string_lossy().into_owned();
        }
        job
    })
    .expect("the arrays open");
    assert_eq!(data.factor_space().sizes(), &[2, 3]);
    assert_eq!(
        data.factor_names(),
        &["light".to_string(), "column".to_string()]
    );
    let run = RunDir::for_job(&dir.join("runs"), job);
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.metrics_path()).expect("metrics.json is written"),
    )
    .expect("json");
    let rendered = metrics.to_string();
    for key in ["beta_vae", "factor_vae", "mig", "dci"] {
        assert!(rendered.contains(key), "{key} missing from {rendered}");
    }
    assert!(!rendered.contains("\"error\""), "{rendered}");
}

#[test]
fn every_mistake_in_the_arrays_fails_check_and_run_before_any_compute() {
    let scratch = support::scratch("arrays", "mistakes");
    let dir = scratch.path();
    let (images, labels) = grid();
    write_npz(&dir.join("scenes.npz"), &images, &[12, 8, 8, 1], &labels, 2);
    // Plain observations: the grid without its combination (1, 2).
    let keep: Vec<usize> = (0..12).filter(|i| i % 6 != 5).collect();
    let plain_images: Vec<u8> = keep
        .iter()
        .flat_map(|&i| images[i * 64..(i + 1) * 64].to_vec())
        .collect();
    let plain_labels: Vec<i64> = keep
        .iter()
        .flat_map(|&i| labels[i * 2..i * 2 + 2].to_vec())
        .collect();
    write_npz(
        &dir.join("plain.npz"),
        &plain_images,
        &[10, 8, 8, 1],
        &plain_labels,
        2,
    );
    write_npy(&dir.join("images.npy"), &[12, 8, 8], &images);
    write_npy(&dir.join("labels.npy"), &[11, 2], &labels[..22]);
    let float_labels: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    write_npy(&dir.join("float_labels.npy"), &[12, 2], &float_labels);
    let cases = [
        (
            r#"arrays(images: "nope.npz", factors: {a: 2, b: 3})"#,
            "[]",
            "E0501",
        ),
        (
            r#"arrays(images: "images.npy", labels: "float_labels.npy", factors: {a: 2, b: 3})"#,
            "[]",
            "E0502",
        ),
        (
            r#"arrays(images: "scenes.npz", factors: {a: 2, b: 3, c: 2})"#,
            "[]",
            "E0503",
        ),
        (
            r#"arrays(images: "scenes.npz", factors: {a: 2, b: 2})"#,
            "[]",
            "E0504",
        ),
        (
            r#"arrays(images: "images.npy", labels: "labels.npy", factors: {a: 2, b: 3})"#,
            "[]",
            "E0505",
        ),
        (
            r#"arrays(images: "scenes.npz", factors: {a: 2, b: 3})"#,
            "[dci]",
            "E0506",
        ),
        (
            r#"arrays(images: "plain.npz", factors: {a: 2, b: 3})"#,
            METRICS,
            "E0401",
        ),
        // The Why section's cases: `kind: "npz"`, and dSprites relabelled.
        (
            r#"prim.dataset(name: "s", kind: "npz", factors: {a: 2, b: 3}, shape: (8, 8, 1), complete_grid: true, source: file("scenes.npz"))"#,
            "[]",
            "E0202",
        ),
        (
            r#"prim.dataset(name: "s", kind: "dsprites", factors: {color: 4, size: 5, pos_x: 16, pos_y: 16}, shape: (64, 64, 3), complete_grid: true)"#,
            "[]",
            "E0507",
        ),
        (
            r#"prim.dataset(name: "s", kind: "dsprites", factors: {color: 4, size: 5, pos_x: 16, pos_y: 16}, shape: (64, 64, 1), complete_grid: true)"#,
            "[]",
            "E0507",
        ),
    ];
    for (i, (data, metrics, code)) in cases.iter().enumerate() {
        let name = format!("case{i}.dis");
        std::fs::write(dir.join(&name), experiment(data, metrics)).expect("writable");
        let out = disc(dir, &["check", &name]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{data}: {stderr}");
        assert!(stderr.contains(code), "{data}: expected {code} in {stderr}");
        let out = disc(dir, &["run", &name, "--device", "cpu", "--out", "runs"]);
        assert_eq!(out.status.code(), Some(1), "{data}: {}", text(&out.stderr));
    }
    assert!(!dir.join("runs").exists(), "nothing was trained");
}

#[test]
fn the_language_guide_example_is_a_complete_grid() {
    // docs/LANGUAGE.md's numpy example writes `scenes.npz` with 12 × 4 combinations, 64×64×3; this
    // is the same layout written here, checked with the guide's declaration.
    let scratch = support::scratch("arrays", "guide");
    let dir = scratch.path();
    let labels: Vec<i64> = (0..12)
        .flat_map(|a| (0..4).flat_map(move |l| [a, l]))
        .collect();
    let images = vec![0u8; 48 * 64 * 64 * 3];
    write_npz(
        &dir.join("scenes.npz"),
        &images,
        &[48, 64, 64, 3],
        &labels,
        2,
    );
    std::fs::write(
        dir.join("guide.dis"),
        "use std.models.{conv_vae, beta_vae}\nuse std.metrics.{mig, beta_vae_score}\n\
         experiment scenes {\n  data = arrays(images: \"scenes.npz\", factors: {angle: 12, light: 4})\n\
         \x20 model = conv_vae(channels: data.channels, latents: 10)\n  loss = beta_vae(beta: 4)\n\
         \x20 evaluate = [mig(num_train: 2000), beta_vae_score]\n}\n",
    )
    .expect("writable");
    let out = disc(dir, &["check", "guide.dis"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
