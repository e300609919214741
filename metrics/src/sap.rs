//! Separated attribute predictability (`sap_score`, Kumar et al. 2018 §3), reference §3.4.
//!
//! A score matrix S (n_codes × n_factors) says how well each single code predicts each factor; SAP is the
//! mean over factors of the gap between the largest and second-largest entry of the factor's column.
//! - discrete factors (the study): S_ij = test accuracy of a `LinearSVC(C=0.01, class_weight="balanced")`
//!   fitted on code i alone (train set) to predict factor j;
//! - continuous factors (the reference's unit tests): S_ij = Cov(μᵢ, yⱼ)²/(Var μᵢ · Var yⱼ) on the train set
//!   (ddof 1), and 0 when Var μᵢ ≤ 1e-12.
//!
//! Decided edge cases: with one code dimension the runner-up is 0 (the reference indexes out of bounds);
//! a constant code gets S = 0 in the continuous variant (as the reference) and, in the discrete variant,
//! whatever the constant SVM predicts (one class everywhere): a finite accuracy either way. Factors with a
//! single value are refused. The (code, factor) fits are independent and run in parallel.

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::MetricError;
use crate::learn::{Classifier, Fitted, LinearSvc};
use crate::sample::{check_sample, check_train_test};

/// Reference metric name.
pub const NAME: &str = "sap_score";

/// SAP on a train and a test sample (codes (n, n_codes), factors (n, n_factors)); key `SAP_score`.
/// The test sample is read only by the discrete variant.
pub fn score(
    train_codes: ArrayView2<f64>,
    train_factors: ArrayView2<u32>,
    test_codes: ArrayView2<f64>,
    test_factors: ArrayView2<u32>,
    continuous_factors: bool,
) -> Result<BTreeMap<String, f64>, MetricError> {
    let matrix = if continuous_factors {
        check_sample(NAME, "train", train_codes, train_factors, 2, true)?;
        continuous_score_matrix(train_codes, train_factors)
    } else {
        check_train_test(
            NAME,
            (train_codes, train_factors),
            (test_codes, test_factors),
            2,
            1,
        )?;
        discrete_score_matrix(train_codes, train_factors, test_codes, test_factors)?
    };
    Ok(BTreeMap::from([(
        "SAP_score".to_string(),
        avg_diff_top_two(&matrix),
    )]))
}

/// S for continuous factors: squared correlation of code i and factor j (ddof 1), 0 for a constant code.
pub fn continuous_score_matrix(codes: ArrayView2<f64>, factors: ArrayView2<u32>) -> Array2<f64> {
    let n = codes.nrows() as f64;
    let mut matrix = Array2::zeros((codes.ncols(), factors.ncols()));
    for (i, code) in codes.axis_iter(Axis(1)).enumerate() {
        let code_mean = code.sum() / n;
        let var_code = code.iter().map(|c| (c - code_mean).powi(2)).sum::<f64>() / (n - 1.0);
        for (j, factor) in factors.axis_iter(Axis(1)).enumerate() {
            let factor_mean = factor.iter().map(|&f| f64::from(f)).sum::<f64>() / n;
            let var_factor = factor
                .iter()
                .map(|&f| (f64::from(f) - factor_mean).powi(2))
                .sum::<f64>()
                / (n - 1.0);
            let cov = code
                .iter()
                .zip(factor)
                .map(|(c, &f)| (c - code_mean) * (f64::from(f) - factor_mean))
                .sum::<f64>()
                / (n - 1.0);
            // INVARIANT: var_factor > 0 because constant factors were refused.
            matrix[[i, j]] = if var_code > 1e-12 {
                cov * cov / (var_code * var_factor)
            } else {
                0.0
            };
        }
    }
    matrix
}

/// S for discrete factors: test accuracy of a balanced LinearSVC(C=0.01) on each single code.
pub fn discrete_score_matrix(
    train_codes: ArrayView2<f64>,
    train_factors: ArrayView2<u32>,
    test_codes: ArrayView2<f64>,
    test_factors: ArrayView2<u32>,
) -> Result<Array2<f64>, MetricError> {
    let n_codes = train_codes.ncols();
    let n_factors = train_factors.ncols();
    let cells: Vec<(usize, usize)> = (0..n_codes)
        .flat_map(|i| (0..n_factors).map(move |j| (i, j)))
        .collect();
    let scores: Vec<Result<f64, MetricError>> = cells
        .par_iter()
        .map(|&(i, j)| {
            let x_train = train_codes.slice(ndarray::s![.., i..i + 1]);
            let x_test = test_codes.slice(ndarray::s![.., i..i + 1]);
            let y_train: Vec<u32> = train_factors.column(j).to_vec();
            let y_test: Vec<u32> = test_factors.column(j).to_vec();
            let model = LinearSvc::default()
                .fit(x_train, &y_train)
                .map_err(|source| MetricError::Learn {
                    metric: NAME,
                    factor: j,
                    source,
                })?;
            Ok(model.score(x_test, &y_test))
        })
        .collect();
    let mut matrix = Array2::zeros((n_codes, n_factors));
    for ((i, j), s) in cells.into_iter().zip(scores) {
        matrix[[i, j]] = s?;
    }
    Ok(matrix)
}

/// Mean over columns of (largest − second largest); a single row counts the runner-up as 0.
pub fn avg_diff_top_two(matrix: &Array2<f64>) -> f64 {
    let n_columns = matrix.ncols();
    if n_columns == 0 {
        return 0.0;
    }
    let mut total = 0.0;
    for column in matrix.axis_iter(Axis(1)) {
        let mut values = column.to_vec();
        values.sort_by(|a, b| b.total_cmp(a));
        total += values.first().copied().unwrap_or(0.0) - values.get(1).copied().unwrap_or(0.0);
    }
    total / n_columns as f64
}
