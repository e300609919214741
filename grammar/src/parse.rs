//! Text → [`ast::File`]. The only module that reads pest's parse tree.
//!
//! Syntax errors stop parsing (one error per file): a [`ParseError`] carries the byte span and the
//! human names of what was expected, never pest rule names. This module must not resolve names or
//! look at types.

// pest's `Rule` enum is generated from the grammar: a match on it names the rules this position can
// hold, and the catch-all arm is a grammar invariant, not a forgotten variant.
#![allow(clippy::wildcard_enum_match_arm)]

use pest::Parser;
use pest::iterators::Pair;

use crate::ast::{
    Arg, BinOp, Def, Entry, Experiment, Expr, ExprKind, File, Ident, Item, Param, Span, Sweep,
    SweepKind, TypeExpr, TypeExprKind, Use, UseTarget,
};

#[derive(pest_derive::Parser)]
#[grammar = "disc.pest"]
struct DisParser;

/// A syntax error: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    /// Where the error is (an empty span at the position for "expected ..." errors).
    pub span: Span,
    /// What went wrong.
    pub kind: ParseErrorKind,
}

/// The kinds of syntax error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The parser could not continue; `expected` holds human names such as "a name" or "`=`".
    #[error("expected {}, found {found}", join_expected(.expected))]
    Unexpected {
        /// Human names of the acceptable tokens, sorted and deduplicated.
        expected: Vec<&'static str>,
        /// A description of what is there, e.g. "`)`" or "end of file".
        found: String,
    },
    /// Brackets nested, or operators chained, deeper than [`MAX_DEPTH`]; refused before parsing so
    /// that no input can exhaust the stack.
    #[error("expression nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// An integer literal that does not fit in 64 bits.
    #[error("number `{text}` is too large")]
    NumberTooLarge {
        /// The literal as written.
        text: String,
    },
}

/// The deepest bracket nesting, and the longest operator chain, the parser accepts.
pub const MAX_DEPTH: usize = 128;

/// Finds the first bracket that opens level `MAX_DEPTH + 1` (outside strings and comments).
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // Skip to the closing quote (strings do not span lines).
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b'"' || c == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while let Some(&c) = bytes.get(i) {
                    if c == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn join_expected(expected: &[&'static str]) -> String {
    match expected {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Human name of a grammar rule, for "expected ..." messages. `None` hides the rule.
fn human_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::item | Rule::use_item | Rule::def_item | Rule::experiment => {
            "`use`, `def` or `experiment`"
        }
        Rule::kw_use => "`use`",
        Rule::kw_def => "`def`",
        Rule::kw_experiment => "`experiment`",
        Rule::kw_in => "`in`",
        Rule::kw_graph => "`graph`",
        Rule::kw_sweep => "`sweep`",
        Rule::kw_zip => "`zip`",
        Rule::ident | Rule::path | Rule::use_path => "a name",
        Rule::use_group => "`{`",
        Rule::params | Rule::call_args => "`(`",
        Rule::param => "a parameter",
        Rule::type_expr | Rule::list_type => "a type",
        Rule::field | Rule::entry => "a field (`name = value`)",
        Rule::graph_block => "`graph`",
        Rule::sweep_block => "`sweep`",
        Rule::edge_chain => "an edge (`a -> b`)",
        Rule::sweep_sum | Rule::sweep_prod | Rule::sweep_atom | Rule::sweep_zip | Rule::axis => {
            "a sweep axis (`name in values`)"
        }
        Rule::axis_values => "axis values (a list or a range)",
        Rule::expr | Rule::sum | Rule::product | Rule::unary | Rule::postfix | Rule::primary => {
            "an expression"
        }
        Rule::range_op => "`..`",
        Rule::add_op => "`+` or `-`",
        Rule::mul_op => "`*` or `/`",
        Rule::neg => "`-`",
        Rule::arg => "an argument",
        Rule::member => "`.`",
        Rule::list => "a list",
        Rule::record | Rule::record_entry => "a record entry (`name: value`)",
        Rule::paren | Rule::trailing_comma => "`(`",
        Rule::number => "a number",
        Rule::string => "a string",
        Rule::boolean => "`true` or `false`",
        Rule::file
        | Rule::WHITESPACE
        | Rule::COMMENT
        | Rule::separator
        | Rule::ident_char
        | Rule::keyword => return None,
    })
}

/// Describes the text at `pos` for "found ..." messages.
fn describe_found(text: &str, pos: usize) -> (String, Span) {
    let rest = text.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_string(), Span::new(pos, pos));
    };
    let len = if first.is_ascii_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    let token = rest.get(..len).unwrap_or("");
    let found = match first {
        '\n' | '\r' => "end of line".to_string(),
        _ => format!("`{token}`"),
    };
    (found, Span::new(pos, pos + len))
}

