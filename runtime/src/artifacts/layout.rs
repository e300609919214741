//! The layout of one job's run directory, and the typed writers for each of its files.
//!
//! Every write goes through [`write_atomic`]; checkpoints are whole directories renamed into place.
//! The layout is described in the parent module's documentation; this module is its only
//! implementation, so that no other code builds a run path by hand.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use disc_compiler::plan::{Job, MetricSpec, Predictor, Representation};
use serde::{Deserialize, Serialize};

use super::atomic::{TEMPORARY_SUFFIX, remove_stale_temporaries, write_atomic};
use super::error::ArtifactsError;
use super::image::{RgbImage, encode_gif, encode_png};
use super::weights::{NamedTensor, encode_safetensors};

/// Prefix of a finished checkpoint directory; the step follows, zero-padded to 9 digits so that
/// names sort by step.
const CHECKPOINT_PREFIX: &str = "step-";

/// A finished checkpoint found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Optimizer steps completed when it was taken.
    pub step: u64,
    /// Its directory, holding the files given to [`RunDir::write_checkpoint`].
    pub directory: PathBuf,
}

/// The directory of one job: `<out>/<index:05>-<hash>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The directory name of a job: its index, zero-padded to 5 digits, a dash, its plan hash.
    pub fn directory_name(index: u64, hash: &str) -> String {
        format!("{index:05}-{hash}")
    }

    /// The run directory of job `index` with plan hash `hash` under `out` (nothing is created).
    pub fn new(out: &Path, index: u64, hash: &str) -> Self {
        Self {
            root: out.join(Self::directory_name(index, hash)),
        }
    }

    /// The run directory of `job` under `out`.
    pub fn for_job(out: &Path, job: &Job) -> Self {
        Self::new(out, job.index, &job.hash)
    }

    /// Creates the directory tree (idempotent) and deletes temporaries that a killed run left in it.
    pub fn create(&self) -> Result<(), ArtifactsError> {
        for directory in [&self.root, &self.checkpoints_dir(), &self.images_dir()] {
            fs::create_dir_all(directory)
                .map_err(|source| ArtifactsError::io("create the directory", directory, source))?;
        }
        for directory in [&self.root, &self.checkpoints_dir(), &self.images_dir()] {
            remove_stale_temporaries(directory)?;
        }
        // Half-written checkpoint directories (a kill before their rename).
        for entry in self.checkpoint_entries()? {
            if entry.starts_with('.') && entry.ends_with(TEMPORARY_SUFFIX) {
                let path = self.checkpoints_dir().join(&entry);
                fs::remove_dir_all(&path)
                    .map_err(|source| ArtifactsError::io("remove", &path, source))?;
            }
        }
        Ok(())
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `job.ron`: the resolved job this directory belongs to.
    pub fn job_path(&self) -> PathBuf {
        self.root.join("job.ron")
    }
    /// `losses.jsonl`: the loss log.
    pub fn losses_path(&self) -> PathBuf {
        self.root.join("losses.jsonl")
    }
    /// `checkpoints/`: one `step-<step:09>/` directory per checkpoint.
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }
    /// `model.safetensors`: the final weights.
    pub fn model_path(&self) -> PathBuf {
        self.root.join("model.safetensors")
    }
    /// `metrics.json`: scores per representation and metric.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.json")
    }
    /// `metrics-seed-<seed>.json`: the scores of a further metric seed (the plan's
    /// `evaluate.repeat_seeds`), shaped like `metrics.json`.
    pub fn metrics_seed_path(&self, seed: u64) -> PathBuf {
        self.root.join(format!("metrics-seed-{seed}.json"))
    }
    /// `results.json`: the run summary.
    pub fn results_path(&self) -> PathBuf {
        self.root.join("results.json")
    }
    /// `images/`.
    pub fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }
    /// `images/reconstructions.png`.
    pub fn reconstructions_path(&self) -> PathBuf {
        self.images_dir().join("reconstructions.png")
    }
    /// `images/samples.png`.
    pub fn samples_path(&self) -> PathBuf {
        self.images_dir().join("samples.png")
    }
    /// `images/traversals.png`.
    pub fn traversals_path(&self) -> PathBuf {
        self.images_dir().join("traversals.png")
    }
    /// `images/traversal_<name>.gif`, `name` the moved latent as the `.dis` file calls it: `z3`
    /// for a VAE's fourth latent, the code's own name (`c1`, `shape`) for an InfoGAN. Names are
    /// identifiers of the language, so they are safe as file names.
    pub fn traversal_gif_path(&self, name: &str) -> PathBuf {
        self.images_dir().join(format!("traversal_{name}.gif"))
    }

    /// Writes `job.ron`: the job exactly as the runtime received it, in pretty RON.
    pub fn write_job(&self, job: &Job) -> Result<(), ArtifactsError> {
        let path = self.job_path();
        let mut text = ron::ser::to_string_pretty(job, ron::ser::PrettyConfig::default()).map_err(
            |source| ArtifactsError::Ron {
                path: path.clone(),
                source,
            },
        )?;
        text.push('\n');
        write_atomic(&path, text.as_bytes())
    }

    /// Writes a value as pretty JSON (with a final newline) to `path`.
    pub fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), ArtifactsError> {
        let mut bytes =
            serde_json::to_vec_pretty(value).map_err(|source| ArtifactsError::Json {
                operation: "serialise",
                path: path.to_path_buf(),
                source,
            })?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }

    /// Writes a picture as PNG to `path` (e.g. [`RunDir::samples_path`]).
    pub fn write_png(&self, path: &Path, picture: &RgbImage) -> Result<(), ArtifactsError> {
        write_atomic(path, &encode_png(picture)?)
    }

    /// Writes a looping GIF of `frames` to `path`, `delay_centiseconds` per frame.
    pub fn write_gif(
        &self,
        path: &Path,
        frames: &[RgbImage],
        delay_centiseconds: u16,
    ) -> Result<(), ArtifactsError> {
        write_atomic(path, &encode_gif(frames, delay_centiseconds)?)
    }

    /// Writes `model.safetensors` from tensors already in the reference layout (see the weights
    /// module). `metadata` is stored next to the format tag; the job's index and hash are added.
    pub fn write_model(
        &self,
        tensors: &[NamedTensor],
        job: &Job,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), ArtifactsError> {
        let mut metadata = metadata.clone();
        metadata.insert("job_index".to_string(), job.index.to_string());
        metadata.insert("job_hash".to_string(), job.hash.clone());
        write_atomic(&self.model_path(), &encode_safetensors(tensors, &metadata)?)
    }

    /// Writes `metrics.json`.
    pub fn write_metrics(&self, report: &MetricsReport) -> Result<(), ArtifactsError> {
        self.write_json(&self.metrics_path(), report)
    }

    /// Writes `metrics-seed-<seed>.json`.
    pub fn write_metrics_of_seed(
        &self,
        seed: u64,
        report: &MetricsReport,
    ) -> Result<(), ArtifactsError> {
        self.write_json(&self.metrics_seed_path(seed), report)
    }

    /// Writes `results.json`.
    pub fn write_results(&self, summary: &RunSummary) -> Result<(), ArtifactsError> {
        summary.check_finite()?;
        self.write_json(&self.results_path(), summary)
    }

    /// Writes a checkpoint taken after `step` steps: the named files go into a hidden temporary
    /// directory, are flushed, and the directory is renamed to `checkpoints/step-<step:09>`. A kill
    /// at any point leaves either no checkpoint for `step` or a complete one.
    ///
    /// File names must be plain names (no separators, not `.`/`..`). An existing checkpoint of the
    /// same step is replaced. Returns the checkpoint's directory.
    pub fn write_checkpoint(
        &self,
        step: u64,
        files: &[(&str, &[u8])],
    ) -> Result<PathBuf, ArtifactsError> {
        let checkpoints = self.checkpoints_dir();
        let final_name = format!("{CHECKPOINT_PREFIX}{step:09}");
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{final_name}."))
            .suffix(TEMPORARY_SUFFIX)
            .tempdir_in(&checkpoints)
            .map_err(|source| ArtifactsError::io("create a directory in", &checkpoints, source))?;
        for (name, bytes) in files {
            let plain = Path::new(name)
                .file_name()
                .is_some_and(|file| file == *name as &str);
            if !plain || name.starts_with('.') {
                return Err(ArtifactsError::CheckpointFileName {
                    name: (*name).to_string(),
                });
            }
            write_atomic(&staging.path().join(name), bytes)?;
        }
        let destination = checkpoints.join(&final_name);
        if destination.exists() {
            // Move the old one aside first: renaming onto a non-empty directory fails.
            let aside = tempfile::Builder::new()
                .prefix(&format!(".{final_name}.old."))
                .suffix(TEMPORARY_SUFFIX)
                .tempdir_in(&checkpoints)
                .map_err(|source| {
                    ArtifactsError::io("create a directory in", &checkpoints, source)
                })?;
            fs::rename(&destination, aside.path())
                .map_err(|source| ArtifactsError::io("move aside", &destination, source))?;
            // Dropping `aside` deletes the old checkpoint.
        }
        let staged = staging.keep();
        fs::rename(&staged, &destination).map_err(|source| {
            ArtifactsError::io("rename a checkpoint onto", &destination, source)
        })?;
        if cfg!(unix) {
            fs::File::open(&checkpoints)
                .and_then(|handle| handle.sync_all())
                .map_err(|source| {
                    ArtifactsError::io("flush the directory", &checkpoints, source)
                })?;
        }
        Ok(destination)
    }

    /// Names of the entries of `checkpoints/`, sorted; none when it does not exist yet.
    fn checkpoint_entries(&self) -> Result<Vec<String>, ArtifactsError> {
        let directory = self.checkpoints_dir();
        let entries = match fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(ArtifactsError::io("list", &directory, source)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| ArtifactsError::io("list", &directory, source))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    /// Every finished checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, ArtifactsError> {
        let mut found: Vec<Checkpoint> = self
            .checkpoint_entries()?
            .into_iter()
            .filter_map(|name| {
                let step = name.strip_prefix(CHECKPOINT_PREFIX)?.parse().ok()?;
                Some(Checkpoint {
                    step,
                    directory: self.checkpoints_dir().join(name),
                })
            })
            .collect();
        found.sort_by_key(|checkpoint| checkpoint.step);
        Ok(found)
    }

    /// The checkpoint with the most steps, if any: where a resumed run starts.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, ArtifactsError> {
        Ok(self.checkpoints()?.pop())
    }

    /// Deletes all but the `keep` newest checkpoints (at least one is always kept).
    pub fn prune_checkpoints(&self, keep: usize) -> Result<(), ArtifactsError> {
        let all = self.checkpoints()?;
        let excess = all.len().saturating_sub(keep.max(1));
        for checkpoint in &all[..excess] {
            fs::remove_dir_all(&checkpoint.directory)
                .map_err(|source| ArtifactsError::io("remove", &checkpoint.directory, source))?;
        }
        Ok(())
    }
}

