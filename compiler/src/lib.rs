//! The disc compiler: `.dis` source text in, a [`plan::Plan`] and diagnostics out.
//!
//! Pure: no file IO, no printing, no process exit; the CLI owns all of that and reads user files
//! through a [`Loader`]. Phases (see ARCHITECTURE.md): [`resolve`] loads files and builds scopes,
//! [`eval`] evaluates and type-checks expressions (with the primitives of [`builtins`]), [`sweep`]
//! expands sweeps, [`lower`] assembles checked jobs into the plan.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]
#![warn(clippy::wildcard_enum_match_arm)]

pub mod codes;
pub mod diagnostic;
pub mod graph;
pub mod hash;
pub mod ide;
pub mod plan;
pub mod players;
pub mod shape;
pub mod suggest;

mod builtins;
mod eval;
mod lower;
mod overrides;
mod resolve;
mod stdlib;
mod sweep;
mod value;

pub use codes::{CODES, CodeInfo, lookup};

/// One source file of a compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The name shown in diagnostics, e.g. `experiments/a.dis` or `<stdlib/arch.dis>`.
    pub name: String,
    /// Its full text.
    pub text: String,
}

/// Reads user files named by `use "path.dis"`. IO lives in the CLI; tests use in-memory loaders.
pub trait Loader {
    /// The text of `path` (as written in the `use`) imported by the file named `importer` (its
    /// [`Source::name`]), or a short reason it cannot be read. A relative `path` is meant relative
    /// to the importer's directory, so an import inside an imported file in another directory
    /// resolves next to that file.
    fn load(&self, importer: &str, path: &str) -> Result<String, String>;

    /// What the arrays of an `arrays(...)` dataset hold (element types, shapes, label ranges),
    /// read from the files by the CLI so that `disc check` can judge them before any compute.
    /// Paths are as written in the `.dis` file (relative to the current directory, like every
    /// data path). The default has no files: every request fails, as `use "..."` does.
    fn array_facts(&self, request: &ArrayRequest) -> Result<ArrayFacts, ArrayFileError> {
        Err(ArrayFileError {
            file: ArrayFile::Images,
            reason: format!("no file loader is available for `{}`", request.images),
        })
    }
}

/// The arrays an `arrays(...)` dataset reads: the images' file and array name, and the labels'.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArrayRequest {
    /// The images' file, as written.
    pub images: String,
    /// The images' array in an `.npz` or HDF5 file (ignored for `.npy`).
    pub images_key: String,
    /// The labels' file: the images' file when both arrays are in one file.
    pub labels: String,
    /// The labels' array in an `.npz` or HDF5 file (ignored for `.npy`).
    pub labels_key: String,
}

/// An array's element type and shape, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayHeader {
    /// numpy's name of the element type (`uint8`, `float32`, `int64`, ...), or how it is stored.
    pub dtype: String,
    /// The shape, leading (row) axis first.
    pub shape: Vec<u64>,
}

/// What the loader found in the arrays of an [`ArrayRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayFacts {
    /// The images' header.
    pub images: ArrayHeader,
    /// The labels' header.
    pub labels: ArrayHeader,
    /// `(min, max)` of each label column, when the labels are integers of rank 1 or 2.
    pub label_ranges: Option<Vec<(i64, i64)>>,
    /// How many distinct label rows (factor combinations) the labels hold.
    pub distinct_rows: u64,
}

/// Which file of an [`ArrayRequest`] could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayFile {
    /// The images' file.
    Images,
    /// The labels' file.
    Labels,
}

/// Why the arrays of an [`ArrayRequest`] could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayFileError {
    /// The file that failed.
    pub file: ArrayFile,
    /// A short lowercase reason, e.g. `no such file`, or the array names the file does have.
    pub reason: String,
}

/// A loader that has no files (every `use "..."` fails with E0105).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl Loader for NoFiles {
    fn load(&self, _importer: &str, path: &str) -> Result<String, String> {
        Err(format!("no file loader is available for `{path}`"))
    }
}

/// The result of compiling one root file.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The plan; `None` iff any diagnostic is an error.
    pub plan: Option<plan::Plan>,
    /// Every diagnostic, errors and warnings, sorted by file (the root file first) and position.
    pub diagnostics: Vec<diagnostic::Diagnostic>,
    /// Every source involved: index `i` is `SourceId(i)`; the root file is 0.
    pub sources: Vec<Source>,
}

/// Compiles `root` (and what it imports) into a plan, collecting every diagnostic.
pub fn compile(root: Source, loader: &dyn Loader) -> Compiled {
    run(root, loader, &[], true)
}

/// Compiles `root` with command-line overrides: each `PATH=VALUE` (`--set` on the command line)
/// is applied to every experiment of `root` as if its field had been written with that value, and is
/// checked the same way; its diagnostics point into a source named `--set` holding the argument.
pub fn compile_with(root: Source, loader: &dyn Loader, overrides: &[String]) -> Compiled {
    run(root, loader, overrides, true)
}

