//! L2-penalised logistic regression as scikit-learn 1.9.1's `LogisticRegression()` (lbfgs) and
//! `LogisticRegressionCV(Cs=10, cv=KFold(5))`.
//!
//! # Objective (scikit-learn 1.9.1, `_logistic_regression_path` with `LinearModelLoss`)
//! With n samples, coefficients W and unpenalised intercepts b:
//! - K > 2 classes (multinomial, one coefficient row per class, the symmetric over-parameterisation the
//!   penalty makes unique): `f = (1/n) Σᵢ [logsumexp_k(z_ik) − z_{i,yᵢ}] + 1/(2·C·n) · ||W||²_F`,
//!   `z_ik = xᵢ·w_k + b_k`;
//! - K = 2 (binary logistic, one row for `classes[1]`): `f = (1/n) Σᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] +
//!   1/(2·C·n) · ||w||²` with yᵢ ∈ {0, 1}.
//!
//! This is `C · Σ loss + ½||W||²` divided by `C·n`: the same optimum as the textbook form, but the
//! gradient, hence lbfgs's `gtol = tol` stopping test, is on the averaged scale, which is what is
//! replicated here. Solver: [`super::lbfgs`] with scikit-learn's options (`max_iter`, `gtol = tol`,
//! `ftol = 64·eps`, `maxls = 50`), from zero coefficients.
//!
//! Predictions: binary `classes[1]` where `z > 0`, else `classes[0]`, probabilities `[1 − σ(z), σ(z)]`;
//! multinomial: first class of largest `z`, probabilities `softmax(z)`.
//!
//! # Cross-validation (`LogisticRegressionCV`)
//! `Cs = logspace(-4, 4, cs)`; `KFold(folds)` unshuffled (the first `n % folds` folds one row longer,
//! contiguous test blocks); in each fold the C path is solved in increasing order, each fit warm-started
//! from the previous one, with the classes of the *whole* training set (a class missing from a fold is
//! still modelled, as scikit-learn does); the score is the test-fold accuracy; the best C is the first
//! maximiser of the summed fold scores; the final model is refitted on all rows with that C, started from
//! the mean of the folds' coefficients at it. Folds are solved in parallel.
//!
//! Quirk kept: like scikit-learn, lbfgs stops after `max_iter = 100` iterations whether or not it
//! converged (large C on unscaled codes often does not); both then hold an approximation of the same
//! optimum, so predictions can differ on the few points nearest a decision boundary.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};
use rayon::prelude::*;

use super::lbfgs::{self, LbfgsOptions};
use super::{
    Classifier, EncodedLabels, Fitted, LearnError, argmax, at_least, positive, predict_from_scores,
    validate_training,
};

/// `LogisticRegression()` hyper-parameters (scikit-learn 1.9.1 defaults: `C = 1`, `max_iter = 100`,
/// `tol = 1e-4`, lbfgs, L2 penalty, intercept fitted and unpenalised).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticRegression {
    /// Inverse regularisation strength (`C`), > 0.
    pub c: f64,
    /// Most lbfgs iterations.
    pub max_iter: usize,
    /// lbfgs gradient tolerance (`gtol`), > 0.
    pub tol: f64,
}

impl Default for LogisticRegression {
    fn default() -> Self {
        LogisticRegression {
            c: 1.0,
            max_iter: 100,
            tol: 1e-4,
        }
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedLogisticRegression {
    classes: Vec<u32>,
    /// Shape (rows, n_features + 1), each row `[w_0 … w_{d-1}, intercept]`: one row (for `classes[1]`)
    /// when binary, one per class when multinomial, none for a single class (constant predictor).
    weights: Array2<f64>,
    n_features: usize,
    iterations: usize,
    converged: bool,
}

impl FittedLogisticRegression {
    /// Coefficients without intercepts (scikit-learn's `coef_`): shape (1, d) binary, (K, d) multinomial,
    /// (0, d) for a single class.
    pub fn coefficients(&self) -> ArrayView2<'_, f64> {
        self.weights.slice(s![.., ..self.n_features])
    }

    /// Intercepts (scikit-learn's `intercept_`), one per coefficient row.
    pub fn intercepts(&self) -> ArrayView1<'_, f64> {
        self.weights.column(self.n_features)
    }

    /// lbfgs iterations of the final fit.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Whether lbfgs met its stopping test within `max_iter` (scikit-learn warns otherwise).
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Linear scores `x·Wᵀ + b`, shape (n_samples, coefficient rows).
    ///
    /// # Panics
    /// If `x` does not have the training number of columns.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Array2<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features,
            "prediction features must match the training width"
        );
        let mut z = x.dot(&self.coefficients().t());
        z += &self.intercepts();
        z
    }
}

