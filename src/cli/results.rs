//! `disc results RUNS_DIR [--format table|csv|json] [--group-by COL,...] [--value COL]...`: one
//! table of a study's runs.
//!
//! A row per job: index, hash, experiment, every swept parameter as a typed value, status, steps,
//! final loss terms, every metric value, wall time, and the failure reason. A job scored with
//! several metric seeds (`evaluation(seed: [0, 1, 2])`) has a row per metric seed, told apart by
//! the `metric_seed` column, so that grouping aggregates over model seeds × metric seeds (the
//! β-VAE paper's protocol). Jobs come from the run
//! directories under RUNS_DIR and from `RUNS_DIR/plan.ron` (written by `disc run`), so jobs of the
//! plan that never started are listed too. Status: `done` (`results.json`), `running` (another
//! process holds the directory's lock), `failed` (`failed.json`), `interrupted` (started, then
//! stopped without finishing or failing: killed), `not started`.
//!
//! `--group-by` aggregates the value columns (by default: the final loss, every metric and the
//! wall time) over the rows of each group that have them: count, mean, median, sample standard
//! deviation and the β-VAE paper's "mean of the best half" (sort descending, keep the first
//! ⌈n/2⌉, average).
//!
//! CSV is RFC 4180 (a header line; fields with a comma, quote or newline quoted), JSON an array of
//! objects; both read with pandas' `read_csv`/`read_json` unchanged. Missing values are empty in CSV
//! and `null` in JSON. This module reads files and prints; it trains nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use disc_compiler::plan::{Job, Plan, SweptValue};
use disc_runtime::artifacts::{MetricOutcome, MetricsReport, RunDir, RunSummary};

/// Output format of `disc results`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ResultsFormat {
    /// Aligned columns for reading in a terminal.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// A JSON array with one object per row.
    Json,
}

/// Arguments of `disc results`.
#[derive(Debug, clap::Args)]
pub struct ResultsArgs {
    /// The results root that `disc run --out` wrote (default of `disc run`: `runs`).
    #[arg(value_name = "RUNS_DIR")]
    pub runs: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ResultsFormat::Table)]
    pub format: ResultsFormat,
    /// Aggregate over the rows sharing these columns (comma-separated), e.g. `loss,loss.beta`.
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// With `--group-by`: the columns to aggregate (repeatable; default: final loss, metrics, wall time).
    #[arg(long = "value", value_name = "COLUMN")]
    pub values: Vec<String>,
}

/// One cell of the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Missing,
}

impl Cell {
    fn number(&self) -> Option<f64> {
        match self {
            // Display and statistics only: study-sized integers are exact in f64.
            #[allow(clippy::cast_precision_loss)]
            Cell::Int(i) => Some(*i as f64),
            Cell::Float(x) => Some(*x),
            Cell::Bool(_) | Cell::Text(_) | Cell::Missing => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Int(i) => i.to_string(),
            Cell::Float(x) => format_float(*x),
            Cell::Bool(b) => b.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Missing => String::new(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Int(i) => serde_json::Value::from(*i),
            Cell::Float(x) => serde_json::Number::from_f64(*x)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Cell::Bool(b) => serde_json::Value::Bool(*b),
            Cell::Text(s) => serde_json::Value::String(s.clone()),
            Cell::Missing => serde_json::Value::Null,
        }
    }
}

/// Shortest text that reads back as the same f64.
fn format_float(x: f64) -> String {
    format!("{x}")
}

/// What state a job is in, as read from its run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Done,
    Running,
    Failed,
    Interrupted,
    NotStarted,
}

impl Status {
    /// The word shown in the `status` column.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Running => "running",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
            Status::NotStarted => "not started",
        }
    }
}

/// One job of the study, as found on disk.
#[derive(Debug, Clone)]
pub struct Row {
    pub index: u64,
    pub hash: String,
    pub experiment: String,
    pub swept: BTreeMap<String, SweptValue>,
    pub status: Status,
    /// Steps of the finished run.
    pub steps: Option<u64>,
    /// `loss` and every term of the last logged step.
    pub losses: BTreeMap<String, f64>,
    /// `<representation>.<metric>.<key>` → score.
    pub metrics: BTreeMap<String, f64>,
    /// The metric seed of `metrics`, for a job scored with several (one row per seed).
    pub metric_seed: Option<u64>,
    pub wall_seconds: Option<f64>,
    pub error: Option<String>,
}

