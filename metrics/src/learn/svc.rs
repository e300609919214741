//! Linear support-vector classifier as scikit-learn 1.9.1's `LinearSVC` (liblinear), with the SAP
//! metric's settings as the default: `LinearSVC(C=0.01, class_weight="balanced")`.
//!
//! # Objective (liblinear `L2R_L2LOSS_SVC`, squared hinge, L2 penalty, one-vs-rest)
//! Each binary sub-problem with labels yᵢ ∈ {−1, +1} minimises
//! `½·||w̃||² + Σᵢ Cᵢ · max(0, 1 − yᵢ·w̃·x̃ᵢ)²` over `w̃ = [w, b]` with `x̃ᵢ = [xᵢ, 1]`: liblinear's bias
//! feature (`intercept_scaling = 1`), so **the intercept is penalised** like any weight.
//! Per-sample costs follow liblinear's `train()` exactly, with balanced weights
//! `cw_k = n / (K · n_k)` when `balanced`:
//! - K = 2: one problem, `classes[1]` positive; every sample costs `C · cw_{its class}`;
//! - K > 2: one problem per class k (k positive, the rest negative); positives cost `C · cw_k` and
//!   negatives cost plain `C` (liblinear passes `weighted_C[k]` and `param->C`, not the negatives' own
//!   weights).
//!
//! Predictions: binary `classes[1]` where the score `w·x + b > 0`; multiclass the first class of largest
//! score. No probabilities.
//!
//! Solver: the objective is strictly convex with a Lipschitz gradient, so its minimiser is unique;
//! scikit-learn (`dual="auto"`, primal trust-region Newton for n > d) stops at `tol = 1e-4` relative to
//! the initial gradient. Here a generalised Newton method with Armijo backtracking solves each problem
//! until the gradient norm falls to 1e-10 of the start or the Newton decrement to the objective's
//! rounding level (dense (d+1)² systems: meant for the few features of the metrics, one code in SAP),
//! i.e. to the exact optimum scikit-learn approximates.

use ndarray::{Array2, ArrayView1, ArrayView2, s};

use super::{
    Classifier, EncodedLabels, Fitted, LearnError, at_least, positive, predict_from_scores,
    row_major, validate_training,
};

/// `LinearSVC` hyper-parameters; the default is SAP's `LinearSVC(C=0.01, class_weight="balanced")`
/// (scikit-learn's own default would be `C = 1`, unweighted).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSvc {
    /// Cost of the squared hinge loss (`C`), > 0.
    pub c: f64,
    /// `class_weight="balanced"`: class k's cost scaled by `n / (K · n_k)`.
    pub balanced: bool,
    /// Most Newton iterations per binary sub-problem (a handful suffice; reaching the cap leaves the
    /// last iterate, never an error).
    pub max_iter: usize,
}

impl Default for LinearSvc {
    fn default() -> Self {
        LinearSvc {
            c: 0.01,
            balanced: true,
            max_iter: 1000,
        }
    }
}

/// A fitted linear SVM.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedLinearSvc {
    classes: Vec<u32>,
    /// Shape (rows, n_features + 1), rows `[w, b]`: one (for `classes[1]`) when binary, one per class
    /// otherwise, none for a single class (constant predictor).
    weights: Array2<f64>,
    n_features: usize,
}

impl FittedLinearSvc {
    /// Coefficients (scikit-learn's `coef_`), shape (1, d) binary or (K, d).
    pub fn coefficients(&self) -> ArrayView2<'_, f64> {
        self.weights.slice(s![.., ..self.n_features])
    }

    /// Intercepts (scikit-learn's `intercept_`, = bias weight × intercept_scaling 1).
    pub fn intercepts(&self) -> ArrayView1<'_, f64> {
        self.weights.column(self.n_features)
    }

    /// Scores `x·Wᵀ + b`, shape (n_samples, rows).
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

impl Fitted for FittedLinearSvc {
    fn classes(&self) -> &[u32] {
        &self.classes
    }

    fn predict(&self, x: ArrayView2<f64>) -> Vec<u32> {
        predict_from_scores(&self.classes, &self.decision_function(x))
    }

    fn predict_proba(&self, _x: ArrayView2<f64>) -> Option<Array2<f64>> {
        None
    }
}

impl Classifier for LinearSvc {
    type Fitted = FittedLinearSvc;

    fn fit(&self, x: ArrayView2<f64>, y: &[u32]) -> Result<FittedLinearSvc, LearnError> {
        positive("c", self.c)?;
        at_least("max_iter", self.max_iter, 1)?;
        validate_training(x, y)?;
        let labels = EncodedLabels::new(y);
        let (n, d) = x.dim();
        let k = labels.classes.len();
        let mut counts = vec![0usize; k];
        labels.codes.iter().for_each(|&c| counts[c] += 1);
        let class_weight: Vec<f64> = counts
            .iter()
            .map(|&count| {
                if self.balanced {
                    n as f64 / (k as f64 * count as f64)
                } else {
                    1.0
                }
            })
            .collect();
        let features = row_major(x);
        let rows = match k {
            1 => 0,
            2 => 1,
            k => k,
        };
        let mut weights = Array2::zeros((rows, d + 1));
        for row in 0..rows {
            // The positive class of this sub-problem.
            let positive_class = if k == 2 { 1 } else { row };
            let (signs, costs): (Vec<f64>, Vec<f64>) = labels
                .codes
                .iter()
                .map(|&code| {
                    let sign = if code == positive_class { 1.0 } else { -1.0 };
                    let cost = if k == 2 || code == positive_class {
                        self.c * class_weight[code]
                    } else {
                        self.c
                    };
                    (sign, cost)
                })
                .unzip();
            let w = solve_squared_hinge(&features, d, &signs, &costs, self.max_iter);
            weights
                .row_mut(row)
                .iter_mut()
                .zip(w)
                .for_each(|(slot, value)| *slot = value);
        }
        Ok(FittedLinearSvc {
            classes: labels.classes,
            weights,
            n_features: d,
        })
    }
}

