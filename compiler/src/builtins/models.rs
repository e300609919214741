//! Representation models: `vae`, `infogan`, and the linear baselines `pca` and `ica`.
//! Must not shape-check networks against the data: that happens when a job is lowered.

use disc_grammar::ast::Span;

use super::{Args, DefaultValue, Prim, checked, optional, required};
use crate::eval::{Eval, Poisoned};
use crate::plan::{Activation, Layer, Optimizer, OutputActivation, Reconstruction};
use crate::value::{Arch, Loc, ModelValue, RecordEntry, Type, Value};

/// The model primitives.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "vae",
        bare: true,
        doc: "A Gaussian-encoder VAE; its latents are named `prefix` + index.",
        params: &[
            required("latents", Type::Int),
            required("encoder", Type::Architecture),
            required("decoder", Type::Architecture),
            optional(
                "recon",
                Type::Reconstruction,
                DefaultValue::Written("bernoulli(logits)", || {
                    Value::Reconstruction(Reconstruction::Bernoulli {
                        activation: OutputActivation::Logits,
                    })
                }),
            ),
            optional("prefix", Type::Str, DefaultValue::Str("z")),
        ],
        build: vae,
    },
    Prim {
        name: "infogan",
        bare: true,
        doc: "An InfoGAN: a generator of noise and codes, a critic, and a recognition head for the codes.",
        params: &[
            required("noise", Type::Int),
            required("codes", Type::Record),
            required("generator", Type::Architecture),
            required("discriminator", Type::Architecture),
            optional(
                "recognition",
                Type::Architecture,
                DefaultValue::Written("[dense(128), leaky_relu(0.2)]", || {
                    Value::Arch(Arch {
                        layers: vec![
                            Layer::Dense { units: 128 },
                            Layer::Activation(Activation::LeakyRelu { slope: 0.2 }),
                        ],
                        // Replaced by the call's location in `Args::arch`.
                        loc: Loc {
                            source: 0,
                            span: Span::default(),
                        },
                        layer_locs: vec![],
                    })
                }),
            ),
            optional("learned_variance", Type::Bool, DefaultValue::Bool(false)),
            // InfoGAN's discriminator Adam (Chen et al. 2016): lr 2e-4, β1 0.5.
            optional(
                "optimizer",
                Type::Optimizer,
                DefaultValue::Written("adam(lr: 2e-4, betas: (0.5, 0.999), eps: 1e-8)", || {
                    Value::Optimizer(Optimizer::Adam {
                        lr: 2e-4,
                        beta1: 0.5,
                        beta2: 0.999,
                        epsilon: 1e-8,
                    })
                }),
            ),
            optional("discriminator_updates", Type::Int, DefaultValue::Int(1)),
        ],
        build: infogan,
    },
    // The β-VAE paper's baselines keep 10 components (Higgins et al. 2017, appendix A.3);
    // FastICA's tolerance, iterations and contrast are scikit-learn's defaults.
    Prim {
        name: "pca",
        bare: true,
        doc: "PCA on whitened pixels (the β-VAE paper's baseline): `disc run` fits it on `samples` observations; its components are the representation.",
        params: &[
            optional("components", Type::Int, DefaultValue::Int(10)),
            optional("samples", Type::Int, DefaultValue::Int(10_000)),
        ],
        build: |a| {
            let mut e = false;
            let components = a.u32_at_least("components", 1, &mut e);
            let samples = a.u32_at_least("samples", 2, &mut e);
            checked(
                Value::Model(Box::new(ModelValue::Pca {
                    components,
                    samples,
                })),
                e,
            )
        },
    },
    Prim {
        name: "ica",
        bare: true,
        doc: "FastICA on whitened pixels (logcosh, parallel, as scikit-learn): `disc run` fits it on `samples` observations.",
        params: &[
            optional("components", Type::Int, DefaultValue::Int(10)),
            optional("samples", Type::Int, DefaultValue::Int(10_000)),
            optional("tol", Type::Float, DefaultValue::Float(1e-4)),
            optional("max_iter", Type::Int, DefaultValue::Int(200)),
            optional("alpha", Type::Float, DefaultValue::Float(1.0)),
        ],
        build: |a| {
            let mut e = false;
            let ica = ModelValue::Ica {
                components: a.u32_at_least("components", 1, &mut e),
                samples: a.u32_at_least("samples", 2, &mut e),
                tol: a.float_where(
                    "tol",
                    |v| v.is_finite() && v > 0.0,
                    "a positive number",
                    &mut e,
                ),
                max_iter: a.u32_at_least("max_iter", 1, &mut e),
                alpha: a.float_where(
                    "alpha",
                    |v| (1.0..=2.0).contains(&v),
                    "between 1 and 2 (scikit-learn's range for logcosh)",
                    &mut e,
                ),
            };
            checked(Value::Model(Box::new(ica)), e)
        },
    },
];

fn vae(a: &Args<'_>) -> Eval<Value> {
    let mut e = false;
    let latents = a.u32_at_least("latents", 1, &mut e);
    let recon = match a.value("recon") {
        Some(Value::Reconstruction(r)) => r,
        _ => return Err(Poisoned),
    };
    let prefix = a.string("prefix");
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        a.ctx.out_of_range(
            a.loc("prefix"),
            "prefix",
            format!("\"{prefix}\""),
            "a non-empty name",
        );
        e = true;
    }
    match (a.arch("encoder"), a.arch("decoder")) {
        (Some(encoder), Some(decoder)) if !e => Ok(Value::Model(Box::new(ModelValue::Vae {
            latents,
            prefix,
            encoder,
            decoder,
            recon,
        }))),
        _ => Err(Poisoned),
    }
}

fn infogan(a: &Args<'_>) -> Eval<Value> {
    let ctx = a.ctx;
    let mut e = false;
    let noise = a.u32_at_least("noise", 0, &mut e);
    let mut codes = Vec::new();
    if let Some(Value::Record(entries)) = a.value("codes") {
        for RecordEntry {
            key: code,
            value: prior,
            ..
        } in entries
        {
            match prior {
                Value::Prior(p) => codes.push((code, p)),
                other => {
                    ctx.error(
                        "E0201",
                        a.loc("codes"),
                        format!(
                            "code `{code}` should be a prior (`categorical`, `uniform`, `normal`), found `{}`",
                            other.type_of()
                        ),
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
    let (Some(recognition), Some(Value::Optimizer(optimizer))) =
        (a.arch("recognition"), a.value("optimizer"))
    else {
        return Err(Poisoned);
    };
    let learned_variance = a.boolean("learned_variance");
    let discriminator_updates = a.u32_at_least("discriminator_updates", 1, &mut e);
    match (a.arch("generator"), a.arch("discriminator")) {
        (Some(generator), Some(discriminator)) if !e => {
            Ok(Value::Model(Box::new(ModelValue::InfoGan {
                noise,
                codes,
                generator,
                discriminator,
                recognition,
                learned_variance,
                optimizer,
                discriminator_updates,
            })))
        }
        _ => Err(Poisoned),
    }
}
