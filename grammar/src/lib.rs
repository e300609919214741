//! The `.dis` grammar and parser: text in, spanned AST out.