impl Fitted for FittedLogisticRegression {
    fn classes(&self) -> &[u32] {
        &self.classes
    }

    fn predict(&self, x: ArrayView2<f64>) -> Vec<u32> {
        predict_from_scores(&self.classes, &self.decision_function(x))
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Option<Array2<f64>> {
        let n = x.nrows();
        Some(match self.classes.len() {
            1 => Array2::ones((n, 1)),
            2 => {
                let z = self.decision_function(x);
                let mut proba = Array2::zeros((n, 2));
                for (i, &zi) in z.column(0).iter().enumerate() {
                    let p = sigmoid(zi);
                    proba[[i, 0]] = 1.0 - p;
                    proba[[i, 1]] = p;
                }
                proba
            }
            _ => {
                let mut z = self.decision_function(x);
                for mut row in z.rows_mut() {
                    softmax_in_place(
                        row.as_slice_mut()
                            .expect("INVARIANT: rows of a fresh array are contiguous"),
                    );
                }
                z
            }
        })
    }
}

impl Classifier for LogisticRegression {
    type Fitted = FittedLogisticRegression;

    fn fit(&self, x: ArrayView2<f64>, y: &[u32]) -> Result<FittedLogisticRegression, LearnError> {
        positive("c", self.c)?;
        positive("tol", self.tol)?;
        validate_training(x, y)?;
        let labels = EncodedLabels::new(y);
        let problem = Problem::new(x, labels.codes, labels.classes.len());
        let options = LbfgsOptions::sklearn(self.max_iter, self.tol);
        let (weights, iterations, converged) = problem.solve(self.c, None, options);
        Ok(FittedLogisticRegression {
            classes: labels.classes,
            weights,
            n_features: x.ncols(),
            iterations,
            converged,
        })
    }
}

/// `LogisticRegressionCV(Cs=cs, cv=KFold(folds))` hyper-parameters (scikit-learn 1.9.1 defaults
/// otherwise: accuracy scoring, refit, `max_iter = 100`, `tol = 1e-4`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticRegressionCv {
    /// Number of candidate Cs, `logspace(-4, 4, cs)`; ≥ 1.
    pub cs: usize,
    /// Number of unshuffled folds; ≥ 2.
    pub folds: usize,
    /// Most lbfgs iterations per fit.
    pub max_iter: usize,
    /// lbfgs gradient tolerance, > 0.
    pub tol: f64,
}

impl Default for LogisticRegressionCv {
    fn default() -> Self {
        LogisticRegressionCv {
            cs: 10,
            folds: 5,
            max_iter: 100,
            tol: 1e-4,
        }
    }
}

impl LogisticRegressionCv {
    /// The candidate Cs: `logspace(-4, 4, cs)` (just `1e-4` when `cs == 1`, as numpy).
    pub fn candidate_cs(&self) -> Vec<f64> {
        let cs = self.cs;
        (0..cs)
            .map(|i| {
                let exponent = if cs > 1 {
                    -4.0 + i as f64 * (8.0 / (cs - 1) as f64)
                } else {
                    -4.0
                };
                10f64.powf(exponent)
            })
            .collect()
    }
}

/// A fitted `LogisticRegressionCV`: the refitted model plus the cross-validation record.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedLogisticRegressionCv {
    model: FittedLogisticRegression,
    cs: Vec<f64>,
    mean_scores: Vec<f64>,
    best: usize,
}

impl FittedLogisticRegressionCv {
    /// The chosen C (scikit-learn's `C_`).
    pub fn best_c(&self) -> f64 {
        self.cs[self.best]
    }

    /// The candidate Cs (scikit-learn's `Cs_`).
    pub fn cs(&self) -> &[f64] {
        &self.cs
    }

    /// Mean test-fold accuracy of each candidate C (scikit-learn's `scores_` averaged over folds).
    pub fn mean_scores(&self) -> &[f64] {
        &self.mean_scores
    }

    /// The model refitted on all rows with [`Self::best_c`].
    pub fn model(&self) -> &FittedLogisticRegression {
        &self.model
    }
}

