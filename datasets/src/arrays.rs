//! The user's own arrays as a ground-truth dataset: images and integer factor labels from an
//! `.npz` (arrays `images` and `factors`), a pair of `.npy` files, or an HDF5 file (dataset names
//! given by the user).
//!
//! Two entry points: [`inspect`] reads what `disc check` needs (both arrays' element types and
//! shapes, the label range of every factor column and the number of distinct factor rows; the
//! labels are read, the images only up to their header), and [`UserArrays::open`] opens the data
//! for a job. Images stay as stored (`u8` or float) and are converted per batch, and are never
//! held whole in memory, so the files may be larger than it ([`ImageStorage`]): a `.npy` file, or
//! an array `np.savez` stored uncompressed in an `.npz`, is read row by row in place (the
//! operating system's page cache keeps what is reused); a compressed `.npz` array is inflated
//! once, when the job opens it, into an unnamed temporary file read the same way; an HDF5 dataset
//! is read a chunk's rows at a time through the hyperslab API, behind a bounded cache of decoded
//! blocks, unless its chunks span many rows and it is larger than the cache: then it too is
//! decoded once into a temporary file (random rows would otherwise decode a whole chunk each).
//!
//! This module must not know the compiler's types: the CLI converts [`ArrayFacts`] for the checker.

use std::{
    collections::BTreeSet,
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::Mutex,
};

use crate::{DataError, FactorSpace, GroundTruthData, RandomState, grid::u8_to_unit_table, h5};

/// Where the arrays are: the file of the images and the file of the labels (the same file for an
/// `.npz` or HDF5 file holding both), with the names of the arrays inside them (ignored for `.npy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArraySource {
    /// The images' file.
    pub images: PathBuf,
    /// The images' array name in an `.npz` or HDF5 file.
    pub images_key: String,
    /// The labels' file.
    pub labels: PathBuf,
    /// The labels' array name in an `.npz` or HDF5 file.
    pub labels_key: String,
}

/// An array's element type and shape, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayHeader {
    /// numpy's name of the element type (`uint8`, `float32`, `int64`, …), or the stored
    /// descriptor for anything else (e.g. `>f4`, `<U3`).
    pub dtype: String,
    /// The shape, leading axis first.
    pub shape: Vec<u64>,
}

/// What `disc check` needs to know about a pair of arrays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayFacts {
    /// The images' header.
    pub images: ArrayHeader,
    /// The labels' header.
    pub labels: ArrayHeader,
    /// `(min, max)` of every label column, when the labels are integers of rank 1 or 2 (rank 1 is
    /// one column); `None` otherwise (nothing was decoded).
    pub label_ranges: Option<Vec<(i64, i64)>>,
    /// The number of distinct label rows (0 when `label_ranges` is `None`).
    pub distinct_rows: u64,
}

/// The element types accepted for images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pixel {
    U8,
    F32,
    F64,
}

impl Pixel {
    fn parse(dtype: &str) -> Option<Self> {
        match dtype {
            "uint8" => Some(Pixel::U8),
            "float32" => Some(Pixel::F32),
            "float64" => Some(Pixel::F64),
            _ => None,
        }
    }
    fn width(self) -> usize {
        match self {
            Pixel::U8 => 1,
            Pixel::F32 => 4,
            Pixel::F64 => 8,
        }
    }
}

/// numpy's name for a little-endian (or byte-sized) plain descriptor, e.g. `<f4` → `float32`.
fn dtype_name(descr: &str) -> String {
    let name = match descr {
        "|u1" | "<u1" | "=u1" => "uint8",
        "|i1" | "<i1" | "=i1" => "int8",
        "<u2" => "uint16",
        "<i2" => "int16",
        "<u4" => "uint32",
        "<i4" => "int32",
        "<u8" => "uint64",
        "<i8" => "int64",
        "<f4" => "float32",
        "<f8" => "float64",
        "|b1" => "bool",
        other => return other.to_string(),
    };
    name.to_string()
}

