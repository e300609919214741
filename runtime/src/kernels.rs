//! Convolutions as one matrix product each, in NHWC layout, so that training runs on gemm.
//!
//! burn's CPU convolution builds its im2col tile by tile, computes a weight gradient as another
//! convolution with batch and channels swapped, and runs transposed convolutions through the same
//! machinery; on the reference model that is about five times slower than PyTorch. Here a
//! convolution is rewritten exactly, with ordinary tensor operations only (so autodiff derives the
//! backward pass from them, on every backend):
//!
//! * **Strided convolution** (kernel k, stride s): zero-pad, *space-to-depth* (every s×s block of
//!   pixels becomes one pixel with s²·C channels), which turns it into a stride-1 convolution with a
//!   ⌈k/s⌉×⌈k/s⌉ kernel; its ⌈k/s⌉² shifted views are concatenated along the channels (im2col from
//!   a handful of slices) and multiplied by the rearranged kernel: one `[N·OH·OW, K] × [K, F]` gemm.
//!   A 4×4 stride-2 convolution becomes 4 slices and one gemm; a 2×2 stride-2 one no slice at all.
//! * **Transposed convolution** (kernel k, stride s): *sub-pixel convolution*. Output row
//!   `t = s·i − p + ky` depends on ⌈k/s⌉ consecutive input rows, the same rows for all s phases
//!   `(t + p) mod s`; so a stride-1 ⌈k/s⌉×⌈k/s⌉ convolution of the input (padded by ⌈k/s⌉ − 1)
//!   with s²·F outputs computes every phase at once, and a pixel shuffle plus a crop lays them out.
//!
//! Kernels whose size is not a multiple of the stride are zero-padded to one; the extra products
//! are exact zeros. Shapes the rewrite does not cover (a transposed convolution whose output
//! padding exceeds its padding) return `None`, and the caller uses burn's own operation.
//! `runtime/tests/kernels.rs` checks forward values and gradients against burn's modules.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn::tensor::ops::PadMode;

/// A convolution's stride and explicit zero padding `[top, left, bottom, right]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    pub stride: usize,
    pub padding: [usize; 4],
}

/// A transposed convolution's stride, padding (both sides) and extra output rows/columns, with
/// burn's meaning: `out = (in − 1)·stride − 2·padding + kernel + padding_out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeconvGeometry {
    pub stride: usize,
    pub padding: usize,
    pub padding_out: usize,
}

/// Pads a square kernel's two last axes with zeros up to `size`.
fn pad_kernel<B: Backend>(weight: Tensor<B, 4>, size: usize) -> Tensor<B, 4> {
    let k = weight.dims()[2];
    if size == k {
        weight
    } else {
        weight.pad([(0, size - k), (0, size - k)], PadMode::Constant(0.0))
    }
}

/// NHWC → the `taps × taps` stride-1 windows of every output position, concatenated along the
/// channels in (row tap, column tap, channel) order: `[N, out_h, out_w, taps²·C]`.
fn windows<B: Backend>(x: Tensor<B, 4>, taps: usize, out: [usize; 2]) -> Tensor<B, 4> {
    if taps == 1 {
        return x;
    }
    let [n, _, _, c] = x.dims();
    let mut parts = Vec::with_capacity(taps * taps);
    for a in 0..taps {
        for b in 0..taps {
            parts.push(x.clone().slice([0..n, a..a + out[0], b..b + out[1], 0..c]));
        }
    }
    Tensor::cat(parts, 3)
}

/// Adds a `[F]` bias to the last axis.
fn add_bias<B: Backend>(y: Tensor<B, 4>, bias: Option<Tensor<B, 1>>) -> Tensor<B, 4> {
    match bias {
        Some(bias) => {
            let f = bias.dims()[0];
            y + bias.reshape([1, 1, 1, f])
        }
        None => y,
    }
}

/// Where a convolution's ⌈k/s⌉² kernel taps are gathered: both are exact, they differ in the
/// size of the tensor the slices copy (and autodiff's slice backward fills).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taps {
    /// im2col: the input's shifted windows are concatenated, then one gemm
    /// `[N·OH·OW, taps²·s²·C] × [taps²·s²·C, F]`.
    Input,
    /// One gemm `[N·G·G, s²·C] × [s²·C, taps²·F]` per space-to-depth pixel, then the taps' shifted
    /// partial outputs are summed. Smaller when F < s²·C (a strided convolution's usual shape).
    Output,
}

/// `[N, H, W, C]` convolved with burn's `[F, C, k, k]` kernel → `[N, OH, OW, F]`, exactly as
/// burn's `conv2d` with that stride and padding (dilation 1, one group) computes it in NCHW.
/// `None` when the padded input is smaller than the kernel.
pub fn conv2d_nhwc<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    geometry: ConvGeometry,
) -> Option<Tensor<B, 4>> {
    let [_, _, _, c] = x.dims();
    let [f, _, _, _] = weight.dims();
    let s = geometry.stride.max(1);
    let taps = if f < s * s * c {
        Taps::Output
    } else {
        Taps::Input
    };
    conv2d_nhwc_with(x, weight, bias, geometry, taps)
}

