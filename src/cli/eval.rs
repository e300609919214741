//! `disc eval`: disentanglement metrics on arrays of codes and ground-truth factors made elsewhere.
//!
//! Reads `.npy`, `.npz` and HDF5 files (the files `arrays(...)` reads, with the array names given by
//! `--codes-key` and `--factors-key`), checks them, calls `disc_metrics::evaluate_arrays` once per metric, and
//! prints one JSON object (or a table). The metric computations live in disc-metrics; this module only
//! does IO, argument handling, messages and exit codes.
//!
//! A metric that cannot be computed never costs the others their values: it appears in the output as
//! `{"<metric>": {"error": "..."}}` (a table line saying why), beside every value that was computed.
//! Exit codes: 0 when at least one metric was computed (and, with `--strict`, none failed); 1 for bad
//! input files, when every metric failed, or with `--strict` when any failed; 2 for usage errors (clap).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use disc_data::factors::FactorSpace;
use disc_data::rng::RandomState;
use disc_metrics::{METRIC_NAMES, MetricConfig, MetricError, Sampling, evaluate_arrays};
use ndarray::Array2;
use npyz::{DType, NpyFile, Order, TypeChar};
use serde_json::{Map, Value, json};

/// Output format of `disc eval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object: `{ "<metric>": { "<key>": value }, ..., "parameters": {...} }`.
    Json,
    /// An aligned table for people.
    Table,
}

/// Arguments of `disc eval`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "With --factor-sizes (numbers, or name=size pairs as in arrays(factors: ...)) the rows \
must hold every factor combination, in any order (several rows for one combination are allowed); \
every metric then draws its factor rows from that grid with its own random state (numpy \
RandomState(--seed)) and looks their codes up (a random one of a combination's rows), as the \
reference samples a dataset. \
Without it, observational metrics use the first --num-train rows as the train sample and the next \
--num-test rows as the test sample, in file order (clipped, with a warning, to what the arrays hold; \
the output's parameters say which rows each metric read), and beta_vae_sklearn and \
factor_vae_metric cannot be computed. Without --metric, every metric that the inputs allow is \
computed. A metric that fails is reported beside the others' values; the exit code is 0 unless \
every metric failed or --strict is given."
)]
pub struct EvalArgs {
    /// Codes: float32/float64 of shape (n, d), in an `.npy`, or an `.npz` or HDF5 file holding the
    /// array --codes-key (and possibly the factors too).
    #[arg(long, value_name = "FILE")]
    pub codes: PathBuf,
    /// The codes' array name in an `.npz` or HDF5 file.
    #[arg(long, value_name = "NAME", default_value = "codes")]
    pub codes_key: String,
    /// Factors: integer class indices of shape (n, k), one row per code, in an `.npy`, or an `.npz`
    /// or HDF5 file holding the array --factors-key (a dataset's file as `arrays(...)` reads it);
    /// optional when --codes is an `.npz` or HDF5 file that holds them.
    #[arg(long, value_name = "FILE")]
    pub factors: Option<PathBuf>,
    /// The factors' array name in an `.npz` or HDF5 file (`arrays(...)`'s `labels_key`).
    #[arg(long, value_name = "NAME", default_value = "factors")]
    pub factors_key: String,
    /// Metric to compute (repeatable); default: all that the inputs allow.
    #[arg(long = "metric", value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(METRIC_NAMES))]
    pub metrics: Vec<String>,
    /// Train sample size (observational metrics); train points for BetaVAE/FactorVAE; the largest
    /// downstream train size. Default: the reference study's (10000).
    #[arg(long, value_name = "N")]
    pub num_train: Option<usize>,
    /// Test sample size (observational metrics); eval points for BetaVAE/FactorVAE. Default: 5000.
    #[arg(long, value_name = "N")]
    pub num_test: Option<usize>,
    /// Factor sizes when the rows hold every factor combination, in column order: `3,6,40,32,32`,
    /// or named as in `arrays(factors: ...)`: `angle=12,light=4` (the names label the output).
    #[arg(long, value_name = "SIZES", value_delimiter = ',', value_parser = parse_factor_size)]
    pub factor_sizes: Option<Vec<FactorSize>>,
    /// Seed of the random state the interventional metrics sample with (numpy RandomState).
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Exit with status 1 when any metric fails (the output still holds every computed value).
    #[arg(long)]
    pub strict: bool,
}

