//! burn modules built from the plan's layer lists: [`Net`] (any `plan::Network`) and [`Vae`].
//!
//! Callers pass and receive images as NCHW tensors (burn's convention), while the plan (and the
//! reference) is NHWC. Inside [`Net::forward`] images travel as NHWC: the convolutions run as
//! matrix products in that layout ([`crate::kernels`]), and [`Layer::Flatten`] and
//! [`Layer::Reshape`] are plain reshapes, so a dense layer's weight rows are in the reference's
//! (H, W, C) order and exported weights mean the same. Parameters keep burn's module layouts
//! (`Conv2d` `[out, in, kh, kw]`, `ConvTranspose2d` `[in, out, kh, kw]`), so records, checkpoints
//! and exported weights do not depend on how the layers are computed.
//!
//! Kernels are Glorot-uniform and biases zero (TF1 `tf.layers` defaults), drawn on the host from a
//! [`RandomState`], so the initial weights are the same on every backend and device. This module
//! computes no loss and owns no optimizer.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use disc_compiler::plan::{Activation, Layer, Network, Padding, VaeSpec};
use disc_data::RandomState;

use crate::error::RuntimeError;
use crate::kernels::{self, ConvGeometry, DeconvGeometry};

/// One step of a network's forward pass; indices point into the [`Net`]'s layer vectors.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `convs[index]`, computed by [`kernels::conv2d_nhwc`] with `geometry`.
    Conv {
        index: usize,
        geometry: ConvGeometry,
    },
    /// `deconvs[index]`, computed by [`kernels::conv_transpose2d_nhwc`] with `geometry`.
    Deconv {
        index: usize,
        geometry: DeconvGeometry,
    },
    /// `denses[i]`.
    Dense(usize),
    /// NCHW image → `[N, h·w·c]` in (H, W, C) order.
    Flatten,
    /// `[N, h·w·c]` in (H, W, C) order → NCHW image `[N, c, h, w]`; holds `[h, w, c]`.
    Reshape([usize; 3]),
    /// Elementwise activation.
    Act(Activation),
    /// Two dense heads `denses[mean]` and `denses[log_var]` on a vector.
    Head { mean: usize, log_var: usize },
}

/// A value flowing through a network (batch first).
#[derive(Debug, Clone)]
pub enum Value<B: Backend> {
    /// NCHW image batch `[N, C, H, W]`.
    Image(Tensor<B, 4>),
    /// Vector batch `[N, units]`.
    Vector(Tensor<B, 2>),
    /// The output of a Gaussian head: μ and log σ², each `[N, units]`.
    Gaussian {
        mean: Tensor<B, 2>,
        log_var: Tensor<B, 2>,
    },
}

impl<B: Backend> Value<B> {
    fn kind(&self) -> &'static str {
        match self {
            Value::Image(_) => "an image",
            Value::Vector(_) => "a vector",
            Value::Gaussian { .. } => "a Gaussian head's output",
        }
    }
}

/// A feed-forward network built from a `plan::Network`.
#[derive(Module, Debug)]
pub struct Net<B: Backend> {
    convs: Vec<Conv2d<B>>,
    deconvs: Vec<ConvTranspose2d<B>>,
    denses: Vec<Linear<B>>,
    /// The forward program; not a parameter (rebuilt from the plan, never stored in records).
    ops: Vec<Op>,
    /// A name for error messages, e.g. `encoder`.
    name: String,
}

/// The shape of the value between two layers, without the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Image([usize; 3]),
    Vector(usize),
    Gaussian(usize),
}

impl Shape {
    fn from_plan(dims: &[u32]) -> Option<Shape> {
        match dims {
            [n] => Some(Shape::Vector(*n as usize)),
            [h, w, c] => Some(Shape::Image([*h as usize, *w as usize, *c as usize])),
            _ => None,
        }
    }
}

/// TF "same" padding of one axis: (before, after, output size).
fn same_padding(input: usize, kernel: usize, stride: usize) -> (usize, usize, usize) {
    let output = input.div_ceil(stride);
    let total = ((output.saturating_sub(1)) * stride + kernel).saturating_sub(input);
    (total / 2, total - total / 2, output)
}

/// Glorot-uniform values: U(−l, l) with l = √(6 / (fan_in + fan_out)), `count` draws from `rng`.
pub fn glorot_uniform(
    count: usize,
    fan_in: usize,
    fan_out: usize,
    rng: &mut RandomState,
) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..count)
        .map(|_| rng.uniform(-limit, limit) as f32)
        .collect()
}

