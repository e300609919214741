//! BetaVAE score (`beta_vae_sklearn`, Higgins et al. 2017), reference §3.1.
//!
//! One point: draw k = randint(K); draw two factor batches F1, F2 of `batch_size`; copy column k of F1
//! into F2; encode F1, then F2; the feature is the mean over the batch of |r1 − r2| (length n_codes), the
//! label k. A `LogisticRegression()` (scikit-learn 1.9 defaults: lbfgs, multinomial, C = 1) is fitted on
//! `num_train` points; `train_accuracy` is its accuracy on them and `eval_accuracy` on `num_eval` fresh
//! points. The random draws follow the reference exactly (k, F1, F2, observations of F1, of F2), and the
//! reference's `LogisticRegression(random_state=rs)` draws nothing with lbfgs, so none is drawn here.
//!
//! Constant codes give a zero feature column, which the classifier ignores: finite by construction.

use std::collections::BTreeMap;

use disc_data::rng::RandomState;
use ndarray::Array2;

use crate::config::BetaVaeConfig;
use crate::error::MetricError;
use crate::learn::{Classifier, Fitted, LogisticRegression};
use crate::sample::{FactorSampler, Representation, encode_checked};

/// Reference metric name.
pub const NAME: &str = "beta_vae_sklearn";

/// The BetaVAE score; keys `train_accuracy`, `eval_accuracy`.
pub fn compute<S: FactorSampler + ?Sized>(
    config: &BetaVaeConfig,
    space: &S,
    rep: &mut dyn Representation,
    rng: &mut RandomState,
) -> Result<BTreeMap<String, f64>, MetricError> {
    let (train_points, train_labels) =
        training_batch(space, rep, config.batch_size, config.num_train, rng)?;
    let model = LogisticRegression::default()
        .fit(train_points.view(), &train_labels)
        .map_err(|source| MetricError::Learn {
            metric: NAME,
            factor: 0,
            source,
        })?;
    let train_accuracy = model.score(train_points.view(), &train_labels);
    let (eval_points, eval_labels) =
        training_batch(space, rep, config.batch_size, config.num_eval, rng)?;
    let eval_accuracy = model.score(eval_points.view(), &eval_labels);
    Ok(BTreeMap::from([
        ("train_accuracy".to_string(), train_accuracy),
        ("eval_accuracy".to_string(), eval_accuracy),
    ]))
}

/// `num_points` feature vectors (num_points, n_codes) and their labels (the fixed factor's index).
fn training_batch<S: FactorSampler + ?Sized>(
    space: &S,
    rep: &mut dyn Representation,
    batch_size: usize,
    num_points: usize,
    rng: &mut RandomState,
) -> Result<(Array2<f64>, Vec<u32>), MetricError> {
    let n_factors = space.num_factors();
    let mut points = Array2::zeros((num_points, rep.dim()));
    let mut labels = Vec::with_capacity(num_points);
    for mut point in points.rows_mut() {
        let index = rng.randint(0, n_factors as i64) as usize;
        let first = space.sample_factors(batch_size, rng);
        let mut second = space.sample_factors(batch_size, rng);
        for (a, b) in first.iter().zip(second.iter_mut()) {
            b[index] = a[index];
        }
        let codes_first = encode_checked(rep, &first, rng)?;
        let codes_second = encode_checked(rep, &second, rng)?;
        let feature = (&codes_first - &codes_second)
            .mapv(f64::abs)
            .sum_axis(ndarray::Axis(0))
            / batch_size as f64;
        point.assign(&feature);
        labels.push(index as u32);
    }
    Ok((points, labels))
}
