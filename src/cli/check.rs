//! `disc check FILE...`: type-check `.dis` files and report every diagnostic.
//!
//! This module also holds the front-end plumbing `disc plan` shares: reading a root file, the
//! file-system [`FsLoader`] for `use "file.dis"`, and choosing how diagnostics are drawn. The
//! compiler itself is pure; everything that touches files, the terminal or the environment is here.
//!
//! Exit codes: 0 when no file has an error (warnings allowed), 1 when some file has an error (a
//! file that cannot be read is such an error, E0004, reported in every format), 2 for usage
//! errors (clap).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use disc_compiler::diagnostic::{
    self, Diagnostic, JsonDiagnostic, RenderOptions, Severity, SourceId,
};
use disc_compiler::{Compiled, Loader, Source};

/// How `disc check` prints diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rendered with source snippets (miette), on standard error.
    Human,
    /// One JSON array of diagnostics on standard output: code, severity, message, file, line,
    /// column, span, label, help.
    Json,
}

/// When to colour human output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard error is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Arguments of `disc check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The `.dis` files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Override a parameter of every experiment, as if the file wrote it: `--set train.steps=2000`
    /// (repeatable; checked like file text, and part of the plan and the job hashes).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// When to use colours in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Runs `disc check`.
pub fn run(args: CheckArgs) -> ExitCode {
    let options = render_options(args.color);
    let mut any_error = false;
    let mut json: Vec<JsonDiagnostic> = Vec::new();
    let mut all: Vec<Diagnostic> = Vec::new();
    for path in &args.files {
        let compiled = match read_root(path) {
            Ok(root) => disc_compiler::check_with(root, &FsLoader, &args.set),
            Err(message) => unreadable(path, message),
        };
        any_error |= diagnostic::error_count(&compiled.diagnostics) > 0;
        match args.format {
            Format::Human => eprint!("{}", render(&compiled, options)),
            Format::Json => json.extend(
                compiled
                    .diagnostics
                    .iter()
                    .map(|d| JsonDiagnostic::new(d, &compiled.sources)),
            ),
        }
        all.extend(compiled.diagnostics);
    }
    match args.format {
        Format::Human => {
            let files = args.files.len();
            let noun = if files == 1 { "file" } else { "files" };
            eprintln!("checked {files} {noun}: {}", diagnostic::summary(&all));
        }
        Format::Json => {
            // Serialising plain strings and numbers cannot fail.
            let text = serde_json::to_string_pretty(&json).unwrap_or_else(|_| "[]".to_string());
            if writeln!(io::stdout(), "{text}").is_err() {
                return ExitCode::from(2);
            }
        }
    }
    if any_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads `path` as the root source, named as the user wrote it.
pub(crate) fn read_root(path: &Path) -> Result<Source, String> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Source { name, text }),
        Err(err) => Err(format!("cannot read `{name}`: {}", io_reason(&err))),
    }
}

/// A file that cannot be read, as a compilation with one error (E0004) and an empty source, so
/// that every output format reports it like any other mistake.
pub(crate) fn unreadable(path: &Path, message: String) -> Compiled {
    Compiled {
        plan: None,
        diagnostics: vec![Diagnostic {
            code: "E0004",
            severity: Severity::Error,
            message,
            source: SourceId(0),
            span: 0..0,
            label: "cannot read this file".to_string(),
            help: None,
        }],
        sources: vec![Source {
            name: path.display().to_string(),
            text: String::new(),
        }],
    }
}

/// A short lowercase reason for an IO error.
fn io_reason(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::InvalidData => "the file is not valid UTF-8".to_string(),
        io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => err.to_string(),
    }
}

/// Loads `use "path.dis"` imports from the file system, relative to the directory of the
/// importing file (absolute paths are used as written), so an import inside an imported file in
/// another directory resolves next to that file; answers questions about data files
/// ([`super::arrays`]) relative to the current directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, importer: &str, path: &str) -> Result<String, String> {
        let dir = Path::new(importer).parent().unwrap_or(Path::new(""));
        std::fs::read_to_string(dir.join(path)).map_err(|err| io_reason(&err))
    }

    fn array_facts(
        &self,
        request: &disc_compiler::ArrayRequest,
    ) -> Result<disc_compiler::ArrayFacts, disc_compiler::ArrayFileError> {
        super::arrays::array_facts(request)
    }
}

/// Rendering options for standard error.
pub(crate) fn render_options(choice: ColorChoice) -> RenderOptions {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // Terminals are often wider than 80 columns; honour COLUMNS when the shell exports it.
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100);
    RenderOptions {
        color,
        width,
        explain_hint: true,
    }
}

/// All diagnostics of a compilation, rendered.
pub(crate) fn render(compiled: &Compiled, options: RenderOptions) -> String {
    diagnostic::render(&compiled.diagnostics, &compiled.sources, options)
}
