//! Entry points for the fuzz targets in `fuzz/` and their regression tests: the runtime's readers of
//! files a user (or an earlier, interrupted run) left in a run directory, each called as the runtime
//! calls it, on bytes a fuzzer made: `model.safetensors` (read back by a PCA or ICA job that finds
//! its fit already stored) and the checkpoint files of a VAE (read when a run resumes).
//!
//! Not an API for users (hidden from the docs). The property under test is that no input panics:
//! a file that is not what the runtime wrote must come back as an error.

use std::collections::BTreeMap;

use disc_compiler::plan::Job;
use disc_data::RandomState;

use crate::RuntimeError;
use crate::artifacts::{ArtifactsError, decode_safetensors};
use crate::device::CpuBackend;
use crate::family::{Family, Seeds};
use crate::model::images_to_tensor;
use crate::vae::Trainer;

/// The job hash, component count and pixel count of [`example_fit_file`], which [`safetensors`]
/// asks of the file it reads.
pub const FIT_JOB_HASH: &str = "fuzz";
/// Components of the example fit.
pub const FIT_COMPONENTS: usize = 2;
/// Pixels of the example fit.
pub const FIT_PIXELS: usize = 12;

/// Reads `model.safetensors` bytes as the runtime does: every tensor and the metadata, then the
/// stored PCA/ICA fit of the job [`FIT_JOB_HASH`] ([`FIT_COMPONENTS`] components over
/// [`FIT_PIXELS`] pixels), which, when accepted, encodes one observation.
pub fn safetensors(bytes: &[u8]) -> Result<usize, ArtifactsError> {
    let (tensors, metadata) = decode_safetensors(bytes)?;
    let values: usize = tensors.iter().map(|t| t.data.len()).sum();
    let fit = crate::baselines::decode_stored_fit(bytes, FIT_JOB_HASH, FIT_COMPONENTS, FIT_PIXELS);
    let codes = fit.map_or(0, |(map, terms)| {
        map.encode(&[0.5; FIT_PIXELS], 1).len() + terms.len()
    });
    Ok(tensors.len() + metadata.len() + values + codes)
}

/// A stored fit as [`safetensors`] accepts it (the fuzz target's seed).
pub fn example_fit_file() -> Result<Vec<u8>, ArtifactsError> {
    crate::baselines::example_fit_file(FIT_JOB_HASH, FIT_COMPONENTS, FIT_PIXELS)
}

/// A VAE small enough that its checkpoint files are a few kilobytes (the fuzzer mutates them whole):
/// the reference's loss and optimizer on dSprites, with a one-convolution encoder and decoder.
pub const EXAMPLE_VAE: &str = "\
use std.data.dsprites_full
use std.models.beta_vae

def tiny_encoder(): architecture = [conv(2, 4, stride: 16), relu, flatten, gaussian_head(2)]
def tiny_decoder(): architecture = [dense(32), relu, reshape((4, 4, 2)), deconv(1, 4, stride: 16)]

experiment tiny {
  data = dsprites_full()
  model = vae(latents: 2, encoder: tiny_encoder(), decoder: tiny_decoder(), recon: bernoulli(logits))
  loss = beta_vae()
}
";

/// The job of [`EXAMPLE_VAE`].
pub fn example_vae_job() -> Result<Job, String> {
    let compiled = disc_compiler::compile(
        disc_compiler::Source {
            name: "example_vae.dis".to_string(),
            text: EXAMPLE_VAE.to_string(),
        },
        &disc_compiler::NoFiles,
    );
    compiled
        .plan
        .and_then(|plan| plan.jobs.into_iter().next())
        .ok_or_else(|| format!("{:?}", compiled.diagnostics))
}

/// The checkpoint files of a freshly built VAE trainer of `job` (a VAE job), by file name.
pub fn vae_checkpoint(job: &Job) -> Result<BTreeMap<String, Vec<u8>>, RuntimeError> {
    let device = Default::default();
    let trainer =
        <Trainer<CpuBackend> as Family<CpuBackend>>::build(job, Seeds::from_seed(0), &device)?;
    let files = trainer
        .checkpoint()
        .map_err(|message| RuntimeError::Checkpoint {
            path: "checkpoint".into(),
            message,
        })?;
    Ok(files.into_iter().collect())
}

/// What a resumed run does with checkpoint `files`: builds the VAE trainer of `job`, restores it
/// through [`Family::restore`] (the resume path of the training loop), then trains one step on a
/// batch of two grey images, which uses every restored module and optimizer state.
pub fn resume_vae(job: &Job, files: &BTreeMap<String, Vec<u8>>) -> Result<f64, RuntimeError> {
    let device = Default::default();
    let trainer =
        <Trainer<CpuBackend> as Family<CpuBackend>>::build(job, Seeds::from_seed(0), &device)?;
    let read = |name: &str| {
        files
            .get(name)
            .cloned()
            .ok_or_else(|| RuntimeError::Checkpoint {
                path: name.into(),
                message: "missing".to_string(),
            })
    };
    let trainer = trainer.restore(&read, &device)?;
    let [h, w, c] = job.dataset.observation_shape.map(|v| v as usize);
    let x = images_to_tensor::<CpuBackend>(vec![0.5; 2 * h * w * c], [2, h, w, c], &device);
    let mut noise = RandomState::new(0);
    let (_, values) = trainer.train_step(job, x, 0, &mut noise)?;
    Ok(values.loss)
}

/// The `checkpoint` target's input: its first byte picks which of the checkpoint `files` (in name
/// order) the rest of the input replaces; then [`resume_vae`]. An empty input changes nothing.
pub fn resume_vae_with_input(
    job: &Job,
    files: &BTreeMap<String, Vec<u8>>,
    input: &[u8],
) -> Result<f64, RuntimeError> {
    let mut files = files.clone();
    if let Some((&pick, rest)) = input.split_first()
        && let Some(name) = files
            .keys()
            .nth(usize::from(pick) % files.len().max(1))
            .cloned()
    {
        files.insert(name, rest.to_vec());
    }
    resume_vae(job, &files)
}

/// The `checkpoint` target's seeds: for each checkpoint file, its name and the input that replaces
/// it by itself (so every seed resumes).
pub fn checkpoint_inputs(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .zip(0u8..)
        .map(|((name, bytes), pick)| {
            let mut input = vec![pick];
            input.extend(bytes);
            (name.clone(), input)
        })
        .collect()
}
