//! The classifiers the metric suite relies on, reproducing scikit-learn **1.9.1** (the version the
//! reference figures were measured with): the same objective, the same defaults, the same predictions.
//!
//! | here | scikit-learn 1.9.1 | used by |
//! |---|---|---|
//! | [`LogisticRegression`] | `LogisticRegression()`: lbfgs, multinomial for K > 2, binary logistic for K = 2 | BetaVAE score, explicitness |
//! | [`LogisticRegressionCv`] | `LogisticRegressionCV(Cs=10, cv=KFold(5))`, accuracy, refit | downstream task |
//! | [`LinearSvc`] | `LinearSVC(C=0.01, class_weight="balanced")` | SAP |
//! | [`GradientBoosting`] | `GradientBoostingClassifier()` | DCI, downstream task |
//!
//! Logistic regression and the linear SVM minimise strictly convex objectives, so any accurate solver
//! reaches scikit-learn's optimum; gradient boosting replays scikit-learn's greedy algorithm step by step
//! (see each module for the exact rules and the documented differences).
//!
//! # Conventions
//! - Features are an `ArrayView2<f64>` of shape (n_samples, n_features): rows are samples.
//! - Labels are `&[u32]`, arbitrary class ids; a model's classes are the sorted distinct training labels
//!   (scikit-learn's `classes_`), and `predict_proba` has one column per class in that order.
//! - Training input is validated ([`LearnError`]): at least one row and one column, as many labels as
//!   rows, finite features. Prediction takes rows with the training number of columns (the metrics
//!   guarantee it) and panics otherwise, as indexing a model with the wrong width is a caller bug.
//! - **A single training class** (scikit-learn raises): every classifier returns a constant predictor
//!   that predicts that class with probability 1; the gradient-boosting importances are then all zero.
//!   The metrics need an answer for tiny or degenerate training samples, and this is the answer any
//!   classifier converges to when only one class exists.
//!
//! This module does no IO, draws no random numbers and never prints; it knows nothing of metrics.

mod boosting;
mod lbfgs;
mod logistic;
mod svc;
#[cfg(test)]
mod tests;

pub use boosting::{FittedGradientBoosting, GradientBoosting};
pub use logistic::{
    FittedLogisticRegression, FittedLogisticRegressionCv, LogisticRegression, LogisticRegressionCv,
};
pub use svc::{FittedLinearSvc, LinearSvc};

use ndarray::{Array2, ArrayView2};

/// Why a classifier could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    /// The training set has no rows.
    #[error("the training set is empty")]
    EmptyTrainingSet,
    /// The feature matrix has no columns.
    #[error("the training features have no columns ({rows} rows)")]
    NoFeatures {
        /// Rows of the feature matrix.
        rows: usize,
    },
    /// Features and labels disagree on the number of samples.
    #[error("the features have {rows} rows but {labels} labels were given")]
    LabelCountMismatch {
        /// Rows of the feature matrix.
        rows: usize,
        /// Length of the label slice.
        labels: usize,
    },
    /// A feature is NaN or infinite.
    #[error("feature {column} of training row {row} is {value}, not a finite number")]
    NonFiniteFeature {
        /// Row (sample) index.
        row: usize,
        /// Column (feature) index.
        column: usize,
        /// The offending value.
        value: f64,
    },
    /// A feature is finite in `f64` but beyond `f32`'s range; gradient boosting works on `f32` features
    /// as scikit-learn does.
    #[error(
        "feature {column} of training row {row} is {value}, beyond the float32 range gradient boosting works in"
    )]
    Float32Overflow {
        /// Row (sample) index.
        row: usize,
        /// Column (feature) index.
        column: usize,
        /// The offending value.
        value: f64,
    },
    /// A hyper-parameter is out of its domain.
    #[error("parameter `{name}` is {value} but must be {expected}")]
    InvalidParameter {
        /// Field name of the hyper-parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The admissible domain, in words.
        expected: &'static str,
    },
    /// Cross-validation asks for more folds than there are rows.
    #[error(
        "{folds}-fold cross-validation needs at least {folds} rows, the training set has {rows}"
    )]
    TooFewRowsForFolds {
        /// Requested folds.
        folds: usize,
        /// Rows of the training set.
        rows: usize,
    },
}

/// A classifier's hyper-parameters: fitting turns them into a [`Fitted`] model.
pub trait Classifier {
    /// The fitted model.
    type Fitted: Fitted;
    /// Fits on `x` (n_samples, n_features) and labels `y` (n_samples).
    fn fit(&self, x: ArrayView2<f64>, y: &[u32]) -> Result<Self::Fitted, LearnError>;
}

