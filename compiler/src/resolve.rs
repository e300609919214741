//! Loading and name resolution: which files make up a compilation, and what each name means.
//!
//! Parses the root file, the stdlib modules it (transitively) imports and the user files it names
//! with `use "..."` (read through the [`Loader`](crate::Loader)), then builds one scope per file:
//! its own `def`s plus its imports. Reports E00xx and E010x diagnostics and the unused-definition and
//! unused-import warnings. It must not evaluate expressions or do IO itself.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use disc_grammar::ast::{self, Expr, ExprKind, Item, Span, UseTarget};
use disc_grammar::{ParseError, ParseErrorKind};

use crate::diagnostic::{Diagnostic, Severity};
use crate::eval::Sink;
use crate::stdlib;
use crate::suggest::did_you_mean;
use crate::value::Loc;
use crate::{Loader, Source};

/// A definition: `items[item]` of `modules[module]`, which is an `Item::Def`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DefId {
    /// Index into [`Program::modules`].
    pub module: usize,
    /// Index into that module's items.
    pub item: usize,
}

/// One parsed file and its scope.
#[derive(Debug)]
pub(crate) struct Module {
    /// Index into the compilation's sources.
    pub source: u32,
    /// The parsed file.
    pub file: ast::File,
    /// Names visible at the top level of this file: its defs and its imports.
    pub scope: BTreeMap<String, DefId>,
}

/// Every file of a compilation.
#[derive(Debug, Default)]
pub(crate) struct Program {
    /// Modules; the root file is module 0 when it parsed.
    pub modules: Vec<Module>,
    /// Display sources, indexed by `Module::source`.
    pub sources: Vec<Source>,
}

impl Program {
    /// The definition behind `id`.
    pub fn def(&self, id: DefId) -> Option<&ast::Def> {
        match self.modules.get(id.module)?.file.items.get(id.item)? {
            Item::Def(def) => Some(def),
            Item::Use(_) | Item::Experiment(_) => None,
        }
    }
}

