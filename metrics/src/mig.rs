//! Mutual information gap (`mig`, Chen et al. 2018), reference §3.3.
//!
//! MIG = mean over factors j of (m₍₁₎ⱼ − m₍₂₎ⱼ)/H(vⱼ), where m = MI(discretised code i, factor j) in nats and
//! m₍₁₎ ≥ m₍₂₎ are the two largest entries of column j. The factors stay raw integers (only the codes are
//! discretised), as in the reference.
//!
//! Decided edge cases (the reference crashes or returns NaN there):
//! - one code dimension: there is no second entry, so the gap is m₍₁₎ⱼ itself (the runner-up is 0 MI);
//! - a constant code has MI 0 with every factor, so it never opens a gap: finite by construction;
//! - a factor with a single value has zero entropy and is refused ([`MetricError::ConstantFactor`]).

use std::collections::BTreeMap;

use ndarray::ArrayView2;

use crate::config::Discretizer;
use crate::error::MetricError;
use crate::sample::check_sample;
use crate::stats::{entropy, factor_labels, mutual_info_matrix};

/// Reference metric name.
pub const NAME: &str = "mig";

/// MIG of codes (n_points, n_codes) against factors (n_points, n_factors); key `discrete_mig`.
pub fn score(
    codes: ArrayView2<f64>,
    factors: ArrayView2<u32>,
    discretizer: Discretizer,
) -> Result<BTreeMap<String, f64>, MetricError> {
    check_sample(NAME, "train", codes, factors, 2, true)?;
    let code_labels = discretizer.columns(codes);
    let factor_labels = factor_labels(factors);
    let m = mutual_info_matrix(&code_labels, &factor_labels);
    let mut total = 0.0;
    for (j, labels) in factor_labels.iter().enumerate() {
        let mut column: Vec<f64> = m.column(j).to_vec();
        column.sort_by(|a, b| b.total_cmp(a));
        let first = column.first().copied().unwrap_or(0.0);
        let second = column.get(1).copied().unwrap_or(0.0);
        // INVARIANT: check_sample refused constant factors, so the entropy is positive.
        total += (first - second) / entropy(labels);
    }
    let mig = total / factor_labels.len() as f64;
    Ok(BTreeMap::from([("discrete_mig".to_string(), mig)]))
}
