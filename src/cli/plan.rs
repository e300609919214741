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
///
/// The plan is streamed: the compiler hands it over job by job and each job is written (as RON,
/// to standard output or a temporary file renamed at the end) or reduced to its table row as it
/// comes, so memory does not grow with the number of jobs (issue 11). Only `--job N` holds one job.
pub fn run(args: PlanArgs) -> ExitCode {
    let root = match read_root(&args.file) {
        Ok(root) => root,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    // The RON goes to the `-o` file, else to standard output unless the table is asked for.
    let temp = args.output.as_deref().map(temp_path);
    let ron_out: Option<Output> = match (&args.output, &temp) {
        (Some(path), Some(temp)) => match std::fs::File::create(temp) {
            Ok(file) => Some(Output::File(io::BufWriter::new(file))),
            Err(err) => {
                eprintln!("error: cannot write `{}`: {err}", path.display());
                return ExitCode::from(2);
            }
        },
        _ if args.list => None,
        _ => Some(Output::Stdout(io::BufWriter::new(io::stdout().lock()))),
    };
    let mut stream = Stream {
        only: args.job,
        total: 0,
        selected: Vec::new(),
        ron: ron_out.map(RonPlanWriter::new),
        table: args.list.then(JobTable::default),
    };
    let compiled = disc_compiler::compile_streaming(root, &FsLoader, &args.set, &mut stream);
    if !compiled.diagnostics.is_empty() {
        eprint!("{}", render(&compiled, render_options(args.color)));
    }
    let remove_temp = || {
        if let Some(temp) = &temp {
            // Best effort: the temporary file is not part of the result.
            let _ = std::fs::remove_file(temp);
        }
    };
    let Some(header) = compiled.plan else {
        remove_temp();
        eprintln!(
            "error: no plan: {}",
            diagnostic::summary(&compiled.diagnostics)
        );
        return ExitCode::from(1);
    };
    let Stream {
        total,
        selected,
        ron,
        table,
        ..
    } = stream;
    if let Some(index) = args.job {
        // `--job N`: nothing was written yet; the one selected job is written now.
        if selected.is_empty() {
            remove_temp();
            eprintln!(
                "error: there is no job {index}: the plan has {total} jobs (indices 0 to {})",
                total.saturating_sub(1)
            );
            return ExitCode::from(2);
        }
    }
    let mut ron = ron;
    let mut table = table;
    if args.job.is_some() {
        if let Some(writer) = &mut ron {
            writer.begin(&header);
        }
        for job in selected {
            if let Some(table) = &mut table {
                table.push(&job);
            }
            if let Some(writer) = &mut ron {
                writer.job(&job);
            }
        }
    }
    let written = ron.map(RonPlanWriter::finish);
    // Written to standard output instead, a closed pipe (`disc plan ... | head`) is not an error
    // worth a message.
    if let (Some(path), Some(temp), Some(result)) = (&args.output, &temp, written) {
        let renamed = result
            .and_then(Output::sync)
            .and_then(|()| std::fs::rename(temp, path));
        if let Err(err) = renamed {
            remove_temp();
            eprintln!("error: cannot write `{}`: {err}", path.display());
            return ExitCode::from(2);
        }
        let kept = if args.job.is_some() { 1 } else { total };
        eprintln!("wrote {kept} jobs to `{}`", path.display());
    }
    if let Some(table) = table {
        let mut out = io::BufWriter::new(io::stdout().lock());
        // A closed pipe (`disc plan --list ... | head`) is not an error worth a message.
        let _ = table.write(&mut out).and_then(|()| out.flush());
    }
    ExitCode::SUCCESS
}

/// Where `disc plan` sends the jobs the compiler streams.
struct Stream {
    /// `--job N`: keep only that job (held until the plan is known to have it).
    only: Option<u64>,
    /// Jobs seen.
    total: u64,
    /// The job `--job N` selected.
    selected: Vec<Job>,
    /// The RON output, when it is asked for (written as jobs come, unless `--job` is given).
    ron: Option<RonPlanWriter<Output>>,
    /// The `--list` table, when it is asked for.
    table: Option<JobTable>,
}

impl disc_compiler::PlanStream for Stream {
    fn begin(&mut self, header: &Plan) {
        if self.only.is_none()
            && let Some(ron) = &mut self.ron
        {
            ron.begin(header);
        }
    }

    fn job(&mut self, job: Job) {
        self.total += 1;
        match self.only {
            Some(index) if job.index == index => self.selected.push(job),
            Some(_) => {}
            None => {
                if let Some(table) = &mut self.table {
                    table.push(&job);
                }
                if let Some(ron) = &mut self.ron {
                    ron.job(&job);
                }
            }
        }
    }
}

/// Where the RON goes.
enum Output {
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    File(io::BufWriter<std::fs::File>),
}

impl Output {
    /// Flushes a file to disk (before it is renamed over the plan's path).
    fn sync(self) -> io::Result<()> {
        match self {
            Output::Stdout(_) => Ok(()),
            Output::File(file) => file.into_inner().map_err(|e| e.into_error())?.sync_all(),
        }
    }
}

impl io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(buf),
            Output::File(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::File(out) => out.flush(),
        }
    }
}

