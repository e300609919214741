//! The runtime's error type: everything that can stop a job, with the facts needed to fix it.
//!
//! Errors carry the job index or step where one is known; they never carry burn internals, and no
//! code in the runtime panics on a plan, a dataset or a checkpoint it did not write itself.

use std::path::PathBuf;

use crate::artifacts::ArtifactsError;

/// Why a job could not be built, trained, resumed or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The plan was written for another version of the plan format.
    #[error(
        "the plan has format version {found}, but this runtime reads version {expected}; recompile it with this `disc`"
    )]
    PlanVersion { found: u32, expected: u32 },
    /// The job needs something this runtime does not implement. The message leaves out the job
    /// number, which the caller prints in front of every job error.
    #[error("{what} is not supported by this runtime yet")]
    Unsupported { job: u64, what: String },
    /// A network in the plan is inconsistent (a layer whose input does not fit the previous output).
    #[error("{network}, layer {layer}: {message}")]
    Network {
        network: String,
        layer: usize,
        message: String,
    },
    /// The requested device cannot be used.
    #[error("device `{requested}` is not available: {reason}")]
    Device { requested: String, reason: String },
    /// The dataset could not be opened or sampled.
    #[error("dataset `{dataset}`: {source}")]
    Data {
        dataset: String,
        /// Boxed: a `DataError` is several times larger than the other variants, and every
        /// `Result` of the runtime would carry its size (clippy's `result_large_err`).
        #[source]
        source: Box<disc_data::DataError>,
    },
    /// A loss term (or the objective) became NaN or infinite.
    #[error(
        "step {step}: loss term `{term}` is {value}; training stopped (the last good checkpoint is kept)"
    )]
    NonFinite { step: u64, term: String, value: f64 },
    /// A checkpoint could not be read back.
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// Writing an output failed.
    #[error(transparent)]
    Artifacts(#[from] ArtifactsError),
    /// A metric could not be computed.
    #[error("metric `{metric}` ({representation} representation): {message}")]
    Metric {
        metric: String,
        representation: String,
        message: String,
    },
    /// A PCA or ICA baseline could not be fitted to its sample.
    #[error("the {model} fit: {source}")]
    Fit {
        job: u64,
        /// `PCA` or `FastICA`.
        model: &'static str,
        #[source]
        source: crate::baselines::FitError,
    },
    /// A shape or value given at run time does not match the model (e.g. a batch of the wrong size).
    #[error("{0}")]
    Shape(String),
}
