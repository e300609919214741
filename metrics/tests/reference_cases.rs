//! The reference's metric unit tests (disentanglement_lib §3.10) as Rust tests, plus determinism,
//! invariance and posterior-collapse checks, all through the public `evaluate` / `evaluate_arrays` API.
//!
//! The factors come from disc-data's `IdentityObservations::reference()`, which draws like the reference's
//! `IdentityObservationsData` (`random_integers(10, size=(n, 10))`: values 1..=10, row by row), and the
//! observation is the factor row itself, so with `RandomState(0)` every metric sees the reference test's
//! exact points. Each case asserts the reference's interval and, where no classifier is involved, the
//! value the reference itself computes on those points (bench/metrics/goldens.py prints them: numpy 2.4.6,
//! scipy 1.17.1, scikit-learn 1.9.1, disentanglement-lib 1.5), to 1e-9: the arithmetic is the same up to
//! summation order, so differences are a few ulps.

use std::collections::BTreeMap;

use disc_data::GroundTruthData;
use disc_data::factors::FactorSpace;
use disc_data::rng::RandomState;
use disc_data::simple::IdentityObservations;
use disc_metrics::{
    BetaVaeConfig, DciConfig, Discretizer, FactorVaeConfig, IrsConfig, MetricConfig, MetricError,
    MigConfig, ModularityConfig, Representation, SapConfig, UnsupervisedConfig, evaluate,
    evaluate_arrays,
};
use ndarray::{Array2, Axis};

/// How a test representation turns the observation (factor + 1, as f64) into codes.
#[derive(Clone, Copy)]
enum Kind {
    Identity,
    Zeros,
    Duplicated,
    /// Each point's values permuted across dimensions by a separate RandomState(0).
    Shuffled,
}

struct TestRep {
    kind: Kind,
    shuffle_rng: RandomState,
}

impl TestRep {
    fn new(kind: Kind) -> TestRep {
        TestRep {
            kind,
            shuffle_rng: RandomState::new(0),
        }
    }
}

impl Representation for TestRep {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        _rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        let n = factors.len();
        let k = factors.first().map_or(0, Vec::len);
        // The observation of IdentityObservations is the factor row (values 1..=10).
        let observation = Array2::from_shape_fn((n, k), |(r, c)| f64::from(factors[r][c]));
        Ok(match self.kind {
            Kind::Identity => observation,
            Kind::Zeros => Array2::zeros((n, k)),
            Kind::Duplicated => ndarray::concatenate![Axis(1), observation, observation],
            Kind::Shuffled => {
                let mut codes = observation;
                for mut row in codes.rows_mut() {
                    let mut values = row.to_vec();
                    self.shuffle_rng.shuffle(&mut values);
                    row.assign(&ndarray::Array1::from(values));
                }
                codes
            }
        })
    }

    fn dim(&self) -> usize {
        match self.kind {
            Kind::Duplicated => 20,
            _ => 10,
        }
    }
}

fn run(config: MetricConfig, kind: Kind) -> BTreeMap<String, f64> {
    let mut rep = TestRep::new(kind);
    let mut rng = RandomState::new(0);
    let data: Box<dyn GroundTruthData> = Box::new(IdentityObservations::reference());
    match evaluate(&config, &*data, &mut rep, &mut rng) {
        Ok(scores) => scores,
        Err(error) => panic!("{} failed: {error}", config.name()),
    }
}

fn assert_in(scores: &BTreeMap<String, f64>, key: &str, low: f64, high: f64) {
    let value = scores.get(key).copied().unwrap_or(f64::NAN);
    assert!(
        (low..=high).contains(&value),
        "{key} = {value}, expected in [{low}, {high}]"
    );
}

/// Within 0.01 of the reference's value on the same points, for metrics with a fitted classifier: the
/// classifiers reach scikit-learn's optimum only to solver tolerance (logistic regression) or break
/// split ties differently (boosting), and 0.01 is the agreement the issue asks for.
fn assert_near_reference(scores: &BTreeMap<String, f64>, key: &str, reference: f64) {
    let value = scores.get(key).copied().unwrap_or(f64::NAN);
    assert!(
        (value - reference).abs() < 0.01,
        "{key} = {value}, the reference computes {reference}"
    );
}

