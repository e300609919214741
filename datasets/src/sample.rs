//! Drawing training batches and metric samples (reference §1.9 and §3.0).
//!
//! Two orders of draws exist in the reference and both are kept, because they give different
//! streams: training calls `sample_observations(1, rs)` once per image ([`sample_batch`]), metrics
//! call `sample(n, rs)`, all factors first and then all observations ([`sample`]). This module must
//! not hold state: the caller owns the RNG.

use crate::{DataError, GroundTruthData, RandomState};

/// A training batch as `train.py` draws it: for each of the `batch` images in turn, its latent
/// factors (one draw per factor, in factor order), then its observation (with any non-latent or noise
/// draws). Returns the factor rows and the observations, NHWC f32 (`batch · h · w · c` values).
pub fn sample_batch(
    data: &dyn GroundTruthData,
    batch: usize,
    rng: &mut RandomState,
) -> Result<(Vec<Vec<u32>>, Vec<f32>), DataError> {
    let mut factors = Vec::with_capacity(batch);
    let mut observations = Vec::with_capacity(batch * data.observation_len());
    for _ in 0..batch {
        let row = data.sample_factors(1, rng);
        data.observations(&row, rng, &mut observations)?;
        factors.extend(row);
    }
    Ok((factors, observations))
}

/// `data.sample(n, rs)` of the reference: `n` factor rows drawn column by column, then their `n`
/// observations. Returns the rows and NHWC f32 observations.
pub fn sample(
    data: &dyn GroundTruthData,
    n: usize,
    rng: &mut RandomState,
) -> Result<(Vec<Vec<u32>>, Vec<f32>), DataError> {
    let factors = data.sample_factors(n, rng);
    let mut observations = Vec::with_capacity(n * data.observation_len());
    data.observations(&factors, rng, &mut observations)?;
    Ok((factors, observations))
}
