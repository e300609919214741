//! Reading DeepMind's `3dshapes.h5` (dataset `images`, uint8 `(480000, 64, 64, 3)`), through the
//! pure-Rust `rust-hdf5` crate (no libhdf5), which reads h5py's files, chunked and gzip-compressed
//! ones included.
//!
//! The `labels` dataset is not read: as in the reference, images are addressed by row-major factor
//! index (reference §4.7). This module must not interpret anything but that one dataset.

use std::{io::Read, path::Path};

use crate::DataError;

/// The HDF5 format signature; it sits at offset 0, or at 512, 1024, 2048, … after a user block.
const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// Expected shape of `images`.
const SHAPE: [usize; 4] = [480_000, 64, 64, 3];

/// Whether `path` is an HDF5 file (by its signature at offset 0 or 512).
pub(crate) fn is_hdf5(path: &Path) -> Result<bool, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(520);
    std::fs::File::open(path)
        .map_err(io)?
        .take(520)
        .read_to_end(&mut head)
        .map_err(io)?;
    Ok(head.get(0..8) == Some(SIGNATURE.as_slice())
        || head.get(512..520) == Some(SIGNATURE.as_slice()))
}

/// Reads `images` of a `3dshapes.h5` file into `480000 · 64 · 64 · 3` bytes.
pub(crate) fn read_shapes3d_images(path: &Path) -> Result<Vec<u8>, DataError> {
    read_u8_dataset(path, "images", &SHAPE)
}

/// Reads dataset `key`, which must have 1-byte elements and exactly `expected` shape.
pub(crate) fn read_u8_dataset(
    path: &Path,
    key: &str,
    expected: &[usize],
) -> Result<Vec<u8>, DataError> {
    let malformed = |expected: &str, err: rust_hdf5::Hdf5Error| DataError::Malformed {
        path: path.to_path_buf(),
        format: "HDF5",
        expected: expected.to_string(),
        found: err.to_string(),
    };
    check_length(path)?;
    let file =
        rust_hdf5::H5File::open(path).map_err(|err| malformed("a readable HDF5 file", err))?;
    let images = file.dataset(key).map_err(|_| DataError::MissingArray {
        path: path.to_path_buf(),
        key: key.to_string(),
        available: file.dataset_names(),
    })?;
    let shape = images.shape();
    if shape != expected || images.element_size() != 1 {
        return Err(DataError::ArrayShape {
            path: path.to_path_buf(),
            key: key.to_string(),
            found: shape.iter().map(|&d| d as u64).collect(),
            dtype: format!("{}-byte elements", images.element_size()),
            expected: format!("uint8 {expected:?}"),
        });
    }
    images
        .read_raw::<u8>()
        .map_err(|err| malformed(&format!("readable data in dataset `{key}`"), err))
}

/// Checks the file is at least as long as its superblock's end-of-file address says. `rust-hdf5`
/// reads chunks past the end of a truncated file as zeros, which would silently train on black
/// images; this catches the usual truncation (an interrupted download or copy).
fn check_length(path: &Path) -> Result<(), DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let length = std::fs::metadata(path).map_err(io)?.len();
    let mut head = Vec::with_capacity(600);
    std::fs::File::open(path)
        .map_err(io)?
        .take(600)
        .read_to_end(&mut head)
        .map_err(io)?;
    let malformed = |expected: String, found: String| DataError::Malformed {
        path: path.to_path_buf(),
        format: "HDF5",
        expected,
        found,
    };
    let start = if head.get(0..8) == Some(SIGNATURE.as_slice()) {
        0
    } else if head.get(512..520) == Some(SIGNATURE.as_slice()) {
        512
    } else {
        return Err(malformed(
            "the HDF5 signature at byte 0 or 512".into(),
            "no signature".into(),
        ));
    };
    let byte = |offset: usize| head.get(start + offset).copied();
    // Superblock layout (HDF5 file format spec, "Superblock"): the end-of-file address follows the
    // base address and two more addresses in versions 0 and 1, and the base and extension addresses
    // in versions 2 and 3. All addresses are `size_of_offsets` bytes, little-endian.
    let (offset_size, base_at) = match byte(8) {
        Some(0) => (byte(13), 24),
        Some(1) => (byte(13), 28),
        Some(2) | Some(3) => (byte(9), 12),
        other => {
            return Err(malformed(
                "superblock version 0 to 3".into(),
                format!("{other:?}"),
            ));
        }
    };
    let size = usize::from(offset_size.unwrap_or(0));
    if !(1..=8).contains(&size) {
        return Err(malformed(
            "an offset size of 1 to 8 bytes".into(),
            size.to_string(),
        ));
    }
    let address = |at: usize| -> Option<u64> {
        let bytes = head.get(start + at..start + at + size)?;
        Some(
            bytes
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
        )
    };
    // The end-of-file address is the third address from the base address in every version.
    let (Some(base), Some(eof)) = (address(base_at), address(base_at + 2 * size)) else {
        return Err(malformed(
            "a complete superblock".into(),
            format!("{length} bytes"),
        ));
    };
    let needed = base.saturating_add(eof);
    if length < needed {
        return Err(malformed(
            format!("{needed} bytes (the end-of-file address in its superblock)"),
            format!("{length} bytes: the file is truncated"),
        ));
    }
    Ok(())
}

