//! Unsupervised scores (`unsupervised_metrics`), reference §3.8: statistics of the codes alone.
//!
//! With Σ the sample covariance of the codes (ddof 1):
//! - `gaussian_total_correlation` = ½(Σₗ log Σₗₗ − log det Σ) = KL(N(0,Σ) ‖ N(0, diag Σ));
//! - `gaussian_wasserstein_correlation` = 2 tr Σ − 2 tr sqrtm(diag(Σ)·Σ). The reference takes scipy's
//!   `sqrtm` of the non-symmetric D·Σ; since D·Σ = D^½(D^½ Σ D^½)D^−½ is similar to the symmetric PSD
//!   D^½ Σ D^½, the trace of its principal square root is Σ √λ over the eigenvalues λ of D^½ Σ D^½, which
//!   is what is computed here (tiny negative eigenvalues from round-off are clamped to 0);
//! - `gaussian_wasserstein_correlation_norm` = the above / tr Σ;
//! - `mutual_info_score` = the mean off-diagonal MI between discretised codes.
//!
//! Decided edge cases (the reference returns NaN or crashes):
//! - constant code dimensions (posterior collapse) are left out of the total correlation: a constant is
//!   independent of everything, so it adds no correlation, whereas its log 0 would make the formula NaN;
//!   they are kept in the Wasserstein terms, where they contribute exactly 0;
//! - perfectly collinear codes (e.g. a duplicated dimension) make Σ singular: the total correlation is
//!   then +∞ (the KL is unbounded), detected as an eigenvalue ≤ 1e-12 · the largest one;
//! - all codes constant: total correlation 0, Wasserstein 0, norm 0 (instead of 0/0);
//! - one code dimension: `mutual_info_score` = 0 (no pair of codes; the reference divides 0 by 0).

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayView2};

use crate::config::Discretizer;
use crate::error::MetricError;
use crate::stats::{covariance, mutual_info, symmetric_eigenvalues};

/// Reference metric name.
pub const NAME: &str = "unsupervised";

/// The unsupervised scores of codes (n_points, n_codes).
pub fn score(
    codes: ArrayView2<f64>,
    discretizer: Discretizer,
) -> Result<BTreeMap<String, f64>, MetricError> {
    if codes.ncols() == 0 {
        return Err(MetricError::NoCodes);
    }
    if codes.nrows() < 2 {
        return Err(MetricError::TooFewRows {
            metric: NAME,
            sample: "train",
            needed: 2,
            got: codes.nrows(),
        });
    }
    if let Some(((row, column), &value)) = codes.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(MetricError::NonFiniteCode { row, column, value });
    }
    let cov = covariance(codes);
    let trace: f64 = cov.diag().sum();
    let wasserstein = gaussian_wasserstein_correlation(&cov);
    let labels = discretizer.columns(codes);
    let d = labels.len();
    let mut mi_total = 0.0;
    for (i, a) in labels.iter().enumerate() {
        for (j, b) in labels.iter().enumerate() {
            if i != j {
                mi_total += mutual_info(a, b);
            }
        }
    }
    let mutual_info_score = if d > 1 {
        mi_total / (d * d - d) as f64
    } else {
        0.0
    };
    Ok(BTreeMap::from([
        (
            "gaussian_total_correlation".to_string(),
            gaussian_total_correlation(&cov),
        ),
        ("gaussian_wasserstein_correlation".to_string(), wasserstein),
        (
            "gaussian_wasserstein_correlation_norm".to_string(),
            if trace > 0.0 {
                wasserstein / trace
            } else {
                0.0
            },
        ),
        ("mutual_info_score".to_string(), mutual_info_score),
    ]))
}

