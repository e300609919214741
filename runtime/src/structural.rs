//! The structural term: how far the latents are from following the declared latent graph, scored
//! by a Bayesian network over it (Beyazit et al., IJCAI 2020, as read in docs/LANGUAGE.md).
//!
//! Each plan [`StructuralNode`] is one local conditional distribution p(target | inputs). A node's
//! score is the batch-mean NLL of its target under the CPD's estimate on the batch **minus** the NLL
//! under the parentless Gaussian fitted to the same batch (mean and variance of the target): a
//! log-likelihood ratio against the empty graph. The sum over nodes is the term.
//!
//! Why the ratio and not the plain NLL: the plain Gaussian NLL is not invariant to the target's
//! scale. ½·ln σ̂² falls without bound as the target shrinks, and a *constant* target is explained
//! perfectly by the intercept alone, so a model can lower the plain NLL to its floor by collapsing
//! the recognised codes, without making them follow the graph at all. That is what the first
//! version did (an InfoGAN's three nodes sat at the variance floor, −16.5, after 100 steps). The
//! ratio is invariant to an affine change of each target, 0 when the parents explain nothing (a
//! collapsed code included) and negative only as far as the parents explain the target, so the
//! one way to lower it is to make each node depend on its declared parents, and only on them.
//! The parentless term does not depend on the graph, so ranking graphs by the ratio ranks them by
//! the network's likelihood, as a Bayesian-network score does.
//!
//! Families:
//! - `linear_gaussian`: target = wᵀ·inputs + b + N(0, σ²). (w, b) are the batch's least-squares
//!   estimates, σ̂² the mean squared residual, v̂ the target's batch variance; the node's score is
//!   ½·ln((σ̂² + ε)/(v̂ + ε)) = ½·ln(1 − R²) with ε = [`VARIANCE_FLOOR`]. The estimates are
//!   computed on the host in f64 and enter the graph as constants: by the envelope theorem (ŵ
//!   minimises the mean squared residual, so ∂NLL/∂w = 0 there) the gradient through the residual
//!   with ŵ held fixed equals the gradient of the closed form with the estimates differentiated;
//!   likewise for the batch mean inside v̂.
//! - `nonlinear_gaussian`: target ~ N(μ(inputs), exp(s(inputs))), μ and s from a small network per
//!   node ([`Cpds`]) that its own player trains on the same NLL (the parentless part does not
//!   depend on its weights).
//!
//! Shapes: targets `[N, 1]`, inputs `[N, P]`. This module owns no optimizer and draws no random
//! numbers; which tensors are targets and inputs is the model family's business.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use disc_compiler::plan::{Activation, Cpd, Layer, LayerSpec, Network, StructuralNode};
use disc_data::RandomState;

use crate::error::RuntimeError;
use crate::model::{Net, Value};

/// ln(2π).
const LOG_2PI: f64 = 1.837_877_066_409_345_5;

/// Added to the residual and marginal variances, so that a batch the inputs explain exactly has a
/// finite score (at most ½·ln(ε/v̂) below zero) and a constant target scores 0.
pub const VARIANCE_FLOOR: f64 = 1e-6;

/// Relative ridge added to the normal equations' diagonal, so collinear inputs (e.g. a code that
/// is constant on a batch) still give a unique solution; small enough not to move the estimate.
const RIDGE: f64 = 1e-10;

/// The batch data of one node: its target `[N, 1]` and inputs `[N, P]`.
#[derive(Debug, Clone)]
pub struct NodeBatch<B: Backend> {
    pub target: Tensor<B, 2>,
    pub inputs: Tensor<B, 2>,
}

impl<B: Backend> NodeBatch<B> {
    /// The same values, cut from the autodiff graph (for a CPD player's own update).
    pub fn detach(&self) -> Self {
        NodeBatch {
            target: self.target.clone().detach(),
            inputs: self.inputs.clone().detach(),
        }
    }
}

/// Least squares with an intercept: the `p + 1` coefficients (inputs' weights, then the
/// intercept) minimising Σ_n (target_n − wᵀ·x_n − b)², for row-major `inputs` of `n × p`.
pub fn least_squares(inputs: &[f64], target: &[f64], p: usize) -> Vec<f64> {
    let n = target.len();
    let q = p + 1;
    // Normal equations AᵀA·w = Aᵀy with A = [x, 1].
    let row = |i: usize| -> Vec<f64> {
        let mut r: Vec<f64> = inputs.get(i * p..(i + 1) * p).unwrap_or(&[]).to_vec();
        r.push(1.0);
        r
    };
    let mut gram = vec![0.0; q * q];
    let mut rhs = vec![0.0; q];
    for (i, y) in target.iter().enumerate().take(n) {
        let a = row(i);
        for (j, aj) in a.iter().enumerate() {
            rhs[j] += aj * y;
            for (k, ak) in a.iter().enumerate() {
                gram[j * q + k] += aj * ak;
            }
        }
    }
    let scale = (0..q).map(|j| gram[j * q + j]).sum::<f64>() / q as f64;
    for j in 0..q {
        gram[j * q + j] += RIDGE * scale.max(1.0);
    }
    solve(gram, rhs, q)
}

