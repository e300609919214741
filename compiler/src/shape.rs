//! Shape inference (placeholder written by FE-CORE so the crate compiles; FE-INFRA owns this file).

use crate::plan::{Layer, LayerSpec, Network, Padding};

/// A layer that does not accept its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {layer_index}: {kind}")]
pub struct ShapeError {
    /// Which layer (from 0).
    pub layer_index: usize,
    /// Why.
    pub kind: ShapeErrorKind,
}

/// Why a layer fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeErrorKind {
    /// Wrong rank.
    #[error("expects {expected}, found {found:?}")]
    Rank {
        /// Expected.
        expected: &'static str,
        /// Found.
        found: Vec<u32>,
    },
    /// Reshape size mismatch.
    #[error("cannot reshape {from:?} into {to:?}")]
    Reshape {
        /// From.
        from: Vec<u32>,
        /// To.
        to: Vec<u32>,
    },
    /// Conv too large.
    #[error("kernel larger than input {found:?}")]
    TooSmall {
        /// Found.
        found: Vec<u32>,
    },
}

/// Infers shapes and parameter counts.
pub fn infer_network(input: &[u32], layers: &[Layer]) -> Result<Network, ShapeError> {
    let mut shape = input.to_vec();
    let mut specs = Vec::new();
    let mut params: u64 = 0;
    for (i, layer) in layers.iter().enumerate() {
        let err = |kind| ShapeError { layer_index: i, kind };
        let out = match layer {
            Layer::Conv2d { filters, kernel, stride, padding } | Layer::ConvTranspose2d { filters, kernel, stride, padding } => {
                let [h, w, c] = shape.as_slice() else {
                    return Err(err(ShapeErrorKind::Rank { expected: "an image [h, w, c]", found: shape.clone() }));
                };
                params += u64::from(*kernel) * u64::from(*kernel) * u64::from(*c) * u64::from(*filters) + u64::from(*filters);
                let conv = matches!(layer, Layer::Conv2d { .. });
                let f = |x: u32| -> Option<u32> {
                    match (conv, padding) {
                        (true, Padding::Same) => Some(x.div_ceil(*stride)),
                        (true, Padding::Valid) => x.checked_sub(*kernel).map(|d| d / stride + 1),
                        (false, Padding::Same) => Some(x * stride),
                        (false, Padding::Valid) => Some((x - 1) * stride + kernel),
                    }
                };
                match (f(*h), f(*w)) {
                    (Some(a), Some(b)) => vec![a, b, *filters],
                    _ => return Err(err(ShapeErrorKind::TooSmall { found: shape.clone() })),
                }
            }
            Layer::Dense { units } => {
                let [n] = shape.as_slice() else {
                    return Err(err(ShapeErrorKind::Rank { expected: "a vector", found: shape.clone() }));
                };
                params += u64::from(*n) * u64::from(*units) + u64::from(*units);
                vec![*units]
            }
            Layer::GaussianHead { units } => {
                let [n] = shape.as_slice() else {
                    return Err(err(ShapeErrorKind::Rank { expected: "a vector", found: shape.clone() }));
                };
                params += 2 * (u64::from(*n) * u64::from(*units) + u64::from(*units));
                vec![*units]
            }
            Layer::Flatten => vec![shape.iter().product()],
            Layer::Reshape { shape: to } => {
                if shape.iter().product::<u32>() != to.iter().product::<u32>() {
                    return Err(err(ShapeErrorKind::Reshape { from: shape.clone(), to: to.clone() }));
                }
                to.clone()
            }
            Layer::Activation(_) => shape.clone(),
        };
        specs.push(LayerSpec { layer: layer.clone(), input: shape.clone(), output: out.clone() });
        shape = out;
    }
    Ok(Network { input: input.to_vec(), layers: specs, output: shape, parameters: params })
}
