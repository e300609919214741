//! The matrix-product convolutions of `disc_runtime::kernels` against burn's own modules: the same
//! outputs and the same gradients (input, kernel, bias) on random data, for the reference model's
//! shapes and for odd ones (kernels not a multiple of the stride, asymmetric "same" padding).

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::tensor::{Tensor, TensorData};
use disc_data::RandomState;
use disc_runtime::kernels::{ConvGeometry, DeconvGeometry, conv_transpose2d_nhwc, conv2d_nhwc};

type B = Autodiff<Flex>;

fn random<const D: usize>(shape: [usize; D], rng: &mut RandomState) -> Tensor<B, D> {
    let values: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn host<const D: usize>(tensor: Tensor<Flex, D>) -> Vec<f32> {
    tensor.into_data().to_vec::<f32>().unwrap()
}

/// Largest |a − b| relative to the largest |b| (at least 1).
fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst <= 1e-4 * scale,
        "{what}: max difference {worst} (scale {scale})"
    );
}

/// The gradients of `Σ y·r` with respect to x, the kernel and the bias, with y computed by
/// `forward` from NCHW leaves.
struct Outcome {
    y: Vec<f32>,
    x: Vec<f32>,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

fn outcome(
    x: &Tensor<B, 4>,
    weight: &Tensor<B, 4>,
    bias: &Tensor<B, 1>,
    r: &Tensor<B, 4>,
    forward: impl Fn(Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 1>) -> Tensor<B, 4>,
) -> Outcome {
    let (x, weight, bias) = (
        x.clone().require_grad(),
        weight.clone().require_grad(),
        bias.clone().require_grad(),
    );
    let y = forward(x.clone(), weight.clone(), bias.clone());
    assert_eq!(y.dims(), r.dims(), "output shape");
    let grads = (y.clone() * r.clone()).sum().backward();
    Outcome {
        y: host(y.inner()),
        x: host(x.grad(&grads).unwrap()),
        weight: host(weight.grad(&grads).unwrap()),
        bias: host(bias.grad(&grads).unwrap()),
    }
}

/// Whatever computes y, the bias gradient of `Σ y·r` is r summed over the batch and the pixels:
/// checked by hand, not only against burn's layers (which a shared mistake would pass).
fn assert_bias_gradient_is_the_sum_of_r(what: &str, got: &Outcome, r: &Tensor<B, 4>) {
    let f = r.dims()[1];
    let by_hand = r
        .clone()
        .inner()
        .sum_dim(0)
        .sum_dim(2)
        .sum_dim(3)
        .reshape([f]);
    assert_close(
        &format!("{what}: bias gradient against Σ r"),
        &got.bias,
        &host(by_hand),
    );
}

fn compare(what: &str, got: Outcome, want: &Outcome) {
    assert_close(&format!("{what}: output"), &got.y, &want.y);
    assert_close(&format!("{what}: input gradient"), &got.x, &want.x);
    assert_close(
        &format!("{what}: kernel gradient"),
        &got.weight,
        &want.weight,
    );
    assert_close(&format!("{what}: bias gradient"), &got.bias, &want.bias);
}

/// (batch, height, width, in, out, kernel, stride, [top, left, bottom, right]).
type ConvCase = (usize, usize, usize, usize, usize, usize, usize, [usize; 4]);

#[test]
fn strided_convolutions_equal_burns() {
    let cases: [ConvCase; 8] = [
        (3, 64, 64, 1, 4, 4, 2, [1, 1, 1, 1]), // reference conv 1
        (2, 16, 16, 5, 6, 4, 2, [1, 1, 1, 1]), // reference conv 2
        (2, 8, 8, 3, 4, 2, 2, [0; 4]),         // reference convs 3–4 (valid)
        (2, 9, 7, 3, 4, 3, 2, [0, 1, 1, 1]),   // odd kernel, asymmetric same padding
        (2, 7, 9, 2, 3, 3, 1, [1, 1, 1, 1]),   // stride 1
        (2, 11, 10, 2, 3, 5, 3, [1, 2, 2, 1]), // kernel not a multiple of the stride
        (1, 9, 9, 2, 2, 2, 2, [0; 4]),         // valid, input rows left over
        (2, 5, 5, 2, 3, 1, 1, [0; 4]),         // 1×1
    ];
    let mut rng = RandomState::new(7);
    for (n, h, w, c, f, k, s, [top, left, bottom, right]) in cases {
        let what = format!("conv {n}×{h}×{w}×{c} → {f}, kernel {k}, stride {s}");
        let x = random([n, c, h, w], &mut rng);
        let weight = random([f, c, k, k], &mut rng);
        let bias = random([f], &mut rng);
        let out = [
            (h + top + bottom - k) / s + 1,
            (w + left + right - k) / s + 1,
        ];
        let r = random([n, f, out[0], out[1]], &mut rng);
        let want = outcome(&x, &weight, &bias, &r, |x, weight, bias| {
            let mut conv = Conv2dConfig::new([c, f], [k, k])
                .with_stride([s, s])
                .with_padding(PaddingConfig2d::Explicit(top, left, bottom, right))
                .init::<B>(&Default::default());
            conv.weight = Param::from_tensor(weight);
            conv.bias = Some(Param::from_tensor(bias));
            conv.forward(x)
        });
        let geometry = ConvGeometry {
            stride: s,
            padding: [top, left, bottom, right],
        };
        let got = outcome(&x, &weight, &bias, &r, |x, weight, bias| {
            conv2d_nhwc(x.permute([0, 2, 3, 1]), weight, Some(bias), geometry)
                .expect("the kernel covers this shape")
                .permute([0, 3, 1, 2])
        });
        assert_bias_gradient_is_the_sum_of_r(&what, &got, &r);
        compare(&what, got, &want);
    }
}

/// (batch, height, width, in, out, kernel, stride, padding, output padding).
type DeconvCase = (
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

#[test]
fn transposed_convolutions_equal_burns() {
    let cases: [DeconvCase; 9] = [
        (2, 4, 4, 6, 5, 4, 2, 1, 0),   // reference deconvs 1–3
        (2, 16, 16, 4, 1, 4, 2, 1, 0), // reference deconv 4 (one output channel)
        (2, 5, 6, 3, 4, 3, 2, 1, 1),   // TF same, odd kernel
        (2, 4, 5, 3, 2, 2, 2, 0, 0),   // kernel = stride
        (2, 5, 4, 2, 3, 3, 1, 1, 0),   // stride 1
        (1, 4, 4, 2, 3, 5, 3, 1, 0),   // kernel not a multiple of the stride
        (2, 3, 3, 2, 2, 4, 2, 0, 0),   // TF valid
        (2, 3, 3, 2, 2, 1, 2, 0, 1),   // kernel smaller than the stride (TF valid and same)
        (1, 3, 3, 2, 2, 2, 2, 0, 1),   // output padding past the last input's reach
    ];
    let mut rng = RandomState::new(11);
    for (n, h, w, c, f, k, s, p, po) in cases {
        let what =
            format!("deconv {n}×{h}×{w}×{c} → {f}, kernel {k}, stride {s}, padding {p}/{po}");
        let x = random([n, c, h, w], &mut rng);
        let weight = random([c, f, k, k], &mut rng);
        let bias = random([f], &mut rng);
        let out = [(h - 1) * s + k + po - 2 * p, (w - 1) * s + k + po - 2 * p];
        let r = random([n, f, out[0], out[1]], &mut rng);
        let want = outcome(&x, &weight, &bias, &r, |x, weight, bias| {
            let mut deconv = ConvTranspose2dConfig::new([c, f], [k, k])
                .with_stride([s, s])
                .with_padding([p, p])
                .with_padding_out([po, po])
                .init::<B>(&Default::default());
            deconv.weight = Param::from_tensor(weight);
            deconv.bias = Some(Param::from_tensor(bias));
            deconv.forward(x)
        });
        let geometry = DeconvGeometry {
            stride: s,
            padding: p,
            padding_out: po,
        };
        let got = outcome(&x, &weight, &bias, &r, |x, weight, bias| {
            conv_transpose2d_nhwc(x.permute([0, 2, 3, 1]), weight, Some(bias), geometry)
                .expect("the kernel covers this shape")
                .permute([0, 3, 1, 2])
        });
        assert_bias_gradient_is_the_sum_of_r(&what, &got, &r);
        compare(&what, got, &want);
    }
}

#[test]
fn empty_outputs_are_refused_not_miscomputed() {
    let mut rng = RandomState::new(3);
    let x = random([1, 3, 3, 2], &mut rng);
    // A kernel larger than the padded input.
    let weight = random([2, 2, 5, 5], &mut rng);
    let geometry = ConvGeometry {
        stride: 1,
        padding: [0; 4],
    };
    assert!(conv2d_nhwc(x.clone(), weight, None, geometry).is_none());
    // A transposed convolution whose padding crops everything.
    let weight = random([2, 2, 1, 1], &mut rng);
    let geometry = DeconvGeometry {
        stride: 1,
        padding: 2,
        padding_out: 0,
    };
    assert!(conv_transpose2d_nhwc(x, weight, None, geometry).is_none());
}
