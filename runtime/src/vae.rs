//! The VAE family (reference §1): a Gaussian encoder, a decoder, and the objective's terms on a
//! batch; optionally FactorVAE's density-ratio discriminator and a structural term's networks.
//!
//! Players (from the plan): `model` (encoder, decoder) minimises the whole objective;
//! `tc_discriminator` trains FactorVAE's discriminator on the same step's latents; `cpd` trains a
//! `nonlinear_gaussian` structural term's networks on the step's (detached) latents. They update
//! in that order from one forward pass. Checkpoint files: `model.bin`, `optimizer.bin`,
//! `discriminator.bin`, `discriminator_optimizer.bin` (as before players existed, so old run
//! directories still resume), `cpd.bin` and `cpd.optimizer.bin`.
//!
//! Structural term on a VAE: each node's target is the sampled latent z_j of the batch and its
//! inputs are the sampled latents of its parents (docs/LANGUAGE.md).

use std::collections::BTreeMap;

use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::record::Recorder;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use disc_compiler::plan::{self, DipKind, Job, LrSchedule, NodeInput, StructuralNode, Term};
use disc_compiler::players::term_name;
use disc_data::{GroundTruthData, RandomState};

use crate::artifacts::{MetricsReport, RunDir};
use crate::error::RuntimeError;
use crate::family::{
    Bytes, Family, ReadFile, Seeds, StepValues, Trained, adam, check_finite, decode_record,
    learning_rate, player, read_values,
};
use crate::loss;
use crate::model::{Net, Vae, Value};
use crate::optim::AdamOf;
use crate::structural::{Cpds, NodeBatch, structural_nll};
use crate::train::Observer;

/// Checkpoint file names.
const MODEL_FILE: &str = "model.bin";
const OPTIMIZER_FILE: &str = "optimizer.bin";
const DISCRIMINATOR_FILE: &str = "discriminator.bin";
const DISCRIMINATOR_OPTIMIZER_FILE: &str = "discriminator_optimizer.bin";

