//! Compile-time values and their types: what `.dis` expressions evaluate to during checking.
//!
//! Values are the typed form between the AST and the plan. Most of them are already plan pieces
//! (a layer, a dataset, a metric); models and loss terms keep the source location of their parts so
//! that shape and capability errors found when an experiment is assembled point at user code.
//! This module must not report diagnostics or evaluate anything.

use std::fmt;

use disc_grammar::ast::Span;

use crate::plan::{
    CodePrior, ConditionalFamily, DataSource, DatasetSpec, EvalSpec, GanLoss, Layer, LrSchedule,
    MetricSpec, Optimizer, OutputActivation, Padding, Predictor, Reconstruction, Representation,
    Visuals,
};

/// A location in some source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// The file.
    pub source: u32,
    /// The byte range.
    pub span: Span,
}

/// A type of the `.dis` language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// Whole numbers.
    Int,
    /// Real numbers (integers convert implicitly).
    Float,
    /// `true` / `false`.
    Bool,
    /// Text.
    Str,
    /// `[T]`.
    List(Box<Type>),
    /// A fixed-size tuple of numbers, e.g. `(64, 64, 1)` or `(0.9, 0.999)`.
    Tuple,
    /// `{ name: value }`.
    Record,
    /// One layer of an architecture.
    Layer,
    /// A list of layers.
    Architecture,
    /// A ground-truth dataset.
    Dataset,
    /// `procedural` or `file("...")`.
    DataSource,
    /// A representation model (VAE, InfoGAN, PCA, ICA).
    Model,
    /// A decoder likelihood.
    Reconstruction,
    /// `logits` or `tanh` (the output activation of a likelihood).
    OutputActivation,
    /// A variance: a number or `learned`.
    Variance,
    /// A prior of an InfoGAN code.
    Prior,
    /// A weighted sum of loss terms.
    Loss,
    /// A conditional family for structural terms.
    Cpd,
    /// The form of a GAN loss: `non_saturating` or `least_squares`.
    GanLoss,
    /// A latent graph.
    Graph,
    /// An optimizer.
    Optimizer,
    /// A learning-rate schedule.
    Schedule,
    /// Training settings.
    Training,
    /// One metric with parameters.
    Metric,
    /// A metric suite with representations, seed and visuals.
    Evaluation,
    /// `mean` or `sampled`.
    Representation,
    /// Visual outputs.
    Visuals,
    /// A downstream predictor.
    Predictor,
    /// `same` or `valid`.
    Padding,
    /// Anything (only for experiment variables).
    Any,
}

impl Type {
    /// Parses a type name as written in a `def` signature.
    pub fn from_name(name: &str) -> Option<Type> {
        Some(match name {
            "int" => Type::Int,
            "float" => Type::Float,
            "bool" => Type::Bool,
            "string" => Type::Str,
            "tuple" => Type::Tuple,
            "record" => Type::Record,
            "layer" => Type::Layer,
            "architecture" => Type::Architecture,
            "dataset" => Type::Dataset,
            "source" => Type::DataSource,
            "model" => Type::Model,
            "reconstruction" => Type::Reconstruction,
            "activation" => Type::OutputActivation,
            "variance" => Type::Variance,
            "prior" => Type::Prior,
            "loss" => Type::Loss,
            "cpd" => Type::Cpd,
            "gan_loss" => Type::GanLoss,
            "graph" => Type::Graph,
            "optimizer" => Type::Optimizer,
            "schedule" => Type::Schedule,
            "training" => Type::Training,
            "metric" => Type::Metric,
            "evaluation" => Type::Evaluation,
            "representation" => Type::Representation,
            "visuals" => Type::Visuals,
            "predictor" => Type::Predictor,
            "padding" => Type::Padding,
            _ => return None,
        })
    }