/// Decodes integers of numpy type `dtype` (little-endian bytes); `None` for any other type.
fn decode_ints(dtype: &str, bytes: &[u8]) -> Option<Vec<i64>> {
    fn each<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> i64) -> Vec<i64> {
        bytes
            .chunks_exact(N)
            .map(|c| f(c.try_into().unwrap_or([0; N])))
            .collect()
    }
    Some(match dtype {
        "uint8" => bytes.iter().map(|&b| i64::from(b)).collect(),
        "int8" => bytes.iter().map(|&b| i64::from(b as i8)).collect(),
        "uint16" => each(bytes, |b| i64::from(u16::from_le_bytes(b))),
        "int16" => each(bytes, |b| i64::from(i16::from_le_bytes(b))),
        "uint32" => each(bytes, |b| i64::from(u32::from_le_bytes(b))),
        "int32" => each(bytes, |b| i64::from(i32::from_le_bytes(b))),
        "uint64" => each(bytes, |b| {
            i64::try_from(u64::from_le_bytes(b)).unwrap_or(i64::MAX)
        }),
        "int64" => each(bytes, i64::from_le_bytes),
        _ => return None,
    })
}

/// Whether `dtype` names an integer type.
pub fn is_integer(dtype: &str) -> bool {
    matches!(
        dtype,
        "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "uint64" | "int64"
    )
}

/// Whether `dtype` is accepted for images (`uint8`, `float32`, `float64`).
pub fn is_image_type(dtype: &str) -> bool {
    Pixel::parse(dtype).is_some()
}

/// The file formats read here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Npy,
    Npz,
    Hdf5,
}

const NPY_MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Columns of a labels array with no rows for which [`inspect`] still reports (empty) ranges.
const MAX_EMPTY_COLUMNS: usize = 1 << 16;

/// The element count of `shape`, or `None` when it does not fit in a `u64`.
fn element_count(shape: &[u64]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |total, &d| total.checked_mul(d))
}

fn count_overflow(path: &Path, shape: &[u64]) -> DataError {
    DataError::Malformed {
        path: path.to_path_buf(),
        format: "array",
        expected: "a shape whose element count fits in 64 bits".to_string(),
        found: format!("shape {shape:?}"),
    }
}

fn format_of(path: &Path) -> Result<Format, DataError> {
    let mut head = Vec::with_capacity(8);
    File::open(path)
        .map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .take(6)
        .read_to_end(&mut head)
        .map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if head.as_slice() == NPY_MAGIC.as_slice() {
        Ok(Format::Npy)
    } else if h5::is_hdf5(path)? {
        Ok(Format::Hdf5)
    } else if head.starts_with(b"PK") {
        Ok(Format::Npz)
    } else {
        Err(DataError::Malformed {
            path: path.to_path_buf(),
            format: "array",
            expected: "an .npz (zip), .npy or HDF5 file".to_string(),
            found: "none of these signatures".to_string(),
        })
    }
}

