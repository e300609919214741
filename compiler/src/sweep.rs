//! Sweep expansion: a `sweep { ... }` block → an ordered list of points, each a list of
//! (axis, value) assignments; and the application of one point's assignments to experiment fields.
//!
//! Order is deterministic and row-major: in `a * b` the first axis varies slowest; `a + b` lists the
//! points of `a` before those of `b`; `zip(a, b)` pairs values by position. So a product
//! `data * config * seed` numbers jobs `data_idx·(n_config·n_seed) + config_idx·n_seed + seed`, the
//! reference's `model_num`. This module must not evaluate fields or build plan jobs.

use std::collections::BTreeMap;

use disc_grammar::ast::{Arg, Expr, ExprKind, Ident, Sweep, SweepKind};

use crate::eval::{Ctx, Env, Eval, Poisoned};
use crate::plan::SweptValue;
use crate::suggest::did_you_mean;
use crate::value::{Loc, Value};

/// Upper bound on the number of jobs one experiment may expand to.
pub(crate) const MAX_POINTS: usize = 1_000_000;

/// One axis: a parameter path and its candidate values as expressions.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    /// The path, e.g. `loss.beta`.
    pub path: Vec<Ident>,
    /// Values (expressions in the experiment's file) with their source text for job tables.
    pub values: Vec<(Expr, String)>,
    /// What the assignment is called in messages: `sweep` (a sweep axis) or `set` (a `--set`).
    pub verb: &'static str,
}

