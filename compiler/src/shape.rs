//! Shape inference and parameter counting over [`plan::Layer`](crate::plan::Layer) lists.
//!
//! Shapes are per example, without the batch: `[units]` for vectors and `[height, width, channels]`
//! for images (the plan's NHWC convention). Convolutions follow TensorFlow's padding semantics
//! (reference §2), which the reference architectures were written against:
//!
//! | layer                 | `Same` padding         | `Valid` padding                  |
//! |-----------------------|------------------------|----------------------------------|
//! | conv, stride s, k×k   | ⌈x / s⌉                | ⌊(x − k) / s⌋ + 1, needs x ≥ k   |
//! | transposed conv       | x · s                  | x · s + max(k − s, 0)            |
//!
//! Parameters: conv and transposed conv k·k·c_in·filters + filters; dense n·units + units; a
//! Gaussian head is two dense heads (μ and log σ²), so twice that; the rest have none.
//!
//! This module only computes; it must not produce diagnostics (the caller turns a [`ShapeError`]
//! into one at the architecture's location) and never panics, whatever the layer values: sizes are
//! computed with checked arithmetic and zero sizes are errors.

use std::fmt;

use crate::plan::{Activation, Layer, LayerSpec, Network, Padding};

/// A layer that does not accept the shape it is given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {layer_index} (`{layer}`) {kind}")]
pub struct ShapeError {
    /// Which layer, counting from 0.
    pub layer_index: usize,
    /// The layer, written as in the source language (e.g. `conv(32, 4, stride: 2)`).
    pub layer: LayerText,
    /// What is wrong.
    pub kind: ShapeErrorKind,
}

/// Why a layer does not accept its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeErrorKind {
    /// The input has the wrong rank, e.g. a dense layer on an image that was not flattened.
    #[error("expects {expected} but its input is {}", show(found))]
    Rank {
        /// What the layer expects, in words.
        expected: &'static str,
        /// The shape it got.
        found: Vec<u32>,
    },
    /// A `Valid` convolution whose kernel is larger than the image.
    #[error(
        "has a {kernel}×{kernel} kernel, larger than its input {}",
        show(found)
    )]
    KernelTooLarge {
        /// The kernel size.
        kernel: u32,
        /// The input shape.
        found: Vec<u32>,
    },
    /// A reshape whose target holds a different number of elements than its input.
    #[error(
        "cannot reshape {} ({from_count} elements) into {} ({to_count} elements)",
        show(from),
        show(to)
    )]
    ReshapeCount {
        /// The input shape.
        from: Vec<u32>,
        /// The requested shape.
        to: Vec<u32>,
        /// Elements in the input.
        from_count: u64,
        /// Elements in the requested shape.
        to_count: u64,
    },
    /// A size, kernel, stride, filter or unit count of zero, or an input with a zero dimension.
    #[error("has a zero {what}")]
    Zero {
        /// Which quantity is zero (`kernel`, `stride`, `filter count`, ...).
        what: &'static str,
    },
    /// A shape or parameter count too large to represent (more than 2³² elements along one axis
    /// or 2⁶⁴ parameters).
    #[error("makes a shape too large to represent from input {}", show(found))]
    TooLarge {
        /// The input shape.
        found: Vec<u32>,
    },
}

/// A layer rendered as source-like text, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerText(pub String);