    /// Every type name, for did-you-mean.
    pub const NAMES: &'static [&'static str] = &[
        "int",
        "float",
        "bool",
        "string",
        "tuple",
        "record",
        "layer",
        "architecture",
        "dataset",
        "source",
        "model",
        "reconstruction",
        "activation",
        "variance",
        "prior",
        "loss",
        "cpd",
        "gan_loss",
        "graph",
        "optimizer",
        "schedule",
        "training",
        "metric",
        "evaluation",
        "representation",
        "visuals",
        "predictor",
        "padding",
    ];
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Type::Int => "int",
            Type::Float => "float",
            Type::Bool => "bool",
            Type::Str => "string",
            Type::List(elem) => return write!(f, "[{elem}]"),
            Type::Tuple => "tuple",
            Type::Record => "record",
            Type::Layer => "layer",
            Type::Architecture => "architecture",
            Type::Dataset => "dataset",
            Type::DataSource => "source",
            Type::Model => "model",
            Type::Reconstruction => "reconstruction",
            Type::OutputActivation => "activation",
            Type::Variance => "variance",
            Type::Prior => "prior",
            Type::Loss => "loss",
            Type::Cpd => "cpd",
            Type::GanLoss => "gan_loss",
            Type::Graph => "graph",
            Type::Optimizer => "optimizer",
            Type::Schedule => "schedule",
            Type::Training => "training",
            Type::Metric => "metric",
            Type::Evaluation => "evaluation",
            Type::Representation => "representation",
            Type::Visuals => "visuals",
            Type::Predictor => "predictor",
            Type::Padding => "padding",
            Type::Any => "any value",
        };
        f.write_str(name)
    }
}

/// An architecture value: its layers and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Arch {
    /// The layers in order.
    pub layers: Vec<Layer>,
    /// Where the architecture expression is (at the use site, for shape diagnostics).
    pub loc: Loc,
    /// Where each layer is written, when the architecture is a list literal (same order as
    /// `layers`); empty when unknown. Shape errors point at a layer's location only when it lies
    /// inside `loc`, so a layer written elsewhere (e.g. in a stdlib definition) falls back to `loc`.
    pub layer_locs: Vec<Loc>,
}

/// A model before its networks are shape-checked against a dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelValue {
    /// A Gaussian-encoder VAE.
    Vae {
        /// Number of latents.
        latents: u32,
        /// Latent name prefix; latents are named `prefix0`, `prefix1`, ...
        prefix: String,
        /// Image → Gaussian head.
        encoder: Arch,
        /// Latents → image logits.
        decoder: Arch,
        /// The likelihood.
        recon: Reconstruction,
    },
    /// An InfoGAN.
    InfoGan {
        /// Noise size.
        noise: u32,
        /// Named codes in input order.
        codes: Vec<(String, CodePrior)>,
        /// `[noise ++ codes]` → image.
        generator: Arch,
        /// Image → features.
        discriminator: Arch,
        /// Hidden layers of the recognition head (the final dense layer is added by the compiler).
        recognition: Arch,
        /// Learned variance of continuous codes.
        learned_variance: bool,
        /// Optimizer of the discriminator.
        optimizer: Optimizer,
        /// Discriminator updates per generator update.
        discriminator_updates: u32,
    },
    /// PCA baseline.
    Pca {
        /// Number of components.
        components: u32,
        /// Observations the fit draws.
        samples: u32,
    },
    /// FastICA baseline.
    Ica {
        /// Number of components.
        components: u32,
        /// Observations the fit draws.
        samples: u32,
        /// Convergence tolerance of the fixed-point iteration.
        tol: f64,
        /// Iterations at most.
        max_iter: u32,
        /// The logcosh contrast's `alpha`.
        alpha: f64,
    },
}

impl ModelValue {
    /// The model's kind in words, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ModelValue::Vae { .. } => "vae",
            ModelValue::InfoGan { .. } => "infogan",
            ModelValue::Pca { .. } => "pca",
            ModelValue::Ica { .. } => "ica",
        }
    }
}

/// A latent graph as written.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphValue {
    /// `(parent, child)` names with their locations.
    pub edges: Vec<((String, Loc), (String, Loc))>,
    /// The whole `graph` block.
    pub loc: Loc,
}

/// One loss term before it is checked against the model.
#[derive(Debug, Clone, PartialEq)]
pub enum TermValue {
    /// Reconstruction likelihood of the model.
    Recon,
    /// KL to the prior.
    Kl,
    /// |KL − C(t)|.
    Capacity {
        /// Final capacity.
        c_max: f64,
        /// Steps to reach it.
        iteration_threshold: u64,
    },
    /// β-TCVAE total correlation.
    Tc,
    /// FactorVAE discriminator TC.
    DiscriminatorTc {
        /// Latents → 2 logits.
        discriminator: Arch,
        /// Its optimizer.
        optimizer: Optimizer,
    },
    /// DIP-VAE covariance penalty.
    Dip {
        /// I or II.
        kind: crate::plan::DipKind,
        /// Off-diagonal weight.
        lambda_od: f64,
        /// Diagonal weight.
        lambda_d: f64,
    },
    /// GAN loss.
    Gan {
        /// Its form.
        loss: GanLoss,
    },
    /// InfoGAN mutual information; `None` = every code.
    Info {
        /// Selected codes with the location of the list.
        codes: Option<(Vec<String>, Loc)>,
    },
    /// Structural term; `graph` is `None` when the experiment has no graph.
    Structure {
        /// The graph.
        graph: Option<GraphValue>,
        /// The conditional family.
        cpd: ConditionalFamily,
    },
}

