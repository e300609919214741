//! Diagnostic data (placeholder written by FE-CORE so the crate compiles; FE-INFRA owns this file
//! and replaces it with the real type and its miette rendering).

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Stops the plan.
    Error,
    /// Reported only.
    Warning,
}

/// Which source file (index into `Compiled::sources`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// One coded, located message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Registered code.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Lowercase message.
    pub message: String,
    /// File.
    pub source: SourceId,
    /// Byte range of the label.
    pub span: std::ops::Range<usize>,
    /// Label text.
    pub label: String,
    /// At most one help line.
    pub help: Option<String>,
}