/// Reads every job of the study under `runs`: its run directories, plus the jobs of
/// `runs/plan.ron` that have none. Problems with single files become warnings, not failures.
pub fn collect(runs: &Path) -> Result<(Vec<Row>, Vec<String>), String> {
    let entries = std::fs::read_dir(runs)
        .map_err(|e| format!("cannot read the runs directory `{}`: {e}", runs.display()))?;
    let mut warnings = Vec::new();
    let mut rows: BTreeMap<(u64, String), Vec<Row>> = BTreeMap::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((index, hash)) = parse_dir_name(&name) else {
            continue;
        };
        if !entry.path().is_dir() {
            continue;
        }
        let run = RunDir::new(runs, index, &hash);
        rows.insert(
            (index, hash.clone()),
            read_rows(&run, index, &hash, &mut warnings),
        );
    }
    let plan_path = runs.join("plan.ron");
    if plan_path.is_file() {
        match std::fs::read_to_string(&plan_path)
            .map_err(|e| e.to_string())
            .and_then(|text| ron::from_str::<Plan>(&text).map_err(|e| e.to_string()))
        {
            Ok(plan) => {
                for job in plan.jobs {
                    rows.entry((job.index, job.hash.clone()))
                        .or_insert_with(|| vec![row_of_job(&job, Status::NotStarted)]);
                }
            }
            Err(e) => warnings.push(format!(
                "{}: not a plan of this disc ({e}); jobs that never started are not listed",
                plan_path.display()
            )),
        }
    }
    Ok((rows.into_values().flatten().collect(), warnings))
}

/// `00012-0123456789abcdef` → (12, "0123456789abcdef").
fn parse_dir_name(name: &str) -> Option<(u64, String)> {
    let (index, hash) = name.split_once('-')?;
    let valid_hash = hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit());
    (index.len() >= 5 && valid_hash)
        .then(|| Some((index.parse().ok()?, hash.to_string())))
        .flatten()
}

fn row_of_job(job: &Job, status: Status) -> Row {
    Row {
        index: job.index,
        hash: job.hash.clone(),
        experiment: job.experiment.clone(),
        swept: job.swept.clone(),
        status,
        steps: None,
        losses: BTreeMap::new(),
        metrics: BTreeMap::new(),
        metric_seed: None,
        wall_seconds: None,
        error: None,
    }
}

/// The rows of one run directory: one, or one per metric seed when the job has several.
fn read_rows(run: &RunDir, index: u64, hash: &str, warnings: &mut Vec<String>) -> Vec<Row> {
    let job = std::fs::read_to_string(run.job_path())
        .ok()
        .and_then(|text| match ron::from_str::<Job>(&text) {
            Ok(job) => Some(job),
            Err(e) => {
                warnings.push(format!(
                    "{}: cannot read it ({e}); its swept values are not shown",
                    run.job_path().display()
                ));
                None
            }
        });
    let mut row = match &job {
        Some(job) => row_of_job(job, Status::Interrupted),
        None => Row {
            index,
            hash: hash.to_string(),
            experiment: String::new(),
            swept: BTreeMap::new(),
            status: Status::Interrupted,
            steps: None,
            losses: BTreeMap::new(),
            metrics: BTreeMap::new(),
            metric_seed: None,
            wall_seconds: None,
            error: None,
        },
    };
    let summary = std::fs::read_to_string(run.results_path())
        .ok()
        .map(|text| serde_json::from_str::<RunSummary>(&text));
    row.status = if run.is_claimed() {
        Status::Running
    } else if summary.is_some() {
        Status::Done
    } else if let Some(reason) = run.read_failure() {
        row.error = Some(reason);
        Status::Failed
    } else {
        Status::Interrupted
    };
    match summary {
        Some(Ok(summary)) => {
            row.steps = Some(summary.steps);
            row.losses.insert("loss".to_string(), summary.final_loss);
            row.losses.extend(summary.final_terms);
            row.wall_seconds = Some(summary.elapsed_seconds);
            if row.experiment.is_empty() {
                row.experiment = summary.experiment;
            }
        }
        Some(Err(e)) => warnings.push(format!("{}: {e}", run.results_path().display())),
        None => {}
    }
    row.metrics = read_metrics(&run.metrics_path(), warnings);
    let Some(job) = job.filter(|job| !job.evaluate.repeat_seeds.is_empty()) else {
        return vec![row];
    };
    row.metric_seed = Some(job.evaluate.seed);
    let mut rows = vec![row.clone()];
    for seed in &job.evaluate.repeat_seeds {
        rows.push(Row {
            metrics: read_metrics(&run.metrics_seed_path(*seed), warnings),
            metric_seed: Some(*seed),
            ..row.clone()
        });
    }
    rows
}

