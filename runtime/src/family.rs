//! The model-family interface: what the trainer asks of a family (VAE, InfoGAN, …), and the
//! values they exchange.
//!
//! A family builds its modules and optimizers from the plan (its [`plan::Player`]s say which
//! optimizer and schedule update which modules, in which order), runs one training step on a batch
//! (every player's updates), saves and restores its modules and optimizer states by name, and
//! writes its outputs (weights, images, metrics). The trainer (`train.rs`) owns the data stream,
//! the random streams' positions, logging and checkpoint files; it never looks inside a family, and
//! a family never calls the trainer. Adding a family touches no other family.

use std::collections::BTreeMap;

use burn::module::{AutodiffModule, Module};
use burn::optim::Optimizer;
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use disc_compiler::plan::{self, Job, LrSchedule, Player};
use disc_data::{GroundTruthData, RandomState};

use crate::artifacts::{MetricsReport, RunDir};
use crate::error::RuntimeError;
use crate::optim::{AdamOf, Tf1Adam};

/// One step's host-side values: the objective and every term (before coefficients).
pub struct StepValues {
    /// The weighted objective that was minimised (the main player's).
    pub loss: f64,
    /// Every term's value before its coefficient, by name (plus diagnostics such as `kl`, `elbo`).
    pub terms: BTreeMap<String, f64>,
}

/// The seeds of a job's random streams (see `train.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeds {
    pub data: u32,
    pub eval: u32,
    pub init: u32,
    pub noise: u32,
}

impl Seeds {
    /// Derives the streams from the plan's seed, which must fit numpy's `RandomState` (< 2³²).
    pub fn from_job(job: &Job) -> Result<Self, RuntimeError> {
        let seed = u32::try_from(job.train.seed).map_err(|_| RuntimeError::Unsupported {
            job: job.index,
            what: format!(
                "seed {} (numpy's RandomState takes seeds below 2^32)",
                job.train.seed
            ),
        })?;
        Ok(Self::from_seed(seed))
    }

    /// The streams of `RandomState(seed)`: data, evaluation, initialisation, noise, in draw order.
    pub fn from_seed(seed: u32) -> Self {
        let mut master = RandomState::new(seed);
        Seeds {
            data: master.randint_u32(),
            eval: master.randint_u32(),
            init: master.randint_u32(),
            noise: master.randint_u32(),
        }
    }
}

/// Reads one named checkpoint file.
pub type ReadFile<'a> = dyn Fn(&str) -> Result<Vec<u8>, RuntimeError> + 'a;