/// The value the reference computes on the same points (see the module docs for the tolerance).
fn assert_reference(scores: &BTreeMap<String, f64>, key: &str, reference: f64) {
    let value = scores.get(key).copied().unwrap_or(f64::NAN);
    assert!(
        (value - reference).abs() < 1e-9,
        "{key} = {value}, the reference computes {reference}"
    );
}

#[test]
fn beta_vae_identity() {
    let config = MetricConfig::BetaVae(BetaVaeConfig {
        batch_size: 5,
        num_train: 2000,
        num_eval: 2000,
    });
    let scores = run(config, Kind::Identity);
    assert_in(&scores, "train_accuracy", 0.9, 1.0);
    assert_in(&scores, "eval_accuracy", 0.9, 1.0);
    assert_near_reference(&scores, "train_accuracy", 1.0);
    assert_near_reference(&scores, "eval_accuracy", 1.0);
}

fn factor_vae_test_config() -> MetricConfig {
    MetricConfig::FactorVae(FactorVaeConfig {
        batch_size: 5,
        num_train: 3000,
        num_eval: 2000,
        num_variance_estimate: 2500,
        prune_threshold: 0.0,
    })
}

#[test]
fn factor_vae_identity_and_zeros() {
    let good = run(factor_vae_test_config(), Kind::Identity);
    assert_in(&good, "train_accuracy", 0.9, 1.0);
    assert_in(&good, "eval_accuracy", 0.9, 1.0);
    assert_reference(&good, "train_accuracy", 0.9993333333333333);
    assert_reference(&good, "eval_accuracy", 0.9995);
    let bad = run(factor_vae_test_config(), Kind::Zeros);
    assert_in(&bad, "train_accuracy", 0.0, 0.2);
    assert_in(&bad, "eval_accuracy", 0.0, 0.2);
    // All-NaN ratios: the reference's argmin takes dimension 0, and so does the documented rule here.
    assert_reference(&bad, "train_accuracy", 0.10566666666666667);
    assert_reference(&bad, "eval_accuracy", 0.115);
    // With the threshold 0 every dimension is active, also the constant ones.
    assert_eq!(bad.get("num_active_dims"), Some(&10.0));
}

#[test]
fn factor_vae_study_threshold_prunes_constant_codes() {
    let config = MetricConfig::FactorVae(FactorVaeConfig {
        batch_size: 5,
        num_train: 100,
        num_eval: 100,
        num_variance_estimate: 500,
        prune_threshold: 0.05,
    });
    let scores = run(config, Kind::Zeros);
    assert_eq!(scores.get("num_active_dims"), Some(&0.0));
    assert_eq!(scores.get("train_accuracy"), Some(&0.0));
}

fn mig_test_config() -> MetricConfig {
    MetricConfig::Mig(MigConfig {
        num_train: 3000,
        batch_size: 16,
        discretizer: Discretizer::Identity,
    })
}

#[test]
fn mig_identity_zeros_duplicated() {
    let good = run(mig_test_config(), Kind::Identity);
    assert_in(&good, "discrete_mig", 0.9, 1.0);
    assert_reference(&good, "discrete_mig", 0.9921594901376567);
    assert_in(
        &run(mig_test_config(), Kind::Zeros),
        "discrete_mig",
        0.0,
        0.2,
    );
    assert_in(
        &run(mig_test_config(), Kind::Duplicated),
        "discrete_mig",
        0.0,
        0.1,
    );
}

fn sap_test_config() -> MetricConfig {
    MetricConfig::Sap(SapConfig {
        num_train: 3000,
        num_test: 3000,
        batch_size: 16,
        continuous_factors: true,
    })
}

#[test]
fn sap_identity_zeros_duplicated() {
    let good = run(sap_test_config(), Kind::Identity);
    assert_in(&good, "SAP_score", 0.9, 1.0);
    assert_reference(&good, "SAP_score", 0.9990703935150818);
    assert_in(&run(sap_test_config(), Kind::Zeros), "SAP_score", 0.0, 0.2);
    assert_in(
        &run(sap_test_config(), Kind::Duplicated),
        "SAP_score",
        0.0,
        0.2,
    );
}

