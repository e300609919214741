//! Running many jobs of a plan: a pool of local workers that claim jobs, skip finished ones, keep
//! going past failures and report what happened.
//!
//! Each worker is a thread with its own rayon pool of `threads_per_worker` threads, so the workers
//! together never use more threads than the caller allows (the machine's cores): burn's CPU
//! kernels and the metrics run on the pool of the worker that calls them. Workers take jobs in
//! plan order from a shared cursor; a job is trained by whoever claims its run directory
//! ([`RunDir::try_claim`]), so workers of *other* invocations (a second `disc run`, Slurm tasks on a
//! shared file system) never train it twice. A job whose run directory holds `results.json` is
//! skipped; an interrupted one resumes from its checkpoint (that is [`crate::train::run_job`]'s
//! behaviour). A failing or panicking job is recorded and the others go on.
//!
//! This module must not print: progress goes to the caller's [`StudyEvents`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use disc_compiler::plan::Job;

use crate::artifacts::RunDir;
use crate::error::RuntimeError;
use crate::train::{JobOutcome, RunOptions};

/// Trains one job with the given options on a backend of the caller's choice (the binary picks
/// the device; this module stays generic), as worker number `worker` (`0..workers`; e.g. to give
/// each worker its own GPU). Usually `run_job::<SomeBackend>` behind a closure.
pub type TrainJob<'a> =
    dyn Fn(&Job, &RunOptions, usize) -> Result<JobOutcome, RuntimeError> + Sync + 'a;

/// What happened to one job in this invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum JobStatus {
    /// Trained (or resumed) to the end by this invocation, in this many wall seconds.
    Done {
        seconds: f64,
        resumed_from: Option<u64>,
        /// Metrics that could not be computed: (representation, metric, error).
        metric_failures: Vec<(String, String, String)>,
    },
    /// Failed with this reason; its run directory keeps what it wrote (and its last checkpoint).
    Failed { reason: String },
    /// Already finished before this invocation looked at it.
    AlreadyDone,
    /// Another worker (another process) held its claim: it is being trained elsewhere.
    RunningElsewhere,
}

/// Study-wide counts, passed with every event.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StudyProgress {
    /// Jobs selected.
    pub total: usize,
    /// Trained to the end by this invocation so far.
    pub done: usize,
    pub failed: usize,
    /// Finished before, or running in another process.
    pub skipped: usize,
    /// Being trained by this invocation's workers now.
    pub running: usize,
    /// Estimated seconds until the last job ends (from the mean time of the jobs done so far),
    /// `None` before the first job is done.
    pub eta_seconds: Option<f64>,
}

impl StudyProgress {
    /// Jobs not yet started by this invocation.
    pub fn left(&self) -> usize {
        self.total
            .saturating_sub(self.done + self.failed + self.skipped + self.running)
    }
}

/// Receives study events, from any worker thread.
pub trait StudyEvents: Sync {
    /// A worker claimed `job` and starts (or resumes) training it.
    fn started(&self, job: &Job, progress: StudyProgress);
    /// `job` ended (or was skipped) with `status`.
    fn finished(&self, job: &Job, status: &JobStatus, progress: StudyProgress);
}

/// How to run a study.
#[derive(Clone)]
pub struct StudyOptions {
    /// Options of each job (results root, device name, progress observer, evaluation).
    pub run: RunOptions,
    /// Number of workers (threads training one job each); at least 1.
    pub workers: usize,
    /// Threads of each worker's pool; at least 1.
    pub threads_per_worker: usize,
}

/// The outcome of every selected job, in plan order.
#[derive(Debug, Clone)]
pub struct StudyReport {
    pub jobs: Vec<(u64, JobStatus)>,
    /// Wall seconds of the whole invocation.
    pub seconds: f64,
}

impl StudyReport {
    /// The number of jobs with a status like `pick`.
    pub fn count(&self, pick: impl Fn(&JobStatus) -> bool) -> usize {
        self.jobs.iter().filter(|(_, status)| pick(status)).count()
    }
}

/// Splits `cores` among `workers`: each worker gets `cores / workers` threads (at least one), and
/// the number of workers is capped at `cores`, so that workers × threads never exceeds the cores.
/// Returns `(workers, threads_per_worker)`.
pub fn share_cores(cores: usize, workers: usize) -> (usize, usize) {
    let cores = cores.max(1);
    let workers = workers.clamp(1, cores);
    (workers, (cores / workers).max(1))
}

