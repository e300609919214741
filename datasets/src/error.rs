//! The error type of disc-data: every way a dataset can fail to open or produce observations.
//!
//! Variants carry facts (the file, what was expected, what was found), never preformatted sentences;
//! presentation is the CLI's job. Nothing here may panic or print.

use std::path::PathBuf;

/// Why a dataset could not be opened or could not produce observations.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A factor space with no factors, or a factor with no values.
    #[error("factor {index} has size 0; every factor needs at least one value")]
    EmptyFactor {
        /// Position of the factor in the space.
        index: usize,
    },
    /// The product of the factor sizes does not fit in 64 bits.
    #[error("the factor sizes {sizes:?} have more than 2^64 combinations")]
    TooManyCells {
        /// The sizes given.
        sizes: Vec<u32>,
    },
    /// A factor row has the wrong number of values.
    #[error("a factor row has {found} values but the dataset has {expected} factors")]
    FactorCount {
        /// Number of latent factors of the dataset.
        expected: usize,
        /// Number of values in the row.
        found: usize,
    },
    /// A factor value is not a class index of its factor.
    #[error("factor {factor} has value {value}, which is not one of its {size} values")]
    FactorOutOfRange {
        /// Position of the factor.
        factor: usize,
        /// The value given.
        value: u32,
        /// The factor's number of values.
        size: u32,
    },
    /// A file or directory could not be read.
    #[error("cannot read `{path}`")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not in the format the dataset needs.
    #[error("`{path}` is not a valid {format} file: expected {expected}, found {found}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The format expected, e.g. `npz`, `NORB binary matrix`, `MATLAB v5`.
        format: &'static str,
        /// What the reader expected at the point it failed.
        expected: String,
        /// What it found instead.
        found: String,
    },
    /// An archive or HDF5 file lacks an array the dataset needs.
    #[error("`{path}` has no array `{key}` (it has: {available:?})")]
    MissingArray {
        /// The file.
        path: PathBuf,
        /// The array looked for.
        key: String,
        /// The arrays it does have.
        available: Vec<String>,
    },
    /// An array has the wrong shape or element type for the dataset.
    #[error("array `{key}` in `{path}` has shape {found:?} of {dtype}, expected {expected}")]
    ArrayShape {
        /// The file.
        path: PathBuf,
        /// The array.
        key: String,
        /// Its shape.
        found: Vec<u64>,
        /// Its element type as stored.
        dtype: String,
        /// The shapes and element type that would be accepted.
        expected: String,
    },
    /// A directory that should hold dataset files holds none of the expected kind.
    #[error("`{path}` holds no {expected} files")]
    NoFiles {
        /// The directory.
        path: PathBuf,
        /// The kind of file looked for, e.g. `*.mat`.
        expected: &'static str,
    },
    /// A format this build cannot read, with the way to convert it.
    #[error("`{path}` is {format}, which disc cannot read; convert it with: {convert}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The format found.
        format: &'static str,
        /// A one-line command that converts it into a readable format.
        convert: String,
    },
    /// An image file (e.g. the Scream painting) could not be decoded.
    #[error("cannot decode the image `{path}`")]
    Image {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },
    /// An image is too small for the crops the dataset takes from it.
    #[error("image `{path}` is {width}×{height} after thumbnailing, but needs at least 64×64")]
    ImageTooSmall {
        /// The file.
        path: PathBuf,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A dataset that exists only as released files was asked for without a file.
    #[error("dataset `{dataset}` has no procedural version; give the path of its released file")]
    NeedsFile {
        /// The dataset's name.
        dataset: &'static str,
    },
    /// The loaded files have no image for a factor combination that was asked for.
    #[error("dataset `{dataset}` has no image for the factor combination {features:?}")]
    MissingCombination {
        /// The dataset's name.
        dataset: &'static str,
        /// The full factor row, non-latent factors included.
        features: Vec<u32>,
    },
    /// Dataset parameters that make no sense (e.g. an identity dataset with zero factors).
    #[error("invalid parameter `{parameter}` for dataset `{dataset}`: {value}")]
    InvalidParameter {
        /// The dataset's name.
        dataset: &'static str,
        /// The parameter.
        parameter: &'static str,
        /// The value given.
        value: String,
    },
}
