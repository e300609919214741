//! The loss terms of reference §1, as tensor functions generic over the backend.
//!
//! Shapes: images are NCHW `[N, C, H, W]` (the sums are over all pixels, so the layout does not
//! matter), latent batches are `[N, D]`. Every function returns a one-element tensor `[1]` holding a
//! batch mean, except the elementwise [`gaussian_log_density`] and the matrix [`covariance`]. These
//! functions own no parameters and draw no random numbers; the FactorVAE permutation takes its
//! permutations from the caller.

use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use disc_compiler::plan::{OutputActivation, Reconstruction, Variance};

/// ln(2π).
const LOG_2PI: f64 = 1.837_877_066_409_345_5;

/// Clip of probabilities in the tanh Bernoulli loss and the FactorVAE discriminator (reference §1.1, §2.5).
const PROBABILITY_CLIP: f64 = 1e-6;

/// Per-sample sum over all but the first axis, then the batch mean: `[N, …]` → `[1]`.
fn batch_mean_of_sums<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, 1> {
    let n = x.dims()[0];
    x.sum().div_scalar(n as f64)
}

/// The decoder's mean image in [0, 1] for the L2 and Gaussian losses: sigmoid, or tanh/2 + 0.5.
fn mean_image<B: Backend>(logits: Tensor<B, 4>, activation: OutputActivation) -> Tensor<B, 4> {
    match activation {
        OutputActivation::Logits => sigmoid(logits),
        OutputActivation::Tanh => logits.tanh().div_scalar(2.0).add_scalar(0.5),
    }
}

/// Batch mean of the reconstruction loss (reference §1.1) of `logits` against `targets` (both
/// `[N, C, H, W]`, targets in [0, 1]). `log_variance` is the learned log σ² (`[1]`) of a Gaussian
/// likelihood with `Variance::Learned`; it is ignored otherwise.
pub fn reconstruction<B: Backend>(
    logits: Tensor<B, 4>,
    targets: Tensor<B, 4>,
    kind: Reconstruction,
    log_variance: Option<Tensor<B, 1>>,
) -> Tensor<B, 1> {
    match kind {
        Reconstruction::Bernoulli {
            activation: OutputActivation::Logits,
        } => {
            // max(ℓ, 0) − ℓ·y + log(1 + e^{−|ℓ|}): stable for any ℓ.
            let per_pixel = logits.clone().clamp_min(0.0) - logits.clone() * targets
                + logits.abs().neg().exp().log1p();
            batch_mean_of_sums(per_pixel)
        }
        Reconstruction::Bernoulli {
            activation: OutputActivation::Tanh,
        } => {
            let p = mean_image(logits, OutputActivation::Tanh)
                .clamp(PROBABILITY_CLIP, 1.0 - PROBABILITY_CLIP);
            let per_pixel = targets.clone() * p.clone().log()
                + targets.neg().add_scalar(1.0) * p.neg().add_scalar(1.0).log();
            batch_mean_of_sums(per_pixel.neg())
        }
        Reconstruction::L2 { activation } => {
            batch_mean_of_sums((targets - mean_image(logits, activation)).square())
        }
        Reconstruction::Gaussian {
            activation,
            variance,
        } => {
            let squared = (targets - mean_image(logits, activation)).square();
            let [n, c, h, w] = squared.dims();
            let pixels = (c * h * w) as f64;
            // −log N(y; m, σ²) = ½[(y − m)²/σ² + log σ² + log 2π], summed over pixels.
            match (variance, log_variance) {
                (Variance::Learned, Some(log_var)) => {
                    let inverse = log_var.clone().neg().exp();
                    let scaled = squared.sum().div_scalar(n as f64) * inverse;
                    (scaled + log_var.mul_scalar(pixels).add_scalar(pixels * LOG_2PI))
                        .mul_scalar(0.5)
                }
                (variance, _) => {
                    // `Vae::build` always gives a learned variance its parameter; without one the
                    // variance is taken as 1 (log σ² = 0, its initial value).
                    let sigma2 = match variance {
                        Variance::Fixed(value) => value,
                        Variance::Learned => 1.0,
                    };
                    batch_mean_of_sums(squared)
                        .div_scalar(sigma2)
                        .add_scalar(pixels * (sigma2.ln() + LOG_2PI))
                        .mul_scalar(0.5)
                }
            }
        }
    }
}