fn convert_error(text: &str, err: pest::error::Error<Rule>) -> ParseError {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    let mut expected: Vec<&'static str> = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| human_name(*r)).collect()
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let (found, span) = describe_found(text, pos);
    ParseError {
        span,
        kind: ParseErrorKind::Unexpected { expected, found },
    }
}

/// Parses a whole `.dis` file.
pub fn parse_file(text: &str) -> Result<File, ParseError> {
    if let Some(pos) = too_deep(text) {
        return Err(ParseError {
            span: Span::new(pos, pos + 1),
            kind: ParseErrorKind::TooDeep,
        });
    }
    let mut pairs = DisParser::parse(Rule::file, text).map_err(|e| convert_error(text, e))?;
    let file = pairs.next().expect("grammar: `file` yields one pair");
    let mut items = Vec::new();
    for pair in file.into_inner() {
        match pair.as_rule() {
            Rule::use_item => items.push(Item::Use(use_item(pair))),
            Rule::def_item => items.push(Item::Def(def_item(pair)?)),
            Rule::experiment => items.push(Item::Experiment(experiment(pair)?)),
            Rule::EOI => {}
            other => unreachable!("grammar: unexpected item rule {other:?}"),
        }
    }
    Ok(File { items })
}

/// Parses a single expression (used by tests and tools).
pub fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    if let Some(pos) = too_deep(text) {
        return Err(ParseError {
            span: Span::new(pos, pos + 1),
            kind: ParseErrorKind::TooDeep,
        });
    }
    let mut pairs = DisParser::parse(Rule::expr, text).map_err(|e| convert_error(text, e))?;
    let pair = pairs.next().expect("grammar: `expr` yields one pair");
    if pair.as_span().end() != text.trim_end().len() {
        let (found, span) = describe_found(text, pair.as_span().end());
        return Err(ParseError {
            span,
            kind: ParseErrorKind::Unexpected {
                expected: vec!["end of file"],
                found,
            },
        });
    }
    expr(pair)
}

/// The pair's span without trailing whitespace (pest may include the whitespace it skipped while
/// looking for an optional continuation).
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.start() + pair.as_str().trim_end().len())
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    debug_assert_eq!(pair.as_rule(), Rule::ident);
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

fn string_value(pair: &Pair<'_, Rule>) -> String {
    let s = pair.as_str();
    s.get(1..s.len().saturating_sub(1))
        .unwrap_or("")
        .to_string()
}

fn use_item(pair: Pair<'_, Rule>) -> Use {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _kw = inner.next();
    let target = inner.next().expect("grammar: use has a target");
    let target = match target.as_rule() {
        Rule::string => UseTarget::File {
            path: string_value(&target),
            path_span: span_of(&target),
        },
        Rule::use_path => {
            let mut module = Vec::new();
            let mut names = Vec::new();
            for p in target.into_inner() {
                match p.as_rule() {
                    Rule::ident => module.push(ident(p)),
                    Rule::use_group => names.extend(p.into_inner().map(ident)),
                    other => unreachable!("grammar: unexpected use rule {other:?}"),
                }
            }
            // `use a.b.c` imports `c` from `a.b`; with a group, every path segment is the module.
            if names.is_empty()
                && let Some(last) = module.pop()
            {
                names.push(last);
            }
            UseTarget::Module { module, names }
        }
        other => unreachable!("grammar: unexpected use target {other:?}"),
    };
    Use { target, span }
}