fn host_tensor<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> Param<Tensor<B, D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

fn zeros<B: Backend>(n: usize, device: &B::Device) -> Param<Tensor<B, 1>> {
    Param::from_tensor(Tensor::zeros([n], device))
}

fn dense<B: Backend>(
    inputs: usize,
    units: usize,
    rng: &mut RandomState,
    device: &B::Device,
) -> Linear<B> {
    let mut layer = LinearConfig::new(inputs, units)
        .with_initializer(Initializer::Zeros)
        .init(device);
    // burn's Linear weight is [d_input, d_output], the same as TF's kernel.
    layer.weight = host_tensor(
        glorot_uniform(inputs * units, inputs, units, rng),
        [inputs, units],
        device,
    );
    layer.bias = Some(zeros(units, device));
    layer
}

impl<B: Backend> Net<B> {
    /// Builds `network` (named `name` in errors), checking every layer's shapes against the plan's,
    /// and initialises its weights from `rng` in layer order.
    pub fn build(
        name: &str,
        network: &Network,
        rng: &mut RandomState,
        device: &B::Device,
    ) -> Result<Self, RuntimeError> {
        let fail = |layer: usize, message: String| RuntimeError::Network {
            network: name.to_string(),
            layer,
            message,
        };
        let mut shape = Shape::from_plan(&network.input).ok_or_else(|| {
            fail(
                0,
                format!(
                    "input shape {:?} is neither [units] nor [h, w, c]",
                    network.input
                ),
            )
        })?;
        let (mut convs, mut deconvs, mut denses, mut ops) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (index, spec) in network.layers.iter().enumerate() {
            let (op, next) = match (&spec.layer, shape) {
                (
                    Layer::Conv2d {
                        filters,
                        kernel,
                        stride,
                        padding,
                    },
                    Shape::Image([h, w, c]),
                ) => {
                    let (f, k, s) = (*filters as usize, *kernel as usize, *stride as usize);
                    if k == 0 || s == 0 || f == 0 {
                        return Err(fail(
                            index,
                            "a convolution needs filters, kernel and stride ≥ 1".into(),
                        ));
                    }
                    let (pad, sides, out) = match padding {
                        Padding::Same => {
                            let (top, bottom, oh) = same_padding(h, k, s);
                            let (left, right, ow) = same_padding(w, k, s);
                            (
                                PaddingConfig2d::Explicit(top, left, bottom, right),
                                [top, left, bottom, right],
                                [oh, ow],
                            )
                        }
                        Padding::Valid => {
                            if h < k || w < k {
                                return Err(fail(
                                    index,
                                    format!("kernel {k} is larger than the {h}×{w} input"),
                                ));
                            }
                            (
                                PaddingConfig2d::Valid,
                                [0; 4],
                                [(h - k) / s + 1, (w - k) / s + 1],
                            )
                        }
                    };
                    let mut conv = Conv2dConfig::new([c, f], [k, k])
                        .with_stride([s, s])
                        .with_padding(pad)
                        .with_initializer(Initializer::Zeros)
                        .init(device);
                    // burn: [out, in, kh, kw]; Glorot fans as TF: k·k·in and k·k·out.
                    conv.weight = host_tensor(
                        glorot_uniform(f * c * k * k, k * k * c, k * k * f, rng),
                        [f, c, k, k],
                        device,
                    );
                    conv.bias = Some(zeros(f, device));
                    convs.push(conv);
                    let geometry = ConvGeometry {
                        stride: s,
                        padding: sides,
                    };
                    (
                        Op::Conv {
                            index: convs.len() - 1,
                            geometry,
                        },
                        Shape::Image([out[0], out[1], f]),
                    )
                }
                (
                    Layer::ConvTranspose2d {
                        filters,
                        kernel,
                        stride,
                        padding,
                    },
                    Shape::Image([h, w, c]),
                ) => {
                    let (f, k, s) = (*filters as usize, *kernel as usize, *stride as usize);
                    if k == 0 || s == 0 || f == 0 {
                        return Err(fail(
                            index,
                            "a transposed convolution needs filters, kernel and stride ≥ 1".into(),
                        ));
                    }
                    // burn: out = (in − 1)·s − 2p + k + p_out. TF same: out = in·s, so 2p − p_out = k − s;
                    // TF valid: out = in·s + max(k − s, 0).
                    let (pad, pad_out) = match padding {
                        Padding::Same if k >= s => {
                            let p = (k - s).div_ceil(2);
                            (p, 2 * p - (k - s))
                        }
                        Padding::Same | Padding::Valid if k < s => (0, s - k),
                        _ => (0, 0),
                    };
                    let out = [
                        (h - 1) * s + k + pad_out - 2 * pad,
                        (w - 1) * s + k + pad_out - 2 * pad,
                    ];
                    let mut deconv = ConvTranspose2dConfig::new([c, f], [k, k])
                        .with_stride([s, s])
                        .with_padding([pad, pad])
                        .with_padding_out([pad_out, pad_out])
                        .with_initializer(Initializer::Zeros)
                        .init(device);
                    // burn: [in, out, kh, kw].
                    deconv.weight = host_tensor(
                        glorot_uniform(c * f * k * k, k * k * c, k * k * f, rng),
                        [c, f, k, k],
                        device,
                    );
                    deconv.bias = Some(zeros(f, device));
                    deconvs.push(deconv);
                    let geometry = DeconvGeometry {
                        stride: s,
                        padding: pad,
                        padding_out: pad_out,
                    };
                    (
                        Op::Deconv {
                            index: deconvs.len() - 1,
                            geometry,
                        },
                        Shape::Image([out[0], out[1], f]),
                    )
                }
                (Layer::Dense { units }, Shape::Vector(n)) => {
                    denses.push(dense(n, *units as usize, rng, device));
                    (Op::Dense(denses.len() - 1), Shape::Vector(*units as usize))
                }
                (Layer::Flatten, Shape::Image([h, w, c])) => {
                    (Op::Flatten, Shape::Vector(h * w * c))
                }
                (Layer::Flatten, Shape::Vector(n)) => (Op::Flatten, Shape::Vector(n)),
                (Layer::Reshape { shape: target }, Shape::Vector(n)) => {
                    let [h, w, c] = target[..] else {
                        return Err(fail(
                            index,
                            format!("reshape target {target:?} is not [h, w, c]"),
                        ));
                    };
                    let (h, w, c) = (h as usize, w as usize, c as usize);
                    if h * w * c != n {
                        return Err(fail(
                            index,
                            format!("cannot reshape {n} units into {h}×{w}×{c}"),
                        ));
                    }
                    (Op::Reshape([h, w, c]), Shape::Image([h, w, c]))
                }
                (Layer::Activation(activation), shape @ (Shape::Image(_) | Shape::Vector(_))) => {
                    (Op::Act(*activation), shape)
                }
                (Layer::GaussianHead { units }, Shape::Vector(n)) => {
                    let units = *units as usize;
                    denses.push(dense(n, units, rng, device));
                    denses.push(dense(n, units, rng, device));
                    let mean = denses.len() - 2;
                    (
                        Op::Head {
                            mean,
                            log_var: mean + 1,
                        },
                        Shape::Gaussian(units),
                    )
                }
                (layer, shape) => {
                    return Err(fail(
                        index,
                        format!("{layer:?} cannot take an input of shape {shape:?}"),
                    ));
                }
            };
            let planned = Shape::from_plan(&spec.output);
            let produced = match next {
                Shape::Gaussian(n) => Shape::Vector(n),
                other => other,
            };
            if planned != Some(produced) {
                return Err(fail(
                    index,
                    format!(
                        "the plan says this layer outputs {:?}, but it produces {produced:?}",
                        spec.output
                    ),
                ));
            }
            ops.push(op);
            shape = next;
        }
        Ok(Net {
            convs,
            deconvs,
            denses,
            ops,
            name: name.to_string(),
        })
    }