fn irs_test_config() -> MetricConfig {
    MetricConfig::Irs(IrsConfig {
        num_train: 3000,
        batch_size: 3000,
        discretizer: Discretizer::Identity,
        diff_quantile: 0.99,
    })
}

#[test]
fn irs_identity_and_zeros() {
    let good = run(irs_test_config(), Kind::Identity);
    assert_in(&good, "IRS", 0.9, 1.0);
    assert_reference(&good, "IRS", 1.0);
    // The reference reports 164846 here (the sum of the codes); the count is reported instead.
    assert_eq!(good.get("num_active_dims"), Some(&10.0));
    let bad = run(irs_test_config(), Kind::Zeros);
    assert_in(&bad, "IRS", 0.0, 0.1);
    assert_eq!(bad.get("num_active_dims"), Some(&0.0));
}

#[test]
fn irs_drops_constant_dims() {
    // irs_test.test_drop_constant_dims: 100×100 normal codes with dims 0 and 99 constant → dims 1..=98.
    let mut rng = RandomState::new(0);
    let mut codes = Array2::from_shape_fn((100, 100), |_| rng.standard_normal());
    codes.column_mut(0).fill(1.0);
    codes.column_mut(99).fill(-3.0);
    assert_eq!(
        disc_metrics::irs::active_dims(codes.view()),
        (1..99).collect::<Vec<_>>()
    );
}

fn dci_test_config() -> MetricConfig {
    MetricConfig::Dci(DciConfig {
        num_train: 1000,
        num_test: 1000,
        batch_size: 16,
    })
}

#[test]
fn dci_identity_shuffled_duplicated() {
    let good = run(dci_test_config(), Kind::Identity);
    assert_in(&good, "disentanglement", 0.9, 1.0);
    assert_in(&good, "completeness", 0.9, 1.0);
    for (key, reference) in [
        ("informativeness_train", 1.0),
        ("informativeness_test", 1.0),
        ("disentanglement", 0.9999999989708976),
        ("completeness", 0.9999999989708975),
    ] {
        assert_near_reference(&good, key, reference);
    }
    let bad = run(dci_test_config(), Kind::Shuffled);
    assert_in(&bad, "disentanglement", 0.0, 0.2);
    assert_in(&bad, "completeness", 0.0, 0.2);
    for (key, reference) in [
        ("informativeness_train", 0.9077000000000002),
        ("informativeness_test", 0.20580000000000004),
        ("disentanglement", 0.002086272903981238),
        ("completeness", 0.0022428947157961845),
    ] {
        assert_near_reference(&bad, key, reference);
    }
    let duplicated = run(dci_test_config(), Kind::Duplicated);
    assert_in(&duplicated, "disentanglement", 0.9, 1.0);
    let target = 1.0 - 2f64.ln() / 10f64.ln();
    assert_in(&duplicated, "completeness", target - 0.1, target + 0.1);
    assert_near_reference(&duplicated, "disentanglement", 0.9999999979964588);
    // Which copy of a code a tree splits on is a tie; the reference breaks it at random, so its
    // completeness (0.7706) is one draw. Ours takes the first copy, which the interval above covers.
    assert_in(&duplicated, "informativeness_test", 0.99, 1.0);
}

fn modularity_test_config(n: usize) -> MetricConfig {
    MetricConfig::Modularity(ModularityConfig {
        num_train: n,
        num_test: n,
        batch_size: 16,
        discretizer: Discretizer::Identity,
    })
}

