//! FactorVAE score (`factor_vae_score`, Kim & Mnih 2018), reference §3.2.
//!
//! 1. Global variance: `num_variance_estimate` factor rows drawn at once, encoded in chunks of 64,
//!    per-dimension variance with ddof 1.
//! 2. Active dimensions: √var ≥ `prune_threshold` (0.05 in the study). None active → accuracies 0.
//! 3. A vote: k = randint(K); a batch of `batch_size` rows with column k set to row 0's value; local
//!    variances (ddof 1); j = argmin over the active dimensions of local/global variance; votes[k, j] += 1.
//! 4. The classifier maps each dimension to its majority factor; `train_accuracy` = Σⱼ votes[c(j), j]/Σ
//!    votes over `num_train` votes, `eval_accuracy` the same over `num_eval` fresh votes.
//!
//! The random draws follow the reference exactly (variance estimate first, then per vote k, the batch,
//! its observations).
//!
//! Decided quirks and edge cases:
//! - `num_active_dims` is the **number** of active dimensions. The reference reports the length of its
//!   boolean mask, i.e. always n_codes (10 even for an all-zero code), except in its own "none active"
//!   branch where it reports 0; the true count is what the key promises and agrees with that branch.
//! - Votes index dimensions by their position among the active ones, as the reference (the accuracy is
//!   unaffected by the relabelling).
//! - A dimension with zero global variance can only be active when the threshold is 0. Its ratio is 0/0
//!   (NaN) in the reference, where numpy's argmin then picks the first such dimension whatever the data.
//!   Here such a dimension is never chosen, unless every active dimension has zero global variance; then
//!   the first is chosen, as in the reference. Ties go to the lowest index, as numpy's argmin.
//! - The majority vote breaks ties towards the lowest factor index (numpy's argmax).

use std::collections::BTreeMap;

use disc_data::rng::RandomState;
use ndarray::{Array1, Array2};

use crate::config::FactorVaeConfig;
use crate::error::MetricError;
use crate::sample::{FactorSampler, Representation, encode_checked};
use crate::stats::column_variance;

/// Reference metric name.
pub const NAME: &str = "factor_vae_metric";

/// Chunk size for encoding the variance-estimate sample (the reference's `eval_batch_size`).
const VARIANCE_CHUNK: usize = 64;

/// The FactorVAE score; keys `train_accuracy`, `eval_accuracy`, `num_active_dims`.
pub fn compute<S: FactorSampler + ?Sized>(
    config: &FactorVaeConfig,
    space: &S,
    rep: &mut dyn Representation,
    rng: &mut RandomState,
) -> Result<BTreeMap<String, f64>, MetricError> {
    let rows = space.sample_factors(config.num_variance_estimate, rng);
    let mut codes = Array2::zeros((rows.len(), rep.dim()));
    for (chunk_index, chunk) in rows.chunks(VARIANCE_CHUNK).enumerate() {
        let start = chunk_index * VARIANCE_CHUNK;
        let batch = encode_checked(rep, chunk, rng)?;
        codes
            .slice_mut(ndarray::s![start..start + chunk.len(), ..])
            .assign(&batch);
    }
    let global_variance = column_variance(codes.view(), 1);
    let active: Vec<usize> = (0..global_variance.len())
        .filter(|&l| global_variance[l].sqrt() >= config.prune_threshold)
        .collect();
    if active.is_empty() {
        return Ok(BTreeMap::from([
            ("train_accuracy".to_string(), 0.0),
            ("eval_accuracy".to_string(), 0.0),
            ("num_active_dims".to_string(), 0.0),
        ]));
    }
    let n_factors = space.num_factors();
    let mut training_votes = Array2::<u64>::zeros((n_factors, rep.dim()));
    let mut eval_votes = Array2::<u64>::zeros((n_factors, rep.dim()));
    for _ in 0..config.num_train {
        let (k, j) = vote(
            space,
            rep,
            config.batch_size,
            rng,
            &global_variance,
            &active,
        )?;
        training_votes[[k, j]] += 1;
    }
    let classifier: Vec<usize> = training_votes
        .columns()
        .into_iter()
        .map(|column| {
            // numpy argmax: first maximum.
            let mut best = 0;
            for (k, &v) in column.iter().enumerate() {
                if v > column[best] {
                    best = k;
                }
            }
            best
        })
        .collect();
    let accuracy = |votes: &Array2<u64>| {
        let correct: u64 = classifier
            .iter()
            .enumerate()
            .map(|(j, &k)| votes[[k, j]])
            .sum();
        correct as f64 / votes.sum().max(1) as f64
    };
    let train_accuracy = accuracy(&training_votes);
    for _ in 0..config.num_eval {
        let (k, j) = vote(
            space,
            rep,
            config.batch_size,
            rng,
            &global_variance,
            &active,
        )?;
        eval_votes[[k, j]] += 1;
    }
    Ok(BTreeMap::from([
        ("train_accuracy".to_string(), train_accuracy),
        ("eval_accuracy".to_string(), accuracy(&eval_votes)),
        ("num_active_dims".to_string(), active.len() as f64),
    ]))
}

/// One vote: (fixed factor k, position among the active dimensions of the smallest normalised variance).
fn vote<S: FactorSampler + ?Sized>(
    space: &S,
    rep: &mut dyn Representation,
    batch_size: usize,
    rng: &mut RandomState,
    global_variance: &Array1<f64>,
    active: &[usize],
) -> Result<(usize, usize), MetricError> {
    let k = rng.randint(0, space.num_factors() as i64) as usize;
    let mut rows = space.sample_factors(batch_size, rng);
    let fixed = rows.first().map(|row| row[k]).unwrap_or(0);
    for row in rows.iter_mut() {
        row[k] = fixed;
    }
    let codes = encode_checked(rep, &rows, rng)?;
    let local_variance = column_variance(codes.view(), 1);
    Ok((k, argmin_ratio(&local_variance, global_variance, active)))
}

/// Position in `active` of the smallest local/global variance ratio; zero-global-variance dimensions only
/// when nothing else is active (see the module docs).
fn argmin_ratio(local: &Array1<f64>, global: &Array1<f64>, active: &[usize]) -> usize {
    let mut best: Option<(usize, f64)> = None;
    for (position, &l) in active.iter().enumerate() {
        if global[l] <= 0.0 {
            continue;
        }
        let ratio = local[l] / global[l];
        if best.is_none_or(|(_, r)| ratio < r) {
            best = Some((position, ratio));
        }
    }
    best.map_or(0, |(position, _)| position)
}
