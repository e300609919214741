//! Lowering: each `experiment` of the root file → its jobs in the plan.
//!
//! For every sweep point the experiment's fields are evaluated with the point's overrides; a field's
//! value is memoised by the assignments it can depend on (its transitive field references), and a
//! job's assembled parts by the keys of the fields they use, so a 12,600-job study evaluates each
//! distinct dataset, model and objective once. Assembly shape-checks the networks against the data,
//! checks each loss term against the model, the graph, and the metrics' prerequisites.
//! This module must not parse, do IO or print.

use std::collections::hash_map::Entry as Slot;
use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use disc_grammar::ast::{self, Entry, Expr, ExprKind, Ident, Item};

use crate::builtins::default_evaluation;
use crate::eval::{Ctx, Env, Eval, ExpScope, Poisoned};
use crate::overrides::Override;
use crate::plan::{
    CodePrior, DatasetKind, DatasetSpec, EvalSpec, GanSpec, Job, Layer, LossTerm, MetricSpec,
    ModelSpec, Network, Term, TrainSpec, VaeSpec,
};
use crate::resolve::collect_names;
use crate::suggest::did_you_mean;
use crate::sweep::{self, Axis, MAX_JOBS, Point};
use crate::value::{Arch, GraphValue, Loc, ModelValue, TermValue, Value, WeightedTerm};

/// Fields with a meaning of their own; any other field is a variable.
const STANDARD_FIELDS: [&str; 6] = ["data", "model", "loss", "train", "evaluate", "seed"];

/// The parts of a job that do not depend on the seed.
#[derive(Clone)]
struct Assembled {
    dataset: DatasetSpec,
    model: ModelSpec,
    objective: Vec<LossTerm>,
    train: crate::value::TrainingValue,
    evaluate: EvalSpec,
}

/// A memo key: the assignments of a point that a field can see.
type Key = Vec<(usize, usize)>;

/// How many fields an assembly reads (`data`, `model`, `loss`, `train`, `evaluate`).
const CORE: usize = 5;

/// The assignments of `point` that can change the standard field numbered `field`, given which
/// fields each axis `affects`.
fn key_of<'a>(
    affects: &'a [[bool; STANDARD_FIELDS.len()]],
    field: usize,
    point: &'a [(usize, usize)],
) -> impl Iterator<Item = (usize, usize)> + 'a {
    point.iter().copied().filter(move |(axis, _)| {
        affects
            .get(*axis)
            .and_then(|a| a.get(field))
            .copied()
            .unwrap_or(false)
    })
}

/// Interns the [`Key`]s of one experiment's points as small ids, per field. A 12,600-point sweep
/// has a few hundred distinct keys; looking a point's key up by a borrowed buffer allocates only
/// for a key not seen before, which keeps the per-point cost of checking a large study small
/// enough for an editor to re-check it on every keystroke.
#[derive(Default)]
struct KeyIds {
    ids: FxHashMap<(usize, Key), u32>,
    buffer: Key,
}

impl KeyIds {
    /// How many distinct keys have been seen.
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The id of the assignments `key` as seen by the field numbered `field`.
    fn id(&mut self, field: usize, key: impl Iterator<Item = (usize, usize)>) -> u32 {
        let mut probe = (field, std::mem::take(&mut self.buffer));
        probe.1.clear();
        probe.1.extend(key);
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let id = match self.ids.get(&probe) {
            Some(id) => *id,
            None => {
                self.ids.insert(probe.clone(), next);
                next
            }
        };
        self.buffer = probe.1;
        id
    }
}

/// Where built jobs go: a buffer of at most [`JobSink::CHUNK`] jobs whose content hashes are
/// computed in parallel, handed on in index order. A plan is never held here as a whole, so
/// `disc plan` can stream any plan within [`MAX_JOBS`] in memory that does not grow with it.
pub(crate) struct JobSink<'a> {
    buffer: Vec<Job>,
    emit: &'a mut dyn FnMut(Job),
    /// The index the next job must have.
    next: u64,
}

impl<'a> JobSink<'a> {
    /// Jobs hashed together (in parallel) before they are handed on.
    const CHUNK: usize = 4096;

    /// A sink that hands every job, hashed, to `emit`.
    pub fn new(emit: &'a mut dyn FnMut(Job)) -> Self {
        JobSink {
            buffer: Vec::new(),
            emit,
            next: 0,
        }
    }

    fn push(&mut self, job: Job) {
        // INVARIANT: job N is the N-th point of the sweeps; a point that yields no job stops the
        // plan (an error, E0005 when nothing else explains it), so jobs are never renumbered.
        debug_assert_eq!(
            job.index, self.next,
            "jobs are handed on in index order, none skipped"
        );
        self.next = job.index.saturating_add(1);
        self.buffer.push(job);
        if self.buffer.len() >= Self::CHUNK {
            self.flush();
        }
    }

    /// Hashes the buffered jobs and hands them on; called once more when lowering ends.
    pub fn flush(&mut self) {
        use rayon::prelude::*;
        // Content hashes are independent per job: compute them in parallel (order is unaffected).
        self.buffer
            .par_iter_mut()
            .for_each(|job| job.hash = crate::hash::job_hash(job));
        for job in self.buffer.drain(..) {
            (self.emit)(job);
        }
    }
}

/// Lowers every experiment of module 0 (the root file), handing jobs to `jobs` in order.
/// With `build_jobs` false, every point is still checked but no job is built (for `disc check`).
pub(crate) fn lower_root(
    ctx: &Ctx<'_>,
    build_jobs: bool,
    overrides: &[Override],
    jobs: &mut JobSink<'_>,
) {
    let Some(root) = ctx.program.modules.first() else {
        return;
    };
    let text = ctx.program.sources.first().map_or("", |s| s.text.as_str());
    let file = RootFile {
        source: root.source,
        text,
        build_jobs,
        overrides,
    };
    // Jobs planned so far, over all experiments: the next experiment's first job index.
    let mut planned: u64 = 0;
    for item in &root.file.items {
        if let Item::Experiment(exp) = item {
            lower_experiment(ctx, file, exp, &mut planned, jobs);
        }
    }
    jobs.flush();
    // Definitions are checked where they are used; check the root file's definitions whose
    // parameters all have defaults once as written, so mistakes in unused ones surface too.
    for (item, def) in root
        .file
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| match it {
            Item::Def(d) => Some((i, d)),
            Item::Use(_) | Item::Experiment(_) => None,
        })
    {
        let all_defaulted = def.params.iter().flatten().all(|p| p.default.is_some());
        if all_defaulted
            && root.scope.get(&def.name.name) == Some(&crate::resolve::DefId { module: 0, item })
        {
            // Errors are reported through the sink; the value is not needed.
            let _ = ctx.call_def(
                crate::resolve::DefId { module: 0, item },
                &[],
                Loc {
                    source: root.source,
                    span: def.name.span,
                },
            );
        }
    }
}

/// What every experiment of the root file is lowered with.
#[derive(Clone, Copy)]
struct RootFile<'a> {
    /// The root file's source index.
    source: u32,
    /// Its text (sweep values are recorded as written).
    text: &'a str,
    /// Whether jobs are built, or only checked (`disc check`).
    build_jobs: bool,
    /// The command-line overrides, applied to every experiment.
    overrides: &'a [Override],
}

