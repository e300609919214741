//! The training loop of one job, for any model family ([`Family`]): data stream, the family's
//! player updates, logging, checkpoints, resume, and the final outputs.
//!
//! Random streams (all numpy-compatible [`RandomState`]s, so a run is reproducible and resumable):
//! `RandomState(seed)` is created first; its first `randint(2**32)` seeds the training data stream
//! and its second the evaluation stream (reference §1.9); the runtime's own third and fourth draws
//! seed the weight initialisation and the training noise (the reparameterisation ε and the
//! FactorVAE permutations). Noise is drawn on the host, not by the backend, so the same seed gives
//! the same run on every backend and a checkpoint can store every stream's exact position.
//!
//! A checkpoint (every `checkpoint_every` steps and at the end) holds the family's modules and
//! optimizer states by name, and `state.json` with the step and both training streams; a run directory with a checkpoint resumes from it,
//! and ends with the same weights as an uninterrupted run on the CPU. A NaN or infinite loss stops
//! the run before the update, with an error naming the step and the term (`player/term` for
//! families with several players); the last checkpoint stays.
//!
//! This module must not pick a backend: everything is generic over `B: AutodiffBackend`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};
use disc_compiler::plan::{self, DataSource, DatasetKind, DatasetSpec, Job, ModelSpec, Term};
use disc_data::{DatasetConfig, GroundTruthData, RandomState};
use serde::{Deserialize, Serialize};

use crate::artifacts::{LossLog, LossRecord, RunDir, RunSummary, read_loss_log};
use crate::error::RuntimeError;
use crate::family::Family;
pub use crate::family::{Seeds, StepValues, learning_rate};
use crate::model::images_to_tensor;
pub use crate::vae::Trainer;

/// What a running job tells its caller. The runtime never prints (ARCHITECTURE.md): the binary
/// implements this and decides how to show it (an updating line on a terminal, plain lines in a
/// log). Called from the thread that trains the job; every method does nothing by default.
pub trait Observer: Sync {
    /// The job resumes from its checkpoint at `step`.
    fn resuming(&self, _job: &Job, _step: u64) {}
    /// A loss record was logged; `start` is the step this process began at.
    fn logged(&self, _job: &Job, _record: &LossRecord, _start: u64) {}
    /// The training loop ended (finished or stopped); evaluation may follow.
    fn trained(&self, _job: &Job) {}
    /// A metric starts, on the named representation (`mean` or `sampled`).
    fn evaluating(&self, _job: &Job, _metric: &str, _representation: &str) {}
    /// A fitted baseline (PCA, ICA) was fitted, or its stored fit is reused; `message` says how.
    fn fitted(&self, _job: &Job, _message: &str) {}
    /// Something the user should know that does not stop the job (e.g. pixels a fit leaves out).
    fn warning(&self, _job: &Job, _message: &str) {}
}

/// An [`Observer`] that ignores everything (tests, benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// Options of one `run_job` call that are not part of the plan.
#[derive(Clone)]
pub struct RunOptions {
    /// The results root; the job's directory is `<out>/<index:05>-<hash>/`.
    pub out: PathBuf,
    /// The device's name for `results.json`, e.g. `cpu` or `cuda:0`.
    pub device_name: String,
    /// Receives the job's progress (see [`Observer`]).
    pub observer: Arc<dyn Observer + Send>,
    /// Stop (as if killed right after a checkpoint) once this many steps are done; for tests of resume.
    pub stop_after: Option<u64>,
    /// Run the plan's metrics and write the images after training.
    pub evaluate: bool,
}

/// What a finished (or deliberately stopped) job left behind.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    pub run_dir: RunDir,
    /// Steps completed.
    pub steps: u64,
    /// The checkpoint step this process resumed from, if any.
    pub resumed_from: Option<u64>,
    /// False when `stop_after` stopped the run early.
    pub finished: bool,
    /// The last step's objective and terms.
    pub final_terms: BTreeMap<String, f64>,
    /// Metrics that could not be computed, as `(representation, metric, error)`; each is recorded in
    /// `metrics.json` beside the others' values.
    pub metric_failures: Vec<(String, String, String)>,
}

/// The trainer's own checkpoint file (step and random streams); families name theirs.
const STATE_FILE: &str = "state.json";

/// Checkpoints kept on disk (the newest ones); older ones are deleted after each new checkpoint.
const CHECKPOINTS_KEPT: usize = 2;