fn def_item(pair: Pair<'_, Rule>) -> Result<Def, ParseError> {
    let span = span_of(&pair);
    let mut name = None;
    let mut params = None;
    let mut ty = None;
    let mut body = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::kw_def => {}
            Rule::ident => name = Some(ident(p)),
            Rule::params => {
                let mut list = Vec::new();
                for param in p.into_inner() {
                    let mut inner = param.into_inner();
                    let pname = ident(inner.next().expect("grammar: param name"));
                    let pty = type_expr(inner.next().expect("grammar: param type"));
                    let default = inner.next().map(expr).transpose()?;
                    list.push(Param {
                        name: pname,
                        ty: pty,
                        default,
                    });
                }
                params = Some(list);
            }
            Rule::type_expr => ty = Some(type_expr(p)),
            Rule::expr => body = Some(expr(p)?),
            other => unreachable!("grammar: unexpected def part {other:?}"),
        }
    }
    Ok(Def {
        name: name.expect("grammar: def has a name"),
        params,
        ty,
        body: body.expect("grammar: def has a body"),
        span,
    })
}

fn type_expr(pair: Pair<'_, Rule>) -> TypeExpr {
    let span = span_of(&pair);
    let inner = pair
        .into_inner()
        .next()
        .expect("grammar: type_expr has one child");
    let kind = match inner.as_rule() {
        Rule::ident => TypeExprKind::Named(inner.as_str().to_string()),
        Rule::list_type => {
            let elem = inner
                .into_inner()
                .next()
                .expect("grammar: list type has an element");
            TypeExprKind::List(Box::new(type_expr(elem)))
        }
        other => unreachable!("grammar: unexpected type {other:?}"),
    };
    TypeExpr { kind, span }
}

fn experiment(pair: Pair<'_, Rule>) -> Result<Experiment, ParseError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _kw = inner.next();
    let name = ident(inner.next().expect("grammar: experiment has a name"));
    let mut entries = Vec::new();
    for p in inner {
        let entry_span = span_of(&p);
        match p.as_rule() {
            Rule::field => {
                let mut f = p.into_inner();
                let fname = ident(f.next().expect("grammar: field name"));
                let value = expr(f.next().expect("grammar: field value"))?;
                entries.push(Entry::Field { name: fname, value });
            }
            Rule::graph_block => {
                let mut edges = Vec::new();
                for chain in p.into_inner().filter(|c| c.as_rule() == Rule::edge_chain) {
                    let nodes: Vec<Ident> = chain.into_inner().map(ident).collect();
                    for pair in nodes.windows(2) {
                        if let [a, b] = pair {
                            edges.push((a.clone(), b.clone()));
                        }
                    }
                }
                entries.push(Entry::Graph {
                    edges,
                    span: entry_span,
                });
            }
            Rule::sweep_block => {
                let body = p
                    .into_inner()
                    .find(|c| c.as_rule() == Rule::sweep_sum)
                    .expect("grammar: sweep block has a body");
                entries.push(Entry::Sweep {
                    sweep: sweep(body)?,
                    span: entry_span,
                });
            }
            other => unreachable!("grammar: unexpected entry {other:?}"),
        }
    }
    Ok(Experiment {
        name,
        entries,
        span,
    })
}

fn sweep(pair: Pair<'_, Rule>) -> Result<Sweep, ParseError> {
    let span = span_of(&pair);
    let rule = pair.as_rule();
    match rule {
        Rule::sweep_sum | Rule::sweep_prod => {
            let mut parts = pair
                .into_inner()
                .map(sweep)
                .collect::<Result<Vec<_>, _>>()?;
            if parts.len() == 1 {
                return Ok(parts.remove(0));
            }
            let kind = if rule == Rule::sweep_sum {
                SweepKind::Concat(parts)
            } else {
                SweepKind::Product(parts)
            };
            Ok(Sweep { kind, span })
        }
        Rule::sweep_zip => {
            let parts = pair
                .into_inner()
                .filter(|p| p.as_rule() == Rule::axis)
                .map(sweep)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Sweep {
                kind: SweepKind::Zip(parts),
                span,
            })
        }
        Rule::axis => {
            let mut inner = pair.into_inner();
            let path = inner
                .next()
                .expect("grammar: axis path")
                .into_inner()
                .map(ident)
                .collect();
            let _kw = inner.next();
            let values = inner.next().expect("grammar: axis values");
            let vspan = span_of(&values);
            let mut parts = values.into_inner();
            let first = unary(parts.next().expect("grammar: axis value"))?;
            let values = match parts.next() {
                Some(_range_op) => {
                    let end = unary(parts.next().expect("grammar: range end"))?;
                    Expr {
                        kind: ExprKind::Range(Box::new(first), Box::new(end)),
                        span: vspan,
                    }
                }
                None => first,
            };
            Ok(Sweep {
                kind: SweepKind::Axis { path, values },
                span,
            })
        }
        other => unreachable!("grammar: unexpected sweep rule {other:?}"),
    }
}