/// A fitted classifier.
pub trait Fitted {
    /// The classes, sorted ascending (scikit-learn's `classes_`).
    fn classes(&self) -> &[u32];
    /// Predicted class of each row of `x` (n_samples, n_features).
    fn predict(&self, x: ArrayView2<f64>) -> Vec<u32>;
    /// Class probabilities, shape (n_samples, n_classes) with columns in [`Fitted::classes`] order;
    /// `None` for models without probabilities (the linear SVM).
    fn predict_proba(&self, x: ArrayView2<f64>) -> Option<Array2<f64>>;
    /// Accuracy of [`Fitted::predict`] on `x` against `y` (scikit-learn's `score`); 0 for no rows.
    fn score(&self, x: ArrayView2<f64>, y: &[u32]) -> f64 {
        accuracy(&self.predict(x), y)
    }
}

/// Fraction of positions where `predicted` equals `truth` (0 when empty).
pub(crate) fn accuracy(predicted: &[u32], truth: &[u32]) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let hits = predicted.iter().zip(truth).filter(|(p, t)| p == t).count();
    hits as f64 / truth.len() as f64
}

/// Training labels encoded as indices into the sorted distinct classes (scikit-learn's `LabelEncoder`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EncodedLabels {
    /// Sorted distinct labels.
    pub classes: Vec<u32>,
    /// `classes[codes[i]] == y[i]`.
    pub codes: Vec<usize>,
}

impl EncodedLabels {
    /// Encodes `y`.
    pub(crate) fn new(y: &[u32]) -> Self {
        let mut classes = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let codes = y
            .iter()
            .map(|label| {
                classes
                    .binary_search(label)
                    .expect("INVARIANT: every label is one of the classes built from the labels")
            })
            .collect();
        EncodedLabels { classes, codes }
    }
}

/// Checks training input: non-empty, matching label count, at least one column, finite features.
pub(crate) fn validate_training(x: ArrayView2<f64>, y: &[u32]) -> Result<(), LearnError> {
    let (rows, columns) = x.dim();
    if rows == 0 {
        return Err(LearnError::EmptyTrainingSet);
    }
    if y.len() != rows {
        return Err(LearnError::LabelCountMismatch {
            rows,
            labels: y.len(),
        });
    }
    if columns == 0 {
        return Err(LearnError::NoFeatures { rows });
    }
    for ((row, column), &value) in x.indexed_iter() {
        if !value.is_finite() {
            return Err(LearnError::NonFiniteFeature { row, column, value });
        }
    }
    Ok(())
}

/// Checks that a hyper-parameter is finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<(), LearnError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(LearnError::InvalidParameter {
            name,
            value,
            expected: "a finite number > 0",
        })
    }
}

/// Checks that a count hyper-parameter is at least `minimum`.
pub(crate) fn at_least(name: &'static str, value: usize, minimum: usize) -> Result<(), LearnError> {
    if value >= minimum {
        Ok(())
    } else {
        Err(LearnError::InvalidParameter {
            name,
            value: value as f64,
            expected: if minimum <= 1 {
                "at least 1"
            } else {
                "at least 2"
            },
        })
    }
}

/// Copies a (n, d) view into a row-major `Vec` (the layout every solver here works on).
pub(crate) fn row_major(x: ArrayView2<f64>) -> Vec<f64> {
    x.iter().copied().collect()
}

/// Class predictions of a linear model from its decision scores, as scikit-learn's linear classifiers
/// decide: one class always wins; with two classes `scores` has one column and a positive score means
/// the second class; otherwise the class with the largest score wins (first on ties).
///
/// `scores`: (n_samples, 1) for two classes, (n_samples, n_classes) otherwise.
pub(crate) fn predict_from_scores(classes: &[u32], scores: &Array2<f64>) -> Vec<u32> {
    let class = |index: usize| classes.get(index).copied().unwrap_or_default();
    match classes.len() {
        0 | 1 => vec![class(0); scores.nrows()],
        2 => scores
            .column(0)
            .iter()
            .map(|&z| if z > 0.0 { class(1) } else { class(0) })
            .collect(),
        _ => scores
            .rows()
            .into_iter()
            .map(|row| class(argmax(&row.to_vec())))
            .collect(),
    }
}

/// Index of the first largest entry (NaN entries never win); 0 for an empty or all-NaN slice.
pub(crate) fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    let mut best_value = f64::NEG_INFINITY;
    for (index, &value) in values.iter().enumerate() {
        if value > best_value {
            best = index;
            best_value = value;
        }
    }
    best
}
