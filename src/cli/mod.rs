//! One module per subcommand, each exposing `XArgs` (clap) and `run(XArgs) -> ExitCode`, and the
//! modules they share: `arrays` (the loader's answers about data files), `device` (the backend),
//! `progress` (how a job's progress is shown).

pub mod arrays;
pub mod check;
pub mod device;
pub mod eval;
pub mod explain;
pub mod fmt;
pub mod lsp;
pub mod plan;
pub mod plot;
pub mod progress;
pub mod results;
pub mod run;
pub mod sheet;
pub mod slurm;
