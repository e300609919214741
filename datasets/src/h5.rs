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
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let mut head = Vec::with_capacity(520);
    std::fs::File::open(path).map_err(io)?.take(520).read_to_end(&mut head).map_err(io)?;
    Ok(head.get(0..8) == Some(SIGNATURE.as_slice()) || head.get(512..520) == Some(SIGNATURE.as_slice()))
}

/// Reads `images` of a `3dshapes.h5` file into `480000 · 64 · 64 · 3` bytes.
pub(crate) fn read_shapes3d_images(path: &Path) -> Result<Vec<u8>, DataError> {
    let malformed = |expected: &str, err: rust_hdf5::Hdf5Error| DataError::Malformed {
        path: path.to_path_buf(),
        format: "HDF5",
        expected: expected.to_string(),
        found: err.to_string(),
    };
    let file = rust_hdf5::H5File::open(path).map_err(|err| malformed("a readable HDF5 file", err))?;
    let images = file.dataset("images").map_err(|_| DataError::MissingArray {
        path: path.to_path_buf(),
        key: "images".to_string(),
        available: file.dataset_names(),
    })?;
    let shape = images.shape();
    if shape != SHAPE || images.element_size() != 1 {
        return Err(DataError::ArrayShape {
            path: path.to_path_buf(),
            key: "images".to_string(),
            found: shape.iter().map(|&d| d as u64).collect(),
            dtype: format!("{}-byte elements", images.element_size()),
            expected: format!("uint8 {SHAPE:?}"),
        });
    }
    images.read_raw::<u8>().map_err(|err| malformed("readable data in dataset `images`", err))
}
