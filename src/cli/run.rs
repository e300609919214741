//! `disc run FILE.dis [--job N | --all] [--workers N] [--set PATH=VALUE]... [--out DIR]
//! [--device cpu|cuda|cuda:N|cuda:N,M|auto]` and `disc run plan.ron`.
//!
//! A `.dis` file is compiled first (diagnostics rendered as `disc check` does); a `.ron` file is read
//! as a plan and refused when its format version is not this build's. Without `--job` or `--all`, a
//! plan with one job runs it and a plan with several asks which. Each job trains into
//! `<out>/<index:05>-<hash>/`; a job whose directory holds a checkpoint resumes from it, a finished
//! one (with `results.json`) is skipped, and one whose directory another process has claimed is
//! left to it (see `disc_runtime::study`). `--workers N` trains N jobs at once, each on its share of
//! the cores. A failed job does not stop the others; a summary ends a run of several jobs.
//!
//! Exit codes: 0 when every selected job finished, 1 when the file has errors or a job failed,
//! 2 for usage errors (unreadable input, unknown job, unavailable device).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::device::{self, DeviceRequest};
use super::progress::Progress;
use disc_compiler::diagnostic;
use disc_compiler::plan::{Job, ModelSpec, PLAN_VERSION, Plan};
use disc_runtime::artifacts::RunDir;
use disc_runtime::study::{self, JobStatus, StudyEvents, StudyOptions, StudyProgress, StudyReport};
use disc_runtime::train::RunOptions;

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
    /// Run every job of the plan, in index order (finished jobs are skipped, interrupted ones resume).
    #[arg(long)]
    pub all: bool,
    /// Train this many jobs at once, each on its share of the cores (default 1). Jobs are claimed
    /// with a lock in their run directory, so several `disc run` processes can share one study.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub workers: Option<u64>,
    /// The results root; each job writes `<out>/<index:05>-<hash>/`.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    pub out: PathBuf,
    /// `cpu`, `cuda` (GPU 0), `cuda:N`, `cuda:N,M,…` (study workers take the GPUs in turn), or
    /// `auto` (CUDA when compiled in and a GPU driver is present, else CPU).
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: String,
    /// Skip the metrics and images after training.
    #[arg(long)]
    pub no_eval: bool,
    /// Override a parameter of every experiment, as if the file wrote it: `--set train.steps=2000`
    /// (repeatable; checked like file text, and part of the plan and the job hashes).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// When to use colours in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Reads the plan from a `.ron` file or compiles a `.dis` file; `Err(code)` after reporting.
pub(crate) fn load_plan(path: &Path, color: ColorChoice, set: &[String]) -> Result<Plan, ExitCode> {
    if path.extension().is_some_and(|ext| ext == "ron") {
        if !set.is_empty() {
            eprintln!(
                "error: `--set` applies to `.dis` files; {} is a compiled plan (recompile it with `disc plan FILE.dis --set ... -o PLAN`)",
                path.display()
            );
            return Err(ExitCode::from(2));
        }
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
    // The jobs are collected within the memory this machine has available: a plan that does not
    // fit is refused with its size (E0412) instead of exhausting memory.
    let mut collect = Bounded::new(memory_budget());
    let mut compiled = disc_compiler::compile_streaming(root, &FsLoader, set, &mut collect);
    if let Some(plan) = &compiled.plan
        && let Some(estimate) = collect.overflow
    {
        let budget = collect.budget.unwrap_or(0);
        compiled.diagnostics.push(diagnostic::Diagnostic {
            code: "E0412",
            severity: diagnostic::Severity::Error,
            message: format!(
                "the plan's {} jobs need about {} of memory, more than the {} this machine has available",
                collect.total,
                bytes(estimate.saturating_mul(collect.total)),
                bytes(budget)
            ),
            source: diagnostic::SourceId(0),
            span: 0..0,
            label: "this study".to_string(),
            help: Some(format!(
                "run part of it (`disc plan {} -o plan.ron` streams any plan; split the sweep over several files), or use a machine with more memory",
                plan.source
            )),
        });
        compiled.plan = None;
    }
    if !compiled.diagnostics.is_empty() {
        eprint!("{}", render(&compiled, render_options(color)));
    }
    match compiled.plan {
        Some(mut plan) => {
            plan.jobs = collect.jobs;
            Ok(plan)
        }
        None => {
            eprintln!(
                "error: no plan: {}",
                diagnostic::summary(&compiled.diagnostics)
            );
            Err(ExitCode::from(1))
        }
    }
}

/// Collects a streamed plan while its jobs fit in `budget` bytes of memory (measured as the
/// growth of this process's resident memory); past that it only counts them.
struct Bounded {
    jobs: Vec<Job>,
    total: u64,
    budget: Option<u64>,
    start: u64,
    /// Bytes per job, measured, once the jobs no longer fit.
    overflow: Option<u64>,
}

impl Bounded {
    /// Memory is measured every this many jobs.
    const EVERY: u64 = 1024;

    fn new(budget: Option<u64>) -> Self {
        Bounded {
            jobs: Vec::new(),
            total: 0,
            budget,
            start: resident_bytes().unwrap_or(0),
            overflow: None,
        }
    }
}

impl disc_compiler::PlanStream for Bounded {
    fn begin(&mut self, _header: &Plan) {}

    fn job(&mut self, job: Job) {
        self.total += 1;
        if self.overflow.is_some() {
            return;
        }
        self.jobs.push(job);
        if self.total.is_multiple_of(Self::EVERY)
            && let (Some(budget), Some(now)) = (self.budget, resident_bytes())
        {
            let used = now.saturating_sub(self.start);
            if used > budget {
                self.overflow = Some(used / self.total.max(1));
                self.jobs = Vec::new();
            }
        }
    }
}

/// The memory a plan may take: `DISC_MEMORY_LIMIT` (bytes) when set, else 80% of what the
/// system reports available (Linux's `MemAvailable`); `None` (no limit) where neither is known.
pub(crate) fn memory_budget() -> Option<u64> {
    if let Some(limit) = std::env::var("DISC_MEMORY_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(limit);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024) / 5 * 4)
}

/// This process's resident memory in bytes (Linux's `/proc/self/statm`), `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // The page size of every Linux platform disc builds for.
    Some(pages.saturating_mul(4096))
}

/// A byte count for people: `1.3 GB`.
fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (scale, unit) in UNITS {
        if n >= scale {
            // Display only: the precision lost converting to f64 is far below the digits shown.
            #[allow(clippy::cast_precision_loss)]
            let value = n as f64 / scale as f64;
            return format!("{value:.1} {unit}");
        }
    }
    format!("{n} bytes")
}

