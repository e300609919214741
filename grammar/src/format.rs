//! The canonical layout of `.dis` files (`disc fmt`): text in, formatted text out.
//!
//! Works on the tokens of [`crate::lex`], so comments are kept and the tokens themselves are never
//! changed; only the whitespace between them is rewritten. The rules, in the manner of `gofmt`:
//!
//! - Line breaks are the author's: a token that starts a line keeps starting one, and a run of
//!   blank lines becomes one blank line (none at the start or the end of the file).
//! - Indentation is two spaces per open bracket, counted once per line: the lines inside a bracket
//!   opened on a line indented `n` are indented `n + 2`, and a line that starts with the closing
//!   bracket is indented `n`. At the top level a line that does not start an item (`use`, `def`,
//!   `experiment`) or a comment continues the previous one and is indented 2.
//! - Within a line: one space around `=`, `->`, binary operators and before `{` and comments, one
//!   after `,`, `;` and `:`, none inside `()`/`[]`, around `.`/`..`, after a unary `-`, or
//!   before a call's `(`; a block's braces are spaced (`graph { a -> b }`), a record's and a `use`
//!   group's are not (`{a: 1}`, `std.data.{a, b}`).
//!
//! Every rule depends only on the tokens and on where lines break, which formatting preserves, so
//! formatting is idempotent. [`format`] refuses a file that does not parse, and checks its own
//! result: the output must lex to the same tokens as the input.

use crate::ast::Span;
use crate::lex::{Token, TokenKind, lex};
use crate::parse::{ParseError, parse_file};

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The file has a syntax error; it is left as it is.
    #[error(transparent)]
    Syntax(#[from] ParseError),
    /// The formatted text would not have the same tokens as the input (a formatter bug); the
    /// file is left as it is.
    #[error("formatting would change the token at byte {offset}; the file is left unformatted")]
    TokensChanged {
        /// Byte offset in the input of the first token that would change.
        offset: usize,
    },
}

/// Indentation step, in spaces.
const INDENT: usize = 2;

/// A bracket that is open at the current point.
struct Open {
    /// The indentation of the line it was opened on.
    line_indent: usize,
    /// `{` of a record or a `use` group (`{a: 1}`, `std.data.{a, b}`): no spaces inside.
    tight: bool,
}

/// Formats a whole `.dis` file.
pub fn format(text: &str) -> Result<String, FormatError> {
    parse_file(text)?;
    let tokens = lex(text);
    let out = layout(text, &tokens);
    let after = lex(&out);
    let changed = tokens
        .iter()
        .zip(&after)
        .position(|(a, b)| comparable(a, text) != comparable(b, &out))
        .or((tokens.len() != after.len()).then_some(tokens.len().min(after.len())));
    if let Some(index) = changed {
        let offset = tokens.get(index).map_or(text.len(), |t| t.span.start);
        return Err(FormatError::TokensChanged { offset });
    }
    Ok(out)
}

/// What must survive formatting: the kind and text of a token (a comment's trailing blanks aside).
fn comparable<'a>(token: &Token, text: &'a str) -> (u8, &'a str) {
    let kind = token.kind as u8;
    let t = token.text(text);
    match token.kind {
        TokenKind::Comment => (kind, t.trim_end()),
        TokenKind::Ident
        | TokenKind::Keyword
        | TokenKind::Number
        | TokenKind::String
        | TokenKind::Punct
        | TokenKind::Unknown => (kind, t),
    }
}

fn is_punct(token: &Token, text: &str, p: &str) -> bool {
    token.kind == TokenKind::Punct && token.text(text) == p
}

fn is_opener(token: &Token, text: &str) -> bool {
    token.kind == TokenKind::Punct && matches!(token.text(text), "(" | "[" | "{")
}

fn is_closer(token: &Token, text: &str) -> bool {
    token.kind == TokenKind::Punct && matches!(token.text(text), ")" | "]" | "}")
}

/// Whether a token ends an operand, so that a `-` after it is binary.
fn ends_operand(token: &Token, text: &str) -> bool {
    match token.kind {
        TokenKind::Ident | TokenKind::Number | TokenKind::String => true,
        TokenKind::Keyword => matches!(token.text(text), "true" | "false"),
        TokenKind::Punct => matches!(token.text(text), ")" | "]" | "}"),
        TokenKind::Comment | TokenKind::Unknown => false,
    }
}

/// The number of line breaks in `text[gap]`.
fn line_breaks(text: &str, gap: Span) -> usize {
    text.get(gap.range())
        .map_or(0, |g| g.bytes().filter(|&b| b == b'\n').count())
}

