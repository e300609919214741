//! `disc explain CODE`: print the explanation of a diagnostic code from the compiler's registry.
//!
//! Exit codes: 0 when the code exists, 1 when it does not (with a did-you-mean among the registered
//! codes), 2 for usage errors (clap).

use std::process::ExitCode;

use disc_compiler::codes::{CODES, lookup};
use disc_compiler::suggest::did_you_mean;

/// Arguments of `disc explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The code, e.g. `E0203` (case does not matter).
    #[arg(value_name = "CODE")]
    pub code: String,
}

/// Runs `disc explain`.
pub fn run(args: ExplainArgs) -> ExitCode {
    let code = args.code.trim().to_ascii_uppercase();
    match lookup(&code) {
        Some(info) => {
            println!("{}: {}\n\n{}", info.code, info.title, info.explanation);
            ExitCode::SUCCESS
        }
        None => {
            let hint = match did_you_mean(&code, CODES.iter().map(|c| c.code)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "codes look like `E0203` or `W0001`".to_string(),
            };
            eprintln!(
                "error: `{}` is not a disc diagnostic code; {hint}",
                args.code
            );
            ExitCode::from(1)
        }
    }
}