/// A `.npy` file's header: descriptor, shape, C order, and where the data starts.
fn npy_header(path: &Path) -> Result<(String, Vec<u64>, bool, u64), DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let malformed = |found: String| DataError::Malformed {
        path: path.to_path_buf(),
        format: "npy",
        expected: "a numpy .npy header".to_string(),
        found,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut start = [0u8; 12];
    file.read_exact(&mut start)
        .map_err(|e| malformed(e.to_string()))?;
    // Format 1.0 has a 2-byte header length, 2.0 and 3.0 a 4-byte one (numpy's NEP 1).
    let data_offset = match start.get(6) {
        Some(1) => 10 + u64::from(u16::from_le_bytes([start[8], start[9]])),
        Some(2 | 3) => {
            12 + u64::from(u32::from_le_bytes([
                start[8], start[9], start[10], start[11],
            ]))
        }
        other => return Err(malformed(format!("format version {other:?}"))),
    };
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    if !crate::npy_guard::npy_shape_fits(&mut file) {
        return Err(malformed(
            "a shape whose element count overflows".to_string(),
        ));
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let npy =
        npyz::NpyFile::new(std::io::BufReader::new(file)).map_err(|e| malformed(e.to_string()))?;
    let descr = match npy.dtype() {
        npyz::DType::Plain(type_str) => type_str.to_string(),
        other => other.descr(),
    };
    Ok((
        descr,
        npy.shape().to_vec(),
        npy.order() == npyz::Order::C,
        data_offset,
    ))
}

/// The header of one array.
fn header(path: &Path, key: &str) -> Result<ArrayHeader, DataError> {
    let (descr, shape, c_order) = match format_of(path)? {
        Format::Npy => {
            let (descr, shape, c_order, _) = npy_header(path)?;
            (descr, shape, c_order)
        }
        Format::Npz => crate::npz::NpzFile::open(path)?.header(key)?,
        Format::Hdf5 => {
            let (dtype, shape) = h5::header(path, key)?;
            return Ok(ArrayHeader { dtype, shape });
        }
    };
    let dtype = dtype_name(&descr);
    Ok(ArrayHeader {
        dtype: if c_order {
            dtype
        } else {
            format!("{dtype} in Fortran order")
        },
        shape,
    })
}

/// Every element of an integer array, with its header; `Ok(None)` when it is not integer.
fn read_ints(path: &Path, key: &str) -> Result<(ArrayHeader, Option<Vec<i64>>), DataError> {
    let (descr, shape, bytes) = match format_of(path)? {
        Format::Npy => {
            let (descr, shape, c_order, offset) = npy_header(path)?;
            let dtype = dtype_name(&descr);
            if !c_order || !is_integer(&dtype) {
                return Ok((header(path, key)?, None));
            }
            let mut file = File::open(path).map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            file.seek(SeekFrom::Start(offset))
                .map_err(|source| DataError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .map_err(|source| DataError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            (descr, shape, bytes)
        }
        Format::Npz => {
            let mut npz = crate::npz::NpzFile::open(path)?;
            let (descr, _shape, c_order) = npz.header(key)?;
            if !c_order || !is_integer(&dtype_name(&descr)) {
                return Ok((header(path, key)?, None));
            }
            npz.array_bytes(key)?
        }
        Format::Hdf5 => {
            let (dtype, shape) = h5::header(path, key)?;
            let values = if is_integer(&dtype) {
                Some(h5::read_i64(path, key)?)
            } else {
                None
            };
            return Ok((ArrayHeader { dtype, shape }, values));
        }
    };
    let dtype = dtype_name(&descr);
    let values = decode_ints(&dtype, &bytes);
    let count = element_count(&shape).ok_or_else(|| count_overflow(path, &shape))?;
    if values.as_ref().is_some_and(|v| v.len() as u64 != count) {
        return Err(DataError::Malformed {
            path: path.to_path_buf(),
            format: "array",
            expected: format!("{count} elements in array `{key}`"),
            found: format!("{} bytes", bytes.len()),
        });
    }
    Ok((ArrayHeader { dtype, shape }, values))
}

/// The elements of a numeric array read whole, in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub enum Numbers {
    /// An integer array's elements.
    Int(Vec<i64>),
    /// A float array's elements.
    Float(Vec<f64>),
}

/// Whether `path` is an HDF5 file (by its signature), as opposed to an `.npy` or `.npz`.
pub fn is_hdf5_file(path: &Path) -> Result<bool, DataError> {
    h5::is_hdf5(path)
}

/// Reads HDF5 dataset `key` of `path` whole (what `disc eval` reads: codes and factor labels, a
/// few numbers per row): its header, and its elements when they are integers or floats (`None`
/// for any other type, which the header names).
pub fn read_hdf5(path: &Path, key: &str) -> Result<(ArrayHeader, Option<Numbers>), DataError> {
    let (dtype, shape) = h5::header(path, key)?;
    let values = if is_integer(&dtype) {
        Some(Numbers::Int(h5::read_i64(path, key)?))
    } else if matches!(dtype.as_str(), "float32" | "float64") {
        Some(Numbers::Float(h5::read_f64(path, key)?))
    } else {
        None
    };
    Ok((ArrayHeader { dtype, shape }, values))
}

/// The number of label columns of a labels shape: `(N, K)` has `K`, `(N,)` has one.
fn label_columns(shape: &[u64]) -> Option<usize> {
    match shape {
        [_] => Some(1),
        [_, k] => usize::try_from(*k).ok(),
        _ => None,
    }
}

/// What `disc check` needs: both headers, the label ranges and the distinct label rows. Reads the
/// labels (small) and the images' header only.
pub fn inspect(source: &ArraySource) -> Result<ArrayFacts, DataError> {
    let images = header(&source.images, &source.images_key)?;
    let (labels, values) = read_ints(&source.labels, &source.labels_key)?;
    let columns = label_columns(&labels.shape);
    let (label_ranges, distinct_rows) = match (values, columns) {
        // A header of zero rows may claim any number of columns: `ranges` is only allocated for
        // as many as there are labels, or a plausible number of factors.
        (Some(values), Some(k)) if k > 0 && (k <= values.len() || k <= MAX_EMPTY_COLUMNS) => {
            let mut ranges = vec![(i64::MAX, i64::MIN); k];
            let mut distinct = BTreeSet::new();
            for row in values.chunks_exact(k) {
                for (range, &v) in ranges.iter_mut().zip(row) {
                    range.0 = range.0.min(v);
                    range.1 = range.1.max(v);
                }
                distinct.insert(row);
            }
            (Some(ranges), distinct.len() as u64)
        }
        _ => (None, 0),
    };
    Ok(ArrayFacts {
        images,
        labels,
        label_ranges,
        distinct_rows,
    })
}

/// The file [`Pixels::Rows`] reads rows from, by where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowFile {
    /// The user's `.npy` file, in place.
    Npy,
    /// The user's `.npz`, an array stored uncompressed (`np.savez`), in place.
    NpzStored,
    /// A temporary file a compressed `.npz` array (`np.savez_compressed`) was inflated into.
    NpzDecoded,
    /// A temporary file an HDF5 dataset was decoded into ([`h5::LazyRows::decode_once_pays`]).
    Hdf5Decoded,
}

impl RowFile {
    /// The user's file's format, for messages.
    fn format(self) -> &'static str {
        match self {
            RowFile::Npy => "npy",
            RowFile::NpzStored | RowFile::NpzDecoded => "npz",
            RowFile::Hdf5Decoded => "HDF5",
        }
    }

    /// Whether the file is a temporary copy decoded when the job opened the data.
    fn decoded(self) -> bool {
        match self {
            RowFile::Npy | RowFile::NpzStored => false,
            RowFile::NpzDecoded | RowFile::Hdf5Decoded => true,
        }
    }
}

