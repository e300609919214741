//! Reading DeepMind's `3dshapes.h5` (dataset `images`, uint8 `(480000, 64, 64, 3)`), through the
//! pure-Rust `rust-hdf5` crate (no libhdf5), which reads h5py's files, chunked and gzip-compressed
//! ones included.
//!
//! The `labels` dataset is not read: as in the reference, images are addressed by row-major factor
//! index (reference §4.7).
//!
//! The user's own HDF5 files (`arrays(...)`) are read here too: headers, integer labels whole,
//! and images lazily ([`LazyRows`]: blocks of rows through the hyperslab API, behind an LRU cache
//! of decoded blocks), or decoded once into a temporary file when the cache cannot work
//! ([`LazyRows::decode_once_pays`]). This module must not interpret the arrays; the datasets do.

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
    let (_file, images) = open_dataset(path, key)?;
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
    check_chunks(path, &dataset)?;
    Ok((file, dataset))
}

/// Decoded bytes a chunk may declare when its dataset is smaller: small datasets written with
/// generous chunks stay readable.
const SMALL_DATASET_CHUNK_BYTES: u128 = 64 << 20;

/// Refuses a chunk layout no writer produces: a chunk of 4 GiB or more (HDF5's own limit) or
/// larger than its whole dataset (beyond [`SMALL_DATASET_CHUNK_BYTES`]). rust-hdf5 allocates a
/// chunk's declared decoded size before it reads any of it, so a damaged header could otherwise
/// ask for any amount of memory: the `hdf5` fuzz target found a 6×4×4×3 dataset declaring chunks
/// of 44 GB (`fuzz/regressions/hdf5/`).
fn check_chunks(path: &Path, dataset: &rust_hdf5::H5Dataset) -> Result<(), DataError> {
    let Some(chunk) = dataset.chunk_dims() else {
        return Ok(());
    };
    let element = dataset.element_size() as u128;
    let bytes = |dims: &[usize]| dims.iter().map(|&d| d as u128).product::<u128>() * element;
    let limit = bytes(&dataset.shape()).clamp(SMALL_DATASET_CHUNK_BYTES, (1 << 32) - 1);
    if bytes(&chunk) > limit {
        return Err(DataError::Malformed {
            path: path.to_path_buf(),
            format: "HDF5",
            expected: format!(
                "chunks of at most {limit} bytes (under HDF5's 4 GiB limit, and no larger than \
                 the dataset)"
            ),
            found: format!("chunks of shape {chunk:?}, {} bytes", bytes(&chunk)),
        });
    }
    Ok(())
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

/// Every element of float dataset `key`, as `f64`.
pub(crate) fn read_f64(path: &Path, key: &str) -> Result<Vec<f64>, DataError> {
    let (_file, dataset) = open_dataset(path, key)?;
    dataset
        .read_numeric_as::<f64>()
        .map_err(|err| read_error(path, key, err))
}

/// One block of decoded rows, in the element type the caller asked for.
pub(crate) enum RowBlock {
    /// One-byte elements, as stored.
    U8(Vec<u8>),
    /// Float elements (`float32` as stored, `float64` narrowed once when the block is decoded).
    F32(Vec<f32>),
}

impl RowBlock {
    fn bytes(&self) -> usize {
        match self {
            RowBlock::U8(values) => values.len(),
            RowBlock::F32(values) => values.len() * 4,
        }
    }

    /// Writes the elements as little-endian bytes (what [`LazyRows::decode_to_temp_file`] stores).
    fn write_le(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        match self {
            RowBlock::U8(values) => out.write_all(values),
            RowBlock::F32(values) => {
                let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                out.write_all(&bytes)
            }
        }
    }
}

/// The element type a [`LazyRows`] decodes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowElement {
    /// `uint8`.
    U8,
    /// `float32`.
    F32,
    /// `float64`, narrowed to `f32`.
    F64,
}

impl RowElement {
    /// Bytes of one element once decoded (`float64` is narrowed to four).
    fn decoded_width(self) -> u64 {
        match self {
            RowElement::U8 => 1,
            RowElement::F32 | RowElement::F64 => 4,
        }
    }
}

/// Decoded bytes the row cache of one dataset may hold (at least one block is always kept).
/// A block is the run of rows one chunk spans along the first axis, so a random row costs one
/// block inflate on a miss and a copy on a hit; 64 MiB holds every row of a 5,000-image 64×64×3
/// `uint8` set and keeps the working set of a job's batches well under its model's memory. A
/// larger dataset of multi-row blocks is decoded once instead ([`LazyRows::decode_once_pays`]).
pub(crate) const ROW_CACHE_BYTES: usize = 64 << 20;