    /// Runs the network. Images are NCHW `[N, C, H, W]`; vectors `[N, units]`.
    pub fn forward(&self, input: Value<B>) -> Result<Value<B>, RuntimeError> {
        // Images travel as NHWC between the layers (see the module documentation).
        let mut value = match input {
            Value::Image(x) => Value::Image(x.permute([0, 2, 3, 1])),
            other => other,
        };
        for (index, op) in self.ops.iter().enumerate() {
            value = match (op, value) {
                (Op::Conv { index, geometry }, Value::Image(x)) => {
                    Value::Image(self.conv(*index, *geometry, x))
                }
                (Op::Deconv { index, geometry }, Value::Image(x)) => {
                    Value::Image(self.deconv(*index, *geometry, x))
                }
                (Op::Dense(i), Value::Vector(x)) => Value::Vector(self.denses[*i].forward(x)),
                (Op::Flatten, Value::Image(x)) => {
                    let [n, h, w, c] = x.dims();
                    Value::Vector(x.reshape([n, h * w * c]))
                }
                (Op::Flatten, Value::Vector(x)) => Value::Vector(x),
                (Op::Reshape([h, w, c]), Value::Vector(x)) => {
                    let [n, _] = x.dims();
                    Value::Image(x.reshape([n, *h, *w, *c]))
                }
                (Op::Act(activation), Value::Image(x)) => Value::Image(activate(*activation, x)),
                (Op::Act(activation), Value::Vector(x)) => Value::Vector(activate(*activation, x)),
                (Op::Head { mean, log_var }, Value::Vector(x)) => Value::Gaussian {
                    mean: self.denses[*mean].forward(x.clone()),
                    log_var: self.denses[*log_var].forward(x),
                },
                (op, other) => {
                    return Err(RuntimeError::Network {
                        network: self.name.clone(),
                        layer: index,
                        message: format!("{op:?} was given {}", other.kind()),
                    });
                }
            };
        }
        Ok(match value {
            Value::Image(x) => Value::Image(x.permute([0, 3, 1, 2])),
            other => other,
        })
    }