/// [`conv2d_nhwc`] with the gathering of the taps chosen by the caller.
pub fn conv2d_nhwc_with<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    geometry: ConvGeometry,
    gather: Taps,
) -> Option<Tensor<B, 4>> {
    let [n, h, w, c] = x.dims();
    let [f, _, k, _] = weight.dims();
    let s = geometry.stride.max(1);
    let [top, left, bottom, right] = geometry.padding;
    let (padded_h, padded_w) = (h + top + bottom, w + left + right);
    if padded_h < k || padded_w < k {
        return None;
    }
    let out = [(padded_h - k) / s + 1, (padded_w - k) / s + 1];
    let taps = k.div_ceil(s);
    // The space-to-depth grid: out + taps − 1 blocks of s pixels per axis.
    let grid = [out[0] + taps - 1, out[1] + taps - 1];
    let need = [grid[0] * s, grid[1] * s];
    let x = x.pad(
        [
            (0, 0),
            (top, need[0].saturating_sub(h + top)),
            (left, need[1].saturating_sub(w + left)),
            (0, 0),
        ],
        PadMode::Constant(0.0),
    );
    let x = if x.dims()[1] > need[0] || x.dims()[2] > need[1] {
        x.slice([0..n, 0..need[0], 0..need[1], 0..c])
    } else {
        x
    };
    let depth = if s == 1 {
        x
    } else {
        x.reshape([n, grid[0], s, grid[1], s, c])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([n, grid[0], grid[1], s * s * c])
    };
    // The kernel as [F, C, a, p, b, q] with w[f, c, a·s + p, b·s + q] (a, b the taps).
    let kernel = pad_kernel(weight, taps * s).reshape([f, c, taps, s, taps, s]);
    let y = if taps == 1 || gather == Taps::Input {
        let columns = windows(depth, taps, out);
        let inner = taps * taps * s * s * c;
        // Rows in the columns' order (a, b, p, q, c).
        let matrix = kernel.permute([2, 4, 3, 5, 1, 0]).reshape([inner, f]);
        columns
            .reshape([n * out[0] * out[1], inner])
            .matmul(matrix)
            .reshape([n, out[0], out[1], f])
    } else {
        // Rows (p, q, c) as the depth's channels, columns (a, b, f).
        let matrix = kernel
            .permute([3, 5, 1, 2, 4, 0])
            .reshape([s * s * c, taps * taps * f]);
        let partial = depth
            .reshape([n * grid[0] * grid[1], s * s * c])
            .matmul(matrix)
            .reshape([n, grid[0], grid[1], taps * taps * f]);
        let mut sum: Option<Tensor<B, 4>> = None;
        for a in 0..taps {
            for b in 0..taps {
                let first = (a * taps + b) * f;
                let part =
                    partial
                        .clone()
                        .slice([0..n, a..a + out[0], b..b + out[1], first..first + f]);
                sum = Some(match sum {
                    Some(sum) => sum + part,
                    None => part,
                });
            }
        }
        sum?
    };
    Some(add_bias(y, bias))
}

/// `[N, H, W, C]` through a transposed convolution with burn's `[C, F, k, k]` kernel →
/// `[N, OH, OW, F]`, exactly as burn's `conv_transpose2d` (dilation 1, one group) computes it in
/// NCHW. `None` when the output padding exceeds the padding (the output would extend past the
/// last sub-pixel window).
pub fn conv_transpose2d_nhwc<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    geometry: DeconvGeometry,
) -> Option<Tensor<B, 4>> {
    let [n, h, w, c] = x.dims();
    let [_, f, k, _] = weight.dims();
    let s = geometry.stride.max(1);
    let p = geometry.padding;
    let extent = |size: usize| ((size - 1) * s + k + geometry.padding_out).checked_sub(2 * p);
    let out = [extent(h)?, extent(w)?];
    let taps = k.div_ceil(s);
    let grid = [h + taps - 1, w + taps - 1];
    if out[0] == 0 || out[1] == 0 || p + out[0] > grid[0] * s || p + out[1] > grid[1] * s {
        return None;
    }
    let halo = taps - 1;
    let x = if halo == 0 {
        x
    } else {
        x.pad(
            [(0, 0), (halo, halo), (halo, halo), (0, 0)],
            PadMode::Constant(0.0),
        )
    };
    let columns = windows(x, taps, grid);
    let inner = taps * taps * c;
    // Column (u', v', c) of window tap (a, b) meets kernel row s·(taps − 1 − a) + ry: flip the tap
    // axes; outputs in (ry, rx, f) order for the pixel shuffle.
    let matrix = pad_kernel(weight, taps * s)
        .reshape([c, f, taps, s, taps, s])
        .flip([2, 4])
        .permute([2, 4, 0, 3, 5, 1])
        .reshape([inner, s * s * f]);
    let y = columns
        .reshape([n * grid[0] * grid[1], inner])
        .matmul(matrix);
    let y = if s == 1 {
        y.reshape([n, grid[0], grid[1], f])
    } else {
        y.reshape([n, grid[0], grid[1], s, s, f])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([n, grid[0] * s, grid[1] * s, f])
    };
    let y = if p == 0 && out == [grid[0] * s, grid[1] * s] {
        y
    } else {
        y.slice([0..n, p..p + out[0], p..p + out[1], 0..f])
    };
    Some(add_bias(y, bias))
}
