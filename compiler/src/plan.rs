//! The Plan: the only contract between the compiler and the runtime.
//!
//! A plan is a list of fully resolved training jobs. Everything a job needs is spelled out here
//! (dataset, layers with their shapes, loss terms with their coefficients, optimizers, schedule,
//! seed, metrics with every parameter, outputs), so the runtime never looks at source text,
//! never applies a default of its own and never needs the compiler's internals.
//!
//! Rules this module keeps (see ARCHITECTURE.md):
//! - plain serde structs and enums; `Vec` and `BTreeMap` only, so RON output is byte-stable;
//! - no spans, no petgraph types, no references into the AST;
//! - `PLAN_VERSION` changes whenever a change would make an old plan mean something else.
//!
//! Conventions: image shapes are `[height, width, channels]` (NHWC without the batch, the reference's
//! layout); flattening follows (H, W, C) order, as in the reference architectures (reference §2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the plan format. A runtime refuses a plan whose version it does not know.
pub const PLAN_VERSION: u32 = 6;

/// A compiled study: every job of every experiment in the file, in job-index order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Always [`PLAN_VERSION`] when produced by this compiler.
    pub version: u32,
    /// The source file the plan was compiled from, as the user named it (informational only).
    pub source: String,
    /// The command-line overrides (`--set PATH=VALUE`) the plan was compiled with, by path, the value
    /// as written (informational: their effect is already in every job).
    pub overrides: BTreeMap<String, String>,
    /// The jobs, sorted by `index`; indices are dense from 0.
    pub jobs: Vec<Job>,
}

/// One fully resolved training run (or, for PCA/ICA, one fit of a representation model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Position in the sweep: for the reference study this equals disentanglement_lib's `model_num`.
    pub index: u64,
    /// Stable content hash (16 lowercase hex digits) of everything in the job except `index` and `hash`.
    /// Two jobs with the same hash train the same model.
    pub hash: String,
    /// The `experiment` block this job came from.
    pub experiment: String,
    /// The swept parameters and their values for this job, by their path in the source
    /// (e.g. `"beta"`, `"seed"`, `"loss.beta"`), typed: numbers stay numbers for result tables.
    pub swept: BTreeMap<String, SweptValue>,
    pub dataset: DatasetSpec,
    pub model: ModelSpec,
    /// The objective, as a weighted sum of terms. Presets are already expanded.
    pub objective: Vec<LossTerm>,
    pub train: TrainSpec,
    /// Who minimises what, with which optimizer, in which order (see [`Player`]).
    pub players: Vec<Player>,
    pub evaluate: EvalSpec,
}

/// One player of the training game: a set of modules updated by one optimizer on its own terms.
///
/// On each training step the players update in list order, each `updates_per_step` times on the
/// step's batch. A player's loss is Σ coefficient · term over the `terms` it lists, where a term
/// that two players share (e.g. `adversarial`) is each player's own side of it (the discriminator
/// tells real from generated, the generator makes the discriminator call its images real).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Player {
    /// The player's name, used in loss logs and checkpoints (e.g. `model`, `generator`).
    pub name: String,
    /// The modules whose parameters this player updates, by name (e.g. `encoder`, `decoder`,
    /// `generator`, `discriminator`, `recognition_head`, `cpd/c3`). Checkpoints hold them by name.
    pub modules: Vec<String>,
    /// The objective terms this player minimises, by their logged name (`reconstruction`, `kl`,
    /// `adversarial`, `mutual_information`, `structural`, …).
    pub terms: Vec<String>,
    pub optimizer: Optimizer,
    /// The learning-rate schedule, applied to `optimizer`'s rate.
    pub schedule: LrSchedule,
    /// Updates of this player per training step.
    pub updates_per_step: u32,
}

/// The value a sweep gave one parameter of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SweptValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// A value with no literal form (a dataset, a model, a loss preset), as written in the source,
    /// e.g. `beta_vae()`.
    Expr(String),
}

