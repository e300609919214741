//! Shared numerical helpers of the metrics (the reference's `utils.py`): discretisation, plug-in mutual
//! information and entropy, z-scoring, sample covariance, numpy's linear percentile, and eigenvalues of
//! small symmetric matrices.
//!
//! Each helper reproduces the numpy / scipy / scikit-learn operation the reference calls, including its
//! floating-point order of operations where that decides a bin or a tie; the docs name the operation.
//! Nothing here samples or fits a model.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::config::Discretizer;

/// A column turned into dense class ids: `ids[n]` is in `0..n_classes`, in increasing order of the
/// original values (so ids of integer factors keep their order, as `np.unique` would).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels {
    /// Dense id of each point.
    pub ids: Vec<u32>,
    /// Number of distinct values.
    pub n_classes: usize,
}

impl Labels {
    /// Dense labels of integer values (factor columns).
    pub fn from_u32(values: impl IntoIterator<Item = u32>) -> Labels {
        let values: Vec<u32> = values.into_iter().collect();
        let mut distinct = values.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let ids = values
            .iter()
            .map(|v| {
                // INVARIANT: every value is in `distinct`, which is sorted; the position fits in u32
                // because there are at most as many classes as points, and point counts fit in u32 here.
                distinct.partition_point(|d| d < v) as u32
            })
            .collect();
        Labels {
            ids,
            n_classes: distinct.len(),
        }
    }

    /// Dense labels of real values, one class per distinct value (`np.unique` semantics: `-0.0 == 0.0`).
    /// Values must be finite (callers validate codes first).
    pub fn from_f64(values: ArrayView1<f64>) -> Labels {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut ids = vec![0u32; values.len()];
        let mut class = 0u32;
        let mut previous: Option<f64> = None;
        for &index in &order {
            let value = values[index];
            if let Some(p) = previous {
                // `==` rather than bit equality, so -0.0 and 0.0 form one class as in numpy.
                if value != p {
                    class += 1;
                }
            }
            previous = Some(value);
            ids[index] = class;
        }
        let n_classes = if values.is_empty() {
            0
        } else {
            class as usize + 1
        };
        Labels { ids, n_classes }
    }
}

/// numpy's `digitize(x, histogram(x, num_bins)[1][:-1])` on one column: labels in 1..=num_bins.
///
/// The edges are `i·step + min` with `step = (max − min)/num_bins` (numpy's `linspace` arithmetic), and a
/// value's label is the number of the first `num_bins` edges that are ≤ it, so the maximum gets `num_bins`.
/// A constant column gets numpy's widened range [v − 0.5, v + 0.5], hence every point label
/// `num_bins/2 + 1` (still a single class).
///
/// Binning is done in f64. numpy bins float32 input in float32, so for float32 codes a value within one
/// float32 rounding step of a bin edge can land in the neighbouring bin; float64 input bins identically.
pub fn histogram_bins(values: ArrayView1<f64>, num_bins: usize) -> Vec<u32> {
    let Some(first) = values.iter().copied().reduce(f64::min) else {
        return Vec::new();
    };
    let last = values.iter().copied().fold(first, f64::max);
    let (first, last) = if first == last {
        (first - 0.5, last + 0.5)
    } else {
        (first, last)
    };
    let step = (last - first) / num_bins as f64;
    let edges: Vec<f64> = (0..num_bins).map(|i| i as f64 * step + first).collect();
    values
        .iter()
        .map(|&x| edges.partition_point(|&edge| edge <= x) as u32)
        .collect()
}

impl Discretizer {
    /// Discrete labels of one column.
    pub fn labels(&self, values: ArrayView1<f64>) -> Labels {
        match self {
            Discretizer::Histogram { num_bins } => {
                Labels::from_u32(histogram_bins(values, *num_bins))
            }
            Discretizer::Identity => Labels::from_f64(values),
        }
    }

    /// Labels of every column of a (n_points, n_columns) matrix.
    pub fn columns(&self, matrix: ArrayView2<f64>) -> Vec<Labels> {
        matrix
            .axis_iter(Axis(1))
            .map(|column| self.labels(column))
            .collect()
    }
}

/// Labels of every column of a (n_points, n_factors) factor matrix.
pub fn factor_labels(factors: ArrayView2<u32>) -> Vec<Labels> {
    factors
        .axis_iter(Axis(1))
        .map(|column| Labels::from_u32(column.iter().copied()))
        .collect()
}