/// `<representation>.<metric>.<key>` → score of one metrics file (none when it does not exist).
fn read_metrics(path: &Path, warnings: &mut Vec<String>) -> BTreeMap<String, f64> {
    let mut metrics = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(path) {
        match serde_json::from_str::<MetricsReport>(&text) {
            Ok(report) => {
                for (representation, outcomes) in report.scores {
                    for (metric, outcome) in outcomes {
                        // A metric that could not be computed leaves its cells empty.
                        let MetricOutcome::Scores(scores) = outcome else {
                            continue;
                        };
                        for (key, value) in scores {
                            metrics.insert(format!("{representation}.{metric}.{key}"), value);
                        }
                    }
                }
            }
            Err(e) => warnings.push(format!("{}: {e}", path.display())),
        }
    }
    metrics
}

/// A table: column names and rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The position of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Loss columns are `final.<name>`, so that a swept `loss` and the final loss do not collide.
pub fn loss_column(name: &str) -> String {
    format!("final.{name}")
}

/// The row-per-job table.
pub fn job_table(rows: &[Row]) -> Table {
    let swept: BTreeSet<&String> = rows.iter().flat_map(|r| r.swept.keys()).collect();
    let losses: BTreeSet<&String> = rows.iter().flat_map(|r| r.losses.keys()).collect();
    // `loss` (the objective) first, then its terms.
    let mut losses: Vec<&String> = losses.into_iter().collect();
    losses.sort_by(|a, b| {
        (a.as_str() != "loss", a.as_str()).cmp(&(b.as_str() != "loss", b.as_str()))
    });
    let metrics: BTreeSet<&String> = rows.iter().flat_map(|r| r.metrics.keys()).collect();
    let seeded = rows.iter().any(|r| r.metric_seed.is_some());
    let mut columns: Vec<String> = ["index", "hash", "experiment"].map(String::from).to_vec();
    columns.extend(swept.iter().map(|s| (*s).clone()));
    if seeded {
        columns.push("metric_seed".to_string());
    }
    columns.extend(["status", "steps"].map(String::from));
    columns.extend(losses.iter().map(|l| loss_column(l)));
    columns.extend(metrics.iter().map(|m| (*m).clone()));
    columns.extend(["wall_seconds", "error"].map(String::from));
    let table_rows = rows
        .iter()
        .map(|row| {
            let mut cells = vec![
                Cell::Int(i64::try_from(row.index).unwrap_or(i64::MAX)),
                Cell::Text(row.hash.clone()),
                Cell::Text(row.experiment.clone()),
            ];
            cells.extend(swept.iter().map(|k| match row.swept.get(*k) {
                Some(SweptValue::Int(i)) => Cell::Int(*i),
                Some(SweptValue::Float(x)) => Cell::Float(*x),
                Some(SweptValue::Bool(b)) => Cell::Bool(*b),
                Some(SweptValue::Str(s)) => Cell::Text(s.clone()),
                Some(SweptValue::Expr(text)) => Cell::Text(text.clone()),
                None => Cell::Missing,
            }));
            if seeded {
                cells.push(row.metric_seed.map_or(Cell::Missing, |s| {
                    Cell::Int(i64::try_from(s).unwrap_or(i64::MAX))
                }));
            }
            cells.push(Cell::Text(row.status.word().to_string()));
            cells.push(row.steps.map_or(Cell::Missing, |s| {
                Cell::Int(i64::try_from(s).unwrap_or(i64::MAX))
            }));
            cells.extend(losses.iter().map(|l| {
                row.losses
                    .get(*l)
                    .map_or(Cell::Missing, |v| Cell::Float(*v))
            }));
            cells.extend(metrics.iter().map(|m| {
                row.metrics
                    .get(*m)
                    .map_or(Cell::Missing, |v| Cell::Float(*v))
            }));
            cells.push(row.wall_seconds.map_or(Cell::Missing, Cell::Float));
            cells.push(row.error.clone().map_or(Cell::Missing, Cell::Text));
            cells
        })
        .collect();
    Table {
        columns,
        rows: table_rows,
    }
}