#[allow(clippy::wildcard_enum_match_arm)] // the catch-all matches a `seed` value of the wrong type
fn lower_experiment(
    ctx: &Ctx<'_>,
    file: RootFile<'_>,
    exp: &ast::Experiment,
    planned: &mut u64,
    jobs: &mut JobSink<'_>,
) {
    let RootFile {
        source,
        text,
        build_jobs,
        overrides,
    } = file;
    let env = Env {
        module: 0,
        source,
        locals: None,
        exp: None,
    };
    let name_loc = env.loc(exp.name.span);
    // Collect fields, the graph block and the sweep block.
    let mut fields: BTreeMap<String, Expr> = BTreeMap::new();
    let mut field_names: BTreeMap<String, Ident> = BTreeMap::new();
    let mut graph: Option<GraphValue> = None;
    let mut sweep_block: Option<(&ast::Sweep, ast::Span)> = None;
    for entry in &exp.entries {
        match entry {
            Entry::Field { name, value } => {
                if field_names.contains_key(&name.name)
                    || name.name == "graph"
                    || name.name == "sweep"
                {
                    ctx.error(
                        "E0102",
                        env.loc(name.span),
                        format!(
                            "field `{}` is defined twice in experiment `{}`",
                            name.name, exp.name.name
                        ),
                        "defined again here",
                        (name.name == "graph" || name.name == "sweep").then(|| {
                            format!(
                                "`{}` is written as a block: `{} {{ ... }}`",
                                name.name, name.name
                            )
                        }),
                    );
                    continue;
                }
                field_names.insert(name.name.clone(), name.clone());
                fields.insert(name.name.clone(), value.clone());
            }
            Entry::Graph { edges, span } => {
                if graph.is_some() {
                    ctx.error(
                        "E0102",
                        env.loc(*span),
                        "the experiment has two `graph` blocks".to_string(),
                        "second graph",
                        None,
                    );
                    continue;
                }
                graph = Some(GraphValue {
                    edges: edges
                        .iter()
                        .map(|(a, b)| {
                            (
                                (a.name.clone(), env.loc(a.span)),
                                (b.name.clone(), env.loc(b.span)),
                            )
                        })
                        .collect(),
                    loc: env.loc(*span),
                });
            }
            Entry::Sweep { sweep, span } => {
                if sweep_block.is_some() {
                    ctx.error(
                        "E0102",
                        env.loc(*span),
                        "the experiment has two `sweep` blocks".to_string(),
                        "second sweep",
                        Some("combine the axes with `*` and `+` in one block".to_string()),
                    );
                    continue;
                }
                sweep_block = Some((sweep, *span));
            }
        }
    }
    // A missing required field stops assembly but not checking: the fields that are written are
    // still evaluated below, so their own errors (e.g. a misspelt name in `data`) are reported too.
    let mut incomplete = false;
    for required in ["data", "model"] {
        if !fields.contains_key(required) {
            ctx.error(
                "E0111",
                name_loc,
                format!("experiment `{}` has no `{required}` field", exp.name.name),
                format!("`{required}` is missing"),
                Some(format!("add `{required} = ...`")),
            );
            incomplete = true;
        }
    }
    // Defaults, so that `seed` and `train.steps` can be swept without being written.
    let synthetic = |name: &str, args: Vec<ast::Arg>| {
        let span = exp.name.span;
        Expr {
            kind: ExprKind::Call {
                callee: Box::new(Expr {
                    kind: ExprKind::Member(
                        Box::new(Expr {
                            kind: ExprKind::Name("prim".to_string()),
                            span,
                        }),
                        Ident {
                            name: name.to_string(),
                            span,
                        },
                    ),
                    span,
                }),
                args,
            },
            span,
        }
    };
    fields.entry("seed".to_string()).or_insert(Expr {
        kind: ExprKind::Int(0),
        span: exp.name.span,
    });
    fields
        .entry("train".to_string())
        .or_insert_with(|| synthetic("training", Vec::new()));
    // Command-line overrides replace what the file wrote, before the sweep applies its values.
    // A path that cannot be set is reported by `apply`; the field is then checked as written.
    for o in overrides {
        let _ = sweep::apply(ctx, 0, source, &mut fields, &o.axis, &o.value);
    }

    // Fields no other field reads: a misspelt standard field (E0115), a swept variable (E0409,
    // reported with the sweep) or an unused variable (W0003).
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    for value in fields.values() {
        collect_names(value, &mut referenced);
    }
    let mut swept_names: BTreeSet<String> = BTreeSet::new();
    if let Some((s, _)) = sweep_block {
        crate::resolve::collect_sweep_names(s, &mut swept_names);
    }
    for (name, ident) in &field_names {
        if STANDARD_FIELDS.contains(&name.as_str()) || referenced.contains(name) {
            continue;
        }
        // A field named like a standard field the experiment does not set is a misspelling: as
        // written, the standard field silently keeps its default (E0115).
        let misspelt = did_you_mean(name, STANDARD_FIELDS.iter().copied())
            .filter(|standard| !field_names.contains_key(standard));
        if let Some(standard) = misspelt {
            ctx.error(
                "E0115",
                env.loc(ident.span),
                format!(
                    "field `{name}` looks like a misspelling of `{standard}`, which the experiment does not set"
                ),
                "no field reads this",
                Some(format!(
                    "rename it to `{standard}`; as written, `{standard}` keeps its default"
                )),
            );
            continue;
        }
        // A swept variable that no field reads is reported with the sweep (E0409).
        if swept_names.contains(name) {
            continue;
        }
        ctx.warning(
            "W0003",
            env.loc(ident.span),
            format!("field `{name}` is never used"),
            "not a standard field and not referenced",
            Some(format!(
                "use `{name}` in another field, e.g. `loss`, or remove it"
            )),
        );
    }

    // Transitive field dependencies (a field depends on itself).
    let direct: BTreeMap<&str, BTreeSet<String>> = fields
        .iter()
        .map(|(name, value)| {
            let mut names = BTreeSet::new();
            collect_names(value, &mut names);
            names.retain(|n| fields.contains_key(n));
            (name.as_str(), names)
        })
        .collect();
    let deps: BTreeMap<&str, BTreeSet<String>> = fields
        .keys()
        .map(|name| {
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let mut stack = vec![name.clone()];
            while let Some(n) = stack.pop() {
                if seen.insert(n.clone())
                    && let Some(ds) = direct.get(n.as_str())
                {
                    stack.extend(ds.iter().cloned());
                }
            }
            (name.as_str(), seen)
        })
        .collect();

    // Sweep points. The sweep is read and counted before it is listed; when it is wrong, the
    // fields are still checked once as written, so mistakes elsewhere are reported too.
    let first_index = *planned;
    let sweep_loc = sweep_block.map(|(_, span)| env.loc(span));
    let (axes, points): (Vec<Axis>, Vec<Point>) = match sweep_block {
        Some((s, span)) => match sweep::read(ctx, env, text, s) {
            Ok(expansion) => {
                let axes_ok = check_axes(ctx, env, &fields, &deps, &expansion.axes);
                let total = planned.saturating_add(expansion.count);
                if total > MAX_JOBS {
                    let before = if *planned > 0 {
                        format!(" (with the {planned} jobs of the experiments before it, {total})")
                    } else {
                        String::new()
                    };
                    ctx.error(
                        "E0410",
                        env.loc(span),
                        format!(
                            "the sweep of experiment `{}` expands to {} jobs{before}, but a plan holds at most {MAX_JOBS} jobs",
                            exp.name.name, expansion.count
                        ),
                        format!("{} jobs", expansion.count),
                        Some("split the study into several files, or sweep fewer values".to_string()),
                    );
                    (expansion.axes, vec![Vec::new()])
                } else {
                    *planned = total;
                    match (axes_ok, expansion.points(ctx)) {
                        (Ok(()), Ok(points))
                            if paths_apply(ctx, source, &fields, &expansion.axes, &points) =>
                        {
                            (expansion.axes, points)
                        }
                        _ => (expansion.axes, vec![Vec::new()]),
                    }
                }
            }
            Err(Poisoned) => (Vec::new(), vec![Vec::new()]),
        },
        None => {
            *planned = planned.saturating_add(1);
            (Vec::new(), vec![Vec::new()])
        }
    };
    warn_swept_overrides(ctx, env, &exp.name.name, overrides, &axes);
    check_replaced_fields(
        ctx,
        env,
        &field_names,
        &fields,
        &axes,
        &points,
        graph.as_ref(),
    );

    // For each axis, which of the standard fields it can change (its root is in their dependencies).
    let axis_affects: Vec<[bool; 6]> = axes
        .iter()
        .map(|a| {
            let root = a.path.first().map_or("", |i| i.name.as_str());
            STANDARD_FIELDS.map(|f| deps.get(f).is_some_and(|d| d.contains(root)))
        })
        .collect();
    let field_index = |field: &str| {
        STANDARD_FIELDS
            .iter()
            .position(|f| *f == field)
            .unwrap_or(0)
    };

    // Every memo below is keyed by small interned ids, so the work per point of a large sweep is a
    // few table lookups; each field and each assembly is still evaluated once per distinct key.
    let mut key_ids = KeyIds::default();
    let swept_fields: [bool; STANDARD_FIELDS.len()] = std::array::from_fn(|fi| {
        axis_affects
            .iter()
            .any(|a| a.get(fi).copied().unwrap_or(true))
    });
    let mut field_memo: FxHashMap<(usize, u32), Eval<Value>> = FxHashMap::default();
    let mut assembled_memo: FxHashMap<[u32; CORE], Eval<Assembled>> = FxHashMap::default();
    let core: Vec<usize> = ["data", "model", "loss", "train", "evaluate"]
        .into_iter()
        .filter(|f| fields.contains_key(*f))
        .map(field_index)
        .collect();
    let loss_loc = fields.get("loss").map(|e| env.loc(e.span));
    // The content of each distinct assembly, and the first point of each distinct job content.
    let mut content_ids = ContentIds::default();
    let mut same_content: FxHashMap<(u64, u64), usize> = FxHashMap::default();
    let mut duplicate_reported = false;

    for (point_index, point) in points.iter().enumerate() {
        let job_index = first_index.saturating_add(point_index as u64);
        // A field no axis affects has one key (nothing to look up).
        let ids: [u32; STANDARD_FIELDS.len()] = std::array::from_fn(|fi| {
            if swept_fields.get(fi).copied().unwrap_or(true) {
                key_ids.id(fi, key_of(&axis_affects, fi, point))
            } else {
                0
            }
        });
        let mut eval_field = |field: &'static str| -> Eval<Value> {
            let fi = field_index(field);
            let id = ids.get(fi).copied().unwrap_or(u32::MAX);
            if let Some(v) = field_memo.get(&(fi, id)) {
                return v.clone();
            }
            let key: Key = key_of(&axis_affects, fi, point).collect();
            let note = point_note(&axes, &key, job_index, sweep_loc);
            let previous = ctx.point_note.replace(note);
            let result = evaluate_field(ctx, env, &fields, &axes, &key, graph.as_ref(), field);
            *ctx.point_note.borrow_mut() = previous;
            field_memo.insert((fi, id), result.clone());
            result
        };
        // A value set by the sweep is reported at the axis value that set it, not at the field.
        let swept_loc = |root: &str| {
            point.iter().rev().find_map(|(a, v)| {
                let axis = axes.get(*a)?;
                (axis.path.first()?.name == root)
                    .then(|| axis.values.get(*v).map(|(e, _)| env.loc(e.span)))?
            })
        };
        let seed = eval_field("seed").and_then(|value| match value {
            Value::Int(s) if s >= 0 => Ok(s.unsigned_abs()),
            other => {
                let loc = swept_loc("seed")
                    .unwrap_or_else(|| fields.get("seed").map_or(name_loc, |e| env.loc(e.span)));
                Err(match other {
                    Value::Int(s) => ctx.out_of_range(loc, "seed", s, ">= 0"),
                    other => type_error(ctx, loc, "seed", "int", &other),
                })
            }
        });
        if incomplete {
            // Without `data` or `model` no job can be assembled; check each written field alone.
            for field in STANDARD_FIELDS {
                if fields.contains_key(field) {
                    let _ = eval_field(field);
                }
            }
            continue;
        }
        let mut keys = [u32::MAX; CORE];
        for (slot, fi) in keys.iter_mut().zip(&core) {
            *slot = ids.get(*fi).copied().unwrap_or(u32::MAX);
        }
        if let Slot::Vacant(slot) = assembled_memo.entry(keys) {
            let data = eval_field("data");
            let model = eval_field("model");
            let loss = if fields.contains_key("loss") {
                Some(eval_field("loss"))
            } else {
                None
            };
            let train = eval_field("train");
            let evaluate = if fields.contains_key("evaluate") {
                Some(eval_field("evaluate"))
            } else {
                None
            };
            let union: Key = {
                let mut all: Vec<(usize, usize)> = core
                    .iter()
                    .flat_map(|fi| key_of(&axis_affects, *fi, point))
                    .collect();
                all.sort_unstable();
                all.dedup();
                all
            };
            let previous = ctx
                .point_note
                .replace(point_note(&axes, &union, job_index, sweep_loc));
            let result = assemble(
                ctx,
                env,
                &fields,
                name_loc,
                swept_loc("loss").or(loss_loc),
                graph.as_ref(),
                data,
                model,
                loss,
                train,
                evaluate,
            );
            *ctx.point_note.borrow_mut() = previous;
            slot.insert(result);
        }
        let (Some(Ok(assembled)), Ok(seed)) = (assembled_memo.get(&keys), seed) else {
            // INVARIANT: a point that yields no job has reported why; a plan never drops a job
            // and renumbers the rest. Should a check ever fail silently, say so rather than
            // producing a plan with a hole in it.
            if !ctx.sink.borrow().has_errors() {
                ctx.error(
                    "E0005",
                    name_loc,
                    format!(
                        "internal error: job {} of experiment `{}` could not be built, and no reason was reported",
                        first_index.saturating_add(point_index as u64),
                        exp.name.name
                    ),
                    "this experiment",
                    Some("please report this as a bug, with the file".to_string()),
                );
            }
            continue;
        };
        // Two points that assign different values can still resolve to the same job
        // (`seed in [0] + train.batch in [64]`, both the defaults): it would be trained twice.
        let content = (content_ids.id(keys, &assembled_memo), seed);
        match same_content.get(&content) {
            Some(&earlier) if !duplicate_reported => {
                duplicate_reported = true;
                report_same_job(ctx, env, &axes, &points, earlier, point_index, first_index);
            }
            Some(_) => {}
            None => {
                same_content.insert(content, point_index);
            }
        }
        if !build_jobs || ctx.sink.borrow().has_errors() {
            // Keep checking for more errors, but build no jobs once the plan is invalid.
            continue;
        }
        let swept = point
            .iter()
            .filter_map(|(axis, value)| {
                let a = axes.get(*axis)?;
                let (expr, text) = a.values.get(*value)?;
                Some((a.path_text(), sweep::typed_value(expr, text)))
            })
            .collect();
        let Assembled {
            dataset,
            model,
            objective,
            train,
            evaluate,
        } = assembled.clone();
        let train = TrainSpec {
            steps: train.steps,
            batch_size: train.batch_size,
            optimizer: train.optimizer,
            schedule: train.schedule,
            seed,
            checkpoint_every: train.checkpoint_every,
            log_every: train.log_every,
        };
        let players = crate::players::players(&model, &objective, &train);
        let job = Job {
            // The job's number is its point's position, so it is the reference's `model_num`.
            index: first_index.saturating_add(point_index as u64),
            hash: String::new(),
            experiment: exp.name.name.clone(),
            swept,
            dataset,
            model,
            objective,
            train,
            players,
            evaluate,
        };
        jobs.push(job);
    }
}

