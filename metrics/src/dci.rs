//! DCI: disentanglement, completeness, informativeness (`dci`, Eastwood & Williams 2018), reference §3.6.
//!
//! One `GradientBoostingClassifier()` (scikit-learn 1.9 defaults: 100 stages, depth 3, learning rate 0.1,
//! friedman_mse) per factor on the raw train codes gives the importance matrix R (n_codes × n_factors,
//! R[:, j] = the model's impurity importances, summing to 1 per model unless no tree ever split) and the
//! train/test accuracies.
//! - `informativeness_train` / `informativeness_test`: mean accuracy over factors (an accuracy, not an
//!   error, despite the name: the reference's quirk, kept because the key is the published one);
//! - `disentanglement` = Σᵢ ρᵢ(1 − H_K(Pᵢ·)), Pᵢ· = row i of R + 1e-11 normalised, H_K the entropy in base K,
//!   ρᵢ = row sum / total (uniform when R is all zero);
//! - `completeness`: the same over columns, in base n_codes.
//!
//! Decided edge cases: with K = 1 factor, "entropy in base 1" is 0/0; each code's distribution over one
//! factor has no spread, so its disentanglement is taken as 1 (likewise completeness with one code). A
//! constant code never splits a tree, so its importances are 0: finite by construction. The
//! per-factor fits are independent and run in parallel; scikit-learn breaks split ties by a random feature
//! permutation (random_state None), the classifiers here by a fixed rule, so results are deterministic.

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::MetricError;
use crate::learn::{Classifier, Fitted, GradientBoosting};
use crate::sample::check_train_test;

/// Reference metric name.
pub const NAME: &str = "dci";

/// DCI on a train and a test sample; keys `disentanglement`, `completeness`, `informativeness_train`,
/// `informativeness_test`.
pub fn score(
    train_codes: ArrayView2<f64>,
    train_factors: ArrayView2<u32>,
    test_codes: ArrayView2<f64>,
    test_factors: ArrayView2<u32>,
) -> Result<BTreeMap<String, f64>, MetricError> {
    check_train_test(
        NAME,
        (train_codes, train_factors),
        (test_codes, test_factors),
        2,
        1,
    )?;
    let n_codes = train_codes.ncols();
    let per_factor: Vec<(Vec<f64>, f64, f64)> = (0..train_factors.ncols())
        .into_par_iter()
        .map(|j| {
            let y_train = train_factors.column(j).to_vec();
            let y_test = test_factors.column(j).to_vec();
            let model = GradientBoosting::default()
                .fit(train_codes, &y_train)
                .map_err(|source| MetricError::Learn {
                    metric: NAME,
                    factor: j,
                    source,
                })?;
            let importances = model.feature_importances();
            Ok((
                importances,
                model.score(train_codes, &y_train),
                model.score(test_codes, &y_test),
            ))
        })
        .collect::<Result<_, MetricError>>()?;
    let mut importance = Array2::zeros((n_codes, per_factor.len()));
    for (j, (importances, _, _)) in per_factor.iter().enumerate() {
        for (i, value) in importances.iter().enumerate().take(n_codes) {
            importance[[i, j]] = value.abs();
        }
    }
    let k = per_factor.len() as f64;
    let train = per_factor.iter().map(|(_, train, _)| train).sum::<f64>() / k;
    let test = per_factor.iter().map(|(_, _, test)| test).sum::<f64>() / k;
    Ok(BTreeMap::from([
        ("informativeness_train".to_string(), train),
        ("informativeness_test".to_string(), test),
        ("disentanglement".to_string(), disentanglement(&importance)),
        ("completeness".to_string(), completeness(&importance)),
    ]))
}

/// 1 − (entropy of `weights + 1e-11`, normalised, in base `base`), as `1 − scipy.stats.entropy(w + 1e-11,
/// base=base)`; 1 when `base` ≤ 1 (a distribution over a single outcome).
fn one_minus_entropy(weights: impl Iterator<Item = f64>, base: usize) -> f64 {
    if base <= 1 {
        return 1.0;
    }
    let shifted: Vec<f64> = weights.map(|w| w + 1e-11).collect();
    let total: f64 = shifted.iter().sum();
    let entropy: f64 = shifted
        .iter()
        .map(|w| {
            let p = w / total;
            if p > 0.0 { -p * p.ln() } else { 0.0 }
        })
        .sum();
    1.0 - entropy / (base as f64).ln()
}

/// Weighted mean of per-row (`by_rows`) or per-column scores with weights = sums / total (uniform for an
/// all-zero matrix).
fn weighted(importance: &Array2<f64>, by_rows: bool) -> f64 {
    let total: f64 = importance.sum();
    let (lanes, base) = if by_rows {
        (
            importance.rows().into_iter().collect::<Vec<_>>(),
            importance.ncols(),
        )
    } else {
        (
            importance.columns().into_iter().collect::<Vec<_>>(),
            importance.nrows(),
        )
    };
    let count = lanes.len() as f64;
    lanes
        .into_iter()
        .map(|lane| {
            let weight = if total == 0.0 {
                1.0 / count
            } else {
                lane.sum() / total
            };
            weight * one_minus_entropy(lane.iter().copied(), base)
        })
        .sum()
}

/// DCI disentanglement of an importance matrix (n_codes, n_factors).
pub fn disentanglement(importance: &Array2<f64>) -> f64 {
    weighted(importance, true)
}

/// DCI completeness of an importance matrix (n_codes, n_factors).
pub fn completeness(importance: &Array2<f64>) -> f64 {
    weighted(importance, false)
}

#[cfg(test)]
mod tests {
    //! The reference's closed-form DCI cases (dci_test.py); tolerance 1e-6 because the 1e-11 smoothing
    //! shifts exact values by about 1e-9 (the reference's tests use assert_allclose at rtol 1e-7 with the
    //! same smoothing).
    use super::*;
    use ndarray::{Array2, Axis, concatenate, s};

    fn diag() -> Array2<f64> {
        Array2::from_diag(&ndarray::Array1::from_elem(5, 5.0))
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn disentanglement_closed_forms() {
        let d = diag();
        close(disentanglement(&d), 1.0);
        close(
            disentanglement(&ndarray::array![[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
            1.0,
        );
        close(disentanglement(&Array2::zeros((10, 10))), 0.0);
        close(disentanglement(&concatenate![Axis(0), d, d]), 1.0);
        close(disentanglement(&d.slice(s![..2, ..]).to_owned()), 1.0);
        close(
            disentanglement(&concatenate![Axis(1), d, d]),
            1.0 - 2f64.ln() / 10f64.ln(),
        );
    }

    #[test]
    fn completeness_closed_forms() {
        let d = diag();
        close(completeness(&d), 1.0);
        close(
            completeness(&ndarray::array![[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
            1.0,
        );
        close(completeness(&Array2::zeros((10, 10))), 0.0);
        close(
            completeness(&concatenate![Axis(0), d, d]),
            1.0 - 2f64.ln() / 10f64.ln(),
        );
        close(completeness(&d.slice(s![..2, ..]).to_owned()), 1.0);
        close(completeness(&concatenate![Axis(1), d, d]), 1.0);
    }

    #[test]
    fn single_factor_and_single_code_are_defined() {
        close(disentanglement(&ndarray::array![[0.7], [0.3]]), 1.0);
        close(completeness(&ndarray::array![[0.7, 0.3]]), 1.0);
    }
}