/// Where a module's text comes from.
enum Origin {
    Std(&'static str),
    File(String),
}

/// Converts a parse error in `text` (the text of `source`) to a diagnostic.
pub(crate) fn syntax_diagnostic(source: u32, text: &str, err: &ParseError) -> Diagnostic {
    let (code, label) = match &err.kind {
        ParseErrorKind::Unexpected { found, .. } => ("E0001", format!("unexpected {found}")),
        ParseErrorKind::NumberTooLarge { .. } => ("E0002", "does not fit in 64 bits".to_string()),
        ParseErrorKind::TooDeep => ("E0003", "nested too deeply".to_string()),
    };
    let help = match &err.kind {
        ParseErrorKind::Unexpected { expected, found } => syntax_help(
            expected,
            found,
            between_sweep_axes(text.get(..err.span.start).unwrap_or("")),
        ),
        ParseErrorKind::NumberTooLarge { .. } => Some("use a smaller number".to_string()),
        ParseErrorKind::TooDeep => Some("split the expression into definitions".to_string()),
    };
    Diagnostic {
        code,
        severity: Severity::Error,
        message: err.kind.to_string(),
        source: crate::diagnostic::SourceId(source),
        span: err.span.range(),
        label,
        help,
    }
}

/// A hint for the most common syntax slips, keyed on what was expected and found (and on whether
/// the slip is directly between the axes of a sweep block).
fn syntax_help(expected: &[&str], found: &str, between_sweep_axes: bool) -> Option<String> {
    let expects = |what: &str| expected.contains(&what);
    if found == "`=`" {
        Some(
            "named arguments and record entries use `:` (`latents: 10`); only fields use `=`"
                .to_string(),
        )
    } else if expects("a field (`name = value`)") {
        Some("experiment fields are written `name = value`".to_string())
    } else if expects("a parameter") {
        Some("a parameter is written `name: type` or `name: type = default`".to_string())
    } else if found == "end of file" {
        Some("a closing `}`, `)` or `]` may be missing".to_string())
    } else if found
        .trim_matches('`')
        .starts_with(|c: char| c.is_ascii_digit())
        && found.trim_matches('`').ends_with(['K', 'm', 'G', 'B'])
    {
        Some("number suffixes are `k` (thousand) and `M` (million), e.g. `300k`".to_string())
    } else if found == "`\"`" {
        Some("a string ends with `\"` on the same line".to_string())
    } else if expects("`..`") && !expects("an expression") {
        // After a complete value: between sweep axes an operator is missing; anywhere else (a
        // call, a list, `zip(...)`) a `,`.
        Some(if between_sweep_axes {
            "sweep axes are combined with `*`, `+` or `zip(...)`".to_string()
        } else {
            "a `,` may be missing before this".to_string()
        })
    } else {
        None
    }
}

/// Whether the end of `before` (a file's text up to a syntax error) lies directly between the axes
/// of a `sweep { ... }` block, or inside a grouping `(...)` there, rather than inside a call, a
/// list or `zip(...)`. Strings and comments are skipped.
fn between_sweep_axes(before: &str) -> bool {
    let Some(start) = before.rmatch_indices("sweep").find_map(|(i, _)| {
        let rest = before.get(i + "sweep".len()..)?;
        rest.trim_start()
            .starts_with('{')
            .then(|| before.len() - rest.trim_start().len() + 1)
    }) else {
        return false;
    };
    // Open brackets after the sweep's `{`: `true` for a grouping `(`, `false` for any other.
    let mut open: Vec<bool> = Vec::new();
    let mut chars = before.get(start..).unwrap_or("").char_indices().peekable();
    let mut previous_word = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => {
                for (_, d) in chars.by_ref() {
                    if d == '"' || d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().is_some_and(|(_, d)| *d == '/') => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '(' => open.push(previous_word.is_empty()),
            '[' | '{' => open.push(false),
            // A closing bracket pops its opener (in the guard); one with no opener left closes
            // the sweep block, before the error.
            ')' | ']' | '}' if open.pop().is_none() => return false,
            _ => {}
        }
        if c.is_alphanumeric() || c == '_' {
            previous_word.push(c);
        } else if !c.is_whitespace() {
            previous_word.clear();
        }
    }
    open.iter().all(|grouping| *grouping)
}

/// The stdlib module `name` (as in `use std.NAME`), parsed once per process. Its text is compiled
/// in, so the result never changes; parsing it was most of the parse time of every check, paid
/// again on every keystroke by `disc lsp` and on every input by the fuzzer. Cloning the tree is
/// several times cheaper than parsing it.
fn parsed_stdlib(name: &str) -> Option<&'static Result<ast::File, ParseError>> {
    static PARSED: OnceLock<Vec<(&'static str, Result<ast::File, ParseError>)>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            stdlib::MODULES
                .iter()
                .map(|(name, _, text)| (*name, disc_grammar::parse_file(text)))
                .collect()
        })
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, parsed)| parsed)
}

