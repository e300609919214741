//! `disc explain` (not yet wired).

use std::process::ExitCode;

/// Arguments of `disc explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {}

/// Runs `disc explain`.
pub fn run(_args: ExplainArgs) -> ExitCode {
    eprintln!("error: `disc explain` is not available in this build yet");
    ExitCode::from(2)
}
