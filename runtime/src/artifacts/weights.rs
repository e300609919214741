//! The final model's weights as a safetensors file that any safetensors reader can open.
//!
//! Format of `model.safetensors` (readable without disc, e.g. `safetensors.numpy.load_file`):
//! - every tensor is little-endian `f32`, named by its layer path, e.g. `encoder/e1/kernel`,
//!   `encoder/means/bias`, `decoder/d5/kernel` (the names are the training loop's; the reference's
//!   TF variable names are the model to follow);
//! - layouts are the reference's (TensorFlow, NHWC): a convolution kernel is `[kh, kw, in, out]`,
//!   a transposed-convolution kernel `[kh, kw, out, in]`, a dense kernel `[in, out]`, a bias `[n]`.
//!   A dense layer after a flatten indexes its inputs in (H, W, C) order, because disc's flatten
//!   follows (H, W, C) order (plan conventions); so the kernel is the reference's, row for row;
//! - the header's `__metadata__` holds one key, `disc`, whose value is a JSON object (sorted keys)
//!   with at least `format` = [`WEIGHTS_FORMAT`]. One key keeps the file byte-for-byte
//!   deterministic: the safetensors crate writes metadata from a `HashMap`.
//!
//! [`to_reference_layout`] converts from burn's layouts (convolution `[out, in, kh, kw]`, transposed
//! convolution `[in, out, kh, kw]`, linear `[in, out]`). This module never touches burn types.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::error::ArtifactsError;

/// Value of `format` in the metadata: bump it when the layout conventions above change.
pub const WEIGHTS_FORMAT: &str = "disc-weights-1";

/// Metadata key under which disc stores its JSON object.
const METADATA_KEY: &str = "disc";

/// A named f32 tensor in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, row-major.
    pub data: Vec<f32>,
}

impl NamedTensor {
    fn check_length(&self) -> Result<(), ArtifactsError> {
        let expected: usize = self.shape.iter().product();
        if self.data.len() != expected {
            return Err(ArtifactsError::TensorLength {
                name: self.name.clone(),
                shape: self.shape.clone(),
                expected,
                actual: self.data.len(),
            });
        }
        Ok(())
    }
}

/// The layout a tensor comes in from the training backend (burn's conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceLayout {
    /// Already in the reference layout (biases, dense kernels `[in, out]`, scalars).
    Reference,
    /// A convolution kernel `[out, in, kh, kw]` → `[kh, kw, in, out]`.
    ConvOutInHw,
    /// A transposed-convolution kernel `[in, out, kh, kw]` → `[kh, kw, out, in]`.
    ConvTransposeInOutHw,
}

/// Converts a tensor from the backend's layout to the reference layout documented above.
pub fn to_reference_layout(
    tensor: NamedTensor,
    layout: SourceLayout,
) -> Result<NamedTensor, ArtifactsError> {
    tensor.check_length()?;
    let layout_name = match layout {
        SourceLayout::Reference => return Ok(tensor),
        SourceLayout::ConvOutInHw => "convolution",
        SourceLayout::ConvTransposeInOutHw => "transposed convolution",
    };
    let [first, second, kernel_height, kernel_width] = tensor.shape[..] else {
        return Err(ArtifactsError::TensorRank {
            name: tensor.name,
            layout: layout_name,
            rank: tensor.shape.len(),
            expected: 4,
        });
    };
    // Both conversions are the same permutation: (a, b, kh, kw) → (kh, kw, b, a). For a convolution
    // (a, b) = (out, in) gives [kh, kw, in, out]; for a transposed one (in, out) gives
    // [kh, kw, out, in], which is TF's conv2d_transpose kernel layout.
    let mut data = vec![0.0; tensor.data.len()];
    for a in 0..first {
        for b in 0..second {
            for y in 0..kernel_height {
                for x in 0..kernel_width {
                    let source = ((a * second + b) * kernel_height + y) * kernel_width + x;
                    let target = ((y * kernel_width + x) * second + b) * first + a;
                    data[target] = tensor.data[source];
                }
            }
        }
    }
    Ok(NamedTensor {
        name: tensor.name,
        shape: vec![kernel_height, kernel_width, second, first],
        data,
    })
}