/// Where the pixels are. No variant holds the images whole: every format is read row by row.
enum Pixels {
    /// Rows read by position from a file: an `.npy` file, an uncompressed array inside an `.npz`
    /// (both in place), or a temporary file a compressed `.npz` array or an HDF5 dataset was
    /// decoded into once (`origin`). `path` is the user's file (for messages), `offset` where the
    /// array's data starts in `file`, `pixel` the element type in `file`.
    Rows {
        file: Mutex<File>,
        path: PathBuf,
        offset: u64,
        pixel: Pixel,
        origin: RowFile,
    },
    /// An HDF5 dataset read a chunk's rows at a time, behind a cache of decoded blocks (boxed: it
    /// is several times the size of the other variant).
    Hdf5(Box<h5::LazyRows>),
}

/// How a job reads the images of [`UserArrays`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageStorage {
    /// Row by row in place, from the user's file (`.npy`, or an `.npz` written by `np.savez`).
    InPlace,
    /// Decoded once when the job opens it into an unnamed temporary file, then read row by row
    /// from it: a compressed `.npz` array (`np.savez_compressed`), or an HDF5 dataset whose chunks
    /// span several rows and which does not fit the row cache (float64 narrowed to float32 there,
    /// as [`ImageStorage::Chunked`] narrows it).
    DecodedOnce,
    /// An HDF5 dataset, read through its chunks: a block of rows per chunk, decoded on first use
    /// and kept in a bounded least-recently-used cache (a dataset that fits the cache, or one
    /// chunked a row at a time).
    Chunked,
}

/// The user's arrays as a [`GroundTruthData`]: one observation per label row, looked up by its
/// factor values. A factor combination with several rows gives one of them at random; on data that
/// is not a complete grid, factor rows are drawn from the rows present ([`GroundTruthData::sample_factors`]).
pub struct UserArrays {
    name: String,
    space: FactorSpace,
    names: Vec<String>,
    shape: [usize; 3],
    pixels: Pixels,
    /// `(row-major cell index, row)`, sorted: the rows of each factor combination.
    index: Vec<(u64, u32)>,
    /// The label rows, in file order.
    labels: Vec<Vec<u32>>,
    /// Every factor combination has at least one row.
    complete: bool,
    to_unit: [f32; 256],
}