impl std::fmt::Display for SweptValue {
    /// Source-like text: `2`, `0.5`, `true`, `"a"`, `beta_vae()`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweptValue::Int(i) => write!(f, "{i}"),
            SweptValue::Float(x) => write!(f, "{x:?}"),
            SweptValue::Bool(b) => write!(f, "{b}"),
            SweptValue::Str(s) => write!(f, "{s:?}"),
            SweptValue::Expr(text) => f.write_str(text),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------------------------

/// A ground-truth dataset: where observations come from and which factors generate them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSpec {
    /// The reference's dataset name, e.g. `dsprites_full`, `color_dsprites`, `shapes3d`.
    pub name: String,
    pub kind: DatasetKind,
    pub source: DataSource,
    /// The latent factors in order (the order of the factor axes of the image grid, last fastest).
    pub factors: Vec<FactorSpec>,
    /// `[height, width, channels]` of one observation.
    pub observation_shape: [u32; 3],
    /// True when every factor combination can be observed: for the grid datasets it has exactly one
    /// observation, addressable by its row-major index; SmallNORB draws its nuisance factor (the
    /// instance) at random for each combination. The BetaVAE and FactorVAE scores need it.
    pub complete_grid: bool,
}

/// The family of a dataset; decides how observations are produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DatasetKind {
    /// Binary dSprites, 64×64×1.
    Dsprites,
    /// dSprites with a random colour per image in U(0.5, 1)³ (reference §4.2).
    ColorDsprites,
    /// dSprites on uniform per-pixel noise (reference §4.3).
    NoisyDsprites,
    /// dSprites on a patch of a texture, inverted under the sprite (reference §4.4).
    /// `image`: a user-given image file; `None` means a procedural texture.
    ScreamDsprites { image: Option<String> },
    /// 3D shapes scene: floor hue, wall hue, object hue, scale, shape, orientation.
    Shapes3d,
    /// SmallNORB toys (files only).
    SmallNorb,
    /// Cars3D (files only).
    Cars3d,
    /// MPI3D, `mode` is `toy`, `realistic` or `real` (files only).
    Mpi3d { mode: String },
    /// Uniform noise images with independent factors, for smoke tests (reference §4.9).
    Dummy,
    /// The user's own arrays (`arrays(...)`): images and integer factor labels, one row each, read
    /// from `images` (the dataset's `source` is `File { path: images }`) and `labels`.
    Arrays {
        /// The images' array in an `.npz` or HDF5 file (ignored for `.npy`).
        images_key: String,
        /// The labels' file (the images' file when both arrays are in one).
        labels: String,
        /// The labels' array in an `.npz` or HDF5 file (ignored for `.npy`).
        labels_key: String,
        /// Rows (observations) found by `disc check`.
        rows: u64,
        /// Distinct factor combinations among them; `complete_grid` is true iff this is the
        /// product of the factor sizes.
        combinations: u64,
    },
}

/// Where the observations come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataSource {
    /// Rendered on the fly; nothing to read.
    Procedural,
    /// Read from a file (or directory, for Cars3D/SmallNORB) the user gives, in the released format.
    File { path: String },
}

/// One ground-truth factor of variation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorSpec {
    pub name: String,
    /// Number of distinct values; the factor takes class indices `0..size`.
    pub size: u32,
}

// ---------------------------------------------------------------------------------------------
// Models and architectures
// ---------------------------------------------------------------------------------------------

