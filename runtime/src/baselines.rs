//! The β-VAE paper's baselines (Higgins et al. 2017, appendix A.3): PCA and FastICA fitted on
//! flattened, whitened pixels, whose components are the representation the metrics score.
//!
//! A baseline job is a short pipeline, like a trained one but with a fit where training would be:
//! open the data → draw `samples` observations with the job's data stream (the reference's
//! `data.sample(n, RandomState(seed))`) → whiten each pixel (centre it and divide by its standard
//! deviation over the sample; pixels constant over the sample carry nothing and are left out, with
//! a warning) → fit → write `model.safetensors` → evaluate → write `results.json`. It writes the
//! same run directory as a trained job (`job.ron`, weights, `metrics.json`, `results.json`), so
//! `disc results` reads it unchanged; there is no loss log and no checkpoint, since nothing is
//! iterated across steps. A run directory whose `model.safetensors` already holds this job's fit
//! (a run killed during evaluation) is evaluated from it without fitting again, and the
//! representation is always computed from the weights as stored (f32), so both give the same codes.
//!
//! The numerical core ([`pca`], [`fast_ica`]) follows scikit-learn 1.9.1 (`PCA` with the full SVD
//! and its sign convention, `FastICA(algorithm='parallel', fun='logcosh', whiten='unit-variance',
//! whiten_solver='svd')`) and is checked against it on a fixed input (`bench/baselines/`). The
//! singular value and eigen decompositions are faer's. Bad input is an error naming the fact
//! (fewer rows than components, a sample spanning fewer directions than components, non-finite
//! pixels), never a panic or a NaN; FastICA that has not converged after `max_iter` iterations
//! is kept, as scikit-learn keeps it, with a warning.
//!
//! This module must not use burn, train anything, or call back into the trainer.

use std::collections::BTreeMap;
use std::time::Instant;

use disc_compiler::plan::{Job, ModelSpec};
use disc_data::{GroundTruthData, RandomState};
use disc_metrics::MetricError;
use faer::Side;
use ndarray::{Array1, Array2, ArrayView2, Axis, s};

use crate::artifacts::{NamedTensor, RunDir, RunSummary, decode_safetensors};
use crate::error::RuntimeError;
use crate::family::Seeds;
use crate::train::{JobOutcome, RunOptions, open_dataset};

/// Why a baseline could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer observations than components.
    #[error("{components} components need at least as many samples, but the fit has {rows}")]
    TooFewRows { rows: usize, components: usize },
    /// Fewer non-constant pixels than components.
    #[error(
        "{components} components need at least as many pixels that vary over the sample, but only {pixels} do"
    )]
    TooFewPixels { pixels: usize, components: usize },
    /// The centred sample spans fewer directions than components (duplicate or dependent rows).
    #[error(
        "the sample spans only {rank} directions, fewer than the {components} components asked for"
    )]
    RankDeficient { rank: usize, components: usize },
    /// A pixel of the sample is NaN or infinite.
    #[error("the sample holds a value that is not a finite number")]
    NonFinite,
    /// The linear-algebra solver failed.
    #[error("the {what} did not converge")]
    Solver { what: &'static str },
}

/// The per-pixel whitening of a sample: `(x − mean) · scale` on the pixels that vary.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelWhitening {
    /// Each pixel's mean over the sample.
    pub mean: Vec<f64>,
    /// 1 / the pixel's standard deviation (ddof 0), or 0 for a pixel constant over the sample.
    pub scale: Vec<f64>,
}

impl PixelWhitening {
    /// Fits the whitening of the rows of `x` (`[n, pixels]`).
    pub fn fit(x: ArrayView2<'_, f64>) -> Result<Self, FitError> {
        if x.iter().any(|v| !v.is_finite()) {
            return Err(FitError::NonFinite);
        }
        let n = x.nrows().max(1) as f64;
        let mean: Vec<f64> = x.axis_iter(Axis(1)).map(|c| c.sum() / n).collect();
        let scale = x
            .axis_iter(Axis(1))
            .zip(&mean)
            .map(|(column, m)| {
                let variance = column.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
                // A pixel whose spread is rounding noise around its mean is constant.
                let floor = 1e-12 * m.abs().max(1.0);
                if variance.sqrt() <= floor {
                    0.0
                } else {
                    1.0 / variance.sqrt()
                }
            })
            .collect();
        Ok(Self { mean, scale })
    }

    /// The pixels that vary over the sample, in order.
    pub fn kept(&self) -> Vec<usize> {
        (0..self.scale.len())
            .filter(|&j| self.scale.get(j).is_some_and(|s| *s != 0.0))
            .collect()
    }

    /// The whitened columns `kept` of `x`.
    pub fn apply(&self, x: ArrayView2<'_, f64>, kept: &[usize]) -> Array2<f64> {
        Array2::from_shape_fn((x.nrows(), kept.len()), |(i, c)| {
            let j = kept.get(c).copied().unwrap_or(0);
            (x[[i, j]] - self.mean.get(j).copied().unwrap_or(0.0))
                * self.scale.get(j).copied().unwrap_or(0.0)
        })
    }
}

/// A PCA fit (scikit-learn's `PCA(n_components=k, svd_solver='full')`).
#[derive(Debug, Clone, PartialEq)]
pub struct PcaFit {
    /// `[k, features]`: the principal axes, each row's largest-magnitude entry positive.
    pub components: Array2<f64>,
    /// `[features]`: the mean subtracted before projecting.
    pub mean: Array1<f64>,
    /// `[k]`: the variance along each axis (ddof 1).
    pub explained_variance: Array1<f64>,
    /// `[k]`: each axis's share of the total variance.
    pub explained_variance_ratio: Array1<f64>,
}

