//! Modularity and explicitness (`modularity_explicitness`, Ridgeway & Mozer 2018), reference §3.5.
//!
//! - **Modularity** from m = MI(discretised train code i, raw factor j): per code θᵢ = maxⱼ mᵢⱼ²,
//!   δᵢ = (Σⱼ mᵢⱼ² − θᵢ)/(θᵢ·(K−1)), score 1 − δᵢ, or 0 when θᵢ = 0; the mean over codes.
//! - **Explicitness**: z-score the codes with the train mean and deviation (ddof 0), fit one
//!   `LogisticRegression()` (scikit-learn 1.9 defaults) per factor on the train codes, and average the
//!   macro one-vs-rest ROC-AUC of `predict_proba` over factors, on train and on test.
//!
//! Decided edge cases:
//! - a constant code has deviation 0; it is z-scored with deviation 1 (so it becomes all zeros and carries
//!   no information) instead of the reference's 0/0, which crashes its classifier;
//! - the one-hot columns follow the classifier's classes (the train classes). The reference fits its
//!   label binarizer on the test labels separately, which misaligns the columns (or errors) when a class is
//!   missing from the test set; here such a class, having no positive test point, is left out of the macro
//!   average, and a test class never seen in training has no score column and is left out likewise. When
//!   every class occurs in both sets this is exactly the reference's computation;
//! - with a single factor (K = 1), δᵢ = 0/0 is taken as 0 (all of a code's information is about that
//!   factor), so an informative code scores 1;
//! - factors with a single value are refused, in the train and in the test sample.
//!
//! The per-factor fits are independent and run in parallel.

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::config::Discretizer;
use crate::error::MetricError;
use crate::learn::{Classifier, Fitted, LogisticRegression};
use crate::sample::{check_sample, check_train_test};
use crate::stats::{factor_labels, mutual_info_matrix, zscore, zscore_params};

/// Reference metric name.
pub const NAME: &str = "modularity_explicitness";

/// Modularity and explicitness; keys `modularity_score`, `explicitness_score_train`,
/// `explicitness_score_test`.
pub fn score(
    train_codes: ArrayView2<f64>,
    train_factors: ArrayView2<u32>,
    test_codes: ArrayView2<f64>,
    test_factors: ArrayView2<u32>,
    discretizer: Discretizer,
) -> Result<BTreeMap<String, f64>, MetricError> {
    check_train_test(
        NAME,
        (train_codes, train_factors),
        (test_codes, test_factors),
        2,
        1,
    )?;
    check_sample(NAME, "test", test_codes, test_factors, 1, true)?;
    let mi = mutual_info_matrix(
        &discretizer.columns(train_codes),
        &factor_labels(train_factors),
    );
    let modularity_score = modularity(&mi);

    let (mean, std) = zscore_params(train_codes);
    let train_norm = zscore(train_codes, &mean, &std);
    let test_norm = zscore(test_codes, &mean, &std);
    let per_factor: Vec<(f64, f64)> = (0..train_factors.ncols())
        .into_par_iter()
        .map(|j| {
            let y_train = train_factors.column(j).to_vec();
            let y_test = test_factors.column(j).to_vec();
            explicitness_per_factor(j, train_norm.view(), &y_train, test_norm.view(), &y_test)
        })
        .collect::<Result<_, _>>()?;
    let train_total: f64 = per_factor.iter().map(|(train, _)| train).sum();
    let test_total: f64 = per_factor.iter().map(|(_, test)| test).sum();
    let k = per_factor.len() as f64;
    Ok(BTreeMap::from([
        ("modularity_score".to_string(), modularity_score),
        ("explicitness_score_train".to_string(), train_total / k),
        ("explicitness_score_test".to_string(), test_total / k),
    ]))
}

/// Modularity of a mutual-information matrix (n_codes, n_factors); see the module docs.
pub fn modularity(mutual_information: &Array2<f64>) -> f64 {
    let n_codes = mutual_information.nrows();
    if n_codes == 0 {
        return 0.0;
    }
    let k = mutual_information.ncols();
    let mut total = 0.0;
    for row in mutual_information.rows() {
        let squared: Vec<f64> = row.iter().map(|m| m * m).collect();
        let theta = squared.iter().copied().fold(0.0, f64::max);
        if theta == 0.0 {
            continue; // a code with no information scores 0 and still counts in the mean
        }
        let numerator = squared.iter().sum::<f64>() - theta;
        let delta = if k > 1 {
            numerator / (theta * (k as f64 - 1.0))
        } else {
            0.0
        };
        total += 1.0 - delta;
    }
    total / n_codes as f64
}

