//! Training settings: the `adam` optimizer, learning-rate schedules and `training` itself (steps,
//! batch size, checkpoint and log intervals). The defaults are the reference study's (§1.7).

use super::{Args, DefaultValue, Prim, checked, optional, required, required_list};
use crate::eval::{Eval, Poisoned, as_f64};
use crate::plan::{LrSchedule, Optimizer};
use crate::value::{TrainingValue, Type, Value};

/// The training primitives.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "adam",
        bare: true,
        doc: "The Adam optimizer (TF1 defaults as configured in the study, reference §1.7).",
        params: &[
            optional("lr", Type::Float, DefaultValue::Float(1e-4)),
            optional(
                "betas",
                Type::Tuple,
                DefaultValue::Written("(0.9, 0.999)", || {
                    Value::Tuple(vec![Value::Float(0.9), Value::Float(0.999)])
                }),
            ),
            optional("eps", Type::Float, DefaultValue::Float(1e-8)),
        ],
        build: adam,
    },
    Prim {
        name: "constant",
        bare: true,
        doc: "A constant learning rate.",
        params: &[],
        build: |_| Ok(Value::Schedule(LrSchedule::Constant)),
    },
    Prim {
        name: "exponential_decay",
        bare: true,
        doc: "The learning rate times `rate` every `decay_steps` (continuously unless `staircase`).",
        params: &[
            required("decay_steps", Type::Int),
            required("rate", Type::Float),
            optional("staircase", Type::Bool, DefaultValue::Bool(false)),
        ],
        build: |a| {
            let mut e = false;
            let decay_steps = a.u64_at_least("decay_steps", 1, &mut e);
            let rate = a.float_where("rate", |r| r > 0.0, "> 0", &mut e);
            let schedule = LrSchedule::ExponentialDecay {
                decay_steps,
                rate,
                staircase: a.boolean("staircase"),
            };
            checked(Value::Schedule(schedule), e)
        },
    },
    Prim {
        name: "piecewise",
        bare: true,
        doc: "Learning rates that change at the given steps (`values` has one more entry than `boundaries`).",
        params: &[
            required_list("boundaries", Type::Int),
            required_list("values", Type::Float),
        ],
        build: piecewise,
    },
    Prim {
        name: "training",
        bare: true,
        doc: "How a model is trained: steps, batch size, optimizer, schedule, checkpoint and log intervals.",
        params: &[
            optional("steps", Type::Int, DefaultValue::Int(300_000)),
            optional("batch", Type::Int, DefaultValue::Int(64)),
            optional(
                "optimizer",
                Type::Optimizer,
                DefaultValue::Written("adam()", || {
                    Value::Optimizer(Optimizer::Adam {
                        lr: 1e-4,
                        beta1: 0.9,
                        beta2: 0.999,
                        epsilon: 1e-8,
                    })
                }),
            ),
            optional(
                "schedule",
                Type::Schedule,
                DefaultValue::Written("constant", || Value::Schedule(LrSchedule::Constant)),
            ),
            optional("checkpoint_every", Type::Int, DefaultValue::Int(0)),
            optional("log_every", Type::Int, DefaultValue::Int(100)),
        ],
        build: training,
    },
];

fn adam(a: &Args<'_>) -> Eval<Value> {
    let ctx = a.ctx;
    let mut e = false;
    let lr = a.float_where("lr", |v| v > 0.0, "> 0", &mut e);
    let (beta1, beta2) = match (a.value("betas"), a.loc("betas")) {
        (Some(Value::Tuple(items)), l) => match items.as_slice() {
            [
                b1 @ (Value::Int(_) | Value::Float(_)),
                b2 @ (Value::Int(_) | Value::Float(_)),
            ] => {
                let (b1, b2) = (as_f64(b1), as_f64(b2));
                if !(0.0..1.0).contains(&b1) || !(0.0..1.0).contains(&b2) {
                    ctx.out_of_range(l, "betas", format!("({b1}, {b2})"), "two numbers in [0, 1)");
                    e = true;
                }
                (b1, b2)
            }
            _ => {
                ctx.error(
                    "E0201",
                    l,
                    "`betas` of `adam` expects two numbers, e.g. `(0.9, 0.999)`".to_string(),
                    "expected `(beta1, beta2)`",
                    None,
                );
                return Err(Poisoned);
            }
        },
        _ => return Err(Poisoned),
    };
    let epsilon = a.float_where("eps", |v| v > 0.0, "> 0", &mut e);
    checked(
        Value::Optimizer(Optimizer::Adam {
            lr,
            beta1,
            beta2,
            epsilon,
        }),
        e,
    )
}

fn piecewise(a: &Args<'_>) -> Eval<Value> {
    let ctx = a.ctx;
    let boundaries = a.int_list("boundaries");
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
    Ok(Value::Schedule(LrSchedule::PiecewiseConstant {
        boundaries: boundaries
            .iter()
            .map(|b| u64::try_from(*b).unwrap_or(0))
            .collect(),
        values,
    }))
}

fn training(a: &Args<'_>) -> Eval<Value> {
    let mut e = false;
    let steps = a.u64_at_least("steps", 1, &mut e);
    let batch_size = a.u32_at_least("batch", 1, &mut e);
    let (Some(Value::Optimizer(optimizer)), Some(Value::Schedule(schedule))) =
        (a.value("optimizer"), a.value("schedule"))
    else {
        return Err(Poisoned);
    };
    // A piecewise schedule's values are learning rates, not multipliers: they replace the
    // optimizer's `lr`. Say so when both are written and they disagree (W0005).
    if let (
        Some((Value::Optimizer(Optimizer::Adam { lr, .. }), opt_loc)),
        LrSchedule::PiecewiseConstant { values, .. },
    ) = (a.given("optimizer"), &schedule)
        && let Some(first) = values.first()
        && (first - lr).abs() > f64::EPSILON * lr.abs().max(1.0)
    {
        a.ctx.warning(
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
    let checkpoint_every = a.u64_at_least("checkpoint_every", 0, &mut e);
    let log_every = a.u64_at_least("log_every", 1, &mut e);
    checked(
        Value::Training(TrainingValue {
            steps,
            batch_size,
            optimizer,
            schedule,
            checkpoint_every,
            log_every,
        }),
        e,
    )
}