/// KL(N(μ, σ²) ‖ N(0, I)) summed over latents, batch mean: mean_N[½ Σ_l (μ² + e^{logσ²} − logσ² − 1)].
pub fn kl<B: Backend>(mean: Tensor<B, 2>, log_var: Tensor<B, 2>) -> Tensor<B, 1> {
    let per = mean.square() + log_var.clone().exp() - log_var;
    batch_mean_of_sums(per.sub_scalar(1.0)).mul_scalar(0.5)
}

/// The AnnealedVAE capacity C(t) = min(c_max, c_max·t/threshold), t the step from 0 (reference §1.3).
/// A threshold of 0 means full capacity from the start.
pub fn capacity_at(c_max: f64, step: u64, iteration_threshold: u64) -> f64 {
    if iteration_threshold == 0 {
        return c_max;
    }
    (c_max * step as f64 / iteration_threshold as f64).min(c_max)
}

/// |KL − C(t)| (reference §1.3).
pub fn capacity<B: Backend>(
    kl: Tensor<B, 1>,
    c_max: f64,
    step: u64,
    iteration_threshold: u64,
) -> Tensor<B, 1> {
    kl.sub_scalar(capacity_at(c_max, step, iteration_threshold))
        .abs()
}

/// Elementwise log N(x; μ, σ²) with log σ² given: −½[(x − μ)²·e^{−logσ²} + logσ² + log 2π].
/// The three tensors broadcast against each other.
pub fn gaussian_log_density<B: Backend, const D: usize>(
    samples: Tensor<B, D>,
    mean: Tensor<B, D>,
    log_var: Tensor<B, D>,
) -> Tensor<B, D> {
    let inverse = log_var.clone().neg().exp();
    ((samples - mean).square() * inverse + log_var)
        .add_scalar(LOG_2PI)
        .mul_scalar(-0.5)
}

/// log Σ exp along `dim`, kept as a size-1 axis; stable (the maximum is subtracted first).
fn log_sum_exp<B: Backend, const D: usize>(x: Tensor<B, D>, dim: usize) -> Tensor<B, D> {
    let max = x.clone().max_dim(dim).detach();
    (x - max.clone()).exp().sum_dim(dim).log() + max
}

/// Rows of `z` processed at once by [`total_correlation`]: bounds the `[rows, N, D]` intermediate
/// to about 16 M values, so large evaluation batches (the reference test uses N = 10 000) fit in memory.
const TC_ELEMENTS_PER_CHUNK: usize = 1 << 24;

/// β-TCVAE minibatch-weighted-sampling total correlation with the log(N·M) constants dropped
/// (reference §1.6): mean_j[logsumexp_i Σ_l log q(z_jl|x_i) − Σ_l logsumexp_i log q(z_jl|x_i)].
/// `z`, `mean`, `log_var`: `[N, D]`.
pub fn total_correlation<B: Backend>(
    z: Tensor<B, 2>,
    mean: Tensor<B, 2>,
    log_var: Tensor<B, 2>,
) -> Tensor<B, 1> {
    let [n, d] = z.dims();
    let rows = (TC_ELEMENTS_PER_CHUNK / (n * d).max(1)).clamp(1, n.max(1));
    let mean = mean.unsqueeze_dim::<3>(0); // [1, N, D]
    let log_var = log_var.unsqueeze_dim::<3>(0);
    let mut total: Option<Tensor<B, 1>> = None;
    let mut start = 0;
    while start < n {
        let end = (start + rows).min(n);
        let zj = z.clone().slice([start..end, 0..d]).unsqueeze_dim::<3>(1); // [r, 1, D]
        let log_q = gaussian_log_density(zj, mean.clone(), log_var.clone()); // [r, N, D]
        let joint = log_sum_exp(log_q.clone().sum_dim(2), 1); // [r, 1, 1]
        let product = log_sum_exp(log_q, 1).sum_dim(2); // [r, 1, 1]
        let part = (joint - product).sum().reshape([1]);
        total = Some(match total {
            None => part,
            Some(acc) => acc + part,
        });
        start = end;
    }
    match total {
        Some(sum) => sum.div_scalar(n as f64),
        None => Tensor::zeros([1], &z.device()),
    }
}