/// `state.json` of a checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct TrainState {
    step: u64,
    data_rng: RandomState,
    noise_rng: RandomState,
}

/// Maps the plan's dataset onto the data crate's configuration.
pub fn dataset_config(spec: &DatasetSpec) -> DatasetConfig {
    let file = match &spec.source {
        DataSource::Procedural => None,
        DataSource::File { path } => Some(PathBuf::from(path)),
    };
    let path = || file.clone().unwrap_or_default();
    match &spec.kind {
        DatasetKind::Dsprites => DatasetConfig::Dsprites { file },
        DatasetKind::ColorDsprites => DatasetConfig::ColorDsprites { file },
        DatasetKind::NoisyDsprites => DatasetConfig::NoisyDsprites { file },
        DatasetKind::ScreamDsprites { image } => DatasetConfig::ScreamDsprites {
            file: file.clone(),
            image: image.as_ref().map(PathBuf::from),
        },
        DatasetKind::Shapes3d => DatasetConfig::Shapes3d { file },
        DatasetKind::SmallNorb => DatasetConfig::SmallNorb { path: path() },
        DatasetKind::Cars3d => DatasetConfig::Cars3d { path: path() },
        DatasetKind::Mpi3d { mode } => DatasetConfig::Mpi3d {
            mode: mode.clone(),
            file: path(),
        },
        DatasetKind::Dummy => DatasetConfig::Dummy,
        DatasetKind::Arrays {
            images_key,
            labels,
            labels_key,
            ..
        } => DatasetConfig::Arrays {
            name: spec.name.clone(),
            source: disc_data::arrays::ArraySource {
                images: path(),
                images_key: images_key.clone(),
                labels: PathBuf::from(labels),
                labels_key: labels_key.clone(),
            },
            names: spec.factors.iter().map(|f| f.name.clone()).collect(),
            sizes: spec.factors.iter().map(|f| f.size).collect(),
        },
    }
}

/// Opens the job's dataset and checks its shape against the plan.
pub fn open_dataset(job: &Job) -> Result<Box<dyn GroundTruthData>, RuntimeError> {
    let spec = &job.dataset;
    let data = disc_data::open(&dataset_config(spec)).map_err(|source| RuntimeError::Data {
        dataset: spec.name.clone(),
        source: Box::new(source),
    })?;
    let planned = spec.observation_shape.map(|v| v as usize);
    if data.observation_shape() != planned {
        return Err(RuntimeError::Shape(format!(
            "dataset `{}` has observations of shape {:?}, but the plan says {:?}",
            spec.name,
            data.observation_shape(),
            planned
        )));
    }
    Ok(data)
}

/// Refuses what this runtime does not train, naming it.
pub fn check_job(job: &Job) -> Result<(), RuntimeError> {
    let unsupported = |what: &str| RuntimeError::Unsupported {
        job: job.index,
        what: what.to_string(),
    };
    let discriminators = job
        .objective
        .iter()
        .filter(|term| matches!(term.term, Term::DiscriminatorTc { .. }))
        .count();
    if discriminators > 1 {
        return Err(unsupported("more than one discriminator TC term"));
    }
    if job.train.batch_size == 0 {
        return Err(unsupported("a batch size of 0"));
    }
    Ok(())
}

/// The job's VAE spec when [`check_job`] accepts it and the model is a VAE (for the VAE bench).
pub fn check_supported(job: &Job) -> Result<&plan::VaeSpec, RuntimeError> {
    check_job(job)?;
    match &job.model {
        ModelSpec::Vae(spec) => Ok(spec),
        ModelSpec::InfoGan(_) | ModelSpec::Pca { .. } | ModelSpec::Ica { .. } => {
            Err(RuntimeError::Unsupported {
                job: job.index,
                what: "a model other than a VAE in the VAE trainer".to_string(),
            })
        }
    }
}

/// Trains (or resumes) one job and writes its run directory; then, when `options.evaluate`,
/// writes the final weights, images and metrics. A PCA or ICA job is fitted instead
/// ([`crate::baselines::run_baseline`]).
pub fn run_job<B: AutodiffBackend>(
    job: &Job,
    device: &B::Device,
    options: &RunOptions,
) -> Result<JobOutcome, RuntimeError> {
    check_job(job)?;
    match &job.model {
        ModelSpec::InfoGan(_) => run_family::<B, crate::infogan::InfoGan<B>>(job, device, options),
        ModelSpec::Vae(_) => run_family::<B, Trainer<B>>(job, device, options),
        // Fitted on the host, not trained: no backend, no training loop.
        ModelSpec::Pca { .. } | ModelSpec::Ica { .. } => {
            crate::baselines::run_baseline(job, options)
        }
    }
}