/// An HDF5 dataset of rows (images) read lazily: rows are read through the crate's hyperslab API
/// one *block* at a time (the rows one chunk spans along the first axis, or one row for a
/// contiguous dataset), and decoded blocks are kept in a least-recently-used cache of
/// [`ROW_CACHE_BYTES`], so that the rows of one chunk cost one inflate, not one each, and the
/// dataset is never held whole.
pub(crate) struct LazyRows {
    path: std::path::PathBuf,
    key: String,
    element: RowElement,
    /// Elements per row.
    row_len: usize,
    /// Rows per block (the chunk's extent along the first axis).
    block_rows: u64,
    rows: u64,
    /// The trailing dimensions (a row's shape).
    row_shape: Vec<usize>,
    /// The cache's budget ([`ROW_CACHE_BYTES`] unless a test or measurement asks otherwise).
    cache_bytes: usize,
    state: std::sync::Mutex<LazyState>,
}

struct LazyState {
    // The file is kept open beside its dataset for as long as rows are read.
    _file: rust_hdf5::H5File,
    dataset: rust_hdf5::H5Dataset,
    cache: BlockCache,
}

/// A least-recently-used map of block index → decoded block, bounded in bytes.
#[derive(Default)]
struct BlockCache {
    /// block → (last use, block).
    blocks: std::collections::BTreeMap<u64, (u64, std::sync::Arc<RowBlock>)>,
    /// last use → block, to find the least recently used one.
    by_use: std::collections::BTreeMap<u64, u64>,
    bytes: usize,
    clock: u64,
    /// Blocks decoded (misses), for tests and measurements.
    decoded: u64,
}

impl BlockCache {
    fn get(&mut self, block: u64) -> Option<std::sync::Arc<RowBlock>> {
        self.clock += 1;
        let clock = self.clock;
        let (stamp, rows) = self.blocks.get_mut(&block)?;
        self.by_use.remove(stamp);
        *stamp = clock;
        self.by_use.insert(clock, block);
        Some(std::sync::Arc::clone(rows))
    }

    fn insert(&mut self, block: u64, rows: std::sync::Arc<RowBlock>, budget: usize) {
        self.clock += 1;
        self.bytes += rows.bytes();
        if let Some((stamp, old)) = self.blocks.insert(block, (self.clock, rows)) {
            self.by_use.remove(&stamp);
            self.bytes -= old.bytes();
        }
        self.by_use.insert(self.clock, block);
        // Evict the least recently used blocks until within budget, always keeping the newest.
        while self.bytes > budget && self.blocks.len() > 1 {
            let Some((_, victim)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((_, old)) = self.blocks.remove(&victim) {
                self.bytes -= old.bytes();
            }
        }
    }
}

impl LazyRows {
    /// Opens dataset `key` of `path` for row reads of `element`s, with a cache of `cache_bytes`
    /// (normally [`ROW_CACHE_BYTES`]); the caller has checked its element type and rank (at least
    /// 2: rows and a row's shape).
    pub(crate) fn open(
        path: &Path,
        key: &str,
        element: RowElement,
        cache_bytes: usize,
    ) -> Result<Self, DataError> {
        let (file, dataset) = open_dataset(path, key)?;
        let shape = dataset.shape();
        let (rows, row_shape) = match shape.split_first() {
            Some((rows, row_shape)) if !row_shape.is_empty() => (*rows as u64, row_shape.to_vec()),
            _ => {
                return Err(DataError::ArrayShape {
                    path: path.to_path_buf(),
                    key: key.to_string(),
                    found: shape.iter().map(|&d| d as u64).collect(),
                    dtype: format!("{}-byte elements", dataset.element_size()),
                    expected: "rows of images".to_string(),
                });
            }
        };
        let row_len = row_shape.iter().product();
        let block_rows = dataset
            .chunk_dims()
            .and_then(|dims| dims.first().copied())
            .map_or(1, |d| d.max(1) as u64);
        Ok(LazyRows {
            path: path.to_path_buf(),
            key: key.to_string(),
            element,
            row_len,
            block_rows,
            rows,
            row_shape,
            cache_bytes,
            state: std::sync::Mutex::new(LazyState {
                _file: file,
                dataset,
                cache: BlockCache::default(),
            }),
        })
    }

    /// The same rows with a cache budget of `bytes` (measurements of a dataset far larger than
    /// the cache, on a small file).
    #[cfg(test)]
    pub(crate) fn with_cache_bytes(mut self, bytes: usize) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// The number of rows a block holds (the chunk's extent along the first axis).
    pub(crate) fn block_rows(&self) -> u64 {
        self.block_rows
    }

    /// How many blocks have been decoded so far (each a cache miss).
    pub(crate) fn blocks_decoded(&self) -> u64 {
        self.lock().cache.decoded
    }