/// Checks `root` exactly as [`compile`] does (same diagnostics) without building the jobs:
/// every distinct configuration of every sweep is still evaluated and checked, but no job is
/// materialised or hashed. `plan` is always `None`. This is what `disc check` needs.
pub fn check(root: Source, loader: &dyn Loader) -> Compiled {
    run(root, loader, &[], false)
}

/// [`check`] with command-line overrides, as [`compile_with`] applies them.
pub fn check_with(root: Source, loader: &dyn Loader, overrides: &[String]) -> Compiled {
    run(root, loader, overrides, false)
}

/// Receives a plan job by job from [`compile_streaming`].
pub trait PlanStream {
    /// The plan without its jobs (`version`, `source`, `overrides`; `jobs` empty), called once,
    /// before the first job, and only when the file has no error.
    fn begin(&mut self, header: &plan::Plan);
    /// The next job, in index order, with its hash.
    fn job(&mut self, job: plan::Job);
}

/// Compiles `root` as [`compile_with`] does, but hands the plan to `stream` job by job instead
/// of holding it: memory does not grow with the number of jobs, so any plan within the job limit
/// can be listed or written. The file is checked completely first (as [`check_with`] does), so
/// `stream` receives nothing from a file with an error. The returned `plan` holds no jobs.
pub fn compile_streaming(
    root: Source,
    loader: &dyn Loader,
    overrides: &[String],
    stream: &mut dyn PlanStream,
) -> Compiled {
    let checked = run(root.clone(), loader, overrides, false);
    if diagnostic::error_count(&checked.diagnostics) > 0 {
        return checked;
    }
    run_into(root, loader, overrides, true, stream).0
}

/// Collects a streamed plan into one [`plan::Plan`] (what [`compile`] returns).
#[derive(Default)]
struct Collect {
    plan: Option<plan::Plan>,
}

impl PlanStream for Collect {
    fn begin(&mut self, header: &plan::Plan) {
        self.plan = Some(header.clone());
    }

    fn job(&mut self, job: plan::Job) {
        if let Some(plan) = &mut self.plan {
            plan.jobs.push(job);
        }
    }
}

fn run(root: Source, loader: &dyn Loader, overrides: &[String], build_jobs: bool) -> Compiled {
    run_keeping_program(root, loader, overrides, build_jobs).0
}

/// [`run`], also handing back the resolved program (`None` when the root file does not parse) for
/// the editor queries of [`ide`].
fn run_keeping_program(
    root: Source,
    loader: &dyn Loader,
    overrides: &[String],
    build_jobs: bool,
) -> (Compiled, Option<resolve::Program>) {
    let mut collect = Collect::default();
    let (mut compiled, program) = run_into(root, loader, overrides, build_jobs, &mut collect);
    if build_jobs && diagnostic::error_count(&compiled.diagnostics) == 0 {
        compiled.plan = collect.plan;
    }
    (compiled, program)
}

/// Compiles `root`, handing the plan's header and jobs to `stream` (with `build_jobs`; jobs may
/// have been handed on before an error is found, so callers check the diagnostics, or check
/// first). The returned `plan` holds the header only, when there is no error.
fn run_into(
    root: Source,
    loader: &dyn Loader,
    overrides: &[String],
    build_jobs: bool,
    stream: &mut dyn PlanStream,
) -> (Compiled, Option<resolve::Program>) {
    let mut sink = eval::Sink::default();
    let source_name = root.name.clone();
    let root_len = root.text.len();
    let Some(mut program) = resolve::load(root.clone(), loader, &mut sink) else {
        let compiled = Compiled {
            plan: None,
            diagnostics: sink.into_diagnostics(),
            sources: vec![root],
        };
        return (compiled, None);
    };
    resolve::report_unused(&program, &mut sink);
    let (overrides, ranges) =
        overrides::parse(overrides, &mut program.sources, root_len, &mut sink);
    let header = plan::Plan {
        version: plan::PLAN_VERSION,
        source: source_name,
        overrides: overrides
            .iter()
            .map(|o| (o.axis.path_text(), o.value_text().to_string()))
            .collect(),
        jobs: Vec::new(),
    };
    if build_jobs {
        stream.begin(&header);
    }
    let ctx = eval::Ctx::new(&program, loader, sink);
    let mut emit = |job: plan::Job| stream.job(job);
    let mut jobs = lower::JobSink::new(&mut emit);
    lower::lower_root(&ctx, build_jobs, &overrides, &mut jobs);
    let sink = ctx.sink.into_inner();
    let plan = (build_jobs && !sink.has_errors()).then_some(header);
    let mut diagnostics = sink.into_diagnostics();
    for diagnostic in &mut diagnostics {
        overrides::relocate(diagnostic, &ranges);
    }
    // Reported in the order a reader meets them; a stable sort keeps the order found for ties.
    diagnostics.sort_by_key(|d| (d.source, d.span.start, d.span.end));
    let compiled = Compiled {
        plan,
        diagnostics,
        sources: program.sources.clone(),
    };
    (compiled, Some(program))
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