/// One factor of --factor-sizes: its size, and its name when written `name=size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorSize {
    /// The name, when given.
    pub name: Option<String>,
    /// The number of values.
    pub size: u32,
}

/// Parses `12` or `angle=12`.
fn parse_factor_size(text: &str) -> Result<FactorSize, String> {
    let (name, size) = match text.split_once('=') {
        Some((name, size)) => {
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(format!(
                    "`{name}` is not a factor name (letters, digits and `_`)"
                ));
            }
            (Some(name.to_string()), size)
        }
        None => (None, text),
    };
    let size = size
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("`{}` is not a number of factor values", size.trim()))?;
    Ok(FactorSize { name, size })
}

/// Why `disc eval` stopped (rendered on stderr, exit code 1).
#[derive(Debug, thiserror::Error)]
enum EvalError {
    #[error("cannot read `{}`", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("`{}` holds no array named `{name}`", path.display())]
    MissingArray { path: PathBuf, name: String },
    /// A header whose shape multiplies out past 64 bits, refused before npyz parses it (npyz
    /// multiplies unchecked). `name` is the array's name in an `.npz`, `None` for a `.npy`.
    #[error(
        "`{}`: the {what} array{} has a shape whose element count does not fit in 64 bits",
        path.display(),
        name.as_ref().map(|name| format!(" `{name}`")).unwrap_or_default()
    )]
    ShapeOverflow {
        path: PathBuf,
        what: &'static str,
        name: Option<String>,
    },
    #[error("cannot read `{}`", path.display())]
    Data {
        path: PathBuf,
        /// Boxed, as in `Grid`.
        source: Box<disc_data::DataError>,
    },
    #[error(
        "--factor-sizes names some factors but not all: name every factor (`angle=12,light=4`) or none"
    )]
    PartlyNamed,
    #[error(
        "no factors given: pass --factors FILE, or give an `.npz` or HDF5 file holding the factors (--factors-key) instead of `{}`",
        path.display()
    )]
    NeedFactors { path: PathBuf },
    #[error("`{}`: {what} must be {}, found dtype `{dtype}`", path.display(), expected_dtype(what))]
    Dtype {
        path: PathBuf,
        what: &'static str,
        dtype: String,
    },
    #[error("`{}`: {what} must be a 2-d array (n, columns), found shape {shape:?}", path.display())]
    Shape {
        path: PathBuf,
        what: &'static str,
        shape: Vec<u64>,
    },
    #[error(
        "`{}`: factor at row {row}, column {column} is {value}; factors must be non-negative integer class indices",
        path.display()
    )]
    FactorValue {
        path: PathBuf,
        row: usize,
        column: usize,
        value: String,
    },
    #[error("--factor-sizes {sizes:?} is not a factor space")]
    Grid {
        sizes: Vec<u32>,
        /// Boxed: a `DataError` is several times larger than the other variants (clippy's
        /// `result_large_err`).
        source: Box<disc_data::DataError>,
    },
    #[error("{metric}: {source}")]
    Metric {
        metric: &'static str,
        source: MetricError,
    },
}

fn expected_dtype(what: &str) -> &'static str {
    if what == "codes" {
        "float32 or float64"
    } else {
        "an integer type (or floats holding whole numbers)"
    }
}

/// Runs `disc eval`.
pub fn run(args: EvalArgs) -> ExitCode {
    match eval(&args) {
        Ok(report) => {
            print!("{}", report.text);
            let failed = report.failed();
            let all_failed = !failed.is_empty() && failed.len() == report.outcomes.len();
            let fatal = all_failed || (args.strict && !failed.is_empty());
            for (metric, message) in &failed {
                let severity = if fatal { "error" } else { "warning" };
                eprintln!("{severity}: `{metric}` could not be computed: {message}");
            }
            if fatal {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            // A metric error's own text is already in the message; its causes follow.
            let mut cause = match &error {
                EvalError::Metric { source, .. } => std::error::Error::source(source),
                other => std::error::Error::source(other),
            };
            while let Some(inner) = cause {
                eprintln!("  caused by: {inner}");
                cause = inner.source();
            }
            ExitCode::from(1)
        }
    }
}

/// One metric's outcome: its scores, or why it could not be computed (the error and its causes).
type Outcome = Result<BTreeMap<String, f64>, String>;

/// What `disc eval` prints and how each metric went.
struct Report {
    text: String,
    outcomes: BTreeMap<&'static str, Outcome>,
}

impl Report {
    fn failed(&self) -> Vec<(&'static str, &str)> {
        self.outcomes
            .iter()
            .filter_map(|(metric, outcome)| match outcome {
                Ok(_) => None,
                Err(message) => Some((*metric, message.as_str())),
            })
            .collect()
    }
}

/// An error and its chain of causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let _ = write!(text, ": {inner}");
        cause = inner.source();
    }
    text
}

