//! Decoder likelihoods (`bernoulli`, `l2`, `gaussian`) with their output activations and
//! variances, and the priors of InfoGAN codes (`categorical`, `uniform`, `normal`).

use super::{Args, DefaultValue, Param, Prim, checked, optional, required};
use crate::eval::Eval;
use crate::plan::{CodePrior, OutputActivation, Reconstruction, Variance};
use crate::value::{Type, Value};

/// The output activation of a likelihood, `logits` when left out.
const ACTIVATION: Param = optional(
    "activation",
    Type::OutputActivation,
    DefaultValue::Written("logits", || {
        Value::OutputActivation(OutputActivation::Logits)
    }),
);

/// The likelihood and prior primitives.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "bernoulli",
        bare: true,
        doc: "A Bernoulli likelihood of the pixels (binary cross-entropy).",
        params: &[ACTIVATION],
        build: |a| {
            Ok(Value::Reconstruction(Reconstruction::Bernoulli {
                activation: activation(a),
            }))
        },
    },
    Prim {
        name: "l2",
        bare: true,
        doc: "A squared-error reconstruction loss.",
        params: &[ACTIVATION],
        build: |a| {
            Ok(Value::Reconstruction(Reconstruction::L2 {
                activation: activation(a),
            }))
        },
    },
    Prim {
        name: "gaussian",
        bare: true,
        doc: "A Gaussian likelihood of the pixels with a fixed or learned variance.",
        params: &[
            ACTIVATION,
            optional("variance", Type::Variance, DefaultValue::Float(1.0)),
        ],
        build: gaussian,
    },
    Prim {
        name: "logits",
        bare: true,
        doc: "The decoder's output is taken as logits (no activation).",
        params: &[],
        build: |_| Ok(Value::OutputActivation(OutputActivation::Logits)),
    },
    Prim {
        name: "learned",
        bare: true,
        doc: "A variance learned with the decoder.",
        params: &[],
        build: |_| Ok(Value::LearnedVariance),
    },
    Prim {
        name: "categorical",
        bare: true,
        doc: "A uniform categorical code of `k` values.",
        params: &[required("k", Type::Int)],
        build: |a| {
            let mut e = false;
            let k = a.u32_at_least("k", 2, &mut e);
            checked(Value::Prior(CodePrior::Categorical { k }), e)
        },
    },
    Prim {
        name: "uniform",
        bare: true,
        doc: "A continuous code uniform on `[low, high]`.",
        params: &[
            optional("low", Type::Float, DefaultValue::Float(-1.0)),
            optional("high", Type::Float, DefaultValue::Float(1.0)),
        ],
        build: uniform,
    },
    Prim {
        name: "normal",
        bare: true,
        doc: "A continuous Gaussian code.",
        params: &[
            optional("mean", Type::Float, DefaultValue::Float(0.0)),
            optional("std", Type::Float, DefaultValue::Float(1.0)),
        ],
        build: |a| {
            let mut e = false;
            let mean = a.float("mean").unwrap_or_default();
            let std = a.float_where("std", |s| s > 0.0, "> 0", &mut e);
            checked(Value::Prior(CodePrior::Normal { mean, std }), e)
        },
    },
];

fn activation(a: &Args<'_>) -> OutputActivation {
    match a.value("activation") {
        Some(Value::OutputActivation(o)) => o,
        _ => OutputActivation::Logits,
    }
}

fn gaussian(a: &Args<'_>) -> Eval<Value> {
    let mut e = false;
    let activation = activation(a);
    let variance = match a.value("variance") {
        Some(Value::LearnedVariance) => Variance::Learned,
        _ => Variance::Fixed(a.float_where("variance", |v| v > 0.0, "> 0", &mut e)),
    };
    checked(
        Value::Reconstruction(Reconstruction::Gaussian {
            activation,
            variance,
        }),
        e,
    )
}

fn uniform(a: &Args<'_>) -> Eval<Value> {
    let mut e = false;
    let low = a.float("low").unwrap_or_default();
    let high = a.float_where(
        "high",
        |h| h > low,
        &format!("greater than `low` ({low})"),
        &mut e,
    );
    checked(Value::Prior(CodePrior::Uniform { low, high }), e)
}
