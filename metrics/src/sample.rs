//! Representations and the samples the metrics draw from them.
//!
//! [`Representation`] is how a model (the runtime's trained encoder) or an array of external codes is
//! seen by the metrics: factor rows in, code rows out. [`generate_batch_factor_code`] is the reference's
//! `utils.generate_batch_factor_code`, drawing factors and encoding them batch by batch in the same
//! order of random draws. [`GridRepresentation`] serves codes for a complete factor grid from an array,
//! and [`CachedRepresentation`] encodes each factor combination once. Validation of samples
//! ([`check_sample`]) also lives here. Nothing in this module computes a score.

use std::collections::{HashMap, HashSet};

use disc_data::GroundTruthData;
use disc_data::factors::FactorSpace;
use disc_data::rng::RandomState;
use ndarray::{Array2, ArrayView2, Axis};

use crate::error::MetricError;

/// A representation function as the metrics see it.
///
/// Implementations map factor rows to code rows of width [`Representation::dim`]: the runtime renders the
/// observations of those factors (drawing any non-latent factors and noise from `rng`, in the reference's
/// order) and encodes them; array-backed representations look the rows up.
pub trait Representation {
    /// Codes of the given factor rows: shape (factors.len(), self.dim()), rows in the same order.
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError>;
    /// Width of a code row.
    fn dim(&self) -> usize;
}

/// Where a metric draws factor rows from.
///
/// A [`FactorSpace`] draws column by column (`randint(size)` per factor, as every dataset of the
/// reference); a dataset (`dyn GroundTruthData`) draws in its own order, which matters for the
/// reference's `IdentityObservationsData` (row by row, values 1..=10), so its metric tests can be
/// reproduced draw for draw.
pub trait FactorSampler {
    /// Number of factors in a row.
    fn num_factors(&self) -> usize;
    /// `n` factor rows.
    fn sample_factors(&self, n: usize, rng: &mut RandomState) -> Vec<Vec<u32>>;
}

impl FactorSampler for FactorSpace {
    fn num_factors(&self) -> usize {
        FactorSpace::num_factors(self)
    }

    fn sample_factors(&self, n: usize, rng: &mut RandomState) -> Vec<Vec<u32>> {
        FactorSpace::sample_factors(self, n, rng)
    }
}

impl FactorSampler for dyn GroundTruthData {
    fn num_factors(&self) -> usize {
        self.factor_space().num_factors()
    }

    fn sample_factors(&self, n: usize, rng: &mut RandomState) -> Vec<Vec<u32>> {
        GroundTruthData::sample_factors(self, n, rng)
    }
}

/// Codes of `factors` from `rep`, with the returned shape checked against the declared dimension.
pub(crate) fn encode_checked(
    rep: &mut dyn Representation,
    factors: &[Vec<u32>],
    rng: &mut RandomState,
) -> Result<Array2<f64>, MetricError> {
    let codes = rep.encode(factors, rng)?;
    if codes.nrows() != factors.len() || codes.ncols() != rep.dim() {
        return Err(MetricError::EncodeShape {
            rows: factors.len(),
            columns: rep.dim(),
            got_rows: codes.nrows(),
            got_columns: codes.ncols(),
        });
    }
    // A model can emit NaN (e.g. after a diverged training run); no metric may see it silently.
    if let Some(((row, column), &value)) = codes.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(MetricError::NonFiniteCode { row, column, value });
    }
    Ok(codes)
}

/// Points drawn for a metric: codes (n_points, n_codes) and their factors (n_points, n_factors).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Code rows.
    pub codes: Array2<f64>,
    /// Factor rows (class indices).
    pub factors: Array2<u32>,
}