/// Serialises tensors (already in the reference layout) to safetensors bytes.
///
/// `metadata` goes into the header's `disc` JSON object next to `format`. Tensor order in the file
/// is the crate's (by name), so the output does not depend on the order given. Refuses duplicate
/// names, wrong lengths and NaN or infinite values (a model with those is not a result).
pub fn encode_safetensors(
    tensors: &[NamedTensor],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, ArtifactsError> {
    let mut names = BTreeSet::new();
    let mut bytes = Vec::with_capacity(tensors.len());
    for tensor in tensors {
        tensor.check_length()?;
        if !names.insert(tensor.name.as_str()) {
            return Err(ArtifactsError::DuplicateTensor {
                name: tensor.name.clone(),
            });
        }
        if let Some((offset, value)) = tensor
            .data
            .iter()
            .enumerate()
            .find(|(_, value)| !value.is_finite())
        {
            return Err(ArtifactsError::NonFiniteWeight {
                name: tensor.name.clone(),
                offset,
                value: *value,
            });
        }
        bytes.push(
            tensor
                .data
                .iter()
                .flat_map(|value| value.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
    }
    let mut views = Vec::with_capacity(tensors.len());
    for (tensor, data) in tensors.iter().zip(&bytes) {
        let view = TensorView::new(Dtype::F32, tensor.shape.clone(), data)
            .map_err(ArtifactsError::Safetensors)?;
        views.push((tensor.name.clone(), view));
    }
    let mut object = metadata.clone();
    object.insert("format".to_string(), WEIGHTS_FORMAT.to_string());
    let object = serde_json::to_string(&object).map_err(|source| ArtifactsError::Json {
        operation: "serialise",
        path: "model.safetensors metadata".into(),
        source,
    })?;
    let header = HashMap::from([(METADATA_KEY.to_string(), object)]);
    safetensors::serialize(views, Some(header)).map_err(ArtifactsError::Safetensors)
}

/// Reads safetensors bytes written by [`encode_safetensors`] (or any f32-only safetensors file):
/// the tensors sorted by name, and the `disc` metadata object (empty when absent).
pub fn decode_safetensors(
    bytes: &[u8],
) -> Result<(Vec<NamedTensor>, BTreeMap<String, String>), ArtifactsError> {
    let file = SafeTensors::deserialize(bytes).map_err(ArtifactsError::Safetensors)?;
    let mut tensors = Vec::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(ArtifactsError::TensorDtype {
                name,
                dtype: format!("{:?}", view.dtype()),
            });
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|word| f32::from_le_bytes([word[0], word[1], word[2], word[3]]))
            .collect();
        tensors.push(NamedTensor {
            name,
            shape: view.shape().to_vec(),
            data,
        });
    }
    tensors.sort_by(|left, right| left.name.cmp(&right.name));

    let (_, header) = SafeTensors::read_metadata(bytes).map_err(ArtifactsError::Safetensors)?;
    let metadata = match header
        .metadata()
        .as_ref()
        .and_then(|map| map.get(METADATA_KEY))
    {
        Some(object) => serde_json::from_str(object).map_err(|source| ArtifactsError::Json {
            operation: "parse",
            path: "model.safetensors metadata".into(),
            source,
        })?,
        None => BTreeMap::new(),
    };
    Ok((tensors, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, shape: &[usize]) -> NamedTensor {
        let len = shape.iter().product();
        NamedTensor {
            name: name.to_string(),
            shape: shape.to_vec(),
            data: (0..len).map(|i| i as f32 * 0.5 - 1.0).collect(),
        }
    }

    #[test]
    fn round_trip_keeps_names_shapes_values_and_metadata() {
        let tensors = vec![
            tensor("encoder/e5/kernel", &[1024, 256]),
            tensor("encoder/e5/bias", &[256]),
        ];
        let metadata = BTreeMap::from([("job_hash".to_string(), "0123456789abcdef".to_string())]);
        let bytes = encode_safetensors(&tensors, &metadata).expect("encode");
        let (decoded, read_metadata) = decode_safetensors(&bytes).expect("decode");
        let mut expected = tensors.clone();
        expected.sort_by(|left, right| left.name.cmp(&right.name));
        assert_eq!(decoded, expected);
        assert_eq!(
            read_metadata.get("format").map(String::as_str),
            Some(WEIGHTS_FORMAT)
        );
        assert_eq!(
            read_metadata.get("job_hash").map(String::as_str),
            Some("0123456789abcdef")
        );
    }

    #[test]
    fn output_is_deterministic_and_independent_of_input_order() {
        let forward = vec![tensor("a", &[2, 3]), tensor("b", &[4])];
        let backward = vec![tensor("b", &[4]), tensor("a", &[2, 3])];
        let metadata = BTreeMap::from([
            ("x".to_string(), "1".to_string()),
            ("y".to_string(), "2".to_string()),
        ]);
        let first = encode_safetensors(&forward, &metadata).expect("encode");
        assert_eq!(
            first,
            encode_safetensors(&backward, &metadata).expect("encode")
        );
    }

    #[test]
    fn the_file_follows_the_published_format() {
        // Header: u64 little-endian length, then JSON; data: raw little-endian f32.
        let bytes = encode_safetensors(&[tensor("w", &[2])], &BTreeMap::new()).expect("encode");
        let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        let header: serde_json::Value =
            serde_json::from_slice(&bytes[8..8 + header_len]).expect("JSON header");
        assert_eq!(header["w"]["dtype"], "F32");
        assert_eq!(header["w"]["shape"], serde_json::json!([2]));
        let data = &bytes[8 + header_len..];
        assert_eq!(
            data,
            [(-1.0f32).to_le_bytes(), (-0.5f32).to_le_bytes()].concat()
        );
    }

    #[test]
    fn conv_kernels_move_to_the_reference_layout() {
        // burn conv weight [out=2, in=3, kh=2, kw=2], value = 1000·o + 100·i + 10·y + x.
        let mut data = Vec::new();
        for o in 0..2 {
            for i in 0..3 {
                for y in 0..2 {
                    for x in 0..2 {
                        data.push((1000 * o + 100 * i + 10 * y + x) as f32);
                    }
                }
            }
        }
        let burn = NamedTensor {
            name: "e1/kernel".into(),
            shape: vec![2, 3, 2, 2],
            data,
        };
        let tf = to_reference_layout(burn, SourceLayout::ConvOutInHw).expect("convert");
        assert_eq!(tf.shape, vec![2, 2, 3, 2], "[kh, kw, in, out]");
        // Element [y=1, x=0, i=2, o=1] sits at ((1·2 + 0)·3 + 2)·2 + 1 = 17.
        assert_eq!(tf.data[17], 1210.0);
        assert_eq!(tf.data[0], 0.0);
        // Transposed convolutions use the same permutation: [in, out, kh, kw] → [kh, kw, out, in].
        let transposed = NamedTensor {
            name: "d/kernel".into(),
            shape: vec![2, 3, 2, 2],
            data: tf.data,
        };
        let again =
            to_reference_layout(transposed, SourceLayout::ConvTransposeInOutHw).expect("ok");
        assert_eq!(again.shape, vec![2, 2, 3, 2]);
    }

    #[test]
    fn errors_name_the_tensor() {
        let mut short = tensor("short", &[3]);
        short.data.pop();
        assert!(matches!(
            encode_safetensors(&[short], &BTreeMap::new()),
            Err(ArtifactsError::TensorLength {
                expected: 3,
                actual: 2,
                ..
            })
        ));
        let twice = [tensor("same", &[1]), tensor("same", &[1])];
        assert!(matches!(
            encode_safetensors(&twice, &BTreeMap::new()),
            Err(ArtifactsError::DuplicateTensor { .. })
        ));
        let mut nan = tensor("nan", &[2]);
        nan.data[1] = f32::NAN;
        assert!(matches!(
            encode_safetensors(&[nan], &BTreeMap::new()),
            Err(ArtifactsError::NonFiniteWeight { offset: 1, .. })
        ));
        assert!(matches!(
            to_reference_layout(tensor("flat", &[4]), SourceLayout::ConvOutInHw),
            Err(ArtifactsError::TensorRank {
                rank: 1,
                expected: 4,
                ..
            })
        ));
        assert!(decode_safetensors(b"not a safetensors file").is_err());
    }
}