    /// `convs[index]` on an NHWC batch, as one matrix product where [`kernels`] covers the shape,
    /// else through burn's NCHW convolution.
    fn conv(&self, index: usize, geometry: ConvGeometry, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let conv = &self.convs[index];
        let bias = conv.bias.as_ref().map(|bias| bias.val());
        kernels::conv2d_nhwc(x.clone(), conv.weight.val(), bias, geometry)
            .unwrap_or_else(|| conv.forward(x.permute([0, 3, 1, 2])).permute([0, 2, 3, 1]))
    }

    /// `deconvs[index]` on an NHWC batch, like [`Net::conv`].
    fn deconv(&self, index: usize, geometry: DeconvGeometry, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let deconv = &self.deconvs[index];
        let bias = deconv.bias.as_ref().map(|bias| bias.val());
        kernels::conv_transpose2d_nhwc(x.clone(), deconv.weight.val(), bias, geometry)
            .unwrap_or_else(|| {
                deconv
                    .forward(x.permute([0, 3, 1, 2]))
                    .permute([0, 2, 3, 1])
            })
    }

    /// Every dense, conv and transposed-conv layer's (weight, bias) as host f32 arrays with burn's
    /// shapes, in build order, named `<net>/<kind><i>`; for export.
    pub fn named_weights(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut out = Vec::new();
        let mut push = |name: String, tensor_data: TensorData| {
            let shape = tensor_data.shape.to_vec();
            let values = tensor_data.to_vec::<f32>().unwrap_or_default();
            out.push((name, shape, values));
        };
        for (i, conv) in self.convs.iter().enumerate() {
            push(
                format!("{}/conv{i}/kernel", self.name),
                conv.weight.val().to_data(),
            );
            if let Some(bias) = &conv.bias {
                push(format!("{}/conv{i}/bias", self.name), bias.val().to_data());
            }
        }
        for (i, deconv) in self.deconvs.iter().enumerate() {
            push(
                format!("{}/deconv{i}/kernel", self.name),
                deconv.weight.val().to_data(),
            );
            if let Some(bias) = &deconv.bias {
                push(
                    format!("{}/deconv{i}/bias", self.name),
                    bias.val().to_data(),
                );
            }
        }
        for (i, layer) in self.denses.iter().enumerate() {
            push(
                format!("{}/dense{i}/kernel", self.name),
                layer.weight.val().to_data(),
            );
            if let Some(bias) = &layer.bias {
                push(format!("{}/dense{i}/bias", self.name), bias.val().to_data());
            }
        }
        out
    }
}

fn activate<B: Backend, const D: usize>(activation: Activation, x: Tensor<B, D>) -> Tensor<B, D> {
    match activation {
        Activation::Relu => relu(x),
        Activation::LeakyRelu { slope } => leaky_relu_tf(x, slope),
        Activation::Tanh => tanh(x),
        Activation::Sigmoid => sigmoid(x),
    }
}

