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
//! i.e. to the exact optimum scikit-learn approximates. With one feature (SAP) each side of a
//! sub-problem is sorted once and an evaluation is a binary search plus range sums (`SortedSide`):
//! O(log n) instead of a pass over the rows, the same optimum up to the order of additions.

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
        // One feature (SAP): the samples sorted by value once, shared by the K sub-problems.
        let order: Vec<usize> = if d == 1 {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| features[a].total_cmp(&features[b]));
            order
        } else {
            Vec::new()
        };
        let mut weights = Array2::zeros((rows, d + 1));
        for row in 0..rows {
            // The positive class of this sub-problem.
            let positive_class = if k == 2 { 1 } else { row };
            let cost_of = |code: usize| {
                if k == 2 || code == positive_class {
                    self.c * class_weight[code]
                } else {
                    self.c
                }
            };
            let w = if d == 1 {
                // Both sides of a sub-problem have one cost each: positives C·cw_k, negatives C·cw_0
                // (binary) or plain C (one-vs-rest).
                let negative_cost = if k == 2 { cost_of(0) } else { self.c };
                let side = |positive: bool| {
                    let values = order
                        .iter()
                        .filter(|&&i| (labels.codes[i] == positive_class) == positive)
                        .map(|&i| features[i]);
                    SortedSide::new(
                        values,
                        if positive { 1.0 } else { -1.0 },
                        if positive {
                            cost_of(positive_class)
                        } else {
                            negative_cost
                        },
                    )
                };
                let sides = [side(true), side(false)];
                solve(&OneFeature { sides: &sides }, self.max_iter)
            } else {
                let (signs, costs): (Vec<f64>, Vec<f64>) = labels
                    .codes
                    .iter()
                    .map(|&code| {
                        let sign = if code == positive_class { 1.0 } else { -1.0 };
                        (sign, cost_of(code))
                    })
                    .unzip();
                solve(
                    &Dense {
                        features: &features,
                        d,
                        signs: &signs,
                        costs: &costs,
                    },
                    self.max_iter,
                )
            };
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

/// The squared-hinge objective `½||w̃||² + Σ costᵢ·max(0, 1 − signᵢ·w̃·[xᵢ, 1])²` of one binary
/// sub-problem, as the Newton solver needs it.
trait SquaredHinge {
    /// Number of parameters, d + 1.
    fn parameters(&self) -> usize;
    /// The objective at `w`.
    fn objective(&self, w: &[f64]) -> f64;
    /// Adds the data term's gradient `Σ_active −2·cᵢ·slackᵢ·sᵢ·x̃ᵢ` to `gradient` and its generalised
    /// Hessian `Σ_active 2·cᵢ·x̃ᵢx̃ᵢᵀ` to the lower triangle of `hessian` (p × p, row-major).
    fn add_data_terms(&self, w: &[f64], gradient: &mut [f64], hessian: &mut [f64]);
}

/// Any number of features, one pass over the samples per evaluation.
struct Dense<'a> {
    /// Row-major (n, d).
    features: &'a [f64],
    d: usize,
    signs: &'a [f64],
    costs: &'a [f64],
}

impl Dense<'_> {
    fn augmented(&self, i: usize, j: usize) -> f64 {
        if j < self.d {
            self.features[i * self.d + j]
        } else {
            1.0
        }
    }

    fn margin(&self, w: &[f64], i: usize) -> f64 {
        let d = self.d;
        let row = &self.features[i * d..(i + 1) * d];
        row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[d]
    }
}

impl SquaredHinge for Dense<'_> {
    fn parameters(&self) -> usize {
        self.d + 1
    }

    fn objective(&self, w: &[f64]) -> f64 {
        let mut value = 0.5 * w.iter().map(|v| v * v).sum::<f64>();
        for i in 0..self.signs.len() {
            let slack = 1.0 - self.signs[i] * self.margin(w, i);
            if slack > 0.0 {
                value += self.costs[i] * slack * slack;
            }
        }
        value
    }

    fn add_data_terms(&self, w: &[f64], gradient: &mut [f64], hessian: &mut [f64]) {
        let p = self.d + 1;
        for i in 0..self.signs.len() {
            let slack = 1.0 - self.signs[i] * self.margin(w, i);
            if slack > 0.0 {
                let g = -2.0 * self.costs[i] * slack * self.signs[i];
                let h = 2.0 * self.costs[i];
                for a in 0..p {
                    let xa = self.augmented(i, a);
                    gradient[a] += g * xa;
                    for b in 0..=a {
                        hessian[a * p + b] += h * xa * self.augmented(i, b);
                    }
                }
            }
        }
    }
}

