//! The one error type of the artifacts module.
//!
//! Variants carry the facts (paths, sizes, offending values) and leave wording to `Display`; they
//! never carry preformatted strings. Nothing here decides whether an error is fatal: the training
//! loop does.

use std::path::PathBuf;

/// Everything that can go wrong while writing or reading a run's files.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactsError {
    /// A file-system operation failed.
    #[error("cannot {operation} `{path}`")]
    Io {
        /// What was being done, e.g. "write", "rename a temporary file onto", "read".
        operation: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `write_atomic` was given a path with no file name (e.g. `/` or `..`).
    #[error("`{path}` does not name a file")]
    NotAFilePath { path: PathBuf },
    /// An image buffer's length does not match the shape it was described with.
    #[error(
        "image buffer holds {actual} values, but {count} images of {height}×{width}×{channels} need {expected}"
    )]
    ImageBufferLength {
        actual: usize,
        expected: usize,
        count: usize,
        height: usize,
        width: usize,
        channels: usize,
    },
    /// Only grey (1) and RGB (3) images can be drawn.
    #[error("images must have 1 or 3 channels, these have {channels}")]
    UnsupportedChannels { channels: usize },
    /// A grid needs at least one image, one column and a non-empty image size.
    #[error("cannot draw a grid of {count} images of {height}×{width} in {columns} columns")]
    EmptyGrid {
        count: usize,
        height: usize,
        width: usize,
        columns: usize,
    },
    /// A pixel value is NaN or infinite: drawing it would hide a numerical bug.
    #[error("pixel {offset} of image {image} is {value}, not a finite number")]
    NonFinitePixel {
        image: usize,
        offset: usize,
        value: f32,
    },
    /// The picture is larger than the format can hold (GIF: 65 535 pixels a side).
    #[error("a {width}×{height} picture is too large for {format}")]
    PictureTooLarge {
        width: usize,
        height: usize,
        format: &'static str,
    },
    /// An animation needs at least one frame.
    #[error("an animation needs at least one frame")]
    NoFrames,
    /// Frames of one animation must share their size.
    #[error("frame {frame} is {width}×{height}, but frame 0 is {first_width}×{first_height}")]
    FrameSizeMismatch {
        frame: usize,
        width: u32,
        height: u32,
        first_width: u32,
        first_height: u32,
    },
    /// The PNG encoder failed (only on internal inconsistencies: sizes are checked before).
    #[error("cannot encode a PNG image")]
    Png(#[source] png::EncodingError),
    /// The GIF encoder failed.
    #[error("cannot encode a GIF animation")]
    Gif(#[source] gif::EncodingError),
    /// A tensor's data length does not match its shape.
    #[error("tensor `{name}` has {actual} values, but its shape {shape:?} needs {expected}")]
    TensorLength {
        name: String,
        shape: Vec<usize>,
        expected: usize,
        actual: usize,
    },
    /// A layout conversion was asked for a tensor of the wrong rank.
    #[error("tensor `{name}` has rank {rank}, but a {layout} tensor has rank {expected}")]
    TensorRank {
        name: String,
        layout: &'static str,
        rank: usize,
        expected: usize,
    },
    /// Two tensors in one weights file share a name.
    #[error("two tensors are named `{name}`")]
    DuplicateTensor { name: String },
    /// A weight is NaN or infinite.
    #[error("tensor `{name}` holds {value} at flat index {offset}")]
    NonFiniteWeight {
        name: String,
        offset: usize,
        value: f32,
    },
    /// A weights file holds a tensor that is not f32.
    #[error("tensor `{name}` is stored as {dtype}, but disc weights are f32")]
    TensorDtype { name: String, dtype: String },
    /// The safetensors library rejected the data.
    #[error("invalid safetensors data")]
    Safetensors(#[source] safetensors::SafeTensorError),
    /// A JSON document could not be written or read.
    #[error("cannot {operation} JSON for `{path}`")]
    Json {
        operation: &'static str,
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The resolved job could not be rendered as RON.
    #[error("cannot render the job as RON for `{path}`")]
    Ron {
        path: PathBuf,
        #[source]
        source: ron::Error,
    },
    /// A complete line of the loss log is not a loss record.
    #[error("line {line} of the loss log `{path}` is not a loss record")]
    LossLogLine {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    /// A loss value to be logged or summarised is NaN or infinite.
    #[error("loss term `{term}` is {value} at step {step}")]
    NonFiniteLoss { step: u64, term: String, value: f64 },
    /// A metric score to be written is NaN or infinite.
    #[error("score `{key}` of metric `{metric}` ({representation} representation) is {value}")]
    NonFiniteScore {
        representation: String,
        metric: String,
        key: String,
        value: f64,
    },
    /// A checkpoint file name that would escape its directory or is empty.
    #[error("`{name}` is not a plain file name for a checkpoint")]
    CheckpointFileName { name: String },
}

impl ArtifactsError {
    /// Wraps an I/O error with the operation and the path it concerned.
    pub(crate) fn io(
        operation: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}
