//! The runtime: carries out a Plan's jobs on burn, generic over the backend.
//!
//! Entry point: [`train::run_job`] trains one `plan::Job` on a backend the caller picks (only the
//! `disc` binary names concrete backends), writing its run directory through [`artifacts`]; [`study::run_study`] runs many jobs with local
//! workers that claim run directories with OS file locks. The
//! runtime reads nothing but the plan: it applies no defaults of its own.

pub mod artifacts;
pub mod baselines;
pub mod device;
pub mod error;
pub mod evaluate;
pub mod family;
#[doc(hidden)]
pub mod fuzzing;
pub mod infogan;
pub mod kernels;
pub mod loss;
pub mod model;
pub mod optim;
pub mod prefetch;
pub mod structural;
pub mod study;
pub mod train;
pub mod vae;

pub use error::RuntimeError;
