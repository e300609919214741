//! Released image arrays addressed by factor index: Shapes3D and MPI3D `.npz` files, Shapes3D `.h5`,
//! and Cars3D once its files are assembled.
//!
//! An [`ImageGrid`] holds one `u8` image per factor combination in row-major factor order (last
//! factor fastest, reference §4.0) and converts to `f32` per batch. It draws nothing from the RNG.
//! This module must not know file formats beyond asking the `npz` module for an array.

use std::path::Path;

use crate::{DataError, FactorSpace, GroundTruthData, RandomState, npz::NpzFile};

/// `u8 → f32` as numpy's `images / 255.` followed by the pipeline's float32 cast.
pub(crate) fn u8_to_unit_table() -> [f32; 256] {
    std::array::from_fn(|i| (i as f64 / 255.0) as f32)
}

/// A complete grid of released images, one per factor combination.
pub struct ImageGrid {
    name: String,
    space: FactorSpace,
    names: Vec<String>,
    shape: [usize; 3],
    /// INVARIANT: `num_cells · h · w · c` bytes; image `i` starts at `i · h · w · c`.
    pixels: Vec<u8>,
    to_unit: [f32; 256],
}

impl std::fmt::Debug for ImageGrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageGrid")
            .field("name", &self.name)
            .field("space", &self.space)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

/// The MPI3D variant (reference §4.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mpi3dMode {
    /// `mpi3d_toy`: 4 colours, 4 shapes.
    Toy,
    /// `mpi3d_realistic`: 4 colours, 4 shapes.
    Realistic,
    /// `mpi3d_real`: 6 colours, 6 shapes.
    Real,
}

impl Mpi3dMode {
    /// `toy`, `realistic` or `real`.
    pub fn parse(mode: &str) -> Result<Self, DataError> {
        match mode {
            "toy" => Ok(Mpi3dMode::Toy),
            "realistic" => Ok(Mpi3dMode::Realistic),
            "real" => Ok(Mpi3dMode::Real),
            other => Err(DataError::InvalidParameter {
                dataset: "mpi3d",
                parameter: "mode",
                value: format!("`{other}` (expected `toy`, `realistic` or `real`)"),
            }),
        }
    }

    /// The factor sizes: colour, shape, size, camera height, background, DOF1, DOF2.
    pub fn factor_sizes(self) -> [u32; 7] {
        match self {
            Mpi3dMode::Toy | Mpi3dMode::Realistic => [4, 4, 2, 3, 3, 40, 40],
            Mpi3dMode::Real => [6, 6, 2, 3, 3, 40, 40],
        }
    }

    fn dataset_name(self) -> &'static str {
        match self {
            Mpi3dMode::Toy => "mpi3d_toy",
            Mpi3dMode::Realistic => "mpi3d_realistic",
            Mpi3dMode::Real => "mpi3d_real",
        }
    }
}

/// Shapes3D factor sizes and names, shared with the procedural scene.
use crate::shapes3d::{FACTOR_NAMES as SHAPES3D_NAMES, FACTOR_SIZES as SHAPES3D_SIZES};

impl ImageGrid {
    /// A grid from images already in memory. Fails if `pixels` does not hold exactly one
    /// `shape`-sized image per factor combination.
    pub fn new(
        name: &str,
        space: FactorSpace,
        names: Vec<String>,
        shape: [usize; 3],
        pixels: Vec<u8>,
    ) -> Result<Self, DataError> {
        let image_len = shape[0] * shape[1] * shape[2];
        let expected = usize::try_from(space.num_cells())
            .ok()
            .and_then(|n| n.checked_mul(image_len));
        if expected != Some(pixels.len()) || names.len() != space.num_factors() {
            return Err(DataError::InvalidParameter {
                dataset: "image grid",
                parameter: "pixels",
                value: format!(
                    "{} bytes and {} names for {} images of {shape:?} and {} factors",
                    pixels.len(),
                    names.len(),
                    space.num_cells(),
                    space.num_factors()
                ),
            });
        }
        Ok(ImageGrid {
            name: name.to_string(),
            space,
            names,
            shape,
            pixels,
            to_unit: u8_to_unit_table(),
        })
    }

    /// Shapes3D from an `.npz` with array `images`: uint8 `(10,10,10,8,4,15,64,64,3)` or
    /// `(480000,64,64,3)` (reference §4.7).
    pub fn shapes3d_npz(path: &Path) -> Result<Self, DataError> {
        let pixels = read_grid_npz(path, &SHAPES3D_SIZES, [64, 64, 3])?;
        Self::shapes3d_from_pixels(pixels)
    }

    /// Shapes3D from the flat `(480000, 64, 64, 3)` uint8 images, e.g. read from `3dshapes.h5`.
    pub(crate) fn shapes3d_from_pixels(pixels: Vec<u8>) -> Result<Self, DataError> {
        let space = FactorSpace::new(SHAPES3D_SIZES.to_vec())?;
        let names = SHAPES3D_NAMES.iter().map(|s| s.to_string()).collect();
        Self::new("shapes3d", space, names, [64, 64, 3], pixels)
    }

    /// MPI3D from `<mode>.npz` with array `images`: uint8, flat `(N, 64, 64, 3)` or with the seven
    /// factor axes leading (reference §4.8).
    pub fn mpi3d_npz(path: &Path, mode: Mpi3dMode) -> Result<Self, DataError> {
        let sizes = mode.factor_sizes();
        let pixels = read_grid_npz(path, &sizes, [64, 64, 3])?;
        let names = [
            "object_color",
            "object_shape",
            "object_size",
            "camera_height",
            "background_color",
            "horizontal_axis",
            "vertical_axis",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Self::new(
            mode.dataset_name(),
            FactorSpace::new(sizes.to_vec())?,
            names,
            [64, 64, 3],
            pixels,
        )
    }

    /// The raw `u8` image at a flat index, `h · w · c` bytes (empty past the end).
    pub fn image_u8(&self, index: u64) -> &[u8] {
        let len = self.observation_len();
        let start = usize::try_from(index)
            .unwrap_or(usize::MAX)
            .saturating_mul(len);
        self.pixels
            .get(start..start.saturating_add(len))
            .unwrap_or(&[])
    }
}

/// Reads array `images` of an npz whose leading axes are either the factor axes or one flat axis of
/// `Π sizes` images, each `image` shaped.
pub(crate) fn read_grid_npz(
    path: &Path,
    sizes: &[u32],
    image: [u64; 3],
) -> Result<Vec<u8>, DataError> {
    let cells: u64 = sizes.iter().map(|&s| u64::from(s)).product();
    let mut factor_shape: Vec<u64> = sizes.iter().map(|&s| u64::from(s)).collect();
    factor_shape.extend(image);
    let flat_shape = [cells, image[0], image[1], image[2]];
    let expected = format!("uint8 {flat_shape:?} or {factor_shape:?}");
    let mut file = NpzFile::open(path)?;
    let array = file.array_u8("images", &expected, |shape| {
        shape == flat_shape || shape == factor_shape
    })?;
    Ok(array)
}

impl GroundTruthData for ImageGrid {
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
        _rng: &mut RandomState,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        self.space.check_rows(factors)?;
        out.reserve(factors.len() * self.observation_len());
        for row in factors {
            let image = self.image_u8(self.space.ravel(row));
            out.extend(image.iter().map(|&byte| self.to_unit[usize::from(byte)]));
        }
        Ok(())
    }
}
