//! Loss terms (`recon`, `kl`, `tc`, `gan`, `capacity`, `discriminator_tc`, `dip_i`/`dip_ii`,
//! `info`, `structure`), the GAN loss forms and the conditional families of structural terms.
//! Every term is a loss with coefficient 1; weights come from arithmetic in the language.

use super::{Args, DefaultValue, Param, Prim, optional, optional_list, required, term};
use crate::eval::{Eval, Poisoned};
use crate::plan::{ConditionalFamily, DipKind, GanLoss, Optimizer};
use crate::value::{TermValue, Type, Value};

/// `lambda_od` and `lambda_d` of both DIP-VAE terms.
const DIP_PARAMS: &[Param] = &[
    required("lambda_od", Type::Float),
    required("lambda_d", Type::Float),
];

/// The loss-term primitives.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "recon",
        bare: true,
        doc: "The reconstruction term of the model's likelihood.",
        params: &[],
        build: |a| Ok(term(TermValue::Recon, a.call)),
    },
    Prim {
        name: "kl",
        bare: true,
        doc: "The KL divergence of the posterior from the prior.",
        params: &[],
        build: |a| Ok(term(TermValue::Kl, a.call)),
    },
    Prim {
        name: "tc",
        bare: true,
        doc: "The total correlation of the aggregate posterior (β-TCVAE's estimate).",
        params: &[],
        build: |a| Ok(term(TermValue::Tc, a.call)),
    },
    Prim {
        name: "gan",
        bare: true,
        doc: "The adversarial term of a GAN.",
        params: &[optional(
            "loss",
            Type::GanLoss,
            DefaultValue::Written("non_saturating", || Value::GanLoss(GanLoss::NonSaturating)),
        )],
        build: |a| {
            let loss = match a.value("loss") {
                Some(Value::GanLoss(loss)) => loss,
                _ => return Err(Poisoned),
            };
            Ok(term(TermValue::Gan { loss }, a.call))
        },
    },
    Prim {
        name: "non_saturating",
        bare: true,
        doc: "The non-saturating GAN loss (Goodfellow et al. 2014).",
        params: &[],
        build: |_| Ok(Value::GanLoss(GanLoss::NonSaturating)),
    },
    Prim {
        name: "least_squares",
        bare: true,
        doc: "The least-squares GAN loss (Mao et al. 2017).",
        params: &[],
        build: |_| Ok(Value::GanLoss(GanLoss::LeastSquares)),
    },
    Prim {
        name: "capacity",
        bare: true,
        doc: "|KL − C| with the capacity C raised linearly to `c_max` over `threshold` steps.",
        params: &[
            required("c_max", Type::Float),
            optional("threshold", Type::Int, DefaultValue::Int(100_000)),
        ],
        build: capacity,
    },
    Prim {
        name: "discriminator_tc",
        bare: true,
        doc: "FactorVAE's total correlation, estimated by a discriminator trained beside the model.",
        params: &[
            optional(
                "discriminator",
                Type::Architecture,
                DefaultValue::Absent("the call is an error (E0207): the network must be given"),
            ),
            // FactorVAE's discriminator Adam (reference §1.4): lr 1e-4, β1 0.5, β2 0.9, ε 1e-8.
            optional(
                "optimizer",
                Type::Optimizer,
                DefaultValue::Written("adam(lr: 1e-4, betas: (0.5, 0.9), eps: 1e-8)", || {
                    Value::Optimizer(Optimizer::Adam {
                        lr: 1e-4,
                        beta1: 0.5,
                        beta2: 0.9,
                        epsilon: 1e-8,
                    })
                }),
            ),
        ],
        build: discriminator_tc,
    },
    Prim {
        name: "dip_i",
        bare: true,
        doc: "DIP-VAE-I's penalty on the covariance of the encoder means.",
        params: DIP_PARAMS,
        build: |a| dip(a, DipKind::I),
    },
    Prim {
        name: "dip_ii",
        bare: true,
        doc: "DIP-VAE-II's penalty on the covariance of the aggregate posterior.",
        params: DIP_PARAMS,
        build: |a| dip(a, DipKind::II),
    },
    Prim {
        name: "info",
        bare: true,
        doc: "InfoGAN's mutual-information term of the named codes.",
        params: &[optional_list(
            "codes",
            Type::Str,
            DefaultValue::Absent("every code of the model"),
        )],
        build: info,
    },
    Prim {
        name: "structure",
        bare: true,
        doc: "The structural term: latents explained by their parents in a graph.",
        params: &[
            optional(
                "graph",
                Type::Graph,
                DefaultValue::Absent("the experiment's graph"),
            ),
            optional(
                "cpd",
                Type::Cpd,
                DefaultValue::Written("linear_gaussian", || {
                    Value::Cpd(ConditionalFamily::LinearGaussian)
                }),
            ),
        ],
        build: |a| {
            let graph = match a.value("graph") {
                Some(Value::Graph(g)) => Some(g),
                _ => None,
            };
            let Some(Value::Cpd(cpd)) = a.value("cpd") else {
                return Err(Poisoned);
            };
            Ok(term(TermValue::Structure { graph, cpd }, a.call))
        },
    },
    Prim {
        name: "linear_gaussian",
        bare: true,
        doc: "Linear-Gaussian conditionals (fitted in closed form).",
        params: &[],
        build: |_| Ok(Value::Cpd(ConditionalFamily::LinearGaussian)),
    },
    Prim {
        name: "nonlinear_gaussian",
        bare: true,
        doc: "Gaussian conditionals whose mean is a small network of `hidden` units.",
        params: &[optional("hidden", Type::Int, DefaultValue::Int(32))],
        build: |a| {
            let mut e = false;
            let hidden = a.u32_at_least("hidden", 1, &mut e);
            super::checked(
                Value::Cpd(ConditionalFamily::NonlinearGaussian { hidden }),
                e,
            )
        },
    },
];

fn capacity(a: &Args<'_>) -> Eval<Value> {
    let mut e = false;
    let c_max = a.float_where("c_max", |c| c >= 0.0, ">= 0", &mut e);
    let iteration_threshold = a.u64_at_least("threshold", 1, &mut e);
    super::checked(
        term(
            TermValue::Capacity {
                c_max,
                iteration_threshold,
            },
            a.call,
        ),
        e,
    )
}

fn discriminator_tc(a: &Args<'_>) -> Eval<Value> {
    let Some(discriminator) = a.arch("discriminator") else {
        return Err(a.ctx.error(
            "E0207",
            a.call,
            "`discriminator_tc` needs a discriminator network".to_string(),
            "no `discriminator` given",
            Some("pass `discriminator: fc_discriminator()` (from `std.arch`)".to_string()),
        ));
    };
    let Some(Value::Optimizer(optimizer)) = a.value("optimizer") else {
        return Err(Poisoned);
    };
    Ok(term(
        TermValue::DiscriminatorTc {
            discriminator,
            optimizer,
        },
        a.call,
    ))
}

fn dip(a: &Args<'_>, kind: DipKind) -> Eval<Value> {
    let mut e = false;
    let lambda_od = a.float_where("lambda_od", |l| l >= 0.0, ">= 0", &mut e);
    let lambda_d = a.float_where("lambda_d", |l| l >= 0.0, ">= 0", &mut e);
    super::checked(
        term(
            TermValue::Dip {
                kind,
                lambda_od,
                lambda_d,
            },
            a.call,
        ),
        e,
    )
}

fn info(a: &Args<'_>) -> Eval<Value> {
    let codes = match a.given("codes") {
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
    Ok(term(TermValue::Info { codes }, a.call))
}
