//! After training: the final weights, the images, and the plan's metrics of the trained encoder.
//!
//! The encoder is wrapped as a `disc_metrics::Representation` ([`EncoderRepresentation`]): it renders
//! the observations of the factor rows a metric asks for and encodes them in large batches. For the
//! mean representation of a dataset whose observations draw no randomness, codes are cached per
//! factor cell (`CachedRepresentation`), so the BetaVAE/FactorVAE scores encode each needed cell once.
//! This module trains nothing and works on the non-autodiff model.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use disc_compiler::plan::{
    DatasetKind, Job, MetricSpec, OutputActivation, Predictor, Reconstruction, Representation,
};
use disc_data::{GroundTruthData, RandomState};
use disc_metrics::{
    BetaVaeConfig, CachedRepresentation, DciConfig, Discretizer, DownstreamConfig, FactorVaeConfig,
    IrsConfig, MetricConfig, MetricError, MigConfig, ModularityConfig, SapConfig,
    UnsupervisedConfig,
};
use ndarray::Array2;

use crate::artifacts::{
    self, MetricsReport, NamedTensor, RunDir, SourceLayout, metric_name, representation_name,
};
use crate::error::RuntimeError;
use crate::model::{Vae, images_to_tensor};
use crate::train::Observer;

/// Images encoded per forward pass during evaluation (bounds memory: 512·64·64·3 f32 ≈ 25 MB).
const ENCODE_BATCH: usize = 512;

/// Pixels of padding between cells of the image grids.
pub(crate) const GRID_PAD: usize = 2;

/// Enlargement of GIF frames, so that 64×64 images are legible.
pub(crate) const GIF_SCALE: usize = 3;

/// Delay between GIF frames, in hundredths of a second.
pub(crate) const GIF_DELAY: u16 = 10;

fn model_device<B: Backend>(model: &Vae<B>) -> Result<B::Device, RuntimeError> {
    model
        .devices()
        .into_iter()
        .next()
        .ok_or_else(|| RuntimeError::Shape("the model has no parameters on any device".into()))
}

/// The trained encoder as a metric representation: μ(x), or μ(x) + σ(x)·ε with ε from its own stream.
pub struct EncoderRepresentation<'a, B: Backend> {
    model: &'a Vae<B>,
    data: &'a (dyn GroundTruthData + 'a),
    device: B::Device,
    /// `Some` for the sampled representation: the stream of ε.
    noise: Option<RandomState>,
    dim: usize,
}

impl<'a, B: Backend> EncoderRepresentation<'a, B> {
    /// The mean (`noise: None`) or sampled representation of `model` on `data`.
    pub fn new(
        model: &'a Vae<B>,
        data: &'a (dyn GroundTruthData + 'a),
        latents: usize,
        noise: Option<RandomState>,
    ) -> Result<Self, RuntimeError> {
        let device = model_device(model)?;
        Ok(Self {
            model,
            data,
            device,
            noise,
            dim: latents,
        })
    }

    /// (μ, log σ²) of NHWC images (`n` of them), as host row-major `[n, D]` arrays.
    fn encode_images(
        &self,
        nhwc: Vec<f32>,
        n: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), RuntimeError> {
        let [h, w, c] = self.data.observation_shape();
        let x = images_to_tensor::<B>(nhwc, [n, h, w, c], &self.device);
        let (mean, log_var) = self.model.encode(x)?;
        let read = |t: Tensor<B, 2>| {
            t.into_data()
                .to_vec::<f32>()
                .map_err(|e| RuntimeError::Shape(format!("reading codes: {e:?}")))
        };
        Ok((read(mean)?, read(log_var)?))
    }
}

impl<B: Backend> disc_metrics::Representation for EncoderRepresentation<'_, B> {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        let d = self.dim;
        let mut codes = Vec::with_capacity(factors.len() * d);
        for chunk in factors.chunks(ENCODE_BATCH) {
            let mut images = Vec::with_capacity(chunk.len() * self.data.observation_len());
            self.data
                .observations(chunk, rng, &mut images)
                .map_err(|e| MetricError::Encode(Box::new(e)))?;
            let (mean, log_var) = self
                .encode_images(images, chunk.len())
                .map_err(|e| MetricError::Encode(Box::new(e)))?;
            match &mut self.noise {
                None => codes.extend(mean.iter().map(|v| *v as f64)),
                Some(noise) => {
                    codes.extend(mean.iter().zip(&log_var).map(|(m, lv)| {
                        *m as f64 + (0.5 * *lv as f64).exp() * noise.standard_normal()
                    }))
                }
            }
        }
        Array2::from_shape_vec((factors.len(), d), codes)
            .map_err(|e| MetricError::Encode(Box::new(e)))
    }

    fn dim(&self) -> usize {
        self.dim
    }
}

