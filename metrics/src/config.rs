//! Metric configurations: one struct per metric with the reference study's defaults, and [`MetricConfig`]
//! over all of them.
//!
//! `Default` gives the values of `disentanglement_lib`'s `unsupervised_study_v1` gin configs (IRS, which
//! is not in that study, takes its `config/sample/irs` values). The field names follow the gin parameter
//! names so a plan or a paper can be compared line by line. This module holds data and validation only.

use serde::{Deserialize, Serialize};

use crate::error::MetricError;

/// How codes (and, for IRS, factors) are turned into discrete labels before mutual information.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discretizer {
    /// `histogram_discretizer`: `num_bins` equal-width bins over each column's own [min, max]
    /// (numpy's `histogram` edges and `digitize`), labels 1..=num_bins.
    Histogram {
        /// Number of bins (20 in every study config).
        num_bins: usize,
    },
    /// The identity: every distinct value is its own label (the reference's unit tests use it).
    Identity,
}

impl Default for Discretizer {
    fn default() -> Self {
        Discretizer::Histogram { num_bins: 20 }
    }
}

/// BetaVAE score (`beta_vae_sklearn`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BetaVaeConfig {
    /// Points per pair batch whose mean absolute code difference is one feature vector.
    pub batch_size: usize,
    /// Feature vectors for training the logistic regression.
    pub num_train: usize,
    /// Feature vectors for `eval_accuracy`.
    pub num_eval: usize,
}

impl Default for BetaVaeConfig {
    fn default() -> Self {
        BetaVaeConfig {
            batch_size: 64,
            num_train: 10_000,
            num_eval: 5_000,
        }
    }
}

/// FactorVAE score (`factor_vae_score`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorVaeConfig {
    /// Points per vote batch (one factor held fixed).
    pub batch_size: usize,
    /// Votes for training the majority-vote classifier.
    pub num_train: usize,
    /// Votes for `eval_accuracy`.
    pub num_eval: usize,
    /// Points for the global per-dimension variance.
    pub num_variance_estimate: usize,
    /// `prune_dims.threshold`: a dimension is active when its global standard deviation is at least this.
    pub prune_threshold: f64,
}

impl Default for FactorVaeConfig {
    fn default() -> Self {
        FactorVaeConfig {
            batch_size: 64,
            num_train: 10_000,
            num_eval: 5_000,
            num_variance_estimate: 10_000,
            prune_threshold: 0.05,
        }
    }
}

/// Mutual information gap (`mig`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigConfig {
    /// Points in the sample.
    pub num_train: usize,
    /// Points drawn and encoded per batch.
    pub batch_size: usize,
    /// Discretizer of the codes.
    pub discretizer: Discretizer,
}

impl Default for MigConfig {
    fn default() -> Self {
        MigConfig {
            num_train: 10_000,
            batch_size: 16,
            discretizer: Discretizer::default(),
        }
    }
}

/// SAP score (`sap_score`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SapConfig {
    /// Training points.
    pub num_train: usize,
    /// Test points (used by the classifier variant only, but always drawn, as the reference does).
    pub num_test: usize,
    /// Points drawn and encoded per batch.
    pub batch_size: usize,
    /// `true`: squared correlation on the train set; `false` (the study): a linear SVM per code and factor.
    pub continuous_factors: bool,
}

impl Default for SapConfig {
    fn default() -> Self {
        SapConfig {
            num_train: 10_000,
            num_test: 5_000,
            batch_size: 16,
            continuous_factors: false,
        }
    }
}

/// Modularity and explicitness (`modularity_explicitness`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModularityConfig {
    /// Training points.
    pub num_train: usize,
    /// Test points.
    pub num_test: usize,
    /// Points drawn and encoded per batch.
    pub batch_size: usize,
    /// Discretizer of the codes for the mutual information.
    pub discretizer: Discretizer,
}

impl Default for ModularityConfig {
    fn default() -> Self {
        ModularityConfig {
            num_train: 10_000,
            num_test: 5_000,
            batch_size: 16,
            discretizer: Discretizer::default(),
        }
    }
}

/// DCI disentanglement, completeness and informativeness (`dci`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DciConfig {
    /// Training points.
    pub num_train: usize,
    /// Test points.
    pub num_test: usize,
    /// Points drawn and encoded per batch.
    pub batch_size: usize,
}

impl Default for DciConfig {
    fn default() -> Self {
        DciConfig {
            num_train: 10_000,
            num_test: 5_000,
            batch_size: 16,
        }
    }
}

/// Interventional robustness score (`irs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IrsConfig {
    /// Points in the sample.
    pub num_train: usize,
    /// Points drawn and encoded per batch.
    pub batch_size: usize,
    /// Discretizer applied to the factors (IRS groups points by discretised factor value).
    pub discretizer: Discretizer,
    /// Quantile of the within-group deviation (0.99).
    pub diff_quantile: f64,
}