/// scikit-learn's `mutual_info_score(a, b)`: the plug-in mutual information of the contingency table, in
/// nats, with sklearn's arithmetic (terms below machine epsilon set to 0, result clipped at 0).
///
/// Both label sets must have the same length (callers build them from the same rows).
pub fn mutual_info(a: &Labels, b: &Labels) -> f64 {
    debug_assert_eq!(a.ids.len(), b.ids.len(), "labels of the same points");
    if a.n_classes <= 1 || b.n_classes <= 1 {
        return 0.0;
    }
    let n = a.ids.len();
    // Contingency table, (a class, b class) → count; dense because class counts are small (≤ points).
    let mut table = vec![0u64; a.n_classes * b.n_classes];
    let mut row_sums = vec![0u64; a.n_classes];
    let mut column_sums = vec![0u64; b.n_classes];
    for (&i, &j) in a.ids.iter().zip(&b.ids) {
        table[i as usize * b.n_classes + j as usize] += 1;
        row_sums[i as usize] += 1;
        column_sums[j as usize] += 1;
    }
    let total = n as f64;
    let log_total = total.ln();
    let mut mi = 0.0;
    for i in 0..a.n_classes {
        for j in 0..b.n_classes {
            let count = table[i * b.n_classes + j];
            if count == 0 {
                continue;
            }
            let nz = count as f64;
            let p = nz / total;
            let outer = (row_sums[i] * column_sums[j]) as f64;
            let log_outer = -outer.ln() + log_total + log_total;
            let term = p * (nz.ln() - log_total) + p * log_outer;
            if term.abs() >= f64::EPSILON {
                mi += term;
            }
        }
    }
    mi.max(0.0)
}

/// The reference's `discrete_entropy`: the entropy of the labels in nats, as `mutual_info(y, y)`.
pub fn entropy(labels: &Labels) -> f64 {
    mutual_info(labels, labels)
}

/// The reference's `discrete_mutual_info(mus, ys)`: m[i, j] = MI(code i, factor j), shape (n_codes, n_factors).
pub fn mutual_info_matrix(codes: &[Labels], factors: &[Labels]) -> Array2<f64> {
    let mut matrix = Array2::zeros((codes.len(), factors.len()));
    for (i, code) in codes.iter().enumerate() {
        for (j, factor) in factors.iter().enumerate() {
            matrix[[i, j]] = mutual_info(code, factor);
        }
    }
    matrix
}

/// Column means and population standard deviations (np.std, ddof 0) of a (n_points, n_codes) matrix,
/// for z-scoring. A zero deviation (a constant code) is replaced by 1, so the constant column maps to 0
/// instead of the reference's 0/0.
pub fn zscore_params(codes: ArrayView2<f64>) -> (Array1<f64>, Array1<f64>) {
    let n = codes.nrows().max(1) as f64;
    let mean = codes.sum_axis(Axis(0)) / n;
    let mut std = Array1::zeros(codes.ncols());
    for (column, (values, m)) in codes.axis_iter(Axis(1)).zip(mean.iter()).enumerate() {
        let var = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
        std[column] = if var > 0.0 { var.sqrt() } else { 1.0 };
    }
    (mean, std)
}

/// `(codes − mean)/std` per column.
pub fn zscore(codes: ArrayView2<f64>, mean: &Array1<f64>, std: &Array1<f64>) -> Array2<f64> {
    let mut out = codes.to_owned();
    for mut row in out.axis_iter_mut(Axis(0)) {
        for ((v, m), s) in row.iter_mut().zip(mean).zip(std) {
            *v = (*v - m) / s;
        }
    }
    out
}

/// Sample covariance (np.cov of the transposed matrix, ddof 1) of a (n_points, n_codes) matrix: (n_codes, n_codes).
/// Needs at least 2 rows (callers check).
pub fn covariance(codes: ArrayView2<f64>) -> Array2<f64> {
    let n = codes.nrows();
    let mean = codes.sum_axis(Axis(0)) / n as f64;
    let centred = &codes - &mean;
    let mut cov = centred.t().dot(&centred);
    cov /= (n as f64 - 1.0).max(1.0);
    cov
}

/// Per-column variance with the given delta degrees of freedom (np.var(axis=0, ddof)).
pub fn column_variance(codes: ArrayView2<f64>, ddof: usize) -> Array1<f64> {
    let n = codes.nrows();
    let mean = codes.sum_axis(Axis(0)) / n as f64;
    let mut var = Array1::zeros(codes.ncols());
    for row in codes.axis_iter(Axis(0)) {
        for ((v, m), x) in var.iter_mut().zip(&mean).zip(row) {
            *v += (x - m) * (x - m);
        }
    }
    var / (n as f64 - ddof as f64)
}

