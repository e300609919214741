//! The `disc` command line: the only place that reads files, prints, renders diagnostics,
//! sets exit codes and picks the burn backend. Each subcommand lives in its own module under `cli/`.

mod cli;

/// See the workspace Cargo.toml: training allocates and frees large tensors every step.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// disc: a typed experiment language for disentangled representation learning.
#[derive(Debug, Parser)]
#[command(name = "disc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Type-check `.dis` files and report every mistake before any compute is spent.
    Check(cli::check::CheckArgs),
    /// Compile a `.dis` file into a plan of fully resolved jobs (RON), or list its jobs.
    Plan(cli::plan::PlanArgs),
    /// Explain a diagnostic code, e.g. `disc explain E0203`.
    Explain(cli::explain::ExplainArgs),
    /// Train the jobs of a `.dis` file or a plan, write checkpoints, images and metrics.
    Run(cli::run::RunArgs),
    /// Compute disentanglement metrics on arrays of codes and ground-truth factors.
    Eval(cli::eval::EvalArgs),
    /// Rewrite `.dis` files in the canonical layout (comments kept), or check that they are.
    Fmt(cli::fmt::FmtArgs),
    /// Run the language server (diagnostics, hover, definition, completion, formatting) on stdio.
    Lsp(cli::lsp::LspArgs),
    /// One table of a study's runs (status, swept values, losses, metrics), optionally grouped.
    Results(cli::results::ResultsArgs),
    /// Draw a study's figures (score distributions, metric rank correlations, loss curves).
    Plot(cli::plot::PlotArgs),
    /// Write (and with `--submit`, submit) a Slurm job array that trains a plan.
    Slurm(cli::slurm::SlurmArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => cli::check::run(args),
        Command::Plan(args) => cli::plan::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Run(args) => cli::run::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Fmt(args) => cli::fmt::run(args),
        Command::Lsp(args) => cli::lsp::run(args),
        Command::Results(args) => cli::results::run(args),
        Command::Plot(args) => cli::plot::run(args),
        Command::Slurm(args) => cli::slurm::run(args),
    }
}
