//! The checker's questions about data files, answered from the file system: what the arrays of
//! an `arrays(...)` dataset hold ([`array_facts`]), read with disc-data's readers and converted to
//! the compiler's types (the compiler stays pure; disc-data knows nothing of the compiler).
//!
//! `tests/check.rs` includes this file (`#[path]`) so that the fixture harness answers exactly as
//! `disc check` does. It must not print or exit.

use std::path::PathBuf;

use disc_compiler::{ArrayFacts, ArrayFile, ArrayFileError, ArrayHeader, ArrayRequest};
use disc_data::DataError;
use disc_data::arrays::{self, ArraySource};

/// Reads the headers and labels of `request`'s arrays (paths relative to the current directory).
pub fn array_facts(request: &ArrayRequest) -> Result<ArrayFacts, ArrayFileError> {
    let source = ArraySource {
        images: PathBuf::from(&request.images),
        images_key: request.images_key.clone(),
        labels: PathBuf::from(&request.labels),
        labels_key: request.labels_key.clone(),
    };
    let facts = arrays::inspect(&source).map_err(|err| file_error(&source, &err))?;
    let header = |h: arrays::ArrayHeader| ArrayHeader {
        dtype: h.dtype,
        shape: h.shape,
    };
    Ok(ArrayFacts {
        images: header(facts.images),
        labels: header(facts.labels),
        label_ranges: facts.label_ranges,
        distinct_rows: facts.distinct_rows,
    })
}

/// Which file failed and why, in a short lowercase phrase.
fn file_error(source: &ArraySource, err: &DataError) -> ArrayFileError {
    let failed = match err {
        DataError::Io { path, .. }
        | DataError::Malformed { path, .. }
        | DataError::MissingArray { path, .. }
        | DataError::ArrayShape { path, .. } => Some(path.as_path()),
        _ => None,
    };
    let file = if failed == Some(source.labels.as_path()) && source.labels != source.images {
        ArrayFile::Labels
    } else {
        ArrayFile::Images
    };
    let reason = match err {
        DataError::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
            _ => source.to_string(),
        },
        DataError::MissingArray { key, available, .. } => {
            let names: Vec<String> = available.iter().map(|n| format!("`{n}`")).collect();
            format!(
                "it has no array `{key}` (it has {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        }
        DataError::Malformed {
            format,
            expected,
            found,
            ..
        } => format!("not a valid {format} file: expected {expected}, found {found}"),
        other => other.to_string(),
    };
    ArrayFileError { file, reason }
}