#[test]
fn modularity_identity_shuffled_duplicated() {
    let good = run(modularity_test_config(3000), Kind::Identity);
    assert_in(&good, "modularity_score", 0.9, 1.0);
    assert_reference(&good, "modularity_score", 0.9999593184149763);
    assert_near_reference(&good, "explicitness_score_train", 0.9999394596100141);
    assert_near_reference(&good, "explicitness_score_test", 0.999896541304858);
    let shuffled = run(modularity_test_config(20000), Kind::Shuffled);
    assert_in(&shuffled, "modularity_score", 0.0, 0.2);
    assert_reference(&shuffled, "modularity_score", 0.17350712608929358);
    assert_near_reference(&shuffled, "explicitness_score_train", 0.5915186694224611);
    assert_near_reference(&shuffled, "explicitness_score_test", 0.5854481462673571);
    let duplicated = run(modularity_test_config(3000), Kind::Duplicated);
    assert_in(&duplicated, "modularity_score", 0.9, 1.0);
    assert_reference(&duplicated, "modularity_score", 0.9999593184149763);
    assert_near_reference(&duplicated, "explicitness_score_train", 0.9999999347663854);
    assert_near_reference(&duplicated, "explicitness_score_test", 0.9999999481424631);
}

#[test]
fn every_metric_is_deterministic_per_seed() {
    let space = FactorSpace::new(vec![3, 4, 5]).expect("valid sizes");
    for config in small_suite() {
        let once = noisy_linear_scores(&config, &space, 7);
        let twice = noisy_linear_scores(&config, &space, 7);
        assert_eq!(once, twice, "{} is not deterministic", config.name());
    }
}

/// Every metric at sizes small enough for a test.
fn small_suite() -> Vec<MetricConfig> {
    vec![
        MetricConfig::BetaVae(BetaVaeConfig {
            batch_size: 8,
            num_train: 200,
            num_eval: 100,
        }),
        MetricConfig::FactorVae(FactorVaeConfig {
            batch_size: 8,
            num_train: 200,
            num_eval: 100,
            num_variance_estimate: 300,
            prune_threshold: 0.05,
        }),
        MetricConfig::Mig(MigConfig {
            num_train: 500,
            ..MigConfig::default()
        }),
        MetricConfig::Sap(SapConfig {
            num_train: 400,
            num_test: 200,
            ..SapConfig::default()
        }),
        MetricConfig::Modularity(ModularityConfig {
            num_train: 400,
            num_test: 200,
            ..ModularityConfig::default()
        }),
        MetricConfig::Dci(DciConfig {
            num_train: 300,
            num_test: 200,
            batch_size: 16,
        }),
        MetricConfig::Irs(IrsConfig {
            num_train: 500,
            ..IrsConfig::default()
        }),
        MetricConfig::Unsupervised(UnsupervisedConfig {
            num_train: 500,
            ..UnsupervisedConfig::default()
        }),
        MetricConfig::DownstreamLogisticRegression(disc_metrics::DownstreamConfig {
            num_train: vec![10, 100],
            num_test: 100,
            batch_size: 16,
        }),
        MetricConfig::DownstreamBoostedTrees(disc_metrics::DownstreamConfig {
            num_train: vec![10, 100],
            num_test: 100,
            batch_size: 16,
        }),
    ]
}

/// A 4-d code: three noisy linear read-outs of the factors plus one constant (collapsed) dimension.
struct NoisyLinear;

impl Representation for NoisyLinear {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        let mut codes = Array2::zeros((factors.len(), 4));
        for (r, row) in factors.iter().enumerate() {
            for (c, &value) in row.iter().enumerate() {
                codes[[r, c]] = f64::from(value) + 0.3 * rng.standard_normal();
            }
            codes[[r, 3]] = 0.25;
        }
        Ok(codes)
    }

    fn dim(&self) -> usize {
        4
    }
}

fn noisy_linear_scores(
    config: &MetricConfig,
    space: &FactorSpace,
    seed: u32,
) -> BTreeMap<String, f64> {
    let mut rng = RandomState::new(seed);
    match evaluate(config, space, &mut NoisyLinear, &mut rng) {
        Ok(scores) => scores,
        Err(error) => panic!("{} failed: {error}", config.name()),
    }
}

#[test]
fn collapsed_dimension_gives_finite_scores_everywhere() {
    let space = FactorSpace::new(vec![3, 4, 5]).expect("valid sizes");
    for config in small_suite() {
        let scores = noisy_linear_scores(&config, &space, 3);
        assert!(!scores.is_empty(), "{} returned nothing", config.name());
        for (key, value) in &scores {
            assert!(value.is_finite(), "{}: {key} = {value}", config.name());
        }
    }
}

