//! Adam as TensorFlow 1 computes it, which is what the plan's `Optimizer::Adam` means.
//!
//! The reference trains every model with `tf.train.AdamOptimizer` (reference §1.7), whose step is
//!
//! ```text
//! m ← β₁m + (1−β₁)g        v ← β₂v + (1−β₂)g²
//! lr_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)      θ ← θ − lr_t·m/(√v + ε)
//! ```
//!
//! with ε outside the bias correction. burn's Adam (like PyTorch's) divides by `√v̂ + ε` with the
//! bias-corrected v̂ = v/(1−β₂ᵗ), which is the same as TF1 with ε scaled by 1/√(1−β₂ᵗ): about 32×
//! larger at step 1 with β₂ = 0.999. For a gradient that is not small against ε the two agree;
//! for one near ε (a GAN's critic early on, a unit that barely sees data) the first steps differ
//! by up to 4×, and so would every run compared with the reference. This module is that update
//! as a burn [`SimpleOptimizer`], so the plan's meaning and the runtime's arithmetic are one.

use burn::module::AutodiffModule;
use burn::optim::SimpleOptimizer;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::prelude::*;
use burn::record::Record;
use burn::tensor::backend::AutodiffBackend;

use disc_compiler::plan;

/// TF1's Adam: β₁, β₂ and ε as the plan gives them (no weight decay, no AMSGrad).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tf1Adam {
    beta1: f64,
    beta2: f64,
    epsilon: f64,
}

/// One parameter's Adam state: the step count and both moments, saved in checkpoints by name.
#[derive(Record, Clone)]
pub struct Tf1AdamState<B: Backend, const D: usize> {
    /// Updates made so far (t of the bias correction).
    pub time: u64,
    /// m: the first moment.
    pub moment_1: Tensor<B, D>,
    /// v: the second moment.
    pub moment_2: Tensor<B, D>,
}

/// The optimizer of a module trained on the autodiff backend `B`.
pub type AdamOf<M, B> = OptimizerAdaptor<Tf1Adam, M, B>;

impl Tf1Adam {
    /// The plan's optimizer and its base learning rate.
    pub fn from_plan(optimizer: &plan::Optimizer) -> (Tf1Adam, f64) {
        let plan::Optimizer::Adam {
            lr,
            beta1,
            beta2,
            epsilon,
        } = optimizer;
        let adam = Tf1Adam {
            beta1: *beta1,
            beta2: *beta2,
            epsilon: *epsilon,
        };
        (adam, *lr)
    }

    /// The optimizer of a module `M`, with no state yet.
    pub fn init<B: AutodiffBackend, M: AutodiffModule<B>>(self) -> AdamOf<M, B> {
        OptimizerAdaptor::from(self)
    }

    /// lr_t of update number `time` (from 1) for the base rate `lr`. In f64 and then rounded once,
    /// as the scalar TF1 feeds into its kernel.
    fn rate(&self, lr: f64, time: u64) -> f64 {
        let t = i32::try_from(time).unwrap_or(i32::MAX);
        lr * (1.0 - self.beta2.powi(t)).sqrt() / (1.0 - self.beta1.powi(t))
    }
}

impl<B: Backend> SimpleOptimizer<B> for Tf1Adam {
    type State<const D: usize> = Tf1AdamState<B, D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        // 1 − β in f64 before rounding: 1 − 0.999f32 is 1.3e-5 away from 0.001 in relative terms.
        let (b1, b2) = (self.beta1 as f32, self.beta2 as f32);
        let (c1, c2) = ((1.0 - self.beta1) as f32, (1.0 - self.beta2) as f32);
        let (time, moment_1, moment_2) = match state {
            Some(s) => (
                s.time + 1,
                s.moment_1.mul_scalar(b1) + grad.clone().mul_scalar(c1),
                s.moment_2.mul_scalar(b2) + grad.square().mul_scalar(c2),
            ),
            None => (1, grad.clone().mul_scalar(c1), grad.square().mul_scalar(c2)),
        };
        let step = moment_1
            .clone()
            .mul_scalar(self.rate(lr, time) as f32)
            .div(moment_2.clone().sqrt().add_scalar(self.epsilon as f32));
        let state = Tf1AdamState {
            time,
            moment_1,
            moment_2,
        };
        (tensor - step, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &B::Device) -> Self::State<D> {
        Tf1AdamState {
            time: state.time,
            moment_1: state.moment_1.to_device(device),
            moment_2: state.moment_2.to_device(device),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    use super::*;

    /// TF1's update computed in f64 from the formulas in the module comment.
    fn tf1_updates(gradients: &[f64], lr: f64, b1: f64, b2: f64, eps: f64) -> Vec<f64> {
        let (mut theta, mut m, mut v) = (0.0f64, 0.0f64, 0.0f64);
        let mut out = Vec::new();
        for (i, g) in gradients.iter().enumerate() {
            let t = i as i32 + 1;
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let lr_t = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
            theta -= lr_t * m / (v.sqrt() + eps);
            out.push(theta);
        }
        out
    }

    /// Gradients of every scale, including ones near ε, where TF1's and PyTorch's Adam part: the
    /// optimizer follows TF1 step by step, and at a gradient of 1e-7 it is far from PyTorch's.
    #[test]
    fn follows_tensorflow_one_and_not_pytorch_near_epsilon() {
        let (lr, b1, b2, eps) = (1e-3, 0.5, 0.999, 1e-8);
        let adam = Tf1Adam {
            beta1: b1,
            beta2: b2,
            epsilon: eps,
        };
        let device = Default::default();
        let scales = [1.0, 1e-3, 1e-7, -3e-8];
        let steps: Vec<Vec<f64>> = scales
            .iter()
            .map(|s| vec![*s, 0.5 * s, -2.0 * s, *s])
            .collect();
        let mut theta = Tensor::<Flex, 1>::zeros([scales.len()], &device);
        let mut state = None;
        let mut seen: Vec<Vec<f32>> = Vec::new();
        for k in 0..4 {
            let grad: Vec<f32> = steps.iter().map(|g| g[k] as f32).collect();
            let grad = Tensor::<Flex, 1>::from_data(TensorData::new(grad, [scales.len()]), &device);
            let (next, next_state) = adam.step(lr, theta, grad, state);
            theta = next;
            state = next_state;
            seen.push(theta.to_data().to_vec().expect("f32 parameters"));
        }
        for (p, gradients) in steps.iter().enumerate() {
            let expected = tf1_updates(gradients, lr, b1, b2, eps);
            for (k, want) in expected.iter().enumerate() {
                let got = f64::from(seen[k][p]);
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(lr),
                    "scale {}: step {k}: {got} vs TF1 {want}",
                    scales[p]
                );
            }
        }
        // PyTorch's first step for g = 1e-7 is lr·g/(|g| + ε) = 0.91·lr; TF1's is 0.24·lr.
        let first = f64::from(seen[0][2]).abs();
        assert!((first / lr - 0.24).abs() < 0.01, "{first}");
    }
}
