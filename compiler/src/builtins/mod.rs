//! The built-in primitives of the language: one typed definition per primitive ([`Prim`]: its
//! name, whether it is reachable without `prim.`, its parameters with their types and defaults,
//! a doc line, and the function that builds its value), grouped by domain in the submodules.
//!
//! The table is the one source of truth: the evaluator binds arguments against it, the editor
//! queries (`ide.rs`) show its signatures, defaults and doc lines, and an entry cannot exist
//! without its implementation. A primitive's defaults are the typed values of its table entry;
//! the reference configurations built from primitives (metric settings, the study's models) are
//! stdlib `.dis` definitions. Implementations check value ranges (E0202) and build a [`Value`].
//! This module must not resolve names or evaluate expressions.

// Matches on compile-time `Value`s end in a catch-all on purpose: every value of another type is
// a type error there. AST and plan enums are matched exhaustively.
#![allow(clippy::wildcard_enum_match_arm)]

mod data;
mod evaluation;
mod layers;
mod likelihoods;
mod losses;
mod metrics;
mod models;
mod training;

use std::fmt;

use crate::eval::{Bound, Ctx, Eval, ParamSpec, as_f64};
use crate::value::{Arch, Loc, ModelValue, TermValue, Type, Value, WeightedTerm};

pub(crate) use evaluation::default_evaluation;

/// One primitive.
pub(crate) struct Prim {
    /// Its name, written bare or after `prim.`.
    pub name: &'static str,
    /// Whether it is reachable without `prim.` (datasets and metrics are reached through the
    /// stdlib's definitions).
    pub bare: bool,
    /// One line for hover and completion.
    pub doc: &'static str,
    /// Its parameters, in positional order.
    pub params: &'static [Param],
    /// Checks the bound arguments and builds the value. Called with a missing required argument
    /// only while the evaluator reports nothing located at the call itself (see `eval.rs`).
    pub build: fn(&Args<'_>) -> Eval<Value>,
}

/// One parameter of a primitive.
pub(crate) struct Param {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// `None` when the argument is required.
    pub default: Option<DefaultValue>,
}

/// The type of a primitive's parameter (a `Type` that can stand in a constant table).
pub(crate) enum ParamType {
    /// A value of this type.
    One(Type),
    /// `[T]`: a list of values of this type.
    ListOf(Type),
}

impl ParamType {
    /// As a language type.
    pub fn to_type(&self) -> Type {
        match self {
            ParamType::One(ty) => ty.clone(),
            ParamType::ListOf(ty) => Type::List(Box::new(ty.clone())),
        }
    }
}

/// What an optional parameter takes when its argument is left out.
pub(crate) enum DefaultValue {
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'static str),
    /// A value of another type: how it is written in the language, and the value.
    Written(&'static str, fn() -> Value),
    /// No value: leaving the argument out means what this says (the implementation handles it).
    Absent(&'static str),
}

impl DefaultValue {
    /// The default as a value; `None` for [`DefaultValue::Absent`].
    fn value(&self) -> Option<Value> {
        match self {
            DefaultValue::Int(i) => Some(Value::Int(*i)),
            DefaultValue::Float(f) => Some(Value::Float(*f)),
            DefaultValue::Bool(b) => Some(Value::Bool(*b)),
            DefaultValue::Str(s) => Some(Value::Str((*s).to_string())),
            DefaultValue::Written(_, make) => Some(make()),
            DefaultValue::Absent(_) => None,
        }
    }
}

/// As written in the language; an absent default is `…` (its meaning is in [`Param::describe`]).
impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultValue::Int(i) => write!(f, "{i}"),
            DefaultValue::Float(x) => write!(f, "{x:?}"),
            DefaultValue::Bool(b) => write!(f, "{b}"),
            DefaultValue::Str(s) => write!(f, "\"{s}\""),
            DefaultValue::Written(text, _) => f.write_str(text),
            DefaultValue::Absent(_) => f.write_str("…"),
        }
    }
}

/// A required parameter.
const fn required(name: &'static str, ty: Type) -> Param {
    Param {
        name,
        ty: ParamType::One(ty),
        default: None,
    }
}

