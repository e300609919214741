//! Evaluation settings: `evaluation` (metrics, representations, seed, visuals), `visuals`, the
//! representations `mean` and `sampled`, and the downstream predictors.

use super::{Args, DefaultValue, Prim, checked, optional, optional_list, required_list};
use crate::eval::{Eval, Poisoned};
use crate::plan::{EvalSpec, MetricSpec, Predictor, Representation, Visuals};
use crate::value::{Type, Value};

/// What an experiment is evaluated with when it names only `metrics` (or nothing): each metric on
/// the encoder means, seed 0, no images; `evaluation(metrics: ...)` with every other default.
pub(crate) fn default_evaluation(metrics: Vec<MetricSpec>) -> EvalSpec {
    EvalSpec {
        representations: vec![Representation::Mean],
        metrics,
        seed: 0,
        repeat_seeds: Vec::new(),
        visuals: NO_VISUALS,
    }
}

/// No images: `visuals(reconstructions: 0, samples: 0, traversal_steps: 0)`.
const NO_VISUALS: Visuals = Visuals {
    reconstructions: 0,
    samples: 0,
    traversal_steps: 0,
    traversal_limit: 2.0,
};

/// The evaluation primitives.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "evaluation",
        bare: true,
        doc: "The metrics of a job, the representations they score, their seed and the images written.",
        params: &[
            required_list("metrics", Type::Metric),
            optional_list(
                "representation",
                Type::Representation,
                DefaultValue::Written("[mean]", || {
                    Value::List(vec![Value::Representation(Representation::Mean)])
                }),
            ),
            optional_list(
                "seed",
                Type::Int,
                DefaultValue::Written("[0]", || Value::List(vec![Value::Int(0)])),
            ),
            optional(
                "visuals",
                Type::Visuals,
                DefaultValue::Written(
                    "visuals(reconstructions: 0, samples: 0, traversal_steps: 0)",
                    || Value::Visuals(NO_VISUALS),
                ),
            ),
        ],
        build: evaluation,
    },
    Prim {
        name: "visuals",
        bare: true,
        doc: "Images written after training: reconstructions, samples and latent traversals (0 = none).",
        params: &[
            optional("reconstructions", Type::Int, DefaultValue::Int(16)),
            optional("samples", Type::Int, DefaultValue::Int(16)),
            optional("traversal_steps", Type::Int, DefaultValue::Int(10)),
            optional("traversal_limit", Type::Float, DefaultValue::Float(2.0)),
        ],
        build: |a| {
            let mut e = false;
            let visuals = Visuals {
                reconstructions: a.u32_at_least("reconstructions", 0, &mut e),
                samples: a.u32_at_least("samples", 0, &mut e),
                traversal_steps: a.u32_at_least("traversal_steps", 0, &mut e),
                traversal_limit: a.float_where(
                    "traversal_limit",
                    |v| v > 0.0 && v.is_finite(),
                    "> 0",
                    &mut e,
                ),
            };
            checked(Value::Visuals(visuals), e)
        },
    },
    Prim {
        name: "mean",
        bare: true,
        doc: "The encoder's means as the representation.",
        params: &[],
        build: |_| Ok(Value::Representation(Representation::Mean)),
    },
    Prim {
        name: "sampled",
        bare: true,
        doc: "A sample of the encoder's posterior as the representation.",
        params: &[],
        build: |_| Ok(Value::Representation(Representation::Sampled)),
    },
    Prim {
        name: "logistic_regression_cv",
        bare: true,
        doc: "Cross-validated logistic regression (the reference's downstream predictor).",
        params: &[],
        build: |_| Ok(Value::Predictor(Predictor::LogisticRegressionCv)),
    },
    Prim {
        name: "gradient_boosting",
        bare: true,
        doc: "Gradient-boosted trees as the downstream predictor.",
        params: &[],
        build: |_| Ok(Value::Predictor(Predictor::GradientBoosting)),
    },
];

fn evaluation(a: &Args<'_>) -> Eval<Value> {
    let mut e = false;
    let mut metrics = Vec::new();
    let mut locs = Vec::new();
    if let Some(Value::List(items)) = a.value("metrics") {
        for m in items {
            if let Value::Metric(mv) = m {
                metrics.push(mv.spec);
                locs.push(mv.loc);
            }
        }
    }
    let mut representations: Vec<Representation> = match a.value("representation") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Representation(r) => Some(*r),
                _ => None,
            })
            .collect(),
        _ => return Err(Poisoned),
    };
    // Keep the first occurrence of each representation, in the order written.
    let mut seen = Vec::new();
    representations.retain(|r| {
        let first = !seen.contains(r);
        seen.push(*r);
        first
    });
    if representations.is_empty() {
        a.ctx.out_of_range(
            a.loc("representation"),
            "representation",
            "an empty list",
            "`mean`, `sampled` or both",
        );
        e = true;
    }
    // One metric seed, or several: each scores every metric again (the β-VAE paper scores
    // each model with several classifier seeds).
    let seeds: Vec<i64> = a.int_list("seed");
    let mut distinct = seeds.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if seeds.is_empty()
        || distinct.len() < seeds.len()
        || seeds.iter().any(|s| *s < 0 || *s > i64::from(u32::MAX))
    {
        a.ctx.out_of_range(
            a.loc("seed"),
            "seed",
            "this list",
            "a seed or a non-empty list of distinct seeds, each from 0 to 4294967295",
        );
        e = true;
    }
    let mut seeds = seeds.into_iter().map(|s| u64::try_from(s).unwrap_or(0));
    let seed = seeds.next().unwrap_or(0);
    let repeat_seeds: Vec<u64> = seeds.collect();
    let Some(Value::Visuals(visuals)) = a.value("visuals") else {
        return Err(Poisoned);
    };
    checked(
        Value::Evaluation(
            Box::new(EvalSpec {
                representations,
                metrics,
                seed,
                repeat_seeds,
                visuals,
            }),
            locs,
        ),
        e,
    )
}