/// `generate_batch_factor_code`: `num_points` points, drawn `batch_size` at a time (factors with
/// `sampler.sample_factors`, then their codes), so the random draws follow the reference's order.
pub fn generate_batch_factor_code<S: FactorSampler + ?Sized>(
    sampler: &S,
    rep: &mut dyn Representation,
    num_points: usize,
    rng: &mut RandomState,
    batch_size: usize,
) -> Result<Sample, MetricError> {
    let n_factors = sampler.num_factors();
    let mut codes = Array2::zeros((num_points, rep.dim()));
    let mut factors = Array2::zeros((num_points, n_factors));
    let mut start = 0;
    while start < num_points {
        let count = (num_points - start).min(batch_size.max(1));
        let rows = sampler.sample_factors(count, rng);
        let batch = encode_checked(rep, &rows, rng)?;
        codes
            .slice_mut(ndarray::s![start..start + count, ..])
            .assign(&batch);
        for (offset, row) in rows.iter().enumerate() {
            for (column, &value) in row.iter().enumerate() {
                factors[[start + offset, column]] = value;
            }
        }
        start += count;
    }
    Ok(Sample { codes, factors })
}

/// Checks a (codes, factors) sample before a metric reads it: matching rows, at least one column each,
/// at least `min_rows` rows, finite codes, and (when `distinct_factors`) at least two values per factor.
pub fn check_sample(
    metric: &'static str,
    sample: &'static str,
    codes: ArrayView2<f64>,
    factors: ArrayView2<u32>,
    min_rows: usize,
    distinct_factors: bool,
) -> Result<(), MetricError> {
    if codes.nrows() != factors.nrows() {
        return Err(MetricError::RowMismatch {
            codes: codes.nrows(),
            factors: factors.nrows(),
        });
    }
    if codes.ncols() == 0 {
        return Err(MetricError::NoCodes);
    }
    if factors.ncols() == 0 {
        return Err(MetricError::NoFactors);
    }
    if codes.nrows() < min_rows {
        return Err(MetricError::TooFewRows {
            metric,
            sample,
            needed: min_rows,
            got: codes.nrows(),
        });
    }
    if let Some(((row, column), &value)) = codes.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(MetricError::NonFiniteCode { row, column, value });
    }
    if distinct_factors {
        for (factor, column) in factors.axis_iter(Axis(1)).enumerate() {
            let first = column[0];
            if column.iter().all(|&v| v == first) {
                return Err(MetricError::ConstantFactor {
                    metric,
                    sample,
                    factor,
                    value: first,
                });
            }
        }
    }
    Ok(())
}

/// Checks a train and a test sample of one metric: each with [`check_sample`] (train with distinct factor
/// values, test with at least `min_test` rows), and equal column counts.
pub fn check_train_test(
    metric: &'static str,
    train: (ArrayView2<f64>, ArrayView2<u32>),
    test: (ArrayView2<f64>, ArrayView2<u32>),
    min_train: usize,
    min_test: usize,
) -> Result<(), MetricError> {
    check_sample(metric, "train", train.0, train.1, min_train, true)?;
    check_sample(metric, "test", test.0, test.1, min_test, false)?;
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
    Ok(())
}

/// Checks that factor rows fit a factor space (arity and ranges).
pub fn check_rows_in_space(space: &FactorSpace, rows: &[Vec<u32>]) -> Result<(), MetricError> {
    let sizes = space.sizes();
    for (row, values) in rows.iter().enumerate() {
        if values.len() != sizes.len() {
            return Err(MetricError::FactorArity {
                row,
                expected: sizes.len(),
                got: values.len(),
            });
        }
        for (factor, (&value, &size)) in values.iter().zip(sizes).enumerate() {
            if value >= size {
                return Err(MetricError::FactorOutOfRange {
                    row,
                    factor,
                    value,
                    size,
                });
            }
        }
    }
    Ok(())
}