#[test]
fn informative_codes_beat_uninformative_ones() {
    // A sanity check that the suite is not constant: noisy-linear codes score clearly above zeros.
    let space = FactorSpace::new(vec![3, 4, 5]).expect("valid sizes");
    let mig = MetricConfig::Mig(MigConfig {
        num_train: 1000,
        ..MigConfig::default()
    });
    let scores = noisy_linear_scores(&mig, &space, 0);
    assert_in(&scores, "discrete_mig", 0.2, 1.0);
}

/// Codes (n, 6) of noisy linear mixtures of 3 factors, and the factors, drawn with RandomState(seed).
fn noisy_arrays(n: usize, seed: u32) -> (Array2<f64>, Array2<u32>) {
    let mut rng = RandomState::new(seed);
    let space = FactorSpace::new(vec![4, 5, 6]).expect("valid sizes");
    let rows = space.sample_factors(n, &mut rng);
    let factors = Array2::from_shape_fn((n, 3), |(r, c)| rows[r][c]);
    let codes = Array2::from_shape_fn((n, 6), |(r, c)| {
        let f = |j: usize| f64::from(rows[r][j]);
        match c {
            0 => f(0),
            1 => f(1) + 0.2 * f(0),
            2 => f(2),
            3 => 0.5 * f(1),
            4 => 0.0,
            _ => 0.1 * f(2) - f(0),
        }
    }) + Array2::from_shape_fn((n, 6), |_| 0.2 * rng.standard_normal());
    (codes, factors)
}

#[test]
fn permuting_code_dimensions_leaves_mig_dci_and_modularity_unchanged() {
    let (codes, factors) = noisy_arrays(1500, 11);
    let permutation = [3usize, 0, 5, 1, 4, 2];
    let permuted = codes.select(Axis(1), &permutation);
    let checks: [(MetricConfig, &[&str]); 3] = [
        (MetricConfig::Mig(MigConfig::default()), &["discrete_mig"]),
        (
            MetricConfig::Dci(DciConfig {
                num_train: 1000,
                num_test: 500,
                batch_size: 16,
            }),
            &["disentanglement", "completeness", "informativeness_test"],
        ),
        (
            MetricConfig::Modularity(ModularityConfig {
                num_train: 1000,
                num_test: 500,
                ..ModularityConfig::default()
            }),
            &["modularity_score"],
        ),
    ];
    for (config, keys) in checks {
        let mut rng = RandomState::new(0);
        let a = evaluate_arrays(&config, codes.view(), factors.view(), None, &mut rng)
            .expect("valid arrays");
        let b = evaluate_arrays(&config, permuted.view(), factors.view(), None, &mut rng)
            .expect("valid arrays");
        for key in keys {
            let (x, y) = (a.scores[*key], b.scores[*key]);
            // MIG and modularity are sums of the same terms in another order: equal to 1e-9. DCI's trees
            // see the same split candidates, but in small deep nodes several features can cut off the
            // same samples with exactly the same gain; the tie goes to the lowest feature index (in
            // scikit-learn to a random one), so the importance can move between tied features. That
            // moves D and C by well under 0.01 (observed 6e-4); 0.01 is the tolerance the issue sets for
            // agreement with the reference.
            let tolerance = if matches!(config, MetricConfig::Dci(_)) {
                0.01
            } else {
                1e-9
            };
            assert!(
                (x - y).abs() < tolerance,
                "{}: {key} {x} vs {y} after permuting codes",
                config.name()
            );
        }
    }
}

#[test]
fn arrays_refuse_interventional_metrics_without_grid() {
    let (codes, factors) = noisy_arrays(200, 1);
    let mut rng = RandomState::new(0);
    let config = MetricConfig::BetaVae(BetaVaeConfig::default());
    let error = evaluate_arrays(&config, codes.view(), factors.view(), None, &mut rng);
    assert!(
        matches!(
            error,
            Err(MetricError::GridRequired {
                metric: "beta_vae_sklearn"
            })
        ),
        "{error:?}"
    );
}