/// Biased batch covariance of `x` `[N, D]` → `[D, D]`: E[xxᵀ] − E[x]E[x]ᵀ (reference §1.5).
pub fn covariance<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let n = x.dims()[0] as f64;
    let centred = x.clone() - x.mean_dim(0);
    centred.clone().transpose().matmul(centred).div_scalar(n)
}

/// DIP penalty λ_od·Σ_{i≠j} M_ij² + λ_d·Σ_i (M_ii − 1)² of a square `[D, D]` matrix (reference §1.5).
pub fn dip_penalty<B: Backend>(m: Tensor<B, 2>, lambda_od: f64, lambda_d: f64) -> Tensor<B, 1> {
    let [d, _] = m.dims();
    let eye = Tensor::<B, 2>::eye(d, &m.device());
    let diagonal = m.clone() * eye.clone();
    let off = (m - diagonal.clone()).square().sum();
    let on = (diagonal - eye.clone()).square().sum();
    off.mul_scalar(lambda_od) + on.mul_scalar(lambda_d)
}

/// The DIP target matrix: Cov[μ] (DIP-I), or Cov[μ] + diag(mean_N e^{logσ²}) (DIP-II).
pub fn dip_matrix<B: Backend>(
    mean: Tensor<B, 2>,
    log_var: Tensor<B, 2>,
    second_kind: bool,
) -> Tensor<B, 2> {
    let cov = covariance(mean);
    if !second_kind {
        return cov;
    }
    let [_, d] = cov.dims();
    let variances = log_var.exp().mean_dim(0); // [1, D]
    let eye = Tensor::<B, 2>::eye(d, &cov.device());
    cov + eye * variances
}

/// The FactorVAE permuted batch (reference §1.4): column l of the result is column l of `z`
/// reordered by `permutations[l]` (each a permutation of `0..N`). `z`: `[N, D]`.
pub fn permute_dims<B: Backend>(z: Tensor<B, 2>, permutations: &[Vec<usize>]) -> Tensor<B, 2> {
    let [n, d] = z.dims();
    let mut index = vec![0i64; n * d];
    for (column, permutation) in permutations.iter().enumerate().take(d) {
        for (row, source) in permutation.iter().enumerate().take(n) {
            index[row * d + column] = *source as i64;
        }
    }
    let index = Tensor::<B, 2, Int>::from_data(TensorData::new(index, [n, d]), &z.device());
    z.gather(0, index)
}

/// FactorVAE TC estimate mean_N(logit₀ − logit₁) from discriminator logits `[N, 2]`.
pub fn discriminator_tc<B: Backend>(logits: Tensor<B, 2>) -> Tensor<B, 1> {
    let [n, _] = logits.dims();
    let real = logits.clone().slice([0..n, 0..1]);
    let permuted = logits.slice([0..n, 1..2]);
    (real - permuted).mean().reshape([1])
}

