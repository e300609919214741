//! `disc fmt [--check] PATH...`: rewrite `.dis` files in the canonical layout.
//!
//! The layout itself is `disc_grammar::format` (pure); this module finds the files, reads them,
//! writes the changed ones (through a temporary file and a rename, so a failed write never leaves
//! half a file) and reports. A directory stands for every `.dis` file below it.
//!
//! Exit codes: 0 when every file is (now) formatted; 1 with `--check` when some file is not, or
//! when a file has a syntax error (it is left as it is); 2 when a path cannot be read or written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use disc_compiler::Source;
use disc_compiler::diagnostic;
use disc_compiler::ide::{self, FormatFailure};

use crate::cli::check::{ColorChoice, read_root, render_options};

/// Arguments of `disc fmt`.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// `.dis` files, or directories to search for them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit with 1 if there are any.
    #[arg(long)]
    pub check: bool,
    /// When to use colours in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Runs `disc fmt`.
pub fn run(args: FmtArgs) -> ExitCode {
    let mut files = Vec::new();
    let mut io_error = false;
    for path in &args.paths {
        if let Err(message) = collect(path, &mut files) {
            eprintln!("error: {message}");
            io_error = true;
        }
    }
    let options = render_options(args.color);
    let (mut unformatted, mut syntax_errors, mut changed) = (0usize, 0usize, 0usize);
    for path in &files {
        let source = match read_root(path) {
            Ok(source) => source,
            Err(message) => {
                eprintln!("error: {message}");
                io_error = true;
                continue;
            }
        };
        let formatted = match ide::format(&source.text) {
            Ok(formatted) => formatted,
            Err(FormatFailure::Syntax(d)) => {
                let sources = [Source {
                    name: source.name.clone(),
                    text: source.text.clone(),
                }];
                eprint!("{}", diagnostic::render(&[d], &sources, options));
                syntax_errors += 1;
                continue;
            }
            Err(FormatFailure::TokensChanged(offset)) => {
                let at = diagnostic::line_column(&source.text, offset);
                eprintln!(
                    "error: internal formatter error in `{}`: formatting would change the text at line {}, column {}; the file is left as it is",
                    source.name, at.line, at.column
                );
                syntax_errors += 1;
                continue;
            }
        };
        if formatted == source.text {
            continue;
        }
        if args.check {
            println!("{}", source.name);
            unformatted += 1;
        } else if let Err(err) = write_atomically(path, &formatted) {
            eprintln!("error: cannot write `{}`: {err}", source.name);
            io_error = true;
        } else {
            println!("formatted {}", source.name);
            changed += 1;
        }
    }
    let noun = |n: usize| if n == 1 { "file" } else { "files" };
    if args.check && unformatted > 0 {
        eprintln!(
            "{unformatted} of {} {} not formatted; run `disc fmt` on them",
            files.len(),
            noun(files.len())
        );
    } else if !args.check && changed > 0 {
        eprintln!(
            "formatted {changed} of {} {}",
            files.len(),
            noun(files.len())
        );
    }
    if io_error {
        ExitCode::from(2)
    } else if unformatted > 0 || syntax_errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Adds `path` (a file) or every `.dis` file below it (a directory, in sorted order) to `files`.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    if !path.is_dir() {
        if !path.exists() {
            return Err(format!("cannot read `{}`: no such file", path.display()));
        }
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|err| format!("cannot read directory `{}`: {err}", path.display()))?;
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        if child.is_dir() {
            collect(&child, files)?;
        } else if child.extension().is_some_and(|e| e == "dis") {
            files.push(child);
        }
    }
    Ok(())
}

/// Writes `text` to a sibling temporary file, then renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".disc-fmt.tmp");
    let tmp = PathBuf::from(tmp);
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::write(&tmp, text)?;
        // Keep the file's permissions.
        std::fs::set_permissions(&tmp, meta.permissions())?;
    } else {
        std::fs::write(&tmp, text)?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