/// Runs `jobs` with `options.workers` workers, each job trained by `train`, and reports each
/// job's fate.
pub fn run_study(
    jobs: &[Job],
    options: &StudyOptions,
    events: &dyn StudyEvents,
    train: &TrainJob<'_>,
) -> StudyReport {
    let started = Instant::now();
    let cursor = AtomicUsize::new(0);
    let state = Mutex::new(Tally {
        progress: StudyProgress {
            total: jobs.len(),
            ..StudyProgress::default()
        },
        statuses: vec![None; jobs.len()],
        busy_seconds: 0.0,
    });
    let workers = options.workers.max(1).min(jobs.len().max(1));
    std::thread::scope(|scope| {
        for number in 0..workers {
            let (cursor, state) = (&cursor, &state);
            scope.spawn(move || {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(options.threads_per_worker.max(1))
                    .build();
                let work = || {
                    let this = Worker {
                        number,
                        workers,
                        cursor,
                        state,
                    };
                    worker(jobs, options, events, train, &this)
                };
                match pool {
                    Ok(pool) => pool.install(work),
                    // Without a pool of its own the worker still runs, on the global one.
                    Err(_) => work(),
                }
            });
        }
    });
    let tally = state
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    StudyReport {
        jobs: jobs
            .iter()
            .zip(tally.statuses)
            .map(|(job, status)| {
                (
                    job.index,
                    status.unwrap_or(JobStatus::Failed {
                        reason: "no worker reached this job".to_string(),
                    }),
                )
            })
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Shared counts and statuses.
struct Tally {
    progress: StudyProgress,
    statuses: Vec<Option<JobStatus>>,
    /// Sum of the wall times of the jobs done, for the ETA.
    busy_seconds: f64,
}

impl Tally {
    fn record(&mut self, position: usize, status: JobStatus, was_running: bool, workers: usize) {
        if was_running {
            self.progress.running = self.progress.running.saturating_sub(1);
        }
        match &status {
            JobStatus::Done { seconds, .. } => {
                self.progress.done += 1;
                self.busy_seconds += seconds;
            }
            JobStatus::Failed { .. } => self.progress.failed += 1,
            JobStatus::AlreadyDone | JobStatus::RunningElsewhere => self.progress.skipped += 1,
        }
        if self.progress.done > 0 {
            let mean = self.busy_seconds / self.progress.done as f64;
            let remaining = (self.progress.left() + self.progress.running) as f64;
            self.progress.eta_seconds = Some(mean * remaining / workers.max(1) as f64);
        }
        if let Some(slot) = self.statuses.get_mut(position) {
            *slot = Some(status);
        }
    }
}

/// One worker's identity and the state the workers share.
#[derive(Clone, Copy)]
struct Worker<'a> {
    /// This worker's number, `0..workers`.
    number: usize,
    workers: usize,
    /// The next job position to take.
    cursor: &'a AtomicUsize,
    state: &'a Mutex<Tally>,
}

fn worker(
    jobs: &[Job],
    options: &StudyOptions,
    events: &dyn StudyEvents,
    train: &TrainJob<'_>,
    this: &Worker<'_>,
) {
    let Worker {
        number,
        workers,
        cursor,
        state,
    } = *this;
    let lock = || state.lock().unwrap_or_else(|poison| poison.into_inner());
    loop {
        let position = cursor.fetch_add(1, Ordering::SeqCst);
        let Some(job) = jobs.get(position) else {
            return;
        };
        let run_dir = RunDir::for_job(&options.run.out, job);
        let skip = |status: JobStatus| {
            let progress = {
                let mut tally = lock();
                tally.record(position, status.clone(), false, workers);
                tally.progress
            };
            events.finished(job, &status, progress);
        };
        if run_dir.is_finished() {
            skip(JobStatus::AlreadyDone);
            continue;
        }
        let claim = match run_dir.try_claim() {
            Ok(Some(claim)) => claim,
            Ok(None) => {
                skip(JobStatus::RunningElsewhere);
                continue;
            }
            Err(error) => {
                skip(JobStatus::Failed {
                    reason: error.to_string(),
                });
                continue;
            }
        };
        // Another worker may have finished it between the check above and the claim.
        if run_dir.is_finished() {
            drop(claim);
            skip(JobStatus::AlreadyDone);
            continue;
        }
        if let Err(error) = run_dir.clear_failure() {
            drop(claim);
            skip(JobStatus::Failed {
                reason: error.to_string(),
            });
            continue;
        }
        let progress = {
            let mut tally = lock();
            tally.progress.running += 1;
            tally.progress
        };
        events.started(job, progress);
        let job_started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| train(job, &options.run, number)));
        let status = match result {
            Ok(Ok(outcome)) if outcome.finished => JobStatus::Done {
                seconds: job_started.elapsed().as_secs_f64(),
                resumed_from: outcome.resumed_from,
                metric_failures: outcome.metric_failures,
            },
            Ok(Ok(outcome)) => JobStatus::Failed {
                reason: format!("stopped at step {} before the end", outcome.steps),
            },
            Ok(Err(error)) => JobStatus::Failed {
                reason: error.to_string(),
            },
            Err(payload) => JobStatus::Failed {
                reason: format!(
                    "internal error (a panic): {}",
                    payload
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| payload.downcast_ref::<&str>().copied())
                        .unwrap_or("no message")
                ),
            },
        };
        if let JobStatus::Failed { reason } = &status {
            // Best effort: the failure is reported to the caller either way.
            let _ = run_dir.write_failure(reason);
        }
        drop(claim);
        let progress = {
            let mut tally = lock();
            tally.record(position, status.clone(), true, workers);
            tally.progress
        };
        events.finished(job, &status, progress);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_are_shared_without_oversubscription() {
        assert_eq!(share_cores(2, 2), (2, 1));
        assert_eq!(share_cores(16, 3), (3, 5));
        assert_eq!(share_cores(2, 8), (2, 1));
        assert_eq!(share_cores(8, 0), (1, 8));
        assert_eq!(share_cores(0, 4), (1, 1));
        for cores in 1..20 {
            for workers in 0..30 {
                let (w, t) = share_cores(cores, workers);
                assert!(w * t <= cores && w >= 1 && t >= 1, "{cores} {workers}");
            }
        }
    }
}