/// The metrics crate's configuration of a plan metric.
pub fn metric_config(spec: &MetricSpec) -> MetricConfig {
    let u = |v: u32| v as usize;
    let histogram = |bins: u32| Discretizer::Histogram {
        num_bins: bins as usize,
    };
    match spec {
        MetricSpec::BetaVae {
            batch_size,
            num_train,
            num_eval,
        } => MetricConfig::BetaVae(BetaVaeConfig {
            batch_size: u(*batch_size),
            num_train: u(*num_train),
            num_eval: u(*num_eval),
        }),
        MetricSpec::FactorVae {
            batch_size,
            num_train,
            num_eval,
            num_variance_estimate,
            prune_threshold,
        } => MetricConfig::FactorVae(FactorVaeConfig {
            batch_size: u(*batch_size),
            num_train: u(*num_train),
            num_eval: u(*num_eval),
            num_variance_estimate: u(*num_variance_estimate),
            prune_threshold: *prune_threshold,
        }),
        MetricSpec::Mig {
            num_train,
            batch_size,
            num_bins,
        } => MetricConfig::Mig(MigConfig {
            num_train: u(*num_train),
            batch_size: u(*batch_size),
            discretizer: histogram(*num_bins),
        }),
        MetricSpec::Sap {
            num_train,
            num_test,
            batch_size,
            continuous_factors,
        } => MetricConfig::Sap(SapConfig {
            num_train: u(*num_train),
            num_test: u(*num_test),
            batch_size: u(*batch_size),
            continuous_factors: *continuous_factors,
        }),
        MetricSpec::ModularityExplicitness {
            num_train,
            num_test,
            batch_size,
            num_bins,
        } => MetricConfig::Modularity(ModularityConfig {
            num_train: u(*num_train),
            num_test: u(*num_test),
            batch_size: u(*batch_size),
            discretizer: histogram(*num_bins),
        }),
        MetricSpec::Dci {
            num_train,
            num_test,
            batch_size,
        } => MetricConfig::Dci(DciConfig {
            num_train: u(*num_train),
            num_test: u(*num_test),
            batch_size: u(*batch_size),
        }),
        MetricSpec::Irs {
            num_train,
            batch_size,
            diff_quantile,
            num_bins,
        } => MetricConfig::Irs(IrsConfig {
            num_train: u(*num_train),
            batch_size: u(*batch_size),
            discretizer: histogram(*num_bins),
            diff_quantile: *diff_quantile,
        }),
        MetricSpec::Unsupervised {
            num_train,
            batch_size,
            num_bins,
        } => MetricConfig::Unsupervised(UnsupervisedConfig {
            num_train: u(*num_train),
            batch_size: u(*batch_size),
            discretizer: histogram(*num_bins),
        }),
        MetricSpec::Downstream {
            num_train,
            num_test,
            batch_size,
            predictor,
        } => {
            let config = DownstreamConfig {
                num_train: num_train.iter().map(|v| u(*v)).collect(),
                num_test: u(*num_test),
                batch_size: u(*batch_size),
            };
            match predictor {
                Predictor::LogisticRegressionCv => {
                    MetricConfig::DownstreamLogisticRegression(config)
                }
                Predictor::GradientBoosting => MetricConfig::DownstreamBoostedTrees(config),
            }
        }
    }
}

/// The dataset as the metrics' source of factor rows: its own draws, which for every built-in
/// dataset are the factor space's and on the user's plain observations are rows that exist.
struct DatasetSampler<'a>(&'a dyn GroundTruthData);

impl disc_metrics::sample::FactorSampler for DatasetSampler<'_> {
    fn num_factors(&self) -> usize {
        self.0.factor_space().num_factors()
    }

    fn sample_factors(&self, n: usize, rng: &mut RandomState) -> Vec<Vec<u32>> {
        self.0.sample_factors(n, rng)
    }
}

/// Whether the dataset's observations are a deterministic function of the latent factors (so codes
/// of the mean representation can be cached per cell).
fn deterministic_observations(kind: &DatasetKind) -> bool {
    matches!(
        kind,
        DatasetKind::Dsprites
            | DatasetKind::Shapes3d
            | DatasetKind::Cars3d
            | DatasetKind::Mpi3d { .. }
    ) || matches!(kind, DatasetKind::Arrays { rows, combinations, .. } if rows == combinations)
}