/// Each node's target z_j and inputs (its parents' z) from the sampled latents `z` `[N, D]`.
fn latent_batches<B: AutodiffBackend>(
    nodes: &[StructuralNode],
    z: &Tensor<B, 2>,
) -> Result<Vec<NodeBatch<B>>, RuntimeError> {
    let [_, d] = z.dims();
    let column = |i: u32| -> Result<Tensor<B, 2>, RuntimeError> {
        let i = i as usize;
        if i >= d {
            return Err(RuntimeError::Shape(format!(
                "structural node refers to latent {i}, but the model has {d}"
            )));
        }
        Ok(z.clone().narrow(1, i, 1))
    };
    nodes
        .iter()
        .map(|node| {
            let inputs = node
                .inputs
                .iter()
                .map(|input| match input {
                    NodeInput::Latent(i) => column(*i),
                    NodeInput::SampledCode(_) => Err(RuntimeError::Shape(format!(
                        "structural node `{}` of a VAE takes a sampled code",
                        node.name
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(NodeBatch {
                target: column(node.target)?,
                inputs: Tensor::cat(inputs, 1),
            })
        })
        .collect()
}

/// FactorVAE's density-ratio discriminator: the network, its Adam state and its learning rate.
type Discriminator<B> = (Net<B>, AdamOf<Net<B>, B>, f64);

/// The trainable state of a job: the VAE, its Adam state and the optional discriminator.
/// [`run_job`] drives it; it is public so `runtime/examples/bench_train.rs` times the same step.
pub struct Trainer<B: AutodiffBackend> {
    vae: Vae<B>,
    optimizer: AdamOf<Vae<B>, B>,
    learning_rate: f64,
    schedule: LrSchedule,
    discriminator: Option<Discriminator<B>>,
    /// The `cpd` player: the networks of a `nonlinear_gaussian` structural term.
    cpds: Option<Trained<B, Cpds<B>>>,
}

impl<B: AutodiffBackend> Trainer<B> {
    /// Builds the VAE of `spec` (and the discriminator of a FactorVAE objective) from `seeds.init`
    /// with the job's Adam optimizers.
    pub fn new(
        job: &Job,
        spec: &plan::VaeSpec,
        seeds: Seeds,
        device: &B::Device,
    ) -> Result<Self, RuntimeError> {
        let mut init = RandomState::new(seeds.init);
        let vae = Vae::build(spec, &mut init, device)?;
        let model = player(job, "model")?;
        let (config, learning_rate) = adam(&model.optimizer);
        let mut discriminator = None;
        for term in &job.objective {
            if let Term::DiscriminatorTc {
                discriminator: network,
                ..
            } = &term.term
            {
                let net = Net::build("discriminator", network, &mut init, device)?;
                let tc = player(job, "tc_discriminator")?;
                let (config, lr) = adam(&tc.optimizer);
                discriminator = Some((net, config.init(), lr));
            }
        }
        // Built after the VAE and the discriminator, so their initial weights do not move.
        let mut cpds = None;
        for term in &job.objective {
            if let Term::Structural { nodes, .. } = &term.term
                && let Some(networks) = Cpds::build(nodes, &mut init, device)?
            {
                cpds = Some(Trained::new(networks, player(job, "cpd")?));
            }
        }
        for p in &job.players {
            if p.updates_per_step != 1 {
                return Err(RuntimeError::Unsupported {
                    job: job.index,
                    what: format!(
                        "{} updates per step of the VAE's `{}` player",
                        p.updates_per_step, p.name
                    ),
                });
            }
        }
        Ok(Trainer {
            vae,
            optimizer: config.init(),
            learning_rate,
            schedule: model.schedule.clone(),
            discriminator,
            cpds,
        })
    }

    /// The VAE being trained.
    pub fn vae(&self) -> &Vae<B> {
        &self.vae
    }

    fn checkpoint_files(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let fail = |message: String| message;
        let recorder = Bytes::default();
        let mut files = vec![
            (
                MODEL_FILE.to_string(),
                Recorder::<B>::record(&recorder, self.vae.clone().into_record(), ())
                    .map_err(|e| fail(e.to_string()))?,
            ),
            (
                OPTIMIZER_FILE.to_string(),
                Recorder::<B>::record(&recorder, self.optimizer.to_record(), ())
                    .map_err(|e| fail(e.to_string()))?,
            ),
        ];
        if let Some((net, optimizer, _)) = &self.discriminator {
            files.push((
                DISCRIMINATOR_FILE.to_string(),
                Recorder::<B>::record(&recorder, net.clone().into_record(), ())
                    .map_err(|e| fail(e.to_string()))?,
            ));
            files.push((
                DISCRIMINATOR_OPTIMIZER_FILE.to_string(),
                Recorder::<B>::record(&recorder, optimizer.to_record(), ())
                    .map_err(|e| fail(e.to_string()))?,
            ));
        }
        if let Some(cpds) = &self.cpds {
            files.extend(cpds.save("cpd")?);
        }
        Ok(files)
    }

    fn load_checkpoint(
        mut self,
        read: &ReadFile<'_>,
        device: &B::Device,
    ) -> Result<Self, RuntimeError> {
        let record = decode_record::<B, _>(MODEL_FILE, read(MODEL_FILE)?, device)?;
        self.vae = self.vae.load_record(record);
        let record = decode_record::<B, _>(OPTIMIZER_FILE, read(OPTIMIZER_FILE)?, device)?;
        self.optimizer = self.optimizer.load_record(record);
        if let Some((net, optimizer, lr)) = self.discriminator.take() {
            let record =
                decode_record::<B, _>(DISCRIMINATOR_FILE, read(DISCRIMINATOR_FILE)?, device)?;
            let net = net.load_record(record);
            let file = DISCRIMINATOR_OPTIMIZER_FILE;
            let record = decode_record::<B, _>(file, read(file)?, device)?;
            self.discriminator = Some((net, optimizer.load_record(record), lr));
        }
        if let Some(cpds) = self.cpds.take() {
            self.cpds = Some(cpds.load("cpd", read, device)?);
        }
        Ok(self)
    }

    /// One optimisation step on an NCHW batch `x`; returns the values before the update. Refuses to
    /// update when any value is NaN or infinite.
    pub fn step(
        self,
        job: &Job,
        kind: plan::Reconstruction,
        x: Tensor<B, 4>,
        step: u64,
        noise: &mut RandomState,
    ) -> Result<(Self, StepValues), RuntimeError> {
        let Trainer {
            vae,
            mut optimizer,
            learning_rate: base_lr,
            schedule,
            discriminator,
            cpds,
        } = self;
        let device = x.device();
        let (mean, log_var) = vae.encode(x.clone())?;
        let [n, d] = mean.dims();
        let epsilon: Vec<f32> = (0..n * d).map(|_| noise.standard_normal() as f32).collect();
        let epsilon = Tensor::<B, 2>::from_data(TensorData::new(epsilon, [n, d]), &device);
        let z = mean.clone() + log_var.clone().mul_scalar(0.5).exp() * epsilon;
        let logits = vae.decode(z.clone())?;

        let mut names: Vec<String> = Vec::new();
        let mut values: Vec<Tensor<B, 1>> = Vec::new();
        let mut total: Option<Tensor<B, 1>> = None;
        let mut kl_value: Option<Tensor<B, 1>> = None;
        let mut reconstruction_value: Option<Tensor<B, 1>> = None;
        let mut discriminator_loss: Option<Tensor<B, 1>> = None;
        let mut structural_batches = Vec::new();
        for term in &job.objective {
            let value = match &term.term {
                Term::Reconstruction => {
                    let value = loss::reconstruction(
                        logits.clone(),
                        x.clone(),
                        kind,
                        vae.log_variance.as_ref().map(|p| p.val()),
                    );
                    reconstruction_value = Some(value.clone());
                    value
                }
                Term::Kl => loss::kl(mean.clone(), log_var.clone()),
                Term::Capacity {
                    c_max,
                    iteration_threshold,
                } => loss::capacity(
                    loss::kl(mean.clone(), log_var.clone()),
                    *c_max,
                    step,
                    *iteration_threshold,
                ),
                Term::TotalCorrelation => {
                    loss::total_correlation(z.clone(), mean.clone(), log_var.clone())
                }
                Term::DipCovariance {
                    kind,
                    lambda_od,
                    lambda_d,
                } => {
                    let matrix =
                        loss::dip_matrix(mean.clone(), log_var.clone(), *kind == DipKind::II);
                    loss::dip_penalty(matrix, *lambda_od, *lambda_d)
                }
                Term::DiscriminatorTc { .. } => {
                    let Some((net, _, _)) = &discriminator else {
                        return Err(RuntimeError::Shape(
                            "the discriminator was not built".into(),
                        ));
                    };
                    let logits_real = discriminator_logits(net, z.clone())?;
                    let permutations: Vec<Vec<usize>> =
                        (0..d).map(|_| noise.permutation(n)).collect();
                    let detached = z.clone().detach();
                    let real = discriminator_logits(net, detached.clone())?;
                    let permuted =
                        discriminator_logits(net, loss::permute_dims(detached, &permutations))?;
                    discriminator_loss = Some(loss::discriminator_loss(real, permuted));
                    loss::discriminator_tc(logits_real)
                }
                Term::Structural { nodes, .. } => {
                    let batches = latent_batches(nodes, &z)?;
                    let value =
                        structural_nll(nodes, &batches, cpds.as_ref().map(|c| &c.module), &device)?;
                    structural_batches.push((nodes.clone(), batches));
                    value
                }
                other => {
                    return Err(RuntimeError::Unsupported {
                        job: job.index,
                        what: format!("the `{}` term", term_name(other)),
                    });
                }
            };
            if matches!(term.term, Term::Kl) {
                kl_value = Some(value.clone());
            }
            let weighted = value.clone().mul_scalar(term.coefficient);
            total = Some(match total {
                None => weighted,
                Some(sum) => sum + weighted,
            });
            names.push(term_name(&term.term).to_string());
            values.push(value);
        }
        let total = total.unwrap_or_else(|| Tensor::zeros([1], &device));
        // Diagnostics (not optimised): the KL when it is not a term, and the discriminator's loss.
        if kl_value.is_none() {
            names.push("kl".into());
            values.push(loss::kl(mean.clone(), log_var.clone()).detach());
        }
        if let Some(value) = &discriminator_loss {
            names.push("discriminator".into());
            values.push(value.clone().detach());
        }
        if reconstruction_value.is_none() {
            names.push("reconstruction".into());
            let value =
                loss::reconstruction(logits, x, kind, vae.log_variance.as_ref().map(|p| p.val()));
            values.push(value.detach());
        }
        names.push("loss".into());
        values.push(total.clone().detach());
        // One device→host transfer per step for every value.
        let host = read_values(values)?;
        let mut terms = check_finite(step, &names, &host)?;
        let loss_value = terms.remove("loss").unwrap_or(0.0);
        if let (Some(rec), Some(kl)) = (terms.get("reconstruction"), terms.get("kl")) {
            terms.insert("elbo".into(), -(rec + kl));
        }

        let lr = learning_rate(base_lr, &schedule, step);
        let mut gradients = total.backward();
        let vae_gradients = GradientsParams::from_module(&mut gradients, &vae);
        let vae = optimizer.step(lr, vae, vae_gradients);
        let discriminator = match (discriminator, discriminator_loss) {
            (Some((net, mut net_optimizer, net_lr)), Some(net_loss)) => {
                let mut gradients = net_loss.backward();
                let net_gradients = GradientsParams::from_module(&mut gradients, &net);
                let net = net_optimizer.step(net_lr, net, net_gradients);
                Some((net, net_optimizer, net_lr))
            }
            (other, _) => other,
        };
        // The `cpd` player: its networks' own NLL on the (detached) latents of this step.
        let cpds = match cpds {
            Some(cpds) => {
                let mut total: Option<Tensor<B, 1>> = None;
                for (nodes, batches) in &structural_batches {
                    let detached: Vec<NodeBatch<B>> =
                        batches.iter().map(NodeBatch::detach).collect();
                    let value = structural_nll(nodes, &detached, Some(&cpds.module), &device)?;
                    total = Some(match total {
                        None => value,
                        Some(sum) => sum + value,
                    });
                }
                match total {
                    Some(total) => Some(cpds.update(total, step)),
                    None => Some(cpds),
                }
            }
            None => None,
        };
        let trainer = Trainer {
            vae,
            optimizer,
            learning_rate: base_lr,
            schedule,
            discriminator,
            cpds,
        };
        Ok((
            trainer,
            StepValues {
                loss: loss_value,
                terms,
            },
        ))
    }
}

fn discriminator_logits<B: AutodiffBackend>(
    net: &Net<B>,
    z: Tensor<B, 2>,
) -> Result<Tensor<B, 2>, RuntimeError> {
    match net.forward(Value::Vector(z))? {
        Value::Vector(logits) if logits.dims()[1] == 2 => Ok(logits),
        _ => Err(RuntimeError::Shape(
            "the FactorVAE discriminator must output 2 logits per sample".into(),
        )),
    }
}

impl<B: AutodiffBackend> Family<B> for Trainer<B> {
    fn build(job: &Job, seeds: Seeds, device: &B::Device) -> Result<Self, RuntimeError> {
        let plan::ModelSpec::Vae(spec) = &job.model else {
            return Err(RuntimeError::Shape(
                "the VAE family was given another model".into(),
            ));
        };
        Trainer::new(job, spec, seeds, device)
    }

    fn train_step(
        self,
        job: &Job,
        x: Tensor<B, 4>,
        step: u64,
        noise: &mut RandomState,
    ) -> Result<(Self, StepValues), RuntimeError> {
        let plan::ModelSpec::Vae(spec) = &job.model else {
            return Err(RuntimeError::Shape(
                "the VAE family was given another model".into(),
            ));
        };
        self.step(job, spec.reconstruction, x, step, noise)
    }

    fn checkpoint(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        self.checkpoint_files()
    }

    fn restore(self, read: &ReadFile<'_>, device: &B::Device) -> Result<Self, RuntimeError> {
        self.load_checkpoint(read, device)
    }

    fn learning_rate(&self, _job: &Job, step: u64) -> f64 {
        learning_rate(self.learning_rate, &self.schedule, step)
    }

    fn write_outputs(
        &self,
        run_dir: &RunDir,
        job: &Job,
        data: &dyn GroundTruthData,
        seeds: Seeds,
        steps: u64,
        evaluate: bool,
        observer: &dyn Observer,
    ) -> Result<Option<MetricsReport>, RuntimeError> {
        let model = self.vae.valid();
        let mut weights_meta = BTreeMap::new();
        weights_meta.insert("steps".to_string(), steps.to_string());
        crate::evaluate::write_weights(run_dir, job, &model, &weights_meta)?;
        if !evaluate {
            return Ok(None);
        }
        crate::evaluate::write_images(run_dir, job, &model, data, seeds.eval)?;
        crate::evaluate::write_metrics(run_dir, job, &model, data, observer).map(Some)
    }
}
