//! Factor spaces: the sizes of a dataset's latent factors, uniform factor sampling and the row-major
//! index of a factor combination.
//!
//! Sampling follows the reference's `SplitDiscreteStateSpace` (reference §4.0): factors are drawn
//! column by column, `rs.randint(size_i, size=n)` for factor 0, then factor 1, and so on. The index is
//! `np.ravel_multi_index` order: the last factor varies fastest. This module must not know about
//! images or files.

use crate::{DataError, rng::RandomState};

/// The sizes of a dataset's latent factors. Every factor takes the class indices `0..size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorSpace {
    /// INVARIANT: non-empty, every size ≥ 1.
    sizes: Vec<u32>,
    /// `strides[i] = Π_{k>i} sizes[k]`; the flat index is `Σ f_i · strides[i]`.
    strides: Vec<u64>,
    /// `Π sizes`. INVARIANT: fits in u64 (checked on construction).
    num_cells: u64,
}

impl FactorSpace {
    /// A factor space with the given sizes; every size must be at least 1, and there must be at least
    /// one factor.
    pub fn new(sizes: Vec<u32>) -> Result<Self, DataError> {
        if sizes.is_empty() {
            return Err(DataError::EmptyFactor { index: 0 });
        }
        if let Some(index) = sizes.iter().position(|&size| size == 0) {
            return Err(DataError::EmptyFactor { index });
        }
        let mut strides = vec![1u64; sizes.len()];
        let mut product: u64 = 1;
        for (stride, &size) in strides.iter_mut().zip(&sizes).rev() {
            *stride = product;
            product =
                product
                    .checked_mul(u64::from(size))
                    .ok_or_else(|| DataError::TooManyCells {
                        sizes: sizes.clone(),
                    })?;
        }
        Ok(FactorSpace {
            sizes,
            strides,
            num_cells: product,
        })
    }

    /// The number of values of each factor.
    pub fn sizes(&self) -> &[u32] {
        &self.sizes
    }

    /// The number of factors.
    pub fn num_factors(&self) -> usize {
        self.sizes.len()
    }

    /// The number of factor combinations, `Π sizes`.
    pub fn num_cells(&self) -> u64 {
        self.num_cells
    }

    /// `n` rows of `num_factors()` values, drawn as the reference does: all `n` values of factor 0,
    /// then all of factor 1, and so on, each with `randint(0, size)`. A factor of size 1 consumes no
    /// draws.
    pub fn sample_factors(&self, n: usize, rng: &mut RandomState) -> Vec<Vec<u32>> {
        let mut rows = vec![vec![0u32; self.sizes.len()]; n];
        for (factor, &size) in self.sizes.iter().enumerate() {
            for row in rows.iter_mut() {
                // randint(0, size) lies in 0..size, so it fits in u32.
                row[factor] = rng.randint(0, i64::from(size)) as u32;
            }
        }
        rows
    }

    /// Checks that `row` has one value per factor and each value is below its factor's size.
    pub fn check_row(&self, row: &[u32]) -> Result<(), DataError> {
        if row.len() != self.sizes.len() {
            return Err(DataError::FactorCount {
                expected: self.sizes.len(),
                found: row.len(),
            });
        }
        for (factor, (&value, &size)) in row.iter().zip(&self.sizes).enumerate() {
            if value >= size {
                return Err(DataError::FactorOutOfRange {
                    factor,
                    value,
                    size,
                });
            }
        }
        Ok(())
    }

    /// Checks every row with [`FactorSpace::check_row`].
    pub fn check_rows(&self, rows: &[Vec<u32>]) -> Result<(), DataError> {
        rows.iter().try_for_each(|row| self.check_row(row))
    }

    /// The row-major flat index of a factor row (last factor fastest), as `np.ravel_multi_index`.
    ///
    /// The row must pass [`FactorSpace::check_row`]; an unchecked row gives a meaningless index (never
    /// a panic): missing trailing values count as 0 and out-of-range values alias other cells.
    pub fn ravel(&self, factors: &[u32]) -> u64 {
        factors
            .iter()
            .zip(&self.strides)
            .fold(0u64, |acc, (&value, &stride)| {
                acc.wrapping_add(u64::from(value).wrapping_mul(stride))
            })
    }