/// The model to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelSpec {
    /// A Gaussian-encoder VAE: the encoder ends in a [`Layer::GaussianHead`] of `latents` units.
    Vae(VaeSpec),
    /// An InfoGAN: the generator maps `[noise, codes]` to an image; the discriminator maps an image
    /// to a real/fake logit and the recognition head to the code parameters.
    InfoGan(GanSpec),
    /// PCA baseline: fitted, not trained. `samples` observations are drawn with the training data
    /// stream of `train.seed`, flattened in (H, W, C) order and whitened pixel by pixel (centred and
    /// divided by their standard deviation over the sample); the representation is the projection
    /// on the first `components` principal axes of that matrix.
    Pca { components: u32, samples: u32 },
    /// FastICA baseline (scikit-learn's `FastICA` with `algorithm='parallel'`, `fun='logcosh'`,
    /// `whiten='unit-variance'`), fitted on the same whitened pixels as [`ModelSpec::Pca`]:
    /// PCA whitening to `components` dimensions, then the parallel fixed-point iteration with
    /// G(u) = log cosh(`alpha`·u)/`alpha`, stopping when the largest change of a component's
    /// direction is below `tol` or after `max_iter` iterations. The initial unmixing matrix is
    /// `RandomState(seed)`'s standard normal draws, `seed` the job's initialisation stream.
    Ica {
        components: u32,
        samples: u32,
        tol: f64,
        max_iter: u32,
        alpha: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeSpec {
    /// The latent units' name stem: unit `i` is named `{latent_prefix}{i}` (`z0`..`z9` for
    /// `latents z: 10`). The names are not listed one per unit: a plan holds every job's model, and
    /// a study of thousands of jobs would otherwise carry thousands of copies of a long list (plan
    /// version 5 did, and a VAE with 10⁷ latents made `disc check` of a swept study allocate tens of
    /// GiB). [`VaeSpec::latent_name`] and [`VaeSpec::latent_index`] convert.
    pub latent_prefix: String,
    /// Number of latent units.
    pub latents: u32,
    /// Image → (μ, log σ²). Last layer is a `GaussianHead { units: latents }`.
    pub encoder: Network,
    /// Latent vector → logits with the observation shape.
    pub decoder: Network,
    pub reconstruction: Reconstruction,
}

impl VaeSpec {
    /// The name of latent unit `index` (`z3`).
    pub fn latent_name(&self, index: u32) -> String {
        format!("{}{index}", self.latent_prefix)
    }

    /// The unit a latent name denotes: the prefix, then a decimal index below `latents` written
    /// without leading zeros (`z3`, not `z03`, which names no unit).
    pub fn latent_index(&self, name: &str) -> Option<u32> {
        let digits = name.strip_prefix(self.latent_prefix.as_str())?;
        let canonical = digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.is_empty()
            && (digits == "0" || !digits.starts_with('0'));
        let index: u32 = digits.parse().ok().filter(|_| canonical)?;
        (index < self.latents).then_some(index)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanSpec {
    /// Size of the unstructured noise vector, drawn from N(0, I).
    pub noise: u32,
    /// The structured codes, in input order after the noise.
    pub codes: Vec<CodeSpec>,
    /// `[noise ++ codes]` → image logits.
    pub generator: Network,
    /// Image → shared features; the plan's heads are below.
    pub discriminator: Network,
    /// Shared features → 1 logit (real vs fake).
    pub adversarial_head: Network,
    /// Shared features → parameters of q(c|x): `k` logits per categorical code, a mean (and a
    /// log-variance when `learned_variance`) per continuous code.
    pub recognition_head: Network,
    /// Whether the continuous codes' posterior has a learned variance (else fixed at 1).
    pub learned_variance: bool,
    /// Optimizer of the discriminator and its heads; the generator uses `TrainSpec::optimizer`.
    pub discriminator_optimizer: Optimizer,
    /// Discriminator updates per generator update (the discriminator player's `updates_per_step`).
    pub discriminator_updates: u32,
}

/// The form of a GAN's adversarial loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GanLoss {
    /// Goodfellow et al. 2014 with the generator's non-saturating loss: the discriminator
    /// minimises −log σ(D(x)) − log σ(−D(G(z))), the generator −log σ(D(G(z))).
    NonSaturating,
    /// Least squares (Mao et al. 2017, LSGAN with the 0-1-1 coding): the discriminator minimises
    /// ½·(D(x) − 1)² + ½·D(G(z))², the generator ½·(D(G(z)) − 1)², D's output taken as is.
    LeastSquares,
}

/// A structured InfoGAN code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeSpec {
    pub name: String,
    pub prior: CodePrior,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CodePrior {
    /// One-hot categorical with `k` classes (input width `k`).
    Categorical { k: u32 },
    /// Uniform on `[low, high]` (input width 1).
    Uniform { low: f64, high: f64 },
    /// Normal with the given mean and standard deviation (input width 1).
    Normal { mean: f64, std: f64 },
}

/// A feed-forward network as a list of layers, each annotated with the shapes the compiler inferred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Input shape without the batch: `[units]` for vectors, `[h, w, c]` for images.
    pub input: Vec<u32>,
    pub layers: Vec<LayerSpec>,
    /// Output shape of the last layer (for a `GaussianHead`, the shape of μ alone).
    pub output: Vec<u32>,
    /// Number of trainable parameters, as the compiler counts them (checked against reference §2).
    pub parameters: u64,
}

/// A layer with the shapes it maps between.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub layer: Layer,
    pub input: Vec<u32>,
    pub output: Vec<u32>,
}