/// FactorVAE discriminator loss −[½ mean log p₀(z) + ½ mean log p₁(z_perm)], with the softmax
/// probabilities clipped to [1e-6, 1 − 1e-6] as the reference does. Logits `[N, 2]` each.
pub fn discriminator_loss<B: Backend>(
    logits_real: Tensor<B, 2>,
    logits_permuted: Tensor<B, 2>,
) -> Tensor<B, 1> {
    let clip_log = PROBABILITY_CLIP.ln();
    let clip_high = (1.0 - PROBABILITY_CLIP).ln();
    let [n, _] = logits_real.dims();
    let log_p0 = log_softmax(logits_real, 1)
        .slice([0..n, 0..1])
        .clamp(clip_log, clip_high);
    let [m, _] = logits_permuted.dims();
    let log_p1 = log_softmax(logits_permuted, 1)
        .slice([0..m, 1..2])
        .clamp(clip_log, clip_high);
    (log_p0.mean().mul_scalar(0.5) + log_p1.mean().mul_scalar(0.5))
        .neg()
        .reshape([1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    fn scalar(t: Tensor<B, 1>) -> f64 {
        t.into_scalar() as f64
    }

    fn filled(value: f32, shape: [usize; 2]) -> Tensor<B, 2> {
        Tensor::full(shape, value, &Default::default())
    }

    fn from_rows(values: Vec<f32>, shape: [usize; 2]) -> Tensor<B, 2> {
        Tensor::from_data(TensorData::new(values, shape), &Default::default())
    }

    fn normals(n: usize, seed: u32) -> Vec<f32> {
        let mut rng = disc_data::RandomState::new(seed);
        (0..n).map(|_| rng.standard_normal() as f32).collect()
    }

    // Reference §1.10, gaussian KL on 10×10 inputs. The ranges are the reference test's own.
    #[test]
    fn kl_matches_reference_cases() {
        let zero = scalar(kl(filled(0.0, [10, 10]), filled(0.0, [10, 10])));
        assert!((0.0..=0.01).contains(&zero), "{zero}");
        let shifted = scalar(kl(filled(1.0, [10, 10]), filled(0.0, [10, 10])));
        assert!((5.0..=5.01).contains(&shifted), "{shifted}");
        let wide = scalar(kl(filled(1.0, [10, 10]), filled(1.0, [10, 10])));
        assert!((8.58..=8.6).contains(&wide), "{wide}");
        // Closed form 5(e − 1) to f32 precision.
        assert!((wide - 5.0 * (std::f64::consts::E - 1.0)).abs() < 1e-4);
    }

    // Reference §1.10 anneal: c_max 100, threshold 100.
    #[test]
    fn capacity_schedule_matches_reference() {
        for (step, expected) in [(0, 0.0), (10, 10.0), (100, 100.0), (101, 100.0)] {
            assert!(
                (capacity_at(100.0, step, 100) - expected).abs() < 0.01,
                "step {step}"
            );
        }
        let kl = Tensor::<B, 1>::from_data(TensorData::new(vec![3.0f32], [1]), &Default::default());
        assert!((scalar(capacity(kl, 100.0, 10, 100)) - 7.0).abs() < 1e-6);
    }

    // Reference §1.10 DIP penalty with λ_od = λ_d = 1 (tolerance 0.1 there; exact here).
    #[test]
    fn dip_penalty_matches_reference() {
        let device = Default::default();
        let eye = Tensor::<B, 2>::eye(10, &device);
        assert!((scalar(dip_penalty(filled(1.0, [10, 10]), 1.0, 1.0)) - 90.0).abs() < 1e-4);
        assert!((scalar(dip_penalty(filled(0.0, [10, 10]), 1.0, 1.0)) - 10.0).abs() < 1e-4);
        assert!(scalar(dip_penalty(eye.clone(), 1.0, 1.0)).abs() < 1e-6);
        assert!((scalar(dip_penalty(eye.mul_scalar(2.0), 1.0, 1.0)) - 10.0).abs() < 1e-4);
        // λ weights apply separately: ones → 90·λ_od + 0·λ_d.
        assert!((scalar(dip_penalty(filled(1.0, [10, 10]), 2.0, 7.0)) - 180.0).abs() < 1e-3);
    }

    // Reference §1.10 covariance: diagonal Gaussian with variances 1..=4, 1e5 samples; the sum of
    // squared errors must be < 0.1 (the standard error of each entry is ≈ σ_iσ_j/√N ≤ 0.013).
    #[test]
    fn covariance_of_diagonal_gaussian() {
        let n = 100_000;
        let d = 4;
        let raw = normals(n * d, 7);
        let scaled: Vec<f32> = raw
            .iter()
            .enumerate()
            .map(|(i, v)| v * (((i % d) + 1) as f32).sqrt() + 3.0)
            .collect();
        let cov = covariance(from_rows(scaled, [n, d]))
            .to_data()
            .to_vec::<f32>()
            .unwrap();
        let mut sse = 0.0;
        for i in 0..d {
            for j in 0..d {
                let truth = if i == j { (i + 1) as f64 } else { 0.0 };
                sse += (cov[i * d + j] as f64 - truth).powi(2);
            }
        }
        assert!(sse < 0.1, "sse {sse}");
    }

    // DIP-II adds the mean posterior variance to the diagonal: μ constant (Cov 0), logσ² = ln 2.
    #[test]
    fn dip_second_kind_adds_mean_variance() {
        let m = dip_matrix(filled(1.0, [8, 3]), filled(2f32.ln(), [8, 3]), true);
        let values = m.to_data().to_vec::<f32>().unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let expected = if i == j { 2.0 } else { 0.0 };
                assert!((values[i * 3 + j] - expected).abs() < 1e-5);
            }
        }
    }

    // Reference §1.10 gaussian log density at x = 1 with logσ² = 0.
    #[test]
    fn log_density_matches_reference() {
        let at = |mean: f32| {
            gaussian_log_density(
                filled(1.0, [1, 1]),
                filled(mean, [1, 1]),
                filled(0.0, [1, 1]),
            )
            .into_scalar() as f64
        };
        assert!((-1.4190..=-1.4188).contains(&at(0.0)));
        assert!((-0.92..=-0.91).contains(&at(1.0)));
    }

    // Reference §1.10 total correlation with 10 000 N(0,1) codes, μ = 0, logσ² = 0. With the
    // constants dropped the estimate is ≈ −(D − 1)·ln N: 0 for D = 1, −9 ln 10⁴ = −82.893 for D = 10.
    #[test]
    fn total_correlation_matches_reference() {
        let n = 10_000;
        for (d, range) in [(1usize, 0.0..=0.1), (10, -82.9..=-82.89)] {
            let z = from_rows(normals(n * d, 0), [n, d]);
            let tc = scalar(total_correlation(
                z,
                filled(0.0, [n, d]),
                filled(0.0, [n, d]),
            ));
            assert!(range.contains(&tc), "D = {d}: {tc}");
        }
    }

    // Sigmoid cross-entropy closed form: ℓ = 0 gives ln 2 per pixel whatever the target; ℓ = 2, y = 1
    // gives ln(1 + e^{−2}).
    #[test]
    fn bernoulli_logits_closed_form() {
        let device = Default::default();
        let logits = Tensor::<B, 4>::zeros([2, 1, 3, 3], &device);
        let targets = Tensor::<B, 4>::full([2, 1, 3, 3], 0.3, &device);
        let kind = Reconstruction::Bernoulli {
            activation: OutputActivation::Logits,
        };
        let loss = scalar(reconstruction(logits, targets.clone(), kind, None));
        assert!((loss - 9.0 * 2f64.ln()).abs() < 1e-5);
        let logits = Tensor::<B, 4>::full([2, 1, 3, 3], 2.0, &device);
        let ones = Tensor::<B, 4>::ones([2, 1, 3, 3], &device);
        let loss = scalar(reconstruction(logits.clone(), ones, kind, None));
        assert!((loss - 9.0 * (1.0 + (-2f64).exp()).ln()).abs() < 1e-5);
        // Large logits stay finite (no exp overflow).
        let big = Tensor::<B, 4>::full([1, 1, 1, 1], 200.0, &device);
        let zero = Tensor::<B, 4>::zeros([1, 1, 1, 1], &device);
        assert!((scalar(reconstruction(big, zero, kind, None)) - 200.0).abs() < 1e-3);
    }

    // tanh Bernoulli: ℓ = 0 → p = 0.5 → ln 2 per pixel; L2 with sigmoid(0) = 0.5 against 1 → 0.25;
    // fixed Gaussian σ² = 1: ½(0.25 + ln 2π) per pixel.
    #[test]
    fn other_reconstructions_closed_form() {
        let device = Default::default();
        let logits = Tensor::<B, 4>::zeros([3, 2, 2, 2], &device);
        let ones = Tensor::<B, 4>::ones([3, 2, 2, 2], &device);
        let tanh = Reconstruction::Bernoulli {
            activation: OutputActivation::Tanh,
        };
        assert!(
            (scalar(reconstruction(logits.clone(), ones.clone(), tanh, None)) - 8.0 * 2f64.ln())
                .abs()
                < 1e-5
        );
        let l2 = Reconstruction::L2 {
            activation: OutputActivation::Logits,
        };
        assert!(
            (scalar(reconstruction(logits.clone(), ones.clone(), l2, None)) - 2.0).abs() < 1e-6
        );
        let l2_tanh = Reconstruction::L2 {
            activation: OutputActivation::Tanh,
        };
        assert!(
            (scalar(reconstruction(logits.clone(), ones.clone(), l2_tanh, None)) - 2.0).abs()
                < 1e-6
        );
        let gaussian = Reconstruction::Gaussian {
            activation: OutputActivation::Logits,
            variance: Variance::Fixed(1.0),
        };
        let expected = 8.0 * 0.5 * (0.25 + LOG_2PI);
        assert!(
            (scalar(reconstruction(logits.clone(), ones.clone(), gaussian, None)) - expected).abs()
                < 1e-4
        );
        // A learned log σ² of 0 is the fixed σ² = 1 case.
        let learned = Reconstruction::Gaussian {
            activation: OutputActivation::Logits,
            variance: Variance::Learned,
        };
        let log_var = Tensor::<B, 1>::zeros([1], &device);
        assert!(
            (scalar(reconstruction(logits, ones, learned, Some(log_var))) - expected).abs() < 1e-4
        );
    }

    // The permuted batch keeps each column's multiset of values and applies the given permutation.
    #[test]
    fn permute_dims_permutes_each_column() {
        let z = from_rows(vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0], [3, 2]);
        let out = permute_dims(z, &[vec![2, 0, 1], vec![1, 2, 0]])
            .to_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(out, vec![2.0, 11.0, 0.0, 12.0, 1.0, 10.0]);
    }

    // Discriminator: equal logits give p = ½ everywhere, so the loss is ln 2 and the TC estimate 0;
    // logits (3, 1) give tc = 2.
    #[test]
    fn discriminator_terms_closed_form() {
        let even = filled(0.0, [4, 2]);
        assert!((scalar(discriminator_loss(even.clone(), even.clone())) - 2f64.ln()).abs() < 1e-6);
        assert!(scalar(discriminator_tc(even)).abs() < 1e-7);
        let skewed = from_rows(vec![3.0, 1.0, 3.0, 1.0], [2, 2]);
        assert!((scalar(discriminator_tc(skewed)) - 2.0).abs() < 1e-6);
        // Saturated logits are clipped at 1e-6: −½ ln 1e-6 − ½ ln(1 − 1e-6) for a wrong real batch.
        let wrong = from_rows(vec![-100.0, 100.0], [1, 2]);
        let right = from_rows(vec![-100.0, 100.0], [1, 2]);
        let expected = -0.5 * (1e-6f64).ln() - 0.5 * (1.0 - 1e-6f64).ln();
        assert!((scalar(discriminator_loss(wrong, right)) - expected).abs() < 1e-3);
    }
}