/// [`run_job`] for the model family `F`.
fn run_family<B: AutodiffBackend, F: Family<B>>(
    job: &Job,
    device: &B::Device,
    options: &RunOptions,
) -> Result<JobOutcome, RuntimeError> {
    let data: std::sync::Arc<dyn GroundTruthData> = open_dataset(job)?.into();
    let seeds = Seeds::from_job(job)?;
    let run_dir = RunDir::for_job(&options.out, job);
    run_dir.create()?;
    run_dir.write_job(job)?;

    let mut trainer = F::build(job, seeds, device)?;
    let mut data_rng = RandomState::new(seeds.data);
    let mut noise_rng = RandomState::new(seeds.noise);
    let mut start = 0;
    let mut resumed_from = None;
    let mut log = match run_dir.latest_checkpoint()? {
        Some(checkpoint) => {
            let directory = checkpoint.directory.clone();
            let read = |name: &str| {
                let path = directory.join(name);
                std::fs::read(&path).map_err(|e| RuntimeError::Checkpoint {
                    path,
                    message: e.to_string(),
                })
            };
            trainer = trainer.restore(&read, device)?;
            let state: TrainState = serde_json::from_slice(&read(STATE_FILE)?).map_err(|e| {
                RuntimeError::Checkpoint {
                    path: directory.join(STATE_FILE),
                    message: e.to_string(),
                }
            })?;
            data_rng = state.data_rng;
            noise_rng = state.noise_rng;
            start = state.step;
            resumed_from = Some(state.step);
            LossLog::resume(&run_dir.losses_path(), state.step)?
        }
        None => LossLog::create(&run_dir.losses_path())?,
    };

    let total_steps = job.train.steps;
    let batch = job.train.batch_size as usize;
    let [h, w, c] = job.dataset.observation_shape.map(|v| v as usize);
    let log_every = job.train.log_every.max(1);
    let started = Instant::now();
    let mut interval_start = Instant::now();
    let mut interval_steps = 0u64;
    let mut last = StepValues {
        loss: f64::NAN,
        terms: BTreeMap::new(),
    };
    let mut step = start;
    if resumed_from.is_some() {
        options.observer.resuming(job, start);
    }
    let mut batches = crate::prefetch::Prefetch::spawn(data.clone(), batch, data_rng.clone(), 2);
    while step < total_steps {
        if options.stop_after.is_some_and(|limit| step >= limit) {
            break;
        }
        // Rendered on another thread while the previous step computed (crate::prefetch).
        let (images, after) = batches.next_batch().map_err(|source| RuntimeError::Data {
            dataset: job.dataset.name.clone(),
            source: Box::new(source),
        })?;
        data_rng = after;
        let x = images_to_tensor::<B>(images, [batch, h, w, c], device);
        let (next, values) = trainer.train_step(job, x, step, &mut noise_rng)?;
        trainer = next;
        step += 1;
        interval_steps += 1;
        last = values;

        if step % log_every == 0 || step == total_steps {
            let interval = interval_start.elapsed().as_secs_f64().max(1e-9);
            let images_per_second = (interval_steps as f64 * batch as f64) / interval;
            let record = LossRecord {
                step,
                loss: last.loss,
                terms: last.terms.clone(),
                learning_rate: trainer.learning_rate(job, step - 1),
                images_per_second,
                elapsed_seconds: started.elapsed().as_secs_f64(),
            };
            log.append(&record)?;
            options.observer.logged(job, &record, start);
            interval_start = Instant::now();
            interval_steps = 0;
        }
        let checkpoint_due =
            job.train.checkpoint_every > 0 && step % job.train.checkpoint_every == 0;
        let stopping = options.stop_after.is_some_and(|limit| step >= limit);
        if checkpoint_due || step == total_steps || stopping {
            log.sync()?;
            let state = TrainState {
                step,
                data_rng: data_rng.clone(),
                noise_rng: noise_rng.clone(),
            };
            let fail = |message: String| RuntimeError::Checkpoint {
                path: run_dir.checkpoints_dir(),
                message,
            };
            let mut files = trainer.checkpoint().map_err(fail)?;
            files.push((
                STATE_FILE.to_string(),
                serde_json::to_vec(&state).map_err(|e| fail(e.to_string()))?,
            ));
            let borrowed: Vec<(&str, &[u8])> = files
                .iter()
                .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
                .collect();
            run_dir.write_checkpoint(step, &borrowed)?;
            run_dir.prune_checkpoints(CHECKPOINTS_KEPT)?;
        }
    }
    drop(batches);
    options.observer.trained(job);
    let trained = step - start;
    let elapsed = started.elapsed().as_secs_f64();
    let finished = step >= total_steps;
    if trained == 0 {
        // Nothing trained in this process (a finished job run again): report the logged end.
        if let Some(record) = read_loss_log(&run_dir.losses_path())?.pop() {
            last = StepValues {
                loss: record.loss,
                terms: record.terms,
            };
        }
    }
    let mut metric_failures = Vec::new();
    if finished {
        let report = trainer.write_outputs(
            &run_dir,
            job,
            data.as_ref(),
            seeds,
            step,
            options.evaluate,
            options.observer.as_ref(),
        )?;
        if let Some(report) = report {
            metric_failures = report
                .failures()
                .into_iter()
                .map(|(representation, metric, error)| {
                    (representation.into(), metric.into(), error.into())
                })
                .collect();
        }
        let summary = RunSummary {
            job_index: job.index,
            job_hash: job.hash.clone(),
            experiment: job.experiment.clone(),
            device: options.device_name.clone(),
            steps: step,
            batch_size: job.train.batch_size,
            resumed_from_step: resumed_from,
            final_loss: if last.loss.is_finite() {
                last.loss
            } else {
                0.0
            },
            final_terms: last.terms.clone(),
            elapsed_seconds: elapsed,
            images_per_second: if elapsed > 0.0 {
                (trained * batch as u64) as f64 / elapsed
            } else {
                0.0
            },
        };
        run_dir.write_results(&summary)?;
    }
    Ok(JobOutcome {
        run_dir,
        steps: step,
        resumed_from,
        finished,
        final_terms: last.terms,
        metric_failures,
    })
}

