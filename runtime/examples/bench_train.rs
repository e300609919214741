//! Training benchmark of the reference β-VAE on burn's CPU backend (flex), the twin of
//! `bench/train/torch_twin.py`.
//!
//! Measures training images/s (forward, bernoulli-logits reconstruction + β·KL, backward, Adam
//! step; batch 64 of 64×64×1 binary images) and encoder-inference images/s (μ and log σ², no
//! autodiff). The model is the reference conv_encoder + deconv_decoder (reference §2) with the same
//! (H, W, C) flatten/reshape order as disc's plan, so the work per step equals PyTorch's.
//!
//! This is a benchmark, not a test: run it with `--release` (`bench/train/run.sh` does). It prints a
//! human line and then one JSON object on the last line. Options: `--batch N`, `--warmup N`,
//! `--seconds S`, `--inference-batch N`, `--steps N` (a fixed step count instead of a time budget,
//! for profilers). Threads come from `RAYON_NUM_THREADS` (run.sh sets 2, like PyTorch's).
//!
//! It must not be used to decide correctness: the runtime's own tests do that.

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::module::{AutodiffModule, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::activation::relu;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Tensor, TensorData};

type Cpu = Flex;
type Train = Autodiff<Cpu>;

const CHANNELS: usize = 1;
const LATENTS: usize = 10;
const SIDE: usize = 64;

// burn's default initializers are kept: burn's Xavier initializer needs a fan-out that these
// configs do not pass, and the initial values do not change the cost of a step.
fn conv(input: usize, output: usize, kernel: usize, pad: usize) -> Conv2dConfig {
    Conv2dConfig::new([input, output], [kernel, kernel])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
}

fn deconv(input: usize, output: usize) -> ConvTranspose2dConfig {
    // TF "same" for k=4, s=2 equals padding 1 (reference §2).
    ConvTranspose2dConfig::new([input, output], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
}

fn dense(input: usize, output: usize) -> LinearConfig {
    LinearConfig::new(input, output)
}

/// conv_encoder (reference §2.1): 309 204 parameters for one channel and 10 latents.
#[derive(Module, Debug)]
struct Encoder<B: Backend> {
    e1: Conv2d<B>,
    e2: Conv2d<B>,
    e3: Conv2d<B>,
    e4: Conv2d<B>,
    e5: Linear<B>,
    means: Linear<B>,
    log_var: Linear<B>,
}

impl<B: Backend> Encoder<B> {
    fn new(device: &B::Device) -> Self {
        Self {
            e1: conv(CHANNELS, 32, 4, 1).init(device),
            e2: conv(32, 32, 4, 1).init(device),
            e3: conv(32, 64, 2, 0).init(device),
            e4: conv(64, 64, 2, 0).init(device),
            e5: dense(1024, 256).init(device),
            means: dense(256, LATENTS).init(device),
            log_var: dense(256, LATENTS).init(device),
        }
    }

    /// `images`: [batch, C, 64, 64] → (μ, log σ²), each [batch, LATENTS].
    fn forward(&self, images: Tensor<B, 4>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let h = relu(self.e1.forward(images));
        let h = relu(self.e2.forward(h));
        let h = relu(self.e3.forward(h));
        let h = relu(self.e4.forward(h)); // [B, 64, 4, 4]
        let batch = h.dims()[0];
        // Flatten in (H, W, C) order like the reference: NCHW → NHWC first.
        let h = h.permute([0, 2, 3, 1]).reshape([batch, 1024]);
        let h = relu(self.e5.forward(h));
        (self.means.forward(h.clone()), self.log_var.forward(h))
    }
}

/// deconv_decoder (reference §2.2): 381 313 parameters for one channel and 10 latents.
#[derive(Module, Debug)]
struct Decoder<B: Backend> {
    d1: Linear<B>,
    d2: Linear<B>,
    d3: ConvTranspose2d<B>,
    d4: ConvTranspose2d<B>,
    d5: ConvTranspose2d<B>,
    d6: ConvTranspose2d<B>,
}

impl<B: Backend> Decoder<B> {
    fn new(device: &B::Device) -> Self {
        Self {
            d1: dense(LATENTS, 256).init(device),
            d2: dense(256, 1024).init(device),
            d3: deconv(64, 64).init(device),
            d4: deconv(64, 32).init(device),
            d5: deconv(32, 32).init(device),
            d6: deconv(32, CHANNELS).init(device),
        }
    }

    /// `z`: [batch, LATENTS] → logits [batch, C, 64, 64].
    fn forward(&self, z: Tensor<B, 2>) -> Tensor<B, 4> {
        let batch = z.dims()[0];
        let h = relu(self.d1.forward(z));
        let h = relu(self.d2.forward(h));
        // Reshape to (4, 4, 64) in (H, W, C) order, then NHWC → NCHW.
        let h = h.reshape([batch, 4, 4, 64]).permute([0, 3, 1, 2]);
        let h = relu(self.d3.forward(h));
        let h = relu(self.d4.forward(h));
        let h = relu(self.d5.forward(h));
        self.d6.forward(h)
    }
}

#[derive(Module, Debug)]
struct Vae<B: Backend> {
    encoder: Encoder<B>,
    decoder: Decoder<B>,
}

impl<B: AutodiffBackend> Vae<B> {
    /// The β-VAE objective (reference §1.1, β = 1): mean over the batch of Σ_pixels sigmoid
    /// cross-entropy plus the KL divergence to N(0, I).
    fn loss(&self, images: Tensor<B, 4>) -> Tensor<B, 1> {
        let batch = images.dims()[0] as f64;
        let (mean, log_var) = self.encoder.forward(images.clone());
        let noise = Tensor::random(mean.shape(), Distribution::Normal(0.0, 1.0), &mean.device());
        let z = mean.clone() + log_var.clone().div_scalar(2.0).exp() * noise;
        let logits = self.decoder.forward(z);
        // max(ℓ, 0) − ℓ·y + log(1 + e^{−|ℓ|}), the stable sigmoid cross-entropy.
        let cross_entropy =
            relu(logits.clone()) - logits.clone() * images + logits.abs().neg().exp().log1p();
        let reconstruction = cross_entropy.sum().div_scalar(batch);
        let kl = (mean.powi_scalar(2) + log_var.clone().exp() - log_var - 1.0)
            .sum()
            .mul_scalar(0.5)
            .div_scalar(batch);
        reconstruction + kl
    }
}

struct Options {
    batch: usize,
    warmup: usize,
    seconds: f64,
    inference_batch: usize,
    steps: Option<usize>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        batch: 64,
        warmup: 5,
        seconds: 20.0,
        inference_batch: 64,
        steps: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        match flag.as_str() {
            "--batch" => options.batch = number(&flag, &value)?,
            "--warmup" => options.warmup = number(&flag, &value)?,
            "--seconds" => options.seconds = number(&flag, &value)?,
            "--inference-batch" => options.inference_batch = number(&flag, &value)?,
            "--steps" => options.steps = Some(number(&flag, &value)?),
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if options.batch == 0 || options.inference_batch == 0 {
        return Err("batch sizes must be positive".to_string());
    }
    Ok(options)
}

/// Parses an option's value as a number, naming the option when it is not one.
fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("`{flag}` needs a number, got `{value}`"))
}