/// A temporary file next to `path`, renamed over it once the whole plan is written.
fn temp_path(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "plan".into(), |n| n.to_string_lossy().into_owned());
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes a plan as pretty RON job by job, byte for byte what [`plan_ron`] writes for the whole
/// plan: the header is RON's own text for the plan without jobs, each job RON's text for the job
/// indented to its depth (RON escapes line breaks inside strings, so every line of a job's text is
/// a line of the plan).
pub(crate) struct RonPlanWriter<W: io::Write> {
    out: W,
    jobs: u64,
    /// What follows the jobs' list in the header's text (`,\n)\n`).
    tail: String,
    /// The first error; once set, nothing more is written.
    error: Option<io::Error>,
}

/// The separator the header's text has between `jobs: [` and `]` when there is no job.
const NO_JOBS: &str = "jobs: [],";

impl<W: io::Write> RonPlanWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        RonPlanWriter {
            out,
            jobs: 0,
            tail: String::new(),
            error: None,
        }
    }

    fn write(&mut self, text: &str) {
        if self.error.is_none()
            && let Err(err) = self.out.write_all(text.as_bytes())
        {
            self.error = Some(err);
        }
    }

    pub(crate) fn begin(&mut self, header: &Plan) {
        let text = match plan_ron(header) {
            Ok(text) => text,
            Err(message) => {
                self.error = Some(io::Error::other(message));
                return;
            }
        };
        match text.rfind(NO_JOBS) {
            Some(at) => {
                let (head, rest) = text.split_at(at + "jobs: [".len());
                self.tail = rest.trim_start_matches(']').to_string();
                self.write(head);
            }
            None => self.error = Some(io::Error::other("cannot serialise the plan's header")),
        }
    }

    pub(crate) fn job(&mut self, job: &Job) {
        let config = ron::ser::PrettyConfig::new().indentor("  ".to_string());
        let text = match ron::ser::to_string_pretty(job, config) {
            Ok(text) => text,
            Err(err) => {
                self.error = Some(io::Error::other(format!(
                    "cannot serialise the plan: {err}"
                )));
                return;
            }
        };
        let mut chunk = String::with_capacity(text.len() + text.len() / 8);
        for line in text.lines() {
            chunk.push_str("\n    ");
            chunk.push_str(line);
        }
        chunk.push(',');
        self.jobs += 1;
        self.write(&chunk);
    }

    /// Ends the plan's text and flushes; the writer back, or the first error.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let end = if self.jobs == 0 {
            format!("]{}", self.tail)
        } else {
            format!("\n  ]{}", self.tail)
        };
        self.write(&end);
        if let Some(err) = self.error {
            return Err(err);
        }
        self.out.flush()?;
        Ok(self.out)
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