#[test]
fn arrays_run_interventional_metrics_on_a_grid_in_any_order_but_not_an_incomplete_one() {
    let space = FactorSpace::new(vec![3, 4, 5]).expect("valid sizes");
    let cells = 60;
    let factors = Array2::from_shape_fn((cells, 3), |(r, c)| space.unravel(r as u64)[c]);
    let codes = factors.mapv(f64::from);
    let config = MetricConfig::BetaVae(BetaVaeConfig {
        batch_size: 8,
        num_train: 300,
        num_eval: 200,
    });
    let mut rng = RandomState::new(0);
    let result = evaluate_arrays(
        &config,
        codes.view(),
        factors.view(),
        Some(&space),
        &mut rng,
    )
    .expect("a complete grid");
    assert_in(&result.scores, "eval_accuracy", 0.9, 1.0);

    // The same grid with its rows (codes and factors together) reversed: a user's labelled data
    // in its own order. Codes are looked up by combination, so the scores are those of the
    // row-major grid, draw for draw.
    let order: Vec<usize> = (0..cells).rev().collect();
    let shuffled_codes = codes.select(Axis(0), &order);
    let shuffled_factors = factors.select(Axis(0), &order);
    let mut rng = RandomState::new(0);
    let shuffled = evaluate_arrays(
        &config,
        shuffled_codes.view(),
        shuffled_factors.view(),
        Some(&space),
        &mut rng,
    )
    .expect("a complete grid in another order");
    assert_eq!(shuffled.scores, result.scores);
    // A combination with two rows is a grid too (one of the rows is drawn each time it is asked
    // for; here both hold the same code, so the score stays that of a perfect representation).
    let twice: Vec<usize> = std::iter::once(0).chain(0..cells).collect();
    let doubled = evaluate_arrays(
        &config,
        codes.select(Axis(0), &twice).view(),
        factors.select(Axis(0), &twice).view(),
        Some(&space),
        &mut RandomState::new(0),
    )
    .expect("a complete grid with a repeated combination");
    assert_in(&doubled.scores, "eval_accuracy", 0.9, 1.0);

    // Without the combination (0, 0, 0) the rows are not a complete grid.
    let missing: Vec<usize> = (1..cells).collect();
    let error = evaluate_arrays(
        &config,
        codes.select(Axis(0), &missing).view(),
        factors.select(Axis(0), &missing).view(),
        Some(&space),
        &mut rng,
    );
    assert!(
        matches!(
            &error,
            Err(MetricError::GridIncomplete { present: 59, missing, .. }) if missing == &vec![0, 0, 0]
        ),
        "{error:?}"
    );
}

#[test]
fn arrays_clip_sizes_and_report_it() {
    let (codes, factors) = noisy_arrays(300, 2);
    let mut rng = RandomState::new(0);
    let config = MetricConfig::Dci(DciConfig::default());
    let result = evaluate_arrays(&config, codes.view(), factors.view(), None, &mut rng)
        .expect("valid arrays");
    // 300 rows split 10000:5000 → 200 train, 100 test.
    let used: Vec<(&str, usize)> = result
        .adjustments
        .iter()
        .map(|a| (a.parameter, a.used))
        .collect();
    assert_eq!(used, vec![("num_train", 200), ("num_test", 100)]);
    assert!(result.scores["informativeness_test"] > 0.3);
}

#[test]
fn arrays_refuse_bad_input() {
    let (mut codes, factors) = noisy_arrays(100, 3);
    let mut rng = RandomState::new(0);
    let config = MetricConfig::Mig(MigConfig::default());
    codes[[7, 2]] = f64::NAN;
    let error = evaluate_arrays(&config, codes.view(), factors.view(), None, &mut rng);
    assert!(
        matches!(
            error,
            Err(MetricError::NonFiniteCode {
                row: 7,
                column: 2,
                ..
            })
        ),
        "{error:?}"
    );

    let (codes, mut factors) = noisy_arrays(100, 3);
    factors.column_mut(1).fill(2);
    let error = evaluate_arrays(&config, codes.view(), factors.view(), None, &mut rng);
    assert!(
        matches!(
            error,
            Err(MetricError::ConstantFactor {
                factor: 1,
                value: 2,
                ..
            })
        ),
        "{error:?}"
    );

    let error = evaluate_arrays(
        &config,
        codes.slice(ndarray::s![..1, ..]),
        factors.slice(ndarray::s![..1, ..]),
        None,
        &mut rng,
    );
    assert!(
        matches!(error, Err(MetricError::TooFewRows { .. })),
        "{error:?}"
    );
}

