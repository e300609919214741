//! Disentanglement metrics, reached as `prim.NAME` (their reference settings are the stdlib's
//! `std.metrics` definitions, so every parameter is required here).

use super::{Args, Prim, checked, required, required_list};
use crate::eval::Eval;
use crate::plan::{MetricSpec, Predictor};
use crate::value::{MetricValue, Type, Value};

/// The metric primitives.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "beta_vae_score",
        bare: false,
        doc: "The β-VAE score: accuracy of a linear classifier of the fixed factor from code differences.",
        params: &[
            required("batch_size", Type::Int),
            required("num_train", Type::Int),
            required("num_eval", Type::Int),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::BetaVae {
                batch_size: positive(a, "batch_size", &mut e),
                num_train: positive(a, "num_train", &mut e),
                num_eval: positive(a, "num_eval", &mut e),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "factor_vae_score",
        bare: false,
        doc: "The FactorVAE score: majority-vote accuracy from the code dimension of least variance.",
        params: &[
            required("batch_size", Type::Int),
            required("num_train", Type::Int),
            required("num_eval", Type::Int),
            required("num_variance_estimate", Type::Int),
            required("prune_threshold", Type::Float),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::FactorVae {
                batch_size: a.u32_at_least("batch_size", 2, &mut e),
                num_train: positive(a, "num_train", &mut e),
                num_eval: positive(a, "num_eval", &mut e),
                num_variance_estimate: a.u32_at_least("num_variance_estimate", 2, &mut e),
                prune_threshold: a.float_where("prune_threshold", |t| t >= 0.0, ">= 0", &mut e),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "mig",
        bare: false,
        doc: "The mutual information gap.",
        params: &[
            required("num_train", Type::Int),
            required("batch_size", Type::Int),
            required("num_bins", Type::Int),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::Mig {
                num_train: positive(a, "num_train", &mut e),
                batch_size: positive(a, "batch_size", &mut e),
                num_bins: bins(a, &mut e),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "sap",
        bare: false,
        doc: "The separated attribute predictability score.",
        params: &[
            required("num_train", Type::Int),
            required("num_test", Type::Int),
            required("batch_size", Type::Int),
            required("continuous_factors", Type::Bool),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::Sap {
                num_train: positive(a, "num_train", &mut e),
                num_test: positive(a, "num_test", &mut e),
                batch_size: positive(a, "batch_size", &mut e),
                continuous_factors: a.boolean("continuous_factors"),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "modularity",
        bare: false,
        doc: "Modularity and explicitness (Ridgeway and Mozer 2018).",
        params: &[
            required("num_train", Type::Int),
            required("num_test", Type::Int),
            required("batch_size", Type::Int),
            required("num_bins", Type::Int),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::ModularityExplicitness {
                num_train: positive(a, "num_train", &mut e),
                num_test: positive(a, "num_test", &mut e),
                batch_size: positive(a, "batch_size", &mut e),
                num_bins: bins(a, &mut e),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "dci",
        bare: false,
        doc: "Disentanglement, completeness and informativeness (Eastwood and Williams 2018).",
        params: &[
            required("num_train", Type::Int),
            required("num_test", Type::Int),
            required("batch_size", Type::Int),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::Dci {
                num_train: positive(a, "num_train", &mut e),
                num_test: positive(a, "num_test", &mut e),
                batch_size: positive(a, "batch_size", &mut e),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "irs",
        bare: false,
        doc: "The interventional robustness score.",
        params: &[
            required("num_train", Type::Int),
            required("batch_size", Type::Int),
            required("diff_quantile", Type::Float),
            required("num_bins", Type::Int),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::Irs {
                num_train: positive(a, "num_train", &mut e),
                batch_size: positive(a, "batch_size", &mut e),
                diff_quantile: a.float_where(
                    "diff_quantile",
                    |q| q > 0.0 && q <= 1.0,
                    "in (0, 1]",
                    &mut e,
                ),
                num_bins: bins(a, &mut e),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "unsupervised",
        bare: false,
        doc: "Unsupervised scores of the code: Gaussian total correlation, Wasserstein correlation and mutual information.",
        params: &[
            required("num_train", Type::Int),
            required("batch_size", Type::Int),
            required("num_bins", Type::Int),
        ],
        build: |a| {
            let mut e = false;
            let spec = MetricSpec::Unsupervised {
                num_train: positive(a, "num_train", &mut e),
                batch_size: positive(a, "batch_size", &mut e),
                num_bins: bins(a, &mut e),
            };
            metric(a, spec, e)
        },
    },
    Prim {
        name: "downstream",
        bare: false,
        doc: "Downstream accuracy of a predictor of each factor, for each training-set size.",
        params: &[
            required_list("num_train", Type::Int),
            required("num_test", Type::Int),
            required("batch_size", Type::Int),
            required("predictor", Type::Predictor),
        ],
        build: downstream,
    },
];

/// A positive count, as `u32`.
fn positive(a: &Args<'_>, name: &str, errors: &mut bool) -> u32 {
    a.u32_at_least(name, 1, errors)
}

/// `num_bins`: at least two bins.
fn bins(a: &Args<'_>, errors: &mut bool) -> u32 {
    a.u32_at_least("num_bins", 2, errors)
}

/// The metric at the call, unless a check failed.
fn metric(a: &Args<'_>, spec: MetricSpec, errors: bool) -> Eval<Value> {
    checked(Value::Metric(MetricValue { spec, loc: a.call }), errors)
}

fn downstream(a: &Args<'_>) -> Eval<Value> {
    let mut e = false;
    let sizes = a.int_list("num_train");
    if sizes.is_empty() || sizes.iter().any(|s| *s < 1 || *s > i64::from(u32::MAX)) {
        a.ctx.out_of_range(
            a.loc("num_train"),
            "num_train",
            "this list",
            "a non-empty list of positive sizes",
        );
        e = true;
    }
    let spec = MetricSpec::Downstream {
        num_train: sizes
            .iter()
            .map(|s| u32::try_from(*s).unwrap_or(1))
            .collect(),
        num_test: positive(a, "num_test", &mut e),
        batch_size: positive(a, "batch_size", &mut e),
        predictor: match a.value("predictor") {
            Some(Value::Predictor(p)) => p,
            _ => Predictor::LogisticRegressionCv,
        },
    };
    metric(a, spec, e)
}
