//! SmallNORB from the released NORB binary matrices (reference §4.5).
//!
//! Reads the six `smallnorb-*-{training,testing}-{dat,cat,info}.mat` files (uncompressed), keeps the
//! first camera of each stereo pair, resizes 96×96 → 64×64 with a Lanczos-3 filter and stores `u8`.
//! Features are `[category 5, instance 10, elevation 9, azimuth/2 18, lighting 6]`; the latent factors
//! are category, elevation, azimuth and lighting, and the instance is drawn per observation with
//! `randint(10)` after the latent factors, as the reference does.
//!
//! The resize is not Pillow's code: pixels can differ from the reference's by a grey level or two
//! (reference §9.3). This module must not read anything but the six named files.

use std::path::{Path, PathBuf};

use crate::{DataError, FactorSpace, GroundTruthData, RandomState, grid::u8_to_unit_table};

/// Magic numbers of the NORB binary matrix format.
const MAGIC_U8: i32 = 507_333_717;
const MAGIC_I32: i32 = 507_333_716;
const MAGIC_F32: i32 = 507_333_713;
const MAGIC_F64: i32 = 507_333_715;
/// Sizes of the five features: category, instance, elevation, azimuth/2, lighting.
const FEATURE_SIZES: [u32; 5] = [5, 10, 9, 18, 6];
/// Image side after resizing.
const SIDE: usize = 64;
/// Name templates of the six files, `{}` is `dat`, `cat` or `info`.
const CHUNKS: [&str; 2] = [
    "smallnorb-5x46789x9x18x6x2x96x96-training-",
    "smallnorb-5x01235x9x18x6x2x96x96-testing-",
];

/// A NORB binary matrix as read from disk.
#[derive(Debug)]
pub(crate) struct NorbMatrix {
    /// The dimensions (only the first `ndim` of the stored ones).
    pub dims: Vec<usize>,
    /// The element type's magic number.
    pub magic: i32,
    /// The raw little-endian data bytes.
    pub data: Vec<u8>,
}

fn malformed(path: &Path, expected: impl Into<String>, found: impl Into<String>) -> DataError {
    DataError::Malformed {
        path: path.to_path_buf(),
        format: "NORB binary matrix",
        expected: expected.into(),
        found: found.into(),
    }
}

/// Parses a NORB binary matrix: int32 magic, int32 ndim, `max(3, ndim)` int32 dims, data.
pub(crate) fn parse_matrix(path: &Path, bytes: &[u8]) -> Result<NorbMatrix, DataError> {
    let int_at = |offset: usize| -> Option<i32> {
        bytes
            .get(offset..offset + 4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(magic), Some(ndim)) = (int_at(0), int_at(4)) else {
        return Err(malformed(
            path,
            "an 8-byte header (magic, ndim)",
            format!("{} bytes", bytes.len()),
        ));
    };
    let element_size: usize = match magic {
        MAGIC_U8 => 1,
        MAGIC_I32 | MAGIC_F32 => 4,
        MAGIC_F64 => 8,
        other => {
            return Err(malformed(
                path,
                format!("a magic number of {MAGIC_U8}, {MAGIC_I32}, {MAGIC_F32} or {MAGIC_F64}"),
                other.to_string(),
            ));
        }
    };
    let ndim = usize::try_from(ndim)
        .ok()
        .filter(|&n| (1..=16).contains(&n))
        .ok_or_else(|| malformed(path, "1 to 16 dimensions", ndim.to_string()))?;
    let stored = ndim.max(3);
    let mut dims = Vec::with_capacity(ndim);
    for i in 0..ndim {
        let dim = int_at(8 + 4 * i).ok_or_else(|| {
            malformed(path, format!("{stored} dimensions"), "the file ends early")
        })?;
        dims.push(
            usize::try_from(dim)
                .map_err(|_| malformed(path, "non-negative dimensions", dim.to_string()))?,
        );
    }
    let offset = 8 + 4 * stored;
    let len = dims
        .iter()
        .try_fold(element_size, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            malformed(
                path,
                "dimensions whose product fits in memory",
                format!("{dims:?}"),
            )
        })?;
    let data = bytes
        .get(offset..offset.saturating_add(len))
        .ok_or_else(|| {
            malformed(
                path,
                format!("{len} data bytes after the header for dimensions {dims:?}"),
                format!("{} bytes", bytes.len().saturating_sub(offset)),
            )
        })?;
    Ok(NorbMatrix {
        dims,
        magic,
        data: data.to_vec(),
    })
}

fn read_matrix(path: &Path) -> Result<NorbMatrix, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_matrix(path, &bytes)
}