/// A FastICA fit (scikit-learn's `FastICA` with the parameters of [`IcaOptions`]).
#[derive(Debug, Clone, PartialEq)]
pub struct IcaFit {
    /// `[k, features]`: the unmixing matrix applied to centred data (`components_`), scaled so
    /// that each source has unit variance on the sample.
    pub components: Array2<f64>,
    /// `[features]`: the mean subtracted first.
    pub mean: Array1<f64>,
    /// Fixed-point iterations run.
    pub iterations: u32,
    /// Whether the last iteration changed every direction by less than the tolerance.
    pub converged: bool,
    /// The share of the sample's variance in the whitened subspace of `k` directions (PCA's).
    pub explained_variance: f64,
}

/// FastICA's settings (the plan's `tol`, `max_iter`, `alpha`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IcaOptions {
    pub tol: f64,
    pub max_iter: u32,
    pub alpha: f64,
}

/// The thin SVD of a column-centred sample.
struct CentredSvd {
    /// `[features]`: the column means subtracted.
    mean: Array1<f64>,
    /// The singular values, descending.
    singular: Vec<f64>,
    /// `[features, r]`: the right singular vectors as columns.
    right: Array2<f64>,
}

/// The thin SVD of the column-centred `x`.
fn centred_svd(x: ArrayView2<'_, f64>) -> Result<CentredSvd, FitError> {
    if x.iter().any(|v| !v.is_finite()) {
        return Err(FitError::NonFinite);
    }
    let (n, m) = x.dim();
    let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(m));
    let centred = faer::Mat::<f64>::from_fn(n, m, |i, j| x[[i, j]] - mean[j]);
    let svd = centred.thin_svd().map_err(|_| FitError::Solver {
        what: "singular value decomposition",
    })?;
    let r = n.min(m);
    let singular_values = svd.S().column_vector();
    let singular: Vec<f64> = (0..r).map(|i| singular_values[i]).collect();
    let v = svd.V();
    let right = Array2::from_shape_fn((m, r), |(i, j)| v[(i, j)]);
    Ok(CentredSvd {
        mean,
        singular,
        right,
    })
}

/// Checks that the sample can give `k` components, and that its k-th singular value is not zero
/// (relative to the largest, at the precision of the decomposition).
fn check_rank(singular: &[f64], rows: usize, features: usize, k: usize) -> Result<(), FitError> {
    if rows < k {
        return Err(FitError::TooFewRows {
            rows,
            components: k,
        });
    }
    if features < k {
        return Err(FitError::TooFewPixels {
            pixels: features,
            components: k,
        });
    }
    let largest = singular.first().copied().unwrap_or(0.0);
    let tolerance = largest * (rows.max(features) as f64) * f64::EPSILON;
    let rank = singular.iter().filter(|s| **s > tolerance).count();
    if rank < k || largest == 0.0 {
        return Err(FitError::RankDeficient {
            rank,
            components: k,
        });
    }
    Ok(())
}

/// PCA of the rows of `x` (`[n, features]`) with `k` components.
pub fn pca(x: ArrayView2<'_, f64>, k: usize) -> Result<PcaFit, FitError> {
    let (n, m) = x.dim();
    if n < k.max(2) {
        return Err(FitError::TooFewRows {
            rows: n,
            components: k,
        });
    }
    let CentredSvd {
        mean,
        singular,
        right,
    } = centred_svd(x)?;
    check_rank(&singular, n, m, k)?;
    let mut components = right.slice(s![.., ..k]).t().to_owned();
    // scikit-learn's `svd_flip(u_based_decision=False)`: each axis's largest-magnitude entry
    // positive (the first one on a tie).
    for mut row in components.rows_mut() {
        let mut best = 0.0f64;
        for v in row.iter() {
            if v.abs() > best.abs() {
                best = *v;
            }
        }
        if best < 0.0 {
            row.mapv_inplace(|v| -v);
        }
    }
    let variance = |s: f64| s * s / (n as f64 - 1.0);
    let total: f64 = singular.iter().map(|s| variance(*s)).sum();
    let explained_variance: Array1<f64> = singular.iter().take(k).map(|s| variance(*s)).collect();
    let explained_variance_ratio = explained_variance.mapv(|v| v / total);
    Ok(PcaFit {
        components,
        mean,
        explained_variance,
        explained_variance_ratio,
    })
}

/// The initial unmixing matrix scikit-learn draws for `random_state=seed`:
/// `RandomState(seed).normal(size=(k, k))`.
pub fn ica_initial_unmixing(k: usize, seed: u32) -> Array2<f64> {
    let mut rng = RandomState::new(seed);
    Array2::from_shape_simple_fn((k, k), || rng.standard_normal())
}

/// (W Wᵀ)^(−1/2) W: the symmetric decorrelation of FastICA's parallel algorithm.
fn symmetric_decorrelation(w: &Array2<f64>) -> Result<Array2<f64>, FitError> {
    let k = w.nrows();
    let gram = w.dot(&w.t());
    let gram = faer::Mat::<f64>::from_fn(k, k, |i, j| gram[[i, j]]);
    let eigen = gram
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| FitError::Solver {
            what: "eigendecomposition",
        })?;
    let values = eigen.S().column_vector();
    let vectors = eigen.U();
    let u = Array2::from_shape_fn((k, k), |(i, j)| vectors[(i, j)]);
    // As scikit-learn: eigenvalues clipped at the smallest positive normal f64.
    let inverse_root: Vec<f64> = (0..k)
        .map(|i| 1.0 / values[i].max(f64::MIN_POSITIVE).sqrt())
        .collect();
    let scaled = Array2::from_shape_fn((k, k), |(i, j)| u[[i, j]] * inverse_root[j]);
    Ok(scaled.dot(&u.t()).dot(w))
}

