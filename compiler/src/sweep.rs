//! Sweep expansion: a `sweep { ... }` block → an ordered list of points, each a list of
//! (axis, value) assignments; and the application of one point's assignments to experiment fields.
//!
//! Order is deterministic and row-major: in `a * b` the first axis varies slowest; `a + b` lists the
//! points of `a` before those of `b`; `zip(a, b)` pairs values by position. So a product
//! `data * config * seed` numbers jobs `data_idx·(n_config·n_seed) + config_idx·n_seed + seed`, the
//! reference's `model_num`. This module must not evaluate fields or build plan jobs.
//!
//! Expansion runs in three steps so that no input can exhaust memory: the axes' values are read
//! (a range is measured before it is listed), the number of points is counted from the block's
//! shape alone, and only a sweep within [`MAX_JOBS`] is listed point by point.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use disc_grammar::ast::{Arg, Expr, ExprKind, Ident, Sweep, SweepKind};

use crate::eval::{Ctx, Env, Eval, Poisoned};
use crate::plan::SweptValue;
use crate::suggest::did_you_mean;
use crate::value::{Loc, Value};

/// Upper bound on the number of jobs one plan may hold (all experiments together). A fixed number,
/// not the machine's free memory, so that whether a file checks does not depend on where it runs.
pub(crate) const MAX_JOBS: u64 = 1_000_000;

/// One axis: a parameter path and its candidate values as expressions.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    /// The path, e.g. `loss.beta`.
    pub path: Vec<Ident>,
    /// Values (expressions in the experiment's file) with their source text for job tables.
    pub values: Vec<(Expr, String)>,
    /// Where the axis is written (`loss.beta in [1, 2]`).
    pub loc: Loc,
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

    /// The location of the path (`loss.beta`).
    pub fn path_loc(&self) -> Loc {
        let span = self
            .path
            .first()
            .zip(self.path.last())
            .map_or(self.loc.span, |(a, b)| a.span.to(b.span));
        Loc {
            source: self.loc.source,
            span,
        }
    }
}