/// Whether every assignment of every point can be applied: a path inside a field (`loss.betta`)
/// must name a parameter of the call there, which an earlier assignment of the same point may
/// have replaced, so it is tried point by point (once per distinct sequence of assignments to a
/// field). When one cannot, it is reported (E0403) and the fields are checked as written instead,
/// so its mistake hides none of theirs.
fn paths_apply(
    ctx: &Ctx<'_>,
    source: u32,
    fields: &BTreeMap<String, Expr>,
    axes: &[Axis],
    points: &[Point],
) -> bool {
    let root = |a: usize| {
        axes.get(a)
            .and_then(|axis| axis.path.first())
            .map(|i| i.name.as_str())
    };
    let nested: BTreeSet<&str> = axes
        .iter()
        .filter(|axis| axis.path.len() > 1)
        .filter_map(|axis| axis.path.first().map(|i| i.name.as_str()))
        .collect();
    let mut tried = KeyIds::default();
    let mut ok = true;
    for point in points {
        for (f, field) in nested.iter().enumerate() {
            let in_field = |(a, _): &(usize, usize)| root(*a) == Some(field);
            let before = tried.len();
            tried.id(f, point.iter().copied().filter(in_field));
            if tried.len() == before {
                continue;
            }
            let key: Key = point.iter().copied().filter(in_field).collect();
            let Some(expr) = fields.get(*field) else {
                continue;
            };
            let mut one = BTreeMap::from([(field.to_string(), expr.clone())]);
            for (a, v) in &key {
                let Some((axis, (value, _))) = axes
                    .get(*a)
                    .and_then(|axis| Some((axis, axis.values.get(*v)?)))
                else {
                    continue;
                };
                if sweep::apply(ctx, 0, source, &mut one, axis, value).is_err() {
                    ok = false;
                    break;
                }
            }
        }
    }
    ok
}

