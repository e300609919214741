//! The built-in primitives of the language: layers, models, likelihoods, loss terms, optimizers,
//! schedules, evaluation settings, and (under `prim.` only) datasets and metrics.
//!
//! Each primitive has a typed parameter list ([`params`]) and an implementation ([`call`]) that
//! checks value ranges (E0202) and builds a [`Value`]. Reference defaults live in the stdlib `.dis`
//! files, except for the few settings that have a single sensible default (e.g. `stride: 1`).
//! This module must not resolve names or evaluate expressions.

// Matches on compile-time `Value`s end in a catch-all on purpose: every value of another type is
// a type error there. AST and plan enums are matched exhaustively.
#![allow(clippy::wildcard_enum_match_arm)]

use crate::eval::{Bound, Ctx, Eval, ParamSpec, Poisoned, as_f64};
use crate::plan::{
    Activation, CodePrior, ConditionalFamily, DataSource, DatasetKind, DatasetSpec, DipKind,
    EvalSpec, FactorSpec, GanLoss, Layer, LrSchedule, MetricSpec, Optimizer, OutputActivation,
    Padding, Predictor, Reconstruction, Representation, Variance, Visuals,
};
use crate::value::{
    Arch, GraphValue, Loc, MetricValue, ModelValue, TermValue, TrainingValue, Type, Value,
    WeightedTerm,
};

/// `(name, reachable without prim., parameters as "name:type" or "name:type?" with a default)`.
const PRIMS: &[(&str, bool, &[&str])] = &[
    // Layers.
    (
        "conv",
        true,
        &[
            "filters:int",
            "kernel:int",
            "stride:int?",
            "padding:padding?",
        ],
    ),
    (
        "deconv",
        true,
        &[
            "filters:int",
            "kernel:int",
            "stride:int?",
            "padding:padding?",
        ],
    ),
    ("dense", true, &["units:int"]),
    ("flatten", true, &[]),
    ("reshape", true, &["shape:[int]"]),
    ("relu", true, &[]),
    ("tanh", true, &[]),
    ("sigmoid", true, &[]),
    ("leaky_relu", true, &["slope:float?"]),
    ("gaussian_head", true, &["units:int"]),
    ("same", true, &[]),
    ("valid", true, &[]),
    // Models.
    (
        "vae",
        true,
        &[
            "latents:int",
            "encoder:architecture",
            "decoder:architecture",
            "recon:reconstruction?",
            "prefix:string?",
        ],
    ),
    (
        "infogan",
        true,
        &[
            "noise:int",
            "codes:record",
            "generator:architecture",
            "discriminator:architecture",
            "recognition:architecture?",
            "learned_variance:bool?",
            "optimizer:optimizer?",
            "discriminator_updates:int?",
        ],
    ),
    ("pca", true, &["components:int?", "samples:int?"]),
    (
        "ica",
        true,
        &[
            "components:int?",
            "samples:int?",
            "tol:float?",
            "max_iter:int?",
            "alpha:float?",
        ],
    ),
    // Likelihoods.
    ("bernoulli", true, &["activation:activation?"]),
    ("l2", true, &["activation:activation?"]),
    (
        "gaussian",
        true,
        &["activation:activation?", "variance:variance?"],
    ),
    ("logits", true, &[]),
    ("learned", true, &[]),
    // Code priors.
    ("categorical", true, &["k:int"]),
    ("uniform", true, &["low:float?", "high:float?"]),
    ("normal", true, &["mean:float?", "std:float?"]),
    // Loss terms.
    ("recon", true, &[]),
    ("kl", true, &[]),
    ("tc", true, &[]),
    ("gan", true, &["loss:gan_loss?"]),
    ("non_saturating", true, &[]),
    ("least_squares", true, &[]),
    ("capacity", true, &["c_max:float", "threshold:int?"]),
    (
        "discriminator_tc",
        true,
        &["discriminator:architecture?", "optimizer:optimizer?"],
    ),
    ("dip_i", true, &["lambda_od:float", "lambda_d:float"]),
    ("dip_ii", true, &["lambda_od:float", "lambda_d:float"]),
    ("info", true, &["codes:[string]?"]),
    ("structure", true, &["graph:graph?", "cpd:cpd?"]),
    ("linear_gaussian", true, &[]),
    ("nonlinear_gaussian", true, &["hidden:int?"]),
    // Training.
    ("adam", true, &["lr:float?", "betas:tuple?", "eps:float?"]),
    ("constant", true, &[]),
    (
        "exponential_decay",
        true,
        &["decay_steps:int", "rate:float", "staircase:bool?"],
    ),
    ("piecewise", true, &["boundaries:[int]", "values:[float]"]),
    (
        "training",
        true,
        &[
            "steps:int?",
            "batch:int?",
            "optimizer:optimizer?",
            "schedule:schedule?",
            "checkpoint_every:int?",
            "log_every:int?",
        ],
    ),
    // Evaluation.
    (
        "evaluation",
        true,
        &[
            "metrics:[metric]",
            "representation:[representation]?",
            "seed:[int]?",
            "visuals:visuals?",
        ],
    ),
    (
        "visuals",
        true,
        &[
            "reconstructions:int?",
            "samples:int?",
            "traversal_steps:int?",
            "traversal_limit:float?",
        ],
    ),
    ("mean", true, &[]),
    ("sampled", true, &[]),
    ("logistic_regression_cv", true, &[]),
    ("gradient_boosting", true, &[]),
    // Data.
    ("procedural", true, &[]),
    ("file", true, &["path:string"]),
    (
        "dataset",
        false,
        &[
            "name:string",
            "kind:string",
            "factors:record",
            "shape:tuple",
            "complete_grid:bool",
            "source:source?",
            "mode:string?",
            "image:string?",
        ],
    ),
    (
        "arrays",
        true,
        &[
            "images:string",
            "factors:record",
            "labels:string?",
            "images_key:string?",
            "labels_key:string?",
            "name:string?",
        ],
    ),
    // Metrics (no defaults: the reference defaults are in stdlib/metrics.dis).
    (
        "beta_vae_score",
        false,
        &["batch_size:int", "num_train:int", "num_eval:int"],
    ),
    (
        "factor_vae_score",
        false,
        &[
            "batch_size:int",
            "num_train:int",
            "num_eval:int",
            "num_variance_estimate:int",
            "prune_threshold:float",
        ],
    ),
    (
        "mig",
        false,
        &["num_train:int", "batch_size:int", "num_bins:int"],
    ),
    (
        "sap",
        false,
        &[
            "num_train:int",
            "num_test:int",
            "batch_size:int",
            "continuous_factors:bool",
        ],
    ),
    (
        "modularity",
        false,
        &[
            "num_train:int",
            "num_test:int",
            "batch_size:int",
            "num_bins:int",
        ],
    ),
    (
        "dci",
        false,
        &["num_train:int", "num_test:int", "batch_size:int"],
    ),
    (
        "irs",
        false,
        &[
            "num_train:int",
            "batch_size:int",
            "diff_quantile:float",
            "num_bins:int",
        ],
    ),
    (
        "unsupervised",
        false,
        &["num_train:int", "batch_size:int", "num_bins:int"],
    ),
    (
        "downstream",
        false,
        &[
            "num_train:[int]",
            "num_test:int",
            "batch_size:int",
            "predictor:predictor",
        ],
    ),
];