/// TF1's `tf.nn.leaky_relu`, the reference's activation, derivative at 0 included: there it is the
/// slope, as in TF's `LeakyReluGrad` (`features > 0 ? g : g·alpha`) and PyTorch. burn 0.21's
/// `leaky_relu` selects on `x < 0`, so its gradient at an exact 0 is 1. Exact zeros are common, not
/// rare: a dSprites-like image is mostly black, biases start at zero, so every unit whose receptive
/// field lies on the background has pre-activation 0 at the first steps, and burn's rule flipped the
/// sign of half the discriminator's first conv-bias updates against the PyTorch twin
/// (`bench/infogan/run.sh`, parity mode, December 2026).
fn leaky_relu_tf<B: Backend, const D: usize>(x: Tensor<B, D>, slope: f64) -> Tensor<B, D> {
    let scaled = x.clone().mul_scalar(slope);
    let negative_or_zero = x.clone().lower_equal_elem(0.0);
    x.mask_where(negative_or_zero, scaled)
}

/// A Gaussian-encoder VAE: encoder image → (μ, log σ²), decoder z → logits.
#[derive(Module, Debug)]
pub struct Vae<B: Backend> {
    /// Image `[N, C, H, W]` → Gaussian `[N, D]`.
    pub encoder: Net<B>,
    /// `[N, D]` → logits `[N, C, H, W]`.
    pub decoder: Net<B>,
    /// log σ² of a Gaussian likelihood with a learned variance (shape `[1]`), else `None`.
    pub log_variance: Option<Param<Tensor<B, 1>>>,
}

impl<B: Backend> Vae<B> {
    /// Builds and initialises the VAE of `spec` (encoder first, then decoder, from `rng`).
    pub fn build(
        spec: &VaeSpec,
        rng: &mut RandomState,
        device: &B::Device,
    ) -> Result<Self, RuntimeError> {
        let encoder = Net::build("encoder", &spec.encoder, rng, device)?;
        let decoder = Net::build("decoder", &spec.decoder, rng, device)?;
        let learned = matches!(
            spec.reconstruction,
            disc_compiler::plan::Reconstruction::Gaussian {
                variance: disc_compiler::plan::Variance::Learned,
                ..
            }
        );
        let log_variance = learned.then(|| Param::from_tensor(Tensor::zeros([1], device)));
        Ok(Vae {
            encoder,
            decoder,
            log_variance,
        })
    }

    /// Encodes an NCHW image batch into (μ, log σ²), each `[N, D]`.
    pub fn encode(
        &self,
        images: Tensor<B, 4>,
    ) -> Result<(Tensor<B, 2>, Tensor<B, 2>), RuntimeError> {
        match self.encoder.forward(Value::Image(images))? {
            Value::Gaussian { mean, log_var } => Ok((mean, log_var)),
            other => Err(RuntimeError::Shape(format!(
                "the encoder must end in a Gaussian head, but it produced {}",
                other.kind()
            ))),
        }
    }

    /// Decodes latent codes `[N, D]` into logits `[N, C, H, W]`.
    pub fn decode(&self, codes: Tensor<B, 2>) -> Result<Tensor<B, 4>, RuntimeError> {
        match self.decoder.forward(Value::Vector(codes))? {
            Value::Image(logits) => Ok(logits),
            other => Err(RuntimeError::Shape(format!(
                "the decoder must produce an image, but it produced {}",
                other.kind()
            ))),
        }
    }
}

/// NHWC host batch (`n·h·w·c` values) → NCHW tensor `[n, c, h, w]` on `device`.
pub fn images_to_tensor<B: Backend>(
    nhwc: Vec<f32>,
    [n, h, w, c]: [usize; 4],
    device: &B::Device,
) -> Tensor<B, 4> {
    Tensor::<B, 4>::from_data(TensorData::new(nhwc, [n, h, w, c]), device).permute([0, 3, 1, 2])
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::{Tensor, TensorData};

    use super::leaky_relu_tf;

    /// Values and derivatives of TF1's leaky ReLU, at 0 too: the slope there (TF's `LeakyReluGrad`,
    /// PyTorch), where burn's own `leaky_relu` gives 1.
    #[test]
    fn leaky_relu_has_the_slope_as_its_derivative_at_zero() {
        let device = Default::default();
        let x = Tensor::<Autodiff<Flex>, 1>::from_data(
            TensorData::new(vec![-2.0f32, 0.0, 3.0], [3]),
            &device,
        )
        .require_grad();
        let y = leaky_relu_tf(x.clone(), 0.2);
        let grads = y.clone().sum().backward();
        let values: Vec<f32> = y.into_data().to_vec().expect("f32 values");
        let slopes: Vec<f32> = x
            .grad(&grads)
            .expect("x requires a gradient")
            .into_data()
            .to_vec()
            .expect("f32 gradient");
        assert_eq!(values, vec![-0.4, 0.0, 3.0]);
        assert_eq!(slopes, vec![0.2, 0.2, 1.0]);
    }
}
