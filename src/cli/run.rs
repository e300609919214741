//! `disc run` (not yet wired).

use std::process::ExitCode;

/// Arguments of `disc run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {}

/// Runs `disc run`.
pub fn run(_args: RunArgs) -> ExitCode {
    eprintln!("error: `disc run` is not available in this build yet");
    ExitCode::from(2)
}
