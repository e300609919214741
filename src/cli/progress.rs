//! How a training job's progress is shown: the binary's [`Observer`] of the runtime.
//!
//! On a terminal one line per job updates in place (step, terms, images/s, ETA); in a pipe or a
//! log every logged step is its own line, so Slurm logs and `tee` keep the whole history. Output
//! is best effort: a closed standard error must not stop training.

use std::io::{IsTerminal, Write};

use disc_compiler::plan::Job;
use disc_runtime::artifacts::LossRecord;
use disc_runtime::train::Observer;

use super::run::duration;

/// The style of the progress output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A single updating line (for terminals).
    Bar,
    /// One plain line per logged step (for logs and pipes).
    Lines,
}

impl Progress {
    /// [`Progress::Bar`] when standard error is a terminal, else [`Progress::Lines`].
    pub fn detect() -> Self {
        if std::io::stderr().is_terminal() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }
}

impl Observer for Progress {
    fn resuming(&self, job: &Job, step: u64) {
        eprintln!(
            "job {}: resuming from the checkpoint at step {step} of {}",
            job.index, job.train.steps
        );
    }

    fn logged(&self, job: &Job, record: &LossRecord, start: u64) {
        let total = job.train.steps;
        let terms: Vec<String> = record
            .terms
            .iter()
            .map(|(name, value)| format!("{name} {value:.4}"))
            .collect();
        let done = record.step.saturating_sub(start);
        let per_step = if done > 0 {
            record.elapsed_seconds / done as f64
        } else {
            0.0
        };
        let eta = duration(per_step * total.saturating_sub(record.step) as f64);
        let width = total.to_string().len();
        let line = format!(
            "job {} step {:>width$}/{total} ({:>3}%) loss {:.4} | {} | {:.0} img/s | ETA {eta}",
            job.index,
            record.step,
            record.step * 100 / total.max(1),
            record.loss,
            terms.join(", "),
            record.images_per_second,
        );
        let mut err = std::io::stderr().lock();
        let _ = match self {
            Progress::Bar => write!(err, "\r\x1b[2K{line}"),
            Progress::Lines => writeln!(err, "{line}"),
        };
        let _ = err.flush();
    }

    fn trained(&self, _job: &Job) {
        if *self == Progress::Bar {
            eprintln!();
        }
    }

    fn fitted(&self, job: &Job, message: &str) {
        eprintln!("job {}: {message}", job.index);
    }

    fn warning(&self, job: &Job, message: &str) {
        eprintln!("warning: job {}: {message}", job.index);
    }

    fn evaluating(&self, job: &Job, metric: &str, representation: &str) {
        eprintln!(
            "job {}: evaluating {metric} ({representation} representation)",
            job.index
        );
    }
}
