//! Diagnostics: the data every check produces, and its presentation.
//!
//! The data ([`Diagnostic`]) is plain: a registered code, a severity, a message, one located label
//! and at most one help line. Presentation is kept apart from it (as in Gleam): [`render`] turns
//! diagnostics plus the compilation's [`Source`]s into text through miette's graphical handler, and
//! [`JsonDiagnostic`] is the machine-readable form behind `disc check --format json`.
//!
//! This module must not do IO, look at the terminal or read the environment: whether to use colour
//! and how wide to wrap are the caller's decision ([`RenderOptions`]), so tests get byte-stable
//! output and the CLI stays the only place that knows about terminals.

use std::fmt;
use std::ops::Range;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::Source;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file is wrong: no plan is produced and `disc check` exits with 1.
    Error,
    /// Suspicious but valid (e.g. an unused definition): reported, the plan is still produced.
    Warning,
}

impl Severity {
    /// The lowercase word used in summaries and JSON: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which source file a diagnostic points into: an index into `Compiled::sources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u32);

/// One coded, located message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code, e.g. `E0203`; registered in [`crate::codes::CODES`].
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Lowercase, no final period, no line breaks, user names in backticks.
    pub message: String,
    /// The file the label points into.
    pub source: SourceId,
    /// Byte range of the primary label in that file's text.
    pub span: Range<usize>,
    /// The text shown at the label.
    pub label: String,
    /// At most one help line (e.g. a did-you-mean).
    pub help: Option<String>,
}

impl Diagnostic {
    /// Whether this diagnostic is an error (stops the plan).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Counts the errors in `diagnostics`.
pub fn error_count(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

// ---------------------------------------------------------------------------------------------
// Locations
// ---------------------------------------------------------------------------------------------

/// A 1-based line and column. The column counts bytes, as the span does and as the human
/// rendering's `[file:line:column]` header does, so the two outputs always agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineColumn {
    /// Line number from 1.
    pub line: usize,
    /// Column from 1, in bytes from the start of the line.
    pub column: usize,
}

/// The line and column of byte `offset` in `text`. Offsets past the end (or inside a multi-byte
/// character) are clamped to the nearest valid position before them, so this never panics.
pub fn line_column(text: &str, offset: usize) -> LineColumn {
    let offset = floor_char_boundary(text, offset);
    let before = text.get(..offset).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - line_start + 1;
    LineColumn { line, column }
}

/// The largest char boundary `<= offset` (and `<= text.len()`).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `span` clamped into `text` on char boundaries, with `start <= end`. Diagnostics should always
/// carry valid spans; clamping keeps a compiler bug from turning into a panic while rendering.
fn clamp_span(text: &str, span: &Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(text, span.start);
    let end = floor_char_boundary(text, span.end.max(start));
    start..end
}

// ---------------------------------------------------------------------------------------------
// miette conversion and rendering
// ---------------------------------------------------------------------------------------------

/// A diagnostic joined with its source text, ready for miette.
///
/// Implements [`miette::Diagnostic`]: the code, the severity, one label on the span, the help, and
/// the file as a [`NamedSource`]. A diagnostic whose `SourceId` is not among the sources (a
/// compiler bug) is rendered without a snippet, under the name `<unknown source>`.
#[derive(Debug)]
pub struct Report {
    code: &'static str,
    severity: Severity,
    message: String,
    label: String,
    help: Option<String>,
    span: SourceSpan,
    source_code: NamedSource<String>,
}

impl Report {
    /// Joins `diagnostic` with the source it points into.
    pub fn new(diagnostic: &Diagnostic, sources: &[Source]) -> Report {
        let (name, text) = match sources.get(diagnostic.source.0 as usize) {
            Some(s) => (s.name.clone(), s.text.clone()),
            None => ("<unknown source>".to_string(), String::new()),
        };
        let span = clamp_span(&text, &diagnostic.span);
        Report {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message.clone(),
            label: diagnostic.label.clone(),
            help: diagnostic.help.clone(),
            span: SourceSpan::from(span.start..span.end),
            source_code: NamedSource::new(name, text),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_primary_with_span(Some(self.label.clone()), self.span);
        Some(Box::new(std::iter::once(label)))
    }
}

/// How [`render`] draws diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours (for terminals) or none (for files, pipes and snapshots).
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
    /// Add a `run `disc explain CODE`` footer under each diagnostic.
    pub explain_hint: bool,
}

impl RenderOptions {
    /// The deterministic form used by tests and snapshots: no colour, width 80, with the hint.
    pub const PLAIN: RenderOptions = RenderOptions {
        color: false,
        width: 80,
        explain_hint: true,
    };
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions::PLAIN
    }
}

/// Renders one diagnostic with its source snippet through miette's graphical handler; the text
/// ends with a newline.
pub fn render_one(diagnostic: &Diagnostic, sources: &[Source], options: RenderOptions) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
        .with_urls(false);
    if options.explain_hint {
        handler = handler.with_footer(format!("for more, run `disc explain {}`", diagnostic.code));
    }
    let report = Report::new(diagnostic, sources);
    let mut out = String::new();
    // Writing into a String cannot fail; a formatter error here could only come from a miette bug,
    // in which case the plain one-line form below still tells the user what is wrong.
    if handler.render_report(&mut out, &report).is_err() {
        out = format!(
            "{}[{}]: {}\n",
            diagnostic.severity, diagnostic.code, diagnostic.message
        );
    }
    // miette ends some reports (e.g. after a footer) without a newline; end every one with one.
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Renders every diagnostic, in order, separated by blank lines; the text ends with a newline
/// unless there are no diagnostics.
pub fn render(diagnostics: &[Diagnostic], sources: &[Source], options: RenderOptions) -> String {
    let mut out = String::new();
    for d in diagnostics {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&render_one(d, sources, options));
    }
    out
}