/// `results.json`: a summary of one run, readable without disc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub job_index: u64,
    pub job_hash: String,
    pub experiment: String,
    /// The device trained on, e.g. `cpu` or `cuda:0`.
    pub device: String,
    /// Optimizer steps completed (the plan's `train.steps` once finished).
    pub steps: u64,
    pub batch_size: u32,
    /// The step this process resumed from, when it continued a checkpoint.
    pub resumed_from_step: Option<u64>,
    /// The last logged record's objective and terms (the loss log's keys).
    pub final_loss: f64,
    pub final_terms: BTreeMap<String, f64>,
    /// Wall time of this process's training, in seconds (excluding evaluation and images).
    pub elapsed_seconds: f64,
    /// Training images per second over this process's steps.
    pub images_per_second: f64,
}

impl RunSummary {
    fn check_finite(&self) -> Result<(), ArtifactsError> {
        let named = [
            ("final_loss", self.final_loss),
            ("elapsed_seconds", self.elapsed_seconds),
            ("images_per_second", self.images_per_second),
        ];
        super::atomic::check_all_finite(self.steps, named, &self.final_terms)
    }
}

/// `metrics.json`: representation name → metric name → either the metric's score keys (the
/// reference's names, e.g. `discrete_mig`, `eval_accuracy`) → value, or `{"error": "..."}` when that
/// metric could not be computed. One metric's failure never costs the others their place in the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetricsReport {
    pub scores: BTreeMap<String, BTreeMap<String, MetricOutcome>>,
}