/// Codes of a complete factor grid: every combination of the space has at least one row. When the
/// rows are exactly the grid in row-major order (row `r` the combination with flat index `r`, last
/// factor fastest, as `FactorSpace::ravel` and the reference's released arrays), `encode` looks rows
/// up and draws nothing. Rows in any other order, or several rows for one combination (a user's own
/// labelled data, as `arrays(...)` reads it), are indexed by combination, and a combination with
/// several rows gives one of them drawn with the metric's random state, as the dataset does.
#[derive(Clone, Debug)]
pub struct GridRepresentation<'a> {
    space: FactorSpace,
    codes: ArrayView2<'a, f64>,
    /// `(flat index, row)` sorted, when the rows are not the grid in row-major order.
    index: Option<Vec<(u64, usize)>>,
}

impl<'a> GridRepresentation<'a> {
    /// Wraps `codes` (n, n_codes) and their `factors` (n, n_factors), checking that every value is
    /// inside its factor's size and that every combination of `space` has a row.
    pub fn new(
        space: FactorSpace,
        codes: ArrayView2<'a, f64>,
        factors: ArrayView2<u32>,
    ) -> Result<GridRepresentation<'a>, MetricError> {
        let cells = space.num_cells();
        if codes.nrows() != factors.nrows() {
            return Err(MetricError::RowMismatch {
                codes: codes.nrows(),
                factors: factors.nrows(),
            });
        }
        let rows: Vec<Vec<u32>> = factors.axis_iter(Axis(0)).map(|r| r.to_vec()).collect();
        check_rows_in_space(&space, &rows)?;
        // The reference's layout: the grid in row-major order, one row per combination.
        let row_major = cells == rows.len() as u64
            && rows
                .iter()
                .zip(0u64..)
                .all(|(row, flat)| space.ravel(row) == flat);
        if row_major {
            return Ok(GridRepresentation {
                space,
                codes,
                index: None,
            });
        }
        let mut index: Vec<(u64, usize)> = rows
            .iter()
            .enumerate()
            .map(|(row, values)| (space.ravel(values), row))
            .collect();
        index.sort_unstable();
        // The first combination without a row, if any: the flat indices present, walked in order.
        let mut next = 0u64;
        for &(flat, _) in &index {
            if flat > next {
                break;
            }
            next = flat + 1;
        }
        if next < cells {
            let mut distinct: Vec<u64> = index.iter().map(|(flat, _)| *flat).collect();
            distinct.dedup();
            return Err(MetricError::GridIncomplete {
                sizes: space.sizes().to_vec(),
                cells,
                present: distinct.len() as u64,
                missing: space.unravel(next),
            });
        }
        Ok(GridRepresentation {
            space,
            codes,
            index: Some(index),
        })
    }
}

impl Representation for GridRepresentation<'_> {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        check_rows_in_space(&self.space, factors)?;
        let mut out = Array2::zeros((factors.len(), self.codes.ncols()));
        for (mut target, row) in out.axis_iter_mut(Axis(0)).zip(factors) {
            let flat = self.space.ravel(row);
            let index = match &self.index {
                // INVARIANT: the row is in range (checked above) and the grid has num_cells rows in
                // row-major order, so the flat index is a valid row.
                None => flat as usize,
                // INVARIANT: every combination has at least one row (checked in `new`).
                Some(index) => {
                    let first = index.partition_point(|(f, _)| *f < flat);
                    let count = index[first..].partition_point(|(f, _)| *f == flat);
                    let pick = match count {
                        0 | 1 => 0,
                        n => usize::try_from(rng.randint(0, n as i64)).unwrap_or(0),
                    };
                    index[first + pick].1
                }
            };
            target.assign(&self.codes.row(index));
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        self.codes.ncols()
    }
}

/// Encodes each factor combination once and serves later requests from memory.
///
/// Only valid when the inner representation is a deterministic function of the factors: a mean
/// representation of a dataset whose observations draw no randomness. A cache hit skips the inner
/// `encode`, so random draws the inner representation would have made for that row (noise, non-latent
/// factors) do not happen; the caller decides whether that is acceptable. Misses are encoded in one batch.
pub struct CachedRepresentation<R> {
    inner: R,
    cache: HashMap<Vec<u32>, Vec<f64>>,
}