/// Reads an int32 matrix of the expected shape into `i32`s.
fn int_matrix(path: &Path, expected: &[usize]) -> Result<Vec<i32>, DataError> {
    let matrix = read_matrix(path)?;
    if matrix.magic != MAGIC_I32 || matrix.dims != expected {
        return Err(malformed(
            path,
            format!("an int32 matrix of shape {expected:?}"),
            format!("magic {} with shape {:?}", matrix.magic, matrix.dims),
        ));
    }
    Ok(matrix
        .data
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// SmallNORB: 48,600 images (training and test halves together), 64×64×1.
pub struct SmallNorb {
    latent: FactorSpace,
    names: Vec<String>,
    /// The full feature space `[5, 10, 9, 18, 6]`, for the lookup.
    features: FactorSpace,
    /// `lookup[ravel(features)]` is the image number, `u32::MAX` where the files have no image (the
    /// released files cover every combination; a partial set opens, and drawing a missing combination
    /// is an error).
    lookup: Vec<u32>,
    /// Resized images, 4096 bytes each.
    images: Vec<u8>,
    to_unit: [f32; 256],
}

impl std::fmt::Debug for SmallNorb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmallNorb")
            .field("images", &(self.images.len() / (SIDE * SIDE)))
            .finish()
    }
}

impl SmallNorb {
    /// Opens the six files in `path` (a directory, or one of the files, whose directory is used).
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let metadata = std::fs::metadata(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let dir: PathBuf = if metadata.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let mut images = Vec::new();
        let mut rows: Vec<[u32; 5]> = Vec::new();
        for chunk in CHUNKS {
            let dat_path = dir.join(format!("{chunk}dat.mat"));
            let cat_path = dir.join(format!("{chunk}cat.mat"));
            let info_path = dir.join(format!("{chunk}info.mat"));
            let dat = read_matrix(&dat_path)?;
            let count = match (dat.magic, dat.dims.as_slice()) {
                (MAGIC_U8, &[n, 2, 96, 96]) => n,
                _ => {
                    return Err(malformed(
                        &dat_path,
                        "a byte matrix of shape [N, 2, 96, 96]",
                        format!("magic {} with shape {:?}", dat.magic, dat.dims),
                    ));
                }
            };
            let categories = int_matrix(&cat_path, &[count])?;
            let info = int_matrix(&info_path, &[count, 4])?;
            for (i, (&category, info)) in categories.iter().zip(info.chunks_exact(4)).enumerate() {
                // info: instance, elevation, azimuth (0, 2, ..., 34), lighting.
                let row = [category, info[0], info[1], info[2] / 2, info[3]];
                let mut checked = [0u32; 5];
                for (k, (&value, &size)) in row.iter().zip(&FEATURE_SIZES).enumerate() {
                    checked[k] =
                        u32::try_from(value)
                            .ok()
                            .filter(|&v| v < size)
                            .ok_or_else(|| {
                                malformed(
                                    if k == 0 { &cat_path } else { &info_path },
                                    format!("feature {k} of record {i} in 0..{size}"),
                                    value.to_string(),
                                )
                            })?;
                }
                rows.push(checked);
                // First camera of the pair: the first 96·96 bytes of the record.
                let start = i * 2 * 96 * 96;
                let camera = dat.data.get(start..start + 96 * 96).unwrap_or(&[]);
                images.extend(resize_lanczos(camera, 96, 96, SIDE as u32));
            }
        }
        let features = FactorSpace::new(FEATURE_SIZES.to_vec())?;
        let mut lookup = vec![u32::MAX; features.num_cells() as usize];
        for (image, row) in rows.iter().enumerate() {
            // Later records win on duplicates, as the reference's table assignment.
            lookup[features.ravel(row) as usize] = image as u32;
        }
        Ok(SmallNorb {
            latent: FactorSpace::new(vec![5, 9, 18, 6])?,
            names: ["category", "elevation", "azimuth", "lighting"]
                .map(String::from)
                .to_vec(),
            features,
            lookup,
            images,
            to_unit: u8_to_unit_table(),
        })
    }
}

/// Resizes a square grey image to `side × side` with Lanczos-3 (the `image` crate's filter).
/// An image of the wrong length yields black, never a panic.
pub(crate) fn resize_lanczos(pixels: &[u8], width: u32, height: u32, side: u32) -> Vec<u8> {
    match image::GrayImage::from_raw(width, height, pixels.to_vec()) {
        Some(img) => {
            image::imageops::resize(&img, side, side, image::imageops::FilterType::Lanczos3)
                .into_raw()
        }
        None => vec![0; (side * side) as usize],
    }
}

impl GroundTruthData for SmallNorb {
    fn name(&self) -> &str {
        "smallnorb"
    }
    fn factor_space(&self) -> &FactorSpace {
        &self.latent
    }
    fn factor_names(&self) -> &[String] {
        &self.names
    }
    fn observation_shape(&self) -> [usize; 3] {
        [SIDE, SIDE, 1]
    }

    fn observations(
        &self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        self.latent.check_rows(factors)?;
        // The instance of every row is drawn first (one `randint(10, size=N)`), then the lookups.
        let instances: Vec<u32> = factors.iter().map(|_| rng.randint(0, 10) as u32).collect();
        for (row, instance) in factors.iter().zip(instances) {
            let full = [row[0], instance, row[1], row[2], row[3]];
            let image = self
                .lookup
                .get(self.features.ravel(&full) as usize)
                .copied()
                .unwrap_or(u32::MAX);
            let start = image as usize * SIDE * SIDE;
            let pixels = self.images.get(start..start + SIDE * SIDE).ok_or(
                DataError::MissingCombination {
                    dataset: "smallnorb",
                    features: full.to_vec(),
                },
            )?;
            out.extend(pixels.iter().map(|&b| self.to_unit[usize::from(b)]));
        }
        Ok(())
    }
}