fn layout(text: &str, tokens: &[Token]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut stack: Vec<Open> = Vec::new();
    let mut line_indent = 0;
    let mut prev: Option<(&Token, bool)> = None; // (token, is a unary minus)
    for token in tokens {
        let token_text = token.text(text);
        let breaks = match prev {
            None => 0,
            Some((p, _)) => line_breaks(text, Span::new(p.span.end, token.span.start)),
        };
        let closer = is_closer(token, text);
        if prev.is_none() || breaks > 0 {
            if prev.is_some() {
                out.push_str(if breaks > 1 { "\n\n" } else { "\n" });
            }
            line_indent = match stack.last() {
                Some(open) if closer => open.line_indent,
                Some(open) => open.line_indent + INDENT,
                None if starts_item(token, text) => 0,
                None => INDENT,
            };
            out.extend(std::iter::repeat_n(' ', line_indent));
        } else if let Some((p, p_unary)) = prev
            && space_between(text, p, p_unary, token, stack.last())
        {
            out.push(' ');
        }
        match token.kind {
            TokenKind::Comment => out.push_str(token_text.trim_end()),
            TokenKind::Ident
            | TokenKind::Keyword
            | TokenKind::Number
            | TokenKind::String
            | TokenKind::Punct
            | TokenKind::Unknown => out.push_str(token_text),
        }
        if is_opener(token, text) {
            // A block (`experiment e {`, `graph {`, `sweep {`) follows a name; a record or a
            // `use` group follows punctuation.
            let tight = token_text == "{" && prev.is_some_and(|(p, _)| p.kind != TokenKind::Ident);
            stack.push(Open { line_indent, tight });
        } else if closer {
            stack.pop();
        }
        let unary = is_punct(token, text, "-") && !prev.is_some_and(|(p, _)| ends_operand(p, text));
        prev = Some((token, unary));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Whether a top-level line starting with `token` starts an item (or is a comment).
fn starts_item(token: &Token, text: &str) -> bool {
    match token.kind {
        TokenKind::Comment => true,
        TokenKind::Keyword => matches!(token.text(text), "use" | "def" | "experiment"),
        TokenKind::Ident
        | TokenKind::Number
        | TokenKind::String
        | TokenKind::Punct
        | TokenKind::Unknown => false,
    }
}

/// Whether one space separates `prev` and `next` on the same line.
fn space_between(
    text: &str,
    prev: &Token,
    prev_unary: bool,
    next: &Token,
    innermost: Option<&Open>,
) -> bool {
    if next.kind == TokenKind::Comment {
        return true;
    }
    let p = if prev.kind == TokenKind::Punct {
        prev.text(text)
    } else {
        ""
    };
    let n = if next.kind == TokenKind::Punct {
        next.text(text)
    } else {
        ""
    };
    let tight = innermost.is_some_and(|open| open.tight);
    match (p, n) {
        ("{", "}") => false,
        ("{", _) => !tight,
        (_, "}") => !tight,
        ("(" | "[" | "." | "..", _) => false,
        (_, ")" | "]" | "," | ";" | ":" | "." | "..") => false,
        (_, "(") => !(prev.kind == TokenKind::Ident || matches!(p, ")" | "]")),
        ("-", _) if prev_unary => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(text) {
            Ok(out) => out,
            Err(err) => panic!("{err:?} formatting {text:?}"),
        }
    }

    #[test]
    fn spacing_within_a_line() {
        assert_eq!(
            fmt(
                "use std.data.{ a ,b }\ndef  f( x:int=1 ,y : [float] ):architecture=[dense( - x*2 ), relu]"
            ),
            "use std.data.{a, b}\ndef f(x: int = 1, y: [float]): architecture = [dense(-x * 2), relu]\n"
        );
        assert_eq!(
            fmt(
                "experiment e{ a = { k : 1 }; b=x - -1\n graph { a->b } sweep{ a.b in 0 .. 5 * zip( c in [ 1 ] ) } }"
            ),
            "experiment e { a = {k: 1}; b = x - -1\n  graph { a -> b } sweep { a.b in 0..5 * zip(c in [1]) } }\n"
        );
    }

    #[test]
    fn indentation_follows_brackets_and_keeps_line_breaks_and_comments() {
        let input = "// head\n\n\n\nexperiment e {\n      data = f(a,   // why\n b,\n        )\n  sweep {\n x in [\n1,\n   ]\n * ( y in [1]\n + y in [2] )\n}\n}\ndef g =\n[f(g(\n1\n))]\n\n\n";
        let expected = "// head\n\nexperiment e {\n  data = f(a, // why\n    b,\n  )\n  sweep {\n    x in [\n      1,\n    ]\n    * (y in [1]\n      + y in [2])\n  }\n}\ndef g =\n  [f(g(\n    1\n  ))]\n";
        assert_eq!(fmt(input), expected);
        assert_eq!(fmt(expected), expected);
    }

    #[test]
    fn syntax_errors_leave_the_file_alone() {
        assert!(matches!(format("def = 1"), Err(FormatError::Syntax(_))));
        assert_eq!(fmt(""), "");
    }
}
