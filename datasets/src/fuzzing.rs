//! Entry points for the fuzz targets in `fuzz/` and their regression tests: the readers of user files
//! (`.npz`, HDF5, `.mat`, NORB), each called exactly as a loader calls it, on bytes a fuzzer made.
//!
//! Not an API for users (hidden from the docs): the functions only exist so that code outside this
//! crate can reach the `pub(crate)` readers. They return the reader's own `Result`; the property under
//! test is that no input panics, overflows or asks for unbounded memory.

use std::path::Path;

use crate::DataError;

/// Largest array (in elements) the fuzz entry points accept from a header, so that a header claiming
/// terabytes is refused by the shape check, as the loaders' exact-shape checks refuse it.
const MAX_ELEMENTS: u64 = 1 << 20;

fn small(shape: &[u64]) -> bool {
    shape
        .iter()
        .try_fold(1u64, |total, &d| total.checked_mul(d))
        .is_some_and(|total| total <= MAX_ELEMENTS)
}

/// Opens the `.npz` at `path`, lists its arrays and reads `images` whole and in chunks (the dSprites
/// and grid loaders' paths), accepting any small uint8 shape.
pub fn npz(path: &Path) -> Result<usize, DataError> {
    let mut file = crate::npz::NpzFile::open(path)?;
    let names = file.array_names();
    let whole = file.array_u8("images", "a small uint8 array", small)?;
    let mut chunked = 0usize;
    file.array_u8_chunks("images", "a small uint8 array", small, 7, |chunk| {
        chunked += chunk.len();
        Ok(())
    })?;
    Ok(names.len() + whole.len() + chunked)
}

/// Checks the HDF5 signature of the file at `path` and reads its uint8 dataset `images` of shape
/// `expected` (the 3dshapes loader's path with a small shape).
pub fn hdf5(path: &Path, expected: &[usize]) -> Result<usize, DataError> {
    if !crate::h5::is_hdf5(path)? {
        return Ok(0);
    }
    crate::h5::read_u8_dataset(path, "images", expected).map(|data| data.len())
}

/// Decodes variable `name` from the bytes of a `.mat` file (the Cars3D loader's path).
pub fn mat(bytes: &[u8], name: &str) -> Result<usize, DataError> {
    crate::mat::parse_variable(Path::new("fuzz.mat"), bytes, name).map(|array| array.data.len())
}

/// Parses a NORB binary matrix (the smallNORB loader's path).
pub fn norb(bytes: &[u8]) -> Result<usize, DataError> {
    crate::norb::parse_matrix(Path::new("fuzz.norb"), bytes).map(|matrix| matrix.data.len())
}
