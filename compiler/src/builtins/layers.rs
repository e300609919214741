//! Layers of an architecture (`conv`, `dense`, activations, …) and the padding modes.
//! Must not shape-check: a layer's fit with its neighbours is `shape.rs`'s.

use super::{Args, DefaultValue, Param, Prim, checked, optional, required, required_list};
use crate::eval::Eval;
use crate::plan::{Activation, Layer, Padding};
use crate::value::{Type, Value};

/// `filters`, `kernel`, `stride` and `padding`, shared by both convolutions.
const CONV_PARAMS: &[Param] = &[
    required("filters", Type::Int),
    required("kernel", Type::Int),
    optional("stride", Type::Int, DefaultValue::Int(1)),
    optional(
        "padding",
        Type::Padding,
        DefaultValue::Written("same", || Value::Padding(Padding::Same)),
    ),
];

/// The layer primitives and padding modes.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "conv",
        bare: true,
        doc: "A 2-D convolution.",
        params: CONV_PARAMS,
        build: |a| convolution(a, false),
    },
    Prim {
        name: "deconv",
        bare: true,
        doc: "A 2-D transposed convolution.",
        params: CONV_PARAMS,
        build: |a| convolution(a, true),
    },
    Prim {
        name: "dense",
        bare: true,
        doc: "A fully connected layer.",
        params: &[required("units", Type::Int)],
        build: |a| {
            let mut e = false;
            let units = a.u32_at_least("units", 1, &mut e);
            checked(Value::Layer(Layer::Dense { units }), e)
        },
    },
    Prim {
        name: "flatten",
        bare: true,
        doc: "Flattens an image into a vector.",
        params: &[],
        build: |_| Ok(Value::Layer(Layer::Flatten)),
    },
    Prim {
        name: "reshape",
        bare: true,
        doc: "Reshapes a vector into the given dimensions.",
        params: &[required_list("shape", Type::Int)],
        build: reshape,
    },
    Prim {
        name: "relu",
        bare: true,
        doc: "The rectified linear unit.",
        params: &[],
        build: |_| Ok(Value::Layer(Layer::Activation(Activation::Relu))),
    },
    Prim {
        name: "tanh",
        bare: true,
        doc: "The hyperbolic tangent (also an output activation of a likelihood).",
        params: &[],
        build: |_| Ok(Value::Layer(Layer::Activation(Activation::Tanh))),
    },
    Prim {
        name: "sigmoid",
        bare: true,
        doc: "The logistic sigmoid.",
        params: &[],
        build: |_| Ok(Value::Layer(Layer::Activation(Activation::Sigmoid))),
    },
    Prim {
        name: "leaky_relu",
        bare: true,
        doc: "The leaky rectified linear unit with the given negative slope.",
        params: &[optional("slope", Type::Float, DefaultValue::Float(0.2))],
        build: |a| {
            let mut e = false;
            let slope = a.float_where("slope", |s| (0.0..1.0).contains(&s), "in [0, 1)", &mut e);
            checked(
                Value::Layer(Layer::Activation(Activation::LeakyRelu { slope })),
                e,
            )
        },
    },
    Prim {
        name: "gaussian_head",
        bare: true,
        doc: "An encoder's last layer: means and log-variances of `units` latents.",
        params: &[required("units", Type::Int)],
        build: |a| {
            let mut e = false;
            let units = a.u32_at_least("units", 1, &mut e);
            checked(Value::Layer(Layer::GaussianHead { units }), e)
        },
    },
    Prim {
        name: "same",
        bare: true,
        doc: "Padding that keeps the size (divided by the stride).",
        params: &[],
        build: |_| Ok(Value::Padding(Padding::Same)),
    },
    Prim {
        name: "valid",
        bare: true,
        doc: "No padding.",
        params: &[],
        build: |_| Ok(Value::Padding(Padding::Valid)),
    },
];

/// `conv` or (`transposed`) `deconv`.
fn convolution(a: &Args<'_>, transposed: bool) -> Eval<Value> {
    let mut e = false;
    let filters = a.u32_at_least("filters", 1, &mut e);
    let kernel = a.u32_at_least("kernel", 1, &mut e);
    let stride = a.u32_at_least("stride", 1, &mut e);
    let padding = match a.value("padding") {
        Some(Value::Padding(p)) => p,
        _ => Padding::Same,
    };
    let layer = if transposed {
        Layer::ConvTranspose2d {
            filters,
            kernel,
            stride,
            padding,
        }
    } else {
        Layer::Conv2d {
            filters,
            kernel,
            stride,
            padding,
        }
    };
    checked(Value::Layer(layer), e)
}

/// `reshape(shape)`: a non-empty list of positive sizes.
fn reshape(a: &Args<'_>) -> Eval<Value> {
    let shape = match a.value("shape") {
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Int(i) if *i >= 1 && *i <= i64::from(u32::MAX) => u32::try_from(*i).ok(),
                _ => None,
            })
            .collect::<Option<Vec<u32>>>(),
        _ => None,
    };
    match shape {
        Some(s) if !s.is_empty() => Ok(Value::Layer(Layer::Reshape { shape: s })),
        _ => Err(a.ctx.out_of_range(
            a.loc("shape"),
            "shape",
            "a non-positive dimension",
            "a list of positive sizes",
        )),
    }
}