/// FastICA of the rows of `x` (`[n, features]`) with `k` components, starting from `w_init`
/// (`[k, k]`, see [`ica_initial_unmixing`]).
pub fn fast_ica(
    x: ArrayView2<'_, f64>,
    k: usize,
    options: IcaOptions,
    w_init: ArrayView2<'_, f64>,
) -> Result<IcaFit, FitError> {
    let (n, m) = x.dim();
    if n < k.max(2) {
        return Err(FitError::TooFewRows {
            rows: n,
            components: k,
        });
    }
    let CentredSvd {
        mean,
        singular,
        right: mut u,
    } = centred_svd(x)?;
    check_rank(&singular, n, m, k)?;
    // scikit-learn: `u *= np.sign(u[0])`. Where u[0, j] is 0 (a feature constant over the
    // sample) its sign would zero the whole axis, so the first non-zero entry decides instead.
    for mut column in u.columns_mut() {
        let first = column.iter().copied().find(|v| *v != 0.0).unwrap_or(1.0);
        if first < 0.0 {
            column.mapv_inplace(|v| -v);
        }
    }
    // K = (u / d)ᵀ[:k]: `[k, features]`.
    let whitening = Array2::from_shape_fn((k, m), |(i, j)| u[[j, i]] / singular[i]);
    let centred = &x - &mean.view().insert_axis(Axis(0));
    // X1 = K · Xcᵀ · √n: `[k, n]`, white.
    let white = whitening.dot(&centred.t()) * (n as f64).sqrt();

    let mut w = symmetric_decorrelation(&w_init.to_owned())?;
    let alpha = options.alpha;
    let mut iterations = 0;
    let mut converged = false;
    for _ in 0..options.max_iter {
        iterations += 1;
        // logcosh: g(u) = tanh(αu), g'(u) = α(1 − tanh²(αu)).
        let gwtx = w.dot(&white).mapv(|v| (alpha * v).tanh());
        let g_wtx: Array1<f64> = gwtx
            .rows()
            .into_iter()
            .map(|row| row.iter().map(|g| alpha * (1.0 - g * g)).sum::<f64>() / n as f64)
            .collect();
        let mut update = gwtx.dot(&white.t()) / n as f64;
        for (mut row, (g, w_row)) in update
            .rows_mut()
            .into_iter()
            .zip(g_wtx.iter().zip(w.rows()))
        {
            row.scaled_add(-g, &w_row);
        }
        let next = symmetric_decorrelation(&update)?;
        let limit = next
            .rows()
            .into_iter()
            .zip(w.rows())
            .map(|(a, b)| (a.dot(&b).abs() - 1.0).abs())
            .fold(0.0f64, f64::max);
        w = next;
        if !w.iter().all(|v| v.is_finite()) {
            return Err(FitError::Solver {
                what: "FastICA iteration",
            });
        }
        if limit < options.tol {
            converged = true;
            break;
        }
    }
    // whiten='unit-variance': scale each source to unit variance (ddof 0) on the sample.
    let mut components = w.dot(&whitening);
    let sources = centred.dot(&components.t());
    for (mut row, column) in components.rows_mut().into_iter().zip(sources.columns()) {
        let spread = column.std(0.0);
        if spread > 0.0 && spread.is_finite() {
            row.mapv_inplace(|v| v / spread);
        }
    }
    let total: f64 = singular.iter().map(|s| s * s).sum();
    let kept: f64 = singular.iter().take(k).map(|s| s * s).sum();
    Ok(IcaFit {
        components,
        mean,
        iterations,
        converged,
        explained_variance: kept / total,
    })
}

/// A fitted baseline as a linear map of the raw pixels: `z = W · ((x − pixel_mean) ⊙ pixel_scale
/// − mean)`, with every value as stored in `model.safetensors` (f32).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearRepresentation {
    /// `[pixels]`.
    pub pixel_mean: Vec<f32>,
    /// `[pixels]`, 0 on the pixels left out.
    pub pixel_scale: Vec<f32>,
    /// `[pixels]`: the whitened sample's mean (0 up to rounding), subtracted before projecting.
    pub mean: Vec<f32>,
    /// `[k, pixels]` row-major, 0 on the pixels left out.
    pub components: Vec<f32>,
    pub k: usize,
}

/// Tensor names in `model.safetensors`.
const PIXEL_MEAN: &str = "whitening/pixel_mean";
const PIXEL_SCALE: &str = "whitening/pixel_scale";
const MEAN: &str = "mean";
const COMPONENTS: &str = "components";

impl LinearRepresentation {
    /// The map of a fit on the `kept` pixels of `whitening` (`fit_mean`, `components` over them).
    fn from_fit(
        whitening: &PixelWhitening,
        kept: &[usize],
        fit_mean: &Array1<f64>,
        components: &Array2<f64>,
    ) -> Self {
        let pixels = whitening.mean.len();
        let k = components.nrows();
        let mut mean = vec![0.0f32; pixels];
        let mut full = vec![0.0f32; k * pixels];
        for (c, &j) in kept.iter().enumerate() {
            if let Some(slot) = mean.get_mut(j) {
                *slot = fit_mean[c] as f32;
            }
            for i in 0..k {
                if let Some(slot) = full.get_mut(i * pixels + j) {
                    *slot = components[[i, c]] as f32;
                }
            }
        }
        Self {
            pixel_mean: whitening.mean.iter().map(|v| *v as f32).collect(),
            pixel_scale: whitening.scale.iter().map(|v| *v as f32).collect(),
            mean,
            components: full,
            k,
        }
    }