/// Layer operations. Kernels are Glorot-uniform, biases zero (TF1 `tf.layers` defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Layer {
    /// 2-D convolution over `[h, w, c]`.
    Conv2d {
        filters: u32,
        kernel: u32,
        stride: u32,
        padding: Padding,
    },
    /// 2-D transposed convolution; with `Same` padding the output is `stride ×` the input.
    ConvTranspose2d {
        filters: u32,
        kernel: u32,
        stride: u32,
        padding: Padding,
    },
    /// Fully connected layer on a vector.
    Dense { units: u32 },
    /// `[h, w, c]` → `[h·w·c]` in (H, W, C) order.
    Flatten,
    /// `[n]` → the given shape, filled in (H, W, C) order.
    Reshape { shape: Vec<u32> },
    /// Elementwise activation.
    Activation(Activation),
    /// Two parallel dense heads of `units` each: μ and log σ² (the reference's `means`/`log_var`).
    GaussianHead { units: u32 },
}

/// TensorFlow padding semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Padding {
    /// Output = ceil(input / stride); the padding is split with the extra pixel after.
    Same,
    /// No padding.
    Valid,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    Relu,
    /// Leaky ReLU with the given negative slope (the reference discriminator uses 0.2).
    LeakyRelu {
        slope: f64,
    },
    Tanh,
    Sigmoid,
}

/// The decoder's likelihood p(x|z), given the decoder's logits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Reconstruction {
    /// Σ sigmoid cross-entropy (reference §1.1); `Tanh` maps logits through tanh/2+0.5.
    Bernoulli { activation: OutputActivation },
    /// Σ (x − act(logits))².
    L2 { activation: OutputActivation },
    /// Gaussian negative log-likelihood with mean act(logits) and a fixed or learned variance.
    Gaussian {
        activation: OutputActivation,
        variance: Variance,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputActivation {
    Logits,
    Tanh,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Variance {
    /// σ² fixed to this value.
    Fixed(f64),
    /// One learned log σ² shared by all pixels.
    Learned,
}

// ---------------------------------------------------------------------------------------------
// Objective
// ---------------------------------------------------------------------------------------------

/// One term of the objective: the runtime minimises Σ coefficient · value(term).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossTerm {
    pub coefficient: f64,
    pub term: Term,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Term {
    /// Batch mean of the model's reconstruction loss (see [`Reconstruction`]).
    Reconstruction,
    /// Batch mean of KL(q(z|x) ‖ N(0, I)) summed over latents (reference §1.1).
    Kl,
    /// |KL − C(t)| with C(t) = min(c_max, c_max·t/iteration_threshold), t the step from 0 (§1.3).
    Capacity {
        c_max: f64,
        iteration_threshold: u64,
    },
    /// β-TCVAE minibatch-weighted-sampling total correlation estimate (§1.6).
    TotalCorrelation,
    /// FactorVAE density-ratio TC estimate with a discriminator trained alongside (§1.4).
    DiscriminatorTc {
        discriminator: Network,
        optimizer: Optimizer,
    },
    /// DIP-VAE covariance penalty λ_od·Σ_{i≠j} M_ij² + λ_d·Σ_i (M_ii − 1)² (§1.5).
    /// The coefficient multiplies the whole penalty (it is 1 for the reference presets).
    DipCovariance {
        kind: DipKind,
        lambda_od: f64,
        lambda_d: f64,
    },
    /// The GAN loss of the generator and the discriminator, in the form `loss` names.
    Adversarial { loss: GanLoss },
    /// InfoGAN's variational lower bound on I(codes; G(noise, codes)), as a loss (−L_I).
    MutualInformation { codes: Vec<String> },
    /// Negative log-likelihood of the latents (VAE: the sampled z; InfoGAN: the codes the
    /// recognition head extracts) under the structural model of the graph.
    Structural {
        graph: GraphSpec,
        cpd: ConditionalFamily,
        /// The local conditional distributions the term sums over, in the graph's topological
        /// order (see [`StructuralNode`] for which variables are nodes).
        nodes: Vec<StructuralNode>,
    },
}

/// One local conditional distribution p(target | inputs) of a structural term.
///
/// InfoGAN: the target is the code the recognition head extracts from the generated image (ĉ_j)
/// and the inputs are the sampled code c_j followed by c_i for every declared edge i → j.
/// VAE: the target is the sampled latent z_j and the inputs are z_i for every edge i → j; latents
/// without parents are left to the KL term and are not nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuralNode {
    /// The latent or code scored, e.g. `c3` or `z1`.
    pub name: String,
    /// Its index among the model's latents (VAE) or codes (InfoGAN).
    pub target: u32,
    /// The inputs, in order.
    pub inputs: Vec<NodeInput>,
    pub cpd: Cpd,
}

/// An input of a [`StructuralNode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeInput {
    /// The sampled InfoGAN code with this index (an input of the generator; carries no gradient).
    SampledCode(u32),
    /// The VAE latent with this index, as sampled from q(z|x) on the batch.
    Latent(u32),
}

