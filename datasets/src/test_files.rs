//! Test-only writers of the released file formats (npz, NORB binary matrix, MATLAB v5), so that the
//! loader tests create their own small files in the exact formats. Never compiled outside tests.

use npyz::WriterBuilder;
use std::{
    io::Write,
    path::{Path, PathBuf},
};

/// A fresh empty directory under the system temp dir, unique to this call (process, counter, `name`),
/// removed with everything in it when the value is dropped: the throughput test alone writes
/// 123 MB, and every run of the suite used to leave its files behind.
pub(crate) fn temp_dir(name: &str) -> TempDir {
    // Unique per call, not only per process: tests run in parallel threads, and two of them asking
    // for the same name (both fuzz seed tests build the seeds) would otherwise delete each other's
    // files between writing and reading them.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("disc-data-{}-{call}-{name}", std::process::id()));
    // A leftover from an earlier run with the same pid is removed first; failure means it was absent.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    TempDir(dir)
}

/// A directory made by [`temp_dir`], deleted on drop; it derefs to its path.
pub(crate) struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = PathBuf;

    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a test that failed to remove its files has still passed or failed.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes an `.npz` (deflate-compressed like `np.savez_compressed`) of uint8 arrays.
pub(crate) fn write_npz(path: &Path, arrays: &[(&str, &[u64], &[u8])]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("writable"));
    let mut zip = zip::ZipWriter::new(file);
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, shape, data) in arrays {
        zip.start_file(npyz::npz::file_name_from_array_name(name), options)
            .expect("zip entry");
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(&mut zip)
            .begin_nd()
            .expect("npy header");
        writer.extend(data.iter().copied()).expect("npy data");
        writer.finish().expect("npy finish");
    }
    zip.finish().expect("zip finish");
}

/// Writes a NORB binary matrix: magic, ndim, `max(3, ndim)` dims (padded with 1), data.
pub(crate) fn write_norb(path: &Path, magic: i32, dims: &[i32], data: &[u8]) {
    let mut bytes = Vec::new();
    bytes.extend(magic.to_le_bytes());
    bytes.extend((dims.len() as i32).to_le_bytes());
    for i in 0..dims.len().max(3) {
        bytes.extend(dims.get(i).copied().unwrap_or(1).to_le_bytes());
    }
    bytes.extend(data);
    std::fs::write(path, bytes).expect("writable");
}

/// int32 values as little-endian bytes.
pub(crate) fn i32_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn element(data_type: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(data_type.to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(data);
    out.resize(out.len().div_ceil(8) * 8, 0);
    out
}

/// One `miMATRIX` element of class uint8 (9) with the given column-major data.
pub(crate) fn mat_uint8_matrix(name: &str, dims: &[i32], data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(element(6, &[9, 0, 0, 0, 0, 0, 0, 0]));
    body.extend(element(5, &i32_bytes(dims)));
    body.extend(element(1, name.as_bytes()));
    body.extend(element(2, data));
    element(14, &body)
}

/// Writes a MATLAB v5 file holding the given `miMATRIX` elements, each zlib-compressed or not.
pub(crate) fn write_mat(path: &Path, matrices: &[Vec<u8>], compressed: bool) {
    let mut bytes = Vec::new();
    let mut header = b"MATLAB 5.0 MAT-file, written by disc-data tests".to_vec();
    header.resize(116, b' ');
    bytes.extend(header);
    bytes.extend([0u8; 8]);
    bytes.extend([0x00, 0x01]);
    bytes.extend(b"IM");
    for matrix in matrices {
        if compressed {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(matrix).expect("in memory");
            let packed = encoder.finish().expect("in memory");
            bytes.extend(15u32.to_le_bytes());
            bytes.extend((packed.len() as u32).to_le_bytes());
            bytes.extend(packed);
        } else {
            bytes.extend(matrix);
        }
    }
    std::fs::write(path, bytes).expect("writable");
}

/// A `.npy` file (format 1.0) of any plain dtype (the fuzz targets' writer).
pub(crate) use crate::fuzzing::npy_bytes;

/// Writes an `.npz` of already encoded `.npy` files (stored, like `np.savez`).
pub(crate) fn write_npz_raw(path: &Path, arrays: &[(&str, Vec<u8>)]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("writable"));
    let mut zip = zip::ZipWriter::new(file);
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, npy) in arrays {
        zip.start_file(npyz::npz::file_name_from_array_name(name), options)
            .expect("zip entry");
        zip.write_all(npy).expect("zip data");
    }
    zip.finish().expect("zip finish");
}
