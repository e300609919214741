//! The untyped, spanned syntax tree of a `.dis` file.
//!
//! Produced by `parse.rs`, consumed by the compiler. Every node carries a [`Span`] (byte offsets into
//! the source text) so that diagnostics can point at it. This module holds data only: no parsing, no
//! name resolution, no types.

use serde::{Deserialize, Serialize};

/// A half-open byte range `start..end` in one source text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// As a `Range<usize>`, the form diagnostics use.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// A name as written, with its location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A whole `.dis` file: its items in source order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct File {
    /// Items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Item {
    /// `use std.arch.{a, b}` or `use "file.dis"`.
    Use(Use),
    /// `def name(params): type = expr`.
    Def(Def),
    /// `experiment name { ... }`.
    Experiment(Experiment),
}

/// An import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Use {
    /// What is imported.
    pub target: UseTarget,
    /// The whole item.
    pub span: Span,
}

/// The two kinds of import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UseTarget {
    /// `use std.data.dsprites` (module `[std, data]`, names `[dsprites]`) or
    /// `use std.arch.{conv_encoder, deconv_decoder}`.
    Module {
        /// The module path, e.g. `std`, `data`.
        module: Vec<Ident>,
        /// The imported names (at least one).
        names: Vec<Ident>,
    },
    /// `use "other.dis"`: every definition of that file.
    File {
        /// The path as written, without quotes.
        path: String,
        /// The span of the string literal.
        path_span: Span,
    },
}

/// A parameterised definition: `def beta_vae(beta: float = 4.0): loss = ...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Def {
    /// The defined name.
    pub name: Ident,
    /// Parameters in order; `None` when written without parentheses.
    pub params: Option<Vec<Param>>,
    /// The declared result type, if any.
    pub ty: Option<TypeExpr>,
    /// The body.
    pub body: Expr,
    /// The whole item.
    pub span: Span,
}

/// One parameter of a definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Its declared type.
    pub ty: TypeExpr,
    /// Its default value, if any.
    pub default: Option<Expr>,
}

/// A type as written: a name (`float`, `architecture`) or a list type (`[metric]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeExpr {
    /// The shape of the type expression.
    pub kind: TypeExprKind,
    /// Where it is written.
    pub span: Span,
}

/// The shape of a [`TypeExpr`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TypeExprKind {
    /// A named type.
    Named(String),
    /// `[T]`.
    List(Box<TypeExpr>),
}

/// `experiment name { entries }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Its name.
    pub name: Ident,
    /// Its entries in source order.
    pub entries: Vec<Entry>,
    /// The whole item.
    pub span: Span,
}

/// One entry of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    /// `name = expr`.
    Field {
        /// The field name.
        name: Ident,
        /// Its value.
        value: Expr,
    },
    /// `graph { a -> b; b -> c }`: edges from parent to child.
    Graph {
        /// Edges `(parent, child)` in source order (chains `a -> b -> c` are split).
        edges: Vec<(Ident, Ident)>,
        /// The whole block.
        span: Span,
    },
    /// `sweep { ... }`.
    Sweep {
        /// The sweep expression.
        sweep: Sweep,
        /// The whole block.
        span: Span,
    },
}

/// A sweep expression: axes combined by product (`*`), concatenation (`+`) and `zip(...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Its shape.
    pub kind: SweepKind,
    /// Where it is written.
    pub span: Span,
}

/// The shape of a [`Sweep`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SweepKind {
    /// `path in values`: the parameter at `path` takes each value in turn.
    Axis {
        /// The parameter path, e.g. `[loss, beta]`.
        path: Vec<Ident>,
        /// The values (a list or a range expression).
        values: Expr,
    },
    /// `a * b * c`: every combination, the first axis slowest.
    Product(Vec<Sweep>),
    /// `a + b`: the points of `a`, then those of `b`.
    Concat(Vec<Sweep>),
    /// `zip(a, b)`: the i-th values together; all axes must have the same length.
    Zip(Vec<Sweep>),
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    /// Its shape.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

/// The shape of an [`Expr`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    /// An integer literal (suffixes `k` = 1000 and `M` = 1 000 000 already applied).
    Int(i64),
    /// A floating-point literal.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// A string literal, without quotes.
    Str(String),
    /// A name.
    Name(String),
    /// `expr.field`.
    Member(Box<Expr>, Ident),
    /// `callee(args)`.
    Call {
        /// What is called (a name or a member path).
        callee: Box<Expr>,
        /// Positional and named arguments in source order.
        args: Vec<Arg>,
    },
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `(a, b)`.
    Tuple(Vec<Expr>),
    /// `{ name: value, ... }`: an ordered map from names to values.
    Record(Vec<(Ident, Expr)>),
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `-expr`.
    Neg(Box<Expr>),
    /// `start..end`: the integers from `start` to `end - 1`.
    Range(Box<Expr>, Box<Expr>),
}

/// A call argument: positional (`f(1)`) or named (`f(x: 1)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arg {
    /// The parameter name, for a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}
