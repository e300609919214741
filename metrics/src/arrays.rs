//! Metrics on external arrays (`disc eval`): codes and factors a user made elsewhere, no model.
//!
//! Two ways of choosing rows, reported as [`Sampling`]:
//! - **A declared complete grid** (factor sizes, rows checked to hold every combination, in any order
//!   and possibly several times): every metric, observational or interventional, draws its factor rows
//!   from the grid with its own random state and looks their codes up by combination
//!   ([`GridRepresentation`]), exactly as the reference samples a dataset through
//!   `generate_batch_factor_code` (a combination with several rows gives one of them at random, as a
//!   user's `arrays(...)` dataset does). Sizes are never clipped (draws are
//!   with replacement), and a seed gives the reference's draws.
//! - **Plain observational arrays**: observational metrics read the first `num_train` rows as the train
//!   sample and the next `num_test` rows as the test sample (file order: the caller must say so, since a
//!   file sorted by factor gives biased samples). When the arrays hold fewer rows than asked for, the
//!   sizes are clipped and the clipping is reported as an [`Adjustment`] (the caller warns): a
//!   train-only metric takes min(num_train, n) rows; a train/test metric splits the n rows in the
//!   requested proportion, the train part rounded up (the reference's `split_train_test`). The
//!   downstream task keeps the train sizes that fit in the (clipped) train block and, when the
//!   largest does not fit, uses the whole block in its place (its keys then carry the size actually
//!   used). Every train size reads the first rows of the train block.
//!
//! The interventional metrics (BetaVAE, FactorVAE) need codes for every factor combination, so without
//! a grid they are refused. This module reads no files.

use std::collections::BTreeMap;

use disc_data::factors::FactorSpace;
use disc_data::rng::RandomState;
use ndarray::{ArrayView2, s};

use crate::config::MetricConfig;
use crate::downstream::{self, Predictor};
use crate::error::MetricError;
use crate::sample::{GridRepresentation, check_sample};
use crate::{dci, evaluate, irs, mig, modularity, sap, unsupervised};

/// A sample size the arrays could not provide, and the size used instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    /// Metric whose parameter was clipped.
    pub metric: &'static str,
    /// Parameter name (`num_train`, `num_test`).
    pub parameter: &'static str,
    /// Size asked for.
    pub requested: usize,
    /// Size used.
    pub used: usize,
}

/// How a metric chose the rows it read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Factor rows drawn from the declared grid with the metric's random state (with replacement), codes
    /// looked up by the rows' flat indices.
    GridDraws,
    /// Rows in file order: the train sample is rows `0..train`, the test sample rows
    /// `train..train + test` (`test` is 0 for the train-only metrics). The downstream task's smaller
    /// train sizes read the first rows of the train block.
    FileOrder {
        /// Rows in the train block.
        train: usize,
        /// Rows in the test block.
        test: usize,
    },
}

/// Result of one metric on arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayEvaluation {
    /// Scores with the reference's key names.
    pub scores: BTreeMap<String, f64>,
    /// Sizes that were clipped to what the arrays hold.
    pub adjustments: Vec<Adjustment>,
    /// How the rows were chosen.
    pub sampling: Sampling,
}