impl fmt::Display for LayerText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shapes in messages look like the language's tuples: `[64, 64, 1]`.
fn show(shape: &[u32]) -> String {
    let parts: Vec<String> = shape.iter().map(u32::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// The layer as the user would write it.
pub fn layer_text(layer: &Layer) -> LayerText {
    let padding = |p: &Padding| match p {
        Padding::Same => "",
        Padding::Valid => ", padding: valid",
    };
    LayerText(match layer {
        Layer::Conv2d {
            filters,
            kernel,
            stride,
            padding: p,
        } => {
            format!("conv({filters}, {kernel}, stride: {stride}{})", padding(p))
        }
        Layer::ConvTranspose2d {
            filters,
            kernel,
            stride,
            padding: p,
        } => {
            format!(
                "deconv({filters}, {kernel}, stride: {stride}{})",
                padding(p)
            )
        }
        Layer::Dense { units } => format!("dense({units})"),
        Layer::Flatten => "flatten".to_string(),
        Layer::Reshape { shape } => format!("reshape({})", show(shape)),
        Layer::Activation(Activation::Relu) => "relu".to_string(),
        Layer::Activation(Activation::LeakyRelu { slope }) => format!("leaky_relu({slope})"),
        Layer::Activation(Activation::Tanh) => "tanh".to_string(),
        Layer::Activation(Activation::Sigmoid) => "sigmoid".to_string(),
        Layer::GaussianHead { units } => format!("gaussian_head({units})"),
    })
}

/// Infers every layer's input and output shape from `input`, and counts trainable parameters.
///
/// `input` is the per-example shape (`[units]` or `[h, w, c]`). The returned network's `output` is
/// the last layer's output (for a Gaussian head, the shape of μ alone); an empty layer list is the
/// identity with no parameters.
pub fn infer_network(input: &[u32], layers: &[Layer]) -> Result<Network, ShapeError> {
    let mut shape = input.to_vec();
    let mut specs = Vec::with_capacity(layers.len());
    let mut parameters: u64 = 0;
    for (layer_index, layer) in layers.iter().enumerate() {
        let fail = |kind| ShapeError {
            layer_index,
            layer: layer_text(layer),
            kind,
        };
        if shape.is_empty() || shape.contains(&0) {
            return Err(fail(ShapeErrorKind::Zero {
                what: "input dimension",
            }));
        }
        let (output, layer_parameters) = step(&shape, layer).map_err(fail)?;
        parameters = parameters.checked_add(layer_parameters).ok_or_else(|| {
            fail(ShapeErrorKind::TooLarge {
                found: shape.clone(),
            })
        })?;
        specs.push(LayerSpec {
            layer: layer.clone(),
            input: shape,
            output: output.clone(),
        });
        shape = output;
    }
    Ok(Network {
        input: input.to_vec(),
        layers: specs,
        output: shape,
        parameters,
    })
}

/// One layer: its output shape and parameter count for input `shape` (non-empty, no zero).
fn step(shape: &[u32], layer: &Layer) -> Result<(Vec<u32>, u64), ShapeErrorKind> {
    let too_large = || ShapeErrorKind::TooLarge {
        found: shape.to_vec(),
    };
    match layer {
        Layer::Conv2d {
            filters,
            kernel,
            stride,
            padding,
        }
        | Layer::ConvTranspose2d {
            filters,
            kernel,
            stride,
            padding,
        } => {
            let &[height, width, channels] = shape else {
                return Err(ShapeErrorKind::Rank {
                    expected: "an image [height, width, channels]",
                    found: shape.to_vec(),
                });
            };
            for (value, what) in [
                (*filters, "filter count"),
                (*kernel, "kernel"),
                (*stride, "stride"),
            ] {
                if value == 0 {
                    return Err(ShapeErrorKind::Zero { what });
                }
            }
            let transposed = matches!(layer, Layer::ConvTranspose2d { .. });
            let side = |x: u32| -> Result<u32, ShapeErrorKind> {
                match (transposed, padding) {
                    (false, Padding::Same) => Ok(x.div_ceil(*stride)),
                    (false, Padding::Valid) => match x.checked_sub(*kernel) {
                        Some(rest) => Ok(rest / stride + 1),
                        None => Err(ShapeErrorKind::KernelTooLarge {
                            kernel: *kernel,
                            found: shape.to_vec(),
                        }),
                    },
                    (true, Padding::Same) => x.checked_mul(*stride).ok_or_else(too_large),
                    (true, Padding::Valid) => x
                        .checked_mul(*stride)
                        .and_then(|grown| grown.checked_add(kernel.saturating_sub(*stride)))
                        .ok_or_else(too_large),
                }
            };
            let output = vec![side(height)?, side(width)?, *filters];
            let weights = u64::from(*kernel)
                .checked_mul(u64::from(*kernel))
                .and_then(|k2| k2.checked_mul(u64::from(channels)))
                .and_then(|w| w.checked_mul(u64::from(*filters)))
                .and_then(|w| w.checked_add(u64::from(*filters)))
                .ok_or_else(too_large)?;
            Ok((output, weights))
        }
        Layer::Dense { units } | Layer::GaussianHead { units } => {
            let &[n] = shape else {
                return Err(ShapeErrorKind::Rank {
                    expected: "a vector (flatten the image first)",
                    found: shape.to_vec(),
                });
            };
            if *units == 0 {
                return Err(ShapeErrorKind::Zero { what: "unit count" });
            }
            let heads = if matches!(layer, Layer::GaussianHead { .. }) {
                2
            } else {
                1
            };
            // n·units + units = (n + 1)·units < 2⁶⁴ for u32 inputs; the second head can overflow.
            let weights = (u64::from(n) + 1)
                .checked_mul(u64::from(*units))
                .and_then(|w| w.checked_mul(heads));
            Ok((vec![*units], weights.ok_or_else(too_large)?))
        }
        Layer::Flatten => {
            let count = element_count(shape).ok_or_else(too_large)?;
            let count = u32::try_from(count).map_err(|_| too_large())?;
            Ok((vec![count], 0))
        }
        Layer::Reshape { shape: target } => {
            if target.is_empty() || target.contains(&0) {
                return Err(ShapeErrorKind::Zero {
                    what: "reshape dimension",
                });
            }
            let from_count = element_count(shape).ok_or_else(too_large)?;
            let to_count = element_count(target).ok_or_else(too_large)?;
            if from_count != to_count {
                return Err(ShapeErrorKind::ReshapeCount {
                    from: shape.to_vec(),
                    to: target.clone(),
                    from_count,
                    to_count,
                });
            }
            Ok((target.clone(), 0))
        }
        Layer::Activation(_) => Ok((shape.to_vec(), 0)),
    }
}

/// The number of elements of `shape`, or `None` on overflow.
fn element_count(shape: &[u32]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(u64::from(*d)))
}

#[cfg(test)]
mod tests {
    //! The reference architectures (reference §2) written out as layer lists: their parameter
    //! counts are the published ones, so these tests pin the counting rules and TF padding
    //! arithmetic together. Counts are integers: exact equality.
    use super::*;
    use crate::plan::Activation::{LeakyRelu, Relu, Tanh};

    fn conv(filters: u32, kernel: u32) -> Layer {
        Layer::Conv2d {
            filters,
            kernel,
            stride: 2,
            padding: Padding::Same,
        }
    }
    fn deconv(filters: u32) -> Layer {
        Layer::ConvTranspose2d {
            filters,
            kernel: 4,
            stride: 2,
            padding: Padding::Same,
        }
    }
    fn dense(units: u32) -> Layer {
        Layer::Dense { units }
    }
    fn act(a: Activation) -> Layer {
        Layer::Activation(a)
    }

    fn conv_encoder(latents: u32) -> Vec<Layer> {
        vec![
            conv(32, 4),
            act(Relu),
            conv(32, 4),
            act(Relu),
            conv(64, 2),
            act(Relu),
            conv(64, 2),
            act(Relu),
            Layer::Flatten,
            dense(256),
            act(Relu),
            Layer::GaussianHead { units: latents },
        ]
    }
    fn deconv_decoder(channels: u32) -> Vec<Layer> {
        vec![
            dense(256),
            act(Relu),
            dense(1024),
            act(Relu),
            Layer::Reshape {
                shape: vec![4, 4, 64],
            },
            deconv(64),
            act(Relu),
            deconv(32),
            act(Relu),
            deconv(32),
            act(Relu),
            deconv(channels),
        ]
    }

    #[test]
    fn conv_encoder_matches_reference_counts_and_shapes() {
        let net = infer_network(&[64, 64, 1], &conv_encoder(10))
            .expect("the reference encoder fits 64×64×1");
        assert_eq!(net.parameters, 309_204);
        assert_eq!(net.output, vec![10]);
        // Outputs of the four convolutions and the flatten (activations in between keep shapes).
        let shapes: Vec<&[u32]> = net.layers.iter().map(|l| l.output.as_slice()).collect();
        let picked: Vec<&[u32]> = [0, 2, 4, 6, 8]
            .iter()
            .filter_map(|i| shapes.get(*i).copied())
            .collect();
        let expected: [&[u32]; 5] = [
            &[32, 32, 32],
            &[16, 16, 32],
            &[8, 8, 64],
            &[4, 4, 64],
            &[1024],
        ];
        assert_eq!(picked, expected);
        let net3 = infer_network(&[64, 64, 3], &conv_encoder(10)).expect("fits 64×64×3");
        assert_eq!(net3.parameters, 310_228);
    }

    #[test]
    fn deconv_decoder_matches_reference_counts_and_shapes() {
        let net =
            infer_network(&[10], &deconv_decoder(1)).expect("the reference decoder fits z=10");
        assert_eq!(
            (net.parameters, net.output.as_slice()),
            (381_313, [64, 64, 1].as_slice())
        );
        let net3 = infer_network(&[10], &deconv_decoder(3)).expect("fits z=10, C=3");
        assert_eq!(
            (net3.parameters, net3.output.as_slice()),
            (382_339, [64, 64, 3].as_slice())
        );
    }

    #[test]
    fn fc_architectures_match_reference_counts() {
        let fc_encoder = [
            Layer::Flatten,
            dense(1200),
            act(Relu),
            dense(1200),
            act(Relu),
            Layer::GaussianHead { units: 10 },
        ];
        assert_eq!(
            infer_network(&[64, 64, 1], &fc_encoder).map(|n| n.parameters),
            Ok(6_381_620)
        );
        let fc_decoder = [
            dense(1200),
            act(Tanh),
            dense(1200),
            act(Tanh),
            dense(1200),
            act(Tanh),
            dense(4096),
            Layer::Reshape {
                shape: vec![64, 64, 1],
            },
        ];
        let dec = infer_network(&[10], &fc_decoder).expect("fc_decoder fits z=10");
        assert_eq!(
            (dec.parameters, dec.output.as_slice()),
            (7_814_896, [64, 64, 1].as_slice())
        );
        let mut disc = vec![Layer::Flatten];
        for _ in 0..6 {
            disc.extend([dense(1000), act(LeakyRelu { slope: 0.2 })]);
        }
        disc.push(dense(2));
        assert_eq!(
            infer_network(&[10], &disc).map(|n| n.parameters),
            Ok(5_018_002)
        );
    }

    #[test]
    fn tf_padding_arithmetic() {
        let same = |k, s| Layer::Conv2d {
            filters: 1,
            kernel: k,
            stride: s,
            padding: Padding::Same,
        };
        let valid = |k, s| Layer::Conv2d {
            filters: 1,
            kernel: k,
            stride: s,
            padding: Padding::Valid,
        };
        let out = |l: Layer, x: u32| infer_network(&[x, x, 1], &[l]).map(|n| n.output);
        // Same: ceil(x / s), e.g. 7 / 2 → 4; Valid: floor((x − k) / s) + 1, e.g. (7 − 3) / 2 + 1 = 3.
        assert_eq!(out(same(3, 2), 7), Ok(vec![4, 4, 1]));
        assert_eq!(out(valid(3, 2), 7), Ok(vec![3, 3, 1]));
        assert_eq!(out(valid(7, 1), 7), Ok(vec![1, 1, 1]));
        let tvalid = |k, s| Layer::ConvTranspose2d {
            filters: 2,
            kernel: k,
            stride: s,
            padding: Padding::Valid,
        };
        // Transposed valid: x·s + max(k − s, 0): 5·2 + 2 = 12, and 5·3 + 0 = 15.
        assert_eq!(out(tvalid(4, 2), 5), Ok(vec![12, 12, 2]));
        assert_eq!(out(tvalid(2, 3), 5), Ok(vec![15, 15, 2]));
    }

    #[test]
    fn errors_carry_the_layer_and_the_facts() {
        let err = infer_network(&[64, 64, 1], &[dense(10)]).expect_err("dense on an image");
        assert_eq!(err.layer_index, 0);
        assert!(
            matches!(err.kind, ShapeErrorKind::Rank { ref found, .. } if *found == [64, 64, 1])
        );
        assert_eq!(
            err.to_string(),
            "layer 0 (`dense(10)`) expects a vector (flatten the image first) but its input is [64, 64, 1]"
        );

        let err = infer_network(
            &[10],
            &[
                dense(1000),
                Layer::Reshape {
                    shape: vec![4, 4, 64],
                },
            ],
        )
        .expect_err("1000 ≠ 1024");
        assert_eq!(err.layer_index, 1);
        assert_eq!(
            err.kind,
            ShapeErrorKind::ReshapeCount {
                from: vec![1000],
                to: vec![4, 4, 64],
                from_count: 1000,
                to_count: 1024
            }
        );

        let big = Layer::Conv2d {
            filters: 1,
            kernel: 9,
            stride: 1,
            padding: Padding::Valid,
        };
        let err = infer_network(&[4, 4, 1], &[big]).expect_err("kernel 9 on 4×4");
        assert_eq!(
            err.kind,
            ShapeErrorKind::KernelTooLarge {
                kernel: 9,
                found: vec![4, 4, 1]
            }
        );

        let zero = Layer::Conv2d {
            filters: 1,
            kernel: 3,
            stride: 0,
            padding: Padding::Same,
        };
        assert_eq!(
            infer_network(&[4, 4, 1], &[zero]).map_err(|e| e.kind),
            Err(ShapeErrorKind::Zero { what: "stride" })
        );
        assert!(infer_network(&[0], &[dense(3)]).is_err());
    }

    #[test]
    fn huge_values_are_errors_not_overflows() {
        let wide = Layer::ConvTranspose2d {
            filters: u32::MAX,
            kernel: u32::MAX,
            stride: u32::MAX,
            padding: Padding::Same,
        };
        let err = infer_network(&[u32::MAX, 2, u32::MAX], &[wide]).expect_err("overflows");
        assert!(matches!(err.kind, ShapeErrorKind::TooLarge { .. }));
        let err =
            infer_network(&[u32::MAX, u32::MAX, 2], &[Layer::Flatten]).expect_err("2^65 elements");
        assert!(matches!(err.kind, ShapeErrorKind::TooLarge { .. }));
        // One dense layer of u32 sizes always fits u64; a Gaussian head (two of them) may not.
        assert!(infer_network(&[u32::MAX], &[dense(u32::MAX)]).is_ok());
        let err = infer_network(&[u32::MAX], &[Layer::GaussianHead { units: u32::MAX }])
            .expect_err("2 × ~2^64");
        assert!(matches!(err.kind, ShapeErrorKind::TooLarge { .. }));
    }

    #[test]
    fn empty_network_is_identity() {
        let net = infer_network(&[3], &[]).expect("identity");
        assert_eq!((net.output, net.parameters), (vec![3], 0));
    }
}
