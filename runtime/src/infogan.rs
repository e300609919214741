//! The InfoGAN family (Chen et al. 2016), with the structural term of Beyazit et al. (2020).
//!
//! Modules: the generator G (`[noise ++ codes]` → image logits; the image is their sigmoid, in
//! [0, 1] like the data), and the critic: the discriminator's trunk D (image → features), the
//! adversarial head (features → 1 logit) and the recognition head Q (features → the parameters of
//! q(c | x)). Players, in plan order (the compiler writes `discriminator` then `generator`):
//! - `discriminator` (trunk and both heads) minimises its side of the non-saturating GAN loss,
//!   −log σ(D(x)) − log σ(−D(G(z, c))) on the step's real batch and a fresh generated batch, plus the
//!   information and structural terms on the generated batch;
//! - `generator` minimises −log σ(D(G(z, c))) plus the information and structural terms;
//! - `cpd` (a `nonlinear_gaussian` structural term only) fits the nodes' networks to the
//!   generator pass's (detached) codes.
//!
//! Each update of each player draws its own noise and codes from the noise stream: noise
//! z ~ N(0, I); codes from their declared priors (a categorical code is fed one-hot). The head's
//! layout follows the codes in order: `k` logits for a categorical code; a mean, then a
//! log-variance when the plan's `learned_variance`, for a continuous one. The information term
//! is −E[log Q(c | G(z, c))] summed over the plan's codes (the lower bound L_I without its constant
//! H(c)); a continuous code with a fixed variance has σ² = 1.
//!
//! Structural term: a node's target is the mean Q extracts for its code from the generated image
//! (ĉ_j) and its inputs are the sampled codes (c_j, then the parents' c_i), constants of the
//! step (see `structural.rs` and docs/LANGUAGE.md).
//!
//! Representation for the metrics: Q on a real image, one column per code: a continuous code's
//! mean (plus σ·ε for the sampled representation, σ = 1 unless learned), a categorical code's most
//! likely class as a number.
//!
//! Checkpoint files, by player: `discriminator.bin` (trunk and heads), `generator.bin`, `cpd.bin`,
//! each with its `<player>.optimizer.bin`.

use std::collections::BTreeMap;

use burn::module::{AutodiffModule, Module};
use burn::tensor::activation::{log_sigmoid, log_softmax, sigmoid};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use disc_compiler::plan::{
    CodePrior, GanLoss, GanSpec, Job, ModelSpec, NodeInput, StructuralNode, Term,
};
use disc_compiler::players::term_name;
use disc_data::{GroundTruthData, RandomState};
use disc_metrics::MetricError;
use ndarray::Array2;

use crate::artifacts::{self, MetricsReport, RunDir};
use crate::error::RuntimeError;
use crate::evaluate::{GIF_DELAY, GIF_SCALE, GRID_PAD, network_tensors, write_metrics_of};
use crate::family::{
    Family, ReadFile, Seeds, StepValues, Trained, check_finite, player, read_values,
};
use crate::model::{Net, Value, images_to_tensor};
use crate::structural::{Cpds, NodeBatch, structural_nll};
use crate::train::Observer;

/// ln(2π).
const LOG_2PI: f64 = 1.837_877_066_409_345_5;

/// Images per forward pass when encoding for the metrics.
const ENCODE_BATCH: usize = 256;

/// Where one code sits in the generator's input and the recognition head's output.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeSlot {
    pub name: String,
    pub prior: CodePrior,
    /// First column in the generator input (after the noise).
    pub input: usize,
    /// First column in the recognition head's output.
    pub head: usize,
}

/// The column layout of an InfoGAN's codes.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub noise: usize,
    /// Width of the generator's input.
    pub input_width: usize,
    pub codes: Vec<CodeSlot>,
    pub learned_variance: bool,
}

