//! Command-line overrides: `--set PATH=VALUE` arguments → assignments applied to every experiment of
//! the root file as if its field had been written with that value.
//!
//! Each argument becomes a source of its own (named `--set`, its text the argument), so syntax and
//! type errors in it point at the argument rather than into the file. The value is evaluated inside
//! the experiment it is applied to (it may name the experiment's fields and the file's definitions),
//! so its expression lives in the root file's evaluation environment: its spans are placed in a
//! *virtual range past the end of the root text* (`base..base + len`), and [`relocate`] moves every
//! diagnostic that lands there back onto the argument's own source once compilation is done.
//! This module must not evaluate values or build jobs.

use disc_grammar::ast::{Arg, Expr, ExprKind, Ident, Span};

use crate::Source;
use crate::diagnostic::{Diagnostic, SourceId};
use crate::eval::Sink;
use crate::sweep::Axis;

/// One parsed override, ready to apply with [`crate::sweep::apply`].
#[derive(Debug, Clone)]
pub(crate) struct Override {
    /// The path as an axis with the one value; spans are virtual (see the module docs).
    pub axis: Axis,
    /// The value expression (virtual spans).
    pub value: Expr,
}

impl Override {
    /// The value as written on the command line.
    pub fn value_text(&self) -> &str {
        self.axis
            .values
            .first()
            .map_or("", |(_, text)| text.as_str())
    }
}

/// Where each override's text sits: its source id and the start of its virtual range.
#[derive(Debug, Clone, Default)]
pub(crate) struct VirtualRanges {
    /// `(virtual start, length, source id)` per override, ascending starts.
    ranges: Vec<(usize, usize, u32)>,
}

/// Parses every override, appending one [`Source`] per argument to `sources`. Malformed
/// arguments are reported (E0130, E0131, E0132 or a syntax error) and left out.
/// `root_len` is the length of the root file's text: virtual ranges start after it.
pub(crate) fn parse(
    arguments: &[String],
    sources: &mut Vec<Source>,
    root_len: usize,
    sink: &mut Sink,
) -> (Vec<Override>, VirtualRanges) {
    let mut overrides: Vec<Override> = Vec::new();
    let mut ranges = VirtualRanges::default();
    // One byte of gap keeps a span at the very end of the root text out of the first range.
    let mut base = root_len.saturating_add(1);
    for argument in arguments {
        let id = u32::try_from(sources.len()).unwrap_or(u32::MAX);
        sources.push(Source {
            name: "--set".to_string(),
            text: argument.clone(),
        });
        ranges.ranges.push((base, argument.len(), id));
        if let Some(parsed) = parse_one(argument, id, base, sink) {
            let path = parsed.axis.path_text();
            if let Some(first) = overrides.iter().find(|o| o.axis.path_text() == path) {
                let first_text = first.value_text().to_string();
                sink.error(
                    "E0132",
                    crate::value::Loc {
                        source: id,
                        span: Span::new(0, argument.len()),
                    },
                    format!("`{path}` is set twice on the command line"),
                    "set again here",
                    Some(format!(
                        "keep one `--set {path}=...` (the first gives `{first_text}`)"
                    )),
                );
            } else {
                overrides.push(parsed);
            }
        }
        base = base.saturating_add(argument.len()).saturating_add(1);
    }
    (overrides, ranges)
}

/// Parses `PATH=VALUE`; the returned spans are shifted by `base`.
fn parse_one(argument: &str, id: u32, base: usize, sink: &mut Sink) -> Option<Override> {
    let whole = crate::value::Loc {
        source: id,
        span: Span::new(0, argument.len()),
    };
    let Some((path_text, value_text)) = argument.split_once('=') else {
        sink.error(
            "E0130",
            whole,
            format!("the override `{argument}` has no `=`"),
            "expected `PATH=VALUE`",
            Some("write e.g. `--set train.steps=2000` or `--set loss.beta=8`".to_string()),
        );
        return None;
    };
    let mut path: Vec<Ident> = Vec::new();
    let mut offset = 0;
    for segment in path_text.split('.') {
        let start = offset;
        offset += segment.len() + 1;
        let name = segment.trim();
        let is_ident = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_ident {
            sink.error(
                "E0131",
                crate::value::Loc {
                    source: id,
                    span: Span::new(0, path_text.len()),
                },
                format!("`{}` is not a parameter path", path_text.trim()),
                if name.is_empty() {
                    "empty name in the path".to_string()
                } else {
                    format!("`{name}` is not a name")
                },
                Some("a path is field names joined by `.`, e.g. `train.steps`".to_string()),
            );
            return None;
        }
        let lead = segment.len() - segment.trim_start().len();
        path.push(Ident {
            name: name.to_string(),
            span: Span::new(base + start + lead, base + start + lead + name.len()),
        });
    }
    let value_start = path_text.len() + 1;
    let lead = value_text.len() - value_text.trim_start().len();
    let trimmed = value_text.trim();
    let mut value = match disc_grammar::parse_expr(trimmed) {
        Ok(value) => value,
        Err(mut err) => {
            let shift = value_start + lead;
            err.span = Span::new(err.span.start + shift, err.span.end + shift);
            // An override is one value: no sweep block.
            sink.push(crate::resolve::syntax_diagnostic(id, "", &err));
            return None;
        }
    };
    shift(&mut value, base + value_start + lead);
    Some(Override {
        axis: Axis {
            path,
            values: vec![(value.clone(), trimmed.to_string())],
            // The whole argument, in the root file's virtual range (the root file is source 0).
            loc: crate::value::Loc {
                source: 0,
                span: Span::new(base, base + argument.len()),
            },
            verb: "set",
        },
        value,
    })
}

/// Adds `by` to every span of `expr`.
fn shift(expr: &mut Expr, by: usize) {
    let move_span = |span: &mut Span| *span = Span::new(span.start + by, span.end + by);
    move_span(&mut expr.span);
    match &mut expr.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Name(_) => {}
        ExprKind::Member(inner, ident) => {
            shift(inner, by);
            move_span(&mut ident.span);
        }
        ExprKind::Call { callee, args } => {
            shift(callee, by);
            for Arg { name, value } in args {
                if let Some(name) = name {
                    move_span(&mut name.span);
                }
                shift(value, by);
            }
        }
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            for item in items {
                shift(item, by);
            }
        }
        ExprKind::Record(entries) => {
            for (key, value) in entries {
                move_span(&mut key.span);
                shift(value, by);
            }
        }
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Range(lhs, rhs) => {
            shift(lhs, by);
            shift(rhs, by);
        }
        ExprKind::Neg(inner) => shift(inner, by),
    }
}

/// Moves a diagnostic whose span lies in an override's virtual range onto that override's source.
pub(crate) fn relocate(diagnostic: &mut Diagnostic, ranges: &VirtualRanges) {
    if diagnostic.source != SourceId(0) {
        return;
    }
    let start = diagnostic.span.start;
    if let Some((base, len, id)) = ranges
        .ranges
        .iter()
        .find(|(base, len, _)| start >= *base && start <= base + len)
    {
        let end = diagnostic.span.end.saturating_sub(*base).min(*len);
        diagnostic.source = SourceId(*id);
        diagnostic.span = (start - base)..end.max(start - base);
    }
}