/// An id of everything a job trains and evaluates except its seed (which is combined with it per
/// point), for finding points that resolve to the same job: two assemblies get the same id iff
/// their contents are equal (up to 64-bit digest collisions).
///
/// Serialising both networks of every distinct assembly was a fifth of the time to check a large
/// study, so assemblies are first grouped by a digest of their small parts (data, objective,
/// training); only within a group of two or more are the full contents compared. In the 12,600-job
/// study no two of the 252 assemblies share their small parts.
#[derive(Default)]
struct ContentIds {
    /// Per digest of the small parts: the assemblies seen with it, by keys, and their ids.
    groups: FxHashMap<u64, Vec<([u32; CORE], u64)>>,
    /// Full digests computed so far, by keys.
    full: FxHashMap<[u32; CORE], u64>,
    /// Every id given, by keys.
    given: FxHashMap<[u32; CORE], u64>,
}

impl ContentIds {
    /// The id of the content of the assembly `keys`, whose assemblies are in `memo`.
    fn id(&mut self, keys: [u32; CORE], memo: &FxHashMap<[u32; CORE], Eval<Assembled>>) -> u64 {
        if let Some(id) = self.given.get(&keys) {
            return *id;
        }
        let Some(Ok(assembled)) = memo.get(&keys) else {
            return 0;
        };
        let train = train_without_seed(&assembled.train);
        let small = crate::hash::digest_of(&(&assembled.dataset, &assembled.objective, &train));
        let group = self.groups.entry(small).or_default();
        if group.is_empty() {
            group.push((keys, small));
            self.given.insert(keys, small);
            return small;
        }
        let mut full = |keys: [u32; CORE]| match memo.get(&keys) {
            Some(Ok(a)) => *self.full.entry(keys).or_insert_with(|| full_digest(a)),
            _ => 0,
        };
        let mine = full(keys);
        let same = group
            .iter()
            .find(|(k, _)| full(*k) == mine)
            .map(|(_, id)| *id);
        let id = same.unwrap_or(mine);
        group.push((keys, id));
        self.given.insert(keys, id);
        id
    }
}

/// The training of an assembly as the job's [`TrainSpec`], with seed 0.
fn train_without_seed(train: &crate::value::TrainingValue) -> TrainSpec {
    TrainSpec {
        steps: train.steps,
        batch_size: train.batch_size,
        optimizer: train.optimizer.clone(),
        schedule: train.schedule.clone(),
        seed: 0,
        checkpoint_every: train.checkpoint_every,
        log_every: train.log_every,
    }
}

/// A digest of everything an assembly holds, with its training's seed 0.
fn full_digest(assembled: &Assembled) -> u64 {
    let Assembled {
        dataset,
        model,
        objective,
        train,
        evaluate,
    } = assembled;
    let train = train_without_seed(train);
    crate::hash::digest_of(&(dataset, model, objective, &train, evaluate))
}

/// E0411 for two points of one sweep that assign different values but resolve to the same job:
/// both would train the same model. Reported at the later point's last swept value.
fn report_same_job(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    axes: &[Axis],
    points: &[Point],
    earlier: usize,
    later: usize,
    first_index: u64,
) {
    let written = |point: &Point| {
        let text = sweep::written(axes, point);
        if text.is_empty() {
            "-".to_string()
        } else {
            text
        }
    };
    let (Some(first), Some(second)) = (points.get(earlier), points.get(later)) else {
        return;
    };
    let Some(loc) = second
        .last()
        .and_then(|(a, v)| axes.get(*a)?.values.get(*v))
        .map(|(e, _)| env.loc(e.span))
    else {
        return;
    };
    let job = |i: usize| first_index.saturating_add(i as u64);
    ctx.error(
        "E0411",
        loc,
        format!(
            "jobs {} (`{}`) and {} (`{}`) resolve to the same job, which would be trained twice",
            job(earlier),
            written(first),
            job(later),
            written(second)
        ),
        format!("the same job as job {}", job(earlier)),
        Some(
            "the points differ as written but set the same values (a default, or what the field already has); remove one of them"
                .to_string(),
        ),
    );
}