fn expr(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let first = sum(inner.next().expect("grammar: expr has a sum"))?;
    match inner.next() {
        Some(_range_op) => {
            let end = sum(inner.next().expect("grammar: range end"))?;
            Ok(Expr {
                kind: ExprKind::Range(Box::new(first), Box::new(end)),
                span,
            })
        }
        None => Ok(first),
    }
}

/// Left-associative fold of `operand (op operand)*` for `sum` and `product`.
fn binary_chain(
    pair: Pair<'_, Rule>,
    operand: fn(Pair<'_, Rule>) -> Result<Expr, ParseError>,
) -> Result<Expr, ParseError> {
    let mut inner = pair.into_inner();
    let mut acc = operand(inner.next().expect("grammar: chain has an operand"))?;
    let mut length = 1usize;
    while let Some(op) = inner.next() {
        // A chain `a + b + c ...` becomes a left-deep tree; bound its depth like bracket nesting.
        length += 1;
        if length > MAX_DEPTH {
            let span = span_of(&op);
            return Err(ParseError {
                span,
                kind: ParseErrorKind::TooDeep,
            });
        }
        let op = match op.as_str() {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            _ => BinOp::Div,
        };
        let rhs = operand(inner.next().expect("grammar: operator has a right operand"))?;
        let span = acc.span.to(rhs.span);
        acc = Expr {
            kind: ExprKind::Binary {
                op,
                lhs: Box::new(acc),
                rhs: Box::new(rhs),
            },
            span,
        };
    }
    Ok(acc)
}

fn sum(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    binary_chain(pair, product)
}

fn product(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    binary_chain(pair, unary)
}

fn unary(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    let mut negs = Vec::new();
    let mut operand = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::neg => negs.push(span_of(&p)),
            Rule::postfix => operand = Some(postfix(p)?),
            other => unreachable!("grammar: unexpected unary part {other:?}"),
        }
    }
    let mut e = operand.expect("grammar: unary has an operand");
    if negs.len() > MAX_DEPTH {
        return Err(ParseError {
            span: e.span,
            kind: ParseErrorKind::TooDeep,
        });
    }
    for neg_span in negs.into_iter().rev() {
        let span = neg_span.to(e.span);
        e = match e.kind {
            // Fold `-literal` so that `-1` is a literal, not an operation on one.
            ExprKind::Int(v) => Expr {
                kind: ExprKind::Int(-v),
                span,
            },
            ExprKind::Float(v) => Expr {
                kind: ExprKind::Float(-v),
                span,
            },
            other => Expr {
                kind: ExprKind::Neg(Box::new(Expr {
                    kind: other,
                    span: e.span,
                })),
                span,
            },
        };
    }
    Ok(e)
}

