//! `disc eval` (not yet wired).

use std::process::ExitCode;

/// Arguments of `disc eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {}

/// Runs `disc eval`.
pub fn run(_args: EvalArgs) -> ExitCode {
    eprintln!("error: `disc eval` is not available in this build yet");
    ExitCode::from(2)
}