/// numpy's `percentile(values, q·100)` with the default linear method, including numpy's two-sided lerp.
/// `values` is sorted in place. Returns 0 for an empty slice (callers never pass one).
pub fn percentile_linear(values: &mut [f64], quantile: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    // numpy receives q in percent and divides by 100 again.
    let quantile = (quantile * 100.0) / 100.0;
    let virtual_index = (values.len() - 1) as f64 * quantile;
    let lower = virtual_index.floor();
    let t = virtual_index - lower;
    let lower = lower as usize;
    let upper = (lower + 1).min(values.len() - 1);
    let (a, b) = (values[lower], values[upper]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations, in ascending order.
///
/// Jacobi is accurate to a few ulps of the largest eigenvalue for symmetric input and needs no
/// dependency; the metrics call it on d×d covariances (d = code dimension, ~10).
pub fn symmetric_eigenvalues(matrix: &Array2<f64>) -> Vec<f64> {
    let n = matrix.nrows();
    let mut a = matrix.clone();
    for _sweep in 0..100 {
        let mut off = 0.0;
        for p in 0..n {
            for q in (p + 1)..n {
                off += a[[p, q]] * a[[p, q]];
            }
        }
        let scale: f64 = a.iter().map(|v| v * v).sum();
        if off <= f64::EPSILON * f64::EPSILON * scale || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a[[p, q]];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[[k, p]];
                    let akq = a[[k, q]];
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[[p, k]];
                    let aqk = a[[q, k]];
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut eigenvalues: Vec<f64> = (0..n).map(|i| a[[i, i]]).collect();
    eigenvalues.sort_by(f64::total_cmp);
    eigenvalues
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn histogram_discretizer_matches_reference_unit_test() {
        // utils_test: [[.1,.2,.3,.4,.5,.6],[.6,.5,.4,.3,.2,.1]] with 3 bins → [[1,1,2,2,3,3],[3,3,2,2,1,1]].
        let up = array![0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        let down = array![0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
        assert_eq!(histogram_bins(up.view(), 3), vec![1, 1, 2, 2, 3, 3]);
        assert_eq!(histogram_bins(down.view(), 3), vec![3, 3, 2, 2, 1, 1]);
    }

    #[test]
    fn histogram_of_constant_column_is_one_class() {
        // numpy widens a zero range to [v-0.5, v+0.5]; with 20 bins the value sits on edge 10 → bin 11.
        let constant = array![2.0, 2.0, 2.0];
        assert_eq!(histogram_bins(constant.view(), 20), vec![11, 11, 11]);
    }

    #[test]
    fn entropy_of_three_balanced_classes_is_ln3() {
        // utils_test.test_discrete_entropy; exact up to a few ulps of the log sums (tolerance 1e-12).
        let labels = Labels::from_u32([1, 1, 2, 2, 3, 3]);
        assert!((entropy(&labels) - 3f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn mutual_info_matches_reference_unit_test() {
        // xs = [[1,2,1,2],[1,1,2,2]], ys = [[1,2,1,2],[2,2,1,1]] → [[ln2, 0], [0, ln2]].
        let xs = [
            Labels::from_u32([1, 2, 1, 2]),
            Labels::from_u32([1, 1, 2, 2]),
        ];
        let ys = [
            Labels::from_u32([1, 2, 1, 2]),
            Labels::from_u32([2, 2, 1, 1]),
        ];
        let m = mutual_info_matrix(&xs, &ys);
        let ln2 = 2f64.ln();
        let expected = [[ln2, 0.0], [0.0, ln2]];
        for i in 0..2 {
            for j in 0..2 {
                assert!(
                    (m[[i, j]] - expected[i][j]).abs() < 1e-12,
                    "m[{i},{j}] = {}",
                    m[[i, j]]
                );
            }
        }
    }

    #[test]
    fn float_labels_merge_signed_zeros() {
        let values = array![0.5, -0.0, 0.0, -1.0, 0.5];
        let labels = Labels::from_f64(values.view());
        assert_eq!(labels.n_classes, 3);
        assert_eq!(labels.ids, vec![2, 1, 1, 0, 2]);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile([1,2,3,4,10], 99.0) = 4 + 0.96·6 = 9.76; np.percentile([3,1,2], 50) = 2.
        let mut a = vec![10.0, 1.0, 3.0, 2.0, 4.0];
        assert!((percentile_linear(&mut a, 0.99) - 9.76).abs() < 1e-12);
        let mut b = vec![3.0, 1.0, 2.0];
        assert_eq!(percentile_linear(&mut b, 0.5), 2.0);
    }

    #[test]
    fn eigenvalues_of_correlation_matrix() {
        // [[1, .9], [.9, 1]] has eigenvalues 0.1 and 1.9; a diagonal matrix its diagonal.
        let m = array![[1.0, 0.9], [0.9, 1.0]];
        let e = symmetric_eigenvalues(&m);
        assert!(
            (e[0] - 0.1).abs() < 1e-14 && (e[1] - 1.9).abs() < 1e-14,
            "{e:?}"
        );
        let d = array![[3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]];
        assert_eq!(symmetric_eigenvalues(&d), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn covariance_uses_ddof_one() {
        // Columns (1,2,3) and (2,4,6): var 1 and 4, cov 2.
        let x = array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
        let c = covariance(x.view());
        assert_eq!(c, array![[1.0, 2.0], [2.0, 4.0]]);
    }
}