/// A one-line summary such as `2 errors, 1 warning` (`no problems` when empty).
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = error_count(diagnostics);
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => "no problems".to_string(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON form
// ---------------------------------------------------------------------------------------------

/// The machine-readable form of a diagnostic (`disc check --format json`), one object per diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic {
    /// The stable code, e.g. `E0203`.
    pub code: String,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// The source name as shown to the user (e.g. `experiments/a.dis`, `<stdlib/arch.dis>`).
    pub file: String,
    /// Line of the span start, from 1.
    pub line: usize,
    /// Column of the span start, from 1, in bytes (the human output's header counts the same way).
    pub column: usize,
    /// Byte range `[start, end)` of the label in the file.
    pub span: [usize; 2],
    /// The label text.
    pub label: String,
    /// The help line, if any.
    pub help: Option<String>,
}

impl JsonDiagnostic {
    /// Builds the JSON form of `diagnostic`, resolving its file name and line/column.
    pub fn new(diagnostic: &Diagnostic, sources: &[Source]) -> JsonDiagnostic {
        let (file, text) = match sources.get(diagnostic.source.0 as usize) {
            Some(s) => (s.name.clone(), s.text.as_str()),
            None => ("<unknown source>".to_string(), ""),
        };
        let span = clamp_span(text, &diagnostic.span);
        let at = line_column(text, span.start);
        JsonDiagnostic {
            code: diagnostic.code.to_string(),
            severity: diagnostic.severity,
            message: diagnostic.message.clone(),
            file,
            line: at.line,
            column: at.column,
            span: [span.start, span.end],
            label: diagnostic.label.clone(),
            help: diagnostic.help.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, text: &str) -> Source {
        Source {
            name: name.to_string(),
            text: text.to_string(),
        }
    }

    fn diag(span: Range<usize>, severity: Severity) -> Diagnostic {
        Diagnostic {
            code: "E0101",
            severity,
            message: "unknown name `betta`".to_string(),
            source: SourceId(0),
            span,
            label: "not defined".to_string(),
            help: Some("did you mean `beta`?".to_string()),
        }
    }

    #[test]
    fn line_column_counts_lines_and_characters() {
        let text = "ab\nçd\nef";
        assert_eq!(line_column(text, 0), LineColumn { line: 1, column: 1 });
        assert_eq!(line_column(text, 3), LineColumn { line: 2, column: 1 });
        // `ç` is two bytes: byte 5 is the `d`, the second character of line 2, at byte column 3.
        assert_eq!(line_column(text, 5), LineColumn { line: 2, column: 3 });
        // Inside `ç` clamps back to its start; past the end clamps to the end.
        assert_eq!(line_column(text, 4), LineColumn { line: 2, column: 1 });
        assert_eq!(line_column(text, 999), LineColumn { line: 3, column: 3 });
    }

    #[test]
    fn plain_rendering_shows_code_message_snippet_label_help_and_hint() {
        let sources = [source("a.dis", "let beta = 4\nloss = betta * kl\n")];
        let text = render(
            &[diag(20..25, Severity::Error)],
            &sources,
            RenderOptions::PLAIN,
        );
        for needle in [
            "E0101",
            "unknown name `betta`",
            "[a.dis:2:8]",
            "loss = betta * kl",
            "not defined",
            "help: did you mean `beta`?",
            "disc explain E0101",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert!(
            !text.contains('\u{1b}'),
            "plain rendering must have no ANSI escapes:\n{text}"
        );
        // Two diagnostics: each ends with a newline, separated by one blank line.
        let two = render(
            &[diag(20..25, Severity::Error), diag(4..8, Severity::Warning)],
            &sources,
            RenderOptions::PLAIN,
        );
        assert!(two.starts_with(&text) && two.ends_with('\n'));
        assert_eq!(two.get(text.len()..text.len() + 1), Some("\n"));
    }

    #[test]
    fn colour_rendering_uses_ansi_escapes() {
        let sources = [source("a.dis", "loss = betta\n")];
        let options = RenderOptions {
            color: true,
            ..RenderOptions::PLAIN
        };
        let text = render_one(&diag(7..12, Severity::Warning), &sources, options);
        assert!(text.contains('\u{1b}'));
    }

    #[test]
    fn bad_spans_and_sources_do_not_panic() {
        let sources = [source("a.dis", "é")];
        let mut d = diag(1..99, Severity::Error);
        let _ = render_one(&d, &sources, RenderOptions::PLAIN);
        d.source = SourceId(7);
        let text = render_one(&d, &sources, RenderOptions::PLAIN);
        assert!(text.contains("unknown name `betta`"));
        assert_eq!(JsonDiagnostic::new(&d, &sources).file, "<unknown source>");
    }

    #[test]
    fn json_form_has_file_line_column_and_span() {
        let sources = [source("exp/a.dis", "x\n  betta\n")];
        let j = JsonDiagnostic::new(&diag(4..9, Severity::Warning), &sources);
        assert_eq!(
            (j.file.as_str(), j.line, j.column, j.span),
            ("exp/a.dis", 2, 3, [4, 9])
        );
        assert_eq!(j.severity, Severity::Warning);
    }

    #[test]
    fn summary_counts_errors_and_warnings() {
        let e = diag(0..0, Severity::Error);
        let w = diag(0..0, Severity::Warning);
        assert_eq!(summary(&[]), "no problems");
        assert_eq!(summary(std::slice::from_ref(&e)), "1 error");
        assert_eq!(summary(&[w.clone(), w.clone()]), "2 warnings");
        assert_eq!(summary(&[e.clone(), e, w]), "2 errors, 1 warning");
    }
}
