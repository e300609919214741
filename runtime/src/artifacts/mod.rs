//! Run outputs: the files a training job leaves behind, written so that a kill never corrupts them
//! and readable without disc.
//!
//! This module takes plain values (bytes, `f32` slices in NHWC order, loss records, tensors in the
//! reference layout) and writes files. It must not depend on burn or run any model: the training
//! loop computes, this module stores.
//!
//! # The run directory
//!
//! One directory per job, `<out>/<index:05>-<hash>/` (index = the job's position in the plan, hash =
//! the job's 16-hex-digit plan hash, so a changed job never reuses an old directory):
//!
//! | path | contents |
//! |---|---|
//! | `job.ron` | the resolved job (`disc_compiler::plan::Job`), pretty RON |
//! | `losses.jsonl` | one JSON object per logged step: `step`, `loss`, `terms` {name: value}, `learning_rate`, `images_per_second`, `elapsed_seconds` |
//! | `checkpoints/step-<step:09>/` | one directory per checkpoint, holding the training loop's files (model, optimizer, RNG state) |
//! | `model.safetensors` | final weights: f32, names = layer paths, TensorFlow (reference) layouts; see [`weights`] |
//! | `metrics.json` | `{representation: {metric: {key: value}}}` with the reference's names (`mean`/`sampled`, `mig`, `discrete_mig`, …) |
//! | `metrics-seed-<seed>.json` | the same, for each further metric seed of the plan (`evaluate.repeat_seeds`); `metrics.json` holds the first seed's |
//! | `images/reconstructions.png` | rows of inputs, each over the row of its reconstructions |
//! | `images/samples.png` | decoded samples from the prior, in a square grid |
//! | `images/traversals.png` | one row per latent, `traversal_steps` columns over [−limit, limit] |
//! | `images/traversal_<name>.gif` | one latent (`z<i>` of a VAE, a code by its name for an InfoGAN) moved over its traversal range and back, looping |
//! | `results.json` | summary: steps, final losses, elapsed time, images/s, device; written last, so it marks a finished job |
//! | `failed.json` | `{"reason": ...}` when the last attempt failed; removed when the job is claimed again |
//! | `lock` | empty; a worker holds an OS lock on it while it trains the job (see [`claim`]) |
//!
//! # Crash safety
//!
//! Every file goes through [`write_atomic`] (temporary file in the same directory, fsync, rename,
//! fsync of the directory); a checkpoint is a directory renamed into place once complete. A kill at
//! any moment leaves only hidden `.*.tmp` leftovers, which [`RunDir::create`] removes. The loss log
//! only appends whole lines; a resumed run calls [`LossLog::resume`] with its checkpoint's step,
//! which drops any unfinished last line and every record newer than the checkpoint, so the log never
//! holds a step twice.

pub mod atomic;
pub mod claim;
pub mod error;
pub mod image;
pub mod layout;
pub mod weights;

pub use atomic::{LossLog, LossRecord, read_loss_log, remove_stale_temporaries, write_atomic};
pub use claim::RunClaim;
pub use error::ArtifactsError;
pub use image::{
    RgbImage, encode_gif, encode_png, image_grid, reconstruction_grid, square_columns,
    traversal_codes, traversal_frames, traversal_grid, traversal_values,
};
pub use layout::{
    Checkpoint, MetricOutcome, MetricsReport, RunDir, RunSummary, metric_name, representation_name,
};
pub use weights::{
    NamedTensor, SourceLayout, WEIGHTS_FORMAT, decode_safetensors, encode_safetensors,
    to_reference_layout,
};