impl Layout {
    /// The layout of `spec` (see the module documentation).
    pub fn of(spec: &GanSpec) -> Self {
        let noise = spec.noise as usize;
        let (mut input, mut head) = (noise, 0);
        let mut codes = Vec::new();
        for code in &spec.codes {
            codes.push(CodeSlot {
                name: code.name.clone(),
                prior: code.prior.clone(),
                input,
                head,
            });
            match code.prior {
                CodePrior::Categorical { k } => {
                    input += k as usize;
                    head += k as usize;
                }
                CodePrior::Uniform { .. } | CodePrior::Normal { .. } => {
                    input += 1;
                    head += if spec.learned_variance { 2 } else { 1 };
                }
            }
        }
        Layout {
            noise,
            input_width: input,
            codes,
            learned_variance: spec.learned_variance,
        }
    }

    /// `n` draws of the generator input (row-major `[n, input_width]`) and of the codes' values
    /// (`[code][row]`: the class index of a categorical code, else the value), row by row: the
    /// noise, then each code in order.
    pub fn sample(&self, n: usize, rng: &mut RandomState) -> (Vec<f32>, Vec<Vec<f64>>) {
        let mut input = vec![0.0f32; n * self.input_width];
        let mut values = vec![Vec::with_capacity(n); self.codes.len()];
        for row in 0..n {
            let base = row * self.input_width;
            for column in 0..self.noise {
                input[base + column] = rng.standard_normal() as f32;
            }
            for (slot, column_values) in self.codes.iter().zip(values.iter_mut()) {
                let value = match slot.prior {
                    CodePrior::Categorical { k } => {
                        let class = (rng.uniform(0.0, f64::from(k)).floor() as usize)
                            .min(k.saturating_sub(1) as usize);
                        input[base + slot.input + class] = 1.0;
                        class as f64
                    }
                    CodePrior::Uniform { low, high } => {
                        let v = rng.uniform(low, high);
                        input[base + slot.input] = v as f32;
                        v
                    }
                    CodePrior::Normal { mean, std } => {
                        let v = mean + std * rng.standard_normal();
                        input[base + slot.input] = v as f32;
                        v
                    }
                };
                column_values.push(value);
            }
        }
        (input, values)
    }
}

/// The discriminator's trunk with its two heads, trained by the `discriminator` player.
#[derive(Module, Debug)]
pub struct Critic<B: Backend> {
    /// Image `[N, C, H, W]` → features `[N, F]`.
    pub trunk: Net<B>,
    /// Features → real/fake logit `[N, 1]`.
    pub adversarial: Net<B>,
    /// Features → q(c | x) parameters `[N, head width]`.
    pub recognition: Net<B>,
}

impl<B: Backend> Critic<B> {
    /// (real/fake logits `[N, 1]`, recognition output `[N, head width]`) of an NCHW image batch.
    pub fn forward(
        &self,
        images: Tensor<B, 4>,
    ) -> Result<(Tensor<B, 2>, Tensor<B, 2>), RuntimeError> {
        let vector = |value: Value<B>, what: &str| match value {
            Value::Vector(v) => Ok(v),
            _ => Err(RuntimeError::Shape(format!(
                "the {what} must output a vector"
            ))),
        };
        let features = vector(self.trunk.forward(Value::Image(images))?, "discriminator")?;
        let logits = vector(
            self.adversarial.forward(Value::Vector(features.clone()))?,
            "adversarial head",
        )?;
        let recognised = vector(
            self.recognition.forward(Value::Vector(features))?,
            "recognition head",
        )?;
        Ok((logits, recognised))
    }
}

/// Images in [0, 1] `[N, C, H, W]` from generator inputs `[N, input width]`.
pub fn generate<B: Backend>(
    generator: &Net<B>,
    input: Tensor<B, 2>,
) -> Result<Tensor<B, 4>, RuntimeError> {
    match generator.forward(Value::Vector(input))? {
        Value::Image(logits) => Ok(sigmoid(logits)),
        _ => Err(RuntimeError::Shape(
            "the generator must output an image".into(),
        )),
    }
}