impl Fitted for FittedLogisticRegressionCv {
    fn classes(&self) -> &[u32] {
        self.model.classes()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Vec<u32> {
        self.model.predict(x)
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Option<Array2<f64>> {
        self.model.predict_proba(x)
    }
}

impl Classifier for LogisticRegressionCv {
    type Fitted = FittedLogisticRegressionCv;

    fn fit(&self, x: ArrayView2<f64>, y: &[u32]) -> Result<FittedLogisticRegressionCv, LearnError> {
        at_least("cs", self.cs, 1)?;
        at_least("folds", self.folds, 2)?;
        positive("tol", self.tol)?;
        validate_training(x, y)?;
        let n = x.nrows();
        if n < self.folds {
            return Err(LearnError::TooFewRowsForFolds {
                folds: self.folds,
                rows: n,
            });
        }
        let labels = EncodedLabels::new(y);
        let n_classes = labels.classes.len();
        let cs = self.candidate_cs();
        let options = LbfgsOptions::sklearn(self.max_iter, self.tol);
        if n_classes == 1 {
            // Constant predictor (module docs of `learn`): every C scores the same.
            let model = LogisticRegression {
                c: cs[0],
                max_iter: self.max_iter,
                tol: self.tol,
            }
            .fit(x, y)?;
            let mean_scores = vec![1.0; cs.len()];
            return Ok(FittedLogisticRegressionCv {
                model,
                cs,
                mean_scores,
                best: 0,
            });
        }
        // KFold(folds), unshuffled: the first n % folds test blocks hold one extra row.
        let bounds: Vec<(usize, usize)> = {
            let (base, extra) = (n / self.folds, n % self.folds);
            let mut start = 0;
            (0..self.folds)
                .map(|fold| {
                    let len = base + usize::from(fold < extra);
                    let block = (start, start + len);
                    start += len;
                    block
                })
                .collect()
        };
        // Per fold: the coefficient path (one weight matrix per C) and the test accuracy per C.
        let fold_results: Vec<(Vec<Array2<f64>>, Vec<f64>)> = bounds
            .par_iter()
            .map(|&(test_start, test_end)| {
                let train_rows: Vec<usize> = (0..test_start).chain(test_end..n).collect();
                let x_train = x.select(Axis(0), &train_rows);
                let codes_train: Vec<usize> = train_rows.iter().map(|&i| labels.codes[i]).collect();
                let problem = Problem::new(x_train.view(), codes_train, n_classes);
                let x_test = x.slice(s![test_start..test_end, ..]);
                let codes_test = &labels.codes[test_start..test_end];
                let mut path = Vec::with_capacity(cs.len());
                let mut scores = Vec::with_capacity(cs.len());
                let mut warm: Option<Array2<f64>> = None;
                for &c in &cs {
                    let (weights, _, _) = problem.solve(c, warm.as_ref(), options);
                    let predicted = predict_codes(&weights, x_test);
                    let hits = predicted
                        .iter()
                        .zip(codes_test)
                        .filter(|(p, t)| p == t)
                        .count();
                    scores.push(hits as f64 / codes_test.len().max(1) as f64);
                    warm = Some(weights.clone());
                    path.push(weights);
                }
                (path, scores)
            })
            .collect();
        let mean_scores: Vec<f64> = (0..cs.len())
            .map(|ci| {
                fold_results
                    .iter()
                    .map(|(_, scores)| scores[ci])
                    .sum::<f64>()
                    / self.folds as f64
            })
            .collect();
        // First maximiser of the summed scores (numpy argmax); the mean has the same order.
        let summed: Vec<f64> = (0..cs.len())
            .map(|ci| {
                fold_results
                    .iter()
                    .map(|(_, scores)| scores[ci])
                    .sum::<f64>()
            })
            .collect();
        let best = argmax(&summed);
        let mut init = Array2::<f64>::zeros(fold_results[0].0[best].raw_dim());
        for (path, _) in &fold_results {
            init += &path[best];
        }
        init /= self.folds as f64;
        let problem = Problem::new(x, labels.codes.clone(), n_classes);
        let (weights, iterations, converged) = problem.solve(cs[best], Some(&init), options);
        let model = FittedLogisticRegression {
            classes: labels.classes,
            weights,
            n_features: x.ncols(),
            iterations,
            converged,
        };
        Ok(FittedLogisticRegressionCv {
            model,
            cs,
            mean_scores,
            best,
        })
    }
}

/// Encoded class index predicted by a weight matrix (binary one row, multinomial K rows) for each row.
fn predict_codes(weights: &Array2<f64>, x: ArrayView2<f64>) -> Vec<usize> {
    let d = x.ncols();
    let mut z = x.dot(&weights.slice(s![.., ..d]).t());
    z += &weights.column(d);
    if weights.nrows() == 1 {
        z.column(0)
            .iter()
            .map(|&zi| usize::from(zi > 0.0))
            .collect()
    } else {
        z.rows()
            .into_iter()
            .map(|row| argmax(&row.to_vec()))
            .collect()
    }
}

/// One logistic-regression training problem: features (n, d), encoded labels, number of classes.
struct Problem<'a> {
    x: ArrayView2<'a, f64>,
    /// Encoded labels in `0..n_classes`.
    codes: Vec<usize>,
    n_classes: usize,
    /// Binary targets (1 for `classes[1]`), used when `n_classes == 2`.
    targets: Array1<f64>,
}

impl<'a> Problem<'a> {
    fn new(x: ArrayView2<'a, f64>, codes: Vec<usize>, n_classes: usize) -> Self {
        let targets = codes
            .iter()
            .map(|&c| if c == 1 { 1.0 } else { 0.0 })
            .collect();
        Problem {
            x,
            codes,
            n_classes,
            targets,
        }
    }

