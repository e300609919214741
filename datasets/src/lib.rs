//! Ground-truth datasets: factor spaces, procedural renderers, loaders, and the numpy-compatible RNG.
//!
//! The crate turns factor rows into observations (reference §4) and owns the project's one RNG
//! ([`rng::RandomState`], numpy's legacy MT19937). It must not depend on burn or on the compiler: the
//! runtime maps the plan's dataset spec onto a [`DatasetConfig`] itself. Images are kept as `u8` (or
//! bits, or rendered on demand) and converted to `f32` per batch.
//!
//! Entry points: [`open`] a [`DatasetConfig`] into a `Box<dyn` [`GroundTruthData`]`>`, then draw with
//! [`sample_batch`] (training, reference §1.9) or [`sample()`] (metrics, reference §3.0).

pub mod arrays;
pub mod cars3d;
pub mod config;
mod decoded;
pub mod dsprites;
pub mod error;
pub mod factors;
#[doc(hidden)]
pub mod fuzzing;
mod geometry;
pub mod grid;
pub mod ground_truth;
mod h5;
mod mat;
pub mod norb;
pub mod npy_guard;
mod npz;
pub mod rng;
pub mod sample;
pub mod shapes3d;
pub mod simple;

#[cfg(test)]
mod arrays_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod loader_tests;
#[cfg(test)]
mod test_files;

pub use config::{DatasetConfig, open};
pub use error::DataError;
pub use factors::FactorSpace;
pub use ground_truth::GroundTruthData;
pub use rng::RandomState;
pub use sample::{sample, sample_batch};