    fn tensors(&self) -> Vec<NamedTensor> {
        let pixels = self.pixel_mean.len();
        let vector = |name: &str, data: &[f32]| NamedTensor {
            name: name.to_string(),
            shape: vec![pixels],
            data: data.to_vec(),
        };
        vec![
            vector(PIXEL_MEAN, &self.pixel_mean),
            vector(PIXEL_SCALE, &self.pixel_scale),
            vector(MEAN, &self.mean),
            NamedTensor {
                name: COMPONENTS.to_string(),
                shape: vec![self.k, pixels],
                data: self.components.clone(),
            },
        ]
    }

    /// Reads back what [`LinearRepresentation::tensors`] wrote, when it has `k` components over
    /// `pixels` pixels.
    fn from_tensors(tensors: Vec<NamedTensor>, k: usize, pixels: usize) -> Option<Self> {
        let mut by_name: BTreeMap<String, NamedTensor> =
            tensors.into_iter().map(|t| (t.name.clone(), t)).collect();
        let mut take = |name: &str, shape: &[usize]| {
            by_name
                .remove(name)
                .filter(|t| t.shape == shape && t.data.len() == shape.iter().product::<usize>())
                .map(|t| t.data)
        };
        Some(Self {
            pixel_mean: take(PIXEL_MEAN, &[pixels])?,
            pixel_scale: take(PIXEL_SCALE, &[pixels])?,
            mean: take(MEAN, &[pixels])?,
            components: take(COMPONENTS, &[k, pixels])?,
            k,
        })
    }

    /// The codes `[n, k]` of `n` flattened observations (`[n, pixels]` row-major).
    pub fn encode(&self, observations: &[f32], n: usize) -> Array2<f64> {
        let pixels = self.pixel_mean.len();
        let whitened = Array2::from_shape_fn((n, pixels), |(i, j)| {
            let x = observations.get(i * pixels + j).copied().unwrap_or(0.0);
            f64::from((x - self.pixel_mean[j]) * self.pixel_scale[j] - self.mean[j])
        });
        let components = Array2::from_shape_fn((self.k, pixels), |(i, j)| {
            f64::from(self.components[i * pixels + j])
        });
        whitened.dot(&components.t())
    }
}

/// Observations encoded per call of the dataset's renderer during evaluation.
const ENCODE_BATCH: usize = 512;

/// A fitted baseline as a metric representation of a dataset.
struct Projection<'a> {
    map: &'a LinearRepresentation,
    data: &'a dyn GroundTruthData,
}

impl disc_metrics::Representation for Projection<'_> {
    fn encode(
        &mut self,
        factors: &[Vec<u32>],
        rng: &mut RandomState,
    ) -> Result<Array2<f64>, MetricError> {
        let mut codes = Array2::zeros((factors.len(), self.map.k));
        for (position, chunk) in factors.chunks(ENCODE_BATCH).enumerate() {
            let mut images = Vec::with_capacity(chunk.len() * self.data.observation_len());
            self.data
                .observations(chunk, rng, &mut images)
                .map_err(|e| MetricError::Encode(Box::new(e)))?;
            let start = position * ENCODE_BATCH;
            codes
                .slice_mut(s![start..start + chunk.len(), ..])
                .assign(&self.map.encode(&images, chunk.len()));
        }
        Ok(codes)
    }

    fn dim(&self) -> usize {
        self.map.k
    }
}

/// What a fit tells the caller besides its components.
struct FitReport {
    map: LinearRepresentation,
    /// Diagnostics recorded as `results.json`'s final terms.
    terms: BTreeMap<String, f64>,
    warnings: Vec<String>,
}

