//! A reader for one numeric variable of a MATLAB level-5 `.mat` file (the format of Cars3D's files):
//! the 128-byte header, then data elements, each plain or zlib-compressed (`miCOMPRESSED`, what
//! MATLAB's default `save` writes), holding `miMATRIX` arrays.
//!
//! Only real numeric arrays are decoded, into `u8` values (Cars3D's images are `uint8`; other numeric
//! storage types are accepted when every value is an integer in 0..=255). Dimensions are returned as
//! stored: MATLAB arrays are column-major. Every failure names the file and what was expected; this
//! module must never panic on a malformed file.

use std::{io::Read, path::Path};

use crate::DataError;

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
/// Largest inflated element accepted (a Cars3D array is 4.7 MB); guards against zip bombs.
const MAX_INFLATED: u64 = 1 << 31;

/// A decoded numeric MATLAB array.
#[derive(Debug)]
pub(crate) struct MatArray {
    /// Dimensions as stored (column-major: the first index varies fastest).
    pub dims: Vec<usize>,
    /// The values in storage order.
    pub data: Vec<u8>,
}

struct Reader<'a> {
    path: &'a Path,
    big_endian: bool,
}

impl Reader<'_> {
    fn malformed(&self, expected: impl Into<String>, found: impl Into<String>) -> DataError {
        DataError::Malformed {
            path: self.path.to_path_buf(),
            format: "MATLAB v5 .mat",
            expected: expected.into(),
            found: found.into(),
        }
    }

    fn u32_at(&self, bytes: &[u8], offset: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(offset..offset + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// One data element at `offset`: `(type, data, next offset)`. Handles the small-element form.
    fn element<'b>(
        &self,
        bytes: &'b [u8],
        offset: usize,
    ) -> Result<(u32, &'b [u8], usize), DataError> {
        let truncated = || {
            self.malformed(
                format!("a data element tag at byte {offset}"),
                "the end of the data",
            )
        };
        let first = self.u32_at(bytes, offset).ok_or_else(truncated)?;
        if first >> 16 != 0 {
            // Small element: type in the low half, size (≤ 4) in the high half, data in the next 4 bytes.
            let size = (first >> 16) as usize;
            let data = bytes
                .get(offset + 4..offset + 4 + size.min(4))
                .ok_or_else(|| {
                    self.malformed("4 bytes of small-element data", "the end of the data")
                })?;
            return Ok((first & 0xffff, data, offset + 8));
        }
        let size = self.u32_at(bytes, offset + 4).ok_or_else(truncated)? as usize;
        let data = bytes.get(offset + 8..offset + 8 + size).ok_or_else(|| {
            self.malformed(
                format!("{size} bytes of element data at byte {}", offset + 8),
                format!("{} bytes", bytes.len().saturating_sub(offset + 8)),
            )
        })?;
        // Compressed elements are not padded; all others are padded to 8 bytes.
        let next = if first == MI_COMPRESSED {
            offset + 8 + size
        } else {
            offset + 8 + size.div_ceil(8) * 8
        };
        Ok((first, data, next))
    }

    /// Decodes an `miMATRIX` body if its name is `wanted`; otherwise returns just its name.
    fn matrix(&self, body: &[u8], wanted: &str) -> Result<(String, Option<MatArray>), DataError> {
        let (flags_type, flags, next) = self.element(body, 0)?;
        if flags_type != MI_UINT32 || flags.len() < 8 {
            return Err(self.malformed(
                "array flags (miUINT32, 8 bytes)",
                format!("type {flags_type}"),
            ));
        }
        let class = self.u32_at(flags, 0).unwrap_or(0) & 0xff;
        let complex = self.u32_at(flags, 0).unwrap_or(0) & 0x800 != 0;
        let (dims_type, dims_bytes, next) = self.element(body, next)?;
        if dims_type != MI_INT32 {
            return Err(self.malformed("dimensions (miINT32)", format!("type {dims_type}")));
        }
        let dims: Vec<usize> = (0..dims_bytes.len() / 4)
            .map(|i| self.u32_at(dims_bytes, 4 * i).unwrap_or(0) as usize)
            .collect();
        let (_, name_bytes, next) = self.element(body, next)?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        if name != wanted {
            return Ok((name, None));
        }
        // Classes 6..=13 are double, single, int8, uint8, int16, uint16, int32, uint32.
        if !(6..=13).contains(&class) || complex {
            return Err(self.malformed(
                format!("a real numeric array for `{name}`"),
                format!(
                    "MATLAB class {class}{}",
                    if complex { " (complex)" } else { "" }
                ),
            ));
        }
        let (data_type, raw, _) = self.element(body, next)?;
        let data = self.to_u8(&name, data_type, raw)?;
        let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if count != Some(data.len()) {
            return Err(self.malformed(
                format!("{count:?} values for `{name}` of dimensions {dims:?}"),
                format!("{} values", data.len()),
            ));
        }
        Ok((name, Some(MatArray { dims, data })))
    }

    /// Converts stored values to `u8`, requiring integers in 0..=255.
    fn to_u8(&self, name: &str, data_type: u32, raw: &[u8]) -> Result<Vec<u8>, DataError> {
        if data_type == MI_UINT8 {
            return Ok(raw.to_vec());
        }
        let width = match data_type {
            MI_INT8 => 1,
            MI_INT16 | MI_UINT16 => 2,
            MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
            MI_DOUBLE => 8,
            other => {
                return Err(self.malformed(
                    format!("numeric data for `{name}`"),
                    format!("element type {other}"),
                ));
            }
        };
        raw.chunks_exact(width)
            .enumerate()
            .map(|(i, chunk)| {
                let mut b = [0u8; 8];
                b[..width].copy_from_slice(chunk);
                if self.big_endian {
                    b[..width].reverse();
                }
                let value = match data_type {
                    MI_INT8 => f64::from(b[0] as i8),
                    MI_INT16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
                    MI_UINT16 => f64::from(u16::from_le_bytes([b[0], b[1]])),
                    MI_INT32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    MI_UINT32 => f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    MI_SINGLE => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    _ => f64::from_le_bytes(b),
                };
                if value.fract() == 0.0 && (0.0..=255.0).contains(&value) {
                    Ok(value as u8)
                } else {
                    Err(self.malformed(
                        format!("integer values 0..=255 in `{name}`"),
                        format!("{value} at {i}"),
                    ))
                }
            })
            .collect()
    }
}

