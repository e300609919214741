//! Convolutions as one matrix product each, in NHWC layout, so that training runs on gemm.
//!
//! burn's CPU convolution builds its im2col tile by tile, computes a weight gradient as another
//! convolution with batch and channels swapped, and runs transposed convolutions through the same
//! machinery; on the reference model that is about five times slower than PyTorch. An earlier
//! rewrite here used padding, space-to-depth permutations and shifted slices: exact, but burn-flex
//! copies a permuted or sliced tensor that does not collapse to two axes one element at a time
//! (its `StridedIter`), and those copies, forward and in autodiff's backward, took over half of a
//! training step (perf, December 2026). So every rearrangement is now a *row gather* through a
//! precomputed index table, an operation burn has on every backend, with a scatter-add as its
//! derivative; both move whole contiguous rows (the C channels of a pixel):
//!
//! * **Convolution** (kernel k, stride s, explicit padding): im2col as one gather. The input's
//!   pixels are the rows of `[N·H·W + 1, C]`, the extra row all zeros; row `(n, oy, ox, ky, kx)`
//!   of the gather is input pixel `(n, s·oy + ky − top, s·ox + kx − left)`, or the zero row where
//!   that falls in the padding. Then one gemm `[N·OH·OW, k²·C] × [k²·C, F]`.
//! * **Transposed convolution**: the adjoint. One gemm `[N·H·W, C] × [C, k²·F]` gives every
//!   input pixel's contribution to each of its k² output pixels, and one scatter-add sums them
//!   into `[N·OH·OW, F]` (contributions cropped by the padding go to a discarded extra row). No
//!   product is spent on inserted zeros, and every stride, padding and output padding is covered.
//!
//! The index tables depend only on the shapes, so they are built once per shape and device and
//! kept ([`index_table`]). `runtime/tests/kernels.rs` checks forward values and gradients
//! against burn's `Conv2d` and `ConvTranspose2d`.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use burn::tensor::ops::PadMode;
use burn::tensor::{IndexingUpdateOp, Int, TensorData};

/// A convolution's stride and explicit zero padding `[top, left, bottom, right]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    pub stride: usize,
    pub padding: [usize; 4],
}

/// A transposed convolution's stride, padding (both sides) and extra output rows/columns, with
/// burn's meaning: `out = (in − 1)·stride − 2·padding + kernel + padding_out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeconvGeometry {
    pub stride: usize,
    pub padding: usize,
    pub padding_out: usize,
}

/// Which rearrangement an index table describes, with every size it depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Table {
    /// The im2col gather of a convolution: `[n, h, w]` input pixels, kernel `k`.
    Im2col {
        input: [usize; 3],
        kernel: usize,
        geometry: ConvGeometry,
    },
    /// The scatter of a transposed convolution's contributions: `[n, h, w]` input pixels.
    Col2im {
        input: [usize; 3],
        kernel: usize,
        geometry: DeconvGeometry,
    },
}

/// Index tables by backend, device and rearrangement. A study trains a handful of shapes, each
/// table a few MB at most; the cache is cleared if it ever grows past [`TABLES_KEPT`] entries
/// (e.g. evaluation at many batch sizes), so it cannot grow without bound.
type TableCache = HashMap<(TypeId, String, Table), Arc<dyn Any + Send + Sync>>;
static TABLES: Mutex<Option<TableCache>> = Mutex::new(None);
const TABLES_KEPT: usize = 256;

/// The index table `table` on `device`, built by `build` the first time.
fn index_table<B: Backend>(
    table: Table,
    device: &B::Device,
    build: impl FnOnce() -> Vec<i64>,
) -> Tensor<B, 1, Int> {
    let key = (TypeId::of::<B>(), format!("{device:?}"), table);
    let cached = TABLES
        .lock()
        .ok()
        .and_then(|tables| tables.as_ref()?.get(&key).cloned());
    if let Some(tensor) = cached.and_then(|any| any.downcast_ref::<Tensor<B, 1, Int>>().cloned()) {
        return tensor;
    }
    let indices = build();
    let len = indices.len();
    let tensor = Tensor::<B, 1, Int>::from_data(TensorData::new(indices, [len]), device);
    if let Ok(mut tables) = TABLES.lock() {
        let tables = tables.get_or_insert_with(HashMap::new);
        if tables.len() >= TABLES_KEPT {
            tables.clear();
        }
        tables.insert(key, Arc::new(tensor.clone()));
    }
    tensor
}

/// Zero-pads `[N, H, W, C]` by `rows` (above, below) and `columns` (left, right), as two
/// concatenations of two-axis views (`[N·H, W·C]`, then `[N, H'·W'·C]`). burn's `pad` writes into
/// a slice of a 4-axis tensor, whose autodiff adjoint is a 4-axis slice that burn-flex copies one
/// element at a time; the adjoints of these concatenations are two-axis slices, which it copies
/// row by row.
fn pad_nhwc<B: Backend>(x: Tensor<B, 4>, rows: [usize; 2], columns: [usize; 2]) -> Tensor<B, 4> {
    let [n, h, w, c] = x.dims();
    let x = pad_columns(x.reshape([n * h, w * c]), [columns[0] * c, columns[1] * c]);
    let width = w + columns[0] + columns[1];
    let x = pad_columns(
        x.reshape([n, h * width * c]),
        [rows[0] * width * c, rows[1] * width * c],
    );
    x.reshape([n, h + rows[0] + rows[1], width, c])
}