impl<R: Representation> CachedRepresentation<R> {
    /// An empty cache over `inner`.
    pub fn new(inner: R) -> CachedRepresentation<R> {
        CachedRepresentation {
            inner,
            cache: HashMap::new(),
        }
    }

    /// Distinct combinations encoded so far.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// `true` when nothing has been encoded yet.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// The wrapped representation.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Representation> Representation for CachedRepresentation<R> {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        let mut missing: Vec<Vec<u32>> = Vec::new();
        let mut queued: HashSet<&[u32]> = HashSet::new();
        for row in factors {
            if !self.cache.contains_key(row) && queued.insert(row.as_slice()) {
                missing.push(row.clone());
            }
        }
        if !missing.is_empty() {
            let codes = encode_checked(&mut self.inner, &missing, rng)?;
            for (row, code) in missing.into_iter().zip(codes.axis_iter(Axis(0))) {
                self.cache.insert(row, code.to_vec());
            }
        }
        let dim = self.inner.dim();
        let mut out = Array2::zeros((factors.len(), dim));
        for (mut target, row) in out.axis_iter_mut(Axis(0)).zip(factors) {
            let code = self
                .cache
                .get(row)
                .expect("every requested row was encoded above");
            for (t, v) in target.iter_mut().zip(code) {
                *t = *v;
            }
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        self.inner.dim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes = factors as floats; counts how many rows it was asked to encode.
    struct Counting {
        rows_encoded: usize,
    }

    impl Representation for Counting {
        fn encode(
            &mut self,
            factors: &[Vec<u32>],
            _rng: &mut RandomState,
        ) -> Result<Array2<f64>, MetricError> {
            self.rows_encoded += factors.len();
            Ok(Array2::from_shape_fn((factors.len(), 2), |(r, c)| {
                f64::from(factors[r][c])
            }))
        }

        fn dim(&self) -> usize {
            2
        }
    }

    #[test]
    fn cache_encodes_each_combination_once() {
        let mut cached = CachedRepresentation::new(Counting { rows_encoded: 0 });
        let mut rng = RandomState::new(0);
        let rows = vec![vec![1, 2], vec![0, 1], vec![1, 2]];
        let first = cached.encode(&rows, &mut rng).expect("encodes");
        let second = cached.encode(&rows[..2], &mut rng).expect("encodes");
        assert_eq!(first.row(0), first.row(2));
        assert_eq!(second.row(1).to_vec(), vec![0.0, 1.0]);
        assert_eq!(cached.len(), 2);
        assert_eq!(cached.into_inner().rows_encoded, 2);
    }

    #[test]
    fn generated_sample_keeps_factor_and_code_rows_together() {
        let space = FactorSpace::new(vec![3, 5]).expect("valid sizes");
        let mut rng = RandomState::new(4);
        let mut rep = Counting { rows_encoded: 0 };
        let sample = generate_batch_factor_code(&space, &mut rep, 37, &mut rng, 16).expect("draws");
        assert_eq!(sample.codes.dim(), (37, 2));
        assert_eq!(sample.codes, sample.factors.mapv(f64::from));
        assert_eq!(rep.rows_encoded, 37);
    }

    #[test]
    fn wrong_shape_from_a_representation_is_an_error() {
        struct Broken;
        impl Representation for Broken {
            fn encode(
                &mut self,
                factors: &[Vec<u32>],
                _rng: &mut RandomState,
            ) -> Result<Array2<f64>, MetricError> {
                Ok(Array2::zeros((factors.len(), 3)))
            }
            fn dim(&self) -> usize {
                2
            }
        }
        let space = FactorSpace::new(vec![3]).expect("valid sizes");
        let mut rng = RandomState::new(0);
        let error = generate_batch_factor_code(&space, &mut Broken, 4, &mut rng, 16);
        assert!(matches!(
            error,
            Err(MetricError::EncodeShape {
                rows: 4,
                columns: 2,
                got_columns: 3,
                ..
            })
        ));
    }
}