/// The whole command: every requested metric's outcome and the text to print.
fn eval(args: &EvalArgs) -> Result<Report, EvalError> {
    let (codes, factors, factors_path) = load_inputs(args)?;
    if codes.nrows() != factors.nrows() {
        // Every metric would fail the same way: say it once, as bad input.
        return Err(EvalError::Metric {
            metric: "eval",
            source: MetricError::RowMismatch {
                codes: codes.nrows(),
                factors: factors.nrows(),
            },
        });
    }
    let sizes: Option<Vec<u32>> = args
        .factor_sizes
        .as_ref()
        .map(|factors| factors.iter().map(|f| f.size).collect());
    let names: Option<Vec<String>> = match &args.factor_sizes {
        Some(factors) if factors.iter().all(|f| f.name.is_some()) => {
            Some(factors.iter().filter_map(|f| f.name.clone()).collect())
        }
        Some(factors) if factors.iter().any(|f| f.name.is_some()) => {
            return Err(EvalError::PartlyNamed);
        }
        _ => None,
    };
    let grid = match &sizes {
        Some(sizes) => Some(
            FactorSpace::new(sizes.clone()).map_err(|source| EvalError::Grid {
                sizes: sizes.clone(),
                source: Box::new(source),
            })?,
        ),
        None => None,
    };

    let requested: Vec<String> = if args.metrics.is_empty() {
        METRIC_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.metrics.clone()
    };
    let mut configs = Vec::new();
    for name in &requested {
        let config = MetricConfig::from_name(name).map_err(|source| EvalError::Metric {
            metric: "eval",
            source,
        })?;
        if config.is_interventional() && grid.is_none() && args.metrics.is_empty() {
            eprintln!(
                "note: skipping `{name}`: it needs the complete factor grid (pass --factor-sizes when the rows are every factor combination)"
            );
            continue;
        }
        configs.push(with_sizes(config, args.num_train, args.num_test));
    }

    let mut results: BTreeMap<&'static str, Outcome> = BTreeMap::new();
    let mut used_configs = Map::new();
    let mut adjustments = Vec::new();
    for config in &configs {
        // The reference evaluates each metric with a fresh RandomState(seed).
        let mut rng = RandomState::new(args.seed);
        let evaluation = match evaluate_arrays(
            config,
            codes.view(),
            factors.view(),
            grid.as_ref(),
            &mut rng,
        ) {
            Ok(evaluation) => evaluation,
            Err(error) => {
                used_configs.insert(config.name().to_string(), config_parameters(config, None));
                results.insert(config.name(), Err(error_chain(&error)));
                continue;
            }
        };
        for adjustment in &evaluation.adjustments {
            eprintln!(
                "warning: `{}`: {} = {} but the arrays provide {} rows for it; using {}",
                adjustment.metric,
                adjustment.parameter,
                adjustment.requested,
                adjustment.used,
                adjustment.used
            );
            adjustments.push(json!({
                "metric": adjustment.metric,
                "parameter": adjustment.parameter,
                "requested": adjustment.requested,
                "used": adjustment.used,
            }));
        }
        used_configs.insert(
            config.name().to_string(),
            config_parameters(config, Some(&evaluation.sampling)),
        );
        results.insert(config.name(), Ok(evaluation.scores));
    }

    let parameters = json!({
        "codes": args.codes.display().to_string(),
        "factors": factors_path.display().to_string(),
        "factor_names": names,
        "num_points": codes.nrows(),
        "num_codes": codes.ncols(),
        "num_factors": factors.ncols(),
        "factor_sizes": sizes,
        "seed": args.seed,
        "row_selection": if grid.is_some() { ROWS_FROM_GRID } else { ROWS_IN_FILE_ORDER },
        "metrics": Value::Object(used_configs),
        "clipped": adjustments,
    });
    let text = match args.format {
        Format::Json => render_json(&results, parameters),
        Format::Table => render_table(&results),
    };
    Ok(Report {
        text,
        outcomes: results,
    })
}

