//! Evaluation of `.dis` expressions to typed compile-time [`Value`]s, with type checks.
//!
//! Every definition is checked when it is used, with the arguments it is used with (like a template
//! instantiation): arguments are bound to typed parameters, defaults filled in, the body evaluated
//! and its result checked against the declared type. Errors go to the [`Sink`]; the evaluator then
//! returns [`Poisoned`], which stops cascades: a poisoned value is never reported again.
//! This module must not lower to the plan or do IO.

// Matches on compile-time `Value`s end in a catch-all on purpose: every value of another type is
// a type error there. AST and plan enums are matched exhaustively.
#![allow(clippy::wildcard_enum_match_arm)]

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use disc_grammar::ast::{Arg, BinOp, Expr, ExprKind, TypeExpr, TypeExprKind};

use crate::builtins;
use crate::diagnostic::{Diagnostic, Severity, SourceId};
use crate::resolve::{DefId, Program};
use crate::suggest::did_you_mean;
use crate::value::{Arch, Loc, RecordEntry, Type, Value, WeightedTerm};

/// Marker: an error was already reported for this value; callers stop without reporting more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Poisoned;

/// How deep definitions (and experiment fields) may call each other; bounds the evaluator's stack.
const MAX_CALL_DEPTH: usize = 128;

/// Result of evaluating something.
pub(crate) type Eval<T> = Result<T, Poisoned>;

/// Collects diagnostics, dropping exact duplicates (the same mistake seen from many sweep points).
#[derive(Debug, Default)]
pub(crate) struct Sink {
    diagnostics: Vec<Diagnostic>,
    seen: BTreeSet<(&'static str, u32, usize, usize, String)>,
    errors: usize,
}

impl Sink {
    /// Adds a diagnostic unless the same one is already there.
    pub fn push(&mut self, d: Diagnostic) {
        let message = d.message.clone();
        self.push_as(d, message);
    }

    /// Adds a diagnostic unless one with the same code, place and `message` (the message without
    /// any sweep-point note, so a mistake shared by many points is reported once) is there.
    pub fn push_as(&mut self, d: Diagnostic, message: String) {
        let key = (d.code, d.source.0, d.span.start, d.span.end, message);
        if self.seen.insert(key) {
            if matches!(d.severity, Severity::Error) {
                self.errors += 1;
            }
            self.diagnostics.push(d);
        }
    }

    /// Adds an error.
    pub fn error(
        &mut self,
        code: &'static str,
        loc: Loc,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.push(Diagnostic {
            code,
            severity: Severity::Error,
            message,
            source: SourceId(loc.source),
            span: loc.span.range(),
            label: label.into(),
            help,
        });
    }

    /// Adds a warning.
    pub fn warning(
        &mut self,
        code: &'static str,
        loc: Loc,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.push(Diagnostic {
            code,
            severity: Severity::Warning,
            message,
            source: SourceId(loc.source),
            span: loc.span.range(),
            label: label.into(),
            help,
        });
    }

    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// The diagnostics in the order they were reported.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }
}

/// Shared evaluation state for one compilation.
pub(crate) struct Ctx<'p> {
    /// The loaded files.
    pub program: &'p Program,
    /// Answers questions about data files (`arrays(...)`).
    loader: &'p dyn crate::Loader,
    /// Answers already given, so a sweep asks about each file once.
    array_facts:
        RefCell<BTreeMap<crate::ArrayRequest, Result<crate::ArrayFacts, crate::ArrayFileError>>>,
    /// Diagnostics.
    pub sink: RefCell<Sink>,
    /// Values of parameterless definitions, computed once.
    consts: RefCell<BTreeMap<DefId, Eval<Value>>>,
    /// Definitions being evaluated (recursion detection).
    stack: RefCell<Vec<DefId>>,
    /// Sources that belong to the standard library.
    std_sources: BTreeSet<u32>,
    /// While a stdlib definition called from user code is evaluated: that call's location and the
    /// definition's name. Errors found inside the stdlib are reported there, where the user can act.
    user_site: RefCell<Option<(Loc, String)>>,
    /// While one sweep point's fields are checked: which job (`job 1: data=...`) and
    /// where the sweep block is. An error outside the block names the point, since the code
    /// the user sees there is not what that point evaluates.
    pub point_note: RefCell<Option<(String, Loc)>>,
    /// While a built-in is checked with defaults in place of its invalid optional arguments: the
    /// locations of its valid arguments. Only mistakes found there are reported; one found
    /// elsewhere (at the call, e.g. a procedural dataset without its `source`) may be caused by
    /// the substituted default, so it would mislead.
    within: RefCell<Option<Vec<Loc>>>,
}

/// The experiment fields visible to an expression, with their (possibly swept) expressions.
pub(crate) struct ExpScope<'e> {
    /// Field name → expression (after sweep overrides).
    pub fields: &'e BTreeMap<String, Expr>,
    /// Fields computed so far.
    pub memo: RefCell<BTreeMap<String, Eval<Value>>>,
    /// Fields being computed (cycle detection).
    pub active: RefCell<Vec<String>>,
    /// The experiment's graph block, bound to the name `graph`.
    pub graph: Option<Value>,
}