    /// Weight rows of the model: 1 (binary), K (multinomial) or 0 (single class).
    fn rows(&self) -> usize {
        match self.n_classes {
            1 => 0,
            2 => 1,
            k => k,
        }
    }

    /// Minimises the objective for `c` from `init` (zeros when `None`); returns the weights
    /// (rows, d + 1), the iterations and whether lbfgs converged.
    fn solve(
        &self,
        c: f64,
        init: Option<&Array2<f64>>,
        options: LbfgsOptions,
    ) -> (Array2<f64>, usize, bool) {
        let d = self.x.ncols();
        let shape = (self.rows(), d + 1);
        if shape.0 == 0 {
            return (Array2::zeros(shape), 0, true);
        }
        let n = self.x.nrows() as f64;
        let l2 = 1.0 / (c * n);
        let x0 = init.map_or_else(
            || vec![0.0; shape.0 * shape.1],
            |w| w.iter().copied().collect(),
        );
        // Scores/residuals (n, rows) and the coefficient gradient (rows, d), reused across evaluations.
        let mut scratch = (
            Array2::zeros((self.x.nrows(), shape.0)),
            Array2::zeros((shape.0, d)),
        );
        let result = lbfgs::minimize(|w, g| self.objective(w, g, l2, &mut scratch), x0, options);
        let weights = Array2::from_shape_vec(shape, result.x)
            .expect("INVARIANT: the solver keeps the parameter length");
        (weights, result.iterations, result.converged)
    }

    /// The averaged, penalised loss at `params` (rows × (d + 1), row-major) and its gradient.
    fn objective(
        &self,
        params: &[f64],
        gradient: &mut [f64],
        l2: f64,
        scratch: &mut (Array2<f64>, Array2<f64>),
    ) -> f64 {
        let (z, grad_coef) = scratch;
        let (n, d) = self.x.dim();
        let rows = self.rows();
        let w = ArrayView2::from_shape((rows, d + 1), params).expect("INVARIANT: parameter length");
        let coef = w.slice(s![.., ..d]);
        let intercept = w.column(d);
        // z: (n, rows) linear scores, then overwritten with the residuals ∂loss/∂z.
        general_mat_mul(1.0, &self.x, &coef.t(), 0.0, z);
        *z += &intercept;
        let mut loss = 0.0;
        if rows == 1 {
            for (zi, &yi) in z.column_mut(0).iter_mut().zip(&self.targets) {
                loss += softplus(*zi) - yi * *zi;
                *zi = sigmoid(*zi) - yi;
            }
        } else {
            for (mut row, &label) in z.rows_mut().into_iter().zip(&self.codes) {
                let row = row
                    .as_slice_mut()
                    .expect("INVARIANT: rows of a fresh array are contiguous");
                // One exp per entry: e_k = exp(z_k − max), p_k = e_k / Σe, log-normaliser max + ln Σe.
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let true_score = row[label];
                let mut total = 0.0;
                for value in row.iter_mut() {
                    *value = (*value - max).exp();
                    total += *value;
                }
                loss += max + total.ln() - true_score;
                let inverse = 1.0 / total;
                row.iter_mut().for_each(|value| *value *= inverse);
                row[label] -= 1.0;
            }
        }
        let inv_n = 1.0 / n as f64;
        // (rows, d) gradient of the data term plus the penalty's l2·W.
        general_mat_mul(1.0, &z.t(), &self.x, 0.0, grad_coef);
        let grad_intercept = z.sum_axis(Axis(0));
        let mut penalty = 0.0;
        for r in 0..rows {
            for j in 0..d {
                let wj = coef[[r, j]];
                penalty += wj * wj;
                gradient[r * (d + 1) + j] = grad_coef[[r, j]] * inv_n + l2 * wj;
            }
            gradient[r * (d + 1) + d] = grad_intercept[r] * inv_n;
        }
        loss * inv_n + 0.5 * l2 * penalty
    }
}

/// `log(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// The logistic function without overflow.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `log Σ e^{v_k}` without overflow.
fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// Replaces `values` by their softmax.
fn softmax_in_place(values: &mut [f64]) {
    let log_normaliser = log_sum_exp(values);
    values
        .iter_mut()
        .for_each(|v| *v = (*v - log_normaliser).exp());
}