/// `parameters.row_selection` with a declared grid.
const ROWS_FROM_GRID: &str = "factor rows drawn from the complete grid with each metric's own \
RandomState(seed), codes looked up by the rows' flat indices (as the reference samples a dataset)";

/// `parameters.row_selection` for plain arrays.
const ROWS_IN_FILE_ORDER: &str = "file order: each metric's train sample is the first rows, its \
test sample the rows after them (parameters.metrics.<metric>.rows gives the ranges); shuffle the \
rows first if the file is sorted by factor";

/// A metric's parameters as used, with the rows it read (`[start, end)` ranges in file order).
fn config_parameters(config: &MetricConfig, sampling: Option<&Sampling>) -> Value {
    // `MetricConfig` serialises as `{variant: {...}}`; the metric name already says which.
    let mut parameters = match serde_json::to_value(config) {
        Ok(Value::Object(tagged)) if tagged.len() == 1 => tagged
            .into_iter()
            .next()
            .map_or(Value::Null, |(_, value)| value),
        Ok(other) => other,
        Err(_) => Value::Null,
    };
    if let (Value::Object(object), Some(Sampling::FileOrder { train, test })) =
        (&mut parameters, sampling)
    {
        let mut rows = Map::new();
        rows.insert("train".to_string(), json!([0, train]));
        if *test > 0 {
            rows.insert("test".to_string(), json!([train, train + test]));
        }
        object.insert("rows".to_string(), Value::Object(rows));
    }
    parameters
}

/// Applies --num-train / --num-test to a metric's sizes.
fn with_sizes(
    mut config: MetricConfig,
    num_train: Option<usize>,
    num_test: Option<usize>,
) -> MetricConfig {
    match &mut config {
        MetricConfig::BetaVae(c) => {
            c.num_train = num_train.unwrap_or(c.num_train);
            c.num_eval = num_test.unwrap_or(c.num_eval);
        }
        MetricConfig::FactorVae(c) => {
            c.num_train = num_train.unwrap_or(c.num_train);
            c.num_eval = num_test.unwrap_or(c.num_eval);
        }
        MetricConfig::Mig(c) => c.num_train = num_train.unwrap_or(c.num_train),
        MetricConfig::Irs(c) => c.num_train = num_train.unwrap_or(c.num_train),
        MetricConfig::Unsupervised(c) => c.num_train = num_train.unwrap_or(c.num_train),
        MetricConfig::Sap(c) => {
            c.num_train = num_train.unwrap_or(c.num_train);
            c.num_test = num_test.unwrap_or(c.num_test);
        }
        MetricConfig::Modularity(c) => {
            c.num_train = num_train.unwrap_or(c.num_train);
            c.num_test = num_test.unwrap_or(c.num_test);
        }
        MetricConfig::Dci(c) => {
            c.num_train = num_train.unwrap_or(c.num_train);
            c.num_test = num_test.unwrap_or(c.num_test);
        }
        MetricConfig::DownstreamLogisticRegression(c) | MetricConfig::DownstreamBoostedTrees(c) => {
            if let Some(n) = num_train {
                // The reference sizes below N, then N itself as the largest.
                let mut sizes: Vec<usize> =
                    c.num_train.iter().copied().filter(|&s| s < n).collect();
                sizes.push(n);
                c.num_train = sizes;
            }
            c.num_test = num_test.unwrap_or(c.num_test);
        }
    }
    config
}

/// Reads codes and factors, returning them with the path the factors came from.
fn load_inputs(args: &EvalArgs) -> Result<(Array2<f64>, Array2<u32>, PathBuf), EvalError> {
    let codes_path = &args.codes;
    let codes = read_array(codes_path, &args.codes_key, "codes")?;
    let codes = to_codes(codes_path, codes)?;
    let factors_path = match &args.factors {
        Some(path) => path.clone(),
        None if is_npz(codes_path) || is_hdf5(codes_path) => codes_path.clone(),
        None => {
            return Err(EvalError::NeedFactors {
                path: codes_path.clone(),
            });
        }
    };
    let factors = read_array(&factors_path, &args.factors_key, "factors")?;
    let factors = to_factors(&factors_path, factors)?;
    Ok((codes, factors, factors_path))
}