/// Draws the sample, whitens it and fits the job's baseline.
fn fit(job: &Job, data: &dyn GroundTruthData, seeds: Seeds) -> Result<FitReport, RuntimeError> {
    let (k, samples) = match &job.model {
        ModelSpec::Pca {
            components,
            samples,
        }
        | ModelSpec::Ica {
            components,
            samples,
            ..
        } => (*components as usize, *samples as usize),
        ModelSpec::Vae(_) | ModelSpec::InfoGan(_) => {
            return Err(RuntimeError::Shape(
                "the baselines were given a trained model".into(),
            ));
        }
    };
    let fail = |source: FitError| RuntimeError::Fit {
        job: job.index,
        model: model_name(job),
        source,
    };
    let mut rng = RandomState::new(seeds.data);
    let (_, observations) =
        disc_data::sample(data, samples, &mut rng).map_err(|source| RuntimeError::Data {
            dataset: job.dataset.name.clone(),
            source: Box::new(source),
        })?;
    let pixels = data.observation_len();
    let x = Array2::from_shape_fn((samples, pixels), |(i, j)| {
        f64::from(
            observations
                .get(i * pixels + j)
                .copied()
                .unwrap_or(f32::NAN),
        )
    });
    drop(observations);
    let whitening = PixelWhitening::fit(x.view()).map_err(fail)?;
    let kept = whitening.kept();
    let mut warnings = Vec::new();
    if kept.len() < pixels {
        warnings.push(format!(
            "{} of {pixels} pixels are constant over the {samples} samples; the fit leaves them out",
            pixels - kept.len()
        ));
    }
    if kept.len() < k {
        return Err(fail(FitError::TooFewPixels {
            pixels: kept.len(),
            components: k,
        }));
    }
    let white = whitening.apply(x.view(), &kept);
    drop(x);
    let mut terms = BTreeMap::new();
    let (fit_mean, components) = match &job.model {
        ModelSpec::Pca { .. } => {
            let fit = pca(white.view(), k).map_err(fail)?;
            terms.insert(
                "explained_variance".to_string(),
                fit.explained_variance_ratio.sum(),
            );
            (fit.mean, fit.components)
        }
        ModelSpec::Ica {
            tol,
            max_iter,
            alpha,
            ..
        } => {
            let options = IcaOptions {
                tol: *tol,
                max_iter: *max_iter,
                alpha: *alpha,
            };
            let w_init = ica_initial_unmixing(k, seeds.init);
            let fit = fast_ica(white.view(), k, options, w_init.view()).map_err(fail)?;
            if !fit.converged {
                warnings.push(format!(
                    "FastICA did not converge in {max_iter} iterations (tolerance {tol}); its last iterate is used, as scikit-learn does"
                ));
            }
            terms.insert("explained_variance".to_string(), fit.explained_variance);
            terms.insert("iterations".to_string(), f64::from(fit.iterations));
            terms.insert(
                "converged".to_string(),
                if fit.converged { 1.0 } else { 0.0 },
            );
            (fit.mean, fit.components)
        }
        ModelSpec::Vae(_) | ModelSpec::InfoGan(_) => unreachable_model(job)?,
    };
    if !components.iter().all(|v| v.is_finite()) {
        return Err(fail(FitError::Solver {
            what: "fit (its components are not finite)",
        }));
    }
    Ok(FitReport {
        map: LinearRepresentation::from_fit(&whitening, &kept, &fit_mean, &components),
        terms,
        warnings,
    })
}

/// The baseline's name in messages.
fn model_name(job: &Job) -> &'static str {
    match &job.model {
        ModelSpec::Pca { .. } => "PCA",
        ModelSpec::Ica { .. } => "FastICA",
        ModelSpec::Vae(_) => "VAE",
        ModelSpec::InfoGan(_) => "InfoGAN",
    }
}

fn unreachable_model<T>(job: &Job) -> Result<T, RuntimeError> {
    Err(RuntimeError::Shape(format!(
        "job {}: the baselines were given a trained model",
        job.index
    )))
}

/// `model.safetensors`' metadata key of the fit's diagnostics (JSON), read back on reuse.
const FIT_TERMS: &str = "fit_terms";

/// The fit stored in the run directory by an earlier run of this job, if any, with its
/// diagnostics.
fn stored_fit(
    run_dir: &RunDir,
    job: &Job,
    k: usize,
    pixels: usize,
) -> Option<(LinearRepresentation, BTreeMap<String, f64>)> {
    let bytes = std::fs::read(run_dir.model_path()).ok()?;
    decode_stored_fit(&bytes, &job.hash, k, pixels)
}

/// [`stored_fit`] on the bytes of `model.safetensors`: the fit when the file holds one of `k`
/// components over `pixels` pixels for the job `job_hash`, with its diagnostics.
pub(crate) fn decode_stored_fit(
    bytes: &[u8],
    job_hash: &str,
    k: usize,
    pixels: usize,
) -> Option<(LinearRepresentation, BTreeMap<String, f64>)> {
    let (tensors, metadata) = decode_safetensors(bytes).ok()?;
    if metadata.get("job_hash").map(String::as_str) != Some(job_hash) {
        return None;
    }
    let terms = serde_json::from_str(metadata.get(FIT_TERMS)?).ok()?;
    Some((
        LinearRepresentation::from_tensors(tensors, k, pixels)?,
        terms,
    ))
}

/// The `model.safetensors` bytes of a fit of `k` components over `pixels` pixels for the job
/// `job_hash`, as [`run_baseline`] writes them (made-up values; the fuzz seeds).
pub(crate) fn example_fit_file(
    job_hash: &str,
    k: usize,
    pixels: usize,
) -> Result<Vec<u8>, crate::artifacts::ArtifactsError> {
    let map = LinearRepresentation {
        pixel_mean: vec![0.5; pixels],
        pixel_scale: vec![2.0; pixels],
        mean: vec![0.25; pixels],
        components: (0..k * pixels).map(|i| i as f32 / 10.0).collect(),
        k,
    };
    let mut metadata = BTreeMap::new();
    metadata.insert("steps".to_string(), "0".to_string());
    metadata.insert(
        FIT_TERMS.to_string(),
        r#"{"explained_variance":0.5}"#.to_string(),
    );
    metadata.insert("job_index".to_string(), "0".to_string());
    metadata.insert("job_hash".to_string(), job_hash.to_string());
    crate::artifacts::encode_safetensors(&map.tensors(), &metadata)
}