    /// Bytes of the whole dataset once decoded (`float64` narrowed to four bytes an element).
    fn decoded_bytes(&self) -> u64 {
        self.rows
            .saturating_mul(self.row_len as u64)
            .saturating_mul(self.element.decoded_width())
    }

    /// Whether the rows are better read from a copy decoded once ([`LazyRows::decode_to_temp_file`])
    /// than through the cache: when a block holds several rows and the whole dataset does not fit
    /// the cache. Training reads rows in random order, so the cache then mostly misses and every
    /// row read decodes its whole block: h5py's automatic chunks of 64×64×3 `uint8` images span
    /// 512 rows (in 96 chunks): a few random images a second. A dataset that fits the cache
    /// decodes each block once anyway, and a block of one row costs one row's inflate per read, so
    /// both stay lazy and need no temporary file.
    pub(crate) fn decode_once_pays(&self) -> bool {
        self.block_rows > 1 && self.decoded_bytes() > self.cache_bytes as u64
    }

    /// Decodes every block once, in order, into an unnamed temporary file ([`crate::decoded`])
    /// and returns it with its length in bytes: the rows in row-major order as little-endian `u8`
    /// or `f32` elements, exactly the values [`LazyRows::with_row`] gives (the same block decoder,
    /// `float64` narrowed the same way). Holds one block in memory at a time; the cache is not
    /// used.
    pub(crate) fn decode_to_temp_file(&self) -> Result<(std::fs::File, u64), DataError> {
        let state = self.lock();
        let mut writer = crate::decoded::create()?;
        let mut written = 0u64;
        for block in 0..self.rows.div_ceil(self.block_rows) {
            let rows = self.decode_block(&state.dataset, block)?;
            rows.write_le(&mut writer)
                .map_err(crate::decoded::temp_error)?;
            written += rows.bytes() as u64;
        }
        Ok((crate::decoded::finish(writer)?, written))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LazyState> {
        // A poisoned lock only means another reader panicked; the dataset and cache are intact
        // (a block enters the cache only once fully decoded).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calls `consume` with row `row`'s elements (a slice of one block).
    pub(crate) fn with_row<T>(
        &self,
        row: u64,
        consume: impl FnOnce(RowSlice<'_>) -> T,
    ) -> Result<T, DataError> {
        if row >= self.rows {
            return Err(DataError::Malformed {
                path: self.path.clone(),
                format: "HDF5",
                expected: format!("row {row} in dataset `{}`", self.key),
                found: format!("{} rows", self.rows),
            });
        }
        let block = row / self.block_rows;
        let mut state = self.lock();
        let rows = match state.cache.get(block) {
            Some(rows) => rows,
            None => {
                let decoded = std::sync::Arc::new(self.decode_block(&state.dataset, block)?);
                state.cache.decoded += 1;
                state
                    .cache
                    .insert(block, std::sync::Arc::clone(&decoded), self.cache_bytes);
                decoded
            }
        };
        drop(state);
        let start = usize::try_from(row - block * self.block_rows)
            .unwrap_or(usize::MAX)
            .saturating_mul(self.row_len);
        let end = start.saturating_add(self.row_len);
        Ok(consume(match rows.as_ref() {
            RowBlock::U8(values) => RowSlice::U8(values.get(start..end).unwrap_or(&[])),
            RowBlock::F32(values) => RowSlice::F32(values.get(start..end).unwrap_or(&[])),
        }))
    }

    /// Reads block `block` (its rows, clipped at the last row) through the hyperslab API.
    fn decode_block(
        &self,
        dataset: &rust_hdf5::H5Dataset,
        block: u64,
    ) -> Result<RowBlock, DataError> {
        let first = block * self.block_rows;
        let count = self.block_rows.min(self.rows - first);
        let mut starts = vec![first as usize];
        starts.extend(std::iter::repeat_n(0, self.row_shape.len()));
        let mut counts = vec![count as usize];
        counts.extend(&self.row_shape);
        let error = |err| read_error(&self.path, &self.key, err);
        Ok(match self.element {
            RowElement::U8 => {
                RowBlock::U8(dataset.read_slice::<u8>(&starts, &counts).map_err(error)?)
            }
            RowElement::F32 => {
                RowBlock::F32(dataset.read_slice::<f32>(&starts, &counts).map_err(error)?)
            }
            RowElement::F64 => RowBlock::F32(
                dataset
                    .read_slice::<f64>(&starts, &counts)
                    .map_err(error)?
                    .into_iter()
                    .map(|v| v as f32)
                    .collect(),
            ),
        })
    }
}

/// One row's elements, borrowed from a cached block.
pub(crate) enum RowSlice<'a> {
    /// `uint8` elements.
    U8(&'a [u8]),
    /// Float elements.
    F32(&'a [f32]),
}