/// −E[log Q(c | x)] summed over `codes` (indices into the layout), `[1]`.
pub fn information_loss<B: Backend>(
    layout: &Layout,
    recognised: &Tensor<B, 2>,
    values: &[Vec<f64>],
    codes: &[usize],
) -> Tensor<B, 1> {
    let [n, _] = recognised.dims();
    let device = recognised.device();
    let mut total = Tensor::<B, 1>::zeros([1], &device);
    for &index in codes {
        let (Some(slot), Some(sampled)) = (layout.codes.get(index), values.get(index)) else {
            continue;
        };
        let value = match slot.prior {
            CodePrior::Categorical { k } => {
                let k = k as usize;
                let mut one_hot = vec![0.0f32; n * k];
                for (row, class) in sampled.iter().enumerate() {
                    one_hot[row * k + (*class as usize).min(k - 1)] = 1.0;
                }
                let one_hot = Tensor::<B, 2>::from_data(TensorData::new(one_hot, [n, k]), &device);
                let log_q = log_softmax(recognised.clone().narrow(1, slot.head, k), 1);
                (log_q * one_hot).sum().div_scalar(n as f64).neg()
            }
            CodePrior::Uniform { .. } | CodePrior::Normal { .. } => {
                let c = column_tensor::<B>(sampled, &device);
                let mean = recognised.clone().narrow(1, slot.head, 1);
                let squared = (c - mean).powf_scalar(2.0);
                let per_sample = if layout.learned_variance {
                    let log_var = recognised.clone().narrow(1, slot.head + 1, 1);
                    log_var.clone() + squared * log_var.neg().exp()
                } else {
                    squared
                };
                per_sample.add_scalar(LOG_2PI).mul_scalar(0.5).mean()
            }
        };
        total = total + value;
    }
    total
}

/// The Pearson correlation of two equally long samples; 0 when either is constant.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma).powi(2);
        bb += (y - mb).powi(2);
    }
    if aa <= 0.0 || bb <= 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

fn column_tensor<B: Backend>(values: &[f64], device: &B::Device) -> Tensor<B, 2> {
    let data: Vec<f32> = values.iter().map(|v| *v as f32).collect();
    let n = data.len();
    Tensor::from_data(TensorData::new(data, [n, 1]), device)
}