/// Runs every plan metric on every plan representation and writes `metrics.json`.
///
/// A metric that cannot be computed (too few distinct factor values, a non-finite code, a classifier
/// that cannot be fitted, ...) is recorded in the report as `{"error": "..."}` beside the others and the
/// evaluation goes on: one metric's failure never loses `metrics.json`. The caller reads the failures
/// from the returned report. Only an error that stops every metric (the encoder cannot be built, the
/// file cannot be written) is returned as `Err`.
pub fn write_metrics<B: Backend>(
    run_dir: &RunDir,
    job: &Job,
    model: &Vae<B>,
    data: &dyn GroundTruthData,
    observer: &dyn Observer,
) -> Result<MetricsReport, RuntimeError> {
    let latents = model_latents(job);
    write_metrics_of(run_dir, job, data, observer, |noise| {
        EncoderRepresentation::new(model, data, latents, noise)
    })
}

/// Runs every plan metric on every plan representation of any model and writes `metrics.json`:
/// `representation(None)` is the mean representation, `representation(Some(stream))` the sampled
/// one drawing its noise from `stream`. Each further metric seed of the plan
/// (`evaluate.repeat_seeds`) scores everything again into `metrics-seed-<seed>.json`; the
/// metrics that fail there are reported to the observer as warnings. Returns the first seed's
/// report (`metrics.json`).
pub fn write_metrics_of<R: disc_metrics::Representation>(
    run_dir: &RunDir,
    job: &Job,
    data: &dyn GroundTruthData,
    observer: &dyn Observer,
    representation_of: impl Fn(Option<RandomState>) -> Result<R, RuntimeError>,
) -> Result<MetricsReport, RuntimeError> {
    let first = metrics_of_seed(job, job.evaluate.seed, data, observer, &representation_of)?;
    run_dir.write_metrics(&first)?;
    for seed in &job.evaluate.repeat_seeds {
        let report = metrics_of_seed(job, *seed, data, observer, &representation_of)?;
        run_dir.write_metrics_of_seed(*seed, &report)?;
        for (representation, metric, error) in report.failures() {
            observer.warning(
                job,
                &format!(
                    "`{metric}` ({representation} representation, metric seed {seed}) could not be computed: {error}"
                ),
            );
        }
    }
    Ok(first)
}

/// Every plan metric on every plan representation, the evaluation stream seeded with `seed`.
fn metrics_of_seed<R: disc_metrics::Representation>(
    job: &Job,
    seed: u64,
    data: &dyn GroundTruthData,
    observer: &dyn Observer,
    representation_of: &impl Fn(Option<RandomState>) -> Result<R, RuntimeError>,
) -> Result<MetricsReport, RuntimeError> {
    let mut report = MetricsReport::default();
    let eval_seed = u32::try_from(seed).map_err(|_| RuntimeError::Unsupported {
        job: job.index,
        what: format!("evaluation seed {seed} (must be below 2^32)"),
    })?;
    for representation in &job.evaluate.representations {
        let sampled = *representation == Representation::Sampled;
        for spec in &job.evaluate.metrics {
            observer.evaluating(job, metric_name(spec), representation_name(*representation));
            let config = metric_config(spec);
            let noise = sampled.then(|| RandomState::new(eval_seed.wrapping_add(1)));
            let encoder = representation_of(noise)?;
            let mut rng = RandomState::new(eval_seed);
            let scores = if !sampled && deterministic_observations(&job.dataset.kind) {
                let mut cached = CachedRepresentation::new(encoder);
                disc_metrics::evaluate(&config, &DatasetSampler(data), &mut cached, &mut rng)
            } else {
                let mut encoder = encoder;
                disc_metrics::evaluate(&config, &DatasetSampler(data), &mut encoder, &mut rng)
            };
            let recorded = match scores {
                Ok(scores) => report
                    .insert(*representation, spec, scores)
                    .map_err(|error| error_chain(&error)),
                Err(error) => Err(error_chain(&error)),
            };
            if let Err(message) = recorded {
                report.insert_error(*representation, spec, message);
            }
        }
    }
    Ok(report)
}

/// An error and its causes on one line (for `metrics.json`).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

fn model_latents(job: &Job) -> usize {
    match &job.model {
        disc_compiler::plan::ModelSpec::Vae(spec) => spec.latents as usize,
        _ => 0,
    }
}

/// Decodes codes `[n, D]` (host row-major) into NHWC images in [0, 1].
fn decode_images<B: Backend>(
    model: &Vae<B>,
    job: &Job,
    codes: Vec<f32>,
    n: usize,
) -> Result<Vec<f32>, RuntimeError> {
    let device = model_device(model)?;
    let d = model_latents(job);
    let z = Tensor::<B, 2>::from_data(TensorData::new(codes, [n, d]), &device);
    let logits = model.decode(z)?;
    let activation = match reconstruction_kind(job) {
        Some(
            Reconstruction::Bernoulli { activation }
            | Reconstruction::L2 { activation }
            | Reconstruction::Gaussian { activation, .. },
        ) => activation,
        None => OutputActivation::Logits,
    };
    let mean = match activation {
        OutputActivation::Logits => sigmoid(logits),
        OutputActivation::Tanh => logits.tanh().div_scalar(2.0).add_scalar(0.5),
    };
    mean.permute([0, 2, 3, 1])
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| RuntimeError::Shape(format!("reading images: {e:?}")))
}

