//! The test datasets of the reference (§4.9): uniform-noise images and identity observations.
//!
//! Both exist to exercise metrics and the training loop without any real data. They must not be used
//! to report results.

use crate::{DataError, FactorSpace, GroundTruthData, RandomState};

/// `dummy_data`: 10 factors of size 5; every observation is 64×64×1 uniform noise
/// (`random_sample((N, 64, 64, 1))`), independent of the factors.
#[derive(Debug)]
pub struct Dummy {
    space: FactorSpace,
    names: Vec<String>,
}

impl Default for Dummy {
    fn default() -> Self {
        Self::new()
    }
}

impl Dummy {
    /// The reference's dummy dataset.
    pub fn new() -> Self {
        Dummy {
            space: FactorSpace::new(vec![5; 10]).expect("INVARIANT: ten factors of size 5"),
            names: (0..10).map(|i| format!("factor_{i}")).collect(),
        }
    }
}

impl GroundTruthData for Dummy {
    fn name(&self) -> &str {
        "dummy_data"
    }
    fn factor_space(&self) -> &FactorSpace {
        &self.space
    }
    fn factor_names(&self) -> &[String] {
        &self.names
    }
    fn observation_shape(&self) -> [usize; 3] {
        [64, 64, 1]
    }
    fn observations(
        &self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        self.space.check_rows(factors)?;
        let n = factors.len() * 64 * 64;
        out.extend((0..n).map(|_| rng.random_sample() as f32));
        Ok(())
    }
}

/// `IdentityObservationsData` (reference §3.10): the observation is the factor vector itself, as
/// floats, shaped `[1, 1, K]`.
///
/// Two conventions:
/// - [`IdentityObservations::reference`] reproduces the metric tests: 10 factors whose values are
///   **1..=10**, drawn row by row with `random_integers(10, size=(n, 10))` (not column by column like
///   every other dataset). Rows given to `observations` must hold values in 1..=10.
/// - [`IdentityObservations::zero_based`] is an ordinary dataset: values `0..size`, drawn column by
///   column.
#[derive(Debug)]
pub struct IdentityObservations {
    space: FactorSpace,
    names: Vec<String>,
    one_based: bool,
}

impl IdentityObservations {
    /// The reference's test dataset: 10 factors, values 1..=10, drawn row by row.
    pub fn reference() -> Self {
        IdentityObservations {
            space: FactorSpace::new(vec![10; 10]).expect("INVARIANT: ten factors of size 10"),
            names: (0..10).map(|i| format!("factor_{i}")).collect(),
            one_based: true,
        }
    }

    /// `num_factors` factors of `size` values each, values `0..size`, drawn column by column.
    pub fn zero_based(num_factors: usize, size: u32) -> Result<Self, DataError> {
        Ok(IdentityObservations {
            space: FactorSpace::new(vec![size; num_factors])?,
            names: (0..num_factors).map(|i| format!("factor_{i}")).collect(),
            one_based: false,
        })
    }

    /// Whether factor values are 1-based (the reference convention).
    pub fn is_one_based(&self) -> bool {
        self.one_based
    }
}

impl GroundTruthData for IdentityObservations {
    fn name(&self) -> &str {
        "identity_observations"
    }
    fn factor_space(&self) -> &FactorSpace {
        &self.space
    }
    fn factor_names(&self) -> &[String] {
        &self.names
    }
    fn observation_shape(&self) -> [usize; 3] {
        [1, 1, self.space.num_factors()]
    }

    fn sample_factors(&self, n: usize, rng: &mut RandomState) -> Vec<Vec<u32>> {
        if !self.one_based {
            return self.space.sample_factors(n, rng);
        }
        // random_integers(size, size=(n, K)): row-major, values 1..=size.
        (0..n)
            .map(|_| {
                self.space
                    .sizes()
                    .iter()
                    .map(|&size| rng.random_integers(1, i64::from(size)) as u32)
                    .collect()
            })
            .collect()
    }

    fn observations(
        &self,
        factors: &[Vec<u32>],
        _rng: &mut RandomState,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        for row in factors {
            if self.one_based {
                // Shift to class indices only to validate; the observation keeps the 1-based values.
                let shifted: Vec<u32> = row.iter().map(|&v| v.wrapping_sub(1)).collect();
                self.space.check_row(&shifted).map_err(|err| match err {
                    DataError::FactorOutOfRange { factor, size, .. } => {
                        DataError::FactorOutOfRange {
                            factor,
                            value: row[factor],
                            size,
                        }
                    }
                    other => other,
                })?;
            } else {
                self.space.check_row(row)?;
            }
            out.extend(row.iter().map(|&v| v as f32));
        }
        Ok(())
    }
}