/// Loads the root file and everything it imports, and builds every scope.
/// Returns `None` when the root file does not parse (its syntax error is in `sink`).
pub(crate) fn load(root: Source, loader: &dyn Loader, sink: &mut Sink) -> Option<Program> {
    let mut program = Program::default();
    let root_text = root.text.clone();
    program.sources.push(root);
    let file = match disc_grammar::parse_file(&root_text) {
        Ok(file) => file,
        Err(err) => {
            sink.push(syntax_diagnostic(0, &root_text, &err));
            return None;
        }
    };
    program.modules.push(Module {
        source: 0,
        file,
        scope: BTreeMap::new(),
    });

    // Breadth-first over imports. `by_origin` makes each file load once, so import cycles are harmless.
    let mut by_origin: BTreeMap<String, Option<usize>> = BTreeMap::new();
    by_origin.insert(
        format!(
            "file:{}",
            program.sources.first().map_or("", |s| s.name.as_str())
        ),
        Some(0),
    );
    // (importing module, item index) -> imported module
    let mut links: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut next = 0;
    while next < program.modules.len() {
        let uses: Vec<(usize, UseTarget, Span)> = program
            .modules
            .get(next)
            .map(|m| {
                m.file
                    .items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| match item {
                        Item::Use(u) => Some((i, u.target.clone(), u.span)),
                        Item::Def(_) | Item::Experiment(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let source = program.modules.get(next).map_or(0, |m| m.source);
        for (item, target, _span) in uses {
            let (key, origin, loc) = match &target {
                UseTarget::Module { module, .. } => {
                    let path: Vec<&str> = module.iter().map(|i| i.name.as_str()).collect();
                    let span = module
                        .first()
                        .map(|f| f.span.to(module.last().map_or(f.span, |l| l.span)))
                        .unwrap_or_default();
                    let loc = Loc { source, span };
                    match path.as_slice() {
                        ["std", name] if stdlib::module(name).is_some() => {
                            (format!("std:{name}"), Origin::Std(stdlib_name(name)), loc)
                        }
                        ["std"]
                            if names_of(&target)
                                .first()
                                .is_some_and(|n| stdlib::module(n).is_some()) =>
                        {
                            let module = names_of(&target).first().copied().unwrap_or("");
                            sink.error(
                                "E0103",
                                loc,
                                format!(
                                    "`use std.{module}` names a module, not something to import"
                                ),
                                "imports nothing",
                                Some(format!(
                                    "name what to import, e.g. `use std.{module}.{{...}}`"
                                )),
                            );
                            continue;
                        }
                        _ => {
                            let names: Vec<String> = stdlib::MODULES
                                .iter()
                                .map(|(n, _, _)| format!("std.{n}"))
                                .collect();
                            let written = path.join(".");
                            sink.error(
                                "E0103",
                                loc,
                                format!("unknown module `{written}`"),
                                "no such module",
                                did_you_mean(&written, names.iter().map(String::as_str))
                                    .map(|s| format!("did you mean `{s}`?"))
                                    .or_else(|| {
                                        Some("the modules are `std.data`, `std.arch`, `std.models` and `std.metrics`".to_string())
                                    }),
                            );
                            continue;
                        }
                    }
                }
                UseTarget::File { path, path_span } => (
                    format!(
                        "file:{}",
                        import_name(
                            program
                                .sources
                                .get(source as usize)
                                .map_or("", |s| s.name.as_str()),
                            path
                        )
                    ),
                    Origin::File(path.clone()),
                    Loc {
                        source,
                        span: *path_span,
                    },
                ),
            };
            if let Some(existing) = by_origin.get(&key) {
                if let Some(idx) = existing {
                    links.insert((next, item), *idx);
                }
                continue;
            }
            let (name, text, parsed) = match origin {
                Origin::Std(name) => match (stdlib::module(name), parsed_stdlib(name)) {
                    (Some((display, text)), Some(parsed)) => {
                        (display.to_string(), text.to_string(), parsed.clone())
                    }
                    _ => continue,
                },
                Origin::File(path) => {
                    let importer = program
                        .sources
                        .get(source as usize)
                        .map_or("", |s| s.name.as_str());
                    match loader.load(importer, &path) {
                        Ok(text) => {
                            let parsed = disc_grammar::parse_file(&text);
                            (import_name(importer, &path), text, parsed)
                        }
                        Err(reason) => {
                            sink.error(
                                "E0105",
                                loc,
                                format!("cannot load `{path}`: {reason}"),
                                "imported here",
                                Some(
                                    "paths are relative to the directory of the importing file"
                                        .to_string(),
                                ),
                            );
                            by_origin.insert(key, None);
                            continue;
                        }
                    }
                }
            };
            let new_source = u32::try_from(program.sources.len()).unwrap_or(u32::MAX);
            program.sources.push(Source {
                name: name.clone(),
                text,
            });
            match parsed {
                Ok(file) => {
                    let idx = program.modules.len();
                    program.modules.push(Module {
                        source: new_source,
                        file,
                        scope: BTreeMap::new(),
                    });
                    by_origin.insert(key, Some(idx));
                    links.insert((next, item), idx);
                }
                Err(err) => {
                    let text = program
                        .sources
                        .last()
                        .map_or("", |source| source.text.as_str());
                    sink.push(syntax_diagnostic(new_source, text, &err));
                    sink.error(
                        "E0105",
                        loc,
                        format!("cannot load `{name}`: it has a syntax error"),
                        "imported here",
                        None,
                    );
                    by_origin.insert(key, None);
                }
            }
        }
        next += 1;
    }

    // Scopes: own defs first, then imports.
    for m in 0..program.modules.len() {
        build_scope(&mut program, m, &links, sink);
    }
    Some(program)
}

/// The name of the file that `use "path"` inside the file named `importer` refers to: `path`
/// joined to the importer's directory (names use `/`; an absolute `path` is kept as written).
/// This is the imported source's name, so its own imports resolve next to it, and the key that
/// makes each file load once.
fn import_name(importer: &str, path: &str) -> String {
    let dir = importer.rfind(['/', '\\']).and_then(|i| importer.get(..i));
    match dir {
        Some(dir) if !path.starts_with('/') && !dir.is_empty() => format!("{dir}/{path}"),
        Some(_) | None => path.to_string(),
    }
}

/// The imported names of a module import.
fn names_of(target: &UseTarget) -> Vec<&str> {
    match target {
        UseTarget::Module { names, .. } => names.iter().map(|n| n.name.as_str()).collect(),
        UseTarget::File { .. } => Vec::new(),
    }
}

fn stdlib_name(name: &str) -> &'static str {
    stdlib::MODULES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or("", |(n, _, _)| *n)
}

fn build_scope(
    program: &mut Program,
    m: usize,
    links: &BTreeMap<(usize, usize), usize>,
    sink: &mut Sink,
) {
    let Some(module) = program.modules.get(m) else {
        return;
    };
    let source = module.source;
    let text = program
        .sources
        .get(source as usize)
        .map_or("", |s| s.text.as_str());
    let line_of = |span: Span| {
        text.get(..span.start)
            .map_or(1, |t| t.matches('\n').count() + 1)
    };
    let mut scope: BTreeMap<String, DefId> = BTreeMap::new();
    let mut def_spans: BTreeMap<String, Span> = BTreeMap::new();
    let mut experiments: BTreeMap<String, Span> = BTreeMap::new();
    for (i, item) in module.file.items.iter().enumerate() {
        match item {
            Item::Def(def) => {
                if let Some(first) = def_spans.get(&def.name.name) {
                    sink.error(
                        "E0102",
                        Loc {
                            source,
                            span: def.name.span,
                        },
                        format!("`{}` is defined twice", def.name.name),
                        "second definition",
                        Some(format!(
                            "the first definition is on line {}; rename one of them",
                            line_of(*first)
                        )),
                    );
                    continue;
                }
                def_spans.insert(def.name.name.clone(), def.name.span);
                scope.insert(def.name.name.clone(), DefId { module: m, item: i });
            }
            Item::Experiment(exp) => {
                if experiments
                    .insert(exp.name.name.clone(), exp.name.span)
                    .is_some()
                {
                    sink.error(
                        "E0102",
                        Loc {
                            source,
                            span: exp.name.span,
                        },
                        format!("experiment `{}` is defined twice", exp.name.name),
                        "second experiment with this name",
                        Some("job names must be unique; rename one experiment".to_string()),
                    );
                }
            }
            Item::Use(_) => {}
        }
    }
    for (i, item) in module.file.items.iter().enumerate() {
        let Item::Use(u) = item else { continue };
        let Some(&target) = links.get(&(m, i)) else {
            continue;
        };
        let Some(target_module) = program.modules.get(target) else {
            continue;
        };
        let exported: BTreeMap<&str, DefId> = target_module
            .file
            .items
            .iter()
            .enumerate()
            .filter_map(|(j, it)| match it {
                Item::Def(d) => Some((
                    d.name.name.as_str(),
                    DefId {
                        module: target,
                        item: j,
                    },
                )),
                Item::Use(_) | Item::Experiment(_) => None,
            })
            .collect();
        let names: Vec<(String, Span)> = match &u.target {
            UseTarget::Module { names, .. } => {
                names.iter().map(|n| (n.name.clone(), n.span)).collect()
            }
            UseTarget::File { path_span, .. } => exported
                .keys()
                .map(|k| (k.to_string(), *path_span))
                .collect(),
        };
        let module_name = match &u.target {
            UseTarget::Module { module, .. } => module
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join("."),
            UseTarget::File { path, .. } => path.clone(),
        };
        for (name, span) in names {
            let loc = Loc { source, span };
            let Some(&id) = exported.get(name.as_str()) else {
                sink.error(
                    "E0104",
                    loc,
                    format!("`{name}` is not defined in `{module_name}`"),
                    "not found in that module",
                    did_you_mean(&name, exported.keys().copied())
                        .map(|s| format!("did you mean `{s}`?")),
                );
                continue;
            };
            match scope.get(&name) {
                Some(existing) if *existing == id => {}
                Some(_) => sink.error(
                    "E0102",
                    loc,
                    format!("`{name}` is imported but already defined in this file"),
                    "clashes with another definition",
                    Some("rename the local definition or drop the import".to_string()),
                ),
                None => {
                    scope.insert(name, id);
                }
            }
        }
    }
    if let Some(module) = program.modules.get_mut(m) {
        module.scope = scope;
    }
}

/// Reports unused definitions (W0001) and imports (W0002) of the root file (module 0).
pub(crate) fn report_unused(program: &Program, sink: &mut Sink) {
    let Some(root) = program.modules.first() else {
        return;
    };
    // Syntactic use: every name that appears in an expression, except a def's mentions of itself.
    let mut used_by_def: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut used_elsewhere: BTreeSet<String> = BTreeSet::new();
    for item in &root.file.items {
        match item {
            Item::Def(def) => {
                let mut names = BTreeSet::new();
                collect_names(&def.body, &mut names);
                for p in def.params.iter().flatten() {
                    if let Some(d) = &p.default {
                        collect_names(d, &mut names);
                    }
                }
                names.remove(&def.name.name);
                used_by_def.insert(def.name.name.clone(), names);
            }
            Item::Experiment(exp) => {
                for entry in &exp.entries {
                    match entry {
                        ast::Entry::Field { value, .. } => {
                            collect_names(value, &mut used_elsewhere)
                        }
                        ast::Entry::Sweep { sweep, .. } => {
                            collect_sweep_names(sweep, &mut used_elsewhere)
                        }
                        ast::Entry::Graph { .. } => {}
                    }
                }
            }
            Item::Use(_) => {}
        }
    }
    // A def is used when reachable from an experiment.
    let mut reachable: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = used_elsewhere.iter().cloned().collect();
    while let Some(name) = stack.pop() {
        if !reachable.insert(name.clone()) {
            continue;
        }
        if let Some(names) = used_by_def.get(&name) {
            stack.extend(names.iter().cloned());
        }
    }
    for item in &root.file.items {
        match item {
            Item::Def(def) if !reachable.contains(&def.name.name) => sink.warning(
                "W0001",
                Loc {
                    source: root.source,
                    span: def.name.span,
                },
                format!("definition `{}` is never used", def.name.name),
                "never used",
                Some("remove it, or use it in an experiment".to_string()),
            ),
            Item::Use(u) => {
                if let UseTarget::Module { names, .. } = &u.target {
                    for n in names {
                        // Names that failed to import were already reported (E0104).
                        if root.scope.contains_key(&n.name) && !reachable.contains(&n.name) {
                            sink.warning(
                                "W0002",
                                Loc {
                                    source: root.source,
                                    span: n.span,
                                },
                                format!("import `{}` is never used", n.name),
                                "never used",
                                Some("remove it from the `use`".to_string()),
                            );
                        }
                    }
                }
            }
            Item::Def(_) | Item::Experiment(_) => {}
        }
    }
}

/// Every name mentioned in `expr` (including callee names).
pub(crate) fn collect_names(expr: &Expr, out: &mut BTreeSet<String>) {
    match &expr.kind {
        ExprKind::Name(n) => {
            out.insert(n.clone());
        }
        ExprKind::Member(base, _) => collect_names(base, out),
        ExprKind::Call { callee, args } => {
            collect_names(callee, out);
            for a in args {
                collect_names(&a.value, out);
            }
        }
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            for i in items {
                collect_names(i, out);
            }
        }
        ExprKind::Record(entries) => {
            for (_, v) in entries {
                collect_names(v, out);
            }
        }
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Range(lhs, rhs) => {
            collect_names(lhs, out);
            collect_names(rhs, out);
        }
        ExprKind::Neg(inner) => collect_names(inner, out),
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Str(_) => {}
    }
}

/// Every name mentioned in a sweep's values and the roots of its paths.
pub(crate) fn collect_sweep_names(sweep: &ast::Sweep, out: &mut BTreeSet<String>) {
    match &sweep.kind {
        ast::SweepKind::Axis { path, values } => {
            if let Some(root) = path.first() {
                out.insert(root.name.clone());
            }
            collect_names(values, out);
        }
        ast::SweepKind::Product(parts)
        | ast::SweepKind::Concat(parts)
        | ast::SweepKind::Zip(parts) => {
            for p in parts {
                collect_sweep_names(p, out);
            }
        }
    }
}
