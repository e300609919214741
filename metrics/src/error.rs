//! The one error type of the metric suite.
//!
//! Every way a metric can refuse its input is a variant here, carrying the facts (which row, which factor,
//! how many rows) so the caller can render a message that says what is wrong and where. This module holds
//! error data only; it must not print or decide exit codes (the CLI does).

use crate::learn::LearnError;

/// Why a metric could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    /// Codes and factors disagree on the number of points.
    #[error("codes have {codes} rows but factors have {factors} rows")]
    RowMismatch {
        /// Rows of the code matrix.
        codes: usize,
        /// Rows of the factor matrix.
        factors: usize,
    },
    /// Train and test samples differ in their number of code or factor columns.
    #[error("the train {what} have {train} columns but the test {what} have {test}")]
    ColumnMismatch {
        /// "codes" or "factors".
        what: &'static str,
        /// Columns in the train sample.
        train: usize,
        /// Columns in the test sample.
        test: usize,
    },
    /// The code matrix has no columns.
    #[error("codes have no columns: a representation needs at least one dimension")]
    NoCodes,
    /// The factor matrix has no columns.
    #[error("factors have no columns: at least one ground-truth factor is needed")]
    NoFactors,
    /// A code value is NaN or infinite.
    #[error("code value at row {row}, column {column} is not finite ({value})")]
    NonFiniteCode {
        /// Row (point) of the offending value.
        row: usize,
        /// Column (code dimension) of the offending value.
        column: usize,
        /// The value itself.
        value: f64,
    },
    /// A factor takes one value only in a sample, so no score that conditions on it is defined.
    #[error(
        "factor {factor} takes the single value {value} in the {sample} sample of `{metric}`; every factor needs at least two values"
    )]
    ConstantFactor {
        /// Metric that needed the factor.
        metric: &'static str,
        /// Which sample ("train" or "test").
        sample: &'static str,
        /// Factor column.
        factor: usize,
        /// The only value it takes.
        value: u32,
    },
    /// A sample has fewer points than a metric needs.
    #[error("`{metric}` needs at least {needed} points in its {sample} sample, got {got}")]
    TooFewRows {
        /// Metric that needed the rows.
        metric: &'static str,
        /// Which sample ("train", "test", "all").
        sample: &'static str,
        /// Minimum number of rows.
        needed: usize,
        /// Rows available.
        got: usize,
    },
    /// A configuration value is out of its domain.
    #[error("`{metric}` parameter `{parameter}` = {value} is invalid: {reason}")]
    InvalidConfig {
        /// Metric whose configuration is wrong.
        metric: &'static str,
        /// Parameter name, as in the reference's gin configs.
        parameter: &'static str,
        /// The offending value, printed.
        value: String,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// A metric name that is not part of the suite.
    #[error("unknown metric `{name}`")]
    UnknownMetric {
        /// The name that was asked for.
        name: String,
    },
    /// The representation returned an array of the wrong shape.
    #[error(
        "the representation returned a {got_rows}x{got_columns} code matrix for {rows} factor rows; expected {rows}x{columns}"
    )]
    EncodeShape {
        /// Factor rows passed to `encode`.
        rows: usize,
        /// The representation's declared dimension.
        columns: usize,
        /// Rows returned.
        got_rows: usize,
        /// Columns returned.
        got_columns: usize,
    },
    /// The representation could not encode (e.g. a model or dataset failure in the runtime).
    #[error("the representation failed to encode a batch")]
    Encode(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An interventional metric was asked for on arrays that are not a complete factor grid.
    #[error(
        "`{metric}` intervenes on single factors, so it needs codes for the complete factor grid (pass the factor sizes)"
    )]
    GridRequired {
        /// The interventional metric.
        metric: &'static str,
    },
    /// The arrays do not hold every combination of the factor sizes they were declared with.
    #[error(
        "the factor sizes {sizes:?} describe {cells} combinations, but the rows hold {present} of them (none for {missing:?}), so they are not a complete grid"
    )]
    GridIncomplete {
        /// Declared factor sizes.
        sizes: Vec<u32>,
        /// Product of the sizes.
        cells: u64,
        /// Distinct combinations among the rows.
        present: u64,
        /// The first combination (row-major) without a row.
        missing: Vec<u32>,
    },
    /// The factor space's number of factors differs from the factor rows given.
    #[error("factor row {row} has {got} values, but the factor space has {expected} factors")]
    FactorArity {
        /// Row index.
        row: usize,
        /// Factors in the space.
        expected: usize,
        /// Values in the row.
        got: usize,
    },
    /// A factor value lies outside its size in the factor space.
    #[error("factor {factor} of row {row} is {value}, outside 0..{size}")]
    FactorOutOfRange {
        /// Row index.
        row: usize,
        /// Factor column.
        factor: usize,
        /// The value.
        value: u32,
        /// The factor's size.
        size: u32,
    },
    /// A classifier could not be fitted.
    #[error("`{metric}`: the classifier for factor {factor} could not be fitted")]
    Learn {
        /// Metric fitting the classifier.
        metric: &'static str,
        /// Factor the classifier predicts (or the point label set for BetaVAE: factor index 0).
        factor: usize,
        /// The classifier's own error.
        #[source]
        source: LearnError,
    },
}
