//! Reading `uint8` arrays out of numpy `.npz` archives (the released dSprites, Shapes3D and MPI3D
//! files), through the `npyz` crate (zip + npy header parsing).
//!
//! Only C-ordered `|u1` arrays are read, straight into a `Vec<u8>` (no per-element decoding, and no
//! conversion to float: images stay `u8` until a batch is built). Every failure names the file and
//! what was expected. This module must not interpret the arrays; the datasets do.

use std::{
    fs::File,
    io::{BufReader, Read},
    path::{Path, PathBuf},
};

use npyz::{DType, Order, npz::NpzArchive};

use crate::DataError;

/// An open `.npz` archive.
pub(crate) struct NpzFile {
    path: PathBuf,
    archive: NpzArchive<BufReader<File>>,
}

impl NpzFile {
    /// Opens the archive, or says why it is not one.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let archive =
            NpzArchive::new(BufReader::new(file)).map_err(|err| DataError::Malformed {
                path: path.to_path_buf(),
                format: "npz",
                expected: "a zip archive of .npy arrays".to_string(),
                found: err.to_string(),
            })?;
        Ok(NpzFile {
            path: path.to_path_buf(),
            archive,
        })
    }

    /// The names of the arrays in the archive, sorted.
    pub fn array_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.archive.array_names().map(str::to_string).collect();
        names.sort();
        names
    }

    /// Reads array `key`, which must be C-ordered `uint8` with a shape accepted by `shape_ok`;
    /// `expected` describes the accepted shapes for the error message. Returns the elements in
    /// row-major order, in a buffer allocated once at its final size (Shapes3D is 5.9 GB).
    pub fn array_u8(
        &mut self,
        key: &str,
        expected: &str,
        shape_ok: impl Fn(&[u64]) -> bool,
    ) -> Result<Vec<u8>, DataError> {
        let path = self.path.clone();
        let (mut reader, len) = self.open_array(key, expected, shape_ok)?;
        let capacity = usize::try_from(len).unwrap_or(usize::MAX);
        let mut data = Vec::new();
        data.try_reserve_exact(capacity)
            .map_err(|_| DataError::Malformed {
                path: path.clone(),
                format: "npz",
                expected: format!("array `{key}` small enough to hold in memory"),
                found: format!("{len} bytes"),
            })?;
        let read = reader.read_to_end(&mut data);
        if read.is_err() || data.len() as u64 != len {
            return Err(DataError::Malformed {
                path,
                format: "npz",
                expected: format!("{len} bytes of data in array `{key}`"),
                found: match read {
                    Err(err) => format!("an error after {} bytes: {err}", data.len()),
                    Ok(_) => format!("{} bytes", data.len()),
                },
            });
        }
        Ok(data)
    }

    /// Like [`NpzFile::array_u8`], but hands the elements to `consume` in row-major chunks of
    /// `chunk_len` bytes (the last may be shorter), so a caller can convert a large array without
    /// holding it whole (dSprites: 3 GB of `u8` become 377 MB of bits).
    pub fn array_u8_chunks(
        &mut self,
        key: &str,
        expected: &str,
        shape_ok: impl Fn(&[u64]) -> bool,
        chunk_len: usize,
        mut consume: impl FnMut(&[u8]) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        let path = self.path.clone();
        let (mut reader, len) = self.open_array(key, expected, shape_ok)?;
        let mut buffer = vec![0u8; chunk_len.max(1)];
        let mut remaining = len;
        while remaining > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            let chunk = buffer.get_mut(..want).unwrap_or_default();
            reader
                .read_exact(chunk)
                .map_err(|err| DataError::Malformed {
                    path: path.clone(),
                    format: "npz",
                    expected: format!("{len} bytes of data in array `{key}`"),
                    found: format!("an error {remaining} bytes before the end: {err}"),
                })?;
            consume(chunk)?;
            remaining -= want as u64;
        }
        Ok(())
    }

    /// The descriptor (e.g. `|u1`, `<f4`, `<i8`), shape and whether it is C-ordered, of array `key`,
    /// without reading its data.
    pub fn header(&mut self, key: &str) -> Result<(String, Vec<u64>, bool), DataError> {
        let npy = self.find(key)?;
        let descr = match npy.dtype() {
            DType::Plain(type_str) => type_str.to_string(),
            other => other.descr(),
        };
        Ok((descr, npy.shape().to_vec(), npy.order() == Order::C))
    }

    /// Reads every data byte of array `key` (any plain dtype, C order), with its descriptor and
    /// shape. The caller decodes the elements.
    pub fn array_bytes(&mut self, key: &str) -> Result<(String, Vec<u64>, Vec<u8>), DataError> {
        let path = self.path.clone();
        let npy = self.find(key)?;
        let (descr, width) = match npy.dtype() {
            DType::Plain(type_str) => (type_str.to_string(), type_str.size_field()),
            other => (other.descr(), 0),
        };
        let shape = npy.shape().to_vec();
        let malformed = |expected: String, found: String| DataError::Malformed {
            path: path.clone(),
            format: "npz",
            expected,
            found,
        };
        if npy.order() != Order::C || width == 0 {
            return Err(DataError::ArrayShape {
                path: path.clone(),
                key: key.to_string(),
                found: shape,
                dtype: descr,
                expected: "a plain numeric array in C order".to_string(),
            });
        }
        let len = shape
            .iter()
            .try_fold(width, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                malformed(
                    format!("array `{key}` of a sensible size"),
                    format!("shape {shape:?}"),
                )
            })?;
        let mut data = Vec::new();
        data.try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
            .map_err(|_| {
                malformed(
                    format!("array `{key}` small enough to hold in memory"),
                    format!("{len} bytes"),
                )
            })?;
        let read = npy.into_inner().take(len).read_to_end(&mut data);
        if read.is_err() || data.len() as u64 != len {
            return Err(malformed(
                format!("{len} bytes of data in array `{key}`"),
                format!("{} bytes", data.len()),
            ));
        }
        Ok((descr, shape, data))
    }

    /// Decodes the data of array `key` (any plain dtype, C order) once into an unnamed temporary
    /// file ([`crate::decoded`]), streaming (the array is never held in memory), and returns the
    /// file with the number of data bytes. For a compressed array (`np.savez_compressed`), whose
    /// rows cannot be reached without inflating everything before them: the job then reads rows
    /// from the file by position, as from an `.npy`.
    pub fn array_to_temp_file(&mut self, key: &str) -> Result<(File, u64), DataError> {
        let path = self.path.clone();
        let npy = self.find(key)?;
        let (descr, width) = match npy.dtype() {
            DType::Plain(type_str) => (type_str.to_string(), type_str.size_field()),
            other => (other.descr(), 0),
        };
        let shape = npy.shape().to_vec();
        if npy.order() != Order::C || width == 0 {
            return Err(DataError::ArrayShape {
                path: path.clone(),
                key: key.to_string(),
                found: shape,
                dtype: descr,
                expected: "a plain numeric array in C order".to_string(),
            });
        }
        let malformed = |expected: String, found: String| DataError::Malformed {
            path: path.clone(),
            format: "npz",
            expected,
            found,
        };
        let len = shape
            .iter()
            .try_fold(width, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                malformed(
                    format!("array `{key}` of a sensible size"),
                    format!("shape {shape:?}"),
                )
            })?;
        let mut writer = crate::decoded::create()?;
        let copied = std::io::copy(&mut npy.into_inner().take(len), &mut writer);
        if !matches!(copied, Ok(n) if n == len) {
            return Err(malformed(
                format!("{len} bytes of data in array `{key}`"),
                match copied {
                    Ok(n) => format!("{n} bytes: the array is truncated"),
                    Err(err) => format!("an error while decoding into a temporary file: {err}"),
                },
            ));
        }
        Ok((crate::decoded::finish(writer)?, len))
    }

    /// Where the data of array `key` starts in the archive file, when the array is stored
    /// uncompressed (what `np.savez` writes; `np.savez_compressed` deflates): then its rows can be
    /// read in place with a seek, like an `.npy` file's. Returns (where the data starts, where the
    /// entry ends), or `None` for a compressed array.
    pub fn stored_data_offset(&self, key: &str) -> Result<Option<(u64, u64)>, DataError> {
        let malformed = |found: String| DataError::Malformed {
            path: self.path.clone(),
            format: "npz",
            expected: format!("a readable .npy array `{key}`"),
            found,
        };
        let file = File::open(&self.path).map_err(|source| DataError::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut zip = npyz::zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| malformed(e.to_string()))?;
        let mut entry = zip
            .by_name(&npyz::npz::file_name_from_array_name(key))
            .map_err(|e| malformed(e.to_string()))?;
        if entry.compression() != npyz::zip::CompressionMethod::Stored {
            return Ok(None);
        }
        let data_start = entry.data_start();
        let end = data_start.saturating_add(entry.size());
        // The .npy header: magic (6 bytes), version (2), header length (u16 in version 1, u32
        // from version 2 on), then the header text; the data follows it.
        let mut prefix = [0u8; 12];
        entry
            .read_exact(&mut prefix)
            .map_err(|e| malformed(e.to_string()))?;
        if &prefix[..6] != b"\x93NUMPY" {
            return Err(malformed("no .npy magic number".to_string()));
        }
        let header = match prefix[6] {
            1 => 10 + u64::from(u16::from_le_bytes([prefix[8], prefix[9]])),
            _ => {
                12 + u64::from(u32::from_le_bytes([
                    prefix[8], prefix[9], prefix[10], prefix[11],
                ]))
            }
        };
        Ok(Some((data_start + header, end)))
    }

    /// The array `key`, or why it is not there (or cannot be read).
    fn find(&mut self, key: &str) -> Result<npyz::NpyFile<impl Read + '_>, DataError> {
        let available = self.array_names();
        let path = self.path.clone();
        // npyz multiplies the header's shape out unchecked when it parses it (`by_name`).
        if !crate::npy_guard::npz_member_shape_fits(&mut self.archive, key) {
            return Err(DataError::Malformed {
                path,
                format: "npz",
                expected: format!("array `{key}` with a shape whose element count fits in 64 bits"),
                found: "a header whose shape multiplies out past 64 bits".to_string(),
            });
        }
        self.archive
            .by_name(key)
            .map_err(|err| DataError::Malformed {
                path: path.clone(),
                format: "npz",
                expected: format!("a readable .npy array `{key}`"),
                found: err.to_string(),
            })?
            .ok_or_else(|| DataError::MissingArray {
                path: path.clone(),
                key: key.to_string(),
                available,
            })
    }

    /// Finds array `key`, checks its dtype, order and shape, and returns a reader positioned at its
    /// data with the number of data bytes.
    fn open_array(
        &mut self,
        key: &str,
        expected: &str,
        shape_ok: impl Fn(&[u64]) -> bool,
    ) -> Result<(Box<dyn Read + '_>, u64), DataError> {
        let path = self.path.clone();
        let npy = self.find(key)?;
        let shape = npy.shape().to_vec();
        let dtype = match npy.dtype() {
            DType::Plain(type_str) => type_str.to_string(),
            other => other.descr(),
        };
        let wrong_shape = |dtype: String| DataError::ArrayShape {
            path: path.clone(),
            key: key.to_string(),
            found: shape.clone(),
            dtype,
            expected: expected.to_string(),
        };
        if dtype != "|u1" || !shape_ok(&shape) {
            return Err(wrong_shape(dtype));
        }
        if npy.order() != Order::C {
            return Err(wrong_shape(format!("{dtype} in Fortran order")));
        }
        let len = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| wrong_shape(dtype.clone()))?;
        Ok((Box::new(npy.into_inner().take(len)), len))
    }
}
