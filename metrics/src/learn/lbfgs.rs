//! Limited-memory BFGS for smooth unconstrained minimisation, the solver behind [`super::logistic`].
//!
//! It plays the part of SciPy's `minimize(method="L-BFGS-B")` as scikit-learn 1.9.1 calls it for
//! `LogisticRegression(solver="lbfgs")`: history of 10 pairs, at most `max_iter` iterations, at most 50
//! function evaluations per line search, stop when the largest absolute gradient entry is at most `gtol`
//! or when the relative decrease of the objective is at most `ftol` (scikit-learn passes `64 * eps`). The
//! line search looks for a step satisfying the strong Wolfe conditions with SciPy's constants
//! (sufficient decrease 1e-3, curvature 0.9), and the first iteration starts with step `1 / ||g||₂` as
//! L-BFGS-B does. It is not a bit-for-bit port of SciPy's Fortran-derived code; on the strictly convex
//! objectives it is used for, both converge to the same unique optimum.
//!
//! This module knows nothing of models or data: it only sees a function returning value and gradient.

/// Settings of one minimisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LbfgsOptions {
    /// Most iterations (direction updates); SciPy's `maxiter`.
    pub max_iter: usize,
    /// Stop when `max |gradient_i| <= gtol`; SciPy's `gtol`.
    pub gtol: f64,
    /// Stop when `(f_old - f_new) / max(|f_old|, |f_new|, 1) <= ftol`; SciPy's `ftol`.
    pub ftol: f64,
    /// Number of stored correction pairs (SciPy's `maxcor`, default 10).
    pub history: usize,
    /// Most function evaluations in one line search (scikit-learn passes `maxls=50`).
    pub max_line_search: usize,
}

impl LbfgsOptions {
    /// The options scikit-learn 1.9.1 passes for `LogisticRegression(tol, max_iter)`.
    pub(crate) fn sklearn(max_iter: usize, tol: f64) -> Self {
        LbfgsOptions {
            max_iter,
            gtol: tol,
            ftol: 64.0 * f64::EPSILON,
            history: 10,
            max_line_search: 50,
        }
    }
}

/// Outcome of [`minimize`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LbfgsResult {
    /// The final point.
    pub x: Vec<f64>,
    /// The objective at `x`.
    pub value: f64,
    /// Iterations performed.
    pub iterations: usize,
    /// Whether a stopping test (gradient or relative decrease) was met before `max_iter`.
    pub converged: bool,
}

/// Sufficient-decrease constant of the line search (SciPy's L-BFGS-B `ftol` of `dcsrch`).
const ARMIJO: f64 = 1e-3;
/// Curvature constant of the strong Wolfe condition (SciPy's L-BFGS-B `gtol` of `dcsrch`).
const CURVATURE: f64 = 0.9;

/// A point on the search line with its objective and gradient.
struct Trial {
    step: f64,
    value: f64,
    slope: f64,
    x: Vec<f64>,
    gradient: Vec<f64>,
}