/// ½(Σ log Σₗₗ − log det Σ) over the non-constant dimensions; +∞ for a singular covariance.
pub fn gaussian_total_correlation(cov: &Array2<f64>) -> f64 {
    let active: Vec<usize> = (0..cov.nrows()).filter(|&l| cov[[l, l]] > 0.0).collect();
    if active.is_empty() {
        return 0.0;
    }
    let sub = Array2::from_shape_fn((active.len(), active.len()), |(a, b)| {
        cov[[active[a], active[b]]]
    });
    let eigenvalues = symmetric_eigenvalues(&sub);
    let largest = eigenvalues.last().copied().unwrap_or(0.0);
    if eigenvalues.iter().any(|&e| e <= 1e-12 * largest) {
        return f64::INFINITY;
    }
    let log_diag: f64 = active.iter().map(|&l| cov[[l, l]].ln()).sum();
    let log_det: f64 = eigenvalues.iter().map(|e| e.ln()).sum();
    0.5 * (log_diag - log_det)
}

/// 2 tr Σ − 2 tr sqrtm(diag(Σ)·Σ), via the eigenvalues of the similar symmetric D^½ Σ D^½.
pub fn gaussian_wasserstein_correlation(cov: &Array2<f64>) -> f64 {
    let scale: Vec<f64> = cov.diag().iter().map(|v| v.max(0.0).sqrt()).collect();
    let symmetric = Array2::from_shape_fn(cov.dim(), |(i, j)| scale[i] * cov[[i, j]] * scale[j]);
    let trace_sqrt: f64 = symmetric_eigenvalues(&symmetric)
        .iter()
        .map(|e| e.max(0.0).sqrt())
        .sum();
    2.0 * cov.diag().sum() - 2.0 * trace_sqrt
}

#[cfg(test)]
mod tests {
    //! The reference's unsupervised_metrics_test cases. Tolerance 1e-4 against the reference's measured
    //! values (printed to 4 decimals); the identity cases are exact up to eigen-solver round-off (1e-12).
    use super::*;
    use ndarray::array;

    #[test]
    fn total_correlation_of_identity_is_zero() {
        let tc = gaussian_total_correlation(&Array2::eye(5));
        assert!(tc.abs() < 1e-12, "{tc}");
    }

    #[test]
    fn total_correlation_of_correlated_pair_is_closed_form_kl() {
        // KL(N(0,Σ)‖N(0,I)) with Σ = [[1,.9],[.9,1]] = −½ log(1 − 0.81) = 0.830366.
        let tc = gaussian_total_correlation(&array![[1.0, 0.9], [0.9, 1.0]]);
        assert!((tc - (-0.5 * (1.0f64 - 0.81).ln())).abs() < 1e-12, "{tc}");
        assert!((tc - 0.8304).abs() < 1e-4);
    }

    #[test]
    fn wasserstein_of_identity_is_zero() {
        let w = gaussian_wasserstein_correlation(&Array2::eye(5));
        assert!(w.abs() < 1e-12, "{w}");
    }

    #[test]
    fn wasserstein_of_correlated_pair_matches_reference() {
        // tr(Σ + D − 2 sqrtm(ΣD)) with D = diag Σ = I: eigenvalues 1.9 and 0.1 → 4 − 2(√1.9 + √0.1) = 0.6107.
        let w = gaussian_wasserstein_correlation(&array![[1.0, 0.9], [0.9, 1.0]]);
        let exact = 4.0 - 2.0 * (1.9f64.sqrt() + 0.1f64.sqrt());
        assert!((w - exact).abs() < 1e-12, "{w}");
        assert!((w - 0.6107).abs() < 1e-4);
    }

    #[test]
    fn constant_and_collinear_codes_are_finite_or_infinite_by_design() {
        // A constant third dimension is ignored by the total correlation.
        let with_constant = array![[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 0.0]];
        let pair = gaussian_total_correlation(&array![[1.0, 0.9], [0.9, 1.0]]);
        assert!((gaussian_total_correlation(&with_constant) - pair).abs() < 1e-12);
        assert!(gaussian_wasserstein_correlation(&with_constant).is_finite());
        // Duplicated dimension → singular Σ → +∞.
        assert_eq!(
            gaussian_total_correlation(&array![[2.0, 2.0], [2.0, 2.0]]),
            f64::INFINITY
        );
        assert_eq!(gaussian_total_correlation(&Array2::zeros((3, 3))), 0.0);
    }
}