/// The conditional distribution of one structural node, with its sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cpd {
    /// target = wᵀ·inputs + b + N(0, σ²); w, b and σ² are the batch's maximum-likelihood
    /// estimates (least squares), recomputed on every batch; `inputs` is the width of the inputs.
    LinearGaussian { inputs: u32 },
    /// target ~ N(μ(inputs), exp(s(inputs))) with μ, s from a network
    /// `inputs → dense(hidden) → relu → dense(2)` named `cpd/<node>`, trained by the player
    /// that lists it.
    NonlinearGaussian { inputs: u32, hidden: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DipKind {
    /// M = Cov[μ].
    I,
    /// M = Cov[μ] + E[diag σ²].
    II,
}

/// A DAG among latent codes, nodes in a topological order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSpec {
    /// Node names in topological order (parents before children, ties by declaration order).
    pub nodes: Vec<String>,
    /// For each node (same order), the indices into `nodes` of its parents, ascending.
    pub parents: Vec<Vec<u32>>,
}

/// The conditional family p(node | parents) used by a structural term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ConditionalFamily {
    /// node = w·parents + b + N(0, σ²), with learned w, b and log σ².
    LinearGaussian,
    /// node = MLP(parents) + N(0, σ²) with one hidden layer of `hidden` units.
    NonlinearGaussian { hidden: u32 },
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    pub steps: u64,
    pub batch_size: u32,
    /// The main optimizer (VAE, or the InfoGAN generator).
    pub optimizer: Optimizer,
    pub schedule: LrSchedule,
    /// Seeds the data stream, the weight initialisation and the noise.
    pub seed: u64,
    /// Write a checkpoint every this many steps (and always at the end). 0 means only at the end.
    pub checkpoint_every: u64,
    /// Log the loss terms every this many steps.
    pub log_every: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    /// Adam. `epsilon` sits outside the bias-corrected square root, as in TF1 (reference §1.7).
    Adam {
        lr: f64,
        beta1: f64,
        beta2: f64,
        epsilon: f64,
    },
}