/// A model family the trainer can drive.
pub trait Family<B: AutodiffBackend>: Sized {
    /// Builds the family's modules (weights from `seeds.init`) and its players' optimizers.
    fn build(job: &Job, seeds: Seeds, device: &B::Device) -> Result<Self, RuntimeError>;
    /// One training step on the NCHW batch `x`: every player's updates, in plan order. Returns the
    /// values before the updates; refuses to update when any is NaN or infinite.
    fn train_step(
        self,
        job: &Job,
        x: Tensor<B, 4>,
        step: u64,
        noise: &mut RandomState,
    ) -> Result<(Self, StepValues), RuntimeError>;
    /// The checkpoint files of every module and optimizer state, by file name.
    fn checkpoint(&self) -> Result<Vec<(String, Vec<u8>)>, String>;
    /// Loads what [`Family::checkpoint`] wrote.
    fn restore(self, read: &ReadFile<'_>, device: &B::Device) -> Result<Self, RuntimeError>;
    /// The learning rate of the first player at `step`, for the loss log.
    fn learning_rate(&self, job: &Job, step: u64) -> f64;
    /// Writes the trained model's weights and, when `evaluate`, its images and metrics; returns the
    /// metrics report (which records the metrics that failed beside the others) when it evaluated.
    #[allow(clippy::too_many_arguments)]
    fn write_outputs(
        &self,
        run_dir: &RunDir,
        job: &Job,
        data: &dyn GroundTruthData,
        seeds: Seeds,
        steps: u64,
        evaluate: bool,
        observer: &dyn crate::train::Observer,
    ) -> Result<Option<MetricsReport>, RuntimeError>;
}

/// The plan's player `name`, or an error saying the plan does not fit this family.
pub fn player<'a>(job: &'a Job, name: &str) -> Result<&'a Player, RuntimeError> {
    job.players
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| RuntimeError::Unsupported {
            job: job.index,
            what: format!(
                "a plan without the `{name}` player (players: {})",
                job.players
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// The plan's optimizer (TF1's Adam, see [`crate::optim`]) and its base learning rate.
pub fn adam(optimizer: &plan::Optimizer) -> (Tf1Adam, f64) {
    Tf1Adam::from_plan(optimizer)
}

/// The learning rate at `step` (from 0) under `schedule`.
pub fn learning_rate(base: f64, schedule: &LrSchedule, step: u64) -> f64 {
    match schedule {
        LrSchedule::Constant => base,
        LrSchedule::ExponentialDecay {
            decay_steps,
            rate,
            staircase,
        } => {
            let mut exponent = step as f64 / (*decay_steps).max(1) as f64;
            if *staircase {
                exponent = exponent.floor();
            }
            base * rate.powf(exponent)
        }
        LrSchedule::PiecewiseConstant { boundaries, values } => {
            let position = boundaries
                .iter()
                .take_while(|boundary| step >= **boundary)
                .count();
            values
                .get(position)
                .or(values.last())
                .copied()
                .unwrap_or(base)
        }
    }
}

/// A module trained by one player: the module, its Adam state, and the player's rate settings.
pub struct Trained<B: AutodiffBackend, M: AutodiffModule<B>> {
    pub module: M,
    pub optimizer: AdamOf<M, B>,
    pub base_lr: f64,
    pub schedule: LrSchedule,
    pub updates_per_step: u32,
}

impl<B: AutodiffBackend, M: AutodiffModule<B>> Trained<B, M> {
    /// `module` with the optimizer, schedule and update count of `player`.
    pub fn new(module: M, player: &Player) -> Self {
        let (config, base_lr) = adam(&player.optimizer);
        Trained {
            module,
            optimizer: config.init(),
            base_lr,
            schedule: player.schedule.clone(),
            updates_per_step: player.updates_per_step,
        }
    }

    /// The rate at `step`.
    pub fn lr(&self, step: u64) -> f64 {
        learning_rate(self.base_lr, &self.schedule, step)
    }

    /// One optimizer step on the gradients of `loss` for this module only.
    pub fn update(self, loss: Tensor<B, 1>, step: u64) -> Self {
        let lr = self.lr(step);
        let Trained {
            module,
            mut optimizer,
            base_lr,
            schedule,
            updates_per_step,
        } = self;
        let mut gradients = loss.backward();
        let gradients = burn::optim::GradientsParams::from_module(&mut gradients, &module);
        let module = optimizer.step(lr, module, gradients);
        Trained {
            module,
            optimizer,
            base_lr,
            schedule,
            updates_per_step,
        }
    }

    /// The module's and the optimizer's records, as `<name>.bin` and `<name>.optimizer.bin`.
    pub fn save(&self, name: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        let recorder = Bytes::default();
        Ok(vec![
            (
                format!("{name}.bin"),
                Recorder::<B>::record(&recorder, self.module.clone().into_record(), ())
                    .map_err(|e| e.to_string())?,
            ),
            (
                format!("{name}.optimizer.bin"),
                Recorder::<B>::record(&recorder, self.optimizer.to_record(), ())
                    .map_err(|e| e.to_string())?,
            ),
        ])
    }

    /// Loads what [`Trained::save`] wrote under `name`.
    pub fn load(
        mut self,
        name: &str,
        read: &ReadFile<'_>,
        device: &B::Device,
    ) -> Result<Self, RuntimeError> {
        self.module = load_module(self.module, &format!("{name}.bin"), read, device)?;
        let file = format!("{name}.optimizer.bin");
        let record = decode_record::<B, _>(&file, read(&file)?, device)?;
        self.optimizer = self.optimizer.load_record(record);
        Ok(self)
    }
}

/// The recorder of checkpoint files.
pub type Bytes = BinBytesRecorder<FullPrecisionSettings>;

/// Loads `module`'s record from the checkpoint file `file`.
pub fn load_module<B: AutodiffBackend, M: Module<B>>(
    module: M,
    file: &str,
    read: &ReadFile<'_>,
    device: &B::Device,
) -> Result<M, RuntimeError> {
    let record = decode_record::<B, _>(file, read(file)?, device)?;
    Ok(module.load_record(record))
}

/// Decodes the checkpoint file `file` (its `bytes`) into a record. burn's byte recorder unwraps
/// its decoder's error, so a truncated or damaged file panics inside burn (found by the
/// `checkpoint` fuzz target); the panic is caught here and reported as the damaged file it is,
/// naming it, rather than as an internal error of the job.
pub fn decode_record<B: burn::tensor::backend::Backend, R: burn::record::Record<B>>(
    file: &str,
    bytes: Vec<u8>,
    device: &B::Device,
) -> Result<R, RuntimeError> {
    let fail = |message: String| RuntimeError::Checkpoint {
        path: file.into(),
        message,
    };
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Recorder::<B>::load(&Bytes::default(), bytes, device)
    }));
    match decoded {
        Ok(record) => record.map_err(|e| fail(e.to_string())),
        Err(_) => Err(fail(
            "the file is damaged or truncated (it does not decode as a checkpoint)".to_string(),
        )),
    }
}

/// Checks every host value of a step, naming the player and term of the first non-finite one.
pub fn check_finite(
    step: u64,
    names: &[String],
    values: &[f32],
) -> Result<BTreeMap<String, f64>, RuntimeError> {
    let mut terms = BTreeMap::new();
    for (name, value) in names.iter().zip(values) {
        let value = f64::from(*value);
        if !value.is_finite() {
            return Err(RuntimeError::NonFinite {
                step,
                term: name.clone(),
                value,
            });
        }
        terms.insert(name.clone(), value);
    }
    Ok(terms)
}

/// Reads named one-element tensors to the host in one transfer.
pub fn read_values<B: AutodiffBackend>(
    values: Vec<Tensor<B, 1>>,
) -> Result<Vec<f32>, RuntimeError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    Tensor::cat(values.into_iter().map(|v| v.detach()).collect(), 0)
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| RuntimeError::Shape(format!("reading the loss values: {e:?}")))
}

/// A fresh `RandomState` for weight initialisation (the family's build draws from it in order).
pub fn init_rng(seeds: Seeds) -> RandomState {
    RandomState::new(seeds.init)
}
