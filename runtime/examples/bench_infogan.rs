//! InfoGAN training benchmark of disc's own runtime on burn's CPU backend (flex), the twin of
//! `bench/infogan/torch_twin.py`.
//!
//! It measures the product, not a copy of it: `experiments/structured_infogan.dis` is compiled
//! with `disc_compiler::compile`, its first job's InfoGAN is built by the runtime's family
//! ([`InfoGan`] through [`Family::build`]: generator, discriminator trunk, adversarial and
//! recognition heads, one Adam per player as the plan says), and every timed step is
//! [`Family::train_step`], the very function `train::run_job` calls: the `discriminator` player's
//! update (a generated batch, the critic on the real and the generated batch, the non-saturating
//! GAN loss, the information term and the linear-Gaussian structural term, backward, Adam), then
//! the `generator` player's (a fresh generated batch, its side of the GAN loss, the same two
//! terms, backward through the critic, Adam), with the NaN checks and the host reads of every
//! term's value. Generator inference times `infogan::generate` (the generator and the sigmoid)
//! on the non-autodiff backend, as the runtime renders samples and traversals.
//!
//! Data loading is excluded: the real batches are the job's own procedural dSprites (64×64×1),
//! drawn with `disc_data::sample_batch` from the job's data stream before timing, and turned into
//! NCHW tensors by the runtime's `images_to_tensor`, as `run_job` does. The generator's noise and
//! codes are drawn inside the step from the noise stream, as in a run (that is part of the step).
//!
//! Timing: `--warmup` untimed steps, then `--windows` windows of `--seconds` / `--windows` seconds
//! each (at least `--min-steps` calls per window); the reported rate is the median window's, so
//! one window slowed by another process moves neither figure. Threads come from
//! `RAYON_NUM_THREADS` (run.sh sets the same number as PyTorch's). It prints a human line, then
//! one JSON object on the last line, holding the rates and the plan's parameter count of every
//! network (which the twin asserts it matches).
//!
//! This is a benchmark, not a test: it must not be used to decide correctness.
//!
//! `--parity DIR` instead writes what the PyTorch twin needs to retrace disc's training exactly:
//! the initial weights, the real batches, the generator inputs of `--parity-steps` steps (drawn
//! from a copy of the noise stream in the order the step draws them) and disc's per-player losses
//! at every step; `torch_twin.py --parity DIR` then trains from the same state and compares.

/// The allocator `disc` itself uses (see the workspace Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::tensor::{Tensor, TensorData};
use disc_compiler::plan::{GanSpec, Job, ModelSpec};
use disc_compiler::{NoFiles, Source, compile};
use disc_data::RandomState;
use disc_runtime::family::{Family, Seeds};
use disc_runtime::infogan::{InfoGan, Layout, generate};
use disc_runtime::model::{Net, images_to_tensor};
use disc_runtime::train::open_dataset;

type Cpu = Flex;
type Train = Autodiff<Cpu>;

const EXPERIMENT_PATH: &str = "experiments/structured_infogan.dis";
const EXPERIMENT: &str = include_str!("../../experiments/structured_infogan.dis");

/// Distinct real batches cycled through by the timed steps (drawn once, before timing).
const POOL: usize = 8;

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
        warmup: 3,
        seconds: 20.0,
        windows: 5,
        min_steps: 2,
        parity: None,
        parity_steps: 10,
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

/// The first job of `experiments/structured_infogan.dis`, compiled by disc's compiler.
fn infogan_job() -> Result<Job, String> {
    let compiled = compile(
        Source {
            name: EXPERIMENT_PATH.into(),
            text: EXPERIMENT.into(),
        },
        &NoFiles,
    );
    let plan = compiled.plan.ok_or_else(|| {
        format!(
            "{EXPERIMENT_PATH} does not compile: {:?}",
            compiled.diagnostics
        )
    })?;
    plan.jobs
        .into_iter()
        .next()
        .ok_or_else(|| format!("{EXPERIMENT_PATH} has no job"))
}