/// Solves the symmetric positive-definite system `matrix · x = rhs` (`q × q`) by Gaussian
/// elimination with partial pivoting; a singular pivot gives a zero coefficient.
fn solve(mut matrix: Vec<f64>, mut rhs: Vec<f64>, q: usize) -> Vec<f64> {
    for col in 0..q {
        let pivot = (col..q)
            .max_by(|a, b| {
                matrix[a * q + col]
                    .abs()
                    .total_cmp(&matrix[b * q + col].abs())
            })
            .unwrap_or(col);
        if pivot != col {
            for k in 0..q {
                matrix.swap(col * q + k, pivot * q + k);
            }
            rhs.swap(col, pivot);
        }
        let diagonal = matrix[col * q + col];
        if diagonal.abs() < 1e-300 {
            continue;
        }
        for r in col + 1..q {
            let factor = matrix[r * q + col] / diagonal;
            for k in col..q {
                matrix[r * q + k] -= factor * matrix[col * q + k];
            }
            rhs[r] -= factor * rhs[col];
        }
    }
    let mut x = vec![0.0; q];
    for col in (0..q).rev() {
        let diagonal = matrix[col * q + col];
        if diagonal.abs() < 1e-300 {
            continue;
        }
        let tail: f64 = (col + 1..q).map(|k| matrix[col * q + k] * x[k]).sum();
        x[col] = (rhs[col] - tail) / diagonal;
    }
    x
}

/// The closed-form linear-Gaussian score of one node on host data (for tests and checks):
/// ½·ln((σ̂² + ε)/(v̂ + ε)), σ̂² the mean squared least-squares residual, v̂ the target's variance.
pub fn linear_gaussian_nll_host(inputs: &[f64], target: &[f64], p: usize) -> f64 {
    let w = least_squares(inputs, target, p);
    let n = target.len().max(1) as f64;
    let residual = target
        .iter()
        .enumerate()
        .map(|(i, y)| {
            let x = inputs.get(i * p..(i + 1) * p).unwrap_or(&[]);
            let prediction: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
                + w.get(p).copied().unwrap_or(0.0);
            (y - prediction).powi(2)
        })
        .sum::<f64>()
        / n;
    let mean = target.iter().sum::<f64>() / n;
    let marginal = target.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n;
    0.5 * ((residual + VARIANCE_FLOOR) / (marginal + VARIANCE_FLOOR)).ln()
}

/// The NLL of `target` `[N, 1]` under the Gaussian fitted to it on the batch, `[1]`:
/// ½·ln(2π(v̂ + ε)) + ½; the parentless baseline every node's score is measured against.
fn marginal_nll<B: Backend>(target: &Tensor<B, 2>) -> Tensor<B, 1> {
    let centred = target.clone() - target.clone().mean().unsqueeze::<2>();
    centred
        .powf_scalar(2.0)
        .mean()
        .add_scalar(VARIANCE_FLOOR)
        .log()
        .add_scalar(LOG_2PI)
        .mul_scalar(0.5)
        .add_scalar(0.5)
}

fn host<B: Backend>(t: Tensor<B, 2>) -> Result<Vec<f64>, RuntimeError> {
    Ok(t.into_data()
        .to_vec::<f32>()
        .map_err(|e| RuntimeError::Shape(format!("reading a structural node: {e:?}")))?
        .into_iter()
        .map(f64::from)
        .collect())
}

/// The linear-Gaussian score of one node, `[1]`, differentiable in the target and the inputs.
pub fn linear_gaussian_nll<B: Backend>(batch: &NodeBatch<B>) -> Result<Tensor<B, 1>, RuntimeError> {
    let [n, p] = batch.inputs.dims();
    let device = batch.target.device();
    let w = least_squares(
        &host(batch.inputs.clone().detach())?,
        &host(batch.target.clone().detach())?,
        p,
    );
    let intercept = w.get(p).copied().unwrap_or(0.0);
    let mut prediction = Tensor::<B, 2>::zeros([n, 1], &device).add_scalar(intercept);
    if p > 0 {
        let weights: Vec<f32> = w.iter().take(p).map(|v| *v as f32).collect();
        let weights = Tensor::<B, 2>::from_data(TensorData::new(weights, [p, 1]), &device);
        prediction = prediction + batch.inputs.clone().matmul(weights);
    }
    let residual = batch.target.clone() - prediction;
    let conditional = residual
        .powf_scalar(2.0)
        .mean()
        .add_scalar(VARIANCE_FLOOR)
        .log()
        .add_scalar(LOG_2PI)
        .mul_scalar(0.5)
        .add_scalar(0.5);
    Ok(conditional - marginal_nll(&batch.target))
}

