//! Cars3D from the released `.mat` files (reference §4.6): one file per car model, variable `im`,
//! uint8 `(128, 128, 3, 24, 4)` (row, column, channel, azimuth, elevation).
//!
//! Each view is shrunk to 64×64 with a Lanczos-3 filter (the reference uses Pillow's `thumbnail` with
//! ANTIALIAS; pixels may differ by a grey level or two, reference §9.3). The factors are elevation 4,
//! azimuth 24 and object (one per file). **The object id is the file's position in the file names
//! sorted by byte order**, deliberately not the directory listing order the reference used, which
//! differs between machines. This module must not read anything but `*.mat` files of one directory.

use std::path::{Path, PathBuf};

use crate::{DataError, FactorSpace, grid::ImageGrid, mat};

/// Image side after shrinking.
const SIDE: usize = 64;
/// Stored image side.
const STORED: usize = 128;

/// Opens every `*.mat` file in `dir` (sorted by name) as Cars3D.
pub fn open(dir: &Path) -> Result<ImageGrid, DataError> {
    let io = |source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()).map_err(io))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|ext| ext == "mat"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::NoFiles {
            path: dir.to_path_buf(),
            expected: "*.mat",
        });
    }
    let objects = files.len();
    let space = FactorSpace::new(vec![4, 24, u32::try_from(objects).unwrap_or(u32::MAX)])?;
    let image_len = SIDE * SIDE * 3;
    let mut pixels = vec![0u8; 4 * 24 * objects * image_len];
    for (object, file) in files.iter().enumerate() {
        let array = mat::read_variable(file, "im")?;
        if array.dims != [STORED, STORED, 3, 24, 4] {
            return Err(DataError::ArrayShape {
                path: file.clone(),
                key: "im".to_string(),
                found: array.dims.iter().map(|&d| d as u64).collect(),
                dtype: "uint8".to_string(),
                expected: "uint8 [128, 128, 3, 24, 4]".to_string(),
            });
        }
        for azimuth in 0..24 {
            for elevation in 0..4 {
                let view = view_rgb(&array.data, azimuth, elevation);
                let small = image::RgbImage::from_raw(STORED as u32, STORED as u32, view)
                    .map(|img| {
                        image::imageops::resize(
                            &img,
                            SIDE as u32,
                            SIDE as u32,
                            image::imageops::FilterType::Lanczos3,
                        )
                        .into_raw()
                    })
                    .unwrap_or_default();
                let index =
                    space.ravel(&[elevation as u32, azimuth as u32, object as u32]) as usize;
                if let Some(target) = pixels.get_mut(index * image_len..(index + 1) * image_len) {
                    target.copy_from_slice(small.get(..image_len).unwrap_or(&[0; SIDE * SIDE * 3]));
                }
            }
        }
    }
    let names = ["elevation", "azimuth", "object"]
        .map(String::from)
        .to_vec();
    ImageGrid::new("cars3d", space, names, [SIDE, SIDE, 3], pixels)
}

/// One view as row-major RGB bytes from the column-major `(128, 128, 3, 24, 4)` array.
fn view_rgb(data: &[u8], azimuth: usize, elevation: usize) -> Vec<u8> {
    let plane = STORED * STORED;
    let base = (azimuth + 24 * elevation) * 3 * plane;
    let mut rgb = vec![0u8; plane * 3];
    for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
        let (row, col) = (i / STORED, i % STORED);
        for (channel, value) in px.iter_mut().enumerate() {
            // Column-major: index = row + 128·(col + 128·(channel + 3·(azimuth + 24·elevation))).
            *value = data
                .get(base + row + STORED * col + channel * plane)
                .copied()
                .unwrap_or(0);
        }
    }
    rgb
}