fn reconstruction_kind(job: &Job) -> Option<Reconstruction> {
    match &job.model {
        disc_compiler::plan::ModelSpec::Vae(spec) => Some(spec.reconstruction),
        _ => None,
    }
}

/// Writes the reconstruction grid, the prior samples grid, the traversal grid and one GIF per
/// latent, as the plan's `visuals` ask; inputs come from the evaluation stream `eval_seed`.
pub fn write_images<B: Backend>(
    run_dir: &RunDir,
    job: &Job,
    model: &Vae<B>,
    data: &dyn GroundTruthData,
    eval_seed: u32,
) -> Result<(), RuntimeError> {
    let visuals = &job.evaluate.visuals;
    let [h, w, c] = data.observation_shape();
    let d = model_latents(job);
    let mut rng = RandomState::new(eval_seed);
    let count = (visuals.reconstructions as usize).max(1);
    let (_, inputs) =
        disc_data::sample_batch(data, count, &mut rng).map_err(|source| RuntimeError::Data {
            dataset: job.dataset.name.clone(),
            source: Box::new(source),
        })?;
    let encoder = EncoderRepresentation::new(model, data, d, None)?;
    let (means, _) = encoder.encode_images(inputs.clone(), count)?;
    if visuals.reconstructions > 0 {
        let outputs = decode_images(model, job, means.clone(), count)?;
        let columns = artifacts::square_columns(count);
        let grid =
            artifacts::reconstruction_grid(&inputs, &outputs, count, h, w, c, columns, GRID_PAD)?;
        run_dir.write_png(&run_dir.reconstructions_path(), &grid)?;
    }
    if visuals.samples > 0 {
        let n = visuals.samples as usize;
        let codes: Vec<f32> = (0..n * d).map(|_| rng.standard_normal() as f32).collect();
        let images = decode_images(model, job, codes, n)?;
        let grid =
            artifacts::image_grid(&images, n, h, w, c, artifacts::square_columns(n), GRID_PAD)?;
        run_dir.write_png(&run_dir.samples_path(), &grid)?;
    }
    if visuals.traversal_steps > 0 && d > 0 {
        let steps = visuals.traversal_steps as usize;
        // Traverse around the first input's mean code, one latent at a time.
        let base = &means[..d];
        let codes = artifacts::traversal_codes(base, steps, visuals.traversal_limit);
        let images = decode_images(model, job, codes, d * steps)?;
        let grid = artifacts::traversal_grid(&images, d, steps, h, w, c, GRID_PAD)?;
        run_dir.write_png(&run_dir.traversals_path(), &grid)?;
        let per_latent = steps * h * w * c;
        for latent in 0..d {
            let frames = artifacts::traversal_frames(
                &images[latent * per_latent..(latent + 1) * per_latent],
                steps,
                h,
                w,
                c,
                GIF_SCALE,
            )?;
            run_dir.write_gif(
                &run_dir.traversal_gif_path(&format!("z{latent}")),
                &frames,
                GIF_DELAY,
            )?;
        }
    }
    Ok(())
}

/// Writes `model.safetensors` with the reference (TensorFlow) layouts.
pub fn write_weights<B: Backend>(
    run_dir: &RunDir,
    job: &Job,
    model: &Vae<B>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), RuntimeError> {
    let mut tensors = network_tensors(&[&model.encoder, &model.decoder])?;
    if let Some(log_var) = &model.log_variance {
        let data = log_var
            .val()
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| RuntimeError::Shape(format!("reading the log variance: {e:?}")))?;
        tensors.push(NamedTensor {
            name: "decoder/log_variance".into(),
            shape: vec![1],
            data,
        });
    }
    run_dir.write_model(&tensors, job, metadata)?;
    Ok(())
}

/// Every layer's weights of `nets`, in the reference (TensorFlow) layouts, named `<net>/<layer>`.
pub fn network_tensors<B: Backend>(
    nets: &[&crate::model::Net<B>],
) -> Result<Vec<NamedTensor>, RuntimeError> {
    let mut tensors = Vec::new();
    for (name, shape, data) in nets.iter().flat_map(|net| net.named_weights()) {
        let layout = if name.contains("/conv") && name.ends_with("kernel") {
            SourceLayout::ConvOutInHw
        } else if name.contains("/deconv") && name.ends_with("kernel") {
            SourceLayout::ConvTransposeInOutHw
        } else {
            SourceLayout::Reference
        };
        tensors.push(artifacts::to_reference_layout(
            NamedTensor { name, shape, data },
            layout,
        )?);
    }
    Ok(tensors)
}
