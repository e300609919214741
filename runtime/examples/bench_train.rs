//! Training benchmark of disc's own runtime on burn's CPU backend (flex), the twin of
//! `bench/train/torch_twin.py`.
//!
//! It measures the product, not a copy of it: `experiments/quickstart.dis` is compiled with
//! `disc_compiler::compile`, its first job's VAE is built by [`Trainer::new`] (the runtime's
//! `Vae::build` and the job's Adam), and every timed training step is [`Trainer::step`], the very
//! function `train::run_job` calls (encode, reparameterise, decode, the job's objective terms,
//! the NaN check, backward, Adam update). Encoder inference times `Vae::encode` on the
//! non-autodiff backend. Data loading is excluded: the batches (64×64×1, 30% ones, NCHW via the
//! runtime's `images_to_tensor`) are made before timing, as in the PyTorch twin.
//!
//! Timing: `--warmup` untimed calls, then `--windows` windows of `--seconds` / `--windows` seconds
//! each (at least `--min-steps` calls per window); the reported rate is the median window's.
//! Threads come from `RAYON_NUM_THREADS` (run.sh sets 2, like PyTorch's). It prints a human line
//! and then one JSON object on the last line.
//!
//! This is a benchmark, not a test: it must not be used to decide correctness.
//!
//! `--parity DIR` instead writes what the PyTorch twin needs to retrace disc's training exactly —
//! the initial weights, the batches and the reparameterisation noise of `--parity-steps` steps —
//! and disc's loss at every step, into DIR; `torch_twin.py --parity DIR` then trains from the same
//! state and compares the losses (run.sh does both), so a faster kernel cannot quietly compute
//! something else.

/// The allocator `disc` itself uses (see the workspace Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use disc_compiler::plan::Job;
use disc_compiler::{NoFiles, Source, compile};
use disc_data::RandomState;
use disc_runtime::model::{Vae, images_to_tensor};
use disc_runtime::train::{Seeds, Trainer, check_supported};

type Cpu = Flex;
type Train = Autodiff<Cpu>;

const EXPERIMENT: &str = include_str!("../../experiments/quickstart.dis");

struct Options {
    warmup: usize,
    seconds: f64,
    windows: usize,
    min_steps: usize,
    parity: Option<std::path::PathBuf>,
    parity_steps: usize,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        warmup: 5,
        seconds: 20.0,
        windows: 5,
        min_steps: 2,
        parity: None,
        parity_steps: 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        match flag.as_str() {
            "--warmup" => options.warmup = number(&flag, &value)?,
            "--seconds" => options.seconds = number(&flag, &value)?,
            "--windows" => options.windows = number(&flag, &value)?,
            "--min-steps" => options.min_steps = number(&flag, &value)?,
            "--parity" => options.parity = Some(value.into()),
            "--parity-steps" => options.parity_steps = number(&flag, &value)?,
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if options.windows == 0 || options.min_steps == 0 || options.seconds.is_nan() {
        return Err("`--windows` and `--min-steps` must be positive, `--seconds` a number".into());
    }
    Ok(options)
}

/// Parses an option's value as a number, naming the option when it is not one.
fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("`{flag}` needs a number, got `{value}`"))
}

/// The first job of `experiments/quickstart.dis`, compiled by disc's compiler.
fn quickstart_job() -> Result<Job, String> {
    let compiled = compile(
        Source {
            name: "experiments/quickstart.dis".into(),
            text: EXPERIMENT.into(),
        },
        &NoFiles,
    );
    let plan = compiled.plan.ok_or_else(|| {
        format!(
            "experiments/quickstart.dis does not compile: {:?}",
            compiled.diagnostics
        )
    })?;
    plan.jobs
        .into_iter()
        .next()
        .ok_or_else(|| "experiments/quickstart.dis has no job".to_string())
}

/// Binary NHWC images with 30% ones (`batch·h·w·c` values) → NCHW `[batch, c, h, w]`.
fn binary_batch<B: Backend>(shape: [usize; 4], seed: u64, device: &B::Device) -> Tensor<B, 4> {
    // A small LCG keeps the input independent of every RNG under test and identical run to run.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let values: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (state >> 33) % 10 < 3 { 1.0 } else { 0.0 }
        })
        .collect();
    images_to_tensor::<B>(values, shape, device)
}