/// Minimises `objective` from `x0`. `objective(x, gradient)` returns f(x) and writes ∇f(x) into
/// `gradient` (same length as `x`). A non-finite objective during a line search is treated as "too far"
/// and the step is shortened, so overflow far from the optimum does not poison the result.
pub(crate) fn minimize<F>(mut objective: F, x0: Vec<f64>, options: LbfgsOptions) -> LbfgsResult
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let dim = x0.len();
    let mut x = x0;
    let mut gradient = vec![0.0; dim];
    let mut value = objective(&x, &mut gradient);
    // Correction pairs s = x_{k+1} - x_k, y = g_{k+1} - g_k and 1 / (yᵀs), oldest first.
    let mut pairs: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::with_capacity(options.history);
    if max_abs(&gradient) <= options.gtol {
        return LbfgsResult {
            x,
            value,
            iterations: 0,
            converged: true,
        };
    }
    let mut direction = vec![0.0; dim];
    let mut alpha = vec![0.0; options.history];
    for iteration in 0..options.max_iter {
        // Two-loop recursion: direction = -H·g with H the L-BFGS inverse-Hessian estimate.
        direction
            .iter_mut()
            .zip(&gradient)
            .for_each(|(d, g)| *d = -g);
        for (slot, (s, y, rho)) in pairs.iter().enumerate().rev() {
            let a = rho * dot(s, &direction);
            alpha[slot] = a;
            axpy(-a, y, &mut direction);
        }
        if let Some((s, y, _)) = pairs.back() {
            let gamma = dot(s, y) / dot(y, y);
            direction.iter_mut().for_each(|d| *d *= gamma);
        }
        for (slot, (s, y, rho)) in pairs.iter().enumerate() {
            let b = rho * dot(y, &direction);
            axpy(alpha[slot] - b, s, &mut direction);
        }
        let mut slope = dot(&gradient, &direction);
        if slope.is_nan() || slope >= 0.0 {
            // The estimate lost positive definiteness numerically: restart from steepest descent.
            pairs.clear();
            direction
                .iter_mut()
                .zip(&gradient)
                .for_each(|(d, g)| *d = -g);
            slope = dot(&gradient, &direction);
        }
        let first_step = if pairs.is_empty() {
            1.0 / dot(&direction, &direction).sqrt()
        } else {
            1.0
        };
        let Some(trial) = line_search(
            &mut objective,
            &x,
            value,
            slope,
            &direction,
            first_step,
            options.max_line_search,
        ) else {
            // No acceptable step (the objective is flat to rounding along the direction): stop here.
            return LbfgsResult {
                x,
                value,
                iterations: iteration,
                converged: false,
            };
        };
        let s: Vec<f64> = trial.x.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = trial
            .gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot(&s, &y);
        // Skip the update when the curvature is not safely positive (L-BFGS-B's rule).
        if sy > f64::EPSILON * dot(&y, &y) {
            if pairs.len() == options.history {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / sy));
        }
        let old_value = value;
        x = trial.x;
        gradient = trial.gradient;
        value = trial.value;
        if max_abs(&gradient) <= options.gtol {
            return LbfgsResult {
                x,
                value,
                iterations: iteration + 1,
                converged: true,
            };
        }
        let scale = old_value.abs().max(value.abs()).max(1.0);
        if (old_value - value) / scale <= options.ftol {
            return LbfgsResult {
                x,
                value,
                iterations: iteration + 1,
                converged: true,
            };
        }
    }
    LbfgsResult {
        x,
        value,
        iterations: options.max_iter,
        converged: false,
    }
}

/// Strong-Wolfe line search along `direction` from `x` (value `value0`, directional derivative
/// `slope0 < 0`), starting with step `first_step`; Nocedal & Wright Algorithms 3.5 and 3.6 with
/// safeguarded cubic interpolation. Returns `None` when no step decreasing the objective was found
/// within `max_evaluations`; otherwise the best acceptable (or, at the budget's end, best decreasing)
/// point.
fn line_search<F>(
    objective: &mut F,
    x: &[f64],
    value0: f64,
    slope0: f64,
    direction: &[f64],
    first_step: f64,
    max_evaluations: usize,
) -> Option<Trial>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let mut evaluate = |step: f64| -> Trial {
        let point: Vec<f64> = x.iter().zip(direction).map(|(a, d)| a + step * d).collect();
        let mut gradient = vec![0.0; point.len()];
        let mut value = objective(&point, &mut gradient);
        if !value.is_finite() {
            value = f64::INFINITY;
        }
        let slope = dot(&gradient, direction);
        Trial {
            step,
            value,
            slope,
            x: point,
            gradient,
        }
    };
    let sufficient = |t: &Trial| t.value <= value0 + ARMIJO * t.step * slope0;
    let curvature_ok = |t: &Trial| t.slope.abs() <= -CURVATURE * slope0;
    let mut evaluations = 0usize;
    // Best decreasing point seen, returned if the budget runs out.
    let mut best: Option<Trial> = None;
    let keep_best = |best: &mut Option<Trial>, t: &Trial| {
        if t.value < value0 && best.as_ref().is_none_or(|b| t.value < b.value) {
            *best = Some(Trial {
                step: t.step,
                value: t.value,
                slope: t.slope,
                x: t.x.clone(),
                gradient: t.gradient.clone(),
            });
        }
    };
    let mut previous = Trial {
        step: 0.0,
        value: value0,
        slope: slope0,
        x: x.to_vec(),
        gradient: Vec::new(),
    };
    let mut step = first_step;
    // Bracketing phase.
    let (mut low, mut high) = loop {
        if evaluations >= max_evaluations {
            return best;
        }
        let trial = evaluate(step);
        evaluations += 1;
        keep_best(&mut best, &trial);
        if !sufficient(&trial) || (evaluations > 1 && trial.value >= previous.value) {
            break (previous, trial);
        }
        if curvature_ok(&trial) {
            return Some(trial);
        }
        if trial.slope >= 0.0 {
            break (trial, previous);
        }
        let next = step * 4.0;
        previous = trial;
        step = next;
    };
    // Zoom phase: `low` satisfies sufficient decrease and has the lower value; the minimiser lies
    // between `low.step` and `high.step`.
    while evaluations < max_evaluations {
        let (a, b) = (low.step, high.step);
        let (lo, hi) = (a.min(b), a.max(b));
        let width = hi - lo;
        if width <= f64::EPSILON * hi.max(1e-300) {
            break;
        }
        let mut candidate = cubic_minimiser(&low, &high).unwrap_or(0.5 * (a + b));
        // Keep the trial well inside the interval so the bracket shrinks geometrically.
        let margin = 0.1 * width;
        if !(candidate > lo + margin && candidate < hi - margin) {
            candidate = 0.5 * (a + b);
        }
        let trial = evaluate(candidate);
        evaluations += 1;
        keep_best(&mut best, &trial);
        if !sufficient(&trial) || trial.value >= low.value {
            high = trial;
        } else {
            if curvature_ok(&trial) {
                return Some(trial);
            }
            if trial.slope * (high.step - low.step) >= 0.0 {
                high = low;
            }
            low = trial;
        }
    }
    best
}