/// `[R, C]` with `before` zero columns on the left and `after` on the right.
fn pad_columns<B: Backend>(x: Tensor<B, 2>, [before, after]: [usize; 2]) -> Tensor<B, 2> {
    if before == 0 && after == 0 {
        return x;
    }
    let [rows, _] = x.dims();
    let device = x.device();
    let zeros = |columns: usize| (columns > 0).then(|| Tensor::zeros([rows, columns], &device));
    let parts: Vec<Tensor<B, 2>> = zeros(before)
        .into_iter()
        .chain(Some(x))
        .chain(zeros(after))
        .collect();
    Tensor::cat(parts, 1)
}

/// Adds a `[F]` bias to the rows of `[R, F]`.
fn add_bias<B: Backend>(y: Tensor<B, 2>, bias: Option<Tensor<B, 1>>) -> Tensor<B, 2> {
    match bias {
        Some(bias) => {
            let f = bias.dims()[0];
            y + bias.reshape([1, f])
        }
        None => y,
    }
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
    let [n, h, w, c] = x.dims();
    let [f, _, k, _] = weight.dims();
    let s = geometry.stride.max(1);
    let [top, left, bottom, right] = geometry.padding;
    let (padded_h, padded_w) = (h + top + bottom, w + left + right);
    if padded_h < k || padded_w < k || k == 0 {
        return None;
    }
    let out = [(padded_h - k) / s + 1, (padded_w - k) / s + 1];
    // The input zero-padded so that every tap reads inside it, and as wide as a whole number of
    // s-pixel units: a row of the gather is one unit (s pixels × C channels, contiguous in NHWC),
    // so a window row of k pixels is ⌈k/s⌉ units. Rows s times wider than single pixels copy
    // about twice as fast, and forward and backward both gather or scatter that many fewer rows.
    let taps = k.div_ceil(s);
    let rows_needed = ((out[0] - 1) * s + k).max(h + top);
    let units = ((out[1] - 1) * s + taps * s).max(w + left).div_ceil(s);
    let device = x.device();
    let table = Table::Im2col {
        input: [n, h, w],
        kernel: k,
        geometry,
    };
    let indices = index_table::<B>(table, &device, || {
        let mut indices = Vec::with_capacity(n * out[0] * out[1] * k * taps);
        for image in 0..n {
            for oy in 0..out[0] {
                for ox in 0..out[1] {
                    for ky in 0..k {
                        let row = (image * rows_needed + oy * s + ky) * units;
                        indices.extend((0..taps).map(|a| (row + ox + a) as i64));
                    }
                }
            }
        }
        indices
    });
    let x = pad_nhwc(
        x,
        [top, rows_needed - h - top],
        [left, units * s - w - left],
    );
    // Kernel columns padded with zeros to ⌈k/s⌉·s, in the gather's (ky, kx, c) order.
    let matrix = weight
        .pad([(0, 0), (0, taps * s - k)], PadMode::Constant(0.0))
        .permute([2, 3, 1, 0])
        .reshape([k * taps * s * c, f]);
    let y = x
        .reshape([n * rows_needed * units, s * c])
        .select(0, indices)
        .reshape([n * out[0] * out[1], k * taps * s * c])
        .matmul(matrix);
    Some(add_bias(y, bias).reshape([n, out[0], out[1], f]))
}

/// `[N, H, W, C]` through a transposed convolution with burn's `[C, F, k, k]` kernel →
/// `[N, OH, OW, F]`, exactly as burn's `conv_transpose2d` (dilation 1, one group) computes it in
/// NCHW. `None` when the output would be empty.
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
    let extent = |size: usize| {
        (size.checked_sub(1)? * s + k + geometry.padding_out)
            .checked_sub(2 * p)
            .filter(|&extent| extent > 0)
    };
    let out = [extent(h)?, extent(w)?];
    let outputs = n * out[0] * out[1];
    let device = x.device();
    let table = Table::Col2im {
        input: [n, h, w],
        kernel: k,
        geometry,
    };
    let indices = index_table::<B>(table, &device, || {
        let cropped = outputs as i64;
        let mut indices = Vec::with_capacity(n * h * w * k * k);
        for image in 0..n {
            for iy in 0..h {
                for ix in 0..w {
                    for ky in 0..k {
                        let y = (iy * s + ky).checked_sub(p).filter(|&y| y < out[0]);
                        for kx in 0..k {
                            let x = (ix * s + kx).checked_sub(p).filter(|&x| x < out[1]);
                            indices.push(match (y, x) {
                                (Some(y), Some(x)) => ((image * out[0] + y) * out[1] + x) as i64,
                                _ => cropped,
                            });
                        }
                    }
                }
            }
        }
        indices
    });
    // Columns in the scatter's (ky, kx, f) order.
    let matrix = weight.permute([0, 2, 3, 1]).reshape([c, k * k * f]);
    let contributions = x
        .reshape([n * h * w, c])
        .matmul(matrix)
        .reshape([n * h * w * k * k, f]);
    let y = Tensor::zeros([outputs + 1, f], &device)
        .select_assign(0, indices, contributions, IndexingUpdateOp::Add)
        .slice([0..outputs, 0..f]);
    Some(add_bias(y, bias).reshape([n, out[0], out[1], f]))
}