/// Whether `path` is an HDF5 file; an unreadable file is not (reading it reports why).
fn is_hdf5(path: &Path) -> bool {
    disc_data::arrays::is_hdf5_file(path).unwrap_or(false)
}

fn is_npz(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("npz"))
}

/// A 2-d array as read from disk, before conversion.
struct RawArray {
    shape: Vec<u64>,
    order: Order,
    /// The element type, as numpy's descriptor (`.npy`, `.npz`) or name (HDF5).
    dtype: String,
    data: RawData,
}

enum RawData {
    Float(Vec<f64>),
    Int(Vec<i128>),
}

/// Reads array `key` from an `.npz` or HDF5 file, or the whole `.npy`; `what` says which input it is.
fn read_array(path: &Path, key: &str, what: &'static str) -> Result<RawArray, EvalError> {
    let io_error = |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    };
    if is_hdf5(path) {
        let data_error = |source| EvalError::Data {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let (header, values) = disc_data::arrays::read_hdf5(path, key).map_err(data_error)?;
        let data = match values {
            Some(disc_data::arrays::Numbers::Float(values)) => RawData::Float(values),
            Some(disc_data::arrays::Numbers::Int(values)) => {
                RawData::Int(values.into_iter().map(i128::from).collect())
            }
            None => {
                return Err(EvalError::Dtype {
                    path: path.to_path_buf(),
                    what,
                    dtype: header.dtype,
                });
            }
        };
        let count = match &data {
            RawData::Float(values) => values.len(),
            RawData::Int(values) => values.len(),
        };
        if header.shape.len() != 2 || header.shape.iter().product::<u64>() != count as u64 {
            return Err(EvalError::Shape {
                path: path.to_path_buf(),
                what,
                shape: header.shape,
            });
        }
        return Ok(RawArray {
            shape: header.shape,
            order: Order::C,
            dtype: header.dtype,
            data,
        });
    }
    let overflow = |name: Option<&str>| EvalError::ShapeOverflow {
        path: path.to_path_buf(),
        what,
        name: name.map(str::to_string),
    };
    if is_npz(path) {
        let mut archive = npyz::npz::NpzArchive::open(path).map_err(io_error)?;
        if !disc_data::npy_guard::npz_member_shape_fits(&mut archive, key) {
            return Err(overflow(Some(key)));
        }
        let npy =
            archive
                .by_name(key)
                .map_err(io_error)?
                .ok_or_else(|| EvalError::MissingArray {
                    path: path.to_path_buf(),
                    name: key.to_string(),
                })?;
        decode(path, what, npy)
    } else {
        let mut file = File::open(path).map_err(io_error)?;
        if !disc_data::npy_guard::npy_shape_fits(&mut file) {
            return Err(overflow(None));
        }
        file.seek(std::io::SeekFrom::Start(0)).map_err(io_error)?;
        let npy = NpyFile::new(BufReader::new(file)).map_err(io_error)?;
        decode(path, what, npy)
    }
}

