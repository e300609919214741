//! Editor queries behind `disc lsp`: diagnostics, hover, go to definition, completion and
//! formatting of one document.
//!
//! Pure like the rest of the compiler: text in, answers out, positions as byte offsets into the
//! compilation's [`Source`]s. The binary owns the protocol, the open documents, URIs and files.
//! An [`Analysis`] is one [`crate::check`] of a document plus the resolved program that the
//! queries walk; names resolve exactly as the evaluator resolves them (parameters, then experiment
//! fields, then the file's scope, then bare primitives). This module must not report diagnostics
//! of its own or evaluate anything.

use std::collections::BTreeSet;

use disc_grammar::ast::{self, Entry, Expr, ExprKind, Item, Span, SweepKind, UseTarget};
use disc_grammar::format::FormatError;
use disc_grammar::lex::{self, Token, TokenKind};

use crate::builtins;
use crate::diagnostic::Diagnostic;
use crate::resolve::{self, DefId, Program};
use crate::{Compiled, Loader, Source, stdlib};

/// One checked document and what the queries need of it.
#[derive(Debug)]
pub struct Analysis {
    compiled: Compiled,
    program: Option<Program>,
}

/// Hover text for the name under the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    /// Markdown: a `disc` code block with the signature, then the doc comment and where it lives.
    pub markdown: String,
    /// The name hovered, in the document.
    pub span: Span,
}

/// Where something is defined: a source of the compilation ([`Analysis::sources`]) and a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Index into [`Analysis::sources`]; 0 is the document itself.
    pub source: usize,
    /// The defining name (empty at offset 0 for a whole stdlib module).
    pub span: Span,
}

/// What a completion offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    /// A parameter of the call being written (inserted as `name: `).
    Argument,
    /// A `def` in scope, or one of the standard library that the completion imports.
    Definition,
    /// A built-in primitive.
    Primitive,
    /// A parameter of the enclosing `def`, or a field of the enclosing experiment.
    Variable,
    /// A standard library module (after `use std.`).
    Module,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The name shown and matched.
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// One line: the signature or type.
    pub detail: String,
    /// The text inserted.
    pub insert: String,
    /// A `use` line to add (at byte offset `.0` of the document) so the name is in scope.
    pub import: Option<(usize, String)>,
    /// A line of documentation (a primitive's doc line, or what an argument's default is).
    pub documentation: Option<String>,
}

/// Why a document was not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatFailure {
    /// It has a syntax error (E0001–E0003), located in the document.
    Syntax(Diagnostic),
    /// The formatter would have changed a token at this byte offset (a formatter bug).
    TokensChanged(usize),
}

/// Formats a document (see `disc_grammar::format` for the layout rules).
pub fn format(text: &str) -> Result<String, FormatFailure> {
    disc_grammar::format::format(text).map_err(|err| match err {
        FormatError::Syntax(err) => {
            FormatFailure::Syntax(resolve::syntax_diagnostic(0, text, &err))
        }
        FormatError::TokensChanged { offset } => FormatFailure::TokensChanged(offset),
    })
}

/// The standard library modules as `(display name, text)`, e.g. `("<stdlib/arch.dis>", "...")`,
/// so an editor can show them as documents.
pub fn stdlib_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    stdlib::MODULES
        .iter()
        .map(|(_, display, text)| (*display, *text))
}

/// What a name refers to.
#[derive(Debug, Clone)]
enum Symbol<'p> {
    Def(DefId),
    Param {
        def: DefId,
        index: usize,
    },
    Prim(String),
    PrimParam {
        prim: String,
        index: usize,
    },
    Field {
        experiment: &'p ast::Experiment,
        name: &'p ast::Ident,
        value: &'p Expr,
    },
    StdModule(String),
}

/// The scope an expression is evaluated in.
#[derive(Clone, Copy)]
struct Scope<'p> {
    def: Option<(DefId, &'p ast::Def)>,
    experiment: Option<&'p ast::Experiment>,
}

impl Analysis {
    /// Checks `root` as `disc check` does, keeping the resolved program for the queries.
    pub fn new(root: Source, loader: &dyn Loader) -> Analysis {
        let (compiled, program) = crate::run_keeping_program(root, loader, &[], false);
        Analysis { compiled, program }
    }

    /// Whether the document parsed (without that, only its syntax error is known).
    pub fn parsed(&self) -> bool {
        self.program.is_some()
    }