/// One metric's entry in `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricOutcome {
    /// Score key → value (always finite).
    Scores(BTreeMap<String, f64>),
    /// Why the metric could not be computed.
    Failed {
        /// The error, with its causes, on one line.
        error: String,
    },
}

impl MetricsReport {
    /// Records one metric's scores for one representation; refuses NaN or infinite scores (JSON
    /// cannot hold them and a metric must not produce them).
    pub fn insert(
        &mut self,
        representation: Representation,
        metric: &MetricSpec,
        scores: BTreeMap<String, f64>,
    ) -> Result<(), ArtifactsError> {
        let representation = representation_name(representation);
        let metric = metric_name(metric);
        if let Some((key, value)) = scores.iter().find(|(_, value)| !value.is_finite()) {
            return Err(ArtifactsError::NonFiniteScore {
                representation: representation.to_string(),
                metric: metric.to_string(),
                key: key.clone(),
                value: *value,
            });
        }
        self.scores
            .entry(representation.to_string())
            .or_default()
            .insert(metric.to_string(), MetricOutcome::Scores(scores));
        Ok(())
    }

    /// Records that one metric could not be computed for one representation, and why.
    pub fn insert_error(
        &mut self,
        representation: Representation,
        metric: &MetricSpec,
        error: String,
    ) {
        self.scores
            .entry(representation_name(representation).to_string())
            .or_default()
            .insert(
                metric_name(metric).to_string(),
                MetricOutcome::Failed { error },
            );
    }