/// `assignments` as the user wrote them, in the order they apply: `loss.beta=4 seed=1`.
pub(crate) fn written(axes: &[Axis], assignments: &[(usize, usize)]) -> String {
    assignments
        .iter()
        .filter_map(|(a, v)| {
            let axis = axes.get(*a)?;
            Some(format!("{}={}", axis.path_text(), axis.values.get(*v)?.1))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One job's assignments: `(axis index, value index)` in the order they apply.
pub(crate) type Point = Vec<(usize, usize)>;

/// The structure of a sweep block over its axes (indices into the axis list).
enum Shape {
    Axis(usize),
    Product(Vec<Shape>),
    Concat(Vec<Shape>),
    Zip(Vec<(Shape, Loc)>),
}

/// A sweep, read and counted but not yet listed.
pub(crate) struct Expansion {
    /// The axes in the order they are written.
    pub axes: Vec<Axis>,
    shape: Shape,
    /// How many points the sweep has.
    pub count: u64,
}

/// Reads a sweep block: every axis's values, checked (empty axes, repeated values, `zip`
/// lengths), and the number of points, counted without listing them. Every mistake of the block
/// is reported before this returns `Poisoned`.
pub(crate) fn read(ctx: &Ctx<'_>, env: Env<'_>, text: &str, sweep: &Sweep) -> Eval<Expansion> {
    let mut axes = Vec::new();
    let shape = read_shape(ctx, env, text, sweep, &mut axes)?;
    let count = count(ctx, &shape, &axes)?;
    Ok(Expansion { axes, shape, count })
}

impl Expansion {
    /// The sweep's points in job order. Callers check [`Expansion::count`] against [`MAX_JOBS`]
    /// first: this allocates one small vector per point.
    pub fn points(&self, ctx: &Ctx<'_>) -> Eval<Vec<Point>> {
        let points = list(&self.shape, &self.axes);
        check_repeated_paths(ctx, &self.axes, &points)?;
        check_duplicate_points(ctx, &self.axes, &points)?;
        Ok(points)
    }
}

fn read_shape(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    text: &str,
    sweep: &Sweep,
    axes: &mut Vec<Axis>,
) -> Eval<Shape> {
    let parts = |parts: &[Sweep], axes: &mut Vec<Axis>| -> Eval<Vec<(Shape, Loc)>> {
        // Every part is read, so the mistakes of all of them are reported together.
        let results: Vec<Eval<(Shape, Loc)>> = parts
            .iter()
            .map(|p| read_shape(ctx, env, text, p, axes).map(|s| (s, env.loc(p.span))))
            .collect();
        results.into_iter().collect()
    };
    match &sweep.kind {
        SweepKind::Axis { path, values } => {
            let path_text = path
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(".");
            let values = axis_values(ctx, env, text, &path_text, values)?;
            if values.is_empty() {
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
            check_repeated_values(ctx, env, &path_text, &values)?;
            axes.push(Axis {
                path: path.clone(),
                values,
                loc: env.loc(sweep.span),
                verb: "sweep",
            });
            Ok(Shape::Axis(axes.len() - 1))
        }
        SweepKind::Product(ps) => Ok(Shape::Product(
            parts(ps, axes)?.into_iter().map(|(s, _)| s).collect(),
        )),
        SweepKind::Concat(ps) => Ok(Shape::Concat(
            parts(ps, axes)?.into_iter().map(|(s, _)| s).collect(),
        )),
        SweepKind::Zip(ps) => Ok(Shape::Zip(parts(ps, axes)?)),
    }
}

/// The number of points of `shape`, saturating (a count past `u64::MAX` is refused anyway).
fn count(ctx: &Ctx<'_>, shape: &Shape, axes: &[Axis]) -> Eval<u64> {
    match shape {
        Shape::Axis(i) => Ok(axes
            .get(*i)
            .map_or(0, |a| u64::try_from(a.values.len()).unwrap_or(u64::MAX))),
        Shape::Product(parts) => parts
            .iter()
            .try_fold(1u64, |acc, p| Ok(acc.saturating_mul(count(ctx, p, axes)?))),
        Shape::Concat(parts) => parts
            .iter()
            .try_fold(0u64, |acc, p| Ok(acc.saturating_add(count(ctx, p, axes)?))),
        Shape::Zip(parts) => {
            let counts: Vec<(u64, Loc)> = parts
                .iter()
                .map(|(p, loc)| count(ctx, p, axes).map(|n| (n, *loc)))
                .collect::<Eval<_>>()?;
            let n = counts.first().map_or(0, |(n, _)| *n);
            if let Some((m, loc)) = counts.iter().find(|(m, _)| *m != n) {
                return Err(ctx.error(
                    "E0405",
                    *loc,
                    format!("`zip` pairs axes of different lengths ({n} and {m})"),
                    format!("{m} values"),
                    Some(format!("every axis of this `zip` needs {n} values")),
                ));
            }
            Ok(n)
        }
    }
}

/// Lists the points of `shape` in job order.
fn list(shape: &Shape, axes: &[Axis]) -> Vec<Point> {
    match shape {
        Shape::Axis(i) => {
            let n = axes.get(*i).map_or(0, |a| a.values.len());
            (0..n).map(|v| vec![(*i, v)]).collect()
        }
        Shape::Product(parts) => {
            let mut acc: Vec<Point> = vec![Vec::new()];
            for part in parts {
                let points = list(part, axes);
                let mut next = Vec::with_capacity(acc.len().saturating_mul(points.len()));
                for p in &acc {
                    for q in &points {
                        let mut joined = Vec::with_capacity(p.len() + q.len());
                        joined.extend_from_slice(p);
                        joined.extend_from_slice(q);
                        next.push(joined);
                    }
                }
                acc = next;
            }
            acc
        }
        Shape::Concat(parts) => parts.iter().flat_map(|p| list(p, axes)).collect(),
        Shape::Zip(parts) => {
            let columns: Vec<Vec<Point>> = parts.iter().map(|(p, _)| list(p, axes)).collect();
            let n = columns.first().map_or(0, Vec::len);
            (0..n)
                .map(|i| {
                    columns
                        .iter()
                        .flat_map(|c| c.get(i).cloned().unwrap_or_default())
                        .collect()
                })
                .collect()
        }
    }
}

/// One point must not set the same parameter twice (`seed in [1] * seed in [2]`): the second
/// would silently win. Reported once per offending pair of axes (E0408).
fn check_repeated_paths(ctx: &Ctx<'_>, axes: &[Axis], points: &[Point]) -> Eval<()> {
    let paths = path_ids(axes);
    let mut reported: BTreeMap<(usize, usize), ()> = BTreeMap::new();
    for point in points {
        for (i, (a, _)) in point.iter().enumerate() {
            for (b, _) in point.iter().skip(i + 1) {
                if a != b
                    && paths.get(*a) == paths.get(*b)
                    && reported.insert((*a, *b), ()).is_none()
                    && let Some(axis) = axes.get(*b)
                {
                    ctx.error(
                        "E0408",
                        axis.path_loc(),
                        format!(
                            "the sweep sets `{}` twice in the same job",
                            axis.path_text()
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

/// A value's identity within an axis: numbers by value (`1e-4` and `0.0001` are one value, and
/// so are `1` and `1.0`), anything else by its text without spaces.
#[allow(clippy::wildcard_enum_match_arm)] // the catch-alls match every expression that is not a number literal
fn value_key(expr: &Expr, written: &str) -> String {
    let number = |e: &Expr| match e.kind {
        ExprKind::Int(i) => Some(i as f64),
        ExprKind::Float(f) => Some(f),
        _ => None,
    };
    let numeric = match &expr.kind {
        ExprKind::Neg(inner) => number(inner).map(|v| -v),
        _ => number(expr),
    };
    match numeric {
        Some(v) => format!("{v:?}"),
        None => written.chars().filter(|c| !c.is_whitespace()).collect(),
    }
}

/// An axis that lists a value twice (`seed in [0, 1, 1]`) would make the same job twice (E0411).
fn check_repeated_values(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    path_text: &str,
    values: &[(Expr, String)],
) -> Eval<()> {
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed = false;
    for (i, (expr, written)) in values.iter().enumerate() {
        if let Some(j) = first.get(&value_key(expr, written)) {
            let earlier = values.get(*j).map_or("", |(_, w)| w.as_str());
            ctx.error(
                "E0411",
                env.loc(expr.span),
                format!(
                    "sweep axis `{path_text}` lists `{written}` twice (values {} and {}), which would make the same job twice",
                    j + 1,
                    i + 1
                ),
                if earlier == written {
                    "repeated value".to_string()
                } else {
                    format!("the same value as `{earlier}`")
                },
                Some("remove the repeated value".to_string()),
            );
            failed = true;
        } else {
            first.insert(value_key(expr, written), i);
        }
    }
    if failed { Err(Poisoned) } else { Ok(()) }
}

/// Each axis's path as a small id: axes with the same path text share one.
fn path_ids(axes: &[Axis]) -> Vec<u32> {
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    axes.iter()
        .map(|a| {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(a.path_text()).or_insert(next)
        })
        .collect()
}

/// Two points that assign the same values (`seed in [0, 1] + seed in [1]`) would be the same job
/// (E0411). Paths and values are interned once per axis, so a point is compared as a short list of
/// integer pairs: this runs on every point of every sweep, on every keystroke in an editor.
fn check_duplicate_points(ctx: &Ctx<'_>, axes: &[Axis], points: &[Point]) -> Eval<()> {
    let paths = path_ids(axes);
    let mut value_ids: BTreeMap<(u32, String), u32> = BTreeMap::new();
    let values: Vec<Vec<u32>> = axes
        .iter()
        .zip(&paths)
        .map(|(a, path)| {
            a.values
                .iter()
                .map(|(e, w)| {
                    let next = u32::try_from(value_ids.len()).unwrap_or(u32::MAX);
                    *value_ids.entry((*path, value_key(e, w))).or_insert(next)
                })
                .collect()
        })
        .collect();
    // Which path ids lie inside which (`loss` and `loss.beta`).
    let texts: Vec<String> = axes.iter().map(Axis::path_text).collect();
    let inside =
        |p: &str, q: &str| q.len() > p.len() && q.starts_with(p) && q[p.len()..].starts_with('.');
    let mut nested_paths: BTreeSet<(u32, u32)> = BTreeSet::new();
    for (p, pid) in texts.iter().zip(&paths) {
        for (q, qid) in texts.iter().zip(&paths) {
            if inside(p, q) {
                nested_paths.insert((*pid, *qid));
            }
        }
    }
    let canonical = |point: &Point, pairs: &mut Vec<(u32, u32)>| {
        pairs.clear();
        pairs.extend(point.iter().map(|(a, v)| {
            (
                paths.get(*a).copied().unwrap_or(u32::MAX),
                values
                    .get(*a)
                    .and_then(|k| k.get(*v))
                    .copied()
                    .unwrap_or(u32::MAX),
            )
        }));
        // The order of assignments only matters when one path lies inside another
        // (`loss` and `loss.beta`); otherwise a point is the set of its assignments.
        let nested = !nested_paths.is_empty()
            && pairs
                .iter()
                .any(|(p, _)| pairs.iter().any(|(q, _)| nested_paths.contains(&(*p, *q))));
        if !nested {
            pairs.sort_unstable();
        }
    };
    // Points by the hash of their canonical form; a point whose hash is taken by a different
    // point (a 64-bit collision) is kept in `collided` and compared in full.
    let mut seen: FxHashMap<u64, usize> = FxHashMap::default();
    let mut collided: Vec<usize> = Vec::new();
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    let same = |j: usize, mine: &[(u32, u32)], theirs: &mut Vec<(u32, u32)>| {
        points.get(j).is_some_and(|other| {
            canonical(other, theirs);
            theirs.as_slice() == mine
        })
    };
    let mut failed = false;
    for (i, point) in points.iter().enumerate() {
        canonical(point, &mut mine);
        let j = match seen.entry(FxBuildHasher.hash_one(&mine)) {
            Entry::Vacant(e) => {
                e.insert(i);
                continue;
            }
            Entry::Occupied(e) if same(*e.get(), &mine, &mut theirs) => *e.get(),
            Entry::Occupied(_) => {
                match collided
                    .iter()
                    .copied()
                    .find(|j| same(*j, &mine, &mut theirs))
                {
                    Some(j) => j,
                    None => {
                        collided.push(i);
                        continue;
                    }
                }
            }
        };
        let Some(axis) = point.last().and_then(|(a, _)| axes.get(*a)) else {
            continue;
        };
        let (value_loc, _) = point
            .last()
            .and_then(|(a, v)| axes.get(*a)?.values.get(*v))
            .map_or((axis.loc, ""), |(e, w)| {
                (
                    Loc {
                        source: axis.loc.source,
                        span: e.span,
                    },
                    w.as_str(),
                )
            });
        let assignments = written(axes, point);
        ctx.error(
            "E0411",
            value_loc,
            format!(
                "sweep points {j} and {i} both assign `{assignments}`, which would make the same job twice"
            ),
            format!("point {i} repeats point {j}"),
            Some("remove the repeated value from one side of the `+`".to_string()),
        );
        failed = true;
        // One report per sweep is enough to show the mistake.
        break;
    }
    if failed { Err(Poisoned) } else { Ok(()) }
}

/// The values of one axis as expressions, with their source text. A range is measured before it
/// is listed, so `seed in 0..9M` is refused without allocating nine million values.
#[allow(clippy::wildcard_enum_match_arm)] // the catch-all matches compile-time values without a literal form
fn axis_values(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    text: &str,
    path_text: &str,
    values: &Expr,
) -> Eval<Vec<(Expr, String)>> {
    let source_text = |e: &Expr| text.get(e.span.range()).unwrap_or("").trim().to_string();
    let const_env = Env {
        exp: None,
        locals: None,
        ..env
    };
    let too_many = |n: u64| {
        ctx.error(
            "E0410",
            env.loc(values.span),
            format!(
                "sweep axis `{path_text}` has {n} values, but a plan holds at most {MAX_JOBS} jobs"
            ),
            format!("{n} values"),
            Some("split the study into several files, or sweep fewer values".to_string()),
        )
    };
    match &values.kind {
        ExprKind::List(items) => Ok(items.iter().map(|e| (e.clone(), source_text(e))).collect()),
        ExprKind::Range(start, end) => {
            let s = ctx.eval(const_env, start);
            let e = ctx.eval(const_env, end);
            match (s?, e?) {
                (Value::Int(s), Value::Int(e)) => {
                    let n = u64::try_from(i128::from(e) - i128::from(s)).unwrap_or(0);
                    if n > MAX_JOBS {
                        return Err(too_many(n));
                    }
                    Ok((s..e)
                        .map(|i| {
                            (
                                Expr {
                                    kind: ExprKind::Int(i),
                                    span: values.span,
                                },
                                i.to_string(),
                            )
                        })
                        .collect())
                }
                (s, e) => Err(ctx.error(
                    "E0201",
                    env.loc(values.span),
                    format!(
                        "a range needs integer bounds, found `{}` and `{}`",
                        s.type_of(),
                        e.type_of()
                    ),
                    "expected `int..int`",
                    None,
                )),
            }
        }
        ExprKind::Name(_) | ExprKind::Call { .. } | ExprKind::Member(..) => {
            // Constant lists (a definition returning numbers): literal values.
            let value = ctx.eval(const_env, values)?;
            let Value::List(items) = value else {
                return Err(not_literal(ctx, env, values));
            };
            let n = u64::try_from(items.len()).unwrap_or(u64::MAX);
            if n > MAX_JOBS {
                return Err(too_many(n));
            }
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
        // Only a negated number literal keeps its type (and `-i64::MIN` is kept as text).
        ExprKind::Neg(inner) => {
            if let ExprKind::Int(i) = &inner.kind
                && let Some(negated) = i.checked_neg()
            {
                SweptValue::Int(negated)
            } else if let ExprKind::Float(x) = &inner.kind {
                SweptValue::Float(-x)
            } else {
                SweptValue::Expr(text.to_string())
            }
        }
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