impl Default for IrsConfig {
    fn default() -> Self {
        IrsConfig {
            num_train: 10_000,
            batch_size: 16,
            discretizer: Discretizer::default(),
            diff_quantile: 0.99,
        }
    }
}

/// Unsupervised scores (`unsupervised_metrics`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnsupervisedConfig {
    /// Points in the sample.
    pub num_train: usize,
    /// Points drawn and encoded per batch.
    pub batch_size: usize,
    /// Discretizer of the codes for `mutual_info_score`.
    pub discretizer: Discretizer,
}

impl Default for UnsupervisedConfig {
    fn default() -> Self {
        UnsupervisedConfig {
            num_train: 10_000,
            batch_size: 16,
            discretizer: Discretizer::default(),
        }
    }
}

/// Downstream task (`downstream_task`), for either predictor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownstreamConfig {
    /// Training-set sizes; each gets a fresh train and test set and its own key prefix `"<n>:"`.
    pub num_train: Vec<usize>,
    /// Test points per train size.
    pub num_test: usize,
    /// Points drawn and encoded per batch.
    pub batch_size: usize,
}

impl Default for DownstreamConfig {
    fn default() -> Self {
        DownstreamConfig {
            num_train: vec![10, 100, 1_000, 10_000],
            num_test: 5_000,
            batch_size: 16,
        }
    }
}

/// One metric of the suite with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricConfig {
    /// `beta_vae_sklearn`.
    BetaVae(BetaVaeConfig),
    /// `factor_vae_metric`.
    FactorVae(FactorVaeConfig),
    /// `mig`.
    Mig(MigConfig),
    /// `sap_score`.
    Sap(SapConfig),
    /// `modularity_explicitness`.
    Modularity(ModularityConfig),
    /// `dci`.
    Dci(DciConfig),
    /// `irs`.
    Irs(IrsConfig),
    /// `unsupervised`.
    Unsupervised(UnsupervisedConfig),
    /// `downstream_task_logistic_regression` (LogisticRegressionCV, Cs=10, KFold(5)).
    DownstreamLogisticRegression(DownstreamConfig),
    /// `downstream_task_boosted_trees` (GradientBoostingClassifier defaults).
    DownstreamBoostedTrees(DownstreamConfig),
}

/// Every metric name of the suite, in the order `disc eval` reports them.
pub const METRIC_NAMES: [&str; 10] = [
    "beta_vae_sklearn",
    "factor_vae_metric",
    "mig",
    "sap_score",
    "modularity_explicitness",
    "dci",
    "irs",
    "unsupervised",
    "downstream_task_logistic_regression",
    "downstream_task_boosted_trees",
];