/// Runs `call` in `windows` windows of `window_seconds` (each at least `min_calls` calls) and
/// returns the median window's calls per second.
fn median_rate(
    windows: usize,
    window_seconds: f64,
    min_calls: usize,
    mut call: impl FnMut() -> Result<(), String>,
) -> Result<f64, String> {
    let mut rates = Vec::with_capacity(windows);
    for _ in 0..windows {
        let start = Instant::now();
        let mut calls = 0usize;
        while calls < min_calls || start.elapsed().as_secs_f64() < window_seconds {
            call()?;
            calls += 1;
        }
        rates.push(calls as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[rates.len() / 2])
}

fn run(options: &Options) -> Result<(), String> {
    let job = quickstart_job()?;
    let spec = check_supported(&job).map_err(|e| e.to_string())?;
    let batch = job.train.batch_size as usize;
    let [h, w, c] = job.dataset.observation_shape.map(|v| v as usize);
    let device = Default::default();
    let seeds = Seeds::from_job(&job).map_err(|e| e.to_string())?;
    let mut trainer: Option<Trainer<Train>> =
        Some(Trainer::new(&job, spec, seeds, &device).map_err(|e| e.to_string())?);
    let mut noise = RandomState::new(seeds.noise);
    let pool: Vec<Tensor<Train, 4>> = (0..8)
        .map(|seed| binary_batch([batch, h, w, c], seed, &device))
        .collect();

    let mut step = 0u64;
    let mut last_loss = f64::NAN;
    // The product's step, exactly as `run_job` calls it.
    let mut train_step = || -> Result<(), String> {
        let current = trainer
            .take()
            .ok_or("the trainer was lost by a failed step")?;
        let x = pool[step as usize % pool.len()].clone();
        let (next, values) = current
            .step(&job, spec.reconstruction, x, step, &mut noise)
            .map_err(|e| e.to_string())?;
        trainer = Some(next);
        last_loss = values.loss;
        step += 1;
        Ok(())
    };
    for _ in 0..options.warmup {
        train_step()?;
    }
    let window = options.seconds / options.windows as f64;
    let train_rate =
        median_rate(options.windows, window, options.min_steps, &mut train_step)? * batch as f64;

    let vae: Vae<Cpu> = trainer
        .ok_or("the trainer was lost by a failed step")?
        .vae()
        .valid();
    let images: Tensor<Cpu, 4> = binary_batch([batch, h, w, c], 99, &device);
    let mut encode = || -> Result<(), String> {
        let (mean, _log_var) = vae.encode(images.clone()).map_err(|e| e.to_string())?;
        // Reading one value forces the computation on any backend.
        let _: f32 = mean.slice([0..1, 0..1]).into_scalar();
        Ok(())
    };
    for _ in 0..options.warmup {
        encode()?;
    }
    let infer_rate = median_rate(
        options.windows,
        window / 2.0,
        options.min_steps,
        &mut encode,
    )? * batch as f64;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".to_string());

    println!(
        "disc runtime (burn 0.21 flex), job `{}`: train {train_rate:.1} img/s ({step} steps, last \
         loss {last_loss:.1}); encoder inference {infer_rate:.1} img/s (batch {batch}); median of \
         {} windows",
        job.experiment, options.windows
    );
    println!(
        "{}",
        serde_json::json!({
            "framework": "disc runtime, burn 0.21.0 flex",
            "job": job.experiment,
            "threads": threads,
            "batch": batch,
            "train_images_per_second": train_rate,
            "inference_images_per_second": infer_rate,
        })
    );
    Ok(())
}

/// Little-endian f32 values as bytes.
fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `--parity DIR`: writes the initial weights (`weights.f32` + `weights.json`, burn's layouts), the
/// batches (`batches.f32`, NCHW), the noise (`noise.f32`, `[steps, batch, latents]`) and disc's
/// loss at each step (`disc.json`).
fn parity(options: &Options, directory: &std::path::Path) -> Result<(), String> {
    let job = quickstart_job()?;
    let spec = check_supported(&job).map_err(|e| e.to_string())?;
    let batch = job.train.batch_size as usize;
    let [h, w, c] = job.dataset.observation_shape.map(|v| v as usize);
    let device = Default::default();
    let seeds = Seeds::from_job(&job).map_err(|e| e.to_string())?;
    let mut trainer =
        Trainer::<Train>::new(&job, spec, seeds, &device).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(directory)
        .map_err(|e| format!("cannot create {}: {e}", directory.display()))?;

    let vae = trainer.vae();
    let mut index = Vec::new();
    let mut weights = Vec::new();
    for (name, shape, values) in vae
        .encoder
        .named_weights()
        .into_iter()
        .chain(vae.decoder.named_weights())
    {
        index.push(serde_json::json!({"name": name, "shape": shape, "offset": weights.len()}));
        weights.extend(values);
    }
    write(&directory.join("weights.f32"), &f32_bytes(&weights))?;
    let index = serde_json::to_string(&index).map_err(|e| e.to_string())?;
    write(&directory.join("weights.json"), index.as_bytes())?;

    let pool: Vec<Tensor<Train, 4>> = (0..8)
        .map(|seed| binary_batch([batch, h, w, c], seed, &device))
        .collect();
    let mut batches = Vec::new();
    for x in &pool {
        batches.extend(x.to_data().to_vec::<f32>().map_err(|e| format!("{e:?}"))?);
    }
    write(&directory.join("batches.f32"), &f32_bytes(&batches))?;

    // The step draws its reparameterisation noise from `noise` and nothing else (β-VAE), so a copy
    // of the generator yields the same values in the same order.
    let latents = spec.latents as usize;
    let mut noise = RandomState::new(seeds.noise);
    let mut copy = noise.clone();
    let epsilon: Vec<f32> = (0..options.parity_steps * batch * latents)
        .map(|_| copy.standard_normal() as f32)
        .collect();
    write(&directory.join("noise.f32"), &f32_bytes(&epsilon))?;

    let mut losses = Vec::with_capacity(options.parity_steps);
    for step in 0..options.parity_steps {
        let x = pool[step % pool.len()].clone();
        let (next, values) = trainer
            .step(&job, spec.reconstruction, x, step as u64, &mut noise)
            .map_err(|e| e.to_string())?;
        trainer = next;
        losses.push(values.loss);
    }
    let summary = serde_json::json!({
        "steps": options.parity_steps,
        "batch": batch,
        "pool": pool.len(),
        "latents": latents,
        "channels": c,
        "losses": losses,
    });
    write(&directory.join("disc.json"), summary.to_string().as_bytes())?;
    println!(
        "disc: {} steps written to {}; loss {:.3} → {:.3}",
        options.parity_steps,
        directory.display(),
        losses.first().copied().unwrap_or(f64::NAN),
        losses.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn main() {
    let result = parse_options().and_then(|options| match &options.parity {
        Some(directory) => parity(&options, directory),
        None => run(&options),
    });
    if let Err(message) = result {
        eprintln!("bench_train: {message}");
        std::process::exit(2);
    }
}