/// Computes one metric on codes (n, n_codes) and factors (n, n_factors).
///
/// `grid` declares that the rows are the complete factor grid of those sizes: every metric then samples
/// the grid with `rng` (pass a fresh `RandomState(seed)` per metric, as the reference does). Without a
/// grid the observational metrics read the rows in file order and draw nothing; the interventional ones
/// are refused.
pub fn evaluate_arrays(
    config: &MetricConfig,
    codes: ArrayView2<f64>,
    factors: ArrayView2<u32>,
    grid: Option<&FactorSpace>,
    rng: &mut RandomState,
) -> Result<ArrayEvaluation, MetricError> {
    config.validate()?;
    let metric = config.name();
    check_sample(metric, "all", codes, factors, 2, true)?;
    let n = codes.nrows();
    let mut adjustments = Vec::new();
    let rows = |start: usize, count: usize| {
        (
            codes.slice(s![start..start + count, ..]),
            factors.slice(s![start..start + count, ..]),
        )
    };
    if let Some(space) = grid {
        let mut rep = GridRepresentation::new(space.clone(), codes, factors)?;
        return Ok(ArrayEvaluation {
            scores: evaluate(config, space, &mut rep, rng)?,
            adjustments,
            sampling: Sampling::GridDraws,
        });
    }
    let blocks: (usize, usize);
    let scores = match config {
        MetricConfig::BetaVae(_) | MetricConfig::FactorVae(_) => {
            return Err(MetricError::GridRequired { metric });
        }
        MetricConfig::Mig(c) => {
            let used = clip_train(metric, c.num_train, n, &mut adjustments);
            blocks = (used, 0);
            let (x, y) = rows(0, used);
            mig::score(x, y, c.discretizer)?
        }
        MetricConfig::Irs(c) => {
            let used = clip_train(metric, c.num_train, n, &mut adjustments);
            blocks = (used, 0);
            let (x, y) = rows(0, used);
            irs::score(x, y, c.discretizer, c.diff_quantile)?
        }
        MetricConfig::Unsupervised(c) => {
            let used = clip_train(metric, c.num_train, n, &mut adjustments);
            blocks = (used, 0);
            unsupervised::score(rows(0, used).0, c.discretizer)?
        }
        MetricConfig::Sap(c) => {
            let (tr, te) = split(metric, c.num_train, c.num_test, n, &mut adjustments);
            blocks = (tr, te);
            let ((xa, ya), (xb, yb)) = (rows(0, tr), rows(tr, te));
            sap::score(xa, ya, xb, yb, c.continuous_factors)?
        }
        MetricConfig::Modularity(c) => {
            let (tr, te) = split(metric, c.num_train, c.num_test, n, &mut adjustments);
            blocks = (tr, te);
            let ((xa, ya), (xb, yb)) = (rows(0, tr), rows(tr, te));
            modularity::score(xa, ya, xb, yb, c.discretizer)?
        }
        MetricConfig::Dci(c) => {
            let (tr, te) = split(metric, c.num_train, c.num_test, n, &mut adjustments);
            blocks = (tr, te);
            let ((xa, ya), (xb, yb)) = (rows(0, tr), rows(tr, te));
            dci::score(xa, ya, xb, yb)?
        }
        MetricConfig::DownstreamLogisticRegression(c) | MetricConfig::DownstreamBoostedTrees(c) => {
            let predictor = if matches!(config, MetricConfig::DownstreamBoostedTrees(_)) {
                Predictor::BoostedTrees
            } else {
                Predictor::LogisticRegressionCv
            };
            let largest = c.num_train.iter().copied().max().unwrap_or(0);
            let (block, te) = split(metric, largest, c.num_test, n, &mut adjustments);
            blocks = (block, te);
            let mut sizes: Vec<usize> = c
                .num_train
                .iter()
                .copied()
                .filter(|&size| size <= block)
                .collect();
            if largest > block && !sizes.contains(&block) {
                sizes.push(block);
            }
            let mut scores = BTreeMap::new();
            for size in sizes {
                downstream::score_size(
                    predictor,
                    size,
                    rows(0, size),
                    rows(block, te),
                    &mut scores,
                )?;
            }
            scores
        }
    };
    Ok(ArrayEvaluation {
        scores,
        adjustments,
        sampling: Sampling::FileOrder {
            train: blocks.0,
            test: blocks.1,
        },
    })
}

/// min(requested, n), recording a clip.
fn clip_train(
    metric: &'static str,
    requested: usize,
    n: usize,
    adjustments: &mut Vec<Adjustment>,
) -> usize {
    if requested <= n {
        return requested;
    }
    adjustments.push(Adjustment {
        metric,
        parameter: "num_train",
        requested,
        used: n,
    });
    n
}

/// (train, test) sizes within n rows: as requested when they fit, else n split in the requested
/// proportion with the train part rounded up (at least 1 row each: n ≥ 2 is checked by the caller).
fn split(
    metric: &'static str,
    num_train: usize,
    num_test: usize,
    n: usize,
    adjustments: &mut Vec<Adjustment>,
) -> (usize, usize) {
    if num_train + num_test <= n {
        return (num_train, num_test);
    }
    let proportion = num_train as f64 / (num_train + num_test) as f64;
    let train = ((n as f64 * proportion).ceil() as usize).clamp(1, n - 1);
    let test = n - train;
    if train != num_train {
        adjustments.push(Adjustment {
            metric,
            parameter: "num_train",
            requested: num_train,
            used: train,
        });
    }
    if test != num_test {
        adjustments.push(Adjustment {
            metric,
            parameter: "num_test",
            requested: num_test,
            used: test,
        });
    }
    (train, test)
}