/// Where an expression is evaluated.
#[derive(Clone, Copy)]
pub(crate) struct Env<'e> {
    /// The module whose scope resolves names.
    pub module: usize,
    /// The source file of the expression.
    pub source: u32,
    /// Parameters of the definition being evaluated; `Poisoned` for an argument that failed
    /// (already reported), so the body is still checked with the others.
    pub locals: Option<&'e BTreeMap<String, Eval<Value>>>,
    /// The experiment, for field references.
    pub exp: Option<&'e ExpScope<'e>>,
}

impl Env<'_> {
    /// The location of `span` in this env's file.
    pub fn loc(&self, span: disc_grammar::ast::Span) -> Loc {
        Loc {
            source: self.source,
            span,
        }
    }
}

/// An evaluated call argument.
#[derive(Debug, Clone)]
pub(crate) struct ArgValue {
    /// The parameter name and its location, for named arguments.
    pub name: Option<(String, Loc)>,
    /// The value, or `Poisoned` when evaluating it failed (already reported).
    pub value: Eval<Value>,
    /// The location of the value expression.
    pub loc: Loc,
}

/// A parameter of something callable.
#[derive(Debug, Clone)]
pub(crate) struct ParamSpec {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Whether it may be omitted.
    pub has_default: bool,
}

/// How far matching arguments to parameters got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binding {
    /// Every argument is valid and every required parameter has one.
    Complete,
    /// Only optional parameters have invalid arguments (reported); their slots are empty.
    InvalidOptional,
    /// Anything else (reported): an unknown, repeated or extra argument, or an invalid or
    /// missing required one.
    Failed,
}

/// Arguments matched to parameters: one slot per parameter.
pub(crate) type Bound = Vec<Option<(Value, Loc)>>;

impl<'p> Ctx<'p> {
    /// A context over a loaded program.
    pub fn new(program: &'p Program, loader: &'p dyn crate::Loader, sink: Sink) -> Self {
        Ctx {
            program,
            loader,
            array_facts: RefCell::new(BTreeMap::new()),
            sink: RefCell::new(sink),
            consts: RefCell::new(BTreeMap::new()),
            stack: RefCell::new(Vec::new()),
            std_sources: (0u32..)
                .zip(&program.sources)
                .filter(|(_, s)| s.name.starts_with("<stdlib/"))
                .map(|(i, _)| i)
                .collect(),
            user_site: RefCell::new(None),
            point_note: RefCell::new(None),
            within: RefCell::new(None),
        }
    }

    /// What the loader knows about the arrays of `request`, asked once per compilation.
    pub fn array_facts(
        &self,
        request: &crate::ArrayRequest,
    ) -> Result<crate::ArrayFacts, crate::ArrayFileError> {
        if let Some(known) = self.array_facts.borrow().get(request) {
            return known.clone();
        }
        let answer = self.loader.array_facts(request);
        self.array_facts
            .borrow_mut()
            .insert(request.clone(), answer.clone());
        answer
    }