fn decode<R: Read>(
    path: &Path,
    what: &'static str,
    npy: NpyFile<R>,
) -> Result<RawArray, EvalError> {
    let shape = npy.shape().to_vec();
    let order = npy.order();
    let dtype = npy.dtype();
    let io_error = |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bad_dtype = || EvalError::Dtype {
        path: path.to_path_buf(),
        what,
        dtype: dtype.descr(),
    };
    let DType::Plain(type_str) = &dtype else {
        return Err(bad_dtype());
    };
    let data = match (type_str.type_char(), type_str.size_field()) {
        (TypeChar::Float, 4) => RawData::Float(
            npy.into_vec::<f32>()
                .map_err(io_error)?
                .into_iter()
                .map(f64::from)
                .collect(),
        ),
        (TypeChar::Float, 8) => RawData::Float(npy.into_vec::<f64>().map_err(io_error)?),
        (TypeChar::Int, 1) => RawData::Int(
            npy.into_vec::<i8>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        (TypeChar::Int, 2) => RawData::Int(
            npy.into_vec::<i16>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        (TypeChar::Int, 4) => RawData::Int(
            npy.into_vec::<i32>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        (TypeChar::Int, 8) => RawData::Int(
            npy.into_vec::<i64>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        (TypeChar::Uint, 1) => RawData::Int(
            npy.into_vec::<u8>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        (TypeChar::Uint, 2) => RawData::Int(
            npy.into_vec::<u16>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        (TypeChar::Uint, 4) => RawData::Int(
            npy.into_vec::<u32>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        (TypeChar::Uint, 8) => RawData::Int(
            npy.into_vec::<u64>()
                .map_err(io_error)?
                .into_iter()
                .map(i128::from)
                .collect(),
        ),
        _ => return Err(bad_dtype()),
    };
    if shape.len() != 2 {
        return Err(EvalError::Shape {
            path: path.to_path_buf(),
            what,
            shape,
        });
    }
    Ok(RawArray {
        shape,
        order,
        dtype: dtype.descr(),
        data,
    })
}

/// (rows, columns) and the flat position of element (r, c) in the file's order.
fn layout(raw: &RawArray) -> (usize, usize, impl Fn(usize, usize) -> usize) {
    let rows = raw.shape[0] as usize;
    let columns = raw.shape[1] as usize;
    let fortran = raw.order == Order::Fortran;
    (rows, columns, move |r: usize, c: usize| {
        if fortran {
            c * rows + r
        } else {
            r * columns + c
        }
    })
}

fn to_codes(path: &Path, raw: RawArray) -> Result<Array2<f64>, EvalError> {
    let (rows, columns, position) = layout(&raw);
    let RawData::Float(values) = &raw.data else {
        return Err(EvalError::Dtype {
            path: path.to_path_buf(),
            what: "codes",
            dtype: raw.dtype.clone(),
        });
    };
    // Non-finite values are reported by the metrics' own checks, with row and column.
    Ok(Array2::from_shape_fn((rows, columns), |(r, c)| {
        values[position(r, c)]
    }))
}

fn to_factors(path: &Path, raw: RawArray) -> Result<Array2<u32>, EvalError> {
    let (rows, columns, position) = layout(&raw);
    let mut out = Array2::zeros((rows, columns));
    for r in 0..rows {
        for c in 0..columns {
            let index = position(r, c);
            let value = match &raw.data {
                RawData::Int(values) => u32::try_from(values[index]).ok(),
                RawData::Float(values) => {
                    let v = values[index];
                    (v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v))
                        .then_some(v as u32)
                }
            };
            let Some(value) = value else {
                let shown = match &raw.data {
                    RawData::Int(values) => values[index].to_string(),
                    RawData::Float(values) => values[index].to_string(),
                };
                return Err(EvalError::FactorValue {
                    path: path.to_path_buf(),
                    row: r,
                    column: c,
                    value: shown,
                });
            };
            out[[r, c]] = value;
        }
    }
    Ok(out)
}

/// A score as JSON: numbers, and the strings "inf"/"-inf" for the documented infinite total correlation
/// (JSON has no infinity).
fn number(value: f64) -> Value {
    if value.is_finite() {
        json!(value)
    } else if value > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

fn render_json(results: &BTreeMap<&'static str, Outcome>, parameters: Value) -> String {
    let mut object = Map::new();
    for (metric, outcome) in results {
        let value = match outcome {
            Ok(scores) => Value::Object(
                scores
                    .iter()
                    .map(|(k, v)| (k.clone(), number(*v)))
                    .collect(),
            ),
            Err(message) => json!({ "error": message }),
        };
        object.insert(metric.to_string(), value);
    }
    object.insert("parameters".to_string(), parameters);
    let mut text = serde_json::to_string_pretty(&Value::Object(object)).unwrap_or_default();
    text.push('\n');
    text
}

fn render_table(results: &BTreeMap<&'static str, Outcome>) -> String {
    let metric_width = results.keys().map(|m| m.len()).max().unwrap_or(6).max(6);
    let key_width = results
        .values()
        .filter_map(|outcome| outcome.as_ref().ok())
        .flat_map(|s| s.keys())
        .map(String::len)
        .max()
        .unwrap_or(3)
        .max(3);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<metric_width$}  {:<key_width$}  value",
        "metric", "key"
    );
    for (metric, outcome) in results {
        match outcome {
            Ok(scores) => {
                for (key, value) in scores {
                    let _ = writeln!(
                        text,
                        "{metric:<metric_width$}  {key:<key_width$}  {value:.6}"
                    );
                }
            }
            Err(message) => {
                let _ = writeln!(text, "{metric:<metric_width$}  error: {message}");
            }
        }
    }
    text
}