/// Minimiser of the cubic interpolating value and slope at two trial points, if it exists and is
/// finite.
fn cubic_minimiser(p: &Trial, q: &Trial) -> Option<f64> {
    if !p.value.is_finite() || !q.value.is_finite() {
        return None;
    }
    let d1 = p.slope + q.slope - 3.0 * (p.value - q.value) / (p.step - q.step);
    let radicand = d1 * d1 - p.slope * q.slope;
    if radicand < 0.0 {
        return None;
    }
    let d2 = (q.step - p.step).signum() * radicand.sqrt();
    let denominator = q.slope - p.slope + 2.0 * d2;
    if denominator == 0.0 {
        return None;
    }
    let step = q.step - (q.step - p.step) * (q.slope + d2 - d1) / denominator;
    step.is_finite().then_some(step)
}

/// Dot product of two equal-length slices.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `y += a·x`.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

/// Largest absolute entry (0 for an empty slice).
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0_f64, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's function from (-1.2, 1): the classic hard smooth test; the minimum is (1, 1).
    #[test]
    fn rosenbrock_reaches_its_minimum() {
        let result = minimize(
            |x, g| {
                let (a, b) = (x[0], x[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            vec![-1.2, 1.0],
            LbfgsOptions {
                max_iter: 200,
                gtol: 1e-10,
                ftol: 0.0,
                history: 10,
                max_line_search: 50,
            },
        );
        assert!(result.converged);
        // gtol 1e-10 on a function with Hessian eigenvalues ≥ ~0.4 near (1,1) bounds the error by ~1e-9.
        assert!(
            (result.x[0] - 1.0).abs() < 1e-7 && (result.x[1] - 1.0).abs() < 1e-7,
            "{:?}",
            result.x
        );
    }

    /// A convex quadratic ½ xᵀAx − bᵀx with A = diag(1..=20): the minimiser is b_i / i.
    #[test]
    fn ill_conditioned_quadratic() {
        let b: Vec<f64> = (1..=20).map(|i| (i as f64).sin()).collect();
        let result = minimize(
            |x, g| {
                let mut f = 0.0;
                for i in 0..x.len() {
                    let a = (i + 1) as f64;
                    g[i] = a * x[i] - b[i];
                    f += 0.5 * a * x[i] * x[i] - b[i] * x[i];
                }
                f
            },
            vec![0.0; 20],
            LbfgsOptions::sklearn(100, 1e-12),
        );
        for (i, xi) in result.x.iter().enumerate() {
            // The relative-decrease stop (64·eps) fires first: f − f* ≈ 1e-14·|f| ≈ 1e-14 bounds the error
            // by sqrt(2·1e-14 / curvature 1) ≈ 1.5e-7.
            assert!((xi - b[i] / (i + 1) as f64).abs() < 3e-7, "x[{i}] = {xi}");
        }
    }
}