/// Binary images with 30% ones, [batch, C, 64, 64], made before timing.
fn binary_batch<B: Backend>(batch: usize, seed: u64, device: &B::Device) -> Tensor<B, 4> {
    // A small LCG keeps the input independent of burn's RNG and identical run to run.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let values: Vec<f32> = (0..batch * CHANNELS * SIDE * SIDE)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (state >> 33) % 10 < 3 { 1.0 } else { 0.0 }
        })
        .collect();
    Tensor::from_data(
        TensorData::new(values, [batch, CHANNELS, SIDE, SIDE]),
        device,
    )
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench_train: {message}");
            std::process::exit(2);
        }
    };
    let device = Default::default();
    Train::seed(&device, 0);
    let mut model: Vae<Train> = Vae {
        encoder: Encoder::new(&device),
        decoder: Decoder::new(&device),
    };
    let (encoder_parameters, decoder_parameters) =
        (model.encoder.num_params(), model.decoder.num_params());
    assert_eq!(
        (encoder_parameters, decoder_parameters),
        (309_204, 381_313),
        "reference §2 counts"
    );
    // Reference Adam: lr 1e-4, β 0.9/0.999, ε 1e-8 (burn's default ε is 1e-5).
    let mut optimizer = AdamConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init();
    let pool: Vec<Tensor<Train, 4>> = (0..8)
        .map(|seed| binary_batch(options.batch, seed, &device))
        .collect();

    let mut step = 0;
    let mut train_step = |model: Vae<Train>, step: usize| -> (Vae<Train>, f32) {
        let loss = model.loss(pool[step % pool.len()].clone());
        let value: f32 = loss.clone().into_scalar();
        let gradients = GradientsParams::from_grads(loss.backward(), &model);
        (optimizer.step(1e-4, model, gradients), value)
    };
    for warm in 0..options.warmup {
        model = train_step(model, warm).0;
    }
    let start = Instant::now();
    let mut last_loss = f32::NAN;
    loop {
        let done = match options.steps {
            Some(steps) => step >= steps,
            None => start.elapsed().as_secs_f64() >= options.seconds && step >= 3,
        };
        if done {
            break;
        }
        let (next, loss) = train_step(model, step);
        model = next;
        last_loss = loss;
        step += 1;
    }
    let train_seconds = start.elapsed().as_secs_f64();
    let train_rate = (step * options.batch) as f64 / train_seconds;

    let encoder: Encoder<Cpu> = model.encoder.valid();
    let batch: Tensor<Cpu, 4> = binary_batch(options.inference_batch, 99, &device);
    let encode = |batch: Tensor<Cpu, 4>| {
        let (mean, _log_var) = encoder.forward(batch);
        // Reading one value forces the computation on any backend.
        let _: f32 = mean.slice([0..1, 0..1]).into_scalar();
    };
    for _ in 0..5 {
        encode(batch.clone());
    }
    let start = Instant::now();
    let mut calls = 0;
    loop {
        let done = match options.steps {
            Some(steps) => calls >= steps,
            None => start.elapsed().as_secs_f64() >= options.seconds / 2.0 && calls >= 3,
        };
        if done {
            break;
        }
        encode(batch.clone());
        calls += 1;
    }
    let infer_seconds = start.elapsed().as_secs_f64();
    let infer_rate = (calls * options.inference_batch) as f64 / infer_seconds;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".to_string());

    println!(
        "burn 0.21 flex: train {train_rate:.1} img/s ({step} steps in {train_seconds:.1} s, loss \
         {last_loss:.1}); encoder inference {infer_rate:.1} img/s (batch {})",
        options.inference_batch
    );
    println!(
        "{}",
        serde_json::json!({
            "framework": "burn 0.21.0 flex",
            "threads": threads,
            "batch": options.batch,
            "train_images_per_second": train_rate,
            "inference_images_per_second": infer_rate,
        })
    );
}