/// Fits (or reads back) and evaluates a PCA or ICA job, writing its run directory.
pub fn run_baseline(job: &Job, options: &RunOptions) -> Result<JobOutcome, RuntimeError> {
    let k = match &job.model {
        ModelSpec::Pca { components, .. } | ModelSpec::Ica { components, .. } => {
            *components as usize
        }
        ModelSpec::Vae(_) | ModelSpec::InfoGan(_) => return unreachable_model(job),
    };
    let data = open_dataset(job)?;
    let seeds = Seeds::from_job(job)?;
    let run_dir = RunDir::for_job(&options.out, job);
    run_dir.create()?;
    run_dir.write_job(job)?;
    let started = Instant::now();
    let pixels = data.observation_len();
    let (map, terms, resumed_from) = match stored_fit(&run_dir, job, k, pixels) {
        Some((map, terms)) => {
            options.observer.fitted(
                job,
                &format!(
                    "the {} fit stored in {} is evaluated again",
                    model_name(job),
                    run_dir.model_path().display()
                ),
            );
            (map, terms, Some(0))
        }
        None => {
            let report = fit(job, data.as_ref(), seeds)?;
            for warning in &report.warnings {
                options.observer.warning(job, warning);
            }
            let mut metadata = BTreeMap::new();
            metadata.insert("steps".to_string(), "0".to_string());
            let terms = serde_json::to_string(&report.terms)
                .map_err(|e| RuntimeError::Shape(format!("the fit's diagnostics as JSON: {e}")))?;
            metadata.insert(FIT_TERMS.to_string(), terms);
            if !report.warnings.is_empty() {
                metadata.insert("warnings".to_string(), report.warnings.join("; "));
            }
            run_dir.write_model(&report.map.tensors(), job, &metadata)?;
            let explained = report
                .terms
                .get("explained_variance")
                .map_or_else(String::new, |v| {
                    format!(
                        ", explaining {:.1}% of the whitened pixels' variance",
                        100.0 * v
                    )
                });
            options.observer.fitted(
                job,
                &format!(
                    "{} fitted in {:.1}s{explained}",
                    model_name(job),
                    started.elapsed().as_secs_f64()
                ),
            );
            (report.map, report.terms, None)
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    options.observer.trained(job);
    let mut metric_failures = Vec::new();
    if options.evaluate {
        let report = crate::evaluate::write_metrics_of(
            &run_dir,
            job,
            data.as_ref(),
            options.observer.as_ref(),
            // A baseline has no posterior noise: its sampled representation is its mean one.
            |_noise| {
                Ok(Projection {
                    map: &map,
                    data: data.as_ref(),
                })
            },
        )?;
        metric_failures = report
            .failures()
            .into_iter()
            .map(|(representation, metric, error)| {
                (representation.into(), metric.into(), error.into())
            })
            .collect();
    }
    let samples = match &job.model {
        ModelSpec::Pca { samples, .. } | ModelSpec::Ica { samples, .. } => f64::from(*samples),
        ModelSpec::Vae(_) | ModelSpec::InfoGan(_) => 0.0,
    };
    // The loss of a fit: the share of the whitened pixels' variance its components leave out
    // (PCA's; FastICA spans the same subspace, and its loss is reported the same way).
    let final_loss = terms
        .get("explained_variance")
        .map_or(0.0, |explained| 1.0 - explained);
    let summary = RunSummary {
        job_index: job.index,
        job_hash: job.hash.clone(),
        experiment: job.experiment.clone(),
        device: options.device_name.clone(),
        steps: 0,
        batch_size: job.train.batch_size,
        resumed_from_step: resumed_from,
        final_loss,
        final_terms: terms.clone(),
        elapsed_seconds: elapsed,
        images_per_second: if elapsed > 0.0 && resumed_from.is_none() {
            samples / elapsed
        } else {
            0.0
        },
    };
    run_dir.write_results(&summary)?;
    Ok(JobOutcome {
        run_dir,
        steps: 0,
        resumed_from,
        finished: true,
        final_terms: terms,
        metric_failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest absolute difference between two arrays of the same shape.
    fn max_difference(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        assert_eq!(a.dim(), b.dim());
        a.iter()
            .zip(b.iter())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    fn matrix(value: &serde_json::Value) -> Array2<f64> {
        let rows: Vec<Vec<f64>> = serde_json::from_value(value.clone()).expect("a matrix");
        let n = rows.len();
        let m = rows.first().map_or(0, Vec::len);
        Array2::from_shape_fn((n, m), |(i, j)| rows[i][j])
    }

    fn vector(value: &serde_json::Value) -> Array1<f64> {
        let values: Vec<f64> = serde_json::from_value(value.clone()).expect("a vector");
        Array1::from(values)
    }

    fn golden() -> serde_json::Value {
        serde_json::from_str(include_str!("../../bench/baselines/sklearn_golden.json"))
            .expect("the golden file is JSON")
    }

    /// An orthonormal basis of R^4 (a Householder reflection of the identity), as rows.
    fn basis() -> Array2<f64> {
        let v = Array1::from(vec![1.0, -2.0, 0.5, 3.0]);
        let norm2 = v.dot(&v);
        Array2::from_shape_fn((4, 4), |(i, j)| {
            f64::from(u8::from(i == j)) - 2.0 * v[i] * v[j] / norm2
        })
    }

    /// PCA recovers the eigenvectors and eigenvalues of a known covariance. The data are the
    /// points ±a_i·q_i (and copies), whose sample covariance is exactly Σ λ_i q_i q_iᵀ with
    /// λ_i = 2·c·a_i²/(n − 1) for c copies, so the tolerance is rounding only (1e-10).
    #[test]
    fn pca_recovers_the_eigenvectors_of_a_known_covariance() {
        let q = basis();
        let scales = [5.0, 3.0, 2.0, 0.5];
        let copies = 3;
        let mut rows = Vec::new();
        for _ in 0..copies {
            for (i, a) in scales.iter().enumerate() {
                for sign in [1.0, -1.0] {
                    rows.push(q.row(i).mapv(|v| sign * a * v + 7.0));
                }
            }
        }
        let n = rows.len();
        let x = Array2::from_shape_fn((n, 4), |(r, j)| rows[r][j]);
        let fit = pca(x.view(), 3).expect("fits");
        for (i, scale) in scales.iter().take(3).enumerate() {
            let expected = 2.0 * copies as f64 * scale * scale / (n as f64 - 1.0);
            assert!(
                (fit.explained_variance[i] - expected).abs() < 1e-10 * expected,
                "eigenvalue {i}: {} vs {expected}",
                fit.explained_variance[i]
            );
            // Up to sign: |⟨v_i, q_i⟩| = 1.
            let cosine = fit.components.row(i).dot(&q.row(i)).abs();
            assert!((cosine - 1.0).abs() < 1e-10, "axis {i}: |cos| = {cosine}");
        }
        assert!(fit.mean.iter().all(|m| (m - 7.0).abs() < 1e-12));
    }

    /// scikit-learn 1.9.1's `PCA(n_components=3, svd_solver='full')` on the golden input: axes and
    /// signs agree to 1e-12, variances to 1e-9 relative, the projection to 1e-10 (both are
    /// backward-stable SVDs of a well-conditioned 40×6 matrix; measured: 1.1e-15 on the axes).
    #[test]
    fn pca_agrees_with_scikit_learn() {
        let case = &golden()["pca"];
        let x = matrix(&case["x"]);
        let fit = pca(x.view(), 3).expect("fits");
        assert!(max_difference(&fit.components, &matrix(&case["sklearn_components"])) < 1e-12);
        let mean = vector(&case["sklearn_mean"]);
        assert!((&fit.mean - &mean).iter().all(|d| d.abs() < 1e-12));
        let variance = vector(&case["sklearn_explained_variance"]);
        let ratio = vector(&case["sklearn_explained_variance_ratio"]);
        assert!(
            (&fit.explained_variance - &variance)
                .iter()
                .zip(&variance)
                .all(|(d, v)| d.abs() < 1e-9 * v)
        );
        assert!(
            (&fit.explained_variance_ratio - &ratio)
                .iter()
                .all(|d| d.abs() < 1e-9)
        );
        let projected = (&x - &fit.mean.view().insert_axis(Axis(0))).dot(&fit.components.t());
        assert!(max_difference(&projected, &matrix(&case["sklearn_transform"])) < 1e-10);
    }

    /// The initial unmixing matrix is the one scikit-learn draws for `random_state=0` (to the
    /// last bit but one: the golden file's decimal text is read back without correct rounding).
    #[test]
    fn ica_draws_scikit_learns_initial_matrix() {
        let case = &golden()["ica"];
        assert!(max_difference(&ica_initial_unmixing(3, 0), &matrix(&case["w_init"])) < 1e-15);
    }

    /// scikit-learn 1.9.1's `FastICA(n_components=3, random_state=0)` on the golden input, at its
    /// default tolerance (3 iterations) and at 1e-9 (5): the same iteration count, components
    /// within 1e-12 and sources within 1e-11 (the same fixed-point map from the same start; what
    /// differs is the SVD's rounding, carried through a few iterations; measured: 4.5e-15 on the
    /// components, 3.0e-14 on the sources).
    #[test]
    fn fast_ica_agrees_with_scikit_learn() {
        let case = &golden()["ica"];
        let x = matrix(&case["x"]);
        let w_init = ica_initial_unmixing(3, 0);
        for (tol, components, iterations) in [
            (
                &case["tol"],
                &case["sklearn_components"],
                &case["sklearn_n_iter"],
            ),
            (
                &case["tight_tol"],
                &case["tight_components"],
                &case["tight_n_iter"],
            ),
        ] {
            let options = IcaOptions {
                tol: tol.as_f64().expect("tol"),
                max_iter: 200,
                alpha: 1.0,
            };
            let fit = fast_ica(x.view(), 3, options, w_init.view()).expect("fits");
            assert!(fit.converged);
            assert_eq!(
                u64::from(fit.iterations),
                iterations.as_u64().expect("n_iter")
            );
            let difference = max_difference(&fit.components, &matrix(components));
            assert!(difference < 1e-12, "components differ by {difference}");
            assert!(
                (&fit.mean - &vector(&case["sklearn_mean"]))
                    .iter()
                    .all(|d| d.abs() < 1e-12)
            );
        }
        // The sources of the default fit, as `fit_transform` returns them.
        let options = IcaOptions {
            tol: 1e-4,
            max_iter: 200,
            alpha: 1.0,
        };
        let fit = fast_ica(x.view(), 3, options, w_init.view()).expect("fits");
        let sources = (&x - &fit.mean.view().insert_axis(Axis(0))).dot(&fit.components.t());
        assert!(max_difference(&sources, &matrix(&case["sklearn_sources"])) < 1e-11);
    }

    /// The Amari distance between the identity and W·A (0 when W·A is a scaled permutation;
    /// normalised to [0, 1]).
    fn amari_distance(p: &Array2<f64>) -> f64 {
        let k = p.nrows() as f64;
        let p = p.mapv(f64::abs);
        let rows: f64 = p
            .rows()
            .into_iter()
            .map(|r| r.sum() / r.fold(0.0, |a: f64, b| a.max(*b)) - 1.0)
            .sum();
        let columns: f64 = p
            .columns()
            .into_iter()
            .map(|c| c.sum() / c.fold(0.0, |a: f64, b| a.max(*b)) - 1.0)
            .sum();
        (rows + columns) / (2.0 * k * (k - 1.0))
    }

    /// FastICA unmixes three independent non-Gaussian sources (uniform, Laplace, a binary square
    /// wave) mixed into four observed features: the Amari distance of W·A is below 0.05 (measured:
    /// 0.0077 after 5 iterations). With 5 000 samples the estimation error of an unmixing row is
    /// about 1/√n ≈ 0.014 per entry, so a correct unmixing lands well under the bound and a wrong
    /// one (Amari ≈ 0.3 or more for a random W) well over it.
    #[test]
    fn fast_ica_unmixes_independent_sources() {
        let n = 5000;
        let mut rng = RandomState::new(11);
        let sources = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => 2.0 * rng.random_sample() - 1.0,
            1 => {
                let u = rng.random_sample() - 0.5;
                -u.signum() * (1.0 - 2.0 * u.abs()).max(1e-300).ln()
            }
            _ => {
                if (i / 7) % 2 == 0 {
                    1.0
                } else {
                    -1.0
                }
            }
        });
        let mixing = Array2::from_shape_vec(
            (4, 3),
            vec![
                1.0, 0.5, -0.3, 0.2, 1.0, 0.7, -0.6, 0.3, 1.0, 0.4, -0.8, 0.2,
            ],
        )
        .expect("4×3");
        let x = sources.dot(&mixing.t());
        let options = IcaOptions {
            tol: 1e-4,
            max_iter: 200,
            alpha: 1.0,
        };
        let fit = fast_ica(x.view(), 3, options, ica_initial_unmixing(3, 0).view()).expect("fits");
        assert!(fit.converged);
        let product = fit.components.dot(&mixing);
        let distance = amari_distance(&product);
        assert!(
            distance < 0.05,
            "Amari distance {distance}: W·A = {product}"
        );
    }

    #[test]
    fn bad_samples_are_errors_not_panics_or_nans() {
        let options = IcaOptions {
            tol: 1e-4,
            max_iter: 200,
            alpha: 1.0,
        };
        let w = ica_initial_unmixing(3, 0);
        // Fewer rows than components.
        let two = Array2::from_shape_fn((2, 5), |(i, j)| (i * 5 + j) as f64);
        assert_eq!(
            pca(two.view(), 3),
            Err(FitError::TooFewRows {
                rows: 2,
                components: 3
            })
        );
        assert!(matches!(
            fast_ica(two.view(), 3, options, w.view()),
            Err(FitError::TooFewRows { .. })
        ));
        // Rows that span one direction only.
        let line = Array2::from_shape_fn((20, 5), |(i, j)| i as f64 * (j as f64 + 1.0));
        assert_eq!(
            pca(line.view(), 3),
            Err(FitError::RankDeficient {
                rank: 1,
                components: 3
            })
        );
        assert!(matches!(
            fast_ica(line.view(), 3, options, w.view()),
            Err(FitError::RankDeficient { rank: 1, .. })
        ));
        // A NaN pixel.
        let mut nan = Array2::from_shape_fn((20, 5), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
        nan[[3, 2]] = f64::NAN;
        assert_eq!(PixelWhitening::fit(nan.view()), Err(FitError::NonFinite));
        assert_eq!(pca(nan.view(), 2), Err(FitError::NonFinite));
        // Constant pixels are left out by the whitening.
        let mut constant = Array2::from_shape_fn((20, 5), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
        constant.column_mut(1).fill(0.25);
        let whitening = PixelWhitening::fit(constant.view()).expect("finite");
        assert_eq!(whitening.kept(), vec![0, 2, 3, 4]);
        let white = whitening.apply(constant.view(), &whitening.kept());
        for column in white.columns() {
            assert!(column.mean().expect("rows").abs() < 1e-12);
            assert!((column.std(0.0) - 1.0).abs() < 1e-12);
        }
        // One iteration does not converge: the fit is kept, finite, and says so.
        let case = &golden()["ica"];
        let x = matrix(&case["x"]);
        let short = IcaOptions {
            tol: 1e-12,
            max_iter: 1,
            alpha: 1.0,
        };
        let fit = fast_ica(x.view(), 3, short, w.view()).expect("fits");
        assert!(!fit.converged && fit.iterations == 1);
        assert!(fit.components.iter().all(|v| v.is_finite()));
    }

    /// The map written to `model.safetensors` reads back as the same map and encodes observations
    /// as the fit projects them (up to the f32 rounding of the stored weights).
    #[test]
    fn the_stored_map_reads_back_and_projects_like_the_fit() {
        let x = Array2::from_shape_fn((30, 6), |(i, j)| (((i * 13 + j * 5) % 17) as f64) / 17.0);
        let whitening = PixelWhitening::fit(x.view()).expect("finite");
        let kept = whitening.kept();
        let white = whitening.apply(x.view(), &kept);
        let fit = pca(white.view(), 2).expect("fits");
        let map = LinearRepresentation::from_fit(&whitening, &kept, &fit.mean, &fit.components);
        let back = LinearRepresentation::from_tensors(map.tensors(), 2, 6).expect("reads back");
        assert_eq!(back, map);
        assert!(LinearRepresentation::from_tensors(map.tensors(), 3, 6).is_none());
        let observations: Vec<f32> = x.iter().map(|v| *v as f32).collect();
        let codes = map.encode(&observations, 30);
        let expected = (&white - &fit.mean.view().insert_axis(Axis(0))).dot(&fit.components.t());
        assert!(max_difference(&codes, &expected) < 1e-4);
    }
}