    /// Every diagnostic, as `disc check` reports them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.compiled.diagnostics
    }

    /// The sources of the compilation; 0 is the document.
    pub fn sources(&self) -> &[Source] {
        &self.compiled.sources
    }

    fn root(&self) -> Option<&ast::File> {
        self.program.as_ref()?.modules.first().map(|m| &m.file)
    }

    fn text_of_module(&self, module: usize) -> &str {
        self.program
            .as_ref()
            .and_then(|p| {
                let source = p.modules.get(module)?.source;
                p.sources.get(source as usize)
            })
            .map_or("", |s| s.text.as_str())
    }

    /// Hover for the name at byte `offset` of the document.
    pub fn hover(&self, offset: usize) -> Option<Hover> {
        let (span, symbol) = self.symbol_at(offset)?;
        let program = self.program.as_ref()?;
        let markdown = match &symbol {
            Symbol::Def(id) => {
                let def = program.def(*id)?;
                let text = self.text_of_module(id.module);
                let mut md = code_block(&def_signature(text, def));
                let doc = doc_comment(text, def.span.start);
                if !doc.is_empty() {
                    md.push_str("\n\n");
                    md.push_str(&doc);
                }
                if id.module != 0 {
                    let name = self.module_name(id.module);
                    md.push_str(&format!("\n\n*defined in* `{name}`"));
                }
                md
            }
            Symbol::Param { def, index } => {
                let d = program.def(*def)?;
                let param = d.params.as_ref()?.get(*index)?;
                let text = self.text_of_module(def.module);
                format!(
                    "{}\n\nparameter of `{}`",
                    code_block(&param_text(text, param)),
                    d.name.name
                )
            }
            Symbol::Prim(name) => {
                let prim = builtins::lookup(name)?;
                format!(
                    "{}\n\n{}\n\nbuilt-in primitive{}",
                    code_block(&prim.signature()),
                    prim.doc,
                    if prim.bare {
                        ""
                    } else {
                        " (written `prim.` + its name)"
                    }
                )
            }
            Symbol::PrimParam { prim, index } => {
                let param = builtins::lookup(prim)?.params.get(*index)?;
                let optional = param
                    .describe_default()
                    .map_or(String::new(), |d| format!(" ({d})"));
                format!(
                    "{}\n\nparameter of the built-in `{prim}`{optional}",
                    code_block(&param.signature())
                )
            }
            Symbol::Field {
                experiment,
                name,
                value,
            } => {
                let text = self.text_of_module(0);
                let written = text.get(value.span.range()).unwrap_or("");
                let first_line = written.lines().next().unwrap_or("");
                let shown = if first_line.len() < written.len() {
                    format!("{first_line} …")
                } else {
                    written.to_string()
                };
                format!(
                    "{}\n\nfield of experiment `{}`",
                    code_block(&format!("{} = {shown}", name.name)),
                    experiment.name.name
                )
            }
            Symbol::StdModule(name) => {
                let names = stdlib_defs(name)
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("standard library module `std.{name}`\n\ndefines {names}")
            }
        };
        Some(Hover { markdown, span })
    }

    /// Where the name at byte `offset` of the document is defined.
    pub fn definition(&self, offset: usize) -> Option<Location> {
        let (_, symbol) = self.symbol_at(offset)?;
        let program = self.program.as_ref()?;
        let source_of = |module: usize| program.modules.get(module).map(|m| m.source as usize);
        match symbol {
            Symbol::Def(id) => Some(Location {
                source: source_of(id.module)?,
                span: program.def(id)?.name.span,
            }),
            Symbol::Param { def, index } => Some(Location {
                source: source_of(def.module)?,
                span: program.def(def)?.params.as_ref()?.get(index)?.name.span,
            }),
            Symbol::Field { name, .. } => Some(Location {
                source: 0,
                span: name.span,
            }),
            Symbol::StdModule(name) => {
                let display = stdlib::module(&name)?.0;
                let source = program.sources.iter().position(|s| s.name == display)?;
                Some(Location {
                    source,
                    span: Span::default(),
                })
            }
            Symbol::Prim(_) | Symbol::PrimParam { .. } => None,
        }
    }

    fn module_name(&self, module: usize) -> &str {
        self.program
            .as_ref()
            .and_then(|p| p.sources.get(p.modules.get(module)?.source as usize))
            .map_or("", |s| s.name.as_str())
    }

    /// The name at `offset` and what it refers to.
    fn symbol_at(&self, offset: usize) -> Option<(Span, Symbol<'_>)> {
        let program = self.program.as_ref()?;
        let module = program.modules.first()?;
        let inside = |span: Span| span.start <= offset && offset <= span.end;
        for (index, item) in module.file.items.iter().enumerate() {
            match item {
                Item::Use(u) if inside(u.span) => {
                    let UseTarget::Module {
                        module: path,
                        names,
                    } = &u.target
                    else {
                        return None;
                    };
                    if let Some(name) = names.iter().find(|n| inside(n.span)) {
                        let id = module.scope.get(&name.name)?;
                        return Some((name.span, Symbol::Def(*id)));
                    }
                    let std = path.iter().find(|p| inside(p.span) && p.name != "std")?;
                    stdlib::module(&std.name)?;
                    return Some((std.span, Symbol::StdModule(std.name.clone())));
                }
                Item::Def(def) if inside(def.span) => {
                    let id = DefId {
                        module: 0,
                        item: index,
                    };
                    if inside(def.name.span) {
                        return Some((def.name.span, Symbol::Def(id)));
                    }
                    let scope = Scope {
                        def: Some((id, def)),
                        experiment: None,
                    };
                    for (k, param) in def.params.iter().flatten().enumerate() {
                        if inside(param.name.span) {
                            return Some((param.name.span, Symbol::Param { def: id, index: k }));
                        }
                        if let Some(default) = &param.default
                            && let found @ Some(_) = self.in_expr(default, scope, offset)
                        {
                            return found;
                        }
                    }
                    return self.in_expr(&def.body, scope, offset);
                }
                Item::Experiment(exp) if inside(exp.span) => {
                    let scope = Scope {
                        def: None,
                        experiment: Some(exp),
                    };
                    for entry in &exp.entries {
                        match entry {
                            Entry::Field { name, value } => {
                                if inside(name.span) {
                                    let symbol = Symbol::Field {
                                        experiment: exp,
                                        name,
                                        value,
                                    };
                                    return Some((name.span, symbol));
                                }
                                if let found @ Some(_) = self.in_expr(value, scope, offset) {
                                    return found;
                                }
                            }
                            Entry::Sweep { sweep, span } if inside(*span) => {
                                return self.in_sweep(sweep, scope, offset);
                            }
                            Entry::Sweep { .. } | Entry::Graph { .. } => {}
                        }
                    }
                    return None;
                }
                Item::Use(_) | Item::Def(_) | Item::Experiment(_) => {}
            }
        }
        None
    }

    fn in_sweep<'p>(
        &'p self,
        sweep: &'p ast::Sweep,
        scope: Scope<'p>,
        offset: usize,
    ) -> Option<(Span, Symbol<'p>)> {
        let inside = |span: Span| span.start <= offset && offset <= span.end;
        match &sweep.kind {
            SweepKind::Axis { path, values } => {
                if let Some(first) = path.first()
                    && inside(first.span)
                {
                    return Some((first.span, self.resolve_name(&first.name, scope)?));
                }
                // `loss.beta`: a parameter of what the field `loss` calls.
                if let [field, param] = path.as_slice()
                    && inside(param.span)
                {
                    let value = field_value(scope.experiment?, &field.name)?;
                    let symbol = self.param_of_call(value, &param.name, scope)?;
                    return Some((param.span, symbol));
                }
                self.in_expr(values, scope, offset)
            }
            SweepKind::Product(parts) | SweepKind::Concat(parts) | SweepKind::Zip(parts) => parts
                .iter()
                .filter(|p| inside(p.span))
                .find_map(|p| self.in_sweep(p, scope, offset)),
        }
    }

    /// The parameter `param` of the callee of `value` (a call or a bare name).
    fn param_of_call(&self, value: &Expr, param: &str, scope: Scope<'_>) -> Option<Symbol<'_>> {
        let callee = if let ExprKind::Call { callee, .. } = &value.kind {
            callee
        } else {
            value
        };
        match self.resolve_callee(callee, scope)? {
            Symbol::Def(id) => {
                let def = self.program.as_ref()?.def(id)?;
                let index = def
                    .params
                    .as_ref()?
                    .iter()
                    .position(|p| p.name.name == param)?;
                Some(Symbol::Param { def: id, index })
            }
            Symbol::Prim(prim) => {
                let index = builtins::lookup(&prim)?
                    .params
                    .iter()
                    .position(|p| p.name == param)?;
                Some(Symbol::PrimParam { prim, index })
            }
            Symbol::Param { .. }
            | Symbol::PrimParam { .. }
            | Symbol::Field { .. }
            | Symbol::StdModule(_) => None,
        }
    }

    fn resolve_callee<'p>(&'p self, callee: &Expr, scope: Scope<'p>) -> Option<Symbol<'p>> {
        if let ExprKind::Name(name) = &callee.kind {
            return self.resolve_name(name, scope);
        }
        if let ExprKind::Member(base, field) = &callee.kind
            && matches!(&base.kind, ExprKind::Name(p) if p == "prim")
        {
            return builtins::lookup(&field.name).map(|_| Symbol::Prim(field.name.clone()));
        }
        None
    }

    /// What `name` means in `scope`, in the evaluator's order.
    fn resolve_name<'p>(&'p self, name: &str, scope: Scope<'p>) -> Option<Symbol<'p>> {
        if let Some((id, def)) = scope.def
            && let Some(index) = def
                .params
                .iter()
                .flatten()
                .position(|p| p.name.name == name)
        {
            return Some(Symbol::Param { def: id, index });
        }
        if let Some(exp) = scope.experiment {
            for entry in &exp.entries {
                if let Entry::Field { name: field, value } = entry
                    && field.name == name
                {
                    return Some(Symbol::Field {
                        experiment: exp,
                        name: field,
                        value,
                    });
                }
            }
        }
        let module = self.program.as_ref()?.modules.first()?;
        if let Some(id) = module.scope.get(name) {
            return Some(Symbol::Def(*id));
        }
        builtins::is_bare(name).then(|| Symbol::Prim(name.to_string()))
    }

    fn in_expr<'p>(
        &'p self,
        expr: &'p Expr,
        scope: Scope<'p>,
        offset: usize,
    ) -> Option<(Span, Symbol<'p>)> {
        let inside = |span: Span| span.start <= offset && offset <= span.end;
        if !inside(expr.span) {
            return None;
        }
        match &expr.kind {
            ExprKind::Name(name) => Some((expr.span, self.resolve_name(name, scope)?)),
            ExprKind::Member(base, field) => {
                if inside(field.span) {
                    if matches!(&base.kind, ExprKind::Name(p) if p == "prim") {
                        builtins::lookup(&field.name)?;
                        return Some((field.span, Symbol::Prim(field.name.clone())));
                    }
                    return None;
                }
                self.in_expr(base, scope, offset)
            }
            ExprKind::Call { callee, args } => {
                if let found @ Some(_) = self.in_expr(callee, scope, offset) {
                    return found;
                }
                for arg in args {
                    if let Some(name) = &arg.name
                        && inside(name.span)
                    {
                        let symbol = self.param_of_call(expr, &name.name, scope)?;
                        return Some((name.span, symbol));
                    }
                    if let found @ Some(_) = self.in_expr(&arg.value, scope, offset) {
                        return found;
                    }
                }
                None
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => items
                .iter()
                .find_map(|item| self.in_expr(item, scope, offset)),
            ExprKind::Record(entries) => entries
                .iter()
                .find_map(|(_, value)| self.in_expr(value, scope, offset)),
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Range(lhs, rhs) => self
                .in_expr(lhs, scope, offset)
                .or_else(|| self.in_expr(rhs, scope, offset)),
            ExprKind::Neg(inner) => self.in_expr(inner, scope, offset),
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Str(_) => None,
        }
    }

    /// Completions at byte `offset` of `text`, the document as it is now. The analysis may be of
    /// an older version of it (the last one that parsed): names come from the analysis, the
    /// context (which call, which `use`) from `text`.
    pub fn completions(&self, text: &str, offset: usize) -> Vec<Completion> {
        let tokens = lex::lex(text);
        // The word being typed, if any, is not part of the context.
        let before: Vec<&Token> = tokens
            .iter()
            .take_while(|t| t.span.end < offset || (t.span.end == offset && !is_word(t)))
            .collect();
        let word = |t: &Token| t.text(text);
        let last = before.last().copied();
        let last_keyword = before
            .iter()
            .rev()
            .find(|t| t.kind == TokenKind::Keyword)
            .map(|t| word(t));
        if last_keyword == Some("use") {
            return use_completions(text, &before);
        }
        if let Some(dot) = last
            && word(dot) == "."
        {
            let base = before.len().checked_sub(2).and_then(|i| before.get(i));
            if base.is_some_and(|b| word(b) == "prim") {
                return builtins::table().map(prim_completion).collect();
            }
            // Members of values (`data.channels`) are not offered.
            return Vec::new();
        }
        let mut out = Vec::new();
        let fresh = self.sources().first().is_some_and(|s| s.text == text);
        if let Some((callee, given)) = open_call(text, &before) {
            out.extend(self.argument_completions(&callee, &given));
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        if fresh {
            for (label, detail) in self.locals_at(offset) {
                if seen.insert(label.clone()) {
                    out.push(Completion {
                        insert: label.clone(),
                        label,
                        kind: CompletionKind::Variable,
                        detail,
                        import: None,
                        documentation: None,
                    });
                }
            }
        }
        if let Some(program) = &self.program
            && let Some(module) = program.modules.first()
        {
            for (name, id) in &module.scope {
                let Some(def) = program.def(*id) else {
                    continue;
                };
                if seen.insert(name.clone()) {
                    out.push(Completion {
                        label: name.clone(),
                        kind: CompletionKind::Definition,
                        detail: def_signature(self.text_of_module(id.module), def),
                        insert: name.clone(),
                        import: None,
                        documentation: None,
                    });
                }
            }
        }
        for prim in builtins::table().filter(|p| p.bare) {
            if seen.insert(prim.name.to_string()) {
                out.push(prim_completion(prim));
            }
        }
        let import_at = import_offset(text, &tokens);
        for (module, _, source) in stdlib::MODULES {
            let Ok(file) = disc_grammar::parse_file(source) else {
                continue;
            };
            for item in &file.items {
                let Item::Def(def) = item else { continue };
                if seen.insert(def.name.name.clone()) {
                    out.push(Completion {
                        label: def.name.name.clone(),
                        kind: CompletionKind::Definition,
                        detail: format!("std.{module}: {}", def_signature(source, def)),
                        insert: def.name.name.clone(),
                        import: Some((import_at, format!("use std.{module}.{}\n", def.name.name))),
                        documentation: None,
                    });
                }
            }
        }
        out
    }

    /// Parameters of the call `callee(` being written, except those already named.
    fn argument_completions(
        &self,
        callee: &CalleeName,
        given: &BTreeSet<String>,
    ) -> Vec<Completion> {
        // (name, detail, documentation)
        let mut params: Vec<(String, String, Option<String>)> = Vec::new();
        let def = match callee {
            CalleeName::Prim(_) => None,
            CalleeName::Name(name) => self.program.as_ref().and_then(|p| {
                let id = p.modules.first()?.scope.get(name)?;
                Some((*id, p.def(*id)?))
            }),
        };
        if let Some((id, def)) = def {
            let text = self.text_of_module(id.module);
            for param in def.params.iter().flatten() {
                params.push((param.name.name.clone(), param_text(text, param), None));
            }
        } else {
            let name = match callee {
                CalleeName::Prim(n) | CalleeName::Name(n) => n,
            };
            for param in builtins::lookup(name).map_or(&[][..], |p| p.params) {
                params.push((
                    param.name.to_string(),
                    param.signature(),
                    param.describe_default(),
                ));
            }
        }
        params
            .into_iter()
            .filter(|(name, _, _)| !given.contains(name))
            .map(|(name, detail, documentation)| Completion {
                insert: format!("{name}: "),
                label: name,
                kind: CompletionKind::Argument,
                detail,
                import: None,
                documentation,
            })
            .collect()
    }

    /// Parameters of the `def`, or fields of the experiment, around `offset`.
    fn locals_at(&self, offset: usize) -> Vec<(String, String)> {
        let Some(file) = self.root() else {
            return Vec::new();
        };
        let text = self.text_of_module(0);
        let inside = |span: Span| span.start <= offset && offset <= span.end;
        let mut out = Vec::new();
        for item in &file.items {
            match item {
                Item::Def(def) if inside(def.span) => {
                    for param in def.params.iter().flatten() {
                        out.push((param.name.name.clone(), param_text(text, param)));
                    }
                }
                Item::Experiment(exp) if inside(exp.span) => {
                    for entry in &exp.entries {
                        if let Entry::Field { name, .. } = entry {
                            out.push((name.name.clone(), format!("field of `{}`", exp.name.name)));
                        }
                    }
                }
                Item::Use(_) | Item::Def(_) | Item::Experiment(_) => {}
            }
        }
        out
    }
}

fn is_word(token: &Token) -> bool {
    matches!(
        token.kind,
        TokenKind::Ident | TokenKind::Keyword | TokenKind::Number
    )
}

/// The callee of an unclosed call.
enum CalleeName {
    Name(String),
    Prim(String),
}

/// The innermost call whose `(` is open before the cursor, and the argument names given so far.
fn open_call(text: &str, before: &[&Token]) -> Option<(CalleeName, BTreeSet<String>)> {
    let mut depth = 0usize;
    let mut given = BTreeSet::new();
    for (i, token) in before.iter().enumerate().rev() {
        if token.kind != TokenKind::Punct {
            continue;
        }
        match token.text(text) {
            ")" | "]" | "}" => depth += 1,
            "(" | "[" | "{" if depth > 0 => depth -= 1,
            "(" => {
                let callee = i.checked_sub(1).and_then(|j| before.get(j))?;
                if callee.kind != TokenKind::Ident {
                    return None;
                }
                let name = callee.text(text).to_string();
                let is_prim = i
                    .checked_sub(3)
                    .and_then(|j| before.get(j..i - 1))
                    .is_some_and(|w| w.iter().map(|t| t.text(text)).eq(["prim", "."]));
                let callee = if is_prim {
                    CalleeName::Prim(name)
                } else {
                    CalleeName::Name(name)
                };
                return Some((callee, given));
            }
            "[" | "{" => return None,
            ":" if depth == 0 => {
                if let Some(name) = i.checked_sub(1).and_then(|j| before.get(j)) {
                    given.insert(name.text(text).to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// Completions inside a `use` item: modules after `use std.`, definitions after `use std.m.`.
fn use_completions(text: &str, before: &[&Token]) -> Vec<Completion> {
    let start = before
        .iter()
        .rposition(|t| t.kind == TokenKind::Keyword)
        .unwrap_or(0);
    let path: Vec<&str> = before
        .iter()
        .skip(start + 1)
        .filter(|t| t.kind == TokenKind::Ident)
        .map(|t| t.text(text))
        .collect();
    match path.as_slice() {
        ["std"] => stdlib::MODULES
            .iter()
            .map(|(name, display, _)| Completion {
                label: (*name).to_string(),
                kind: CompletionKind::Module,
                detail: (*display).to_string(),
                insert: (*name).to_string(),
                import: None,
                documentation: None,
            })
            .collect(),
        ["std", module, ..] => {
            let Some((_, source)) = stdlib::module(module) else {
                return Vec::new();
            };
            let Ok(file) = disc_grammar::parse_file(source) else {
                return Vec::new();
            };
            file.items
                .iter()
                .filter_map(|item| match item {
                    Item::Def(def) => Some(Completion {
                        label: def.name.name.clone(),
                        kind: CompletionKind::Definition,
                        detail: def_signature(source, def),
                        insert: def.name.name.clone(),
                        import: None,
                        documentation: None,
                    }),
                    Item::Use(_) | Item::Experiment(_) => None,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Where an added `use` line goes: after the last `use` line, else before the first item.
fn import_offset(text: &str, tokens: &[Token]) -> usize {
    let line_end = |offset: usize| {
        text.get(offset..)
            .and_then(|rest| rest.find('\n'))
            .map_or(text.len(), |i| offset + i + 1)
    };
    if let Some(last_use) = tokens
        .iter()
        .rev()
        .find(|t| t.kind == TokenKind::Keyword && t.text(text) == "use")
    {
        return line_end(last_use.span.start);
    }
    tokens
        .iter()
        .find(|t| t.kind != TokenKind::Comment)
        .map_or(0, |t| t.span.start)
}

fn prim_completion(prim: &'static builtins::Prim) -> Completion {
    Completion {
        label: prim.name.to_string(),
        kind: CompletionKind::Primitive,
        detail: prim.signature(),
        insert: prim.name.to_string(),
        import: None,
        documentation: Some(prim.doc.to_string()),
    }
}

/// The value of field `name` of an experiment.
fn field_value<'p>(exp: &'p ast::Experiment, name: &str) -> Option<&'p Expr> {
    exp.entries.iter().find_map(|entry| match entry {
        Entry::Field { name: n, value } if n.name == name => Some(value),
        Entry::Field { .. } | Entry::Graph { .. } | Entry::Sweep { .. } => None,
    })
}

/// `def name(params): type` as written in `text` (whitespace runs collapsed), without the body.
fn def_signature(text: &str, def: &ast::Def) -> String {
    let head = text.get(def.span.start..def.body.span.start).unwrap_or("");
    let head = head.trim_end().trim_end_matches('=').trim_end();
    collapse_whitespace(head)
}

/// `name: type = default` as written.
fn param_text(text: &str, param: &ast::Param) -> String {
    let end = param
        .default
        .as_ref()
        .map_or(param.ty.span.end, |d| d.span.end);
    collapse_whitespace(text.get(param.name.span.start..end).unwrap_or(""))
}

fn collapse_whitespace(text: &str) -> String {
    // Comments inside a signature would swallow the rest once lines are joined.
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" ").replace("( ", "(").replace(", )", ")")
}

fn code_block(code: &str) -> String {
    format!("```disc\n{code}\n```")
}

/// The `//` comment lines directly above byte `start` (no blank line between), without `//`.
fn doc_comment(text: &str, start: usize) -> String {
    let before = text.get(..start).unwrap_or("");
    let mut lines: Vec<&str> = Vec::new();
    // The last element is the text on the item's own line before it (normally empty).
    for line in before.lines().rev() {
        match line.trim_start().strip_prefix("//") {
            Some(comment) => lines.push(comment.strip_prefix(' ').unwrap_or(comment).trim_end()),
            None => break,
        }
    }
    lines.reverse();
    lines.join("\n")
}

/// Names defined by stdlib module `name`.
fn stdlib_defs(name: &str) -> Vec<String> {
    let Some((_, source)) = stdlib::module(name) else {
        return Vec::new();
    };
    disc_grammar::parse_file(source)
        .map(|file| {
            file.items
                .iter()
                .filter_map(|item| match item {
                    Item::Def(def) => Some(def.name.name.clone()),
                    Item::Use(_) | Item::Experiment(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    // Test inputs are fixed texts: an index out of range is a failed test, not a user's input.
    #![allow(clippy::indexing_slicing)]

    use super::*;
    use crate::NoFiles;

    const DOC: &str = "\
use std.models.{conv_vae, beta_vae}
use std.data.dsprites_full

// Wider code.
def wide(latents: int = 20): model = conv_vae(latents: latents)

experiment e {
  data = dsprites_full()
  model = conv_vae(channels: data.channels)
  loss = beta_vae()
  train = training(steps: 10, batch: 8)
  sweep { loss.beta in [1, 2] }
}
";

    fn analysis(text: &str) -> Analysis {
        Analysis::new(
            Source {
                name: "doc.dis".to_string(),
                text: text.to_string(),
            },
            &NoFiles,
        )
    }

    /// The byte offset of the `nth` occurrence of `needle` (plus `shift`).
    fn at(needle: &str, nth: usize, shift: usize) -> usize {
        let mut from = 0;
        for _ in 0..nth {
            from = DOC[from..]
                .find(needle)
                .map(|i| from + i + 1)
                .expect("needle");
        }
        DOC[from..]
            .find(needle)
            .map(|i| from + i + shift)
            .expect("needle")
    }

    fn hover(offset: usize) -> String {
        analysis(DOC)
            .hover(offset)
            .map(|h| h.markdown)
            .unwrap_or_default()
    }

    #[test]
    fn hover_shows_signature_defaults_doc_comment_and_home() {
        let md = hover(at("conv_vae(channels", 0, 2));
        assert!(
            md.contains("def conv_vae(channels: int = 1, latents: int = 10): model"),
            "{md}"
        );
        assert!(md.contains("The study's Gaussian-encoder VAE"), "{md}");
        assert!(md.contains("<stdlib/models.dis>"), "{md}");
        let md = hover(at("wide", 0, 1));
        assert!(
            md.contains("def wide(latents: int = 20): model") && md.contains("Wider code."),
            "{md}"
        );
    }

    #[test]
    fn hover_on_arguments_fields_and_sweep_paths() {
        assert!(hover(at("latents: latents", 0, 0)).contains("parameter of `conv_vae`"));
        assert!(hover(at("latents)", 0, 1)).contains("parameter of `wide`"));
        let steps = hover(at("steps", 0, 1));
        assert!(
            steps.contains("steps: int") && steps.contains("built-in `training`"),
            "{steps}"
        );
        let field = hover(at("data.channels", 0, 1));
        assert!(
            field.contains("data = dsprites_full()") && field.contains("experiment `e`"),
            "{field}"
        );
        let beta = hover(at("beta in", 0, 1));
        assert!(
            beta.contains("beta: float = 4.0") && beta.contains("`beta_vae`"),
            "{beta}"
        );
        assert!(hover(at("training", 0, 1)).contains("built-in primitive"));
        assert!(hover(at("models", 0, 1)).contains("std.models"));
    }

    #[test]
    fn primitives_show_their_table_entry() {
        // The signature with the typed defaults and the doc line, as the evaluator applies them.
        let training = hover(at("training", 0, 1));
        assert!(
            training.contains(
                "training(steps: int = 300000, batch: int = 64, optimizer: optimizer = adam(),"
            ) && training.contains("How a model is trained"),
            "{training}"
        );
        let steps = hover(at("steps", 0, 1));
        assert!(
            steps.contains("steps: int = 300000") && steps.contains("optional, default `300000`"),
            "{steps}"
        );
        // Completion of the arguments not yet given: the same signature and default.
        let offset = at("batch: 8)", 0, 8);
        let optimizer = analysis(DOC)
            .completions(DOC, offset)
            .into_iter()
            .find(|c| c.label == "optimizer" && c.kind == CompletionKind::Argument)
            .expect("`optimizer` is offered");
        assert_eq!(optimizer.detail, "optimizer: optimizer = adam()");
        assert_eq!(
            optimizer.documentation.as_deref(),
            Some("optional, default `adam()`")
        );
        let relu = analysis(DOC)
            .completions(DOC, offset)
            .into_iter()
            .find(|c| c.label == "relu")
            .expect("`relu` is offered");
        assert_eq!(relu.detail, "relu");
        assert_eq!(
            relu.documentation.as_deref(),
            Some("The rectified linear unit.")
        );
    }

    #[test]
    fn definition_goes_into_the_stdlib_and_the_document() {
        let a = analysis(DOC);
        let loc = a.definition(at("beta_vae()", 0, 1)).expect("definition");
        let source = &a.sources()[loc.source];
        assert_eq!(source.name, "<stdlib/models.dis>");
        assert_eq!(&source.text[loc.span.range()], "beta_vae");
        let loc = a.definition(at("data.channels", 0, 0)).expect("field");
        assert_eq!((loc.source, &DOC[loc.span.range()]), (0, "data"));
        assert_eq!(loc.span.start, at("data =", 0, 0));
        assert_eq!(a.definition(at("training", 0, 1)), None);
    }

    fn labels(text: &str, offset: usize) -> Vec<(String, CompletionKind)> {
        analysis(DOC)
            .completions(text, offset)
            .into_iter()
            .map(|c| (c.label, c.kind))
            .collect()
    }

    #[test]
    fn completion_offers_call_parameters_not_yet_given() {
        let offset = at("batch: 8)", 0, 8);
        let found = labels(DOC, offset);
        let args: Vec<&str> = found
            .iter()
            .filter(|(_, k)| *k == CompletionKind::Argument)
            .map(|(l, _)| l.as_str())
            .collect();
        assert!(
            args.contains(&"optimizer") && !args.contains(&"steps"),
            "{args:?}"
        );
        let names: Vec<&str> = found.iter().map(|(l, _)| l.as_str()).collect();
        for expected in ["data", "conv_vae", "relu", "cars3d", "study_v1"] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn completion_while_the_document_does_not_parse() {
        // The analysis is of the last version that parsed; the context comes from the new text.
        let text = DOC.replace(
            "model = conv_vae(channels: data.channels)",
            "model = conv_vae(",
        );
        let offset = text.find("conv_vae(\n").expect("edit") + "conv_vae(".len();
        let found = labels(&text, offset);
        assert!(
            found.contains(&("latents".to_string(), CompletionKind::Argument)),
            "{found:?}"
        );
        let with_import = analysis(DOC)
            .completions(&text, offset)
            .into_iter()
            .find(|c| c.label == "cars3d")
            .and_then(|c| c.import)
            .expect("cars3d is offered with its import");
        assert_eq!(with_import.1, "use std.data.cars3d\n");
        assert_eq!(with_import.0, DOC.find("\n\n").expect("blank line") + 1);
    }

    #[test]
    fn completion_in_use_items() {
        let text = "use std.";
        let modules: Vec<String> = labels(text, text.len())
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert_eq!(modules, ["data", "arch", "models", "metrics"]);
        let text = "use std.arch.{conv_encoder, ";
        let defs: Vec<String> = labels(text, text.len())
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert!(defs.contains(&"deconv_decoder".to_string()), "{defs:?}");
        let text = "def x = prim.";
        let prims: Vec<String> = labels(text, text.len())
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert!(prims.contains(&"dataset".to_string()), "{prims:?}");
    }

    #[test]
    fn format_reports_syntax_errors_as_diagnostics() {
        match format("experiment e { data = }") {
            Err(FormatFailure::Syntax(d)) => assert_eq!(d.code, "E0001"),
            other => panic!("expected a syntax error, got {other:?}"),
        }
        assert_eq!(format("def  x=1").as_deref(), Ok("def x = 1\n"));
    }
}