fn parse_type(text: &str) -> Type {
    match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(inner) => Type::List(Box::new(parse_type(inner))),
        // INVARIANT: every type in PRIMS is a valid type name (checked by a unit test).
        None => Type::from_name(text).unwrap_or(Type::Any),
    }
}

/// Parameters of primitive `name`, or `None` if there is no such primitive.
pub(crate) fn params(name: &str) -> Option<Vec<ParamSpec>> {
    let (_, _, ps) = PRIMS.iter().find(|(n, _, _)| *n == name)?;
    Some(
        ps.iter()
            .map(|p| {
                let (pname, rest) = p.split_once(':').unwrap_or((p, "any"));
                let (ty, has_default) = match rest.strip_suffix('?') {
                    Some(t) => (t, true),
                    None => (rest, false),
                };
                ParamSpec {
                    name: pname.to_string(),
                    ty: parse_type(ty),
                    has_default,
                }
            })
            .collect(),
    )
}

/// Whether `name` is a primitive usable without the `prim.` prefix.
pub(crate) fn is_bare(name: &str) -> bool {
    PRIMS.iter().any(|(n, bare, _)| *n == name && *bare)
}

/// Names of primitives usable without `prim.`.
pub(crate) fn bare_names() -> impl Iterator<Item = &'static str> {
    PRIMS
        .iter()
        .filter(|(_, bare, _)| *bare)
        .map(|(n, _, _)| *n)
}

/// Names of all primitives.
pub(crate) fn all_names() -> impl Iterator<Item = &'static str> {
    PRIMS.iter().map(|(n, _, _)| *n)
}

/// Bound arguments with typed accessors.
struct Args<'a> {
    ctx: &'a Ctx<'a>,
    specs: &'a [ParamSpec],
    slots: Bound,
    call: Loc,
}

impl Args<'_> {
    fn slot(&self, name: &str) -> Option<&(Value, Loc)> {
        let i = self.specs.iter().position(|p| p.name == name)?;
        self.slots.get(i)?.as_ref()
    }
    fn loc(&self, name: &str) -> Loc {
        self.slot(name).map_or(self.call, |(_, l)| *l)
    }
    fn value(&self, name: &str) -> Option<Value> {
        self.slot(name).map(|(v, _)| v.clone())
    }
    fn int(&self, name: &str, default: i64) -> i64 {
        match self.slot(name) {
            Some((Value::Int(i), _)) => *i,
            _ => default,
        }
    }
    fn float(&self, name: &str, default: f64) -> f64 {
        match self.slot(name) {
            Some((v @ (Value::Int(_) | Value::Float(_)), _)) => as_f64(v),
            _ => default,
        }
    }
    fn boolean(&self, name: &str, default: bool) -> bool {
        match self.slot(name) {
            Some((Value::Bool(b), _)) => *b,
            _ => default,
        }
    }
    fn string(&self, name: &str, default: &str) -> String {
        match self.slot(name) {
            Some((Value::Str(s), _)) => s.clone(),
            _ => default.to_string(),
        }
    }
    fn arch(&self, name: &str) -> Option<Arch> {
        match self.slot(name) {
            Some((Value::Arch(a), loc)) => Some(Arch {
                layers: a.layers.clone(),
                loc: *loc,
                layer_locs: a.layer_locs.clone(),
            }),
            _ => None,
        }
    }
    fn optimizer(&self, name: &str, default: Optimizer) -> Optimizer {
        match self.slot(name) {
            Some((Value::Optimizer(o), _)) => o.clone(),
            _ => default,
        }
    }

    /// An integer in `[min, max]`, as `u32`.
    fn u32_in(&self, name: &str, default: i64, min: i64, errors: &mut bool) -> u32 {
        let v = self.int(name, default);
        if v < min || v > i64::from(u32::MAX) {
            self.ctx.out_of_range(
                self.loc(name),
                name,
                v,
                &range_rule(min, i64::from(u32::MAX)),
            );
            *errors = true;
            return 0;
        }
        u32::try_from(v).unwrap_or(0)
    }
    /// A non-negative integer with a lower bound, as `u64`.
    fn u64_min(&self, name: &str, default: i64, min: i64, errors: &mut bool) -> u64 {
        let v = self.int(name, default);
        if v < min {
            self.ctx
                .out_of_range(self.loc(name), name, v, &format!("at least {min}"));
            *errors = true;
            return 0;
        }
        u64::try_from(v).unwrap_or(0)
    }
    /// A float satisfying `ok`, described by `rule`.
    fn float_where(
        &self,
        name: &str,
        default: f64,
        ok: impl Fn(f64) -> bool,
        rule: &str,
        errors: &mut bool,
    ) -> f64 {
        let v = self.float(name, default);
        if !ok(v) {
            self.ctx.out_of_range(self.loc(name), name, v, rule);
            *errors = true;
        }
        v
    }
}

fn range_rule(min: i64, max: i64) -> String {
    if max >= i64::from(u32::MAX) {
        format!("at least {min}")
    } else {
        format!("between {min} and {max}")
    }
}

fn term(t: TermValue, loc: Loc) -> Value {
    Value::Loss(vec![WeightedTerm {
        coefficient: 1.0,
        term: t,
        loc,
    }])
}

/// The reference Adam (TF1 defaults as configured in the study, reference §1.7).
fn adam(lr: f64, beta1: f64, beta2: f64, epsilon: f64) -> Optimizer {
    Optimizer::Adam {
        lr,
        beta1,
        beta2,
        epsilon,
    }
}