    /// Every failed metric as `(representation, metric, error)`, in file order.
    pub fn failures(&self) -> Vec<(&str, &str, &str)> {
        self.scores
            .iter()
            .flat_map(|(representation, metrics)| {
                metrics
                    .iter()
                    .filter_map(move |(metric, outcome)| match outcome {
                        MetricOutcome::Scores(_) => None,
                        MetricOutcome::Failed { error } => {
                            Some((representation.as_str(), metric.as_str(), error.as_str()))
                        }
                    })
            })
            .collect()
    }
}

/// The reference's name of a representation (its postprocessing directory, §5.2).
pub fn representation_name(representation: Representation) -> &'static str {
    match representation {
        Representation::Mean => "mean",
        Representation::Sampled => "sampled",
    }
}

/// The reference's name of a metric configuration (its evaluation directory, §5.2).
pub fn metric_name(metric: &MetricSpec) -> &'static str {
    match metric {
        MetricSpec::BetaVae { .. } => "beta_vae_sklearn",
        MetricSpec::FactorVae { .. } => "factor_vae_metric",
        MetricSpec::Mig { .. } => "mig",
        MetricSpec::Sap { .. } => "sap_score",
        MetricSpec::ModularityExplicitness { .. } => "modularity_explicitness",
        MetricSpec::Dci { .. } => "dci",
        MetricSpec::Irs { .. } => "irs",
        MetricSpec::Unsupervised { .. } => "unsupervised",
        MetricSpec::Downstream {
            predictor: Predictor::GradientBoosting,
            ..
        } => "downstream_task_boosted_trees",
        MetricSpec::Downstream {
            predictor: Predictor::LogisticRegressionCv,
            ..
        } => "downstream_task_logistic_regression",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_name_pads_the_index() {
        assert_eq!(
            RunDir::directory_name(7, "0123456789abcdef"),
            "00007-0123456789abcdef"
        );
        let run = RunDir::new(Path::new("runs"), 123456, "ab");
        assert_eq!(run.root(), Path::new("runs/123456-ab"));
        assert_eq!(
            run.traversal_gif_path("z3"),
            Path::new("runs/123456-ab/images/traversal_z3.gif")
        );
    }

    #[test]
    fn create_is_idempotent_and_cleans_what_a_kill_left() {
        let out = tempfile::tempdir().expect("temp dir");
        let run = RunDir::new(out.path(), 0, "feed");
        run.create().expect("create");
        fs::write(run.images_dir().join(".samples.png.x1.tmp"), b"half").expect("w");
        fs::create_dir(run.checkpoints_dir().join(".step-000000010.y2.tmp")).expect("w");
        run.write_checkpoint(5, &[("model.bin", b"m")])
            .expect("checkpoint");
        run.create().expect("create again");
        let images: Vec<_> = fs::read_dir(run.images_dir()).expect("ls").collect();
        assert!(images.is_empty(), "stale temporary removed");
        let steps: Vec<u64> = run
            .checkpoints()
            .expect("ls")
            .iter()
            .map(|c| c.step)
            .collect();
        assert_eq!(
            steps,
            vec![5],
            "finished checkpoint kept, staging directory removed"
        );
    }

    #[test]
    fn checkpoints_are_whole_directories_found_by_step() {
        let out = tempfile::tempdir().expect("temp dir");
        let run = RunDir::new(out.path(), 1, "beef");
        run.create().expect("create");
        assert_eq!(run.latest_checkpoint().expect("scan"), None);
        for step in [100, 20, 300] {
            let state = step.to_string();
            run.write_checkpoint(
                step,
                &[("model.bin", b"weights"), ("state.json", state.as_bytes())],
            )
            .expect("checkpoint");
        }
        let latest = run.latest_checkpoint().expect("scan").expect("one exists");
        assert_eq!(latest.step, 300);
        assert_eq!(
            fs::read(latest.directory.join("state.json")).expect("read"),
            b"300"
        );
        // Rewriting a step replaces it whole.
        run.write_checkpoint(300, &[("state.json", b"again")])
            .expect("replace");
        let latest = run.latest_checkpoint().expect("scan").expect("one exists");
        assert!(!latest.directory.join("model.bin").exists());
        run.prune_checkpoints(2).expect("prune");
        let steps: Vec<u64> = run
            .checkpoints()
            .expect("ls")
            .iter()
            .map(|c| c.step)
            .collect();
        assert_eq!(steps, vec![100, 300]);
        let names: Vec<String> = fs::read_dir(run.checkpoints_dir())
            .expect("ls")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names.len(), 2, "no temporaries left: {names:?}");
    }

    #[test]
    fn checkpoint_file_names_cannot_escape() {
        let out = tempfile::tempdir().expect("temp dir");
        let run = RunDir::new(out.path(), 2, "cafe");
        run.create().expect("create");
        for bad in ["../x", "a/b", "", ".hidden", ".."] {
            assert!(
                matches!(
                    run.write_checkpoint(1, &[(bad, b"x")]),
                    Err(ArtifactsError::CheckpointFileName { .. })
                ),
                "{bad:?} must be refused"
            );
        }
        assert_eq!(run.latest_checkpoint().expect("scan"), None);
    }

    #[test]
    fn metrics_report_uses_reference_names_and_refuses_nan() {
        let mut report = MetricsReport::default();
        let mig = MetricSpec::Mig {
            num_train: 10,
            batch_size: 16,
            num_bins: 20,
        };
        report
            .insert(
                Representation::Mean,
                &mig,
                BTreeMap::from([("discrete_mig".to_string(), 0.25)]),
            )
            .expect("finite");
        let text = serde_json::to_string(&report).expect("json");
        assert_eq!(text, r#"{"mean":{"mig":{"discrete_mig":0.25}}}"#);
        let error = report
            .insert(
                Representation::Sampled,
                &mig,
                BTreeMap::from([("discrete_mig".into(), f64::NAN)]),
            )
            .expect_err("NaN");
        assert!(matches!(error, ArtifactsError::NonFiniteScore { .. }));
        assert!(report.failures().is_empty());
    }

    #[test]
    fn a_failed_metric_sits_beside_the_others_and_reads_back() {
        let mig = MetricSpec::Mig {
            num_train: 10,
            batch_size: 16,
            num_bins: 20,
        };
        let irs = MetricSpec::Irs {
            num_train: 10,
            batch_size: 16,
            num_bins: 20,
            diff_quantile: 0.99,
        };
        let mut report = MetricsReport::default();
        report
            .insert(
                Representation::Mean,
                &mig,
                BTreeMap::from([("discrete_mig".to_string(), 0.25)]),
            )
            .expect("finite");
        report.insert_error(Representation::Mean, &irs, "too few points".to_string());
        let text = serde_json::to_string(&report).expect("json");
        assert_eq!(
            text,
            r#"{"mean":{"irs":{"error":"too few points"},"mig":{"discrete_mig":0.25}}}"#
        );
        let back: MetricsReport = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, report);
        assert_eq!(back.failures(), vec![("mean", "irs", "too few points")]);
    }

    #[test]
    fn results_json_is_plain_and_refuses_nan() {
        let out = tempfile::tempdir().expect("temp dir");
        let run = RunDir::new(out.path(), 3, "d00d");
        run.create().expect("create");
        let mut summary = RunSummary {
            job_index: 3,
            job_hash: "d00d".into(),
            experiment: "quickstart".into(),
            device: "cpu".into(),
            steps: 1000,
            batch_size: 64,
            resumed_from_step: Some(500),
            final_loss: 42.5,
            final_terms: BTreeMap::from([("kl".to_string(), 12.0)]),
            elapsed_seconds: 10.0,
            images_per_second: 6400.0,
        };
        run.write_results(&summary).expect("write");
        let value: serde_json::Value =
            serde_json::from_slice(&fs::read(run.results_path()).expect("read")).expect("json");
        assert_eq!(value["final_terms"]["kl"], 12.0);
        assert_eq!(value["resumed_from_step"], 500);
        summary.images_per_second = f64::INFINITY;
        assert!(run.write_results(&summary).is_err());
    }
}