fn postfix(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    let mut inner = pair.into_inner();
    let mut e = primary(inner.next().expect("grammar: postfix has a primary"))?;
    for (count, p) in inner.enumerate() {
        if count >= MAX_DEPTH {
            return Err(ParseError {
                span: span_of(&p),
                kind: ParseErrorKind::TooDeep,
            });
        }
        let span = e.span.to(span_of(&p));
        match p.as_rule() {
            Rule::call_args => {
                let mut args = Vec::new();
                for a in p.into_inner() {
                    let mut parts: Vec<Pair<'_, Rule>> = a.into_inner().collect();
                    let value = expr(parts.pop().expect("grammar: argument has a value"))?;
                    let name = parts.pop().map(ident);
                    args.push(Arg { name, value });
                }
                e = Expr {
                    kind: ExprKind::Call {
                        callee: Box::new(e),
                        args,
                    },
                    span,
                };
            }
            Rule::member => {
                let name = ident(p.into_inner().next().expect("grammar: member name"));
                e = Expr {
                    kind: ExprKind::Member(Box::new(e), name),
                    span,
                };
            }
            other => unreachable!("grammar: unexpected postfix {other:?}"),
        }
    }
    Ok(e)
}

fn primary(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::number => number(pair.as_str(), span)?,
        Rule::string => ExprKind::Str(string_value(&pair)),
        Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
        Rule::ident => ExprKind::Name(pair.as_str().to_string()),
        Rule::list => ExprKind::List(pair.into_inner().map(expr).collect::<Result<_, _>>()?),
        Rule::record => {
            let mut entries = Vec::new();
            for entry in pair.into_inner() {
                let mut inner = entry.into_inner();
                let name = ident(inner.next().expect("grammar: record entry name"));
                let value = expr(inner.next().expect("grammar: record entry value"))?;
                entries.push((name, value));
            }
            ExprKind::Record(entries)
        }
        Rule::paren => {
            let mut is_tuple = false;
            let mut items = Vec::new();
            for p in pair.into_inner() {
                match p.as_rule() {
                    Rule::trailing_comma => is_tuple = true,
                    _ => items.push(expr(p)?),
                }
            }
            if items.len() == 1 && !is_tuple {
                return Ok(Expr {
                    span,
                    ..items.remove(0)
                });
            }
            ExprKind::Tuple(items)
        }
        other => unreachable!("grammar: unexpected primary {other:?}"),
    };
    Ok(Expr { kind, span })
}