/// Calls primitive `name` with bound arguments.
pub(crate) fn call(
    ctx: &Ctx<'_>,
    name: &str,
    specs: &[ParamSpec],
    slots: Bound,
    loc: Loc,
) -> Eval<Value> {
    let a = Args {
        ctx,
        specs,
        slots,
        call: loc,
    };
    let mut e = false;
    let value = match name {
        "conv" | "deconv" => {
            let filters = a.u32_in("filters", 1, 1, &mut e);
            let kernel = a.u32_in("kernel", 1, 1, &mut e);
            let stride = a.u32_in("stride", 1, 1, &mut e);
            let padding = match a.value("padding") {
                Some(Value::Padding(p)) => p,
                _ => Padding::Same,
            };
            Value::Layer(if name == "conv" {
                Layer::Conv2d {
                    filters,
                    kernel,
                    stride,
                    padding,
                }
            } else {
                Layer::ConvTranspose2d {
                    filters,
                    kernel,
                    stride,
                    padding,
                }
            })
        }
        "dense" => Value::Layer(Layer::Dense {
            units: a.u32_in("units", 1, 1, &mut e),
        }),
        "gaussian_head" => Value::Layer(Layer::GaussianHead {
            units: a.u32_in("units", 1, 1, &mut e),
        }),
        "flatten" => Value::Layer(Layer::Flatten),
        "reshape" => {
            let shape = match a.value("shape") {
                Some(Value::List(items)) => items
                    .iter()
                    .map(|v| match v {
                        Value::Int(i) if *i >= 1 && *i <= i64::from(u32::MAX) => {
                            u32::try_from(*i).ok()
                        }
                        _ => None,
                    })
                    .collect::<Option<Vec<u32>>>(),
                _ => None,
            };
            match shape {
                Some(s) if !s.is_empty() => Value::Layer(Layer::Reshape { shape: s }),
                _ => {
                    return Err(ctx.out_of_range(
                        a.loc("shape"),
                        "shape",
                        "a non-positive dimension",
                        "a list of positive sizes",
                    ));
                }
            }
        }
        "relu" => Value::Layer(Layer::Activation(Activation::Relu)),
        "tanh" => Value::Layer(Layer::Activation(Activation::Tanh)),
        "sigmoid" => Value::Layer(Layer::Activation(Activation::Sigmoid)),
        "leaky_relu" => {
            let slope = a.float_where(
                "slope",
                0.2,
                |s| (0.0..1.0).contains(&s),
                "in [0, 1)",
                &mut e,
            );
            Value::Layer(Layer::Activation(Activation::LeakyRelu { slope }))
        }
        "same" => Value::Padding(Padding::Same),
        "valid" => Value::Padding(Padding::Valid),
        "vae" => {
            let latents = a.u32_in("latents", 1, 1, &mut e);
            let recon = match a.value("recon") {
                Some(Value::Reconstruction(r)) => r,
                _ => Reconstruction::Bernoulli {
                    activation: OutputActivation::Logits,
                },
            };
            let prefix = a.string("prefix", "z");
            if prefix.is_empty()
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                ctx.out_of_range(
                    a.loc("prefix"),
                    "prefix",
                    format!("\"{prefix}\""),
                    "a non-empty name",
                );
                e = true;
            }
            match (a.arch("encoder"), a.arch("decoder")) {
                (Some(encoder), Some(decoder)) if !e => Value::Model(Box::new(ModelValue::Vae {
                    latents,
                    prefix,
                    encoder,
                    decoder,
                    recon,
                })),
                _ => return Err(Poisoned),
            }
        }
        "infogan" => {
            let noise = a.u32_in("noise", 0, 0, &mut e);
            let mut codes = Vec::new();
            if let Some(Value::Record(entries)) = a.value("codes") {
                for (code, prior) in entries {
                    match prior {
                        Value::Prior(p) => codes.push((code, p)),
                        other => {
                            ctx.error(
                                "E0201",
                                a.loc("codes"),
                                format!("code `{code}` should be a prior (`categorical`, `uniform`, `normal`), found `{}`", other.type_of()),
                                "expected priors",
                                None,
                            );
                            e = true;
                        }
                    }
                }
            }
            if codes.is_empty() && !e {
                ctx.out_of_range(
                    a.loc("codes"),
                    "codes",
                    "an empty record",
                    "at least one code",
                );
                e = true;
            }
            let recognition = a.arch("recognition").unwrap_or(Arch {
                layers: vec![
                    Layer::Dense { units: 128 },
                    Layer::Activation(Activation::LeakyRelu { slope: 0.2 }),
                ],
                loc,
                layer_locs: vec![],
            });
            // InfoGAN's discriminator Adam (Chen et al. 2016): lr 2e-4, β1 0.5.
            let optimizer = a.optimizer("optimizer", adam(2e-4, 0.5, 0.999, 1e-8));
            let learned_variance = a.boolean("learned_variance", false);
            let discriminator_updates = a.u32_in("discriminator_updates", 1, 1, &mut e);
            match (a.arch("generator"), a.arch("discriminator")) {
                (Some(generator), Some(discriminator)) if !e => {
                    Value::Model(Box::new(ModelValue::InfoGan {
                        noise,
                        codes,
                        generator,
                        discriminator,
                        recognition,
                        learned_variance,
                        optimizer,
                        discriminator_updates,
                    }))
                }
                _ => return Err(Poisoned),
            }
        }
        // The β-VAE paper's baselines keep 10 components (Higgins et al. 2017, appendix A.3);
        // FastICA's tolerance, iterations and contrast are scikit-learn's defaults.
        "pca" => Value::Model(Box::new(ModelValue::Pca {
            components: a.u32_in("components", 10, 1, &mut e),
            samples: a.u32_in("samples", 10_000, 2, &mut e),
        })),
        "ica" => Value::Model(Box::new(ModelValue::Ica {
            components: a.u32_in("components", 10, 1, &mut e),
            samples: a.u32_in("samples", 10_000, 2, &mut e),
            tol: a.float_where(
                "tol",
                1e-4,
                |v| v.is_finite() && v > 0.0,
                "a positive number",
                &mut e,
            ),
            max_iter: a.u32_in("max_iter", 200, 1, &mut e),
            alpha: a.float_where(
                "alpha",
                1.0,
                |v| (1.0..=2.0).contains(&v),
                "between 1 and 2 (scikit-learn's range for logcosh)",
                &mut e,
            ),
        })),
        "bernoulli" | "l2" | "gaussian" => {
            let activation = match a.value("activation") {
                Some(Value::OutputActivation(o)) => o,
                _ => OutputActivation::Logits,
            };
            Value::Reconstruction(match name {
                "bernoulli" => Reconstruction::Bernoulli { activation },
                "l2" => Reconstruction::L2 { activation },
                _ => {
                    let variance = match a.value("variance") {
                        Some(Value::LearnedVariance) => Variance::Learned,
                        _ => Variance::Fixed(a.float_where(
                            "variance",
                            1.0,
                            |v| v > 0.0,
                            "> 0",
                            &mut e,
                        )),
                    };
                    Reconstruction::Gaussian {
                        activation,
                        variance,
                    }
                }
            })
        }
        "logits" => Value::OutputActivation(OutputActivation::Logits),
        "learned" => Value::LearnedVariance,
        "categorical" => Value::Prior(CodePrior::Categorical {
            k: a.u32_in("k", 2, 2, &mut e),
        }),
        "uniform" => {
            let low = a.float("low", -1.0);
            let high = a.float_where(
                "high",
                1.0,
                |h| h > low,
                &format!("greater than `low` ({low})"),
                &mut e,
            );
            Value::Prior(CodePrior::Uniform { low, high })
        }
        "normal" => {
            let mean = a.float("mean", 0.0);
            let std = a.float_where("std", 1.0, |s| s > 0.0, "> 0", &mut e);
            Value::Prior(CodePrior::Normal { mean, std })
        }
        "recon" => term(TermValue::Recon, loc),
        "kl" => term(TermValue::Kl, loc),
        "tc" => term(TermValue::Tc, loc),
        "gan" => {
            let loss = match a.value("loss") {
                Some(Value::GanLoss(loss)) => loss,
                _ => GanLoss::NonSaturating,
            };
            term(TermValue::Gan { loss }, loc)
        }
        "non_saturating" => Value::GanLoss(GanLoss::NonSaturating),
        "least_squares" => Value::GanLoss(GanLoss::LeastSquares),
        "capacity" => {
            let c_max = a.float_where("c_max", 0.0, |c| c >= 0.0, ">= 0", &mut e);
            let iteration_threshold = a.u64_min("threshold", 100_000, 1, &mut e);
            term(
                TermValue::Capacity {
                    c_max,
                    iteration_threshold,
                },
                loc,
            )
        }
        "discriminator_tc" => {
            let Some(discriminator) = a.arch("discriminator") else {
                return Err(ctx.error(
                    "E0207",
                    loc,
                    "`discriminator_tc` needs a discriminator network".to_string(),
                    "no `discriminator` given",
                    Some("pass `discriminator: fc_discriminator()` (from `std.arch`)".to_string()),
                ));
            };
            // FactorVAE's discriminator Adam (reference §1.4): lr 1e-4, β1 0.5, β2 0.9, ε 1e-8.
            let optimizer = a.optimizer("optimizer", adam(1e-4, 0.5, 0.9, 1e-8));
            term(
                TermValue::DiscriminatorTc {
                    discriminator,
                    optimizer,
                },
                loc,
            )
        }
        "dip_i" | "dip_ii" => {
            let lambda_od = a.float_where("lambda_od", 0.0, |l| l >= 0.0, ">= 0", &mut e);
            let lambda_d = a.float_where("lambda_d", 0.0, |l| l >= 0.0, ">= 0", &mut e);
            let kind = if name == "dip_i" {
                DipKind::I
            } else {
                DipKind::II
            };
            term(
                TermValue::Dip {
                    kind,
                    lambda_od,
                    lambda_d,
                },
                loc,
            )
        }
        "info" => {
            let codes = match a.slot("codes") {
                Some((Value::List(items), l)) => Some((
                    items
                        .iter()
                        .filter_map(|v| match v {
                            Value::Str(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
                    *l,
                )),
                _ => None,
            };
            term(TermValue::Info { codes }, loc)
        }
        "structure" => {
            let graph: Option<GraphValue> = match a.value("graph") {
                Some(Value::Graph(g)) => Some(g),
                _ => None,
            };
            let cpd = match a.value("cpd") {
                Some(Value::Cpd(c)) => c,
                _ => ConditionalFamily::LinearGaussian,
            };
            term(TermValue::Structure { graph, cpd }, loc)
        }
        "linear_gaussian" => Value::Cpd(ConditionalFamily::LinearGaussian),
        "nonlinear_gaussian" => Value::Cpd(ConditionalFamily::NonlinearGaussian {
            hidden: a.u32_in("hidden", 32, 1, &mut e),
        }),
        "adam" => {
            let lr = a.float_where("lr", 1e-4, |v| v > 0.0, "> 0", &mut e);
            let (beta1, beta2) = match a.slot("betas") {
                Some((Value::Tuple(items), l)) => match items.as_slice() {
                    [
                        b1 @ (Value::Int(_) | Value::Float(_)),
                        b2 @ (Value::Int(_) | Value::Float(_)),
                    ] => {
                        let (b1, b2) = (as_f64(b1), as_f64(b2));
                        if !(0.0..1.0).contains(&b1) || !(0.0..1.0).contains(&b2) {
                            ctx.out_of_range(
                                *l,
                                "betas",
                                format!("({b1}, {b2})"),
                                "two numbers in [0, 1)",
                            );
                            e = true;
                        }
                        (b1, b2)
                    }
                    _ => {
                        ctx.error(
                            "E0201",
                            *l,
                            "`betas` of `adam` expects two numbers, e.g. `(0.9, 0.999)`"
                                .to_string(),
                            "expected `(beta1, beta2)`",
                            None,
                        );
                        return Err(Poisoned);
                    }
                },
                _ => (0.9, 0.999),
            };
            let eps = a.float_where("eps", 1e-8, |v| v > 0.0, "> 0", &mut e);
            Value::Optimizer(adam(lr, beta1, beta2, eps))
        }
        "constant" => Value::Schedule(LrSchedule::Constant),
        "exponential_decay" => {
            let decay_steps = a.u64_min("decay_steps", 1, 1, &mut e);
            let rate = a.float_where("rate", 1.0, |r| r > 0.0, "> 0", &mut e);
            Value::Schedule(LrSchedule::ExponentialDecay {
                decay_steps,
                rate,
                staircase: a.boolean("staircase", false),
            })
        }
        "piecewise" => {
            let boundaries: Vec<i64> = match a.value("boundaries") {
                Some(Value::List(items)) => items
                    .iter()
                    .filter_map(|v| {
                        if let Value::Int(i) = v {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let values: Vec<f64> = match a.value("values") {
                Some(Value::List(items)) => items.iter().map(as_f64).collect(),
                _ => Vec::new(),
            };
            if values.len() != boundaries.len() + 1 {
                return Err(ctx.out_of_range(
                    a.loc("values"),
                    "values",
                    format!(
                        "{} values for {} boundaries",
                        values.len(),
                        boundaries.len()
                    ),
                    "one more value than boundaries",
                ));
            }
            if boundaries.windows(2).any(|w| matches!(w, [x, y] if x >= y))
                || boundaries.iter().any(|b| *b < 1)
            {
                return Err(ctx.out_of_range(
                    a.loc("boundaries"),
                    "boundaries",
                    "a non-increasing list",
                    "positive and strictly increasing",
                ));
            }
            if values.iter().any(|v| *v <= 0.0) {
                return Err(ctx.out_of_range(
                    a.loc("values"),
                    "values",
                    "a value <= 0",
                    "learning rates > 0",
                ));
            }
            Value::Schedule(LrSchedule::PiecewiseConstant {
                boundaries: boundaries
                    .iter()
                    .map(|b| u64::try_from(*b).unwrap_or(0))
                    .collect(),
                values,
            })
        }
        "training" => {
            let steps = a.u64_min("steps", 300_000, 1, &mut e);
            let batch_size = a.u32_in("batch", 64, 1, &mut e);
            let optimizer = a.optimizer("optimizer", adam(1e-4, 0.9, 0.999, 1e-8));
            let schedule = match a.value("schedule") {
                Some(Value::Schedule(s)) => s,
                _ => LrSchedule::Constant,
            };
            // A piecewise schedule's values are learning rates, not multipliers: they replace
            // the optimizer's `lr`. Say so when both are written and they disagree (W0005).
            if let (
                Some((Value::Optimizer(Optimizer::Adam { lr, .. }), opt_loc)),
                LrSchedule::PiecewiseConstant { values, .. },
            ) = (a.slot("optimizer"), &schedule)
                && let Some(first) = values.first()
                && (first - lr).abs() > f64::EPSILON * lr.abs().max(1.0)
            {
                ctx.warning(
                    "W0005",
                    *opt_loc,
                    format!(
                        "the `piecewise` schedule sets the learning rate ({first} at first), so the optimizer's `lr` ({lr}) is not used"
                    ),
                    "its `lr` is replaced by the schedule",
                    Some(format!(
                        "`piecewise` values are learning rates, not multipliers: write `lr: {first}` or drop it"
                    )),
                );
            }
            let checkpoint_every = a.u64_min("checkpoint_every", 0, 0, &mut e);
            let log_every = a.u64_min("log_every", 100, 1, &mut e);
            Value::Training(TrainingValue {
                steps,
                batch_size,
                optimizer,
                schedule,
                checkpoint_every,
                log_every,
            })
        }
        "evaluation" => {
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
                    .filter_map(|v| {
                        if let Value::Representation(r) = v {
                            Some(*r)
                        } else {
                            None
                        }
                    })
                    .collect(),
                _ => vec![Representation::Mean],
            };
            // Keep the first occurrence of each representation, in the order written.
            let mut seen = Vec::new();
            representations.retain(|r| {
                let first = !seen.contains(r);
                seen.push(*r);
                first
            });
            if representations.is_empty() {
                ctx.out_of_range(
                    a.loc("representation"),
                    "representation",
                    "an empty list",
                    "`mean`, `sampled` or both",
                );
                e = true;
            }
            // One metric seed, or several: each scores every metric again (the β-VAE paper
            // scores each model with several classifier seeds).
            let seeds: Vec<i64> = match a.value("seed") {
                Some(Value::List(items)) => items
                    .iter()
                    .filter_map(|v| {
                        if let Value::Int(i) = v {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect(),
                Some(Value::Int(i)) => vec![i],
                _ => vec![0],
            };
            let mut distinct = seeds.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if seeds.is_empty()
                || distinct.len() < seeds.len()
                || seeds.iter().any(|s| *s < 0 || *s > i64::from(u32::MAX))
            {
                ctx.out_of_range(
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
            let visuals = match a.value("visuals") {
                Some(Value::Visuals(v)) => v,
                _ => Visuals {
                    reconstructions: 0,
                    samples: 0,
                    traversal_steps: 0,
                    traversal_limit: 2.0,
                },
            };
            Value::Evaluation(
                Box::new(EvalSpec {
                    representations,
                    metrics,
                    seed,
                    repeat_seeds,
                    visuals,
                }),
                locs,
            )
        }
        "visuals" => Value::Visuals(Visuals {
            reconstructions: a.u32_in("reconstructions", 16, 0, &mut e),
            samples: a.u32_in("samples", 16, 0, &mut e),
            traversal_steps: a.u32_in("traversal_steps", 10, 0, &mut e),
            traversal_limit: a.float_where(
                "traversal_limit",
                2.0,
                |v| v > 0.0 && v.is_finite(),
                "> 0",
                &mut e,
            ),
        }),
        "mean" => Value::Representation(Representation::Mean),
        "sampled" => Value::Representation(Representation::Sampled),
        "logistic_regression_cv" => Value::Predictor(Predictor::LogisticRegressionCv),
        "gradient_boosting" => Value::Predictor(Predictor::GradientBoosting),
        "procedural" => Value::DataSource(DataSource::Procedural),
        "file" => {
            let path = a.string("path", "");
            if path.is_empty() {
                return Err(ctx.out_of_range(a.loc("path"), "path", "\"\"", "a non-empty path"));
            }
            Value::DataSource(DataSource::File { path })
        }
        "dataset" => return dataset(&a, loc),
        "arrays" => return arrays(&a),
        _ => return metric(&a, name, loc),
    };
    if e { Err(Poisoned) } else { Ok(value) }
}

fn dataset(a: &Args<'_>, loc: Loc) -> Eval<Value> {
    let ctx = a.ctx;
    let mut e = false;
    let name = a.string("name", "");
    let kind_name = a.string("kind", "");
    let kind = match kind_name.as_str() {
        "dsprites" => DatasetKind::Dsprites,
        "color_dsprites" => DatasetKind::ColorDsprites,
        "noisy_dsprites" => DatasetKind::NoisyDsprites,
        "scream_dsprites" => {
            let image = a.string("image", "");
            DatasetKind::ScreamDsprites {
                image: (!image.is_empty()).then_some(image),
            }
        }
        "shapes3d" => DatasetKind::Shapes3d,
        "smallnorb" => DatasetKind::SmallNorb,
        "cars3d" => DatasetKind::Cars3d,
        "mpi3d" => {
            let mode = a.string("mode", "");
            if !["toy", "realistic", "real"].contains(&mode.as_str()) {
                return Err(ctx.out_of_range(
                    a.loc("mode"),
                    "mode",
                    format!("\"{mode}\""),
                    "\"toy\", \"realistic\" or \"real\"",
                ));
            }
            DatasetKind::Mpi3d { mode }
        }
        "dummy" => DatasetKind::Dummy,
        other => {
            let rule = "one of \"dsprites\", \"color_dsprites\", \"noisy_dsprites\", \"scream_dsprites\", \"shapes3d\", \"smallnorb\", \"cars3d\", \"mpi3d\", \"dummy\"";
            return Err(ctx.error(
                "E0202",
                a.loc("kind"),
                format!("`kind` must be {rule}, found \"{other}\""),
                "not a built-in dataset kind",
                Some(
                    "for your own data use `arrays(images: \"file.npz\", factors: {...})` (see docs/LANGUAGE.md, \"Your own data\")"
                        .to_string(),
                ),
            ));
        }
    };
    let factors = factor_specs(a, &mut e);
    let shape = match a.value("shape") {
        Some(Value::Tuple(items)) => match items.as_slice() {
            [Value::Int(h), Value::Int(w), Value::Int(c)] if *h >= 1 && *w >= 1 && *c >= 1 => {
                [*h, *w, *c].map(|v| u32::try_from(v).unwrap_or(u32::MAX))
            }
            _ => {
                return Err(ctx.out_of_range(
                    a.loc("shape"),
                    "shape",
                    "this tuple",
                    "`(height, width, channels)` with positive sizes",
                ));
            }
        },
        _ => return Err(Poisoned),
    };
    // No factors at all is allowed (training without labels; metrics are then E0402).
    if !e
        && !factors.is_empty()
        && let Some((sizes, builtin_shape)) = builtin_layout(&kind)
    {
        let declared: Vec<u32> = factors.iter().map(|f| f.size).collect();
        let hint = Some(
            "`prim.dataset` names a built-in dataset and cannot relabel it; for your own data use `arrays(images: \"file.npz\", factors: {...})`"
                .to_string(),
        );
        if declared != sizes {
            ctx.error(
                "E0507",
                a.loc("factors"),
                format!(
                    "dataset kind \"{kind_name}\" has factor sizes {sizes:?}, but `{name}` declares {declared:?}"
                ),
                "not the built-in dataset's factors",
                hint.clone(),
            );
            e = true;
        }
        if shape != builtin_shape {
            let [h, w, c] = builtin_shape;
            ctx.error(
                "E0507",
                a.loc("shape"),
                format!(
                    "dataset kind \"{kind_name}\" has observations of shape ({h}, {w}, {c}), but `{name}` declares ({}, {}, {})",
                    shape[0], shape[1], shape[2]
                ),
                "not the built-in dataset's shape",
                hint,
            );
            e = true;
        }
    }
    let source = match a.value("source") {
        Some(Value::DataSource(s)) => s,
        _ => DataSource::Procedural,
    };
    let file_only = matches!(
        kind,
        DatasetKind::SmallNorb | DatasetKind::Cars3d | DatasetKind::Mpi3d { .. }
    );
    if file_only && source == DataSource::Procedural {
        return Err(ctx.error(
            "E0406",
            if a.slot("source").is_some() {
                a.loc("source")
            } else {
                loc
            },
            format!("dataset `{name}` cannot be generated procedurally"),
            "needs the released files",
            Some(
                "read it from the released files: `source: file(\"...\")` (the stdlib's `smallnorb(path)`, `cars3d(path)` and `mpi3d_*(path)` do this)"
                    .to_string(),
            ),
        ));
    }
    if e {
        return Err(Poisoned);
    }
    Ok(Value::Dataset(Box::new(DatasetSpec {
        name,
        kind,
        source,
        factors,
        observation_shape: shape,
        complete_grid: a.boolean("complete_grid", false),
    })))
}

/// The `factors` record as factor specs; a size that is not a positive integer is E0202.
fn factor_specs(a: &Args<'_>, e: &mut bool) -> Vec<FactorSpec> {
    let mut factors = Vec::new();
    if let Some(Value::Record(entries)) = a.value("factors") {
        for (fname, size) in entries {
            match size {
                Value::Int(s) if s >= 1 && s <= i64::from(u32::MAX) => factors.push(FactorSpec {
                    name: fname,
                    size: u32::try_from(s).unwrap_or(1),
                }),
                other => {
                    a.ctx.out_of_range(
                        a.loc("factors"),
                        &format!("factors.{fname}"),
                        format!("`{}`", render(&other)),
                        "a positive integer",
                    );
                    *e = true;
                }
            }
        }
    }
    factors
}

/// The factor sizes and observation shape of a built-in dataset kind (what its files or renderer
/// produce); `prim.dataset` may not declare others.
fn builtin_layout(kind: &DatasetKind) -> Option<(Vec<u32>, [u32; 3])> {
    let dsprites = vec![3, 6, 40, 32, 32];
    Some(match kind {
        DatasetKind::Dsprites => (dsprites, [64, 64, 1]),
        DatasetKind::ColorDsprites
        | DatasetKind::NoisyDsprites
        | DatasetKind::ScreamDsprites { .. } => (dsprites, [64, 64, 3]),
        DatasetKind::Shapes3d => (vec![10, 10, 10, 8, 4, 15], [64, 64, 3]),
        DatasetKind::SmallNorb => (vec![5, 9, 18, 6], [64, 64, 1]),
        DatasetKind::Cars3d => (vec![4, 24, 183], [64, 64, 3]),
        DatasetKind::Mpi3d { mode } if mode == "real" => (vec![6, 6, 2, 3, 3, 40, 40], [64, 64, 3]),
        DatasetKind::Mpi3d { .. } => (vec![4, 4, 2, 3, 3, 40, 40], [64, 64, 3]),
        DatasetKind::Dummy => (vec![5; 10], [64, 64, 1]),
        DatasetKind::Arrays { .. } => return None,
    })
}

/// `arrays(images, factors, labels, images_key, labels_key, name)`: the user's own arrays. The
/// loader reads the files' headers and labels; every mismatch with the declaration is reported
/// at the argument it concerns.
fn arrays(a: &Args<'_>) -> Eval<Value> {
    let ctx = a.ctx;
    let mut factor_error = false;
    let factors = factor_specs(a, &mut factor_error);
    let mut e = factor_error;
    let images = a.string("images", "");
    let labels_written = a.string("labels", "");
    let labels = if labels_written.is_empty() {
        images.clone()
    } else {
        labels_written.clone()
    };
    // Named after the images' file unless `name:` says otherwise (`scenes.npz` → `scenes`).
    let stem = std::path::Path::new(&images)
        .file_stem()
        .map_or("arrays".to_string(), |s| s.to_string_lossy().into_owned());
    let name = a.string("name", &stem);
    let request = crate::ArrayRequest {
        images: images.clone(),
        images_key: a.string("images_key", "images"),
        labels: labels.clone(),
        labels_key: a.string("labels_key", "factors"),
    };
    let labels_loc = if labels_written.is_empty() {
        a.loc("images")
    } else {
        a.loc("labels")
    };
    let labels_what = if labels_written.is_empty() {
        format!("array `{}` of `{labels}`", request.labels_key)
    } else {
        format!("`{labels}`")
    };
    if images.is_empty() {
        return Err(ctx.out_of_range(a.loc("images"), "images", "\"\"", "a non-empty path"));
    }
    let facts = match ctx.array_facts(&request) {
        Ok(facts) => facts,
        Err(err) => {
            let (loc, file) = match err.file {
                crate::ArrayFile::Images => (a.loc("images"), &images),
                crate::ArrayFile::Labels => (labels_loc, &labels),
            };
            return Err(ctx.error(
                "E0501",
                loc,
                format!("cannot read the arrays in `{file}`: {}", err.reason),
                "cannot read this data file",
                Some(
                    "give an `.npz` with arrays `images` and `factors`, a `.npy` file (and `labels:` another), or an HDF5 file with `images_key:` and `labels_key:`; paths are relative to the current directory"
                        .to_string(),
                ),
            ));
        }
    };
    // Images: (rows, height, width) or (rows, height, width, channels), uint8 or float.
    let image_dtype_ok = matches!(facts.images.dtype.as_str(), "uint8" | "float32" | "float64");
    let shape = match facts.images.shape.as_slice() {
        [rows, h, w] => Some((*rows, [*h, *w, 1])),
        [rows, h, w, c] => Some((*rows, [*h, *w, *c])),
        _ => None,
    };
    // At least one image: training and the metrics draw rows.
    let shape = shape
        .filter(|(rows, _)| *rows >= 1)
        .and_then(|(rows, dims)| {
            let dims = dims.map(|d| u32::try_from(d).ok().filter(|d| *d >= 1));
            match dims {
                [Some(h), Some(w), Some(c)] => Some((rows, [h, w, c])),
                _ => None,
            }
        });
    if !image_dtype_ok || shape.is_none() {
        ctx.error(
            "E0502",
            a.loc("images"),
            format!(
                "the images in `{images}` are {} of shape {:?}, but images must be uint8, float32 or float64 of shape (rows, height, width) or (rows, height, width, channels)",
                facts.images.dtype, facts.images.shape
            ),
            "not an array of images",
            Some("convert with numpy, e.g. `images.astype(np.uint8)` for 0..255 values, or `np.float32` for values in [0, 1]".to_string()),
        );
        e = true;
    }
    let columns = match facts.labels.shape.as_slice() {
        [_] => Some(1),
        [_, k] => usize::try_from(*k).ok(),
        _ => None,
    };
    let Some(ranges) = facts.label_ranges.as_ref().filter(|_| columns.is_some()) else {
        ctx.error(
            "E0502",
            labels_loc,
            format!(
                "the factor labels ({labels_what}) are {} of shape {:?}, but they must be integers of shape (rows, factors)",
                facts.labels.dtype, facts.labels.shape
            ),
            "not integer factor labels",
            Some("store class indices 0..size-1 per factor, e.g. `labels.astype(np.int64)`".to_string()),
        );
        return Err(Poisoned);
    };
    let rows = facts.labels.shape.first().copied().unwrap_or(0);
    if let Some((image_rows, _)) = shape
        && image_rows != rows
    {
        ctx.error(
            "E0505",
            labels_loc,
            format!(
                "the factor labels ({labels_what}) have {rows} rows, but `{images}` has {image_rows} images"
            ),
            "one label row per image",
            None,
        );
        e = true;
    }
    if ranges.len() != factors.len() && !factor_error {
        let names: Vec<&str> = factors.iter().map(|f| f.name.as_str()).collect();
        ctx.error(
            "E0503",
            a.loc("factors"),
            format!(
                "the factor labels ({labels_what}) have {} columns, but {} factors are declared ({})",
                ranges.len(),
                factors.len(),
                names.join(", ")
            ),
            "one factor per label column",
            Some("declare one factor per label column, in column order".to_string()),
        );
        return Err(Poisoned);
    }
    for (factor, &(min, max)) in factors.iter().zip(ranges) {
        if min < 0 || max >= i64::from(factor.size) {
            let fix = if min < 0 {
                "labels are class indices from 0: shift them so the smallest is 0".to_string()
            } else {
                format!(
                    "declare `{}: {}`, or fix the labels",
                    factor.name,
                    max.saturating_add(1)
                )
            };
            ctx.error(
                "E0504",
                a.loc("factors"),
                format!(
                    "factor `{}` is declared with {} values (0 to {}), but its labels in {labels_what} range from {min} to {max}",
                    factor.name,
                    factor.size,
                    factor.size - 1
                ),
                "labels outside the declared sizes",
                Some(fix),
            );
            e = true;
        }
    }
    let (Some((_, observation_shape)), false) = (shape, e) else {
        return Err(Poisoned);
    };
    let cells = factors
        .iter()
        .try_fold(1u64, |acc, f| acc.checked_mul(u64::from(f.size)));
    Ok(Value::Dataset(Box::new(DatasetSpec {
        name,
        kind: DatasetKind::Arrays {
            images_key: request.images_key,
            labels: request.labels,
            labels_key: request.labels_key,
            rows,
            combinations: facts.distinct_rows,
        },
        source: DataSource::File { path: images },
        factors,
        observation_shape,
        complete_grid: cells == Some(facts.distinct_rows),
    })))
}

fn metric(a: &Args<'_>, name: &str, loc: Loc) -> Eval<Value> {
    let mut e = false;
    let positive = |n: &str, e: &mut bool| a.u32_in(n, 1, 1, e);
    let bins = |e: &mut bool| a.u32_in("num_bins", 20, 2, e);
    let spec = match name {
        "beta_vae_score" => MetricSpec::BetaVae {
            batch_size: positive("batch_size", &mut e),
            num_train: positive("num_train", &mut e),
            num_eval: positive("num_eval", &mut e),
        },
        "factor_vae_score" => MetricSpec::FactorVae {
            batch_size: a.u32_in("batch_size", 2, 2, &mut e),
            num_train: positive("num_train", &mut e),
            num_eval: positive("num_eval", &mut e),
            num_variance_estimate: a.u32_in("num_variance_estimate", 2, 2, &mut e),
            prune_threshold: a.float_where("prune_threshold", 0.0, |t| t >= 0.0, ">= 0", &mut e),
        },
        "mig" => MetricSpec::Mig {
            num_train: positive("num_train", &mut e),
            batch_size: positive("batch_size", &mut e),
            num_bins: bins(&mut e),
        },
        "sap" => MetricSpec::Sap {
            num_train: positive("num_train", &mut e),
            num_test: positive("num_test", &mut e),
            batch_size: positive("batch_size", &mut e),
            continuous_factors: a.boolean("continuous_factors", false),
        },
        "modularity" => MetricSpec::ModularityExplicitness {
            num_train: positive("num_train", &mut e),
            num_test: positive("num_test", &mut e),
            batch_size: positive("batch_size", &mut e),
            num_bins: bins(&mut e),
        },
        "dci" => MetricSpec::Dci {
            num_train: positive("num_train", &mut e),
            num_test: positive("num_test", &mut e),
            batch_size: positive("batch_size", &mut e),
        },
        "irs" => MetricSpec::Irs {
            num_train: positive("num_train", &mut e),
            batch_size: positive("batch_size", &mut e),
            diff_quantile: a.float_where(
                "diff_quantile",
                0.99,
                |q| q > 0.0 && q <= 1.0,
                "in (0, 1]",
                &mut e,
            ),
            num_bins: bins(&mut e),
        },
        "unsupervised" => MetricSpec::Unsupervised {
            num_train: positive("num_train", &mut e),
            batch_size: positive("batch_size", &mut e),
            num_bins: bins(&mut e),
        },
        "downstream" => {
            let sizes: Vec<i64> = match a.value("num_train") {
                Some(Value::List(items)) => items
                    .iter()
                    .filter_map(|v| {
                        if let Value::Int(i) = v {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if sizes.is_empty() || sizes.iter().any(|s| *s < 1 || *s > i64::from(u32::MAX)) {
                a.ctx.out_of_range(
                    a.loc("num_train"),
                    "num_train",
                    "this list",
                    "a non-empty list of positive sizes",
                );
                e = true;
            }
            MetricSpec::Downstream {
                num_train: sizes
                    .iter()
                    .map(|s| u32::try_from(*s).unwrap_or(1))
                    .collect(),
                num_test: positive("num_test", &mut e),
                batch_size: positive("batch_size", &mut e),
                predictor: match a.value("predictor") {
                    Some(Value::Predictor(p)) => p,
                    _ => Predictor::LogisticRegressionCv,
                },
            }
        }
        _ => return Err(Poisoned),
    };
    if e {
        Err(Poisoned)
    } else {
        Ok(Value::Metric(MetricValue { spec, loc }))
    }
}

/// `value.field`.
pub(crate) fn member(ctx: &Ctx<'_>, value: Value, field: &str, loc: Loc) -> Eval<Value> {
    let fields: &[&str] = match &value {
        Value::Dataset(d) => {
            let [h, w, c] = d.observation_shape;
            match field {
                "channels" => return Ok(Value::Int(i64::from(c))),
                "height" => return Ok(Value::Int(i64::from(h))),
                "width" => return Ok(Value::Int(i64::from(w))),
                "factors" => return Ok(Value::Int(i64::try_from(d.factors.len()).unwrap_or(0))),
                "name" => return Ok(Value::Str(d.name.clone())),
                _ => &["channels", "height", "width", "factors", "name"],
            }
        }
        Value::Model(m) => match (field, m.as_ref()) {
            ("latents", ModelValue::Vae { latents, .. }) => {
                return Ok(Value::Int(i64::from(*latents)));
            }
            (
                "latents",
                ModelValue::Pca { components, .. } | ModelValue::Ica { components, .. },
            ) => {
                return Ok(Value::Int(i64::from(*components)));
            }
            _ => &["latents"],
        },
        Value::Record(entries) => {
            if let Some((_, v)) = entries.iter().find(|(k, _)| k == field) {
                return Ok(v.clone());
            }
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            return Err(ctx.error(
                "E0110",
                loc,
                format!("the record has no field `{field}`"),
                "unknown field",
                crate::suggest::did_you_mean(field, keys.iter().copied())
                    .map(|s| format!("did you mean `{s}`?")),
            ));
        }
        _ => &[],
    };
    Err(ctx.error(
        "E0110",
        loc,
        format!(
            "a value of type `{}` has no field `{field}`",
            value.type_of()
        ),
        "unknown field",
        crate::suggest::did_you_mean(field, fields.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| {
                (!fields.is_empty()).then(|| {
                    format!(
                        "fields: {}",
                        fields
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            }),
    ))
}

/// Renders a simple value as source-like text (for sweep tables and messages).
pub(crate) fn render(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => format!("\"{s}\""),
        other => other.type_of().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_primitive_parameter_type_is_known() {
        for (name, _, ps) in PRIMS {
            for p in *ps {
                let (_, rest) = p.split_once(':').expect("params are written name:type");
                let ty = rest
                    .trim_end_matches('?')
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                assert!(Type::from_name(ty).is_some(), "{name}: unknown type in {p}");
            }
        }
    }

    #[test]
    fn primitive_names_are_unique() {
        let mut names: Vec<&str> = all_names().collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
