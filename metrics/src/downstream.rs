//! Downstream task (`downstream_task`), reference §3.9: how well simple predictors read each factor from
//! the raw codes, at several training-set sizes.
//!
//! For each train size n: a fresh train sample of n points and a test sample of `num_test`, one predictor
//! per factor, and the keys `"<n>:mean_train_accuracy"`, `"<n>:mean_test_accuracy"`,
//! `"<n>:min_train_accuracy"`, `"<n>:min_test_accuracy"`, `"<n>:train_accuracy_factor_<i>"`,
//! `"<n>:test_accuracy_factor_<i>"`. The predictor is `LogisticRegressionCV(Cs=10, cv=KFold(5))` or
//! `GradientBoostingClassifier()` (scikit-learn 1.9 defaults). Per-factor fits run in parallel.
//!
//! Unlike the other observational metrics, a small train set (10 points) may legitimately miss classes
//! or even see a single value of a factor. scikit-learn refuses to fit on one class (the reference run
//! crashes); the classifiers of [`crate::learn`] return the constant predictor of that one value instead
//! (train accuracy 1, test accuracy = the share of test points with that value), so the metric always
//! has an answer.

use std::collections::BTreeMap;

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::error::MetricError;
use crate::learn::{Classifier, Fitted, GradientBoosting, LogisticRegressionCv};
use crate::sample::check_sample;

/// Reference name of the logistic-regression variant.
pub const NAME_LOGISTIC_REGRESSION: &str = "downstream_task_logistic_regression";
/// Reference name of the boosted-trees variant.
pub const NAME_BOOSTED_TREES: &str = "downstream_task_boosted_trees";

/// Which predictor the downstream task fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Predictor {
    /// `logistic_regression_cv`.
    LogisticRegressionCv,
    /// `gradient_boosting_classifier`.
    BoostedTrees,
}

impl Predictor {
    /// The metric name of the downstream task with this predictor.
    pub fn metric_name(self) -> &'static str {
        match self {
            Predictor::LogisticRegressionCv => NAME_LOGISTIC_REGRESSION,
            Predictor::BoostedTrees => NAME_BOOSTED_TREES,
        }
    }
}

/// Scores of one train size, written into `scores` with the `"<train_size>:"` prefix.
pub fn score_size(
    predictor: Predictor,
    train_size: usize,
    train: (ArrayView2<f64>, ArrayView2<u32>),
    test: (ArrayView2<f64>, ArrayView2<u32>),
    scores: &mut BTreeMap<String, f64>,
) -> Result<(), MetricError> {
    let metric = predictor.metric_name();
    check_sample(metric, "train", train.0, train.1, 1, false)?;
    check_sample(metric, "test", test.0, test.1, 1, false)?;
    if train.0.ncols() != test.0.ncols() {
        return Err(MetricError::ColumnMismatch {
            what: "codes",
            train: train.0.ncols(),
            test: test.0.ncols(),
        });
    }
    if train.1.ncols() != test.1.ncols() {
        return Err(MetricError::ColumnMismatch {
            what: "factors",
            train: train.1.ncols(),
            test: test.1.ncols(),
        });
    }
    let accuracies: Vec<(f64, f64)> = (0..train.1.ncols())
        .into_par_iter()
        .map(|j| {
            let y_train = train.1.column(j).to_vec();
            let y_test = test.1.column(j).to_vec();
            let learn = |source| MetricError::Learn {
                metric,
                factor: j,
                source,
            };
            match predictor {
                Predictor::LogisticRegressionCv => {
                    let model = LogisticRegressionCv::default()
                        .fit(train.0, &y_train)
                        .map_err(learn)?;
                    Ok((model.score(train.0, &y_train), model.score(test.0, &y_test)))
                }
                Predictor::BoostedTrees => {
                    let model = GradientBoosting::default()
                        .fit(train.0, &y_train)
                        .map_err(learn)?;
                    Ok((model.score(train.0, &y_train), model.score(test.0, &y_test)))
                }
            }
        })
        .collect::<Result<_, MetricError>>()?;
    let k = accuracies.len() as f64;
    let prefix = train_size.to_string();
    let train_acc = accuracies.iter().map(|(a, _)| *a);
    let test_acc = accuracies.iter().map(|(_, a)| *a);
    scores.insert(
        format!("{prefix}:mean_train_accuracy"),
        train_acc.clone().sum::<f64>() / k,
    );
    scores.insert(
        format!("{prefix}:mean_test_accuracy"),
        test_acc.clone().sum::<f64>() / k,
    );
    scores.insert(
        format!("{prefix}:min_train_accuracy"),
        train_acc.fold(f64::INFINITY, f64::min),
    );
    scores.insert(
        format!("{prefix}:min_test_accuracy"),
        test_acc.fold(f64::INFINITY, f64::min),
    );
    for (i, (train_accuracy, test_accuracy)) in accuracies.iter().enumerate() {
        scores.insert(
            format!("{prefix}:train_accuracy_factor_{i}"),
            *train_accuracy,
        );
        scores.insert(format!("{prefix}:test_accuracy_factor_{i}"), *test_accuracy);
    }
    Ok(())
}