/// Converts a one-element tensor to f64 (for tests and diagnostics).
pub fn scalar<B: burn::tensor::backend::Backend>(t: Tensor<B, 1>) -> f64 {
    t.into_scalar().elem::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use disc_compiler::plan::LrSchedule;

    // Reference §1.9: for seed 0 the training and evaluation streams are seeded 2357136044 and
    // 2546248239 (measured with numpy).
    #[test]
    fn seeds_follow_train_py() {
        let seeds = Seeds::from_seed(0);
        assert_eq!((seeds.data, seeds.eval), (2_357_136_044, 2_546_248_239));
        // The runtime's own streams are distinct from the reference's two.
        assert!(seeds.init != seeds.data && seeds.noise != seeds.init);
    }

    #[test]
    fn learning_rate_schedules() {
        assert_eq!(learning_rate(0.1, &LrSchedule::Constant, 1000), 0.1);
        let smooth = LrSchedule::ExponentialDecay {
            decay_steps: 10,
            rate: 0.5,
            staircase: false,
        };
        assert!((learning_rate(1.0, &smooth, 5) - 0.5f64.powf(0.5)).abs() < 1e-12);
        let stairs = LrSchedule::ExponentialDecay {
            decay_steps: 10,
            rate: 0.5,
            staircase: true,
        };
        assert_eq!(learning_rate(1.0, &stairs, 9), 1.0);
        assert_eq!(learning_rate(1.0, &stairs, 10), 0.5);
        let piecewise = LrSchedule::PiecewiseConstant {
            boundaries: vec![10, 20],
            values: vec![1.0, 0.5, 0.1],
        };
        let at = |step| learning_rate(9.0, &piecewise, step);
        assert_eq!(
            (at(0), at(9), at(10), at(19), at(20), at(1000)),
            (1.0, 1.0, 0.5, 0.5, 0.1, 0.1)
        );
    }

    #[test]
    fn term_names() {
        assert_eq!(
            disc_compiler::players::term_name(&Term::Capacity {
                c_max: 1.0,
                iteration_threshold: 1
            }),
            "capacity"
        );
    }
}