/// The samples of one side of a one-feature sub-problem (all with the same sign and cost), sorted by
/// value, with prefix sums of x and x², so that the sums over the active samples take a binary search.
///
/// Why this is exact: with one feature the margin `x·w₀ + b` is monotone in x (floating-point products
/// and sums are monotone), so the samples with positive slack, found by the same per-sample test as
/// [`Dense`], form a prefix or a suffix of the sorted values; the gradient and Hessian are then sums of
/// `1, x, x²` over that range times the side's cost and sign. Only the order of the additions differs
/// from [`Dense`] (rounding-level differences in the optimum, which is unique).
struct SortedSide {
    values: Vec<f64>,
    /// `sums[k] = Σ_{i<k} values[i]`, `squares[k] = Σ_{i<k} values[i]²`; length `values.len() + 1`.
    sums: Vec<f64>,
    squares: Vec<f64>,
    sign: f64,
    cost: f64,
}

impl SortedSide {
    /// `values` must come in ascending order.
    fn new(values: impl Iterator<Item = f64>, sign: f64, cost: f64) -> Self {
        let values: Vec<f64> = values.collect();
        let mut sums = Vec::with_capacity(values.len() + 1);
        let mut squares = Vec::with_capacity(values.len() + 1);
        let (mut sum, mut square) = (0.0, 0.0);
        sums.push(sum);
        squares.push(square);
        for &v in &values {
            sum += v;
            square += v * v;
            sums.push(sum);
            squares.push(square);
        }
        SortedSide {
            values,
            sums,
            squares,
            sign,
            cost,
        }
    }

    /// Count, Σx and Σx² over the samples with positive slack at `w = [w₀, b]`.
    fn active_sums(&self, w: &[f64]) -> (f64, f64, f64) {
        let active = |x: &f64| 1.0 - self.sign * (x * w[0] + w[1]) > 0.0;
        // The slack is non-increasing in x when sign·w₀ ≥ 0 (active samples first), else non-decreasing.
        let (start, end) = if self.sign * w[0] >= 0.0 {
            (0, self.values.partition_point(active))
        } else {
            (
                self.values.partition_point(|x| !active(x)),
                self.values.len(),
            )
        };
        (
            (end - start) as f64,
            self.sums[end] - self.sums[start],
            self.squares[end] - self.squares[start],
        )
    }
}

/// One feature: both sides of the sub-problem sorted, O(log n) per evaluation.
struct OneFeature<'a> {
    sides: &'a [SortedSide; 2],
}

impl SquaredHinge for OneFeature<'_> {
    fn parameters(&self) -> usize {
        2
    }

    fn objective(&self, w: &[f64]) -> f64 {
        let mut value = 0.5 * (w[0] * w[0] + w[1] * w[1]);
        for side in self.sides {
            let (count, sum, square) = side.active_sums(w);
            // Σ (1 − s·(x·w₀ + b))² = Σ (s − b − x·w₀)² (s² = 1), expanded over the range's sums.
            let a = side.sign - w[1];
            value += side.cost * (count * a * a - 2.0 * a * w[0] * sum + w[0] * w[0] * square);
        }
        value
    }

    fn add_data_terms(&self, w: &[f64], gradient: &mut [f64], hessian: &mut [f64]) {
        for side in self.sides {
            let (count, sum, square) = side.active_sums(w);
            // −2·c·slack·s·x̃ = −2·c·(s − x·w₀ − b)·x̃.
            let a = side.sign - w[1];
            gradient[0] += -2.0 * side.cost * (a * sum - w[0] * square);
            gradient[1] += -2.0 * side.cost * (a * count - w[0] * sum);
            hessian[0] += 2.0 * side.cost * square;
            hessian[2] += 2.0 * side.cost * sum;
            hessian[3] += 2.0 * side.cost * count;
        }
    }
}

