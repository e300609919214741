//! Studies at scale (issue 9), through the binary as a user runs it: `--set` overrides, local
//! workers that share a study between processes, skip and resume, `disc results` on a hand-made
//! runs directory, `disc plot` on a real one, and the Slurm script.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use disc_compiler::plan::Plan;
use disc_runtime::artifacts::{RunDir, RunSummary};

const TINY: &str = "tests/fixtures/study/tiny.dis";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn disc_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_disc"));
    command
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS");
    command
}

fn disc(args: &[&str]) -> Output {
    disc_command(args)
        .output()
        .expect("the disc binary built by cargo can be started")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch directory unique to this test process and name.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("disc-study-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

/// A PNG's width and height, from its header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let word = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (word(16), word(20))
}

fn tiny_plan() -> Plan {
    let out = disc(&["plan", TINY]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    ron::from_str(&text(&out.stdout)).expect("disc plan prints a plan")
}

/// The counts of the summary line `summary: N jobs in T: D done, F failed, S skipped (finished
/// before), E skipped (running elsewhere)`.
fn summary_counts(stderr: &str) -> [usize; 4] {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stderr}"));
    let numbers: Vec<usize> = line
        .split(": ")
        .nth(2)
        .unwrap_or("")
        .split(", ")
        .filter_map(|part| part.split(' ').next()?.parse().ok())
        .collect();
    match numbers.as_slice() {
        [done, failed, before, elsewhere] => [*done, *failed, *before, *elsewhere],
        _ => panic!("cannot read the summary line {line:?}"),
    }
}

#[test]
fn overrides_enter_the_plan_and_the_hashes_and_their_errors_point_at_the_argument() {
    let plain = tiny_plan();
    let out = disc(&[
        "plan",
        TINY,
        "--set",
        "train.steps=4",
        "--set",
        "loss=beta_vae(beta: 2)",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let set: Plan = ron::from_str(&text(&out.stdout)).expect("a plan");
    assert!(set.jobs.iter().all(|j| j.train.steps == 4));
    assert_eq!(
        set.overrides.get("train.steps").map(String::as_str),
        Some("4")
    );
    for (a, b) in plain.jobs.iter().zip(&set.jobs) {
        assert_ne!(
            a.hash, b.hash,
            "an override changes the job and so its hash"
        );
    }
    // `loss` is swept in the file: the override is reported as having no effect.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("W0040") && stderr.contains("--set"),
        "{stderr}"
    );

    let out = disc(&["check", TINY, "--set", "train.stesp=4"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("E0403") && stderr.contains("[--set:1:7]"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `steps`?"), "{stderr}");
    // A type error inside the value points at the value in the argument.
    let out = disc(&["run", TINY, "--all", "--set", "train.steps=\"many\""]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("E0201") && stderr.contains("[--set:1:13]"),
        "{stderr}"
    );
}

#[test]
fn two_processes_share_a_study_and_train_each_job_once_then_results_and_plots_work() {
    let dir = scratch("two-processes");
    let runs = dir.join("runs");
    let runs_arg = runs.to_string_lossy().into_owned();
    let args = [
        "run",
        TINY,
        "--all",
        "--workers",
        "2",
        "--device",
        "cpu",
        "--out",
        &runs_arg,
    ];
    let spawn = || {
        disc_command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("disc starts")
    };
    let (first, second) = (spawn(), spawn());
    let first = first.wait_with_output().expect("first finishes");
    let second = second.wait_with_output().expect("second finishes");
    let (e1, e2) = (text(&first.stderr), text(&second.stderr));
    assert_eq!(first.status.code(), Some(0), "{e1}");
    assert_eq!(second.status.code(), Some(0), "{e2}");
    let (c1, c2) = (summary_counts(&e1), summary_counts(&e2));
    // Every job trained by exactly one of the two processes; the other skipped it.
    assert_eq!(c1[0] + c2[0], 4, "done: {c1:?} {c2:?}\n{e1}\n{e2}");
    assert_eq!(c1[1] + c2[1], 0, "failed: {c1:?} {c2:?}");
    assert_eq!(c1[0] + c1[2] + c1[3], 4, "{c1:?}");
    for job in &tiny_plan().jobs {
        let run = RunDir::for_job(&runs, job);
        let summary: RunSummary = serde_json::from_str(
            &std::fs::read_to_string(run.results_path()).expect("every job finished"),
        )
        .expect("a run summary");
        assert_eq!((summary.steps, summary.resumed_from_step), (6, None));
        let steps: Vec<u64> = disc_runtime::artifacts::read_loss_log(&run.losses_path())
            .expect("a loss log")
            .iter()
            .map(|r| r.step)
            .collect();
        assert_eq!(steps, vec![2, 4, 6], "each step logged once");
    }

    // Run again: everything is skipped. Remove one summary: that job resumes from its final
    // checkpoint instead of training again.
    let first_job = tiny_plan().jobs.into_iter().next().expect("a job");
    std::fs::remove_file(RunDir::for_job(&runs, &first_job).results_path()).expect("removable");
    let again = disc(&args);
    let stderr = text(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    assert_eq!(summary_counts(&stderr), [1, 0, 3, 0], "{stderr}");
    assert!(
        stderr.contains("job 0: resuming from the checkpoint at step 6 of 6"),
        "{stderr}"
    );

    // The results table: one row per job, typed values, every job done.
    let out = disc(&["results", &runs_arg, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON rows");
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row["status"], "done", "{row}");
        assert!(row["seed"].is_i64(), "the seed is a number: {row}");
        assert!(row["final.loss"].is_f64(), "{row}");
        assert!(row["mean.mig.discrete_mig"].is_f64(), "{row}");
    }

    // The figures: PNG and SVG of each, non-trivial and well formed.
    let figures = dir.join("figures");
    let figures_arg = figures.to_string_lossy().into_owned();
    let out = disc(&["plot", &runs_arg, "-o", &figures_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for stem in ["scores_mean.mig.discrete_mig", "loss_curves", "spearman"] {
        let png = std::fs::read(figures.join(format!("{stem}.png")))
            .unwrap_or_else(|e| panic!("{stem}.png: {e}\n{}", text(&out.stderr)));
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000,
            "{stem}.png"
        );
        let svg = std::fs::read_to_string(figures.join(format!("{stem}.svg"))).expect("svg");
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{stem}.svg"
        );
        assert!(svg.contains("<text"), "{stem}.svg has labels");
    }
    // The contact sheet: the first run of each of the two settings, each band at least as tall
    // and wide as a run's own reconstructions picture.
    let out_text = text(&out.stderr);
    assert!(
        out_text.contains("contact_sheet.png (2 runs)"),
        "{out_text}"
    );
    let sheet = std::fs::read(figures.join("contact_sheet.png")).expect("a contact sheet");
    let (width, height) = png_size(&sheet);
    let first = RunDir::for_job(&runs, &first_job);
    let (rw, rh) = png_size(&std::fs::read(first.reconstructions_path()).expect("reconstructions"));
    assert!(
        width > rw && height > 2 * rh,
        "{width}×{height} against {rw}×{rh}"
    );
    let out = disc(&["plot", &runs_arg, "-o", &figures_arg, "--jobs", "3,7"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out_text = text(&out.stderr);
    assert!(
        out_text.contains("job 7 is not a finished run") && out_text.contains("(1 runs)"),
        "{out_text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Killed with SIGKILL in the middle of a study (one job finished, the next one past a checkpoint)
/// and started again with the same command: the finished job is skipped, not retrained; the
/// interrupted one resumes from its last checkpoint and logs every step exactly once; the study
/// finishes.
#[test]
fn a_killed_study_restarted_skips_finished_jobs_and_resumes_the_interrupted_one() {
    let dir = scratch("kill-resume");
    let runs = dir.join("runs");
    let runs_arg = runs.to_string_lossy().into_owned();
    let sets = [
        "--set",
        "train.steps=600",
        "--set",
        "train.checkpoint_every=20",
        "--set",
        "train.log_every=20",
    ];
    let plan_out = disc(&[&["plan", TINY][..], &sets[..]].concat());
    assert_eq!(
        plan_out.status.code(),
        Some(0),
        "{}",
        text(&plan_out.stderr)
    );
    let plan: Plan = ron::from_str(&text(&plan_out.stdout)).expect("a plan");
    let mut args = vec![
        "run",
        TINY,
        "--all",
        "--workers",
        "1",
        "--device",
        "cpu",
        "--out",
        &runs_arg,
    ];
    args.extend(sets);
    let first = RunDir::for_job(&runs, &plan.jobs[0]);
    let second = RunDir::for_job(&runs, &plan.jobs[1]);

    let mut child = disc_command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("disc starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
    loop {
        let checkpointed = second
            .latest_checkpoint()
            .ok()
            .flatten()
            .is_some_and(|checkpoint| checkpoint.step >= 40);
        if first.results_path().exists() && checkpointed {
            break;
        }
        if let Some(status) = child.try_wait().expect("waitable") {
            panic!("the study ended ({status}) before it could be killed mid-job");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint of job 1 in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().expect("killable");
    child.wait().expect("reaped");
    assert!(
        !second.results_path().exists(),
        "job 1 finished before the kill; the test needs more steps"
    );
    let finished = std::fs::read(first.results_path()).expect("job 0's summary");

    let again = disc(&args);
    let stderr = text(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    // Job 1 resumed and jobs 2 and 3 trained here; job 0 was skipped as finished before.
    assert_eq!(summary_counts(&stderr), [3, 0, 1, 0], "{stderr}");
    assert_eq!(
        std::fs::read(first.results_path()).expect("job 0's summary"),
        finished,
        "the finished job was left alone"
    );
    let summary: RunSummary = serde_json::from_str(
        &std::fs::read_to_string(second.results_path()).expect("job 1 finished"),
    )
    .expect("a run summary");
    assert_eq!(summary.steps, 600);
    let resumed = summary.resumed_from_step.expect("job 1 resumed");
    assert!((40..600).contains(&resumed), "resumed from step {resumed}");
    assert!(
        stderr.contains(&format!(
            "job 1: resuming from the checkpoint at step {resumed}"
        )),
        "{stderr}"
    );
    let steps: Vec<u64> = disc_runtime::artifacts::read_loss_log(&second.losses_path())
        .expect("a loss log")
        .iter()
        .map(|r| r.step)
        .collect();
    let expected: Vec<u64> = (1..=30).map(|i| i * 20).collect();
    assert_eq!(steps, expected, "every logged step once, across the kill");
    for job in &plan.jobs {
        assert!(RunDir::for_job(&runs, job).results_path().exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `disc run` fits the PCA and ICA baselines and writes a trained job's run directory: the
/// components as weights, `metrics.json` with the BetaVAE score, `results.json`; a second run
/// skips both; `disc results` lists them with their fit diagnostics.
#[test]
fn pca_and_ica_baselines_are_fitted_evaluated_and_skipped_when_finished() {
    const BASELINES: &str = "tests/fixtures/study/baselines.dis";
    let dir = scratch("baselines");
    let runs = dir.join("runs");
    let runs_arg = runs.to_string_lossy().into_owned();
    let args = [
        "run", BASELINES, "--all", "--device", "cpu", "--out", &runs_arg,
    ];
    let out = disc(&args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(summary_counts(&stderr), [2, 0, 0, 0], "{stderr}");
    assert!(
        stderr.contains("job 0 (pca_tiny, PCA fitted to 400 samples)"),
        "{stderr}"
    );
    assert!(stderr.contains("job 0: PCA fitted in"), "{stderr}");
    assert!(stderr.contains("job 1: FastICA fitted in"), "{stderr}");
    // dSprites' border pixels are black in every image: the fit says it leaves them out.
    assert!(
        stderr.contains("pixels are constant over the 400 samples"),
        "{stderr}"
    );
    let plan = disc(&["plan", BASELINES]);
    let plan: Plan = ron::from_str(&text(&plan.stdout)).expect("a plan");
    for job in &plan.jobs {
        let run = RunDir::for_job(&runs, job);
        let summary: RunSummary = serde_json::from_str(
            &std::fs::read_to_string(run.results_path()).expect("results.json"),
        )
        .expect("a run summary");
        assert_eq!((summary.steps, summary.resumed_from_step), (0, None));
        let explained = summary.final_terms["explained_variance"];
        assert!(explained > 0.0 && explained < 1.0, "{explained}");
        let weights = std::fs::read(run.model_path()).expect("model.safetensors");
        let (tensors, _) =
            disc_runtime::artifacts::decode_safetensors(&weights).expect("safetensors");
        let components = tensors
            .iter()
            .find(|t| t.name == "components")
            .expect("the components are the weights");
        assert_eq!(components.shape, vec![5, 64 * 64]);
        let metrics: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(run.metrics_path()).expect("metrics.json"),
        )
        .expect("JSON");
        let accuracy = metrics["mean"]["beta_vae_sklearn"]["eval_accuracy"]
            .as_f64()
            .unwrap_or_else(|| panic!("a BetaVAE score: {metrics}"));
        assert!((0.0..=1.0).contains(&accuracy), "{accuracy}");
        assert!(metrics["mean"]["mig"]["discrete_mig"].is_f64(), "{metrics}");
        // The second metric seed's scores, in a file of their own.
        let seeded: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(run.metrics_seed_path(1)).expect("metrics-seed-1.json"),
        )
        .expect("JSON");
        assert!(
            seeded["mean"]["beta_vae_sklearn"]["eval_accuracy"].is_f64(),
            "{seeded}"
        );
        assert_ne!(seeded, metrics, "another metric seed samples other points");
    }
    // A finished fit is skipped like a finished job.
    let again = disc(&args);
    let stderr = text(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    assert_eq!(summary_counts(&stderr), [0, 0, 2, 0], "{stderr}");
    // A fit whose evaluation was lost is evaluated again from its stored components.
    let first = plan.jobs.first().expect("a job");
    std::fs::remove_file(RunDir::for_job(&runs, first).results_path()).expect("removable");
    let before = std::fs::read(RunDir::for_job(&runs, first).metrics_path()).expect("metrics");
    let again = disc(&args);
    let stderr = text(&again.stderr);
    assert_eq!(summary_counts(&stderr), [1, 0, 1, 0], "{stderr}");
    assert!(stderr.contains("fit stored in"), "{stderr}");
    let after = std::fs::read(RunDir::for_job(&runs, first).metrics_path()).expect("metrics");
    assert_eq!(before, after, "the stored fit gives the same scores");

    // A row per job and metric seed; grouped by experiment, the β-VAE paper's protocol: the
    // mean of the best half of the model seeds × metric seeds scores.
    let out = disc(&["results", &runs_arg, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON rows");
    assert_eq!(rows.len(), 4);
    let seeds: Vec<i64> = rows
        .iter()
        .filter_map(|r| r["metric_seed"].as_i64())
        .collect();
    assert_eq!(seeds, vec![0, 1, 0, 1]);
    for row in &rows {
        assert_eq!(row["status"], "done", "{row}");
        assert!(row["mean.beta_vae_sklearn.eval_accuracy"].is_f64(), "{row}");
        assert!(row["final.explained_variance"].is_f64(), "{row}");
    }
    let column = "mean.beta_vae_sklearn.eval_accuracy";
    let out = disc(&[
        "results",
        &runs_arg,
        "--format",
        "json",
        "--group-by",
        "experiment",
        "--value",
        column,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON rows");
    assert_eq!(groups.len(), 2);
    for (group, experiment) in groups.iter().zip(["pca_tiny", "ica_tiny"]) {
        assert_eq!(group["experiment"], experiment, "{group}");
        let scores: Vec<f64> = rows
            .iter()
            .filter(|r| r["experiment"] == experiment)
            .filter_map(|r| r[column].as_f64())
            .collect();
        assert_eq!(group[format!("{column}.n")], 2, "{group}");
        let best = scores.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(group[format!("{column}.best_half_mean")], best, "{group}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn results_reads_done_failed_running_interrupted_and_missing_jobs() {
    let dir = scratch("results");
    let runs = dir.join("runs");
    let plan = tiny_plan();
    std::fs::create_dir_all(&runs).expect("writable");
    std::fs::write(
        runs.join("plan.ron"),
        ron::to_string(&plan).expect("serialisable"),
    )
    .expect("writable");
    let jobs = &plan.jobs;
    let run = |i: usize| RunDir::for_job(&runs, jobs.get(i).expect("four jobs"));
    for i in 0..3 {
        run(i).create().expect("create");
        run(i)
            .write_job(jobs.get(i).expect("job"))
            .expect("job.ron");
    }
    // Job 0 finished.
    let summary = RunSummary {
        job_index: 0,
        job_hash: jobs[0].hash.clone(),
        experiment: "tiny".to_string(),
        device: "cpu".to_string(),
        steps: 6,
        batch_size: 8,
        resumed_from_step: None,
        final_loss: 123.5,
        final_terms: [("kl".to_string(), 2.25)].into_iter().collect(),
        elapsed_seconds: 1.5,
        images_per_second: 32.0,
    };
    run(0).write_results(&summary).expect("results.json");
    std::fs::write(
        run(0).metrics_path(),
        r#"{"mean": {"mig": {"discrete_mig": 0.125}}}"#,
    )
    .expect("metrics.json");
    // Job 1 failed, job 2 is being trained by someone holding its lock; job 3 never started.
    run(1)
        .write_failure("step 3: loss term `kl` is NaN")
        .expect("failed.json");
    let claim = run(2).try_claim().expect("claim").expect("free");
    let out = disc(&["results", &runs.to_string_lossy(), "--format", "csv"]);
    let csv = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            "index,hash,experiment,loss,seed,status,steps,final.loss,final.kl,mean.mig.discrete_mig,wall_seconds,error"
        ),
        "{csv}"
    );
    let row = |i: usize| lines.get(i + 1).copied().unwrap_or("");
    assert!(
        row(0).ends_with(",beta_vae(beta: 4),0,done,6,123.5,2.25,0.125,1.5,")
            || row(0).contains("\"beta_vae(beta: 4)\",0,done,6,123.5,2.25,0.125,1.5,"),
        "{csv}"
    );
    assert!(
        row(1).contains(",failed,") && row(1).ends_with(",step 3: loss term `kl` is NaN"),
        "{csv}"
    );
    assert!(row(2).contains(",running,"), "{csv}");
    assert!(row(3).contains(",not started,"), "{csv}");
    drop(claim);
    // Without the lock, the started-but-unfinished job reads as interrupted.
    let out = disc(&["results", &runs.to_string_lossy(), "--format", "csv"]);
    assert!(
        text(&out.stdout).contains(",interrupted,"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("4 jobs: 1 done, 1 failed, 1 interrupted, 1 not started"),
        "{}",
        text(&out.stderr)
    );

    // Grouping by model: count, mean, median, std and the mean of the best half per group.
    let out = disc(&[
        "results",
        &runs.to_string_lossy(),
        "--format",
        "json",
        "--group-by",
        "loss",
        "--value",
        "final.loss",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(groups[0]["loss"], "beta_vae(beta: 4)");
    assert_eq!(groups[0]["runs"], 2);
    assert_eq!(groups[0]["done"], 1);
    assert_eq!(groups[0]["final.loss.n"], 1);
    assert_eq!(groups[0]["final.loss.mean"], 123.5);
    assert_eq!(groups[0]["final.loss.best_half_mean"], 123.5);
    assert!(
        groups[0]["final.loss.std"].is_null(),
        "one value has no sample std"
    );
    assert_eq!(groups[1]["final.loss.n"], 0);

    let out = disc(&["results", &runs.to_string_lossy(), "--group-by", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("there is no column `nope`"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn slurm_writes_a_requeue_safe_array_script_beside_the_runs() {
    let dir = scratch("slurm");
    let runs = dir.join("runs");
    let out = disc(&[
        "slurm",
        TINY,
        "--out",
        &runs.to_string_lossy(),
        "--jobs-per-task",
        "3",
        "--array-limit",
        "5",
        "--sbatch=--time=00:10:00",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = std::fs::read_to_string(runs.join("slurm/tiny.sbatch")).expect("the script");
    assert!(script.contains("#SBATCH --array=0-1%5"), "{script}");
    assert!(script.contains("#SBATCH --requeue"), "{script}");
    assert!(script.contains("#SBATCH --time=00:10:00"), "{script}");
    assert!(script.contains("--job \"$job\""), "{script}");
    let plan: Plan = ron::from_str(
        &std::fs::read_to_string(runs.join("slurm/tiny.plan.ron")).expect("the plan"),
    )
    .expect("a plan");
    assert_eq!(plan.jobs.len(), 4);
    assert!(runs.join("plan.ron").is_file());
    // The script's shell is valid.
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(runs.join("slurm/tiny.sbatch"))
        .output()
        .expect("bash runs");
    assert!(syntax.status.success(), "{}", text(&syntax.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
