//! The unnamed temporary file an array of the user's images is decoded into once, when a job opens
//! it, so that its rows can then be read by position in any order: a compressed `.npz` array
//! (`npz.rs`), and an HDF5 dataset whose chunks span many rows and which is larger than the row
//! cache (`h5.rs`). The file has no name: the operating system removes it when the job closes it,
//! even if the process is killed. It lives in the system's temporary directory (`TMPDIR`).
//!
//! This module only creates and finishes the file; the formats write their elements into it.

use std::{
    fs::File,
    io::{BufWriter, Write},
};

use crate::DataError;

/// The write buffer: large enough that writing a decoded block costs few system calls.
const BUFFER_BYTES: usize = 1 << 20;

/// An error of the temporary file itself (creating or writing it), reported at the temporary
/// directory, where the space or permission is missing.
pub(crate) fn temp_error(source: std::io::Error) -> DataError {
    DataError::Io {
        path: std::env::temp_dir(),
        source,
    }
}

/// A new unnamed temporary file, buffered for writing.
pub(crate) fn create() -> Result<BufWriter<File>, DataError> {
    let file = tempfile::tempfile().map_err(temp_error)?;
    Ok(BufWriter::with_capacity(BUFFER_BYTES, file))
}

/// Flushes what `writer` still buffers and returns the file, ready to be read by position.
pub(crate) fn finish(mut writer: BufWriter<File>) -> Result<File, DataError> {
    writer.flush().map_err(temp_error)?;
    writer
        .into_inner()
        .map_err(|err| temp_error(err.into_error()))
}
