//! `disc run FILE.dis [--job N | --all] [--out DIR] [--device cpu|cuda|auto]` and `disc run plan.ron`.
//!
//! A `.dis` file is compiled first (diagnostics rendered as `disc check` does); a `.ron` file is read
//! as a plan and refused when its format version is not this build's. Without `--job` or `--all`, a
//! plan with one job runs it and a plan with several asks which. Each job trains into
//! `<out>/<index:05>-<hash>/`; a job whose directory holds a checkpoint resumes from it.
//!
//! Exit codes: 0 when every selected job finished, 1 when the file has errors or a job failed,
//! 2 for usage errors (unreadable input, unknown job, unavailable device).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use disc_compiler::diagnostic;
use disc_compiler::plan::{PLAN_VERSION, Plan};
use disc_runtime::device::{self, DeviceRequest};
use disc_runtime::train::{Progress, RunOptions};

use super::check::{ColorChoice, FsLoader, read_root, render, render_options};

/// Arguments of `disc run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A `.dis` file to compile, or a plan (`.ron`) written by `disc plan -o`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Run only the job with this index.
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub job: Option<u64>,
    /// Run every job of the plan, in index order.
    #[arg(long)]
    pub all: bool,
    /// The results root; each job writes `<out>/<index:05>-<hash>/`.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    pub out: PathBuf,
    /// `cpu`, `cuda`, or `auto` (CUDA when compiled in and a GPU driver is present, else CPU).
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: String,
    /// Skip the metrics and images after training.
    #[arg(long)]
    pub no_eval: bool,
    /// When to use colours in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Reads the plan from a `.ron` file or compiles a `.dis` file; `Err(code)` after reporting.
fn load_plan(path: &Path, color: ColorChoice) -> Result<Plan, ExitCode> {
    if path.extension().is_some_and(|ext| ext == "ron") {
        let text = std::fs::read_to_string(path).map_err(|e| {
            eprintln!("error: cannot read {}: {e}", path.display());
            ExitCode::from(2)
        })?;
        let plan: Plan = ron::from_str(&text).map_err(|e| {
            eprintln!("error: {} is not a disc plan: {e}", path.display());
            ExitCode::from(2)
        })?;
        if plan.version != PLAN_VERSION {
            eprintln!(
                "error: {}: {}",
                path.display(),
                disc_runtime::RuntimeError::PlanVersion {
                    found: plan.version,
                    expected: PLAN_VERSION
                }
            );
            return Err(ExitCode::from(2));
        }
        return Ok(plan);
    }
    let root = read_root(path).map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })?;
    let compiled = disc_compiler::compile(root, &FsLoader);
    if !compiled.diagnostics.is_empty() {
        eprint!("{}", render(&compiled, render_options(color)));
    }
    compiled.plan.ok_or_else(|| {
        eprintln!(
            "error: no plan: {}",
            diagnostic::summary(&compiled.diagnostics)
        );
        ExitCode::from(1)
    })
}

/// Runs `disc run`.
pub fn run(args: RunArgs) -> ExitCode {
    let plan = match load_plan(&args.file, args.color) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let choice = match DeviceRequest::parse(&args.device).and_then(device::choose) {
        Ok(choice) => choice,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let jobs: Vec<_> = match (args.job, args.all) {
        (Some(index), _) => {
            let selected: Vec<_> = plan.jobs.iter().filter(|job| job.index == index).collect();
            if selected.is_empty() {
                eprintln!(
                    "error: there is no job {index}: the plan has {} jobs (indices 0 to {})",
                    plan.jobs.len(),
                    plan.jobs.len().saturating_sub(1)
                );
                return ExitCode::from(2);
            }
            selected
        }
        (None, true) => plan.jobs.iter().collect(),
        (None, false) if plan.jobs.len() == 1 => plan.jobs.iter().collect(),
        (None, false) => {
            eprintln!(
                "error: the plan has {} jobs; choose one with `--job N` (see `disc plan {} --list`) or run them all with `--all`",
                plan.jobs.len(),
                args.file.display()
            );
            return ExitCode::from(2);
        }
    };
    let device_name = match choice {
        device::DeviceChoice::Cpu => "cpu",
        device::DeviceChoice::Cuda => "cuda:0",
    };
    let options = RunOptions {
        out: args.out.clone(),
        device_name: device_name.to_string(),
        progress: Progress::detect(),
        stop_after: None,
        evaluate: !args.no_eval,
    };
    let mut failed = 0;
    for job in &jobs {
        eprintln!(
            "job {} ({}, {} steps × batch {}) on {device_name} → {}",
            job.index,
            job.experiment,
            job.train.steps,
            job.train.batch_size,
            disc_runtime::artifacts::RunDir::for_job(&args.out, job)
                .root()
                .display()
        );
        match device::run_job_on(choice, job, &options) {
            Ok(outcome) => {
                for (representation, metric, error) in &outcome.metric_failures {
                    eprintln!(
                        "warning: job {}: `{metric}` ({representation} representation) could not be computed: {error}",
                        job.index
                    );
                }
                eprintln!(
                    "job {}: done, results in {}",
                    job.index,
                    outcome.run_dir.root().display()
                );
            }
            Err(error) => {
                eprintln!("error: job {}: {error}", job.index);
                failed += 1;
            }
        }
    }
    if failed > 0 {
        eprintln!("error: {failed} of {} jobs failed", jobs.len());
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