/// Opens dataset `key` of `path` (after the truncation check), or says why it cannot.
fn open_dataset(
    path: &Path,
    key: &str,
) -> Result<(rust_hdf5::H5File, rust_hdf5::H5Dataset), DataError> {
    check_length(path)?;
    let file = rust_hdf5::H5File::open(path).map_err(|err| DataError::Malformed {
        path: path.to_path_buf(),
        format: "HDF5",
        expected: "a readable HDF5 file".to_string(),
        found: err.to_string(),
    })?;
    let dataset = file.dataset(key).map_err(|_| DataError::MissingArray {
        path: path.to_path_buf(),
        key: key.to_string(),
        available: file.dataset_names(),
    })?;
    Ok((file, dataset))
}

/// numpy's name of dataset `key`'s element type (`uint8`, `int64`, `float32`, …; anything else
/// described in words) and its shape, without reading its data.
pub(crate) fn header(path: &Path, key: &str) -> Result<(String, Vec<u64>), DataError> {
    use rust_hdf5::format::messages::datatype::DatatypeMessage;
    let (_file, dataset) = open_dataset(path, key)?;
    let shape = dataset.shape().iter().map(|&d| d as u64).collect();
    let dtype = match dataset.datatype() {
        Ok(DatatypeMessage::FixedPoint { size, signed, .. }) => {
            format!("{}int{}", if signed { "" } else { "u" }, size * 8)
        }
        Ok(DatatypeMessage::FloatingPoint { size, .. }) => format!("float{}", size * 8),
        Ok(other) => format!("{other:?}")
            .split([' ', '{', '('])
            .next()
            .unwrap_or("unknown")
            .to_string(),
        Err(err) => format!("an unreadable type ({err})"),
    };
    Ok((dtype, shape))
}

fn read_error(path: &Path, key: &str, err: rust_hdf5::Hdf5Error) -> DataError {
    DataError::Malformed {
        path: path.to_path_buf(),
        format: "HDF5",
        expected: format!("readable data in dataset `{key}`"),
        found: err.to_string(),
    }
}

/// Every element of integer dataset `key`, as `i64`.
pub(crate) fn read_i64(path: &Path, key: &str) -> Result<Vec<i64>, DataError> {
    let (_file, dataset) = open_dataset(path, key)?;
    dataset
        .read_numeric_as::<i64>()
        .map_err(|err| read_error(path, key, err))
}

/// Every element of float dataset `key`, as `f32`.
pub(crate) fn read_f32(path: &Path, key: &str) -> Result<Vec<f32>, DataError> {
    let (_file, dataset) = open_dataset(path, key)?;
    dataset
        .read_numeric_as::<f32>()
        .map_err(|err| read_error(path, key, err))
}

/// Every byte of one-byte dataset `key`.
pub(crate) fn read_bytes(path: &Path, key: &str) -> Result<Vec<u8>, DataError> {
    let (_file, dataset) = open_dataset(path, key)?;
    dataset
        .read_raw::<u8>()
        .map_err(|err| read_error(path, key, err))
}