impl std::fmt::Debug for UserArrays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserArrays")
            .field("name", &self.name)
            .field("space", &self.space)
            .field("shape", &self.shape)
            .field("rows", &self.labels.len())
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

impl UserArrays {
    /// Opens the arrays of `source` with the declared factor `names` and `sizes` (in label column
    /// order). Checks everything `disc check` checks (so a plan made from other files fails here,
    /// not mid-training), reads the labels, and opens the images for row reads
    /// ([`ImageStorage`]: a compressed `.npz` array, or an HDF5 dataset larger than the row cache
    /// in chunks of many rows, is decoded here, once).
    pub fn open(
        name: &str,
        source: &ArraySource,
        names: Vec<String>,
        sizes: Vec<u32>,
    ) -> Result<Self, DataError> {
        Self::open_with_row_cache(name, source, names, sizes, h5::ROW_CACHE_BYTES)
    }

    /// [`UserArrays::open`] with an HDF5 row cache of `cache_bytes` (which also decides whether
    /// an HDF5 dataset is decoded once): tests and measurements use a small budget to see what a
    /// dataset much larger than the cache sees, on a small file.
    pub(crate) fn open_with_row_cache(
        name: &str,
        source: &ArraySource,
        names: Vec<String>,
        sizes: Vec<u32>,
        cache_bytes: usize,
    ) -> Result<Self, DataError> {
        let invalid = |parameter: &'static str, value: String| DataError::InvalidParameter {
            dataset: "arrays",
            parameter,
            value,
        };
        let space = FactorSpace::new(sizes.clone())?;
        let images = header(&source.images, &source.images_key)?;
        let Some(pixel) = Pixel::parse(&images.dtype) else {
            return Err(invalid(
                "images",
                format!(
                    "element type `{}` (expected uint8, float32 or float64)",
                    images.dtype
                ),
            ));
        };
        let shape = match images.shape.as_slice() {
            [_, h, w] => [*h, *w, 1],
            [_, h, w, c] => [*h, *w, *c],
            other => {
                return Err(invalid(
                    "images",
                    format!("shape {other:?} (expected (rows, height, width[, channels]))"),
                ));
            }
        }
        .map(|d| usize::try_from(d).unwrap_or(usize::MAX));
        let rows = images.shape.first().copied().unwrap_or(0);
        let (labels_header, values) = read_ints(&source.labels, &source.labels_key)?;
        let k = sizes.len();
        let (Some(values), Some(columns)) = (values, label_columns(&labels_header.shape)) else {
            return Err(invalid(
                "labels",
                format!(
                    "`{}` of shape {:?} (expected integers of shape (rows, factors))",
                    labels_header.dtype, labels_header.shape
                ),
            ));
        };
        if columns != k || labels_header.shape.first().copied() != Some(rows) {
            return Err(invalid(
                "labels",
                format!(
                    "shape {:?} for {rows} images and {k} factors",
                    labels_header.shape
                ),
            ));
        }
        let mut labels = Vec::with_capacity(values.len() / k.max(1));
        for row in values.chunks_exact(k.max(1)) {
            let mut out = Vec::with_capacity(k);
            for (factor, (&v, &size)) in row.iter().zip(&sizes).enumerate() {
                match u32::try_from(v) {
                    Ok(value) if value < size => out.push(value),
                    _ => {
                        return Err(DataError::FactorOutOfRange {
                            factor,
                            value: u32::try_from(v).unwrap_or(u32::MAX),
                            size,
                        });
                    }
                }
            }
            labels.push(out);
        }
        let mut index: Vec<(u64, u32)> = labels
            .iter()
            .zip(0u32..)
            .map(|(row, i)| (space.ravel(row), i))
            .collect();
        index.sort_unstable();
        let mut distinct = index.iter().map(|(cell, _)| *cell).collect::<Vec<_>>();
        distinct.dedup();
        let complete = distinct.len() as u64 == space.num_cells();
        let pixels = load_pixels(source, pixel, &images, cache_bytes)?;
        Ok(UserArrays {
            name: name.to_string(),
            space,
            names,
            shape,
            pixels,
            index,
            labels,
            complete,
            to_unit: u8_to_unit_table(),
        })
    }

    /// How the images are read (none of the ways holds them whole in memory).
    pub fn image_storage(&self) -> ImageStorage {
        match &self.pixels {
            Pixels::Rows { origin, .. } if origin.decoded() => ImageStorage::DecodedOnce,
            Pixels::Rows { .. } => ImageStorage::InPlace,
            Pixels::Hdf5(_) => ImageStorage::Chunked,
        }
    }

    /// Whether every factor combination has at least one row.
    pub fn is_complete_grid(&self) -> bool {
        self.complete
    }

    /// The number of rows (observations).
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// The same arrays with an HDF5 row cache of `bytes` (see [`h5::LazyRows`]); other formats are
    /// unchanged. Unlike [`UserArrays::open_with_row_cache`] this keeps a lazily read dataset
    /// lazy: it measures the cache alone on a dataset larger than it.
    #[cfg(test)]
    pub(crate) fn with_cache_bytes(mut self, bytes: usize) -> Self {
        if let Pixels::Hdf5(rows) = self.pixels {
            self.pixels = Pixels::Hdf5(Box::new(rows.with_cache_bytes(bytes)));
        }
        self
    }

    /// How many HDF5 blocks (the rows of one chunk) have been decoded so far; 0 for other
    /// formats. With the cache, reading rows of blocks already decoded decodes nothing again.
    pub fn blocks_decoded(&self) -> u64 {
        match &self.pixels {
            Pixels::Hdf5(rows) => rows.blocks_decoded(),
            Pixels::Rows { .. } => 0,
        }
    }

    /// The rows an HDF5 block holds (its chunk's extent along the first axis); 1 for other formats.
    pub fn block_rows(&self) -> u64 {
        match &self.pixels {
            Pixels::Hdf5(rows) => rows.block_rows(),
            Pixels::Rows { .. } => 1,
        }
    }

    /// Appends row `row`'s image as f32 in [0, 1] (floats as stored).
    fn push_row(&self, row: u32, out: &mut Vec<f32>) -> Result<(), DataError> {
        let len = self.observation_len();
        match &self.pixels {
            Pixels::Hdf5(rows) => rows.with_row(u64::from(row), |values| match values {
                h5::RowSlice::U8(bytes) => {
                    out.extend(bytes.iter().map(|&b| self.to_unit[usize::from(b)]));
                }
                h5::RowSlice::F32(values) => out.extend_from_slice(values),
            }),
            Pixels::Rows {
                file,
                path,
                offset,
                pixel,
                ..
            } => {
                let start = u64::from(row) * len as u64;
                let width = pixel.width();
                let mut bytes = vec![0u8; len * width];
                let io = |source| DataError::Io {
                    path: path.clone(),
                    source,
                };
                {
                    // A poisoned lock only means another reader panicked; the file is still fine.
                    let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
                    file.seek(SeekFrom::Start(offset + start * width as u64))
                        .map_err(io)?;
                    file.read_exact(&mut bytes).map_err(io)?;
                }
                match pixel {
                    Pixel::U8 => out.extend(bytes.iter().map(|&b| self.to_unit[usize::from(b)])),
                    Pixel::F32 => out.extend(
                        bytes
                            .chunks_exact(4)
                            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
                    ),
                    Pixel::F64 => out.extend(
                        bytes
                            .chunks_exact(8)
                            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32),
                    ),
                }
                Ok(())
            }
        }
    }
}