/// Each structural node's target (ĉ_j, the recognised mean) and inputs (sampled codes).
pub fn code_batches<B: Backend>(
    layout: &Layout,
    nodes: &[StructuralNode],
    recognised: &Tensor<B, 2>,
    values: &[Vec<f64>],
) -> Result<Vec<NodeBatch<B>>, RuntimeError> {
    let device = recognised.device();
    let [n, _] = recognised.dims();
    let continuous = |index: u32| -> Result<(&CodeSlot, &Vec<f64>), RuntimeError> {
        match (layout.codes.get(index as usize), values.get(index as usize)) {
            (Some(slot), Some(v)) if !matches!(slot.prior, CodePrior::Categorical { .. }) => {
                Ok((slot, v))
            }
            _ => Err(RuntimeError::Shape(format!(
                "structural node refers to code {index}, which is not a continuous code"
            ))),
        }
    };
    nodes
        .iter()
        .map(|node| {
            let (slot, _) = continuous(node.target)?;
            let mut inputs = Vec::with_capacity(n * node.inputs.len());
            let columns = node
                .inputs
                .iter()
                .map(|input| match input {
                    NodeInput::SampledCode(i) => continuous(*i).map(|(_, v)| v),
                    NodeInput::Latent(_) => Err(RuntimeError::Shape(format!(
                        "structural node `{}` of an InfoGAN takes a VAE latent",
                        node.name
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            for row in 0..n {
                for column in &columns {
                    inputs.push(column.get(row).copied().unwrap_or(0.0) as f32);
                }
            }
            let p = columns.len();
            Ok(NodeBatch {
                target: recognised.clone().narrow(1, slot.head, 1),
                inputs: Tensor::from_data(TensorData::new(inputs, [n, p]), &device),
            })
        })
        .collect()
}

/// Which player an entry of the plan's player list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Discriminator,
    Generator,
    Cpd,
}

/// The InfoGAN family's trainable state.
pub struct InfoGan<B: AutodiffBackend> {
    layout: Layout,
    generator: Trained<B, Net<B>>,
    critic: Trained<B, Critic<B>>,
    cpds: Option<Trained<B, Cpds<B>>>,
    order: Vec<Role>,
    /// The form of the `gan` term (non-saturating when the objective has none: then no player
    /// lists it and it is never used).
    gan_loss: GanLoss,
}

fn gan_spec(job: &Job) -> Result<&GanSpec, RuntimeError> {
    match &job.model {
        ModelSpec::InfoGan(spec) => Ok(spec),
        ModelSpec::Vae(_) | ModelSpec::Pca { .. } | ModelSpec::Ica { .. } => Err(
            RuntimeError::Shape("the InfoGAN family was given another model".into()),
        ),
    }
}

/// The step's value of every term a player lists, and the player's weighted loss.
struct PlayerPass<B: Backend> {
    names: Vec<String>,
    values: Vec<Tensor<B, 1>>,
    loss: Tensor<B, 1>,
}

impl<B: AutodiffBackend> InfoGan<B> {
    /// The generator being trained.
    pub fn generator(&self) -> &Net<B> {
        &self.generator.module
    }

    /// The discriminator's trunk and heads being trained.
    pub fn critic(&self) -> &Critic<B> {
        &self.critic.module
    }

    /// How well the recognition head recovers each continuous code from generated images: the
    /// Pearson correlation between `n` sampled values and Q's means on G(z, c), code by code
    /// (categorical codes are skipped). The health check of InfoGAN training: near 0 means the
    /// generator ignores the code or Q cannot read it; near 1, the code is used and recovered.
    pub fn code_recovery(
        &self,
        n: usize,
        rng: &mut RandomState,
    ) -> Result<Vec<(String, f64)>, RuntimeError> {
        let generator = self.generator.module.valid();
        let critic = self.critic.module.valid();
        let device = generator
            .devices()
            .into_iter()
            .next()
            .ok_or_else(|| RuntimeError::Shape("the generator has no parameters".into()))?;
        let (input, values) = self.layout.sample(n, rng);
        let input = Tensor::<B::InnerBackend, 2>::from_data(
            TensorData::new(input, [n, self.layout.input_width]),
            &device,
        );
        let (_, recognised) = critic.forward(generate(&generator, input)?)?;
        let recognised = recognised
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| RuntimeError::Shape(format!("reading recognised codes: {e:?}")))?;
        let width = recognised.len() / n.max(1);
        Ok(self
            .layout
            .codes
            .iter()
            .zip(&values)
            .filter(|(slot, _)| !matches!(slot.prior, CodePrior::Categorical { .. }))
            .map(|(slot, sampled)| {
                let means: Vec<f64> = (0..n)
                    .map(|row| f64::from(recognised[row * width + slot.head]))
                    .collect();
                (slot.name.clone(), pearson(sampled, &means))
            })
            .collect())
    }

    /// The terms of `player` on one generated batch: `adversarial` is the player's side.
    #[allow(clippy::too_many_arguments)]
    fn pass(
        &self,
        job: &Job,
        player: &str,
        listed: &[String],
        adversarial: Tensor<B, 1>,
        recognised: &Tensor<B, 2>,
        values: &[Vec<f64>],
        structural_out: &mut Vec<(Vec<StructuralNode>, Vec<NodeBatch<B>>)>,
    ) -> Result<PlayerPass<B>, RuntimeError> {
        let device = recognised.device();
        let mut names = Vec::new();
        let mut terms = Vec::new();
        let mut loss = Tensor::<B, 1>::zeros([1], &device);
        for term in &job.objective {
            let name = term_name(&term.term);
            if !listed.iter().any(|l| l == name) {
                continue;
            }
            let value = match &term.term {
                Term::Adversarial { .. } => adversarial.clone(),
                Term::MutualInformation { codes } => {
                    let indices: Vec<usize> = codes
                        .iter()
                        .filter_map(|c| self.layout.codes.iter().position(|s| &s.name == c))
                        .collect();
                    information_loss(&self.layout, recognised, values, &indices)
                }
                Term::Structural { nodes, .. } => {
                    let batches = code_batches(&self.layout, nodes, recognised, values)?;
                    let value = structural_nll(
                        nodes,
                        &batches,
                        self.cpds.as_ref().map(|c| &c.module),
                        &device,
                    )?;
                    structural_out.push((nodes.clone(), batches));
                    value
                }
                other => {
                    return Err(RuntimeError::Unsupported {
                        job: job.index,
                        what: format!("the `{}` term in an InfoGAN", term_name(other)),
                    });
                }
            };
            loss = loss + value.clone().mul_scalar(term.coefficient);
            names.push(format!("{player}/{name}"));
            terms.push(value);
        }
        names.push(format!("{player}/loss"));
        terms.push(loss.clone());
        Ok(PlayerPass {
            names,
            values: terms,
            loss,
        })
    }

    fn generated(
        &self,
        n: usize,
        device: &B::Device,
        noise: &mut RandomState,
    ) -> Result<(Tensor<B, 4>, Vec<Vec<f64>>), RuntimeError> {
        let (input, values) = self.layout.sample(n, noise);
        let input =
            Tensor::<B, 2>::from_data(TensorData::new(input, [n, self.layout.input_width]), device);
        Ok((generate(&self.generator.module, input)?, values))
    }
}

impl<B: AutodiffBackend> Family<B> for InfoGan<B> {
    fn build(job: &Job, seeds: Seeds, device: &B::Device) -> Result<Self, RuntimeError> {
        let spec = gan_spec(job)?;
        let mut init = RandomState::new(seeds.init);
        let generator = Net::build("generator", &spec.generator, &mut init, device)?;
        let critic = Critic {
            trunk: Net::build("discriminator", &spec.discriminator, &mut init, device)?,
            adversarial: Net::build(
                "adversarial_head",
                &spec.adversarial_head,
                &mut init,
                device,
            )?,
            recognition: Net::build(
                "recognition_head",
                &spec.recognition_head,
                &mut init,
                device,
            )?,
        };
        let mut cpds = None;
        for term in &job.objective {
            if let Term::Structural { nodes, .. } = &term.term
                && let Some(networks) = Cpds::build(nodes, &mut init, device)?
            {
                cpds = Some(Trained::new(networks, player(job, "cpd")?));
            }
        }
        let mut order = Vec::new();
        for p in &job.players {
            order.push(match p.name.as_str() {
                "discriminator" => Role::Discriminator,
                "generator" => Role::Generator,
                "cpd" => Role::Cpd,
                other => {
                    return Err(RuntimeError::Unsupported {
                        job: job.index,
                        what: format!("an InfoGAN player named `{other}`"),
                    });
                }
            });
        }
        Ok(InfoGan {
            layout: Layout::of(spec),
            generator: Trained::new(generator, player(job, "generator")?),
            critic: Trained::new(critic, player(job, "discriminator")?),
            cpds,
            order,
            gan_loss: job
                .objective
                .iter()
                .find_map(|t| match t.term {
                    Term::Adversarial { loss } => Some(loss),
                    _ => None,
                })
                .unwrap_or(GanLoss::NonSaturating),
        })
    }

    fn train_step(
        mut self,
        job: &Job,
        x: Tensor<B, 4>,
        step: u64,
        noise: &mut RandomState,
    ) -> Result<(Self, StepValues), RuntimeError> {
        let device = x.device();
        let n = x.dims()[0];
        let mut terms = BTreeMap::new();
        let mut loss_value = f64::NAN;
        let mut structural = Vec::new();
        for role in self.order.clone() {
            match role {
                Role::Discriminator => {
                    let listed = player(job, "discriminator")?.terms.clone();
                    for _ in 0..self.critic.updates_per_step {
                        let (fake, values) = self.generated(n, &device, noise)?;
                        let (real_logits, _) = self.critic.module.forward(x.clone())?;
                        let (fake_logits, recognised) =
                            self.critic.module.forward(fake.detach())?;
                        let adversarial = match self.gan_loss {
                            GanLoss::NonSaturating => {
                                log_sigmoid(real_logits).mean().neg()
                                    - log_sigmoid(fake_logits.neg()).mean()
                            }
                            GanLoss::LeastSquares => {
                                (real_logits.sub_scalar(1.0).powf_scalar(2.0).mean()
                                    + fake_logits.powf_scalar(2.0).mean())
                                .mul_scalar(0.5)
                            }
                        };
                        let pass = self.pass(
                            job,
                            "discriminator",
                            &listed,
                            adversarial,
                            &recognised,
                            &values,
                            &mut Vec::new(),
                        )?;
                        let host = read_values(pass.values)?;
                        terms.extend(check_finite(step, &pass.names, &host)?);
                        self.critic = self.critic.update(pass.loss, step);
                    }
                }
                Role::Generator => {
                    let listed = player(job, "generator")?.terms.clone();
                    for _ in 0..self.generator.updates_per_step {
                        let (fake, values) = self.generated(n, &device, noise)?;
                        let (fake_logits, recognised) = self.critic.module.forward(fake)?;
                        let adversarial = match self.gan_loss {
                            GanLoss::NonSaturating => log_sigmoid(fake_logits).mean().neg(),
                            GanLoss::LeastSquares => fake_logits
                                .sub_scalar(1.0)
                                .powf_scalar(2.0)
                                .mean()
                                .mul_scalar(0.5),
                        };
                        structural.clear();
                        let pass = self.pass(
                            job,
                            "generator",
                            &listed,
                            adversarial,
                            &recognised,
                            &values,
                            &mut structural,
                        )?;
                        let host = read_values(pass.values)?;
                        let checked = check_finite(step, &pass.names, &host)?;
                        loss_value = checked.get("generator/loss").copied().unwrap_or(f64::NAN);
                        terms.extend(checked);
                        self.generator = self.generator.update(pass.loss, step);
                    }
                }
                Role::Cpd => {
                    let Some(cpds) = self.cpds.take() else {
                        continue;
                    };
                    let mut total: Option<Tensor<B, 1>> = None;
                    for (nodes, batches) in &structural {
                        let detached: Vec<NodeBatch<B>> =
                            batches.iter().map(NodeBatch::detach).collect();
                        let value = structural_nll(nodes, &detached, Some(&cpds.module), &device)?;
                        total = Some(match total {
                            None => value,
                            Some(sum) => sum + value,
                        });
                    }
                    self.cpds = Some(match total {
                        Some(total) => {
                            let names = vec!["cpd/structural".to_string()];
                            let host = read_values(vec![total.clone()])?;
                            terms.extend(check_finite(step, &names, &host)?);
                            cpds.update(total, step)
                        }
                        None => cpds,
                    });
                }
            }
        }
        Ok((
            self,
            StepValues {
                loss: loss_value,
                terms,
            },
        ))
    }

    fn checkpoint(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut files = self.critic.save("discriminator")?;
        files.extend(self.generator.save("generator")?);
        if let Some(cpds) = &self.cpds {
            files.extend(cpds.save("cpd")?);
        }
        Ok(files)
    }

    fn restore(mut self, read: &ReadFile<'_>, device: &B::Device) -> Result<Self, RuntimeError> {
        self.critic = self.critic.load("discriminator", read, device)?;
        self.generator = self.generator.load("generator", read, device)?;
        if let Some(cpds) = self.cpds.take() {
            self.cpds = Some(cpds.load("cpd", read, device)?);
        }
        Ok(self)
    }

    fn learning_rate(&self, _job: &Job, step: u64) -> f64 {
        self.generator.lr(step)
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
        let generator = self.generator.module.valid();
        let critic = self.critic.module.valid();
        let mut tensors = network_tensors(&[
            &generator,
            &critic.trunk,
            &critic.adversarial,
            &critic.recognition,
        ])?;
        if let Some(cpds) = &self.cpds {
            let cpds = cpds.module.valid();
            let nets: Vec<&Net<B::InnerBackend>> = cpds.nets.iter().collect();
            tensors.extend(network_tensors(&nets)?);
        }
        let mut metadata = BTreeMap::new();
        metadata.insert("steps".to_string(), steps.to_string());
        run_dir.write_model(&tensors, job, &metadata)?;
        if !evaluate {
            return Ok(None);
        }
        write_images(run_dir, job, &self.layout, &generator, data, seeds.eval)?;
        let eval_device = critic
            .devices()
            .into_iter()
            .next()
            .ok_or_else(|| RuntimeError::Shape("the critic has no parameters".into()))?;
        write_metrics_of(run_dir, job, data, observer, |noise| {
            Ok(Recognition {
                critic: &critic,
                layout: &self.layout,
                data,
                device: eval_device.clone(),
                noise,
            })
        })
        .map(Some)
    }
}

/// The values a code is traversed over: a uniform code over its range's centre ± `limit` half
/// ranges (so [−1, 1] with limit 2 gives [−2, 2], twice the training range); a normal code over
/// mean ± `limit` standard deviations; a categorical code over its classes in order.
pub fn traversal_values(prior: &CodePrior, steps: usize, limit: f64) -> Vec<f64> {
    let spread = |centre: f64, half: f64| -> Vec<f64> {
        artifacts::traversal_values(steps, limit)
            .into_iter()
            .map(|t| centre + f64::from(t) * half)
            .collect()
    };
    match prior {
        CodePrior::Uniform { low, high } => spread((low + high) / 2.0, (high - low) / 2.0),
        CodePrior::Normal { mean, std } => spread(*mean, *std),
        CodePrior::Categorical { k } => (0..steps)
            .map(|i| ((i * *k as usize) / steps.max(1)) as f64)
            .collect(),
    }
}

/// Sets code `slot` of one generator input row to `value`.
fn set_code(row: &mut [f32], slot: &CodeSlot, value: f64) {
    match slot.prior {
        CodePrior::Categorical { k } => {
            for class in 0..k as usize {
                if let Some(cell) = row.get_mut(slot.input + class) {
                    *cell = if class == value as usize { 1.0 } else { 0.0 };
                }
            }
        }
        CodePrior::Uniform { .. } | CodePrior::Normal { .. } => {
            if let Some(cell) = row.get_mut(slot.input) {
                *cell = value as f32;
            }
        }
    }
}

fn generate_host<B: Backend>(
    generator: &Net<B>,
    inputs: Vec<f32>,
    n: usize,
    width: usize,
) -> Result<Vec<f32>, RuntimeError> {
    let device = generator
        .devices()
        .into_iter()
        .next()
        .ok_or_else(|| RuntimeError::Shape("the generator has no parameters".into()))?;
    let input = Tensor::<B, 2>::from_data(TensorData::new(inputs, [n, width]), &device);
    generate(generator, input)?
        .permute([0, 2, 3, 1])
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| RuntimeError::Shape(format!("reading images: {e:?}")))
}

/// The samples grid and, per code, a traversal row (grid) and GIF around one prior draw; draws
/// come from the evaluation stream `eval_seed`.
pub fn write_images<B: Backend>(
    run_dir: &RunDir,
    job: &Job,
    layout: &Layout,
    generator: &Net<B>,
    data: &dyn GroundTruthData,
    eval_seed: u32,
) -> Result<(), RuntimeError> {
    let visuals = &job.evaluate.visuals;
    let [h, w, c] = data.observation_shape();
    let width = layout.input_width;
    let mut rng = RandomState::new(eval_seed);
    if visuals.samples > 0 {
        let n = visuals.samples as usize;
        let (inputs, _) = layout.sample(n, &mut rng);
        let images = generate_host(generator, inputs, n, width)?;
        let grid =
            artifacts::image_grid(&images, n, h, w, c, artifacts::square_columns(n), GRID_PAD)?;
        run_dir.write_png(&run_dir.samples_path(), &grid)?;
    }
    let codes = layout.codes.len();
    if visuals.traversal_steps > 0 && codes > 0 {
        let steps = visuals.traversal_steps as usize;
        let (base, _) = layout.sample(1, &mut rng);
        let mut inputs = Vec::with_capacity(codes * steps * width);
        for slot in &layout.codes {
            for value in traversal_values(&slot.prior, steps, visuals.traversal_limit) {
                let mut row = base.clone();
                set_code(&mut row, slot, value);
                inputs.extend(row);
            }
        }
        let images = generate_host(generator, inputs, codes * steps, width)?;
        let grid = artifacts::traversal_grid(&images, codes, steps, h, w, c, GRID_PAD)?;
        run_dir.write_png(&run_dir.traversals_path(), &grid)?;
        let per_code = steps * h * w * c;
        for (code, slot) in layout.codes.iter().enumerate() {
            let frames = artifacts::traversal_frames(
                images
                    .get(code * per_code..(code + 1) * per_code)
                    .unwrap_or(&[]),
                steps,
                h,
                w,
                c,
                GIF_SCALE,
            )?;
            run_dir.write_gif(&run_dir.traversal_gif_path(&slot.name), &frames, GIF_DELAY)?;
        }
    }
    Ok(())
}

/// Q on real images as a metric representation (see the module documentation).
pub struct Recognition<'a, B: Backend> {
    critic: &'a Critic<B>,
    layout: &'a Layout,
    data: &'a dyn GroundTruthData,
    device: B::Device,
    /// `Some` for the sampled representation: the stream of ε.
    noise: Option<RandomState>,
}

impl<B: Backend> disc_metrics::Representation for Recognition<'_, B> {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        let d = self.layout.codes.len();
        let [h, w, c] = self.data.observation_shape();
        let mut codes = Vec::with_capacity(factors.len() * d);
        let encode_error = |e: RuntimeError| MetricError::Encode(Box::new(e));
        for chunk in factors.chunks(ENCODE_BATCH) {
            let mut images = Vec::with_capacity(chunk.len() * self.data.observation_len());
            self.data
                .observations(chunk, rng, &mut images)
                .map_err(|e| MetricError::Encode(Box::new(e)))?;
            let x = images_to_tensor::<B>(images, [chunk.len(), h, w, c], &self.device);
            let (_, recognised) = self.critic.forward(x).map_err(encode_error)?;
            let [_, width] = recognised.dims();
            let host = recognised
                .into_data()
                .to_vec::<f32>()
                .map_err(|e| encode_error(RuntimeError::Shape(format!("reading codes: {e:?}"))))?;
            for row in host.chunks(width.max(1)) {
                for slot in &self.layout.codes {
                    let value = match slot.prior {
                        CodePrior::Categorical { k } => {
                            let logits = row.get(slot.head..slot.head + k as usize).unwrap_or(&[]);
                            logits
                                .iter()
                                .enumerate()
                                .max_by(|a, b| a.1.total_cmp(b.1))
                                .map_or(0.0, |(i, _)| i as f64)
                        }
                        CodePrior::Uniform { .. } | CodePrior::Normal { .. } => {
                            let mean = f64::from(row.get(slot.head).copied().unwrap_or(0.0));
                            match &mut self.noise {
                                None => mean,
                                Some(noise) => {
                                    let log_var = if self.layout.learned_variance {
                                        f64::from(row.get(slot.head + 1).copied().unwrap_or(0.0))
                                    } else {
                                        0.0
                                    };
                                    mean + (0.5 * log_var).exp() * noise.standard_normal()
                                }
                            }
                        }
                    };
                    codes.push(value);
                }
            }
        }
        Array2::from_shape_vec((factors.len(), d), codes)
            .map_err(|e| MetricError::Encode(Box::new(e)))
    }

    fn dim(&self) -> usize {
        self.layout.codes.len()
    }
}