#[test]
fn downstream_scores_a_single_training_class_with_a_constant_predictor() {
    use disc_metrics::downstream::{Predictor, score_size};
    let train_codes = Array2::from_shape_fn((10, 2), |(r, c)| (r * (c + 1)) as f64);
    let train_factors =
        Array2::from_shape_fn((10, 2), |(r, c)| if c == 0 { 3 } else { (r % 2) as u32 });
    let test_codes = Array2::from_shape_fn((4, 2), |(r, c)| (r + c) as f64);
    let test_factors = ndarray::array![[3, 0], [3, 1], [1, 0], [2, 1]];
    let mut scores = BTreeMap::new();
    score_size(
        Predictor::BoostedTrees,
        10,
        (train_codes.view(), train_factors.view()),
        (test_codes.view(), test_factors.view()),
        &mut scores,
    )
    .expect("a single training class is scored, not refused");
    assert_eq!(scores["10:train_accuracy_factor_0"], 1.0);
    assert_eq!(scores["10:test_accuracy_factor_0"], 0.5);
    assert!(scores.contains_key("10:test_accuracy_factor_1"));
}

/// Codes computed from the factor rows themselves: a noisy linear read-out whose noise is a hash of the
/// row, so the same cell always gets the same code (as a grid array holds it).
struct ReadOut;

fn read_out(row: &[u32]) -> Vec<f64> {
    let hash = row
        .iter()
        .fold(17u64, |h, &v| h.wrapping_mul(31).wrapping_add(u64::from(v)));
    let noise = |k: u64| ((hash.wrapping_mul(7919).wrapping_add(k * 104_729)) % 1000) as f64 / 1e3;
    let f = |i: usize| f64::from(row[i]);
    vec![
        f(0) + 0.2 * f(1) + noise(0),
        f(1) - 0.3 * f(2) + noise(1),
        f(2) + noise(2),
    ]
}

impl Representation for ReadOut {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        _rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        let mut codes = Array2::zeros((factors.len(), 3));
        for (mut target, row) in codes.axis_iter_mut(Axis(0)).zip(factors) {
            for (t, v) in target.iter_mut().zip(read_out(row)) {
                *t = v;
            }
        }
        Ok(codes)
    }

    fn dim(&self) -> usize {
        3
    }
}

/// On a declared grid, every metric (observational ones included) must see exactly the points the
/// reference would draw from the dataset: `evaluate_arrays` on the grid's rows, sorted row-major, equals
/// `evaluate` with a representation that computes each drawn cell's code, for the same seed.
#[test]
fn grid_arrays_sample_like_the_dataset_for_every_metric() {
    let space = FactorSpace::new(vec![3, 4, 5]).expect("valid sizes");
    let cells = space.num_cells() as usize;
    let mut factors = Array2::<u32>::zeros((cells, 3));
    let mut codes = Array2::<f64>::zeros((cells, 3));
    for index in 0..cells {
        let (a, rest) = (index / 20, index % 20);
        let row = [a as u32, (rest / 5) as u32, (rest % 5) as u32];
        for (column, (&value, code)) in row.iter().zip(read_out(&row)).enumerate() {
            factors[[index, column]] = value;
            codes[[index, column]] = code;
        }
    }
    for config in small_suite() {
        let mut grid_rng = RandomState::new(7);
        let from_arrays = evaluate_arrays(
            &config,
            codes.view(),
            factors.view(),
            Some(&space),
            &mut grid_rng,
        )
        .expect("grid arrays evaluate");
        assert_eq!(from_arrays.sampling, disc_metrics::Sampling::GridDraws);
        assert!(from_arrays.adjustments.is_empty(), "{}", config.name());
        let mut rng = RandomState::new(7);
        let direct = evaluate(&config, &space, &mut ReadOut, &mut rng).expect("dataset evaluates");
        assert_eq!(from_arrays.scores, direct, "{}", config.name());
    }
}