/// Reads variable `name` from the `.mat` file at `path`.
pub(crate) fn read_variable(path: &Path, name: &str) -> Result<MatArray, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_variable(path, &bytes, name)
}

/// Finds and decodes variable `name` in the bytes of a `.mat` file.
pub(crate) fn parse_variable(path: &Path, bytes: &[u8], name: &str) -> Result<MatArray, DataError> {
    let mut reader = Reader {
        path,
        big_endian: false,
    };
    match bytes.get(126..128) {
        Some(b"IM") => {}
        Some(b"MI") => reader.big_endian = true,
        _ => {
            return Err(reader.malformed(
                "a 128-byte MATLAB 5.0 header ending in `IM` or `MI` (files saved with -v7.3 are HDF5 and not supported)",
                format!("{} bytes without that marker", bytes.len().min(128)),
            ));
        }
    }
    let mut found = Vec::new();
    let mut offset = 128;
    while offset < bytes.len() {
        let (data_type, data, next) = reader.element(bytes, offset)?;
        offset = next;
        let inflated;
        let (data_type, body) = if data_type == MI_COMPRESSED {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(data)
                .take(MAX_INFLATED)
                .read_to_end(&mut out)
                .map_err(|err| {
                    reader.malformed("a zlib-compressed data element", err.to_string())
                })?;
            inflated = out;
            let (inner_type, inner, _) = reader.element(&inflated, 0)?;
            (inner_type, inner)
        } else {
            (data_type, data)
        };
        if data_type != MI_MATRIX {
            continue;
        }
        match reader.matrix(body, name)? {
            (_, Some(array)) => return Ok(array),
            (other, None) => found.push(other),
        }
    }
    Err(DataError::MissingArray {
        path: path.to_path_buf(),
        key: name.to_string(),
        available: found,
    })
}
