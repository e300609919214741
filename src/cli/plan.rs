//! `disc plan` (not yet wired).

use std::process::ExitCode;

/// Arguments of `disc plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {}

/// Runs `disc plan`.
pub fn run(_args: PlanArgs) -> ExitCode {
    eprintln!("error: `disc plan` is not available in this build yet");
    ExitCode::from(2)
}
