//! Which dataset to open: [`DatasetConfig`] and [`open`].
//!
//! The runtime maps the plan's `DatasetSpec` onto a `DatasetConfig` (this crate does not depend on the
//! compiler). `open` is the only place that decides between a procedural renderer and a loader, and
//! the only place in the crate that touches the file system besides the loaders it calls.

use std::path::{Path, PathBuf};

use crate::{
    DataError, GroundTruthData,
    dsprites::{Dsprites, ScreamTexture, Variant},
    grid::{ImageGrid, Mpi3dMode},
    h5, norb,
    shapes3d::Shapes3d,
    simple::{Dummy, IdentityObservations},
};

/// A dataset to open. `file: None` means the procedural version; `Some(path)` the released file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetConfig {
    /// `dsprites_full` (64×64×1); `file`: `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`.
    Dsprites {
        /// The released `.npz`, or `None` for procedural sprites.
        file: Option<PathBuf>,
    },
    /// `color_dsprites` (64×64×3).
    ColorDsprites {
        /// The released dSprites `.npz`, or `None` for procedural sprites.
        file: Option<PathBuf>,
    },
    /// `noisy_dsprites` (64×64×3).
    NoisyDsprites {
        /// The released dSprites `.npz`, or `None` for procedural sprites.
        file: Option<PathBuf>,
    },
    /// `scream_dsprites` (64×64×3).
    ScreamDsprites {
        /// The released dSprites `.npz`, or `None` for procedural sprites.
        file: Option<PathBuf>,
        /// The background painting (PNG or JPEG), or `None` for the procedural texture.
        image: Option<PathBuf>,
    },
    /// `shapes3d` (64×64×3); `file`: an `.npz` (array `images`) or DeepMind's `3dshapes.h5`.
    Shapes3d {
        /// The released file, or `None` for the procedural scene.
        file: Option<PathBuf>,
    },
    /// `smallnorb` (64×64×1): the directory holding the six `smallnorb-*.mat` files.
    SmallNorb {
        /// The directory (or any one of the six files in it).
        path: PathBuf,
    },
    /// `cars3d` (64×64×3): the directory of the 183 `*.mat` files.
    Cars3d {
        /// The directory.
        path: PathBuf,
    },
    /// `mpi3d_<mode>` (64×64×3): the `<mode>.npz` file.
    Mpi3d {
        /// `toy`, `realistic` or `real`.
        mode: String,
        /// The released `.npz`.
        file: PathBuf,
    },
    /// The user's own arrays (`arrays(...)` in `.dis`), with the declared factors.
    Arrays {
        /// The dataset's name.
        name: String,
        /// The files and array names.
        source: crate::arrays::ArraySource,
        /// The factor names, in label column order.
        names: Vec<String>,
        /// The factor sizes.
        sizes: Vec<u32>,
    },
    /// `dummy_data`: noise images, 10 factors of size 5.
    Dummy,
    /// `IdentityObservationsData` of the metric tests (10 factors, values 1..=10).
    IdentityObservations,
}

/// Opens a dataset: renders nothing yet, but reads and checks any released files completely, so that
/// a missing or malformed file fails here, before training starts.
pub fn open(config: &DatasetConfig) -> Result<Box<dyn GroundTruthData>, DataError> {
    let dsprites =
        |file: &Option<PathBuf>, variant: Variant| -> Result<Box<dyn GroundTruthData>, DataError> {
            Ok(Box::new(match file {
                None => Dsprites::procedural(variant),
                Some(path) => Dsprites::from_npz(path, variant)?,
            }))
        };
    match config {
        DatasetConfig::Dsprites { file } => dsprites(file, Variant::Binary),
        DatasetConfig::ColorDsprites { file } => dsprites(file, Variant::Color),
        DatasetConfig::NoisyDsprites { file } => dsprites(file, Variant::Noisy),
        DatasetConfig::ScreamDsprites { file, image } => {
            let texture = match image {
                None => ScreamTexture::procedural(),
                Some(path) => ScreamTexture::from_file(path)?,
            };
            dsprites(file, Variant::Scream(texture))
        }
        DatasetConfig::Shapes3d { file: None } => Ok(Box::new(Shapes3d::new())),
        DatasetConfig::Shapes3d { file: Some(path) } => Ok(Box::new(open_shapes3d_file(path)?)),
        DatasetConfig::SmallNorb { path } => Ok(Box::new(norb::SmallNorb::open(path)?)),
        DatasetConfig::Cars3d { path } => Ok(Box::new(crate::cars3d::open(path)?)),
        DatasetConfig::Mpi3d { mode, file } => Ok(Box::new(ImageGrid::mpi3d_npz(
            file,
            Mpi3dMode::parse(mode)?,
        )?)),
        DatasetConfig::Arrays {
            name,
            source,
            names,
            sizes,
        } => Ok(Box::new(crate::arrays::UserArrays::open(
            name,
            source,
            names.clone(),
            sizes.clone(),
        )?)),
        DatasetConfig::Dummy => Ok(Box::new(Dummy::new())),
        DatasetConfig::IdentityObservations => Ok(Box::new(IdentityObservations::reference())),
    }
}

/// Shapes3D from `.h5` (by extension or HDF5 signature) or `.npz`.
fn open_shapes3d_file(path: &Path) -> Result<ImageGrid, DataError> {
    if h5::is_hdf5(path)? {
        ImageGrid::shapes3d_from_pixels(h5::read_shapes3d_images(path)?)
    } else {
        ImageGrid::shapes3d_npz(path)
    }
}