/// Every sweep axis must change something: its path starts at a field (E0403) that a standard
/// field reads, directly or through other fields (E0409). The rest of a path (`loss.beta`) is
/// checked when the axis's values are applied, since an earlier axis may replace the call.
fn check_axes(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    fields: &BTreeMap<String, Expr>,
    deps: &BTreeMap<&str, BTreeSet<String>>,
    axes: &[Axis],
) -> Eval<()> {
    let mut failed = false;
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for axis in axes {
        let Some(root) = axis.path.first() else {
            continue;
        };
        let path = axis.path_text();
        if !reported.insert(path.clone()) {
            continue;
        }
        let rest: String = axis
            .path
            .iter()
            .skip(1)
            .map(|i| format!(".{}", i.name))
            .collect();
        let owner = if rest.is_empty() {
            param_owner(ctx, env, fields, &root.name)
        } else {
            None
        };
        if !fields.contains_key(&root.name) {
            let help = did_you_mean(&root.name, fields.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}{rest}`?"))
                .or_else(|| owner.as_ref().map(|o| format!("did you mean `{o}`?")))
                .unwrap_or_else(|| {
                    "a sweep path starts at a field of the experiment, e.g. `loss.beta` or `seed`"
                        .to_string()
                });
            ctx.error(
                "E0403",
                env.loc(root.span),
                format!(
                    "cannot sweep `{path}`: the experiment has no field `{}`",
                    root.name
                ),
                "unknown parameter",
                Some(help),
            );
            failed = true;
        } else if !STANDARD_FIELDS
            .iter()
            .any(|f| deps.get(f).is_some_and(|d| d.contains(&root.name)))
        {
            ctx.error(
                "E0409",
                axis.path_loc(),
                format!(
                    "sweeping `{path}` changes nothing: no standard field reads `{}`",
                    root.name
                ),
                "every job would be the same",
                Some(match &owner {
                    Some(o) => format!("to sweep that parameter, name it through its field: `{o}`"),
                    None => format!(
                        "pass `{}` to a parameter, e.g. `loss = beta_vae(beta: {})`",
                        root.name, root.name
                    ),
                }),
            );
            failed = true;
        }
    }
    if failed { Err(Poisoned) } else { Ok(()) }
}

/// The standard field whose call has a parameter called `name`, as a sweep path (`loss.beta`).
fn param_owner(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    fields: &BTreeMap<String, Expr>,
    name: &str,
) -> Option<String> {
    STANDARD_FIELDS.iter().find_map(|field| {
        let ExprKind::Call { callee, .. } = &fields.get(*field)?.kind else {
            return None;
        };
        let params = ctx.callee_params(env.module, callee)?;
        params
            .iter()
            .any(|p| p == name)
            .then(|| format!("{field}.{name}"))
    })
}

/// Names the sweep point an error belongs to by its job number and the assignments that matter
/// for it, e.g. `job 1: data=color_dsprites()`; `None` outside sweeps or when nothing relevant is swept.
fn point_note(
    axes: &[Axis],
    key: &Key,
    job_index: u64,
    sweep_loc: Option<Loc>,
) -> Option<(String, Loc)> {
    let block = sweep_loc?;
    if key.is_empty() {
        return None;
    }
    let assignments = sweep::written(axes, key);
    Some((format!("job {job_index}: {assignments}"), block))
}

/// W0040: an override of a path that the sweep sets (or replaces a parent of) has no effect, since
/// the sweep's values are applied after the overrides.
fn warn_swept_overrides(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    experiment: &str,
    overrides: &[Override],
    axes: &[Axis],
) {
    for o in overrides {
        let set: Vec<&str> = o.axis.path.iter().map(|i| i.name.as_str()).collect();
        let covering = axes.iter().find(|axis| {
            let swept: Vec<&str> = axis.path.iter().map(|i| i.name.as_str()).collect();
            set.starts_with(&swept)
        });
        if let Some(axis) = covering {
            let span = match (o.axis.path.first(), o.axis.path.last()) {
                (Some(first), Some(last)) => first.span.to(last.span),
                _ => continue,
            };
            ctx.warning(
                "W0040",
                env.loc(span),
                format!(
                    "`--set {}` has no effect in experiment `{experiment}`: its sweep sets `{}`",
                    o.axis.path_text(),
                    axis.path_text()
                ),
                "overridden by the sweep",
                Some("change the sweep's values instead, or remove this `--set`".to_string()),
            );
        }
    }
}

/// Evaluates `field` with the overrides in `key` applied.
fn evaluate_field(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    base: &BTreeMap<String, Expr>,
    axes: &[Axis],
    key: &Key,
    graph: Option<&GraphValue>,
    field: &str,
) -> Eval<Value> {
    let mut fields = base.clone();
    for (axis, value) in key {
        let Some(a) = axes.get(*axis) else { continue };
        let Some((expr, _)) = a.values.get(*value) else {
            continue;
        };
        sweep::apply(ctx, env.module, env.source, &mut fields, a, expr)?;
    }
    let scope = ExpScope {
        fields: &fields,
        memo: Default::default(),
        active: Default::default(),
        graph: graph.cloned().map(Value::Graph),
    };
    let loc = fields
        .get(field)
        .map_or(env.loc(Default::default()), |e| env.loc(e.span));
    ctx.eval_field(
        Env {
            exp: Some(&scope),
            ..env
        },
        &scope,
        field,
        loc,
    )
}

/// A field that every point of the sweep replaces as a whole (`data` in a study swept over every
/// dataset) is never evaluated as written by any job, so a mistake in it (`dsprites_fulll()`)
/// would pass unreported. It is still part of the file: it is checked once, as written, with the
/// other fields as written, exactly as the job without the sweep would be.
fn check_replaced_fields(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    written: &BTreeMap<String, Ident>,
    fields: &BTreeMap<String, Expr>,
    axes: &[Axis],
    points: &[Point],
    graph: Option<&GraphValue>,
) {
    for field in written.keys() {
        let replaces = |(a, _): &(usize, usize)| {
            axes.get(*a)
                .is_some_and(|axis| matches!(axis.path.as_slice(), [only] if only.name == *field))
        };
        let every_point = !points.is_empty() && points.iter().all(|p| p.iter().any(replaces));
        if every_point {
            let _ = evaluate_field(ctx, env, fields, axes, &Vec::new(), graph, field);
        }
    }
}

fn type_error(ctx: &Ctx<'_>, loc: Loc, field: &str, expected: &str, found: &Value) -> Poisoned {
    ctx.error(
        "E0201",
        loc,
        format!(
            "field `{field}` must be `{expected}`, found `{}`",
            found.type_of()
        ),
        format!("this is `{}`", found.type_of()),
        None,
    )
}

/// Prefers a location in the experiment's own file; falls back to `fallback` (e.g. for terms made
/// inside a stdlib preset).
fn user_loc(loc: Loc, env: Env<'_>, fallback: Loc) -> Loc {
    if loc.source == env.source {
        loc
    } else {
        fallback
    }
}

// The catch-all arms match compile-time `Value`s of the wrong type (type errors).
#[allow(clippy::too_many_arguments, clippy::wildcard_enum_match_arm)]
fn assemble(
    ctx: &Ctx<'_>,
    env: Env<'_>,
    fields: &BTreeMap<String, Expr>,
    name_loc: Loc,
    loss_loc: Option<Loc>,
    graph: Option<&GraphValue>,
    data: Eval<Value>,
    model: Eval<Value>,
    loss: Option<Eval<Value>>,
    train: Eval<Value>,
    evaluate: Option<Eval<Value>>,
) -> Eval<Assembled> {
    let field_loc = |f: &str| fields.get(f).map_or(name_loc, |e| env.loc(e.span));
    // Each field is type-checked on its own, so a mistake in one does not hide one in another.
    let dataset = data.and_then(|value| match value {
        Value::Dataset(d) => Ok(*d),
        other => Err(type_error(
            ctx,
            field_loc("data"),
            "data",
            "dataset",
            &other,
        )),
    });
    let model_value = model.and_then(|value| match value {
        Value::Model(m) => Ok(*m),
        other => Err(type_error(
            ctx,
            field_loc("model"),
            "model",
            "model",
            &other,
        )),
    });
    let train = train.and_then(|value| match value {
        Value::Training(t) => Ok(t),
        other => Err(type_error(
            ctx,
            field_loc("train"),
            "train",
            "training",
            &other,
        )),
    });
    let evaluate = evaluate.transpose().and_then(|value| match value {
        None => Ok((default_evaluation(Vec::new()), Vec::new())),
        Some(Value::Evaluation(spec, locs)) => Ok((*spec, locs)),
        Some(Value::Metric(m)) => Ok((default_evaluation(vec![m.spec]), vec![m.loc])),
        Some(Value::List(items)) if items.iter().all(|v| matches!(v, Value::Metric(_))) => {
            let (specs, locs): (Vec<MetricSpec>, Vec<Loc>) = items
                .into_iter()
                .filter_map(|v| {
                    if let Value::Metric(m) = v {
                        Some((m.spec, m.loc))
                    } else {
                        None
                    }
                })
                .unzip();
            Ok((default_evaluation(specs), locs))
        }
        Some(other) => Err(type_error(
            ctx,
            field_loc("evaluate"),
            "evaluate",
            "evaluation",
            &other,
        )),
    });
    let loss_fallback = loss_loc.unwrap_or(name_loc);
    let loss = loss.transpose().and_then(|value| match value {
        None | Some(Value::Loss(_)) => Ok(value),
        Some(other) => Err(type_error(ctx, loss_fallback, "loss", "loss", &other)),
    });
    // Weights are checked without the model, so a mistake in `data` or `model` hides none here.
    let weights_ok = match &loss {
        Ok(Some(Value::Loss(terms))) => check_weights(ctx, env, terms, loss_fallback),
        Ok(_) | Err(Poisoned) => Ok(()),
    };
    // The model and its objective need the data, the model and the loss; a mistake in `train` or
    // `evaluate` does not stop them being checked (and the metrics are checked against the data).
    let (Ok(dataset), Ok(model_value), Ok(loss), Ok(())) = (dataset, model_value, loss, weights_ok)
    else {
        check_graph_alone(ctx, graph);
        return Err(Poisoned);
    };

    let obs = dataset.observation_shape.to_vec();
    // Networks built inside stdlib definitions (e.g. `conv_vae()`) are reported at the `model` field.
    let model_value = relocate_model(model_value, env, field_loc("model"));
    let Ok(model) = lower_model(ctx, &model_value, &obs) else {
        check_graph_alone(ctx, graph);
        return Err(Poisoned);
    };
    if let ModelSpec::Pca {
        components,
        samples,
    }
    | ModelSpec::Ica {
        components,
        samples,
        ..
    } = &model
    {
        // A fit finds at most min(rows, pixels) axes; more components would be undefined.
        let pixels: u64 = obs.iter().map(|v| u64::from(*v)).product();
        let most = pixels.min(u64::from(*samples));
        if u64::from(*components) > most {
            ctx.out_of_range(
                field_loc("model"),
                "components",
                components,
                &format!(
                    "at most {most} (the fit's {samples} samples of {pixels} pixels have no more axes)"
                ),
            );
            return Err(Poisoned);
        }
    }
    let declared = match &model {
        ModelSpec::Vae(v) => Declared::Numbered(v),
        ModelSpec::InfoGan(g) => Declared::Listed(g.codes.iter().map(|c| c.name.clone()).collect()),
        ModelSpec::Pca { .. } | ModelSpec::Ica { .. } => Declared::Listed(Vec::new()),
    };

    // Objective.
    let mut objective = Vec::new();
    let mut failed = false;
    let mut graph_used = false;
    match (&model, loss) {
        (ModelSpec::Pca { .. } | ModelSpec::Ica { .. }, Some(Value::Loss(terms)))
            if !terms.is_empty() =>
        {
            return Err(ctx.error(
                "E0208",
                loss_fallback,
                format!(
                    "a `{}` model is fitted, not trained: it takes no loss",
                    model_value.kind_name()
                ),
                "remove this loss",
                None,
            ));
        }
        (ModelSpec::Pca { .. } | ModelSpec::Ica { .. }, _) => {}
        (_, None) => {
            return Err(ctx.error(
                "E0111",
                name_loc,
                "the experiment has no `loss` field".to_string(),
                "`loss` is missing",
                Some("add e.g. `loss = beta_vae(beta: 4)` (from `std.models`)".to_string()),
            ));
        }
        (_, Some(Value::Loss(terms))) => {
            for t in terms {
                let loc = user_loc(t.loc, env, loss_fallback);
                match lower_term(ctx, &model, &declared, graph, &t.term, loc) {
                    Ok(Some(term)) => {
                        graph_used |= matches!(term, Term::Structural { .. });
                        objective.push(LossTerm {
                            coefficient: t.coefficient,
                            term,
                        });
                    }
                    Ok(None) => {}
                    Err(Poisoned) => failed = true,
                }
            }
        }
        (_, Some(other)) => return Err(type_error(ctx, loss_fallback, "loss", "loss", &other)),
    }
    // A graph no term uses is still checked: a cycle or an unknown node is an error either way.
    if let Some(g) = graph
        && !graph_used
        && !failed
    {
        if lower_graph(ctx, g, &declared).is_err() {
            return Err(Poisoned);
        }
        ctx.warning(
            "W0004",
            g.loc,
            "the graph is not used by any loss term".to_string(),
            "has no effect",
            Some("add `structure(graph)` to the loss, or remove the graph".to_string()),
        );
    }

    // Metric prerequisites.
    let (evaluate, metric_locs) = match evaluate {
        Ok(e) => e,
        Err(Poisoned) => {
            failed = true;
            (default_evaluation(Vec::new()), Vec::new())
        }
    };
    let eval_fallback = field_loc("evaluate");
    for (i, metric) in evaluate.metrics.iter().enumerate() {
        let loc = metric_locs
            .get(i)
            .map_or(eval_fallback, |l| user_loc(*l, env, eval_fallback));
        let name = metric_name(metric);
        if dataset.factors.is_empty() {
            ctx.error(
                "E0402",
                loc,
                format!(
                    "metric `{name}` needs ground-truth factors, but dataset `{}` declares none",
                    dataset.name
                ),
                "needs factors",
                None,
            );
            failed = true;
        } else if matches!(
            metric,
            MetricSpec::BetaVae { .. } | MetricSpec::FactorVae { .. }
        ) && !dataset.complete_grid
        {
            let message = match &dataset.kind {
                DatasetKind::Arrays { combinations, .. } => {
                    let cells: u64 = dataset.factors.iter().map(|f| u64::from(f.size)).product();
                    format!(
                        "metric `{name}` fixes one factor and samples the others, which needs every factor combination, but dataset `{}` holds {combinations} of the {cells} combinations",
                        dataset.name
                    )
                }
                _ => format!(
                    "metric `{name}` needs a complete factor grid, but dataset `{}` does not have one",
                    dataset.name
                ),
            };
            ctx.error(
                "E0401",
                loc,
                message,
                "intervenes on factors",
                Some("use metrics that only need samples, e.g. `mig`, `dci`, `sap`".to_string()),
            );
            failed = true;
        } else if let DatasetKind::Arrays { rows, .. } = &dataset.kind
            && let Some((train, test)) = held_out_points(metric)
            && *rows < train + test
        {
            ctx.error(
                "E0506",
                loc,
                format!(
                    "metric `{name}` draws {train} training and {test} test points, but dataset `{}` has {rows} rows, so test points would repeat training ones",
                    dataset.name
                ),
                "needs more rows",
                Some(format!(
                    "lower `num_train` and `num_test` to at most {rows} together, or give more rows"
                )),
            );
            failed = true;
        }
    }
    let (false, Ok(train)) = (failed, train) else {
        return Err(Poisoned);
    };
    Ok(Assembled {
        dataset,
        model,
        objective,
        train,
        evaluate,
    })
}

/// `(training points, test points)` of a metric that scores on held-out points; `None` for
/// metrics without a test set.
fn held_out_points(m: &MetricSpec) -> Option<(u64, u64)> {
    match m {
        MetricSpec::Sap {
            num_train,
            num_test,
            ..
        }
        | MetricSpec::ModularityExplicitness {
            num_train,
            num_test,
            ..
        }
        | MetricSpec::Dci {
            num_train,
            num_test,
            ..
        } => Some((u64::from(*num_train), u64::from(*num_test))),
        MetricSpec::Downstream {
            num_train,
            num_test,
            ..
        } => Some((
            num_train.iter().copied().map(u64::from).max().unwrap_or(0),
            u64::from(*num_test),
        )),
        MetricSpec::BetaVae { .. }
        | MetricSpec::FactorVae { .. }
        | MetricSpec::Mig { .. }
        | MetricSpec::Irs { .. }
        | MetricSpec::Unsupervised { .. } => None,
    }
}

fn metric_name(m: &MetricSpec) -> &'static str {
    match m {
        MetricSpec::BetaVae { .. } => "beta_vae_score",
        MetricSpec::FactorVae { .. } => "factor_vae_score",
        MetricSpec::Mig { .. } => "mig",
        MetricSpec::Sap { .. } => "sap",
        MetricSpec::ModularityExplicitness { .. } => "modularity",
        MetricSpec::Dci { .. } => "dci",
        MetricSpec::Irs { .. } => "irs",
        MetricSpec::Unsupervised { .. } => "unsupervised",
        MetricSpec::Downstream { .. } => "downstream",
    }
}

/// Moves an architecture's location to `fallback` when it lies outside the experiment's file.
fn relocate(arch: &mut Arch, env: Env<'_>, fallback: Loc) {
    arch.loc = user_loc(arch.loc, env, fallback);
}

/// [`relocate`] for every network of a model.
fn relocate_model(mut model: ModelValue, env: Env<'_>, fallback: Loc) -> ModelValue {
    match &mut model {
        ModelValue::Vae {
            encoder, decoder, ..
        } => {
            relocate(encoder, env, fallback);
            relocate(decoder, env, fallback);
        }
        ModelValue::InfoGan {
            generator,
            discriminator,
            recognition,
            ..
        } => {
            relocate(generator, env, fallback);
            relocate(discriminator, env, fallback);
            relocate(recognition, env, fallback);
        }
        ModelValue::Pca { .. } | ModelValue::Ica { .. } => {}
    }
    model
}

/// The width of InfoGAN codes: `k` one-hot values per categorical code and `per_continuous`
/// values per continuous one.
fn codes_width(codes: &[(String, CodePrior)], per_continuous: u32) -> u32 {
    codes
        .iter()
        .map(|(_, prior)| match prior {
            CodePrior::Categorical { k } => *k,
            CodePrior::Uniform { .. } | CodePrior::Normal { .. } => per_continuous,
        })
        .sum()
}

/// E0204: a network that should produce observations outputs another shape.
fn not_observations(
    ctx: &Ctx<'_>,
    what: &str,
    loc: Loc,
    output: &[u32],
    obs: &[u32],
    help: Option<String>,
) -> Poisoned {
    ctx.error(
        "E0204",
        loc,
        format!(
            "the {what} outputs {}, but observations are {}",
            shape_text(output),
            shape_text(obs)
        ),
        format!("outputs {}", shape_text(output)),
        help,
    )
}

/// Shape-infers an architecture, reporting E0203 at the failing layer when it is written inside
/// the architecture's list, else at the architecture's location.
fn network(ctx: &Ctx<'_>, what: &str, input: &[u32], arch: &Arch) -> Eval<Network> {
    crate::shape::infer_network(input, &arch.layers).map_err(|err| {
        let at = arch
            .layer_locs
            .get(err.layer_index)
            .copied()
            .filter(|l| {
                l.source == arch.loc.source
                    && l.span.start >= arch.loc.span.start
                    && l.span.end <= arch.loc.span.end
            })
            .unwrap_or(arch.loc);
        ctx.error(
            "E0203",
            at,
            format!("the {what} does not fit together: {err}"),
            format!("layer {} of the {what} fails", err.layer_index),
            Some(format!("the {what}'s input is {}", shape_text(input))),
        )
    })
}

fn shape_text(shape: &[u32]) -> String {
    format!(
        "[{}]",
        shape
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn lower_model(ctx: &Ctx<'_>, model: &ModelValue, obs: &[u32]) -> Eval<ModelSpec> {
    match model {
        ModelValue::Vae {
            latents,
            prefix,
            encoder,
            decoder,
            recon,
        } => {
            let enc = network(ctx, "encoder", obs, encoder);
            let dec = network(ctx, "decoder", &[*latents], decoder);
            let (enc, dec) = (enc?, dec?);
            match encoder.layers.last() {
                Some(Layer::GaussianHead { units }) if units == latents => {}
                Some(Layer::GaussianHead { units }) => {
                    return Err(ctx.error(
                        "E0205",
                        encoder.loc,
                        format!("the encoder's gaussian head has {units} units, but the model has {latents} latents"),
                        format!("outputs {units} latents"),
                        Some(format!("pass `latents: {latents}` to the encoder")),
                    ));
                }
                _ => {
                    return Err(ctx.error(
                        "E0205",
                        encoder.loc,
                        "the encoder must end in `gaussian_head(latents)`".to_string(),
                        "no gaussian head at the end",
                        Some(format!("append `gaussian_head({latents})`")),
                    ));
                }
            }
            if dec.output != obs {
                return Err(not_observations(
                    ctx,
                    "decoder",
                    decoder.loc,
                    &dec.output,
                    obs,
                    Some("match the data, e.g. `channels: data.channels`".to_string()),
                ));
            }
            Ok(ModelSpec::Vae(VaeSpec {
                latent_prefix: prefix.clone(),
                latents: *latents,
                encoder: enc,
                decoder: dec,
                reconstruction: *recon,
            }))
        }
        ModelValue::InfoGan {
            noise,
            codes,
            generator,
            discriminator,
            recognition,
            learned_variance,
            optimizer,
            discriminator_updates,
        } => {
            // The generator reads one value per continuous code; the recognition head outputs a
            // mean (and a log-variance when learned) per continuous code.
            let code_width = codes_width(codes, 1);
            let head_width = codes_width(codes, if *learned_variance { 2 } else { 1 });
            let generator_net = network(ctx, "generator", &[noise + code_width], generator);
            let disc = network(ctx, "discriminator", obs, discriminator);
            let (generator_net, disc) = (generator_net?, disc?);
            if generator_net.output != obs {
                return Err(not_observations(
                    ctx,
                    "generator",
                    generator.loc,
                    &generator_net.output,
                    obs,
                    None,
                ));
            }
            let features = match disc.output.as_slice() {
                [n] => *n,
                other => {
                    return Err(ctx.error(
                        "E0209",
                        discriminator.loc,
                        format!(
                            "the discriminator must output a feature vector, found {}",
                            shape_text(other)
                        ),
                        "not a vector",
                        Some("end it with `flatten` or a `dense` layer".to_string()),
                    ));
                }
            };
            let adversarial = Arch {
                layers: vec![Layer::Dense { units: 1 }],
                loc: discriminator.loc,
                layer_locs: vec![],
            };
            let mut rec_layers = recognition.layers.clone();
            rec_layers.push(Layer::Dense { units: head_width });
            let rec = Arch {
                layers: rec_layers,
                loc: recognition.loc,
                layer_locs: recognition.layer_locs.clone(),
            };
            let adversarial_head = network(ctx, "adversarial head", &[features], &adversarial)?;
            let recognition_head = network(ctx, "recognition head", &[features], &rec)?;
            Ok(ModelSpec::InfoGan(GanSpec {
                noise: *noise,
                codes: codes
                    .iter()
                    .map(|(name, prior)| crate::plan::CodeSpec {
                        name: name.clone(),
                        prior: prior.clone(),
                    })
                    .collect(),
                generator: generator_net,
                discriminator: disc,
                adversarial_head,
                recognition_head,
                learned_variance: *learned_variance,
                discriminator_optimizer: optimizer.clone(),
                discriminator_updates: *discriminator_updates,
            }))
        }
        ModelValue::Pca {
            components,
            samples,
        } => Ok(ModelSpec::Pca {
            components: *components,
            samples: *samples,
        }),
        ModelValue::Ica {
            components,
            samples,
            tol,
            max_iter,
            alpha,
        } => Ok(ModelSpec::Ica {
            components: *components,
            samples: *samples,
            tol: *tol,
            max_iter: *max_iter,
            alpha: *alpha,
        }),
    }
}

#[allow(clippy::too_many_arguments)]
fn lower_term(
    ctx: &Ctx<'_>,
    model: &ModelSpec,
    declared: &Declared<'_>,
    exp_graph: Option<&GraphValue>,
    term: &TermValue,
    loc: Loc,
) -> Eval<Option<Term>> {
    let model_kind = match model {
        ModelSpec::Vae(_) => "vae",
        ModelSpec::InfoGan(_) => "infogan",
        ModelSpec::Pca { .. } => "pca",
        ModelSpec::Ica { .. } => "ica",
    };
    let needs = |what: &str, ok: bool, name: &str| -> Eval<()> {
        if ok {
            Ok(())
        } else {
            Err(ctx.error(
                "E0208",
                loc,
                format!("`{name}` needs the model to be `{what}`, but it is `{model_kind}`"),
                format!("needs `{what}`"),
                None,
            ))
        }
    };
    let is_vae = matches!(model, ModelSpec::Vae(_));
    let is_gan = matches!(model, ModelSpec::InfoGan(_));
    Ok(Some(match term {
        TermValue::Recon => {
            needs("vae", is_vae, "recon")?;
            Term::Reconstruction
        }
        TermValue::Kl => {
            needs("vae", is_vae, "kl")?;
            Term::Kl
        }
        TermValue::Capacity {
            c_max,
            iteration_threshold,
        } => {
            needs("vae", is_vae, "capacity")?;
            Term::Capacity {
                c_max: *c_max,
                iteration_threshold: *iteration_threshold,
            }
        }
        TermValue::Tc => {
            needs("vae", is_vae, "tc")?;
            Term::TotalCorrelation
        }
        TermValue::DiscriminatorTc {
            discriminator,
            optimizer,
        } => {
            needs("vae", is_vae, "discriminator_tc")?;
            let latents = match model {
                ModelSpec::Vae(v) => v.latents,
                ModelSpec::InfoGan(_) | ModelSpec::Pca { .. } | ModelSpec::Ica { .. } => 0,
            };
            // The reference discriminator is built inside the `factor_vae` preset: report at the term.
            let discriminator = &Arch {
                loc: if discriminator.loc.source == loc.source {
                    discriminator.loc
                } else {
                    loc
                },
                layers: discriminator.layers.clone(),
                layer_locs: discriminator.layer_locs.clone(),
            };
            let net = network(ctx, "discriminator", &[latents], discriminator)?;
            if net.output != [2] {
                return Err(ctx.error(
                    "E0209",
                    discriminator.loc,
                    format!(
                        "the FactorVAE discriminator must output 2 logits, found {}",
                        shape_text(&net.output)
                    ),
                    "must end in `dense(2)`",
                    None,
                ));
            }
            Term::DiscriminatorTc {
                discriminator: net,
                optimizer: optimizer.clone(),
            }
        }
        TermValue::Dip {
            kind,
            lambda_od,
            lambda_d,
        } => {
            needs("vae", is_vae, "dip")?;
            Term::DipCovariance {
                kind: *kind,
                lambda_od: *lambda_od,
                lambda_d: *lambda_d,
            }
        }
        TermValue::Gan { loss } => {
            needs("infogan", is_gan, "gan")?;
            Term::Adversarial { loss: *loss }
        }
        TermValue::Info { codes } => {
            needs("infogan", is_gan, "info")?;
            let codes = match codes {
                None => declared.names(),
                Some((names, codes_loc)) => {
                    for n in names {
                        if !declared.contains(n) {
                            return Err(ctx.error(
                                "E0302",
                                *codes_loc,
                                format!("`{n}` is not a code of the model"),
                                "undeclared code",
                                declared.suggest(n).map(|s| format!("did you mean `{s}`?")),
                            ));
                        }
                    }
                    names.clone()
                }
            };
            Term::MutualInformation { codes }
        }
        TermValue::Structure { graph, cpd } => {
            if matches!(model, ModelSpec::Pca { .. } | ModelSpec::Ica { .. }) {
                needs("vae` or `infogan", false, "structure")?;
            }
            let Some(g) = graph.as_ref().or(exp_graph) else {
                return Err(ctx.error(
                    "E0303",
                    loc,
                    "`structure` needs a latent graph, but the experiment has none".to_string(),
                    "no graph to score",
                    Some("add a block like `graph { z0 -> z1 }` to the experiment".to_string()),
                ));
            };
            let graph = lower_graph(ctx, g, declared)?;
            let nodes = crate::players::structural_nodes(model, &graph, *cpd).map_err(|err| {
                let crate::players::NodeError::CategoricalCode { code } = err;
                // Point at the first edge that names the code.
                let at = g
                    .edges
                    .iter()
                    .find_map(|((a, la), (b, lb))| {
                        (*a == code).then_some(*la).or((*b == code).then_some(*lb))
                    })
                    .unwrap_or(g.loc);
                ctx.error(
                    "E0230",
                    at,
                    format!(
                        "code `{code}` is categorical, but structural models take only continuous codes"
                    ),
                    "categorical code in the graph",
                    Some(format!(
                        "remove the edges of `{code}`, or give it a `uniform` or `normal` prior"
                    )),
                )
            })?;
            Term::Structural {
                graph,
                cpd: *cpd,
                nodes,
            }
        }
    }))
}

/// Terms whose weight is a divergence's multiplier (β, γ, λ) must not have a negative weight: a
/// negative KL or total-correlation weight rewards the opposite of what the objective means.
fn check_weights(ctx: &Ctx<'_>, env: Env<'_>, terms: &[WeightedTerm], loss_loc: Loc) -> Eval<()> {
    let mut failed = false;
    for t in terms {
        let name = match t.term {
            TermValue::Kl => "kl",
            TermValue::Capacity { .. } => "capacity",
            TermValue::DiscriminatorTc { .. } => "discriminator_tc",
            TermValue::Recon
            | TermValue::Tc
            | TermValue::Dip { .. }
            | TermValue::Gan { .. }
            | TermValue::Info { .. }
            | TermValue::Structure { .. } => continue,
        };
        if t.coefficient < 0.0 {
            ctx.error(
                "E0202",
                user_loc(t.loc, env, loss_loc),
                format!(
                    "the weight of `{name}` must be >= 0, found {}",
                    t.coefficient
                ),
                format!("gives `{name}` a negative weight"),
                Some("β, γ and λ are non-negative".to_string()),
            );
            failed = true;
        }
    }
    if failed { Err(Poisoned) } else { Ok(()) }
}

/// The latents or codes a model declares, for the lookups of its graph and its terms.
///
/// A VAE's units are numbered (`z0`..`z9`) and are not listed here: `latents` can be large, and
/// a list per lowered job costs memory and time in proportion (`latents: 10300k`, a typo, made
/// `disc check` of a swept study allocate over 20 GiB). Only a graph, which the plan orders over
/// every unit, lists them ([`Declared::names`]).
enum Declared<'a> {
    Numbered(&'a VaeSpec),
    Listed(Vec<String>),
}

impl Declared<'_> {
    /// How many units suggestions ([`Declared::suggest`]) consider: a typo of a higher unit's
    /// name keeps its digits, so it is `numbered_like` and gets the range note instead.
    const SUGGESTED_UNITS: u32 = 1000;

    fn position(&self, name: &str) -> Option<usize> {
        match self {
            Declared::Numbered(vae) => vae.latent_index(name).map(|i| i as usize),
            Declared::Listed(names) => names.iter().position(|d| d == name),
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Every name, in declaration order (O(units)).
    fn names(&self) -> Vec<String> {
        match self {
            Declared::Numbered(vae) => (0..vae.latents).map(|i| vae.latent_name(i)).collect(),
            Declared::Listed(names) => names.clone(),
        }
    }

    /// A declared name close to `name`, for a "did you mean" help.
    fn suggest(&self, name: &str) -> Option<String> {
        match self {
            Declared::Numbered(vae) => {
                let names: Vec<String> = (0..vae.latents.min(Self::SUGGESTED_UNITS))
                    .map(|i| vae.latent_name(i))
                    .collect();
                did_you_mean(name, names.iter().map(String::as_str))
            }
            Declared::Listed(names) => did_you_mean(name, names.iter().map(String::as_str)),
        }
    }

    /// The first and the last name, for "the model declares `z0` .. `z9`".
    fn range(&self) -> Option<(String, String)> {
        match self {
            Declared::Numbered(vae) => vae
                .latents
                .checked_sub(1)
                .map(|last| (vae.latent_name(0), vae.latent_name(last))),
            Declared::Listed(names) => Some((names.first()?.clone(), names.last()?.clone())),
        }
    }

    /// Whether `name` is a stem and a number like the declared names (`z12` for `z0`..`z9`).
    fn numbered_like(&self, name: &str) -> bool {
        let stem = |n: &str| n.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let s = stem(name);
        let like = |d: &str| stem(d) < d.len() && d.get(..stem(d)) == name.get(..s);
        s < name.len()
            && match self {
                // Every unit's name has the same stem as the first one's.
                Declared::Numbered(vae) => vae.latents > 0 && like(&vae.latent_name(0)),
                Declared::Listed(names) => names.iter().any(|d| like(d)),
            }
    }
}

/// Checks a graph against the declared latents/codes and makes it a DAG in topological order.
/// When no model can be built, the graph is still checked for cycles over its own nodes: a cycle
/// is a mistake whatever the model declares.
fn check_graph_alone(ctx: &Ctx<'_>, graph: Option<&GraphValue>) {
    let Some(g) = graph else {
        return;
    };
    let mut nodes: Vec<String> = Vec::new();
    for ((a, _), (b, _)) in &g.edges {
        for name in [a, b] {
            if !nodes.contains(name) {
                nodes.push(name.clone());
            }
        }
    }
    // Every node is declared here, so only a cycle can be reported.
    let _ = lower_graph(ctx, g, &Declared::Listed(nodes));
}

fn lower_graph(
    ctx: &Ctx<'_>,
    g: &GraphValue,
    declared: &Declared<'_>,
) -> Eval<crate::plan::GraphSpec> {
    let mut edges = Vec::new();
    let mut failed = false;
    for ((a, a_loc), (b, b_loc)) in &g.edges {
        let mut index = |name: &str, loc: Loc| match declared.position(name) {
            Some(i) => Some(i),
            None => {
                ctx.error(
                    "E0302",
                    loc,
                    format!("graph node `{name}` is not a latent or code of the model"),
                    "undeclared node",
                    // `z12` with latents `z0`..`z9` is out of range, not a typo of `z1`.
                    (!declared.numbered_like(name))
                        .then(|| declared.suggest(name))
                        .flatten()
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| {
                            Some(match declared.range() {
                                Some((f, l)) => format!("the model declares `{f}` .. `{l}`"),
                                None => "the model declares no latents".to_string(),
                            })
                        }),
                );
                failed = true;
                None
            }
        };
        let (ia, ib) = (index(a, *a_loc), index(b, *b_loc));
        if let (Some(ia), Some(ib)) = (ia, ib) {
            edges.push((ia, ib));
        }
    }
    if failed {
        return Err(Poisoned);
    }
    let declared = declared.names();
    crate::graph::check_dag(&declared, &edges).map_err(|err| {
        let names: Vec<&str> = err
            .cycle
            .iter()
            .filter_map(|i| declared.get(*i).map(String::as_str))
            .collect();
        // Point at the first written edge that lies on the cycle.
        let on_cycle = |a: &str, b: &str| {
            names
                .windows(2)
                .any(|w| matches!(w, [x, y] if *x == a && *y == b))
        };
        let loc = g
            .edges
            .iter()
            .find(|((a, _), (b, _))| on_cycle(a, b))
            .map_or(g.loc, |((_, la), (_, lb))| Loc {
                source: la.source,
                span: la.span.to(lb.span),
            });
        ctx.error(
            "E0301",
            loc,
            format!("the latent graph has a cycle: {}", names.join(" -> ")),
            "this edge closes a cycle",
            Some("a structural graph must be acyclic; remove one edge of the cycle".to_string()),
        )
    })
}