/// The job's InfoGAN specification (networks, codes, noise width).
fn gan_spec(job: &Job) -> Result<&GanSpec, String> {
    match &job.model {
        ModelSpec::InfoGan(spec) => Ok(spec),
        _ => Err(format!("job 0 of {EXPERIMENT_PATH} is not an InfoGAN")),
    }
}

/// The plan's parameter count of each network, as the twin must reproduce them.
fn parameter_counts(spec: &GanSpec) -> serde_json::Value {
    serde_json::json!({
        "generator": spec.generator.parameters,
        "discriminator": spec.discriminator.parameters,
        "adversarial_head": spec.adversarial_head.parameters,
        "recognition_head": spec.recognition_head.parameters,
    })
}

/// `POOL` real batches of the job's dataset, drawn from its data stream as `run_job` draws them:
/// NHWC host values, `[POOL][batch·h·w·c]`.
fn real_batches(job: &Job, seeds: Seeds) -> Result<Vec<Vec<f32>>, String> {
    let data = open_dataset(job).map_err(|e| e.to_string())?;
    let batch = job.train.batch_size as usize;
    let mut rng = RandomState::new(seeds.data);
    (0..POOL)
        .map(|_| {
            disc_data::sample_batch(data.as_ref(), batch, &mut rng)
                .map(|(_, images)| images)
                .map_err(|e| e.to_string())
        })
        .collect()
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
    let job = infogan_job()?;
    let spec = gan_spec(&job)?;
    let batch = job.train.batch_size as usize;
    let [h, w, c] = job.dataset.observation_shape.map(|v| v as usize);
    let device = Default::default();
    let seeds = Seeds::from_job(&job).map_err(|e| e.to_string())?;
    let pool: Vec<Tensor<Train, 4>> = real_batches(&job, seeds)?
        .into_iter()
        .map(|images| images_to_tensor::<Train>(images, [batch, h, w, c], &device))
        .collect();
    let mut model: Option<InfoGan<Train>> =
        Some(InfoGan::build(&job, seeds, &device).map_err(|e| e.to_string())?);
    let mut noise = RandomState::new(seeds.noise);

    let mut step = 0u64;
    let mut last_loss = f64::NAN;
    // The product's step, exactly as `run_job` calls it.
    let mut train_step = || -> Result<(), String> {
        let current = model.take().ok_or("the model was lost by a failed step")?;
        let x = pool[step as usize % pool.len()].clone();
        let (next, values) = current
            .train_step(&job, x, step, &mut noise)
            .map_err(|e| e.to_string())?;
        model = Some(next);
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

    let generator: Net<Cpu> = model
        .ok_or("the model was lost by a failed step")?
        .generator()
        .valid();
    let layout = Layout::of(spec);
    let (inputs, _) = layout.sample(batch, &mut RandomState::new(seeds.eval));
    let inputs = Tensor::<Cpu, 2>::from_data(
        TensorData::new(inputs, [batch, layout.input_width]),
        &device,
    );
    let mut render = || -> Result<(), String> {
        let images = generate(&generator, inputs.clone()).map_err(|e| e.to_string())?;
        // Reading one value forces the computation on any backend.
        let _: f32 = images.slice([0..1, 0..1, 0..1, 0..1]).into_scalar();
        Ok(())
    };
    for _ in 0..options.warmup {
        render()?;
    }
    let infer_rate = median_rate(
        options.windows,
        window / 2.0,
        options.min_steps,
        &mut render,
    )? * batch as f64;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".to_string());
    let parameters = parameter_counts(spec);

    println!(
        "disc runtime (burn 0.21 flex), job `{}`: train {train_rate:.1} img/s ({step} steps, last \
         generator loss {last_loss:.3}); generator inference {infer_rate:.1} img/s (batch \
         {batch}); median of {} windows; parameters {parameters}",
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
            "parameters": parameters,
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

/// Writes every weight of `model` as `STEM.f32` (little-endian, burn's layouts, concatenated) and
/// `STEM.json` (name, shape and offset of each).
fn write_weights(
    model: &InfoGan<Train>,
    directory: &std::path::Path,
    stem: &str,
) -> Result<(), String> {
    let critic = model.critic();
    let mut index = Vec::new();
    let mut weights = Vec::new();
    for (name, shape, values) in model
        .generator()
        .named_weights()
        .into_iter()
        .chain(critic.trunk.named_weights())
        .chain(critic.adversarial.named_weights())
        .chain(critic.recognition.named_weights())
    {
        index.push(serde_json::json!({"name": name, "shape": shape, "offset": weights.len()}));
        weights.extend(values);
    }
    write(&directory.join(format!("{stem}.f32")), &f32_bytes(&weights))?;
    let index = serde_json::to_string(&index).map_err(|e| e.to_string())?;
    write(&directory.join(format!("{stem}.json")), index.as_bytes())
}

/// `--parity DIR`: writes the initial weights (`weights.f32` + `weights.json`, burn's layouts),
/// the weights after the first step (`weights_after_step_0.*`, the critic's first update), the
/// real batches (`batches.f32`, NHWC), the generator inputs (`inputs.f32`,
/// `[steps, 2, batch, input width]`: the discriminator's update, then the generator's) and every
/// term disc logged at each step (`disc.json`).
fn parity(options: &Options, directory: &std::path::Path) -> Result<(), String> {
    let job = infogan_job()?;
    let spec = gan_spec(&job)?;
    let batch = job.train.batch_size as usize;
    let [h, w, c] = job.dataset.observation_shape.map(|v| v as usize);
    let device = Default::default();
    let seeds = Seeds::from_job(&job).map_err(|e| e.to_string())?;
    let mut model = InfoGan::<Train>::build(&job, seeds, &device).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(directory)
        .map_err(|e| format!("cannot create {}: {e}", directory.display()))?;

    write_weights(&model, directory, "weights")?;

    let pool = real_batches(&job, seeds)?;
    write(&directory.join("batches.f32"), &f32_bytes(&pool.concat()))?;

    // A step draws from `noise` only through its players' generated batches (one per update,
    // the discriminator's first), so a copy of the stream yields the same inputs in that order.
    let layout = Layout::of(spec);
    let mut noise = RandomState::new(seeds.noise);
    let mut copy = noise.clone();
    let mut inputs = Vec::new();
    for _ in 0..options.parity_steps * 2 {
        inputs.extend(layout.sample(batch, &mut copy).0);
    }
    write(&directory.join("inputs.f32"), &f32_bytes(&inputs))?;

    let mut logged = Vec::with_capacity(options.parity_steps);
    for step in 0..options.parity_steps {
        let x = images_to_tensor::<Train>(pool[step % POOL].clone(), [batch, h, w, c], &device);
        let (next, values) = model
            .train_step(&job, x, step as u64, &mut noise)
            .map_err(|e| e.to_string())?;
        model = next;
        logged.push(values.terms);
        if step == 0 {
            // After one step: the critic's weights have taken exactly one Adam update (the
            // generator's update does not touch them), which the twin compares parameter by
            // parameter to find where the two discriminator updates differ.
            write_weights(&model, directory, "weights_after_step_0")?;
        }
    }
    let summary = serde_json::json!({
        "steps": options.parity_steps,
        "batch": batch,
        "pool": POOL,
        "input_width": layout.input_width,
        "shape": [h, w, c],
        "terms": logged,
    });
    write(&directory.join("disc.json"), summary.to_string().as_bytes())?;
    let loss = |i: usize, name: &str| {
        logged
            .get(i)
            .and_then(|terms| terms.get(name))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let last = options.parity_steps.saturating_sub(1);
    println!(
        "disc: {} steps written to {}; discriminator loss {:.4} → {:.4}, generator loss {:.4} → \
         {:.4}",
        options.parity_steps,
        directory.display(),
        loss(0, "discriminator/loss"),
        loss(last, "discriminator/loss"),
        loss(0, "generator/loss"),
        loss(last, "generator/loss"),
    );
    Ok(())
}

fn main() {
    let result = parse_options().and_then(|options| match &options.parity {
        Some(directory) => parity(&options, directory),
        None => run(&options),
    });
    if let Err(message) = result {
        eprintln!("bench_infogan: {message}");
        std::process::exit(2);
    }
}