/// Runs `disc run`.
pub fn run(args: RunArgs) -> ExitCode {
    let plan = match load_plan(&args.file, args.color, &args.set) {
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
    let device_name = choice.describe();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let requested = usize::try_from(args.workers.unwrap_or(1)).unwrap_or(usize::MAX);
    let (workers, threads_per_worker) = study::share_cores(cores, requested);
    if requested > workers {
        eprintln!(
            "warning: {requested} workers asked for, but this machine has {cores} cores; using {workers}"
        );
    }
    let workers = workers.min(jobs.len().max(1));
    // One updating line per job only makes sense when one job trains at a time.
    let progress = match Progress::detect() {
        Progress::Bar if workers > 1 => Progress::Lines,
        other => other,
    };
    let _quiet = device::quiet_panics(&choice);
    let jobs: Vec<Job> = jobs.into_iter().cloned().collect();
    if let Err(message) = record_plan(&args.out, &plan) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    if jobs.len() > 1 {
        eprintln!(
            "study: {} jobs → {}, {workers} worker{} × {threads_per_worker} thread{} on {device_name}",
            jobs.len(),
            args.out.display(),
            if workers == 1 { "" } else { "s" },
            if threads_per_worker == 1 { "" } else { "s" },
        );
    }
    let options = StudyOptions {
        run: RunOptions {
            out: args.out.clone(),
            device_name: choice.name_for(0),
            observer: std::sync::Arc::new(progress),
            stop_after: None,
            evaluate: !args.no_eval,
        },
        workers,
        threads_per_worker,
    };
    let printer = Printer {
        out: args.out.clone(),
        device: device_name.clone(),
        study: jobs.len() > 1,
    };
    let report = study::run_study(&jobs, &options, &printer, &|job, run, worker| {
        if choice == device::DeviceChoice::Cpu {
            return device::run_job_on(&choice, worker, job, run);
        }
        // Each worker records the GPU it trains on.
        let run = RunOptions {
            device_name: choice.name_for(worker),
            ..run.clone()
        };
        device::run_job_on(&choice, worker, job, &run)
    });
    let failed = report.count(|s| matches!(s, JobStatus::Failed { .. }));
    if jobs.len() > 1 || failed > 0 {
        eprint!("{}", summary(&report));
    }
    if failed > 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Writes the plan beside the runs as `<out>/plan.ron`, so the study can be reproduced and
/// `disc results` lists jobs that never started. Jobs of a plan already there (another study run
/// into the same directory) are kept: the file holds the union, by index and hash.
pub(crate) fn record_plan(out: &Path, plan: &Plan) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| {
        format!(
            "cannot create the results directory `{}`: {e}",
            out.display()
        )
    })?;
    let path = out.join("plan.ron");
    let existing = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| ron::from_str::<Plan>(&text).ok());
    let Some(existing) = existing else {
        return super::plan::write_plan_file(&path, plan, &plan.jobs);
    };
    if existing == *plan {
        return Ok(());
    }
    // The union by index and hash, looked up in a set: a large study is not compared job by job.
    let known: std::collections::BTreeSet<(u64, &str)> = plan
        .jobs
        .iter()
        .map(|j| (j.index, j.hash.as_str()))
        .collect();
    let mut recorded: Vec<&Job> = plan.jobs.iter().collect();
    recorded.extend(
        existing
            .jobs
            .iter()
            .filter(|j| !known.contains(&(j.index, j.hash.as_str()))),
    );
    recorded.sort_by(|a, b| (a.index, &a.hash).cmp(&(b.index, &b.hash)));
    super::plan::write_plan_file(&path, plan, recorded)
}