    /// The factor row of a flat index; the inverse of [`FactorSpace::ravel`] for `index < num_cells()`.
    /// Larger indices are reduced modulo `num_cells()`.
    pub fn unravel(&self, index: u64) -> Vec<u32> {
        let mut rest = index % self.num_cells;
        self.strides
            .iter()
            .map(|&stride| {
                let value = rest / stride;
                rest %= stride;
                // value < size ≤ u32::MAX because rest < num_cells = size_0 · stride_0 (and likewise down).
                value as u32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_zero_sizes() {
        assert!(matches!(
            FactorSpace::new(vec![]),
            Err(DataError::EmptyFactor { index: 0 })
        ));
        assert!(matches!(
            FactorSpace::new(vec![3, 0, 2]),
            Err(DataError::EmptyFactor { index: 1 })
        ));
        assert!(matches!(
            FactorSpace::new(vec![u32::MAX, u32::MAX, u32::MAX]),
            Err(DataError::TooManyCells { .. })
        ));
    }

    #[test]
    fn state_space_atom_index_case() {
        // Reference §3.10: StateSpaceAtomIndex([2,2], [[0,1],[1,0],[1,1],[0,0]]) maps the same rows
        // to [0,1,2,3]. The lookup table it builds is a bijection between rows and their position; our
        // row-major ravel gives the grid index [1,2,3,0], and the lookup through that grid returns the
        // row's position.
        let space = FactorSpace::new(vec![2, 2]).expect("valid sizes");
        let rows = [[0u32, 1], [1, 0], [1, 1], [0, 0]];
        let flat: Vec<u64> = rows.iter().map(|r| space.ravel(r)).collect();
        assert_eq!(flat, vec![1, 2, 3, 0]);
        let mut table = [usize::MAX; 4];
        for (position, &index) in flat.iter().enumerate() {
            table[index as usize] = position;
        }
        let looked_up: Vec<usize> = rows
            .iter()
            .map(|r| table[space.ravel(r) as usize])
            .collect();
        assert_eq!(looked_up, vec![0, 1, 2, 3]);
    }

    #[test]
    fn ravel_matches_numpy_and_round_trips() {
        // np.ravel_multi_index((2, 5, 39, 31, 31), (3, 6, 40, 32, 32)) == 737279 (the last image).
        let space = FactorSpace::new(vec![3, 6, 40, 32, 32]).expect("valid sizes");
        assert_eq!(space.num_cells(), 737_280);
        assert_eq!(space.ravel(&[2, 5, 39, 31, 31]), 737_279);
        // np.ravel_multi_index((1, 2, 3, 4, 5), (3, 6, 40, 32, 32)) == 330885
        assert_eq!(space.ravel(&[1, 2, 3, 4, 5]), 330_885);
        for index in [0u64, 1, 31, 32, 1023, 40_960, 330_885, 737_279] {
            assert_eq!(space.ravel(&space.unravel(index)), index);
        }
        assert_eq!(space.unravel(737_280), vec![0, 0, 0, 0, 0]);
    }

    #[test]
    fn sampling_is_column_by_column() {
        // r = np.random.RandomState(0); r.randint(3, size=5), r.randint(40, size=5)
        // -> [0, 1, 0, 1, 1], [36, 23, 6, 24, 24]
        let space = FactorSpace::new(vec![3, 40]).expect("valid sizes");
        let rows = space.sample_factors(5, &mut RandomState::new(0));
        let col0: Vec<u32> = rows.iter().map(|r| r[0]).collect();
        let col1: Vec<u32> = rows.iter().map(|r| r[1]).collect();
        assert_eq!(col0, vec![0, 1, 0, 1, 1]);
        assert_eq!(col1, vec![36, 23, 6, 24, 24]);
    }

    #[test]
    fn size_one_factor_consumes_nothing() {
        let with_one = FactorSpace::new(vec![1, 3, 40]).expect("valid sizes");
        let without = FactorSpace::new(vec![3, 40]).expect("valid sizes");
        let a = with_one.sample_factors(5, &mut RandomState::new(0));
        let b = without.sample_factors(5, &mut RandomState::new(0));
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x[0], 0);
            assert_eq!(&x[1..], &y[..]);
        }
    }

    #[test]
    fn check_row_reports_the_facts() {
        let space = FactorSpace::new(vec![3, 6]).expect("valid sizes");
        assert!(space.check_row(&[2, 5]).is_ok());
        assert!(matches!(
            space.check_row(&[2]),
            Err(DataError::FactorCount {
                expected: 2,
                found: 1
            })
        ));
        assert!(matches!(
            space.check_row(&[1, 6]),
            Err(DataError::FactorOutOfRange {
                factor: 1,
                value: 6,
                size: 6
            })
        ));
    }
}
