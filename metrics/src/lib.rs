//! disc-metrics: the disentanglement metric suite of `disentanglement_lib`, on arrays, in Rust.
//!
//! Every metric of the reference study with its definitions, study defaults and output key names:
//! BetaVAE score, FactorVAE score, MIG, SAP, modularity and explicitness, DCI, IRS, the unsupervised
//! scores and the downstream task (reference §3). The classifiers ([`learn`]) follow scikit-learn
//! **1.9.1**'s defaults (the version the reference figures were measured with): `LogisticRegression`
//! (lbfgs, multinomial, C = 1), `LogisticRegressionCV(Cs=10, cv=KFold(5))`,
//! `LinearSVC(C=0.01, class_weight="balanced")` and `GradientBoostingClassifier()` (100 stages, depth 3,
//! learning rate 0.1, friedman_mse, impurity importances).
//!
//! # Conventions (one array type, one layout, everywhere in this crate)
//! - Arrays are `ndarray`. **Rows are points.** Codes are `Array2<f64>` of shape (n_points, n_codes);
//!   factors are `Array2<u32>` of shape (n_points, n_factors) holding class indices (the reference holds
//!   both transposed). The one exception is [`Representation::encode`], which takes factor rows as
//!   `&[Vec<u32>]`, the form `FactorSpace::sample_factors` produces and `GroundTruthData::observations`
//!   consumes, so the runtime passes them through unchanged.
//! - All randomness goes through `disc_data::rng::RandomState` (numpy's legacy MT19937) and follows the
//!   reference's order of draws (§9.1), so a seed gives the reference's factor draws.
//! - Scores are `BTreeMap<String, f64>` keyed by the reference's names; a metric never returns NaN. The
//!   one non-finite value is a total correlation of +∞ for perfectly collinear codes (see
//!   [`unsupervised`]).
//! - Each quirk of the reference (§3.11) is decided in the docs of the metric's module.
//!
//! # Entry points
//! - [`evaluate`]: one metric against a [`Representation`] (a trained model, via the runtime), sampling
//!   factors from a `FactorSpace`.
//! - [`evaluate_arrays`]: one metric on external code and factor arrays (`disc eval`).
//! - The per-metric `score` functions (e.g. [`dci::score`]) on ready samples, and the closed-form pieces
//!   (e.g. [`dci::disentanglement`], [`modularity::modularity`]).
//!
//! This crate does no IO and never depends on burn or on the compiler.

pub mod arrays;
pub mod beta_vae;
pub mod config;
pub mod dci;
pub mod downstream;
pub mod error;
pub mod factor_vae;
pub mod irs;
pub mod learn;
pub mod mig;
pub mod modularity;
pub mod sample;
pub mod sap;
pub mod stats;
pub mod unsupervised;

use std::collections::BTreeMap;

use disc_data::rng::RandomState;

pub use arrays::{Adjustment, ArrayEvaluation, Sampling, evaluate_arrays};
pub use config::{
    BetaVaeConfig, DciConfig, Discretizer, DownstreamConfig, FactorVaeConfig, IrsConfig,
    METRIC_NAMES, MetricConfig, MigConfig, ModularityConfig, SapConfig, UnsupervisedConfig,
};
pub use error::MetricError;
pub use sample::{
    CachedRepresentation, FactorSampler, GridRepresentation, Representation, Sample,
    generate_batch_factor_code,
};

use downstream::Predictor;

/// Computes one metric of a representation, drawing factors from `space` with `rng` in the reference's
/// order. Returns the scores keyed by the reference's names.
///
/// `space` is a `FactorSpace` (column-by-column draws, as every reference dataset) or a
/// `dyn GroundTruthData` (the dataset's own draw order; see [`FactorSampler`]).
///
/// The reference evaluates each metric with a fresh `RandomState(seed)`; pass a fresh one per call to get
/// its draws.
pub fn evaluate<S: FactorSampler + ?Sized>(
    config: &MetricConfig,
    space: &S,
    rep: &mut dyn Representation,
    rng: &mut RandomState,
) -> Result<BTreeMap<String, f64>, MetricError> {
    config.validate()?;
    if rep.dim() == 0 {
        return Err(MetricError::NoCodes);
    }
    if space.num_factors() == 0 {
        return Err(MetricError::NoFactors);
    }
    let mut draw = |num_points: usize, batch_size: usize, rng: &mut RandomState| {
        generate_batch_factor_code(space, rep, num_points, rng, batch_size)
    };
    match config {
        MetricConfig::BetaVae(c) => beta_vae::compute(c, space, rep, rng),
        MetricConfig::FactorVae(c) => factor_vae::compute(c, space, rep, rng),
        MetricConfig::Mig(c) => {
            let train = draw(c.num_train, c.batch_size, rng)?;
            mig::score(train.codes.view(), train.factors.view(), c.discretizer)
        }
        MetricConfig::Irs(c) => {
            let train = draw(c.num_train, c.batch_size, rng)?;
            irs::score(
                train.codes.view(),
                train.factors.view(),
                c.discretizer,
                c.diff_quantile,
            )
        }
        MetricConfig::Unsupervised(c) => {
            let train = draw(c.num_train, c.batch_size, rng)?;
            unsupervised::score(train.codes.view(), c.discretizer)
        }
        MetricConfig::Sap(c) => {
            let train = draw(c.num_train, c.batch_size, rng)?;
            let test = draw(c.num_test, c.batch_size, rng)?;
            sap::score(
                train.codes.view(),
                train.factors.view(),
                test.codes.view(),
                test.factors.view(),
                c.continuous_factors,
            )
        }
        MetricConfig::Modularity(c) => {
            let train = draw(c.num_train, c.batch_size, rng)?;
            let test = draw(c.num_test, c.batch_size, rng)?;
            modularity::score(
                train.codes.view(),
                train.factors.view(),
                test.codes.view(),
                test.factors.view(),
                c.discretizer,
            )
        }
        MetricConfig::Dci(c) => {
            let train = draw(c.num_train, c.batch_size, rng)?;
            let test = draw(c.num_test, c.batch_size, rng)?;
            dci::score(
                train.codes.view(),
                train.factors.view(),
                test.codes.view(),
                test.factors.view(),
            )
        }
        MetricConfig::DownstreamLogisticRegression(c) | MetricConfig::DownstreamBoostedTrees(c) => {
            let predictor = if matches!(config, MetricConfig::DownstreamBoostedTrees(_)) {
                Predictor::BoostedTrees
            } else {
                Predictor::LogisticRegressionCv
            };
            let mut scores = BTreeMap::new();
            for &size in &c.num_train {
                // The reference draws a fresh train set, then a fresh test set, per size.
                let train = draw(size, c.batch_size, rng)?;
                let test = draw(c.num_test, c.batch_size, rng)?;
                downstream::score_size(
                    predictor,
                    size,
                    (train.codes.view(), train.factors.view()),
                    (test.codes.view(), test.factors.view()),
                    &mut scores,
                )?;
            }
            Ok(scores)
        }
    }
}