/// Prints study events on standard error (the job's own progress lines come from the runtime).
struct Printer {
    out: PathBuf,
    device: String,
    /// Whether to print the study's counts with each event (more than one job selected).
    study: bool,
}

impl Printer {
    fn counts(&self, progress: StudyProgress) -> String {
        if !self.study {
            return String::new();
        }
        let eta = progress
            .eta_seconds
            .map_or_else(String::new, |s| format!(", ETA {}", duration(s)));
        format!(
            "  [study: {} done, {} failed, {} skipped, {} running, {} left{eta}]",
            progress.done,
            progress.failed,
            progress.skipped,
            progress.running,
            progress.left()
        )
    }
}

impl StudyEvents for Printer {
    fn started(&self, job: &Job, progress: StudyProgress) {
        let work = match &job.model {
            ModelSpec::Pca { samples, .. } => format!("PCA fitted to {samples} samples"),
            ModelSpec::Ica { samples, .. } => format!("FastICA fitted to {samples} samples"),
            ModelSpec::Vae(_) | ModelSpec::InfoGan(_) => {
                format!("{} steps × batch {}", job.train.steps, job.train.batch_size)
            }
        };
        eprintln!(
            "job {} ({}, {work}) on {} → {}{}",
            job.index,
            job.experiment,
            self.device,
            RunDir::for_job(&self.out, job).root().display(),
            self.counts(progress)
        );
    }

    fn finished(&self, job: &Job, status: &JobStatus, progress: StudyProgress) {
        let dir = RunDir::for_job(&self.out, job);
        if let JobStatus::Done {
            metric_failures, ..
        } = status
        {
            for (representation, metric, error) in metric_failures {
                eprintln!(
                    "warning: job {}: `{metric}` ({representation} representation) could not be computed: {error}",
                    job.index
                );
            }
        }
        let what = match status {
            JobStatus::Done { seconds, .. } => format!(
                "done in {}, results in {}",
                duration(*seconds),
                dir.root().display()
            ),
            JobStatus::Failed { reason } => format!("failed: {reason}"),
            JobStatus::AlreadyDone => "already finished, skipped".to_string(),
            JobStatus::RunningElsewhere => "being trained by another worker, skipped".to_string(),
        };
        let prefix = if matches!(status, JobStatus::Failed { .. }) {
            "error: "
        } else {
            ""
        };
        eprintln!("{prefix}job {}: {what}{}", job.index, self.counts(progress));
    }
}

/// The end-of-study summary: counts, then each failure with its reason.
fn summary(report: &StudyReport) -> String {
    use std::fmt::Write as _;
    let done = report.count(|s| matches!(s, JobStatus::Done { .. }));
    let failed = report.count(|s| matches!(s, JobStatus::Failed { .. }));
    let finished_before = report.count(|s| matches!(s, JobStatus::AlreadyDone));
    let elsewhere = report.count(|s| matches!(s, JobStatus::RunningElsewhere));
    let mut text = format!(
        "summary: {} jobs in {}: {done} done, {failed} failed, {finished_before} skipped (finished before), {elsewhere} skipped (running elsewhere)\n",
        report.jobs.len(),
        duration(report.seconds)
    );
    for (index, status) in &report.jobs {
        if let JobStatus::Failed { reason } = status {
            let _ = writeln!(text, "  job {index} failed: {reason}");
        }
    }
    text
}

/// Seconds as `1h02m03s` / `2m03s` / `3s`.
pub(crate) fn duration(seconds: f64) -> String {
    // Display only: whole seconds of a wall time fit easily.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m{sec:02}s"),
        (h, min, sec) => format!("{h}h{min:02}m{sec:02}s"),
    }
}
