//! One module per subcommand. Each exposes `XArgs` (clap) and `run(XArgs) -> ExitCode`.

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