/// Minimises a [`SquaredHinge`] objective by generalised Newton with Armijo backtracking from zero;
/// returns `w̃` of length d + 1.
fn solve(problem: &impl SquaredHinge, max_iter: usize) -> Vec<f64> {
    let p = problem.parameters();
    let mut w = vec![0.0; p];
    let mut value = problem.objective(&w);
    let mut initial_norm = None;
    for _ in 0..max_iter {
        // Gradient w + Σ_active −2·cᵢ·slackᵢ·sᵢ·x̃ᵢ and generalised Hessian I + Σ_active 2·cᵢ·x̃ᵢx̃ᵢᵀ.
        let mut gradient = w.clone();
        let mut hessian = vec![0.0; p * p];
        (0..p).for_each(|j| hessian[j * p + j] = 1.0);
        problem.add_data_terms(&w, &mut gradient, &mut hessian);
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
            let trial_value = problem.objective(&trial);
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

#[cfg(test)]
mod tests {
    use disc_data::rng::RandomState;

    use super::{Dense, OneFeature, SortedSide, SquaredHinge, solve};

    /// A one-feature problem: values (some repeated, so ties cross the active boundary), signs, costs
    /// (one per side, as in the metrics' sub-problems).
    fn problem(seed: u32, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut rng = RandomState::new(seed);
        let shift = rng.normal(0.0, 2.0);
        let (positive_cost, negative_cost) = (rng.uniform(0.001, 0.1), rng.uniform(0.001, 0.1));
        let mut values = Vec::with_capacity(n);
        let mut signs = Vec::with_capacity(n);
        let mut costs = Vec::with_capacity(n);
        for _ in 0..n {
            let positive = rng.random_sample() < 0.3;
            // Every fourth value on a coarse grid: exact ties.
            let value = if rng.random_sample() < 0.25 {
                rng.randint(-3, 4) as f64
            } else {
                rng.normal(if positive { shift } else { 0.0 }, 1.5)
            };
            values.push(value);
            signs.push(if positive { 1.0 } else { -1.0 });
            costs.push(if positive {
                positive_cost
            } else {
                negative_cost
            });
        }
        (values, signs, costs)
    }

    fn sorted_sides(values: &[f64], signs: &[f64], costs: &[f64]) -> [SortedSide; 2] {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let side = |sign: f64| {
            let cost = (0..values.len())
                .find(|&i| signs[i] == sign)
                .map_or(1.0, |i| costs[i]);
            SortedSide::new(
                order
                    .iter()
                    .filter(|&&i| signs[i] == sign)
                    .map(|&i| values[i]),
                sign,
                cost,
            )
        };
        [side(1.0), side(-1.0)]
    }

    /// The sorted one-feature evaluation equals the per-sample one at arbitrary points (objective,
    /// gradient, Hessian), including points where tied values sit on the active boundary. Tolerance
    /// 1e-9 relative: the two sum the same terms in different orders (about 1e-14 apart here).
    #[test]
    fn one_feature_terms_equal_the_dense_terms() {
        for seed in 0..20 {
            let (values, signs, costs) = problem(seed, 200);
            let dense = Dense {
                features: &values,
                d: 1,
                signs: &signs,
                costs: &costs,
            };
            let sides = sorted_sides(&values, &signs, &costs);
            let fast = OneFeature { sides: &sides };
            let mut rng = RandomState::new(1000 + seed);
            // Random points, and points whose boundary 1 − s·(x·w₀ + b) = 0 falls exactly on a tied value.
            let mut points: Vec<[f64; 2]> = (0..20)
                .map(|_| [rng.normal(0.0, 1.0), rng.normal(0.0, 1.0)])
                .collect();
            points.extend([
                [0.5, 0.0],
                [-0.5, 0.0],
                [1.0, 0.0],
                [0.0, 0.0],
                [0.0, 1.0],
                [2.0, -3.0],
            ]);
            for w in points {
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
                assert!(
                    close(dense.objective(&w), fast.objective(&w)),
                    "seed {seed} w {w:?}"
                );
                let (mut g1, mut h1) = (vec![0.0; 2], vec![0.0; 4]);
                let (mut g2, mut h2) = (vec![0.0; 2], vec![0.0; 4]);
                dense.add_data_terms(&w, &mut g1, &mut h1);
                fast.add_data_terms(&w, &mut g2, &mut h2);
                for (a, b) in g1.iter().zip(&g2).chain(h1.iter().zip(&h2)) {
                    assert!(
                        close(*a, *b),
                        "seed {seed} w {w:?}: {g1:?} {h1:?} vs {g2:?} {h2:?}"
                    );
                }
            }
        }
    }

    /// Both solvers reach the same optimum (unique: the objective is strictly convex), to 1e-9.
    #[test]
    fn one_feature_solver_reaches_the_dense_optimum() {
        for seed in 0..20 {
            let (values, signs, costs) = problem(seed, 300);
            let dense = solve(
                &Dense {
                    features: &values,
                    d: 1,
                    signs: &signs,
                    costs: &costs,
                },
                1000,
            );
            let sides = sorted_sides(&values, &signs, &costs);
            let fast = solve(&OneFeature { sides: &sides }, 1000);
            for (a, b) in dense.iter().zip(&fast) {
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    "seed {seed}: {dense:?} vs {fast:?}"
                );
            }
        }
    }
}