/// The networks of a `nonlinear_gaussian` term, one per node in plan order: inputs → dense(hidden)
/// → relu → dense(2) giving (μ, s), s the log-variance.
#[derive(Module, Debug)]
pub struct Cpds<B: Backend> {
    pub nets: Vec<Net<B>>,
}

impl<B: Backend> Cpds<B> {
    /// Builds the networks of the `nonlinear_gaussian` nodes (none for other families), weights
    /// from `rng` in node order.
    pub fn build(
        nodes: &[StructuralNode],
        rng: &mut RandomState,
        device: &B::Device,
    ) -> Result<Option<Self>, RuntimeError> {
        let mut nets = Vec::new();
        for node in nodes {
            if let Cpd::NonlinearGaussian { inputs, hidden } = node.cpd {
                let layers = vec![
                    LayerSpec {
                        layer: Layer::Dense { units: hidden },
                        input: vec![inputs],
                        output: vec![hidden],
                    },
                    LayerSpec {
                        layer: Layer::Activation(Activation::Relu),
                        input: vec![hidden],
                        output: vec![hidden],
                    },
                    LayerSpec {
                        layer: Layer::Dense { units: 2 },
                        input: vec![hidden],
                        output: vec![2],
                    },
                ];
                let network = Network {
                    input: vec![inputs],
                    layers,
                    output: vec![2],
                    parameters: u64::from(inputs + 1) * u64::from(hidden)
                        + u64::from(hidden + 1) * 2,
                };
                nets.push(Net::build(
                    &format!("cpd/{}", node.name),
                    &network,
                    rng,
                    device,
                )?);
            }
        }
        Ok((!nets.is_empty()).then_some(Cpds { nets }))
    }
}

/// The score of one node under its network, `[1]`: the Gaussian NLL
/// mean_n ½·(ln 2π + s_n + (target_n − μ_n)²·e^{−s_n}) minus the parentless NLL (module docs).
pub fn nonlinear_gaussian_nll<B: Backend>(
    net: &Net<B>,
    batch: &NodeBatch<B>,
) -> Result<Tensor<B, 1>, RuntimeError> {
    let Value::Vector(out) = net.forward(Value::Vector(batch.inputs.clone()))? else {
        return Err(RuntimeError::Shape(
            "a structural network must output a vector".into(),
        ));
    };
    let mean = out.clone().narrow(1, 0, 1);
    let log_var = out.narrow(1, 1, 1);
    let squared = (batch.target.clone() - mean).powf_scalar(2.0);
    let conditional = (log_var.clone() + squared * log_var.neg().exp())
        .add_scalar(LOG_2PI)
        .mul_scalar(0.5)
        .mean();
    Ok(conditional - marginal_nll(&batch.target))
}

/// The structural term: Σ over `nodes` of each node's score on its `batches` entry (same order).
/// `cpds` holds the networks of `nonlinear_gaussian` nodes, in the order those nodes appear.
/// A term without nodes (a graph of isolated codes) is 0.
pub fn structural_nll<B: Backend>(
    nodes: &[StructuralNode],
    batches: &[NodeBatch<B>],
    cpds: Option<&Cpds<B>>,
    device: &B::Device,
) -> Result<Tensor<B, 1>, RuntimeError> {
    let mut total: Option<Tensor<B, 1>> = None;
    let mut network = 0;
    for (node, batch) in nodes.iter().zip(batches) {
        let value = match node.cpd {
            Cpd::LinearGaussian { .. } => linear_gaussian_nll(batch)?,
            Cpd::NonlinearGaussian { .. } => {
                let net = cpds.and_then(|c| c.nets.get(network)).ok_or_else(|| {
                    RuntimeError::Shape(format!("structural node `{}` has no network", node.name))
                })?;
                network += 1;
                nonlinear_gaussian_nll(net, batch)?
            }
        };
        total = Some(match total {
            None => value,
            Some(sum) => sum + value,
        });
    }
    Ok(total.unwrap_or_else(|| Tensor::zeros([1], device)))
}
