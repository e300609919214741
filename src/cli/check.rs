//! `disc check` (not yet wired).

use std::process::ExitCode;

/// Arguments of `disc check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

/// Runs `disc check`.
pub fn run(_args: CheckArgs) -> ExitCode {
    eprintln!("error: `disc check` is not available in this build yet");
    ExitCode::from(2)
}