/// Summary statistics of one group's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub count: usize,
    pub mean: f64,
    pub median: f64,
    /// Sample standard deviation (n − 1); `None` for fewer than two values.
    pub std: Option<f64>,
    /// Mean of the best (largest) ⌈n/2⌉ values.
    pub best_half_mean: f64,
}

/// Statistics of `values` (finite values only); `None` when there are none.
pub fn stats(values: &[f64]) -> Option<Stats> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let mean = sorted.iter().sum::<f64>() / nf;
    let median = match (sorted.get((n - 1) / 2), sorted.get(n / 2)) {
        (Some(a), Some(b)) => (a + b) / 2.0,
        _ => mean,
    };
    let std = (n > 1).then(|| {
        let ss: f64 = sorted.iter().map(|v| (v - mean).powi(2)).sum();
        (ss / (nf - 1.0)).sqrt()
    });
    let keep = n.div_ceil(2);
    let best = sorted.iter().rev().take(keep);
    #[allow(clippy::cast_precision_loss)]
    let best_half_mean = best.sum::<f64>() / keep as f64;
    Some(Stats {
        count: n,
        mean,
        median,
        std,
        best_half_mean,
    })
}

/// Aggregates `table` by the `keys` columns over the `values` columns (default: the numeric
/// result columns). Groups keep the order in which they first appear. `runs` counts the group's
/// rows (a job scored with several metric seeds counts once per seed).
pub fn group(table: &Table, keys: &[String], values: &[String]) -> Result<Table, String> {
    let key_positions: Vec<usize> = keys
        .iter()
        .map(|k| {
            table.column(k).ok_or_else(|| {
                format!(
                    "there is no column `{k}`; the columns are: {}",
                    table.columns.join(", ")
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let value_names: Vec<String> = if values.is_empty() {
        table
            .columns
            .iter()
            .filter(|c| {
                c.starts_with("final.") || c.matches('.').count() >= 2 || *c == "wall_seconds"
            })
            .filter(|c| !keys.contains(*c))
            .cloned()
            .collect()
    } else {
        values.to_vec()
    };
    let value_positions: Vec<usize> = value_names
        .iter()
        .map(|v| {
            table
                .column(v)
                .ok_or_else(|| format!("there is no column `{v}` to aggregate"))
        })
        .collect::<Result<_, _>>()?;
    let mut groups: Vec<(Vec<Cell>, Vec<&Vec<Cell>>)> = Vec::new();
    for row in &table.rows {
        let key: Vec<Cell> = key_positions
            .iter()
            .map(|p| row.get(*p).cloned().unwrap_or(Cell::Missing))
            .collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    let mut columns = keys.to_vec();
    columns.extend(["runs", "done"].map(String::from));
    for v in &value_names {
        for stat in ["n", "mean", "median", "std", "best_half_mean"] {
            columns.push(format!("{v}.{stat}"));
        }
    }
    let status = table.column("status");
    let rows = groups
        .into_iter()
        .map(|(key, members)| {
            let mut cells = key;
            cells.push(Cell::Int(i64::try_from(members.len()).unwrap_or(i64::MAX)));
            let done = members
                .iter()
                .filter(|r| status.and_then(|s| r.get(s)) == Some(&Cell::Text("done".to_string())))
                .count();
            cells.push(Cell::Int(i64::try_from(done).unwrap_or(i64::MAX)));
            for p in &value_positions {
                let values: Vec<f64> = members
                    .iter()
                    .filter_map(|r| r.get(*p).and_then(Cell::number))
                    .collect();
                match stats(&values) {
                    Some(s) => cells.extend([
                        Cell::Int(i64::try_from(s.count).unwrap_or(i64::MAX)),
                        Cell::Float(s.mean),
                        Cell::Float(s.median),
                        s.std.map_or(Cell::Missing, Cell::Float),
                        Cell::Float(s.best_half_mean),
                    ]),
                    None => cells.extend([
                        Cell::Int(0),
                        Cell::Missing,
                        Cell::Missing,
                        Cell::Missing,
                        Cell::Missing,
                    ]),
                }
            }
            cells
        })
        .collect();
    Ok(Table { columns, rows })
}

/// Renders `table` in `format`.
pub fn render(table: &Table, format: ResultsFormat) -> String {
    match format {
        ResultsFormat::Csv => {
            let mut out = String::new();
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            out.push_str(&line(table.columns.clone()));
            out.push('\n');
            for row in &table.rows {
                out.push_str(&line(row.iter().map(Cell::text).collect()));
                out.push('\n');
            }
            out
        }
        ResultsFormat::Json => {
            let rows: Vec<serde_json::Value> = table
                .rows
                .iter()
                .map(|row| {
                    serde_json::Value::Object(
                        table
                            .columns
                            .iter()
                            .zip(row)
                            .map(|(c, cell)| (c.clone(), cell.json()))
                            .collect(),
                    )
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_string());
            text.push('\n');
            text
        }
        ResultsFormat::Table => {
            let shown = |cell: &Cell| match cell {
                Cell::Float(x) => format!("{x:.4}"),
                Cell::Missing => "-".to_string(),
                other => other.text(),
            };
            let cells: Vec<Vec<String>> = table
                .rows
                .iter()
                .map(|row| row.iter().map(shown).collect())
                .collect();
            let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
            for row in &cells {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let mut out = String::new();
            for row in std::iter::once(&table.columns).chain(&cells) {
                let mut line = String::new();
                for (cell, width) in row.iter().zip(&widths) {
                    let _ = write!(line, "{cell:<width$}  ");
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
            out
        }
    }
}

/// One CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// [`collect`] for a command: prints the warnings, and an error as exit status 2.
pub(crate) fn collect_reporting(runs: &Path) -> Result<Vec<Row>, ExitCode> {
    let (rows, warnings) = collect(runs).map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    Ok(rows)
}

/// Runs `disc results`.
pub fn run(args: ResultsArgs) -> ExitCode {
    let rows = match collect_reporting(&args.runs) {
        Ok(rows) => rows,
        Err(code) => return code,
    };
    if rows.is_empty() {
        eprintln!(
            "error: `{}` holds no run directories (`NNNNN-<hash>/`) and no `plan.ron`",
            args.runs.display()
        );
        return ExitCode::from(2);
    }
    let mut table = job_table(&rows);
    if !args.group_by.is_empty() {
        table = match group(&table, &args.group_by, &args.values) {
            Ok(grouped) => grouped,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
    } else if !args.values.is_empty() {
        eprintln!(
            "error: `--value` chooses what `--group-by` aggregates; add `--group-by COLUMNS`"
        );
        return ExitCode::from(2);
    }
    // A closed pipe (`disc results runs | head`) is not an error worth a message.
    let _ = std::io::stdout()
        .lock()
        .write_all(render(&table, args.format).as_bytes());
    // Jobs, not rows: a job scored with several metric seeds has a row per seed.
    let jobs: BTreeMap<(u64, &str), &Status> = rows
        .iter()
        .map(|r| ((r.index, r.hash.as_str()), &r.status))
        .collect();
    let counts: BTreeMap<&str, usize> = jobs.values().fold(BTreeMap::new(), |mut acc, status| {
        *acc.entry(status.word()).or_default() += 1;
        acc
    });
    let counts: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
    eprintln!("{} jobs: {}", jobs.len(), counts.join(", "));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_match_hand_computed_values() {
        let s = stats(&[4.0, 1.0, 3.0, 2.0]).expect("values");
        assert_eq!(s.count, 4);
        assert!((s.mean - 2.5).abs() < 1e-12);
        assert!((s.median - 2.5).abs() < 1e-12);
        // Sample variance of 1..4 is 5/3.
        assert!((s.std.expect("n > 1") - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        // Best half of four: 4 and 3.
        assert!((s.best_half_mean - 3.5).abs() < 1e-12);
        let odd = stats(&[0.1, 0.9, 0.5]).expect("values");
        assert!((odd.median - 0.5).abs() < 1e-12);
        // ⌈3/2⌉ = 2 best: 0.9 and 0.5.
        assert!((odd.best_half_mean - 0.7).abs() < 1e-12);
        let one = stats(&[2.0, f64::NAN]).expect("the finite value");
        assert_eq!((one.count, one.std), (1, None));
        assert!(stats(&[]).is_none());
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("beta_vae()"), "beta_vae()");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn run_directory_names_are_recognised() {
        assert_eq!(
            parse_dir_name("00012-0123456789abcdef"),
            Some((12, "0123456789abcdef".to_string()))
        );
        assert_eq!(parse_dir_name("figures"), None);
        assert_eq!(parse_dir_name("12-0123456789abcdef"), None);
        assert_eq!(parse_dir_name("00012-xyz"), None);
    }
}
