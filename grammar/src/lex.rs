//! A lossless tokenizer: text → tokens with spans, comments included.
//!
//! The parser (`parse.rs`) reads pest's parse tree and drops comments; the formatter and the editor
//! tools need every token, comments too, and positions to map a cursor to a name. Whitespace is the
//! only thing between tokens, so `text[token.span]` for all tokens plus the gaps give back the text.
//! The token rules mirror the `number`, `string`, `ident` and `COMMENT` rules of `disc.pest`. This
//! module must not decide whether a file is well formed: anything it does not know becomes an
//! [`TokenKind::Unknown`] token.

use crate::ast::Span;

/// What kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A name, including the contextual words `graph`, `sweep` and `zip`.
    Ident,
    /// A reserved word: `use`, `def`, `experiment`, `in`, `true`, `false`.
    Keyword,
    /// A number literal as written (`300k`, `1e-4`, `0.5`).
    Number,
    /// A string literal with its quotes (an unterminated one runs to the end of the line).
    String,
    /// A `//` comment, up to (not including) the end of the line.
    Comment,
    /// Punctuation or an operator: `( ) [ ] { } , ; : . .. = -> + - * /`.
    Punct,
    /// A character no rule accepts.
    Unknown,
}

/// One token: its kind and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Its kind.
    pub kind: TokenKind,
    /// Its bytes in the source text.
    pub span: Span,
}

impl Token {
    /// The token's text in `source`.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.span.range()).unwrap_or("")
    }
}

/// The reserved words of the grammar (`keyword` in `disc.pest`).
pub const KEYWORDS: [&str; 6] = ["use", "def", "experiment", "in", "true", "false"];

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `text` into tokens, in order. Never fails.
pub fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
                // A `\r` before the line end belongs to the line break, not the comment.
                while i > start + 2 && bytes.get(i - 1) == Some(&b'\r') {
                    i -= 1;
                }
                TokenKind::Comment
            }
            b'"' => {
                i += 1;
                while bytes.get(i).is_some_and(|&c| c != b'"' && c != b'\n') {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'"') {
                    i += 1;
                }
                TokenKind::String
            }
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                // `12abc` is one bad token, as in the grammar (`!ident_char` after a number).
                while bytes.get(i).copied().is_some_and(is_ident_char) {
                    i += 1;
                }
                TokenKind::Number
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while bytes.get(i).copied().is_some_and(is_ident_char) {
                    i += 1;
                }
                let word = text.get(start..i).unwrap_or("");
                if KEYWORDS.contains(&word) {
                    TokenKind::Keyword
                } else {
                    TokenKind::Ident
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                i += 2;
                TokenKind::Punct
            }
            b'.' if bytes.get(i + 1) == Some(&b'.') => {
                i += 2;
                TokenKind::Punct
            }
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b';' | b':' | b'.' | b'=' | b'+'
            | b'-' | b'*' | b'/' => {
                i += 1;
                TokenKind::Punct
            }
            _ => {
                // One whole character (it may be several bytes).
                let len = text
                    .get(i..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(1, char::len_utf8);
                i += len;
                TokenKind::Unknown
            }
        };
        tokens.push(Token {
            kind,
            span: Span::new(start, i),
        });
    }
    tokens
}

/// The end of the number literal starting at `i`: digits and `_`, an optional fraction, exponent
/// and `k`/`M` suffix (the grammar's `number` rule).
fn number_end(bytes: &[u8], mut i: usize) -> usize {
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    while bytes
        .get(i)
        .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
    {
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') && digit(i + 1) {
        i += 1;
        while digit(i) {
            i += 1;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        if digit(i + 1 + sign) {
            i += 1 + sign;
            while digit(i) {
                i += 1;
            }
        }
    }
    if matches!(bytes.get(i), Some(b'k' | b'M')) {
        i += 1;
    }
    i
}

/// The token at `offset`: the one whose span contains it, or ends exactly at it (a cursor just
/// after a name). Between two touching tokens a name wins over punctuation.
pub fn token_at(tokens: &[Token], offset: usize) -> Option<&Token> {
    let index = tokens.partition_point(|t| t.span.end < offset);
    let touching = |t: &&Token| t.span.start <= offset && offset <= t.span.end;
    let first = tokens.get(index).filter(touching);
    let second = tokens.get(index + 1).filter(touching);
    match (first, second) {
        (Some(a), Some(b)) if a.kind == TokenKind::Punct => Some(b),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        lex(text).iter().map(|t| (t.kind, t.text(text))).collect()
    }

    #[test]
    fn numbers_ranges_and_arrows() {
        use TokenKind::*;
        assert_eq!(
            kinds("0..50 1e-4 300k 1.5 a->b x.y"),
            vec![
                (Number, "0"),
                (Punct, ".."),
                (Number, "50"),
                (Number, "1e-4"),
                (Number, "300k"),
                (Number, "1.5"),
                (Ident, "a"),
                (Punct, "->"),
                (Ident, "b"),
                (Ident, "x"),
                (Punct, "."),
                (Ident, "y"),
            ]
        );
    }

    #[test]
    fn comments_strings_keywords_and_unknown_characters() {
        use TokenKind::*;
        assert_eq!(
            kinds("use \"a // b.dis\" // note ×\r\nin_x in ×"),
            vec![
                (Keyword, "use"),
                (String, "\"a // b.dis\""),
                (Comment, "// note ×"),
                (Ident, "in_x"),
                (Keyword, "in"),
                (Unknown, "×"),
            ]
        );
    }

    #[test]
    fn token_at_finds_the_name_under_or_just_before_the_cursor() {
        let text = "f(ab, c)";
        let tokens = lex(text);
        let at = |offset| token_at(&tokens, offset).map(|t| t.text(text));
        assert_eq!(at(2), Some("ab"));
        assert_eq!(at(4), Some("ab"));
        assert_eq!(at(7), Some("c"));
    }
}