/// A required list parameter.
const fn required_list(name: &'static str, elem: Type) -> Param {
    Param {
        name,
        ty: ParamType::ListOf(elem),
        default: None,
    }
}

/// An optional parameter.
const fn optional(name: &'static str, ty: Type, default: DefaultValue) -> Param {
    Param {
        name,
        ty: ParamType::One(ty),
        default: Some(default),
    }
}

/// An optional list parameter.
const fn optional_list(name: &'static str, elem: Type, default: DefaultValue) -> Param {
    Param {
        name,
        ty: ParamType::ListOf(elem),
        default: Some(default),
    }
}

impl Param {
    /// `name: type` or `name: type = default`, as in a signature.
    pub fn signature(&self) -> String {
        match &self.default {
            None => format!("{}: {}", self.name, self.ty.to_type()),
            Some(default) => format!("{}: {} = {default}", self.name, self.ty.to_type()),
        }
    }

    /// What leaving the argument out means: `None` for a required parameter.
    pub fn describe_default(&self) -> Option<String> {
        match self.default.as_ref()? {
            DefaultValue::Absent(meaning) => Some(format!("optional: when left out, {meaning}")),
            default => Some(format!("optional, default `{default}`")),
        }
    }
}

impl Prim {
    /// `name(p: type, q: type = default)`; a primitive without parameters is its bare name.
    pub fn signature(&self) -> String {
        if self.params.is_empty() {
            return self.name.to_string();
        }
        let list: Vec<String> = self.params.iter().map(Param::signature).collect();
        format!("{}({})", self.name, list.join(", "))
    }

    /// The parameters as the evaluator binds them.
    pub fn specs(&self) -> Vec<ParamSpec> {
        self.params
            .iter()
            .map(|p| ParamSpec {
                name: p.name.to_string(),
                ty: p.ty.to_type(),
                has_default: p.default.is_some(),
            })
            .collect()
    }
}

/// Every primitive, by domain (this order is the order of completion lists).
pub(crate) fn table() -> impl Iterator<Item = &'static Prim> {
    [
        layers::PRIMS,
        models::PRIMS,
        likelihoods::PRIMS,
        losses::PRIMS,
        training::PRIMS,
        evaluation::PRIMS,
        data::PRIMS,
        metrics::PRIMS,
    ]
    .into_iter()
    .flatten()
}

/// The primitive called `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Prim> {
    table().find(|p| p.name == name)
}

/// Parameters of primitive `name`, or `None` if there is no such primitive.
pub(crate) fn params(name: &str) -> Option<Vec<ParamSpec>> {
    lookup(name).map(Prim::specs)
}

/// Whether `name` is a primitive usable without the `prim.` prefix.
pub(crate) fn is_bare(name: &str) -> bool {
    lookup(name).is_some_and(|p| p.bare)
}

/// Names of primitives usable without `prim.`.
pub(crate) fn bare_names() -> impl Iterator<Item = &'static str> {
    table().filter(|p| p.bare).map(|p| p.name)
}

/// Names of all primitives.
pub(crate) fn all_names() -> impl Iterator<Item = &'static str> {
    table().map(|p| p.name)
}

/// Calls `prim` with bound arguments (one slot per parameter, in order).
pub(crate) fn call(ctx: &Ctx<'_>, prim: &'static Prim, slots: Bound, loc: Loc) -> Eval<Value> {
    (prim.build)(&Args {
        ctx,
        prim,
        slots,
        call: loc,
    })
}

/// The bound arguments of one call, with typed accessors that fall back to the table's defaults.
///
/// An accessor returns `None` (or skips its range check) only for a required argument that is
/// missing or invalid: that was reported by the binding, and the call's value is discarded.
pub(crate) struct Args<'a> {
    /// The evaluation context, for reporting.
    pub ctx: &'a Ctx<'a>,
    prim: &'static Prim,
    slots: Bound,
    /// Where the call is.
    pub call: Loc,
}

