//! The `.dis` grammar and parser: text in, spanned AST out.
//!
//! `disc.pest` is the grammar, [`parse`] the only reader of pest's parse tree, [`ast`] the tree the
//! compiler works on, [`lex`] a lossless tokenizer (comments kept) for [`format`] and the editor
//! tools. Nothing here knows about names, types or plans.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]
#![warn(clippy::wildcard_enum_match_arm)]

pub mod ast;
pub mod format;
pub mod lex;
pub mod parse;

pub use parse::{ParseError, ParseErrorKind, parse_expr, parse_file};