/// Writes `header`'s version, source and overrides with `jobs` as a plan's RON to
/// `path` atomically, streaming it (see [`RonPlanWriter`]): the plan's text is never held whole.
pub(crate) fn write_plan_file<'a>(
    path: &Path,
    header: &Plan,
    jobs: impl IntoIterator<Item = &'a Job>,
) -> Result<(), String> {
    let temp = temp_path(path);
    let written = (|| {
        let file = std::fs::File::create(&temp)?;
        let mut writer = RonPlanWriter::new(Output::File(io::BufWriter::new(file)));
        // The header's own jobs (if any) are not written: `jobs` are.
        writer.begin(&Plan {
            version: header.version,
            source: header.source.clone(),
            overrides: header.overrides.clone(),
            jobs: Vec::new(),
        });
        for job in jobs {
            writer.job(job);
        }
        writer.finish()?.sync()?;
        std::fs::rename(&temp, path)
    })();
    written.map_err(|e| {
        // Best effort: do not leave the temporary file behind; the original error is what matters.
        let _ = std::fs::remove_file(&temp);
        format!("cannot write `{}`: {e}", path.display())
    })
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

/// The `--list` table, built job by job: each row is kept as its text alone (about a hundred
/// bytes, not the job), since the columns are aligned to the widest cell once every row is known.
/// Cost is the number of training examples a job processes (steps × batch size); it is what run
/// time scales with for a fixed architecture.
#[derive(Default)]
pub(crate) struct JobTable {
    /// Each row's cells, concatenated.
    text: Vec<String>,
    /// Where each row's cells end in its text.
    ends: Vec<[u32; 5]>,
    widths: [usize; 5],
    jobs: u64,
    examples: u64,
}

const HEADER: [&str; 5] = [
    "index",
    "hash",
    "experiment",
    "swept",
    "cost (steps × batch)",
];

impl JobTable {
    pub(crate) fn push(&mut self, job: &Job) {
        let row = job_row(job);
        let mut text = String::with_capacity(row.iter().map(String::len).sum());
        let mut ends = [0u32; 5];
        for ((cell, end), width) in row.iter().zip(&mut ends).zip(&mut self.widths) {
            text.push_str(cell);
            *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
            *width = (*width).max(cell.chars().count());
        }
        self.text.push(text);
        self.ends.push(ends);
        self.jobs += 1;
        self.examples = self.examples.saturating_add(
            job.train
                .steps
                .saturating_mul(u64::from(job.train.batch_size)),
        );
    }

    /// Writes the table: one row per job, columns aligned, and a total line.
    pub(crate) fn write(&self, out: &mut impl io::Write) -> io::Result<()> {
        let mut widths = self.widths;
        for (w, h) in widths.iter_mut().zip(HEADER) {
            *w = (*w).max(h.chars().count());
        }
        let write_row = |out: &mut dyn io::Write, row: [&str; 5]| -> io::Result<()> {
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
        write_row(out, HEADER)?;
        for (text, ends) in self.text.iter().zip(&self.ends) {
            let mut cells = [""; 5];
            let mut start = 0usize;
            for (cell, end) in cells.iter_mut().zip(ends) {
                let end = *end as usize;
                *cell = text.get(start..end).unwrap_or("");
                start = end;
            }
            write_row(out, cells)?;
        }
        let noun = if self.jobs == 1 { "job" } else { "jobs" };
        writeln!(
            out,
            "{} {noun}, {} examples in total",
            self.jobs,
            si(self.examples)
        )
    }
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
    use super::{RonPlanWriter, plan_ron, si};
    use disc_compiler::{NoFiles, Source};

    /// The plan written job by job is byte for byte the plan written whole.
    #[test]
    fn streamed_ron_is_the_whole_plan() {
        let sources = [
            include_str!("../../tests/fixtures/check/ok/sweep_grid_zip_concat.dis"),
            include_str!("../../tests/fixtures/check/ok/infogan_codes.dis"),
            // A swept value written over two lines: its text holds a line break.
            "use std.data.{dsprites_full, noisy_dsprites}\nuse std.models.{conv_vae, beta_vae}\n\
             experiment e {\n  data = dsprites_full()\n  model = conv_vae(channels: data.channels)\n  loss = beta_vae()\n\
             sweep { data in [dsprites_full(\n), noisy_dsprites()] }\n}\n",
            // No experiment: no jobs.
            "def x = 1\n",
        ];
        for text in sources {
            let compiled = disc_compiler::compile(
                Source {
                    name: "t.dis".to_string(),
                    text: text.to_string(),
                },
                &NoFiles,
            );
            let Some(plan) = compiled.plan else {
                panic!("{text}\ndoes not compile: {:?}", compiled.diagnostics);
            };
            let whole = plan_ron(&plan).expect("serialisable");
            let mut writer = RonPlanWriter::new(Vec::new());
            let mut header = plan.clone();
            header.jobs.clear();
            writer.begin(&header);
            for job in &plan.jobs {
                writer.job(job);
            }
            let streamed = writer.finish().expect("written to memory");
            assert_eq!(String::from_utf8_lossy(&streamed), whole);
        }
    }

    #[test]
    fn si_suffixes() {
        assert_eq!(si(0), "0");
        assert_eq!(si(999), "999");
        assert_eq!(si(19_200_000), "19.2M");
        assert_eq!(si(1_500), "1.50k");
        assert_eq!(si(241_920_000_000), "242G");
    }
}