impl Axis {
    /// The path as written, e.g. `"loss.beta"`.
    pub fn path_text(&self) -> String {
        self.path
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// One job's assignments: `(axis index, value index)` in the order they apply.
pub(crate) type Point = Vec<(usize, usize)>;

/// Expands a sweep into its axes and points.
pub(crate) fn expand(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    text: &str,
    sweep: &Sweep,
) -> Eval<(Vec<Axis>, Vec<Point>)> {
    let mut axes = Vec::new();
    let points = expand_into(ctx, env, text, sweep, &mut axes)?;
    check_repeated_paths(ctx, env, &axes, &points)?;
    Ok((axes, points))
}

/// One point must not set the same parameter twice (`seed in [1] * seed in [2]`): the second
/// would silently win. Reported once per offending pair of axes (E0408).
fn check_repeated_paths(ctx: &Ctx<'_>, env: Env<'_>, axes: &[Axis], points: &[Point]) -> Eval<()> {
    let paths: Vec<String> = axes.iter().map(Axis::path_text).collect();
    let mut reported: BTreeMap<(usize, usize), ()> = BTreeMap::new();
    for point in points {
        for (i, (a, _)) in point.iter().enumerate() {
            for (b, _) in point.iter().skip(i + 1) {
                if a != b
                    && paths.get(*a) == paths.get(*b)
                    && reported.insert((*a, *b), ()).is_none()
                {
                    let span = axes
                        .get(*b)
                        .and_then(|x| Some(x.path.first()?.span.to(x.path.last()?.span)));
                    ctx.error(
                        "E0408",
                        env.loc(span.unwrap_or_default()),
                        format!(
                            "the sweep sets `{}` twice in the same job",
                            paths.get(*b).map_or("", String::as_str)
                        ),
                        "set again here",
                        Some(
                            "combine the values into one axis, or join the alternatives with `+`"
                                .to_string(),
                        ),
                    );
                }
            }
        }
    }
    if reported.is_empty() {
        Ok(())
    } else {
        Err(Poisoned)
    }
}

fn expand_into(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    text: &str,
    sweep: &Sweep,
    axes: &mut Vec<Axis>,
) -> Eval<Vec<Point>> {
    match &sweep.kind {
        SweepKind::Axis { path, values } => {
            let values = axis_values(ctx, env, text, values)?;
            if values.is_empty() {
                let path_text = path
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                return Err(ctx.error(
                    "E0404",
                    env.loc(sweep.span),
                    format!("sweep axis `{path_text}` has no values"),
                    "empty axis",
                    Some(
                        "an empty axis makes the whole sweep empty; give at least one value"
                            .to_string(),
                    ),
                ));
            }
            let index = axes.len();
            let n = values.len();
            axes.push(Axis {
                path: path.clone(),
                values,
                verb: "sweep",
            });
            Ok((0..n).map(|i| vec![(index, i)]).collect())
        }
        SweepKind::Product(parts) => {
            let mut acc: Vec<Point> = vec![Vec::new()];
            let mut poisoned = false;
            for part in parts {
                match expand_into(ctx, env, text, part, axes) {
                    Ok(points) => {
                        if acc.len().saturating_mul(points.len()) > MAX_POINTS {
                            return Err(too_many(ctx, env, sweep));
                        }
                        let mut next = Vec::with_capacity(acc.len() * points.len());
                        for p in &acc {
                            for q in &points {
                                let mut joined = p.clone();
                                joined.extend_from_slice(q);
                                next.push(joined);
                            }
                        }
                        acc = next;
                    }
                    Err(Poisoned) => poisoned = true,
                }
            }
            if poisoned { Err(Poisoned) } else { Ok(acc) }
        }
        SweepKind::Concat(parts) => {
            let mut acc = Vec::new();
            let mut poisoned = false;
            for part in parts {
                match expand_into(ctx, env, text, part, axes) {
                    Ok(points) => acc.extend(points),
                    Err(Poisoned) => poisoned = true,
                }
                if acc.len() > MAX_POINTS {
                    return Err(too_many(ctx, env, sweep));
                }
            }
            if poisoned { Err(Poisoned) } else { Ok(acc) }
        }
        SweepKind::Zip(parts) => {
            let mut columns: Vec<(Vec<Point>, Loc)> = Vec::new();
            let mut poisoned = false;
            for part in parts {
                match expand_into(ctx, env, text, part, axes) {
                    Ok(points) => columns.push((points, env.loc(part.span))),
                    Err(Poisoned) => poisoned = true,
                }
            }
            if poisoned {
                return Err(Poisoned);
            }
            let n = columns.first().map_or(0, |(c, _)| c.len());
            if let Some((c, loc)) = columns.iter().find(|(c, _)| c.len() != n) {
                return Err(ctx.error(
                    "E0405",
                    *loc,
                    format!(
                        "`zip` pairs axes of different lengths ({n} and {})",
                        c.len()
                    ),
                    format!("{} values", c.len()),
                    Some(format!("every axis of this `zip` needs {n} values")),
                ));
            }
            Ok((0..n)
                .map(|i| {
                    columns
                        .iter()
                        .flat_map(|(c, _)| c.get(i).cloned().unwrap_or_default())
                        .collect()
                })
                .collect())
        }
    }
}

fn too_many(ctx: &Ctx<'_>, env: Env<'_>, sweep: &Sweep) -> Poisoned {
    ctx.error(
        "E0202",
        env.loc(sweep.span),
        format!("the sweep expands to more than {MAX_POINTS} jobs"),
        "too many jobs",
        None,
    )
}

/// The values of one axis as expressions, with their source text.
#[allow(clippy::wildcard_enum_match_arm)] // the catch-all matches compile-time values without a literal form
fn axis_values(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    text: &str,
    values: &Expr,
) -> Eval<Vec<(Expr, String)>> {
    let source_text = |e: &Expr| text.get(e.span.range()).unwrap_or("").trim().to_string();
    match &values.kind {
        ExprKind::List(items) => Ok(items.iter().map(|e| (e.clone(), source_text(e))).collect()),
        ExprKind::Range(..) | ExprKind::Name(_) | ExprKind::Call { .. } | ExprKind::Member(..) => {
            // Constant lists (a range, or a definition returning numbers): literal values.
            let value = ctx.eval(
                Env {
                    exp: None,
                    locals: None,
                    ..env
                },
                values,
            )?;
            let Value::List(items) = value else {
                return Err(not_literal(ctx, env, values));
            };
            items
                .into_iter()
                .map(|v| {
                    let kind = match &v {
                        Value::Int(i) => ExprKind::Int(*i),
                        Value::Float(f) => ExprKind::Float(*f),
                        Value::Bool(b) => ExprKind::Bool(*b),
                        Value::Str(s) => ExprKind::Str(s.clone()),
                        // Any other value (layers, models, ...) has no literal form.
                        _ => return Err(not_literal(ctx, env, values)),
                    };
                    Ok((
                        Expr {
                            kind,
                            span: values.span,
                        },
                        crate::builtins::render(&v),
                    ))
                })
                .collect()
        }
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Tuple(_)
        | ExprKind::Record(_)
        | ExprKind::Binary { .. }
        | ExprKind::Neg(_) => Err(not_literal(ctx, env, values)),
    }
}

/// The typed value of one sweep value for the plan: literals (and negated numbers) keep their type,
/// anything else (a call such as `beta_vae()`, a name) is kept as the source text `text`.
pub(crate) fn typed_value(expr: &Expr, text: &str) -> SweptValue {
    match &expr.kind {
        ExprKind::Int(i) => SweptValue::Int(*i),
        ExprKind::Float(x) => SweptValue::Float(*x),
        ExprKind::Bool(b) => SweptValue::Bool(*b),
        ExprKind::Str(s) => SweptValue::Str(s.clone()),
        ExprKind::Neg(inner) => match &inner.kind {
            ExprKind::Int(i) => i
                .checked_neg()
                .map_or_else(|| SweptValue::Expr(text.to_string()), SweptValue::Int),
            ExprKind::Float(x) => SweptValue::Float(-x),
            _ => SweptValue::Expr(text.to_string()),
        },
        ExprKind::Name(_)
        | ExprKind::Member(..)
        | ExprKind::Call { .. }
        | ExprKind::List(_)
        | ExprKind::Tuple(_)
        | ExprKind::Record(_)
        | ExprKind::Binary { .. }
        | ExprKind::Range(..) => SweptValue::Expr(text.to_string()),
    }
}

fn not_literal(ctx: &Ctx<'_>, env: Env<'_>, values: &Expr) -> Poisoned {
    ctx.error(
        "E0407",
        env.loc(values.span),
        "sweep values must be a list `[...]` or an integer range `a..b`".to_string(),
        "not a list of values",
        None,
    )
}

/// Applies one assignment to the experiment's fields: `path = value`.
pub(crate) fn apply(
    ctx: &Ctx<'_>,
    module: usize,
    source: u32,
    fields: &mut BTreeMap<String, Expr>,
    axis: &Axis,
    value: &Expr,
) -> Eval<()> {
    let Some((root, rest)) = axis.path.split_first() else {
        return Err(Poisoned);
    };
    let Some(field) = fields.get_mut(&root.name) else {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        return Err(ctx.error(
            "E0403",
            Loc {
                source,
                span: root.span,
            },
            format!(
                "cannot {} `{}`: the experiment has no field `{}`",
                axis.verb,
                axis.path_text(),
                root.name
            ),
            "unknown parameter",
            did_you_mean(&root.name, names.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| {
                    Some(format!(
                        "add a field, e.g. `{} = ...`, and use it",
                        root.name
                    ))
                }),
        ));
    };
    if rest.is_empty() {
        *field = value.clone();
        return Ok(());
    }
    set_in(ctx, module, source, field, rest, value, axis)
}

fn set_in(
    ctx: &Ctx<'_>,
    module: usize,
    source: u32,
    expr: &mut Expr,
    path: &[Ident],
    value: &Expr,
    axis: &Axis,
) -> Eval<()> {
    let Some((head, rest)) = path.split_first() else {
        return Err(Poisoned);
    };
    let head_loc = Loc {
        source,
        span: head.span,
    };
    match &mut expr.kind {
        ExprKind::Call { callee, args } => {
            let params = ctx.callee_params(module, callee);
            // Which argument (by name, or by position) holds this parameter?
            let position = params
                .as_ref()
                .and_then(|ps| ps.iter().position(|p| p == &head.name));
            if let Some(ps) = &params
                && position.is_none()
            {
                return Err(ctx.error(
                    "E0403",
                    head_loc,
                    format!(
                        "cannot {} `{}`: there is no parameter `{}` here",
                        axis.verb,
                        axis.path_text(),
                        head.name
                    ),
                    "unknown parameter",
                    did_you_mean(&head.name, ps.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?")),
                ));
            }
            let named = args
                .iter()
                .position(|a| a.name.as_ref().is_some_and(|n| n.name == head.name));
            let positional =
                position.filter(|p| args.iter().filter(|a| a.name.is_none()).count() > *p);
            let target = named.or_else(|| {
                positional.and_then(|p| {
                    args.iter()
                        .enumerate()
                        .filter(|(_, a)| a.name.is_none())
                        .nth(p)
                        .map(|(i, _)| i)
                })
            });
            match (target, rest.is_empty()) {
                (Some(i), true) => {
                    if let Some(arg) = args.get_mut(i) {
                        arg.value = value.clone();
                    }
                    Ok(())
                }
                (Some(i), false) => match args.get_mut(i) {
                    Some(arg) => set_in(ctx, module, source, &mut arg.value, rest, value, axis),
                    None => Err(Poisoned),
                },
                (None, true) => {
                    args.push(Arg {
                        name: Some(head.clone()),
                        value: value.clone(),
                    });
                    Ok(())
                }
                (None, false) => Err(ctx.error(
                    "E0403",
                    head_loc,
                    format!(
                        "cannot {} `{}`: `{}` is not written in the field",
                        axis.verb,
                        axis.path_text(),
                        head.name
                    ),
                    "not written out",
                    Some(format!(
                        "write `{}: ...` explicitly in the field to {} inside it",
                        head.name, axis.verb
                    )),
                )),
            }
        }
        ExprKind::Record(entries) => match entries.iter_mut().find(|(k, _)| k.name == head.name) {
            Some((_, v)) if rest.is_empty() => {
                *v = value.clone();
                Ok(())
            }
            Some((_, v)) => set_in(ctx, module, source, v, rest, value, axis),
            None => Err(ctx.error(
                "E0403",
                head_loc,
                format!(
                    "cannot {} `{}`: the record has no key `{}`",
                    axis.verb,
                    axis.path_text(),
                    head.name
                ),
                "unknown key",
                None,
            )),
        },
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Name(_)
        | ExprKind::Member(..)
        | ExprKind::List(_)
        | ExprKind::Tuple(_)
        | ExprKind::Binary { .. }
        | ExprKind::Neg(_)
        | ExprKind::Range(..) => Err(ctx.error(
            "E0403",
            head_loc,
            format!(
                "cannot {} `{}`: the value before `{}` is not a call with parameters",
                axis.verb,
                axis.path_text(),
                head.name
            ),
            "no parameters to sweep here",
            Some("sweep the whole field instead, or write it as a call".to_string()),
        )),
    }
}