    /// Reports an error (see [`Sink::error`]) and returns `Poisoned` for convenience.
    ///
    /// An error located inside the standard library while a stdlib definition called from user
    /// code is evaluated is moved to that call (the user cannot edit the stdlib); the message names
    /// the definition and the help line gives the stdlib line, unless the error has a help already.
    pub fn error(
        &self,
        code: &'static str,
        loc: Loc,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Poisoned {
        if !self.reportable(loc) {
            return Poisoned;
        }
        let site = self.user_site.borrow().clone();
        let (loc, message, help) = match site {
            Some((site, name)) if self.std_sources.contains(&loc.source) => {
                let source = self.program.sources.get(loc.source as usize);
                let line = source
                    .and_then(|s| s.text.get(..loc.span.start))
                    .map_or(1, |t| t.matches('\n').count() + 1);
                let file = source.map_or("the standard library", |s| s.name.as_str());
                let help = help.or_else(|| Some(format!("the check fails at {file} line {line}")));
                (site, format!("{message} (inside `{name}`)"), help)
            }
            _ => (loc, message, help),
        };
        let shown = match &*self.point_note.borrow() {
            Some((note, block))
                if !(block.source == loc.source
                    && block.span.start <= loc.span.start
                    && loc.span.end <= block.span.end) =>
            {
                format!("{message} ({note})")
            }
            _ => message.clone(),
        };
        self.sink.borrow_mut().push_as(
            Diagnostic {
                code,
                severity: Severity::Error,
                message: shown,
                source: SourceId(loc.source),
                span: loc.span.range(),
                label: label.into(),
                help,
            },
            message,
        );
        Poisoned
    }

    /// Whether a mistake found at `loc` is reported (see `within`).
    fn reportable(&self, loc: Loc) -> bool {
        self.within.borrow().as_ref().is_none_or(|allowed| {
            allowed.iter().any(|a| {
                a.source == loc.source
                    && a.span.start <= loc.span.start
                    && loc.span.end <= a.span.end
            })
        })
    }

    /// Reports a warning.
    pub fn warning(
        &self,
        code: &'static str,
        loc: Loc,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        if !self.reportable(loc) {
            return;
        }
        self.sink
            .borrow_mut()
            .warning(code, loc, message, label, help);
    }

    /// Reports a value outside its allowed range (E0202).
    pub fn out_of_range(
        &self,
        loc: Loc,
        what: &str,
        value: impl std::fmt::Display,
        rule: &str,
    ) -> Poisoned {
        self.error(
            "E0202",
            loc,
            format!("`{what}` must be {rule}, found {value}"),
            format!("must be {rule}"),
            None,
        )
    }

    /// Evaluates an expression.
    pub fn eval(&self, env: Env<'_>, expr: &Expr) -> Eval<Value> {
        let loc = env.loc(expr.span);
        match &expr.kind {
            ExprKind::Int(v) => Ok(Value::Int(*v)),
            ExprKind::Float(v) => Ok(Value::Float(*v)),
            ExprKind::Bool(v) => Ok(Value::Bool(*v)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Name(name) => self.eval_name(env, name, loc),
            ExprKind::Member(base, field) => {
                // `prim.x`: the primitive `x`, also where a stdlib definition shadows it.
                if let ExprKind::Name(root) = &base.kind
                    && root == "prim"
                    && !self.name_is_bound(env, root)
                {
                    return self.call_prim_by_name(&field.name, &[], env.loc(field.span), loc);
                }
                let value = self.eval(env, base)?;
                builtins::member(self, value, &field.name, env.loc(field.span))
            }
            ExprKind::Call { callee, args } => self.eval_call(env, callee, args, loc),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                let layer_locs: Vec<Loc> = items.iter().map(|i| env.loc(i.span)).collect();
                let mut poisoned = false;
                for item in items {
                    match self.eval(env, item) {
                        Ok(v) => out.push(v),
                        Err(Poisoned) => poisoned = true,
                    }
                }
                if poisoned {
                    return Err(Poisoned);
                }
                // A list of layers is an architecture.
                if !out.is_empty() && out.iter().all(|v| matches!(v, Value::Layer(_))) {
                    let layers = out
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::Layer(l) => Some(l),
                            _ => None,
                        })
                        .collect();
                    return Ok(Value::Arch(Arch {
                        layers,
                        loc,
                        layer_locs,
                    }));
                }
                Ok(Value::List(out))
            }
            ExprKind::Tuple(items) => {
                let values: Vec<Eval<Value>> = items.iter().map(|i| self.eval(env, i)).collect();
                Ok(Value::Tuple(values.into_iter().collect::<Eval<Vec<_>>>()?))
            }
            ExprKind::Record(entries) => {
                let mut out: Vec<RecordEntry> = Vec::with_capacity(entries.len());
                let mut poisoned = false;
                for (key, value) in entries {
                    if out.iter().any(|entry| entry.key == key.name) {
                        self.error(
                            "E0102",
                            env.loc(key.span),
                            format!("record key `{}` is given twice", key.name),
                            "duplicate key",
                            None,
                        );
                        poisoned = true;
                        continue;
                    }
                    match self.eval(env, value) {
                        Ok(v) => out.push(RecordEntry {
                            key: key.name.clone(),
                            value: v,
                            loc: env.loc(key.span.to(value.span)),
                        }),
                        Err(Poisoned) => poisoned = true,
                    }
                }
                if poisoned {
                    Err(Poisoned)
                } else {
                    Ok(Value::Record(out))
                }
            }
            ExprKind::Neg(inner) => {
                let v = self.eval(env, inner)?;
                match v {
                    Value::Int(i) => Ok(Value::Int(-i)),
                    Value::Float(f) => Ok(Value::Float(-f)),
                    Value::Loss(terms) => Ok(Value::Loss(scale_terms(terms, -1.0))),
                    other => Err(self.error(
                        "E0206",
                        loc,
                        format!("cannot negate a value of type `{}`", other.type_of()),
                        "not a number or a loss",
                        None,
                    )),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(env, lhs);
                let r = self.eval(env, rhs);
                let (l, r) = (l?, r?);
                binary(self, *op, l, r, loc)
            }
            ExprKind::Range(start, end) => {
                // Both bounds are checked, each on its own.
                let s = self.eval(env, start);
                let e = self.eval(env, end);
                match (s?, e?) {
                    (Value::Int(s), Value::Int(e)) => {
                        // No list a plan can use is longer than a plan's jobs; a longer range
                        // would only exhaust memory.
                        let limit = crate::sweep::MAX_JOBS;
                        if i128::from(e) - i128::from(s) > i128::from(limit) {
                            return Err(self.out_of_range(
                                loc,
                                "range",
                                format!("{s}..{e}"),
                                "at most 1M long",
                            ));
                        }
                        Ok(Value::List((s..e).map(Value::Int).collect()))
                    }
                    (s, e) => Err(self.error(
                        "E0201",
                        loc,
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
        }
    }

    fn name_is_bound(&self, env: Env<'_>, name: &str) -> bool {
        env.locals.is_some_and(|l| l.contains_key(name))
            || env.exp.is_some_and(|e| e.fields.contains_key(name))
            || self
                .program
                .modules
                .get(env.module)
                .is_some_and(|m| m.scope.contains_key(name))
    }

    fn eval_name(&self, env: Env<'_>, name: &str, loc: Loc) -> Eval<Value> {
        if let Some(v) = env.locals.and_then(|l| l.get(name)) {
            return v.clone();
        }
        if let Some(exp) = env.exp {
            if name == "graph"
                && let Some(g) = &exp.graph
            {
                return Ok(g.clone());
            }
            if exp.fields.contains_key(name) {
                return self.eval_field(env, exp, name, loc);
            }
        }
        if let Some(id) = self
            .program
            .modules
            .get(env.module)
            .and_then(|m| m.scope.get(name))
        {
            return self.call_def(*id, &[], loc);
        }
        if builtins::is_bare(name) {
            return self.call_prim_by_name(name, &[], loc, loc);
        }
        Err(self.unknown_name(env, name, loc))
    }

    // Kept out of `eval_name`, which is on the recursion path of deep definition chains: its
    // stack frame must stay small.
    #[inline(never)]
    fn unknown_name(&self, env: Env<'_>, name: &str, loc: Loc) -> Poisoned {
        if name == "graph" && env.exp.is_some() {
            return self.error(
                "E0303",
                loc,
                "`graph` names the experiment's latent graph, but the experiment has none"
                    .to_string(),
                "no graph block",
                Some("add a block like `graph { z0 -> z1 }` to the experiment".to_string()),
            );
        }
        let mut candidates: Vec<String> = Vec::new();
        if let Some(l) = env.locals {
            candidates.extend(l.keys().cloned());
        }
        if let Some(e) = env.exp {
            candidates.extend(e.fields.keys().cloned());
        }
        if let Some(m) = self.program.modules.get(env.module) {
            candidates.extend(m.scope.keys().cloned());
        }
        candidates.extend(builtins::bare_names().map(str::to_string));
        let suggestion = did_you_mean(name, candidates.iter().map(String::as_str));
        let help = match suggestion {
            Some(s) => Some(format!("did you mean `{s}`?")),
            None => stdlib_home(name)
                .map(|m| format!("import it with `use std.{m}.{name}`"))
                .or_else(|| {
                    // Optimizers of other libraries: say which exist.
                    [
                        "sgd", "adamw", "rmsprop", "adagrad", "momentum", "lamb", "lion",
                    ]
                    .contains(&name.to_lowercase().as_str())
                    .then(|| {
                        "the optimizer is `adam(lr, betas, eps)`; there is no other".to_string()
                    })
                })
                .or_else(|| {
                    // A close name in a standard-library module that is not imported.
                    let close = did_you_mean(name, stdlib_names())?;
                    let m = stdlib_home(&close)?;
                    Some(format!(
                        "did you mean `{close}`? import it with `use std.{m}.{close}`"
                    ))
                }),
        };
        self.error(
            "E0101",
            loc,
            format!("unknown name `{name}`"),
            "not defined",
            help,
        )
    }

    /// Evaluates an experiment field (memoised per scope, with cycle detection).
    pub fn eval_field(
        &self,
        env: Env<'_>,
        exp: &ExpScope<'_>,
        name: &str,
        loc: Loc,
    ) -> Eval<Value> {
        if let Some(v) = exp.memo.borrow().get(name) {
            return v.clone();
        }
        if exp.active.borrow().len() >= MAX_CALL_DEPTH {
            return Err(self.error(
                "E0116",
                loc,
                format!("fields refer to each other more than {MAX_CALL_DEPTH} levels deep"),
                "nested too deeply",
                None,
            ));
        }
        if exp.active.borrow().iter().any(|n| n == name) {
            let chain = exp.active.borrow().join(" -> ");
            return Err(self.error(
                "E0113",
                loc,
                format!("field `{name}` depends on itself ({chain} -> {name})"),
                "refers back to itself",
                None,
            ));
        }
        let Some(expr) = exp.fields.get(name) else {
            return Err(self.unknown_name(env, name, loc));
        };
        exp.active.borrow_mut().push(name.to_string());
        let field_env = Env {
            module: env.module,
            source: env.source,
            locals: None,
            exp: Some(exp),
        };
        let result = self.eval(field_env, expr);
        exp.active.borrow_mut().pop();
        exp.memo
            .borrow_mut()
            .insert(name.to_string(), result.clone());
        result
    }

    fn eval_call(&self, env: Env<'_>, callee: &Expr, args: &[Arg], loc: Loc) -> Eval<Value> {
        // Evaluate arguments first so that all their errors are reported.
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            let value = self.eval(env, &arg.value);
            values.push(ArgValue {
                name: arg.name.as_ref().map(|n| (n.name.clone(), env.loc(n.span))),
                value,
                loc: env.loc(arg.value.span),
            });
        }
        let callee_loc = env.loc(callee.span);
        match &callee.kind {
            ExprKind::Name(name) => {
                let shadowed = env.locals.is_some_and(|l| l.contains_key(name.as_str()))
                    || env
                        .exp
                        .is_some_and(|e| e.fields.contains_key(name.as_str()));
                if !shadowed {
                    if let Some(id) = self
                        .program
                        .modules
                        .get(env.module)
                        .and_then(|m| m.scope.get(name))
                    {
                        // A definition, too, is checked with its other arguments when one failed.
                        return self.call_def(*id, &values, loc);
                    }
                    if builtins::is_bare(name) {
                        // A built-in checks its other arguments even when one failed.
                        return self.call_prim_by_name(name, &values, callee_loc, loc);
                    }
                    if !self.name_is_bound(env, name) {
                        return Err(self.unknown_name(env, name, callee_loc));
                    }
                }
            }
            ExprKind::Member(base, field) => {
                if let ExprKind::Name(root) = &base.kind
                    && root == "prim"
                    && !self.name_is_bound(env, root)
                {
                    return self.call_prim_by_name(&field.name, &values, env.loc(field.span), loc);
                }
            }
            _ => {}
        }
        let value = self.eval(env, callee)?;
        Err(self.error(
            "E0114",
            callee_loc,
            format!("a value of type `{}` cannot be called", value.type_of()),
            "not a definition or built-in",
            None,
        ))
    }

    fn call_prim_by_name(
        &self,
        name: &str,
        args: &[ArgValue],
        name_loc: Loc,
        call_loc: Loc,
    ) -> Eval<Value> {
        let Some(prim) = builtins::lookup(name) else {
            let help = did_you_mean(name, builtins::all_names())
                .map(|s| format!("did you mean `prim.{s}`?"));
            return Err(self.error(
                "E0101",
                name_loc,
                format!("unknown built-in `{name}`"),
                "not a built-in",
                help,
            ));
        };
        let spec = prim.specs();
        let (bound, _, outcome) = self.bind_all(name, &spec, args, call_loc);
        match outcome {
            Binding::Complete => builtins::call(self, prim, bound, call_loc),
            // Inside the standard library a failed required argument comes from a value of the
            // user's that already failed; its other arguments often come from that same value
            // (`conv_vae(latents: 0)` gives both the head's units and the model's latents), so
            // checking them would report one mistake twice.
            Binding::Failed if self.std_sources.contains(&call_loc.source) => Err(Poisoned),
            Binding::InvalidOptional | Binding::Failed => {
                // The call is still checked with the valid arguments (the invalid optional ones
                // replaced by their defaults, the missing or invalid required ones absent), so
                // their mistakes are reported too: `training(steps: 0, optimizer: adam(lr: 0))`
                // reports both, `vae(latents: 0, encoder: nope, ...)` the `latents`. Only
                // mistakes located at those valid arguments are reported: one at the call may
                // come from a substituted default or an absent argument.
                let allowed: Vec<Loc> = bound.iter().flatten().map(|(_, loc)| *loc).collect();
                let previous = self.within.replace(Some(allowed));
                let _ = builtins::call(self, prim, bound, call_loc);
                *self.within.borrow_mut() = previous;
                Err(Poisoned)
            }
        }
    }

    /// Matches arguments to parameters, converting each to its parameter type, and says how
    /// far that got (see [`Binding`]). Every mistake is reported; an invalid argument leaves its
    /// slot empty without being reported as missing, and is flagged in the second vector.
    fn bind_all(
        &self,
        callee: &str,
        params: &[ParamSpec],
        args: &[ArgValue],
        call_loc: Loc,
    ) -> (Bound, Vec<bool>, Binding) {
        let mut slots: Bound = vec![None; params.len()];
        // Slots whose argument was given but is invalid (failed to evaluate or has the wrong type).
        let mut invalid = vec![false; params.len()];
        let mut failed = false;
        let mut next_positional = 0usize;
        for arg in args {
            let index = match &arg.name {
                Some((name, name_loc)) => match params.iter().position(|p| &p.name == name) {
                    Some(i) => i,
                    None => {
                        let help = did_you_mean(name, params.iter().map(|p| p.name.as_str()))
                            .map(|s| format!("did you mean `{s}`?"))
                            .or_else(|| {
                                Some(if params.is_empty() {
                                    format!("`{callee}` takes no arguments")
                                } else {
                                    format!(
                                        "`{callee}` takes {}",
                                        params
                                            .iter()
                                            .map(|p| format!("`{}`", p.name))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    )
                                })
                            });
                        self.error(
                            "E0106",
                            *name_loc,
                            format!("`{callee}` has no parameter `{name}`"),
                            "unknown parameter",
                            help,
                        );
                        failed = true;
                        continue;
                    }
                },
                None => {
                    let i = next_positional;
                    next_positional += 1;
                    if i >= params.len() {
                        self.error(
                            "E0112",
                            arg.loc,
                            format!(
                                "`{callee}` takes {} argument{}, this is one too many",
                                params.len(),
                                if params.len() == 1 { "" } else { "s" }
                            ),
                            "extra argument",
                            None,
                        );
                        failed = true;
                        continue;
                    }
                    i
                }
            };
            let Some(param) = params.get(index) else {
                continue;
            };
            let Some(slot) = slots.get_mut(index) else {
                continue;
            };
            if slot.is_some() || invalid.get(index).copied().unwrap_or(false) {
                self.error(
                    "E0108",
                    arg.name.as_ref().map_or(arg.loc, |(_, l)| *l),
                    format!("parameter `{}` of `{callee}` is given twice", param.name),
                    "given again here",
                    None,
                );
                failed = true;
                continue;
            }
            let Ok(value) = &arg.value else {
                if let Some(flag) = invalid.get_mut(index) {
                    *flag = true;
                }
                continue;
            };
            match coerce(value.clone(), &param.ty, arg.loc) {
                Ok(v) => *slot = Some((v, arg.loc)),
                Err(found) => {
                    if let Some(flag) = invalid.get_mut(index) {
                        *flag = true;
                    }
                    self.error(
                        "E0201",
                        arg.loc,
                        format!(
                            "`{}` of `{callee}` expects `{}`, found `{found}`",
                            param.name, param.ty
                        ),
                        format!("this is `{found}`"),
                        conversion_help(&param.ty, &found),
                    );
                }
            }
        }
        let any_invalid = invalid.iter().any(|i| *i);
        for ((param, slot), bad) in params.iter().zip(&slots).zip(&invalid) {
            if slot.is_none() && !bad && !param.has_default && !failed && !any_invalid {
                self.error(
                    "E0107",
                    call_loc,
                    format!(
                        "`{callee}` needs the argument `{}` ({})",
                        param.name, param.ty
                    ),
                    format!("`{}` is missing", param.name),
                    Some(format!("pass it as `{}: ...`", param.name)),
                );
                failed = true;
            }
        }
        let invalid_required = params
            .iter()
            .zip(&invalid)
            .any(|(p, bad)| *bad && !p.has_default);
        let binding = if failed || invalid_required {
            Binding::Failed
        } else if any_invalid {
            Binding::InvalidOptional
        } else {
            Binding::Complete
        };
        (slots, invalid, binding)
    }

    /// Calls a definition (written bare, it is called with no arguments).
    pub fn call_def(&self, id: DefId, args: &[ArgValue], loc: Loc) -> Eval<Value> {
        let Some(def) = self.program.def(id) else {
            return Err(Poisoned);
        };
        let Some(module) = self.program.modules.get(id.module) else {
            return Err(Poisoned);
        };
        let def_env = Env {
            module: id.module,
            source: module.source,
            locals: None,
            exp: None,
        };
        let memoisable = args.is_empty();
        if memoisable && let Some(v) = self.consts.borrow().get(&id) {
            return v.clone();
        }
        if self.stack.borrow().len() >= MAX_CALL_DEPTH {
            return Err(self.error(
                "E0116",
                loc,
                format!("definitions call each other more than {MAX_CALL_DEPTH} levels deep"),
                "nested too deeply",
                Some("flatten the chain of definitions".to_string()),
            ));
        }
        if self.stack.borrow().contains(&id) {
            return Err(self.error(
                "E0113",
                loc,
                format!("`{}` is used inside its own definition", def.name.name),
                "recursive use",
                Some("definitions cannot be recursive".to_string()),
            ));
        }
        let params = def.params.as_deref().unwrap_or(&[]);
        let mut specs = Vec::with_capacity(params.len());
        for p in params {
            let ty = self.resolve_type(module.source, &p.ty)?;
            specs.push(ParamSpec {
                name: p.name.name.clone(),
                ty,
                has_default: p.default.is_some(),
            });
        }
        if def.params.is_none() && !args.is_empty() {
            return Err(self.error(
                "E0112",
                loc,
                format!("`{}` takes no arguments", def.name.name),
                "called with arguments",
                Some(format!("write `{}` without parentheses", def.name.name)),
            ));
        }
        self.stack.borrow_mut().push(id);
        let entering_std = self.std_sources.contains(&module.source)
            && !self.std_sources.contains(&loc.source)
            && self.user_site.borrow().is_none();
        if entering_std {
            *self.user_site.borrow_mut() = Some((loc, def.name.name.clone()));
        }
        let result = (|| {
            // Every argument is checked on its own: a failed one (reported) is poisoned in the
            // body, which is still evaluated so that the other arguments' values are checked too.
            let (bound, invalid, binding) = self.bind_all(&def.name.name, &specs, args, loc);
            let mut locals: BTreeMap<String, Eval<Value>> = BTreeMap::new();
            for (((p, spec), slot), bad) in params.iter().zip(&specs).zip(bound).zip(&invalid) {
                let value = match (slot, &p.default) {
                    (Some((v, _)), _) => Ok(v),
                    (None, _) if *bad => Err(Poisoned),
                    // A missing required argument (reported, unless a mistake explains it).
                    (None, None) => Err(Poisoned),
                    (None, Some(default)) => {
                        let env = Env {
                            locals: Some(&locals),
                            ..def_env
                        };
                        self.eval(env, default).and_then(|v| {
                            coerce(v, &spec.ty, env.loc(default.span)).map_err(|found| {
                                self.error(
                                    "E0201",
                                    env.loc(default.span),
                                    format!(
                                        "default of `{}` should be `{}`, found `{found}`",
                                        p.name.name, spec.ty
                                    ),
                                    format!("this is `{found}`"),
                                    None,
                                )
                            })
                        })
                    }
                };
                locals.insert(p.name.name.clone(), value);
            }
            let env = Env {
                locals: Some(&locals),
                ..def_env
            };
            let value = self.eval(env, &def.body);
            if binding != Binding::Complete || locals.values().any(Result::is_err) {
                return Err(Poisoned);
            }
            let value = value?;
            match &def.ty {
                Some(ty_expr) => {
                    let ty = self.resolve_type(module.source, ty_expr)?;
                    coerce(value, &ty, env.loc(def.body.span)).map_err(|found| {
                        self.error(
                            "E0201",
                            env.loc(def.body.span),
                            format!(
                                "`{}` is declared as `{ty}` but its body is `{found}`",
                                def.name.name
                            ),
                            format!("this is `{found}`"),
                            None,
                        )
                    })
                }
                None => Ok(value),
            }
        })();
        self.stack.borrow_mut().pop();
        if entering_std {
            *self.user_site.borrow_mut() = None;
        }
        if memoisable {
            self.consts.borrow_mut().insert(id, result.clone());
        }
        result
    }

    /// Converts a written type to a [`Type`].
    pub fn resolve_type(&self, source: u32, ty: &TypeExpr) -> Eval<Type> {
        match &ty.kind {
            TypeExprKind::Named(name) => Type::from_name(name).ok_or_else(|| {
                self.error(
                    "E0109",
                    Loc {
                        source,
                        span: ty.span,
                    },
                    format!("unknown type `{name}`"),
                    "not a type",
                    did_you_mean(name, Type::NAMES.iter().copied())
                        .map(|s| format!("did you mean `{s}`?")),
                )
            }),
            TypeExprKind::List(elem) => Ok(Type::List(Box::new(self.resolve_type(source, elem)?))),
        }
    }

    /// The parameter names of what `callee` names in `module`'s scope, for sweep path checks.
    pub fn callee_params(&self, module: usize, callee: &Expr) -> Option<Vec<String>> {
        match &callee.kind {
            ExprKind::Name(name) => {
                if let Some(id) = self
                    .program
                    .modules
                    .get(module)
                    .and_then(|m| m.scope.get(name))
                {
                    let def = self.program.def(*id)?;
                    return Some(
                        def.params
                            .iter()
                            .flatten()
                            .map(|p| p.name.name.clone())
                            .collect(),
                    );
                }
                if builtins::is_bare(name) {
                    return builtins::params(name)
                        .map(|ps| ps.into_iter().map(|p| p.name).collect());
                }
                None
            }
            ExprKind::Member(base, field) if matches!(&base.kind, ExprKind::Name(r) if r == "prim") => {
                builtins::params(&field.name).map(|ps| ps.into_iter().map(|p| p.name).collect())
            }
            _ => None,
        }
    }
}

/// Every name the standard-library modules define, for "did you mean" hints.
fn stdlib_names() -> impl Iterator<Item = &'static str> {
    crate::stdlib::MODULES.iter().flat_map(|(_, _, text)| {
        text.lines().filter_map(|l| {
            let rest = l.strip_prefix("def ")?;
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            rest.get(..end)
        })
    })
}

/// The stdlib module that defines `name`, for "import it" hints.
fn stdlib_home(name: &str) -> Option<&'static str> {
    crate::stdlib::MODULES.iter().find_map(|(module, _, text)| {
        text.lines()
            .any(|l| {
                l.strip_prefix("def ")
                    .and_then(|rest| rest.strip_prefix(name))
                    .is_some_and(|after| {
                        !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
            })
            .then_some(*module)
    })
}

fn conversion_help(expected: &Type, found: &Type) -> Option<String> {
    match (expected, found) {
        (Type::Int, Type::Float) => Some("write a whole number".to_string()),
        (Type::Architecture, _) => {
            Some("an architecture is a list of layers, e.g. `[dense(256), relu]`".to_string())
        }
        (Type::Loss, Type::Float | Type::Int) => {
            Some("scale a term instead, e.g. `4 * kl`".to_string())
        }
        (Type::OutputActivation, _) => {
            Some("the output activations are `logits` and `tanh`".to_string())
        }
        _ => None,
    }
}

/// Multiplies every coefficient of a loss.
pub(crate) fn scale_terms(terms: Vec<WeightedTerm>, factor: f64) -> Vec<WeightedTerm> {
    terms
        .into_iter()
        .map(|t| WeightedTerm {
            coefficient: t.coefficient * factor,
            ..t
        })
        .collect()
}

fn binary(ctx: &Ctx<'_>, op: BinOp, l: Value, r: Value, loc: Loc) -> Eval<Value> {
    use Value::{Float, Int, Loss};
    let invalid = |l: &Value, r: &Value| {
        ctx.error(
            "E0206",
            loc,
            format!(
                "cannot apply `{}` to `{}` and `{}`",
                op.symbol(),
                l.type_of(),
                r.type_of()
            ),
            "invalid operands",
            match (l, r) {
                (Loss(_), Int(_) | Float(_)) | (Int(_) | Float(_), Loss(_)) if op == BinOp::Add => {
                    Some("add loss terms, and scale them with `*`".to_string())
                }
                _ => None,
            },
        )
    };
    match (op, l, r) {
        (BinOp::Add, Int(a), Int(b)) => a.checked_add(b).map(Int).ok_or_else(|| overflow(ctx, loc)),
        (BinOp::Sub, Int(a), Int(b)) => a.checked_sub(b).map(Int).ok_or_else(|| overflow(ctx, loc)),
        (BinOp::Mul, Int(a), Int(b)) => a.checked_mul(b).map(Int).ok_or_else(|| overflow(ctx, loc)),
        (BinOp::Div, Int(a), Int(b)) => {
            if b == 0 {
                Err(ctx.error(
                    "E0202",
                    loc,
                    "division by zero".to_string(),
                    "divides by 0",
                    None,
                ))
            } else {
                Ok(Float(a as f64 / b as f64))
            }
        }
        (op, l @ (Int(_) | Float(_)), r @ (Int(_) | Float(_))) => {
            let (a, b) = (as_f64(&l), as_f64(&r));
            let v = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
            };
            if v.is_finite() {
                Ok(Float(v))
            } else {
                Err(ctx.error(
                    "E0202",
                    loc,
                    "arithmetic gives a non-finite number".to_string(),
                    "not finite",
                    None,
                ))
            }
        }
        (BinOp::Add, Loss(mut a), Loss(b)) => {
            a.extend(b);
            Ok(Loss(a))
        }
        (BinOp::Sub, Loss(mut a), Loss(b)) => {
            a.extend(scale_terms(b, -1.0));
            Ok(Loss(a))
        }
        (BinOp::Mul, n @ (Int(_) | Float(_)), Loss(t))
        | (BinOp::Mul, Loss(t), n @ (Int(_) | Float(_))) => Ok(Loss(scale_terms(t, as_f64(&n)))),
        (BinOp::Div, Loss(t), n @ (Int(_) | Float(_))) if as_f64(&n) != 0.0 => {
            Ok(Loss(scale_terms(t, 1.0 / as_f64(&n))))
        }
        (_, l, r) => Err(invalid(&l, &r)),
    }
}

fn overflow(ctx: &Ctx<'_>, loc: Loc) -> Poisoned {
    ctx.error(
        "E0202",
        loc,
        "integer arithmetic overflows".to_string(),
        "too large",
        None,
    )
}

/// A number as `f64` (0 for non-numbers; callers match numbers first).
pub(crate) fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Converts `value` to type `ty` where the language allows it; on failure returns the found type.
pub(crate) fn coerce(value: Value, ty: &Type, loc: Loc) -> Result<Value, Type> {
    match (ty, value) {
        (Type::Any, v) => Ok(v),
        (Type::Float, Value::Int(i)) => Ok(Value::Float(i as f64)),
        (Type::Variance, Value::Int(i)) => Ok(Value::Float(i as f64)),
        (Type::Variance, v @ (Value::Float(_) | Value::LearnedVariance)) => Ok(v),
        (
            Type::OutputActivation,
            Value::Layer(crate::plan::Layer::Activation(crate::plan::Activation::Tanh)),
        ) => Ok(Value::OutputActivation(crate::plan::OutputActivation::Tanh)),
        (Type::Architecture, v @ Value::Arch(_)) => Ok(v),
        (Type::Architecture, Value::Layer(l)) => Ok(Value::Arch(Arch {
            layers: vec![l],
            loc,
            layer_locs: vec![loc],
        })),
        (Type::Architecture, Value::List(items)) if items.is_empty() => Ok(Value::Arch(Arch {
            layers: vec![],
            loc,
            layer_locs: vec![],
        })),
        (Type::Tuple, Value::List(items)) => Ok(Value::Tuple(items)),
        (Type::Evaluation, v @ Value::Evaluation(..)) => Ok(v),
        (Type::List(elem), Value::Arch(a)) if **elem == Type::Layer => Ok(Value::List(
            a.layers.into_iter().map(Value::Layer).collect(),
        )),
        (Type::List(elem), Value::List(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match coerce(item, elem, loc) {
                    Ok(v) => out.push(v),
                    Err(found) => return Err(Type::List(Box::new(found))),
                }
            }
            Ok(Value::List(out))
        }
        (Type::List(elem), Value::Tuple(items)) if matches!(**elem, Type::Int | Type::Float) => {
            coerce(Value::List(items), ty, loc)
        }
        (Type::List(elem), v) => match coerce(v, elem, loc) {
            Ok(v) => Ok(Value::List(vec![v])),
            Err(found) => Err(found),
        },
        (ty, v) => {
            let found = v.type_of();
            if &found == ty { Ok(v) } else { Err(found) }
        }
    }
}
