//! Entry points for the fuzz targets in `fuzz/` and their regression tests: the readers of user files
//! (`.npz`, HDF5, `.mat`, NORB, and the arrays dataset's `.npy`), each called exactly as a loader
//! calls it, on bytes a fuzzer made.
//!
//! Not an API for users (hidden from the docs): the functions only exist so that code outside this
//! crate can reach the `pub(crate)` readers. They return the reader's own `Result`; the property under
//! test is that no input panics, overflows or asks for unbounded memory.

use std::path::Path;

use crate::arrays::{ArraySource, UserArrays, inspect};
use crate::{DataError, GroundTruthData, RandomState};

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

/// The user's arrays as `disc check` reads them ([`inspect`]) and then as `disc run` opens them
/// ([`UserArrays::open`], with the factor sizes the labels imply; see below for its row cache) and
/// reads one observation. The files are sniffed as the dataset does (`.npy`, `.npz` or HDF5); the
/// arrays inside an `.npz` or HDF5 file are `images` and `labels`.
pub fn arrays(images: &Path, labels: &Path) -> Result<usize, DataError> {
    let source = ArraySource {
        images: images.to_path_buf(),
        images_key: "images".to_string(),
        labels: labels.to_path_buf(),
        labels_key: "labels".to_string(),
    };
    let facts = inspect(&source)?;
    // The sizes a program that `disc check` accepts declares: one more than each column's largest
    // label (bounded, as the checker bounds a factor's size).
    let sizes: Vec<u32> = facts
        .label_ranges
        .unwrap_or_default()
        .iter()
        .map(|&(_, max)| {
            u32::try_from(max.saturating_add(1)).map_or(1, |size| size.clamp(1, 1 << 16))
        })
        .collect();
    let names = (0..sizes.len()).map(|i| format!("factor{i}")).collect();
    // A job decodes an HDF5 dataset of multi-row chunks that is larger than the row cache once, in
    // full. A cache of no bytes sends every small such dataset down that path; one whose header
    // claims more than `MAX_ELEMENTS` (chunks never written read as fill values, so a small file
    // can claim terabytes) stays lazy, so that no input makes the target write gigabytes.
    let cache_bytes = if small(&facts.images.shape) {
        0
    } else {
        usize::MAX
    };
    let data = UserArrays::open_with_row_cache("fuzz", &source, names, sizes, cache_bytes)?;
    let [h, w, c] = data.observation_shape();
    let pixels = h.checked_mul(w).and_then(|hw| hw.checked_mul(c));
    if pixels.is_none_or(|n| n as u64 > MAX_ELEMENTS) {
        return Ok(data.rows());
    }
    let mut rng = RandomState::new(0);
    let factors = data.sample_factors(2, &mut rng);
    let mut out = Vec::new();
    data.observations(&factors, &mut rng, &mut out)?;
    Ok(data.rows() + out.len())
}

/// A `.npy` file (format 1.0, C order) of a plain dtype: `descr` as numpy writes it (`|u1`, `<i8`,
/// `<f4`), the shape, and the elements' little-endian bytes.
pub fn npy_bytes(descr: &str, shape: &[u64], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // numpy pads the header with spaces so that the data starts at a multiple of 64 bytes.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend(
        u16::try_from(header.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes(),
    );
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// The valid pair the `npy` target puts beside its input: six 2×2×1 uint8 images and their int64
/// labels `(i / 3, i % 3)`, a complete 2 × 3 grid.
pub fn npy_pair() -> (Vec<u8>, Vec<u8>) {
    let images: Vec<u8> = (0..6u8).flat_map(|i| [i * 40; 4]).collect();
    let labels: Vec<u8> = (0..6i64)
        .flat_map(|i| [i / 3, i % 3])
        .flat_map(i64::to_le_bytes)
        .collect();
    (
        npy_bytes("|u1", &[6, 2, 2, 1], &images),
        npy_bytes("<i8", &[6, 2], &labels),
    )
}

/// Decodes a `.npy` as `disc eval --codes codes.npy` does (the npyz calls of `src/cli/eval.rs`):
/// header, then every element as the stored type when it is a float or integer type. Returns the
/// number of elements when the array is 2-d, as `disc eval` requires.
pub fn npy_as_eval_reads(bytes: &[u8]) -> std::io::Result<usize> {
    use npyz::{DType, NpyFile, TypeChar};
    if !crate::npy_guard::npy_shape_fits(bytes) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the header's shape has more elements than fit in 64 bits",
        ));
    }
    let npy = NpyFile::new(bytes)?;
    let rank = npy.shape().len();
    let DType::Plain(type_str) = npy.dtype() else {
        return Ok(0);
    };
    let len = match (type_str.type_char(), type_str.size_field()) {
        (TypeChar::Float, 4) => npy.into_vec::<f32>()?.len(),
        (TypeChar::Float, 8) => npy.into_vec::<f64>()?.len(),
        (TypeChar::Int, 1) => npy.into_vec::<i8>()?.len(),
        (TypeChar::Int, 2) => npy.into_vec::<i16>()?.len(),
        (TypeChar::Int, 4) => npy.into_vec::<i32>()?.len(),
        (TypeChar::Int, 8) => npy.into_vec::<i64>()?.len(),
        (TypeChar::Uint, 1) => npy.into_vec::<u8>()?.len(),
        (TypeChar::Uint, 2) => npy.into_vec::<u16>()?.len(),
        (TypeChar::Uint, 4) => npy.into_vec::<u32>()?.len(),
        (TypeChar::Uint, 8) => npy.into_vec::<u64>()?.len(),
        _ => 0,
    };
    Ok(if rank == 2 { len } else { 0 })
}