impl Args<'_> {
    fn index(&self, name: &str) -> Option<usize> {
        self.prim.params.iter().position(|p| p.name == name)
    }

    /// The argument given for `name`, with its location.
    pub fn given(&self, name: &str) -> Option<&(Value, Loc)> {
        self.slots.get(self.index(name)?)?.as_ref()
    }

    /// Where the argument for `name` is, or the call when it was left out.
    pub fn loc(&self, name: &str) -> Loc {
        self.given(name).map_or(self.call, |(_, l)| *l)
    }

    /// The argument for `name`, or its default.
    pub fn value(&self, name: &str) -> Option<Value> {
        if let Some((v, _)) = self.given(name) {
            return Some(v.clone());
        }
        self.prim
            .params
            .get(self.index(name)?)?
            .default
            .as_ref()?
            .value()
    }

    /// An integer argument (or default).
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.value(name)? {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// A number argument (or default).
    pub fn float(&self, name: &str) -> Option<f64> {
        match self.value(name)? {
            v @ (Value::Int(_) | Value::Float(_)) => Some(as_f64(&v)),
            _ => None,
        }
    }

    /// A boolean argument (or default); `false` when missing.
    pub fn boolean(&self, name: &str) -> bool {
        matches!(self.value(name), Some(Value::Bool(true)))
    }

    /// A string argument (or default); empty when missing.
    pub fn string(&self, name: &str) -> String {
        match self.value(name) {
            Some(Value::Str(s)) => s,
            _ => String::new(),
        }
    }

    /// The integers of a list argument (or default); empty when missing.
    pub fn int_list(&self, name: &str) -> Vec<i64> {
        match self.value(name) {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// An architecture argument (or default), located at the argument (a default at the call).
    pub fn arch(&self, name: &str) -> Option<Arch> {
        match self.value(name)? {
            Value::Arch(a) => Some(Arch {
                layers: a.layers,
                loc: self.loc(name),
                layer_locs: a.layer_locs,
            }),
            _ => None,
        }
    }

    /// An integer of at least `min`, as `u32` (E0202 otherwise).
    pub fn u32_at_least(&self, name: &str, min: i64, errors: &mut bool) -> u32 {
        let Some(v) = self.int(name) else { return 0 };
        if v < min || v > i64::from(u32::MAX) {
            self.ctx
                .out_of_range(self.loc(name), name, v, &format!("at least {min}"));
            *errors = true;
            return 0;
        }
        u32::try_from(v).unwrap_or(0)
    }

    /// An integer of at least `min`, as `u64` (E0202 otherwise).
    pub fn u64_at_least(&self, name: &str, min: i64, errors: &mut bool) -> u64 {
        let Some(v) = self.int(name) else { return 0 };
        if v < min {
            self.ctx
                .out_of_range(self.loc(name), name, v, &format!("at least {min}"));
            *errors = true;
            return 0;
        }
        u64::try_from(v).unwrap_or(0)
    }

    /// A number satisfying `ok`, described by `rule` (E0202 otherwise).
    pub fn float_where(
        &self,
        name: &str,
        ok: impl Fn(f64) -> bool,
        rule: &str,
        errors: &mut bool,
    ) -> f64 {
        let Some(v) = self.float(name) else {
            return 0.0;
        };
        if !ok(v) {
            self.ctx.out_of_range(self.loc(name), name, v, rule);
            *errors = true;
        }
        v
    }
}

/// A value, or `Poisoned` when a check failed (already reported).
fn checked(value: Value, errors: bool) -> Eval<Value> {
    if errors {
        Err(crate::eval::Poisoned)
    } else {
        Ok(value)
    }
}

/// A loss of one term with coefficient 1.
fn term(t: TermValue, loc: Loc) -> Value {
    Value::Loss(vec![WeightedTerm {
        coefficient: 1.0,
        term: t,
        loc,
    }])
}

/// `value.field`.
pub(crate) fn member(ctx: &Ctx<'_>, value: Value, field: &str, loc: Loc) -> Eval<Value> {
    let fields: &[&str] = match &value {
        Value::Dataset(d) => {
            let [h, w, c] = d.observation_shape;
            match field {
                "channels" => return Ok(Value::Int(i64::from(c))),
                "height" => return Ok(Value::Int(i64::from(h))),
                "width" => return Ok(Value::Int(i64::from(w))),
                "factors" => return Ok(Value::Int(i64::try_from(d.factors.len()).unwrap_or(0))),
                "name" => return Ok(Value::Str(d.name.clone())),
                _ => &["channels", "height", "width", "factors", "name"],
            }
        }
        Value::Model(m) => match (field, m.as_ref()) {
            ("latents", ModelValue::Vae { latents, .. }) => {
                return Ok(Value::Int(i64::from(*latents)));
            }
            (
                "latents",
                ModelValue::Pca { components, .. } | ModelValue::Ica { components, .. },
            ) => {
                return Ok(Value::Int(i64::from(*components)));
            }
            _ => &["latents"],
        },
        Value::Record(entries) => {
            if let Some(entry) = entries.iter().find(|entry| entry.key == field) {
                return Ok(entry.value.clone());
            }
            let keys: Vec<&str> = entries.iter().map(|entry| entry.key.as_str()).collect();
            return Err(ctx.error(
                "E0110",
                loc,
                format!("the record has no field `{field}`"),
                "unknown field",
                crate::suggest::did_you_mean(field, keys.iter().copied())
                    .map(|s| format!("did you mean `{s}`?")),
            ));
        }
        _ => &[],
    };
    Err(ctx.error(
        "E0110",
        loc,
        format!(
            "a value of type `{}` has no field `{field}`",
            value.type_of()
        ),
        "unknown field",
        crate::suggest::did_you_mean(field, fields.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| {
                (!fields.is_empty()).then(|| {
                    format!(
                        "fields: {}",
                        fields
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            }),
    ))
}

/// Renders a simple value as source-like text (for sweep tables and messages).
pub(crate) fn render(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => format!("\"{s}\""),
        other => other.type_of().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    struct NoFiles;

    impl crate::Loader for NoFiles {
        fn load(&self, _importer: &str, _path: &str) -> Result<String, String> {
            Err("no files in this test".to_string())
        }
    }

    /// The error messages of checking `text`.
    fn errors(text: &str) -> Vec<String> {
        let checked = crate::check(
            crate::Source {
                name: "defaults.dis".to_string(),
                text: text.to_string(),
            },
            &NoFiles,
        );
        checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    }

    #[test]
    fn primitive_names_are_unique() {
        let mut names: Vec<&str> = all_names().collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn every_default_has_its_parameter_type() {
        let nowhere = Loc {
            source: 0,
            span: disc_grammar::ast::Span::default(),
        };
        for prim in table() {
            for param in prim.params {
                let Some(value) = param.default.as_ref().and_then(DefaultValue::value) else {
                    continue;
                };
                let ty = param.ty.to_type();
                assert!(
                    crate::eval::coerce(value, &ty, nowhere).is_ok(),
                    "{}: the default of `{}` is not a `{ty}`",
                    prim.name,
                    param.name
                );
            }
        }
    }

    #[test]
    fn every_written_default_checks_as_its_parameter_type() {
        // The check evaluates definitions: a mistyped one is an error.
        assert_eq!(errors("def x: optimizer = same\n").len(), 1);
        for prim in table() {
            for param in prim.params {
                let Some(default) = &param.default else {
                    continue;
                };
                if matches!(default, DefaultValue::Absent(_)) {
                    continue;
                }
                let text = format!("def x: {} = {default}\n", param.ty.to_type());
                let found = errors(&text);
                assert!(found.is_empty(), "{}: `{text}` gives {found:?}", prim.name);
            }
        }
    }

    #[test]
    fn signatures_show_typed_defaults() {
        let training = lookup("training").expect("a primitive");
        assert_eq!(
            training.signature(),
            "training(steps: int = 300000, batch: int = 64, optimizer: optimizer = adam(), \
             schedule: schedule = constant, checkpoint_every: int = 0, log_every: int = 100)"
        );
        let relu = lookup("relu").expect("a primitive");
        assert_eq!(relu.signature(), "relu");
    }
}