/// Learning-rate schedule, a function of the step (from 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    Constant,
    /// lr · rate^(step/decay_steps), with the exponent floored when `staircase`.
    ExponentialDecay {
        decay_steps: u64,
        rate: f64,
        staircase: bool,
    },
    /// `values[i]` while step < `boundaries[i]`, the last value after; `values.len() == boundaries.len() + 1`.
    /// The optimizer's lr is ignored when this schedule is used.
    PiecewiseConstant {
        boundaries: Vec<u64>,
        values: Vec<f64>,
    },
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSpec {
    /// Representations to score; each metric runs on each.
    pub representations: Vec<Representation>,
    pub metrics: Vec<MetricSpec>,
    /// Seed of the evaluation random stream (the scores in `metrics.json`).
    pub seed: u64,
    /// Further metric seeds, in order: every metric is scored again with each, into
    /// `metrics-seed-<seed>.json` (the β-VAE paper scores each model with several classifier
    /// seeds). Left out of the plan text, and so of the job hash, when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeat_seeds: Vec<u64>,
    pub visuals: Visuals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Representation {
    /// r(x) = μ(x).
    Mean,
    /// r(x) = μ(x) + σ(x)·ε.
    Sampled,
}

/// A metric with every parameter resolved (defaults are the reference study's, §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetricSpec {
    BetaVae {
        batch_size: u32,
        num_train: u32,
        num_eval: u32,
    },
    FactorVae {
        batch_size: u32,
        num_train: u32,
        num_eval: u32,
        num_variance_estimate: u32,
        prune_threshold: f64,
    },
    Mig {
        num_train: u32,
        batch_size: u32,
        num_bins: u32,
    },
    Sap {
        num_train: u32,
        num_test: u32,
        batch_size: u32,
        continuous_factors: bool,
    },
    ModularityExplicitness {
        num_train: u32,
        num_test: u32,
        batch_size: u32,
        num_bins: u32,
    },
    Dci {
        num_train: u32,
        num_test: u32,
        batch_size: u32,
    },
    Irs {
        num_train: u32,
        batch_size: u32,
        diff_quantile: f64,
        num_bins: u32,
    },
    Unsupervised {
        num_train: u32,
        batch_size: u32,
        num_bins: u32,
    },
    Downstream {
        num_train: Vec<u32>,
        num_test: u32,
        batch_size: u32,
        predictor: Predictor,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Predictor {
    /// `LogisticRegressionCV(Cs=10, cv=KFold(5))`.
    LogisticRegressionCv,
    /// `GradientBoostingClassifier()` with defaults (100 stages, depth 3, lr 0.1).
    GradientBoosting,
}

/// Images written after training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visuals {
    /// A grid of inputs next to their reconstructions, with this many examples (0 = none).
    pub reconstructions: u32,
    /// A grid of decoder samples from the prior, with this many samples (0 = none).
    pub samples: u32,
    /// Latent traversals: one row per latent, `traversal_steps` columns (0 = none), plus a GIF per latent.
    pub traversal_steps: u32,
    /// Traversal range: each latent is moved over [−traversal_limit, traversal_limit].
    pub traversal_limit: f64,
}

#[cfg(test)]
mod tests {
    use super::{Network, OutputActivation, Reconstruction, VaeSpec};

    /// Names and indices convert both ways, and only canonical in-range names denote a unit: the
    /// graph check relies on this to call `z10` (of `z0`..`z9`) out of range and `z03` undeclared.
    #[test]
    fn latent_names_and_indices_convert() {
        let network = Network {
            input: vec![1],
            layers: Vec::new(),
            output: vec![1],
            parameters: 0,
        };
        let vae = VaeSpec {
            latent_prefix: "z".to_string(),
            latents: 10,
            encoder: network.clone(),
            decoder: network,
            reconstruction: Reconstruction::Bernoulli {
                activation: OutputActivation::Logits,
            },
        };
        for i in 0..10 {
            assert_eq!(vae.latent_index(&vae.latent_name(i)), Some(i));
        }
        for name in [
            "z10",
            "z03",
            "z",
            "z-1",
            "z+1",
            "y1",
            "z1 ",
            "Z1",
            "z99999999999",
        ] {
            assert_eq!(vae.latent_index(name), None, "{name}");
        }
        assert_eq!(vae.latent_name(7), "z7");
    }
}