/// One weighted term.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedTerm {
    /// The coefficient.
    pub coefficient: f64,
    /// The term.
    pub term: TermValue,
    /// Where the term was written (the call or name), for capability diagnostics.
    pub loc: Loc,
}

/// Training settings without the seed (the seed is an experiment field).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingValue {
    /// Steps.
    pub steps: u64,
    /// Batch size.
    pub batch_size: u32,
    /// Main optimizer.
    pub optimizer: Optimizer,
    /// Schedule.
    pub schedule: LrSchedule,
    /// Checkpoint interval (0 = only at the end).
    pub checkpoint_every: u64,
    /// Logging interval.
    pub log_every: u64,
}

/// A metric with the location it was written at (for prerequisite diagnostics).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// The resolved metric.
    pub spec: MetricSpec,
    /// Where it was written.
    pub loc: Loc,
}

/// One entry of a record value: its key and value, and where the entry (`key: value`) was
/// written, so that a check of one entry (a factor's size, a code's prior) points at that entry
/// rather than at the whole record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEntry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Value,
    /// Where the entry was written, key to value.
    pub loc: Loc,
}

/// A compile-time value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Bool.
    Bool(bool),
    /// String.
    Str(String),
    /// List.
    List(Vec<Value>),
    /// Tuple.
    Tuple(Vec<Value>),
    /// Ordered record, each entry with its location.
    Record(Vec<RecordEntry>),
    /// Layer.
    Layer(Layer),
    /// Architecture.
    Arch(Arch),
    /// Dataset.
    Dataset(Box<DatasetSpec>),
    /// Data source.
    DataSource(DataSource),
    /// Model.
    Model(Box<ModelValue>),
    /// Likelihood.
    Reconstruction(Reconstruction),
    /// `logits` / `tanh` symbol.
    OutputActivation(OutputActivation),
    /// `learned` symbol.
    LearnedVariance,
    /// Code prior.
    Prior(CodePrior),
    /// Weighted sum of terms.
    Loss(Vec<WeightedTerm>),
    /// Conditional family.
    Cpd(ConditionalFamily),
    /// The form of a GAN loss.
    GanLoss(GanLoss),
    /// Latent graph.
    Graph(GraphValue),
    /// Optimizer.
    Optimizer(Optimizer),
    /// Schedule.
    Schedule(LrSchedule),
    /// Training.
    Training(TrainingValue),
    /// Metric.
    Metric(MetricValue),
    /// Evaluation suite (`EvalSpec` with metric locations kept aside).
    Evaluation(Box<EvalSpec>, Vec<Loc>),
    /// Representation symbol.
    Representation(Representation),
    /// Visuals.
    Visuals(Visuals),
    /// Predictor symbol.
    Predictor(Predictor),
    /// Padding symbol.
    Padding(Padding),
}

impl Value {
    /// The value's type, for messages.
    pub fn type_of(&self) -> Type {
        match self {
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::Bool(_) => Type::Bool,
            Value::Str(_) => Type::Str,
            Value::List(items) => Type::List(Box::new(
                items.first().map(Value::type_of).unwrap_or(Type::Any),
            )),
            Value::Tuple(_) => Type::Tuple,
            Value::Record(_) => Type::Record,
            Value::Layer(_) => Type::Layer,
            Value::Arch(_) => Type::Architecture,
            Value::Dataset(_) => Type::Dataset,
            Value::DataSource(_) => Type::DataSource,
            Value::Model(_) => Type::Model,
            Value::Reconstruction(_) => Type::Reconstruction,
            Value::OutputActivation(_) => Type::OutputActivation,
            Value::LearnedVariance => Type::Variance,
            Value::Prior(_) => Type::Prior,
            Value::Loss(_) => Type::Loss,
            Value::Cpd(_) => Type::Cpd,
            Value::GanLoss(_) => Type::GanLoss,
            Value::Graph(_) => Type::Graph,
            Value::Optimizer(_) => Type::Optimizer,
            Value::Schedule(_) => Type::Schedule,
            Value::Training(_) => Type::Training,
            Value::Metric(_) => Type::Metric,
            Value::Evaluation(..) => Type::Evaluation,
            Value::Representation(_) => Type::Representation,
            Value::Visuals(_) => Type::Visuals,
            Value::Predictor(_) => Type::Predictor,
            Value::Padding(_) => Type::Padding,
        }
    }
}