/// Minimises `½||w̃||² + Σ costᵢ·max(0, 1 − signᵢ·w̃·[xᵢ, 1])²` by generalised Newton with Armijo
/// backtracking. `features` is row-major (n, d); returns `w̃` of length d + 1.
fn solve_squared_hinge(
    features: &[f64],
    d: usize,
    signs: &[f64],
    costs: &[f64],
    max_iter: usize,
) -> Vec<f64> {
    let p = d + 1;
    let augmented = |i: usize, j: usize| -> f64 { if j < d { features[i * d + j] } else { 1.0 } };
    let margin = |w: &[f64], i: usize| -> f64 {
        let row = &features[i * d..(i + 1) * d];
        row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[d]
    };
    let objective = |w: &[f64]| -> f64 {
        let mut value = 0.5 * w.iter().map(|v| v * v).sum::<f64>();
        for i in 0..signs.len() {
            let slack = 1.0 - signs[i] * margin(w, i);
            if slack > 0.0 {
                value += costs[i] * slack * slack;
            }
        }
        value
    };
    let mut w = vec![0.0; p];
    let mut value = objective(&w);
    let mut initial_norm = None;
    for _ in 0..max_iter {
        // Gradient w + Σ_active −2·cᵢ·slackᵢ·sᵢ·x̃ᵢ and generalised Hessian I + Σ_active 2·cᵢ·x̃ᵢx̃ᵢᵀ.
        let mut gradient = w.clone();
        let mut hessian = vec![0.0; p * p];
        (0..p).for_each(|j| hessian[j * p + j] = 1.0);
        for i in 0..signs.len() {
            let slack = 1.0 - signs[i] * margin(&w, i);
            if slack > 0.0 {
                let g = -2.0 * costs[i] * slack * signs[i];
                let h = 2.0 * costs[i];
                for a in 0..p {
                    let xa = augmented(i, a);
                    gradient[a] += g * xa;
                    for b in 0..=a {
                        hessian[a * p + b] += h * xa * augmented(i, b);
                    }
                }
            }
        }
        let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        let start_norm = *initial_norm.get_or_insert(norm);
        if norm <= 1e-10 * start_norm.max(f64::MIN_POSITIVE) {
            break;
        }
        for a in 0..p {
            for b in 0..a {
                hessian[b * p + a] = hessian[a * p + b];
            }
        }
        let Some(step) = cholesky_solve(&mut hessian, &gradient, p) else {
            break;
        };
        // Newton direction −H⁻¹g. Its decrement gᵀH⁻¹g is twice the predicted decrease; once that is at
        // the rounding level of the objective no step can improve it measurably: optimal (since H ⪰ I,
        // ||w − w*||² ≤ 2(f − f*) ≈ decrement, about 1e-15·f).
        let slope: f64 = -gradient.iter().zip(&step).map(|(g, s)| g * s).sum::<f64>();
        if -slope <= 1e-15 * value.abs().max(f64::MIN_POSITIVE) {
            break;
        }
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let trial: Vec<f64> = w.iter().zip(&step).map(|(wi, si)| wi - t * si).collect();
            let trial_value = objective(&trial);
            if trial_value <= value + 1e-4 * t * slope {
                w = trial;
                value = trial_value;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // The objective is flat to rounding along the Newton direction: optimal to working precision.
            break;
        }
    }
    w
}

/// Solves `A·x = b` for a symmetric positive-definite `a` (p × p, row-major, overwritten by its Cholesky
/// factor). `None` if `a` is not numerically positive definite.
fn cholesky_solve(a: &mut [f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut diagonal = a[j * p + j];
        for k in 0..j {
            diagonal -= a[j * p + k] * a[j * p + k];
        }
        if diagonal.is_nan() || diagonal <= 0.0 {
            return None;
        }
        let root = diagonal.sqrt();
        a[j * p + j] = root;
        for i in j + 1..p {
            let mut value = a[i * p + j];
            for k in 0..j {
                value -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = value / root;
        }
    }
    // Forward then backward substitution with L and Lᵀ.
    let mut x = b.to_vec();
    for i in 0..p {
        for k in 0..i {
            x[i] -= a[i * p + k] * x[k];
        }
        x[i] /= a[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            x[i] -= a[k * p + i] * x[k];
        }
        x[i] /= a[i * p + i];
    }
    Some(x)
}