impl MetricConfig {
    /// The reference's metric name (the evaluation config directory name in `unsupervised_study_v1`).
    pub fn name(&self) -> &'static str {
        match self {
            MetricConfig::BetaVae(_) => "beta_vae_sklearn",
            MetricConfig::FactorVae(_) => "factor_vae_metric",
            MetricConfig::Mig(_) => "mig",
            MetricConfig::Sap(_) => "sap_score",
            MetricConfig::Modularity(_) => "modularity_explicitness",
            MetricConfig::Dci(_) => "dci",
            MetricConfig::Irs(_) => "irs",
            MetricConfig::Unsupervised(_) => "unsupervised",
            MetricConfig::DownstreamLogisticRegression(_) => "downstream_task_logistic_regression",
            MetricConfig::DownstreamBoostedTrees(_) => "downstream_task_boosted_trees",
        }
    }

    /// The metric of that reference name with the study defaults.
    pub fn from_name(name: &str) -> Result<MetricConfig, MetricError> {
        Ok(match name {
            "beta_vae_sklearn" => MetricConfig::BetaVae(BetaVaeConfig::default()),
            "factor_vae_metric" => MetricConfig::FactorVae(FactorVaeConfig::default()),
            "mig" => MetricConfig::Mig(MigConfig::default()),
            "sap_score" => MetricConfig::Sap(SapConfig::default()),
            "modularity_explicitness" => MetricConfig::Modularity(ModularityConfig::default()),
            "dci" => MetricConfig::Dci(DciConfig::default()),
            "irs" => MetricConfig::Irs(IrsConfig::default()),
            "unsupervised" => MetricConfig::Unsupervised(UnsupervisedConfig::default()),
            "downstream_task_logistic_regression" => {
                MetricConfig::DownstreamLogisticRegression(DownstreamConfig::default())
            }
            "downstream_task_boosted_trees" => {
                MetricConfig::DownstreamBoostedTrees(DownstreamConfig::default())
            }
            other => {
                return Err(MetricError::UnknownMetric {
                    name: other.to_string(),
                });
            }
        })
    }

    /// Every metric of the suite with the study defaults, in [`METRIC_NAMES`] order.
    pub fn all_defaults() -> Vec<MetricConfig> {
        METRIC_NAMES
            .iter()
            .map(|name| {
                MetricConfig::from_name(name).expect("METRIC_NAMES lists only known metrics")
            })
            .collect()
    }

    /// `true` for the metrics that intervene on single factors (they need a sampler or a complete grid).
    pub fn is_interventional(&self) -> bool {
        matches!(self, MetricConfig::BetaVae(_) | MetricConfig::FactorVae(_))
    }

    /// Checks every parameter's domain, so a metric never divides by a zero size.
    pub fn validate(&self) -> Result<(), MetricError> {
        let metric = self.name();
        let positive = |parameter: &'static str, value: usize| {
            if value == 0 {
                Err(MetricError::InvalidConfig {
                    metric,
                    parameter,
                    value: value.to_string(),
                    reason: "must be at least 1",
                })
            } else {
                Ok(())
            }
        };
        let bins = |discretizer: &Discretizer| match discretizer {
            Discretizer::Histogram { num_bins } => positive("num_bins", *num_bins),
            Discretizer::Identity => Ok(()),
        };
        match self {
            MetricConfig::BetaVae(c) => {
                // One feature vector needs two points per batch to compare; the variance-free mean is fine
                // with one, but the classifier needs two training vectors.
                positive("batch_size", c.batch_size)?;
                positive("num_train", c.num_train)?;
                positive("num_eval", c.num_eval)
            }
            MetricConfig::FactorVae(c) => {
                if c.batch_size < 2 {
                    return Err(MetricError::InvalidConfig {
                        metric,
                        parameter: "batch_size",
                        value: c.batch_size.to_string(),
                        reason: "must be at least 2 (a vote needs a variance with ddof 1)",
                    });
                }
                if c.num_variance_estimate < 2 {
                    return Err(MetricError::InvalidConfig {
                        metric,
                        parameter: "num_variance_estimate",
                        value: c.num_variance_estimate.to_string(),
                        reason: "must be at least 2 (a variance with ddof 1)",
                    });
                }
                if !(c.prune_threshold.is_finite() && c.prune_threshold >= 0.0) {
                    return Err(MetricError::InvalidConfig {
                        metric,
                        parameter: "prune_threshold",
                        value: c.prune_threshold.to_string(),
                        reason: "must be a finite number at least 0",
                    });
                }
                positive("num_train", c.num_train)?;
                positive("num_eval", c.num_eval)
            }
            MetricConfig::Mig(c) => {
                positive("batch_size", c.batch_size)?;
                positive("num_train", c.num_train)?;
                bins(&c.discretizer)
            }
            MetricConfig::Sap(c) => {
                positive("batch_size", c.batch_size)?;
                positive("num_train", c.num_train)?;
                positive("num_test", c.num_test)
            }
            MetricConfig::Modularity(c) => {
                positive("batch_size", c.batch_size)?;
                positive("num_train", c.num_train)?;
                positive("num_test", c.num_test)?;
                bins(&c.discretizer)
            }
            MetricConfig::Dci(c) => {
                positive("batch_size", c.batch_size)?;
                positive("num_train", c.num_train)?;
                positive("num_test", c.num_test)
            }
            MetricConfig::Irs(c) => {
                positive("batch_size", c.batch_size)?;
                positive("num_train", c.num_train)?;
                bins(&c.discretizer)?;
                if !(c.diff_quantile > 0.0 && c.diff_quantile <= 1.0) {
                    return Err(MetricError::InvalidConfig {
                        metric,
                        parameter: "diff_quantile",
                        value: c.diff_quantile.to_string(),
                        reason: "must lie in (0, 1]",
                    });
                }
                Ok(())
            }
            MetricConfig::Unsupervised(c) => {
                positive("batch_size", c.batch_size)?;
                positive("num_train", c.num_train)?;
                bins(&c.discretizer)
            }
            MetricConfig::DownstreamLogisticRegression(c)
            | MetricConfig::DownstreamBoostedTrees(c) => {
                positive("batch_size", c.batch_size)?;
                positive("num_test", c.num_test)?;
                if c.num_train.is_empty() {
                    return Err(MetricError::InvalidConfig {
                        metric,
                        parameter: "num_train",
                        value: "[]".to_string(),
                        reason: "must list at least one training-set size",
                    });
                }
                for &size in &c.num_train {
                    positive("num_train", size)?;
                }
                Ok(())
            }
        }
    }
}
