//! `disc plan FILE [--list] [--job N] [-o plan.ron]`: compile a `.dis` file into its plan.
//!
//! Without options the plan is printed as RON on standard output. `--list` prints the job table
//! instead (index, hash, experiment, swept values, cost as steps × batch). `--job N` keeps only job
//! N. `-o FILE` writes the RON atomically (a temporary file in the same directory, then a rename),
//! so a reader never sees half a plan. Diagnostics go to standard error.
//!
//! Exit codes: 0 with a plan (warnings allowed), 1 when the file has errors, 2 for usage errors,
//! unreadable input, a job index that does not exist, or a plan that cannot be written.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use disc_compiler::diagnostic;
use disc_compiler::plan::{Job, Plan};

use super::check::{ColorChoice, FsLoader, read_root, render, render_options};

/// Arguments of `disc plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The `.dis` file to compile.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the job table (index, hash, swept values, cost) instead of the RON plan.
    #[arg(long)]
    pub list: bool,
    /// Keep only the job with this index.
    #[arg(long, value_name = "N")]
    pub job: Option<u64>,
    /// Write the RON plan to this file (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "PLAN")]
    pub output: Option<PathBuf>,
    /// Override a parameter of every experiment, as if the file wrote it: `--set train.steps=2000`
    /// (repeatable; checked like file text, and part of the plan and the job hashes).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// When to use colours in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Runs `disc plan`.
pub fn run(args: PlanArgs) -> ExitCode {
    let root = match read_root(&args.file) {
        Ok(root) => root,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let compiled = disc_compiler::compile_with(root, &FsLoader, &args.set);
    if !compiled.diagnostics.is_empty() {
        eprint!("{}", render(&compiled, render_options(args.color)));
    }
    let Some(mut plan) = compiled.plan else {
        eprintln!(
            "error: no plan: {}",
            diagnostic::summary(&compiled.diagnostics)
        );
        return ExitCode::from(1);
    };
    if let Some(index) = args.job {
        let total = plan.jobs.len();
        plan.jobs.retain(|job| job.index == index);
        if plan.jobs.is_empty() {
            eprintln!(
                "error: there is no job {index}: the plan has {total} jobs (indices 0 to {})",
                total.saturating_sub(1)
            );
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.output {
        let text = match plan_ron(&plan) {
            Ok(text) => text,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        if let Err(err) = write_atomically(path, &text) {
            eprintln!("error: cannot write `{}`: {err}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("wrote {} jobs to `{}`", plan.jobs.len(), path.display());
    }
    if args.list {
        let mut out = io::BufWriter::new(io::stdout().lock());
        // A closed pipe (`disc plan --list ... | head`) is not an error worth a message.
        let _ = write_job_table(&mut out, &plan.jobs).and_then(|()| out.flush());
        return ExitCode::SUCCESS;
    }
    let stdout = if args.output.is_none() {
        Some(plan_ron(&plan))
    } else {
        None
    };
    match stdout {
        Some(Ok(text)) => {
            // A closed pipe (`disc plan ... | head`) is not an error worth a message.
            let _ = io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Some(Err(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        None => ExitCode::SUCCESS,
    }
}

/// The plan as pretty RON (byte-stable: the plan holds only `Vec`s and `BTreeMap`s).
pub fn plan_ron(plan: &Plan) -> Result<String, String> {
    let config = ron::ser::PrettyConfig::new().indentor("  ".to_string());
    ron::ser::to_string_pretty(plan, config)
        .map(|mut text| {
            text.push('\n');
            text
        })
        .map_err(|err| format!("cannot serialise the plan: {err}"))
}

/// Writes `text` to a temporary file next to `path`, flushes it to disk, then renames it over
/// `path`, so `path` holds either the old content or the whole new one.
pub(crate) fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "plan".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        // Best effort: do not leave the temporary file behind; the original error is what matters.
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// One row of the `--list` table: index, hash, experiment, swept values, cost.
fn job_row(job: &Job) -> [String; 5] {
    let swept: Vec<String> = job.swept.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let cost = job
        .train
        .steps
        .saturating_mul(u64::from(job.train.batch_size));
    [
        job.index.to_string(),
        job.hash.clone(),
        job.experiment.clone(),
        if swept.is_empty() {
            "-".to_string()
        } else {
            swept.join(" ")
        },
        format!(
            "{} × {} = {}",
            job.train.steps,
            job.train.batch_size,
            si(cost)
        ),
    ]
}

/// Writes the `--list` table: one row per job, columns aligned, and a total line.
///
/// Rows are streamed: a first pass measures the columns, a second formats and writes each row
/// as it goes, so the listing of a large plan never holds more than one row of text.
/// Cost is the number of training examples a job processes (steps × batch size); it is what run
/// time scales with for a fixed architecture.
pub fn write_job_table(out: &mut impl io::Write, jobs: &[Job]) -> io::Result<()> {
    let header = [
        "index",
        "hash",
        "experiment",
        "swept",
        "cost (steps × batch)",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for job in jobs {
        for (w, cell) in widths.iter_mut().zip(job_row(job)) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let write_row = |out: &mut dyn io::Write, row: &[String; 5]| -> io::Result<()> {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            let pad = width.saturating_sub(cell.chars().count());
            if i == 0 {
                // Right-align the index column.
                let _ = write!(line, "{}{cell}  ", " ".repeat(pad));
            } else if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
            }
        }
        writeln!(out, "{}", line.trim_end())
    };
    write_row(out, &header)?;
    for job in jobs {
        write_row(out, &job_row(job))?;
    }
    let total = jobs.iter().fold(0u64, |acc, j| {
        acc.saturating_add(j.train.steps.saturating_mul(u64::from(j.train.batch_size)))
    });
    let noun = if jobs.len() == 1 { "job" } else { "jobs" };
    writeln!(
        out,
        "{} {noun}, {} examples in total",
        jobs.len(),
        si(total)
    )
}

/// A count with an SI suffix and three significant digits: 19200000 → `19.2M`.
fn si(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "k"),
    ];
    for (scale, unit) in UNITS {
        if n >= scale {
            // Display only: the precision lost converting to f64 is far below the digits shown.
            #[allow(clippy::cast_precision_loss)]
            let value = n as f64 / scale as f64;
            let digits = if value >= 100.0 {
                0
            } else if value >= 10.0 {
                1
            } else {
                2
            };
            return format!("{value:.digits$}{unit}");
        }
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::si;

    #[test]
    fn si_suffixes() {
        assert_eq!(si(0), "0");
        assert_eq!(si(999), "999");
        assert_eq!(si(19_200_000), "19.2M");
        assert_eq!(si(1_500), "1.50k");
        assert_eq!(si(241_920_000_000), "242G");
    }
}