/// Row reads of `count` elements of `pixel` from `file` (the user's `path`, or a temporary file
/// decoded from it: `origin`), starting at byte `offset`, after checking that they all lie
/// before `end` (the end of the array's zip entry, or of the decoded data; the end of the `.npy`
/// file when `None`).
fn rows_from(
    file: File,
    path: &Path,
    offset: u64,
    end: Option<u64>,
    count: u64,
    pixel: Pixel,
    origin: RowFile,
) -> Result<Pixels, DataError> {
    let format = origin.format();
    let length = match end {
        Some(end) => end,
        None => file
            .metadata()
            .map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .len(),
    };
    let needed = count.saturating_mul(pixel.width() as u64);
    let available = length.saturating_sub(offset);
    if available < needed {
        return Err(DataError::Malformed {
            path: path.to_path_buf(),
            format,
            expected: format!("{needed} bytes of image data"),
            found: format!("{available} bytes: the array is truncated"),
        });
    }
    Ok(Pixels::Rows {
        file: Mutex::new(file),
        path: path.to_path_buf(),
        offset,
        pixel,
        origin,
    })
}

/// Opens the images for row reads: an `.npy` or an uncompressed `.npz` array in place, a
/// compressed `.npz` array after decoding it once into a temporary file, an HDF5 dataset through
/// its chunks behind a cache of `cache_bytes`, or decoded once when that cache cannot work.
fn load_pixels(
    source: &ArraySource,
    pixel: Pixel,
    images: &ArrayHeader,
    cache_bytes: usize,
) -> Result<Pixels, DataError> {
    let path = &source.images;
    let count = element_count(&images.shape).ok_or_else(|| count_overflow(path, &images.shape))?;
    let open = || {
        File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    match format_of(path)? {
        Format::Npy => {
            let (_, _, _, offset) = npy_header(path)?;
            rows_from(open()?, path, offset, None, count, pixel, RowFile::Npy)
        }
        Format::Npz => {
            let mut npz = crate::npz::NpzFile::open(path)?;
            // `np.savez` stores arrays uncompressed: read their rows in place, as from an `.npy`.
            if let Some((offset, end)) = npz.stored_data_offset(&source.images_key)? {
                return rows_from(
                    open()?,
                    path,
                    offset,
                    Some(end),
                    count,
                    pixel,
                    RowFile::NpzStored,
                );
            }
            // `np.savez_compressed` deflates each array as one stream: a row is reachable only by
            // inflating everything before it, and training reads rows in random order. So the
            // array is inflated once, streaming, into a temporary file read like an `.npy`.
            let (file, len) = npz.array_to_temp_file(&source.images_key)?;
            rows_from(file, path, 0, Some(len), count, pixel, RowFile::NpzDecoded)
        }
        Format::Hdf5 => {
            let element = match pixel {
                Pixel::U8 => h5::RowElement::U8,
                Pixel::F32 => h5::RowElement::F32,
                Pixel::F64 => h5::RowElement::F64,
            };
            let lazy = h5::LazyRows::open(path, &source.images_key, element, cache_bytes)?;
            if !lazy.decode_once_pays() {
                return Ok(Pixels::Hdf5(Box::new(lazy)));
            }
            // Chunks of many rows and a dataset larger than the cache: random rows would decode a
            // whole block each. One pass decodes every block once, streaming, into a temporary
            // file of the decoded elements (float64 already narrowed, as the lazy path narrows
            // it), read by position from then on.
            let (file, len) = lazy.decode_to_temp_file()?;
            let stored = match pixel {
                Pixel::U8 => Pixel::U8,
                Pixel::F32 | Pixel::F64 => Pixel::F32,
            };
            rows_from(
                file,
                path,
                0,
                Some(len),
                count,
                stored,
                RowFile::Hdf5Decoded,
            )
        }
    }
}

impl GroundTruthData for UserArrays {
    fn name(&self) -> &str {
        &self.name
    }

    fn factor_space(&self) -> &FactorSpace {
        &self.space
    }

    fn factor_names(&self) -> &[String] {
        &self.names
    }

    fn observation_shape(&self) -> [usize; 3] {
        self.shape
    }

    fn observations(
        &self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        self.space.check_rows(factors)?;
        out.reserve(factors.len() * self.observation_len());
        for row in factors {
            let cell = self.space.ravel(row);
            let first = self.index.partition_point(|(c, _)| *c < cell);
            let count = self.index[first..].partition_point(|(c, _)| *c == cell);
            let pick = match count {
                0 => {
                    return Err(DataError::MissingCombination {
                        dataset: "arrays",
                        features: row.clone(),
                    });
                }
                1 => 0,
                n => usize::try_from(rng.randint(0, n as i64)).unwrap_or(0),
            };
            let (_, image_row) = self.index[first + pick];
            self.push_row(image_row, out)?;
        }
        Ok(())
    }

    fn sample_factors(&self, n: usize, rng: &mut RandomState) -> Vec<Vec<u32>> {
        if self.complete {
            return self.space.sample_factors(n, rng);
        }
        // Plain observations: rows drawn uniformly, so only combinations that exist are asked for.
        (0..n)
            .map(|_| {
                let row = usize::try_from(rng.randint(0, self.labels.len() as i64)).unwrap_or(0);
                self.labels.get(row).cloned().unwrap_or_default()
            })
            .collect()
    }
}