/// Decodes a number literal: `_` separators, exponent, `k` (×1000) and `M` (×1 000 000) suffixes.
/// Integers stay integers (also with a suffix); a fraction or exponent makes a float.
fn number(text: &str, span: Span) -> Result<ExprKind, ParseError> {
    let (body, scale) = match text.strip_suffix('k') {
        Some(b) => (b, 1_000i64),
        None => match text.strip_suffix('M') {
            Some(b) => (b, 1_000_000i64),
            None => (text, 1i64),
        },
    };
    let body: String = body.chars().filter(|c| *c != '_').collect();
    let too_large = || ParseError {
        span,
        kind: ParseErrorKind::NumberTooLarge {
            text: text.to_string(),
        },
    };
    if body.contains(['.', 'e', 'E']) {
        let value: f64 = body.parse().map_err(|_| too_large())?;
        let scaled = value * scale as f64;
        if !scaled.is_finite() {
            return Err(too_large());
        }
        // `1.5k` is 1500: keep it an integer when the scaled value is whole and a suffix was used.
        if scale > 1 && scaled.fract() == 0.0 && scaled.abs() < 9.0e15 {
            return Ok(ExprKind::Int(scaled as i64));
        }
        Ok(ExprKind::Float(scaled))
    } else {
        let value: i64 = body.parse().map_err(|_| too_large())?;
        value
            .checked_mul(scale)
            .map(ExprKind::Int)
            .ok_or_else(too_large)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> ExprKind {
        parse_expr(text).expect("test input parses").kind
    }

    #[test]
    fn numbers_with_suffixes_and_exponents() {
        assert_eq!(kind("300k"), ExprKind::Int(300_000));
        assert_eq!(kind("2M"), ExprKind::Int(2_000_000));
        assert_eq!(kind("1e-4"), ExprKind::Float(1e-4));
        assert_eq!(kind("1.5k"), ExprKind::Int(1500));
        assert_eq!(kind("0.5"), ExprKind::Float(0.5));
        assert_eq!(kind("-3"), ExprKind::Int(-3));
        assert_eq!(kind("100_000"), ExprKind::Int(100_000));
    }

    #[test]
    fn huge_integer_is_an_error_not_a_panic() {
        let err = parse_expr("99999999999999999999").expect_err("overflows i64");
        assert!(matches!(err.kind, ParseErrorKind::NumberTooLarge { .. }));
    }

    #[test]
    fn precedence_and_ranges() {
        let e = parse_expr("recon + beta * kl").expect("parses");
        let ExprKind::Binary {
            op: BinOp::Add,
            rhs,
            ..
        } = e.kind
        else {
            panic!("expected +, got {e:?}")
        };
        assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Mul, .. }));
        assert!(matches!(kind("0..50"), ExprKind::Range(..)));
        assert!(matches!(kind("(0.9, 0.999)"), ExprKind::Tuple(ref v) if v.len() == 2));
        assert!(matches!(kind("(1)"), ExprKind::Int(1)));
    }

    #[test]
    fn calls_members_records() {
        let e = parse_expr("adam(lr: 1e-4, betas: (0.9, 0.999))").expect("parses");
        let ExprKind::Call { args, .. } = e.kind else {
            panic!("expected a call")
        };
        assert_eq!(args.len(), 2);
        assert_eq!(
            args.first()
                .and_then(|a| a.name.as_ref())
                .map(|n| n.name.as_str()),
            Some("lr")
        );
        assert!(matches!(kind("data.channels"), ExprKind::Member(..)));
        assert!(matches!(kind("{ a: 1, b: 2 }"), ExprKind::Record(ref r) if r.len() == 2));
    }

    #[test]
    fn whole_file_with_every_item_kind() {
        let text = r#"
use std.data.dsprites_full
use std.arch.{conv_encoder, deconv_decoder}
use "common.dis"
// a comment
def preset(beta: float = 4.0, names: [string] = []): loss = recon + beta * kl
experiment e {
  beta = 4
  loss = preset(beta: beta)
  graph { z0 -> z1 -> z2; z0 -> z2 }
  sweep { (beta in [1, 2] + zip(beta in [3], seed in [1])) * seed in 0..3 }
}
"#;
        let file = parse_file(text).expect("parses");
        assert_eq!(file.items.len(), 5);
        let Some(Item::Use(Use {
            target: UseTarget::Module { module, names },
            ..
        })) = file.items.get(1)
        else {
            panic!("second item is a module import")
        };
        assert_eq!(module.len(), 2);
        assert_eq!(names.len(), 2);
        let Some(Item::Experiment(exp)) = file.items.get(4) else {
            panic!("experiment last")
        };
        let Some(Entry::Graph { edges, .. }) = exp.entries.get(2) else {
            panic!("graph entry")
        };
        assert_eq!(edges.len(), 3);
        let Some(Entry::Sweep { sweep, .. }) = exp.entries.get(3) else {
            panic!("sweep entry")
        };
        let SweepKind::Product(parts) = &sweep.kind else {
            panic!("product at the top")
        };
        assert!(matches!(
            parts.first().map(|p| &p.kind),
            Some(SweepKind::Concat(_))
        ));
    }

    #[test]
    fn syntax_error_names_expected_tokens_in_words() {
        let err = parse_file("experiment e {\n  beta = \n}\n").expect_err("missing value");
        let msg = err.to_string();
        assert!(msg.contains("an expression"), "{msg}");
        assert!(!msg.contains("Rule"), "{msg}");
        assert_eq!(err.span.start, "experiment e {\n  beta = \n".len());
    }

    #[test]
    fn deep_nesting_and_long_chains_are_errors_not_stack_overflows() {
        let deep = format!("def x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(
            parse_file(&deep).map_err(|e| e.kind),
            Err(ParseErrorKind::TooDeep)
        );
        let long = format!("def x = 1{}", " + 1".repeat(10_000));
        assert_eq!(
            parse_file(&long).map_err(|e| e.kind),
            Err(ParseErrorKind::TooDeep)
        );
        let fine = format!("def x = {}1{} // ((((", "(".repeat(100), ")".repeat(100));
        assert!(parse_file(&fine).is_ok());
    }

    #[test]
    fn keywords_are_not_names() {
        assert!(parse_file("def use = 1").is_err());
        assert!(parse_file("def user = 1").is_ok());
    }
}