/// Train and test macro ROC-AUC of one factor's logistic regression on z-scored codes.
fn explicitness_per_factor(
    factor: usize,
    train: ArrayView2<f64>,
    y_train: &[u32],
    test: ArrayView2<f64>,
    y_test: &[u32],
) -> Result<(f64, f64), MetricError> {
    let model = LogisticRegression::default()
        .fit(train, y_train)
        .map_err(|source| MetricError::Learn {
            metric: NAME,
            factor,
            source,
        })?;
    let classes = model.classes().to_vec();
    let auc = |x: ArrayView2<f64>, y: &[u32], sample: &'static str| -> Result<f64, MetricError> {
        let proba = model
            .predict_proba(x)
            .expect("logistic regression always has class probabilities");
        macro_roc_auc(&classes, proba.view(), y).ok_or(MetricError::ConstantFactor {
            metric: NAME,
            sample,
            factor,
            value: y.first().copied().unwrap_or(0),
        })
    };
    Ok((auc(train, y_train, "train")?, auc(test, y_test, "test")?))
}

/// Macro one-vs-rest ROC-AUC: the mean over classes (columns of `scores`, (n_points, n_classes)) that have
/// both positive and negative points in `labels`; `None` when no class has both.
pub fn macro_roc_auc(classes: &[u32], scores: ArrayView2<f64>, labels: &[u32]) -> Option<f64> {
    let mut total = 0.0;
    let mut counted = 0usize;
    for (column, &class) in classes.iter().enumerate() {
        let positives: Vec<bool> = labels.iter().map(|&y| y == class).collect();
        let column_scores = scores.column(column).to_vec();
        if let Some(auc) = roc_auc(&column_scores, &positives) {
            total += auc;
            counted += 1;
        }
    }
    (counted > 0).then(|| total / counted as f64)
}

/// Binary ROC-AUC of `scores` against `positives`, with tied scores counted one half (the area under the
/// trapezoidal ROC curve, which is what scikit-learn's `roc_auc_score` computes). `None` when all points
/// are of one class.
///
/// Computed as the Mann–Whitney statistic from average ranks: O(n log n).
pub fn roc_auc(scores: &[f64], positives: &[bool]) -> Option<f64> {
    let n_positive = positives.iter().filter(|&&p| p).count();
    let n_negative = positives.len() - n_positive;
    if n_positive == 0 || n_negative == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positive points.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let positives_in_tie = order[start..end].iter().filter(|&&i| positives[i]).count();
        rank_sum += average_rank * positives_in_tie as f64;
        start = end;
    }
    let n_positive = n_positive as f64;
    let u = rank_sum - n_positive * (n_positive + 1.0) / 2.0;
    Some(u / (n_positive * n_negative as f64))
}

#[cfg(test)]
mod tests {
    //! The reference's closed-form modularity cases (modularity_explicitness_test.py) and ROC-AUC cases
    //! worked by hand. All are exact rationals; tolerance 1e-12 covers the float sums.
    use super::*;
    use ndarray::{Array1, Axis, array, concatenate, s};

    fn diag() -> Array2<f64> {
        Array2::from_diag(&Array1::from_elem(5, 5.0))
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn modularity_closed_forms() {
        let d = diag();
        close(modularity(&d), 1.0);
        // A zero row scores 0 and still counts: (1 + 1 + 0)/3.
        close(
            modularity(&array![[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
            2.0 / 3.0,
        );
        close(modularity(&Array2::zeros((10, 10))), 0.0);
        close(modularity(&concatenate![Axis(0), d, d]), 1.0);
        close(modularity(&d.slice(s![..2, ..]).to_owned()), 1.0);
        // Each code has two equal entries among 10 factors: δ = 25/(25·9), score 1 − 1/9.
        close(modularity(&concatenate![Axis(1), d, d]), 1.0 - 1.0 / 9.0);
    }

    #[test]
    fn modularity_with_one_factor_is_defined() {
        close(modularity(&array![[0.5], [0.0]]), 0.5);
    }

    #[test]
    fn roc_auc_counts_ties_as_half() {
        // Perfect ranking → 1; reversed → 0; all scores tied → 0.5.
        close(
            roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]).unwrap_or(f64::NAN),
            1.0,
        );
        close(
            roc_auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]).unwrap_or(f64::NAN),
            0.0,
        );
        close(
            roc_auc(&[0.5; 4], &[false, true, false, true]).unwrap_or(f64::NAN),
            0.5,
        );
        // sklearn: roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75.
        close(
            roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap_or(f64::NAN),
            0.75,
        );
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn macro_auc_skips_classes_absent_from_the_labels() {
        // Class 7 never occurs, so only classes 1 and 2 are averaged (both perfectly ranked).
        let scores = array![[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.7, 0.3, 0.0]];
        let auc = macro_roc_auc(&[1, 2, 7], scores.view(), &[1, 2, 1]);
        close(auc.unwrap_or(f64::NAN), 1.0);
    }
}
