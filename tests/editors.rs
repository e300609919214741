//! The editor support under `editors/`: the VS Code extension's manifest and its TextMate grammar.
//!
//! The grammar is run over every `.dis` file of the repository the way a TextMate engine runs a
//! flat grammar (at each point, the pattern whose match starts earliest wins; ties go to the first
//! pattern), and the scopes it gives are compared with the tokens of the real lexer
//! (`disc_grammar::lex`): comments, strings, numbers, keywords and names must be highlighted as
//! what they are, and no character may be left without a scope. The grammar's expressions are
//! kept to the syntax Oniguruma (the editors' engine) and the `regex` crate share.

use std::path::{Path, PathBuf};

use disc_grammar::lex::{TokenKind, lex};
use regex::Regex;
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(path)).expect("file");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One `match` rule: its expression, its whole-match scope and its capture scopes.
struct Rule {
    regex: Regex,
    name: Option<String>,
    captures: Vec<(usize, String)>,
}

/// The grammar's top-level patterns in order, includes expanded.
fn rules(grammar: &Value) -> Vec<Rule> {
    fn expand(pattern: &Value, grammar: &Value, out: &mut Vec<Rule>) {
        if let Some(include) = pattern["include"].as_str() {
            let key = include.strip_prefix('#').expect("a repository include");
            let rule = &grammar["repository"][key];
            assert!(!rule.is_null(), "missing repository rule {key}");
            return expand(rule, grammar, out);
        }
        if let Some(patterns) = pattern["patterns"].as_array() {
            for p in patterns {
                expand(p, grammar, out);
            }
            return;
        }
        let source = pattern["match"].as_str().expect("only `match` rules");
        let regex = Regex::new(&format!("(?m){source}"))
            .unwrap_or_else(|e| panic!("`{source}` is not in the shared syntax: {e}"));
        let captures: Vec<(usize, String)> = pattern["captures"]
            .as_object()
            .map(|caps| {
                caps.iter()
                    .map(|(k, v)| {
                        let name = v["name"].as_str().expect("capture name").to_string();
                        (k.parse().expect("numbered capture"), name)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = pattern["name"].as_str().map(str::to_string);
        assert!(
            name.is_some() || !captures.is_empty(),
            "`{source}` gives no scope"
        );
        out.push(Rule {
            regex,
            name,
            captures,
        });
    }
    let mut out = Vec::new();
    for pattern in grammar["patterns"].as_array().expect("patterns") {
        expand(pattern, grammar, &mut out);
    }
    out
}

/// The scope of every byte of `line` (`None` where no rule gave one).
fn scopes(rules: &[Rule], line: &str) -> Vec<Option<String>> {
    let mut out = vec![None; line.len()];
    let mut at = 0;
    while at < line.len() {
        let best = rules
            .iter()
            .filter_map(|rule| {
                let caps = rule.regex.captures_at(line, at)?;
                let whole = caps.get(0)?;
                (whole.end() > whole.start()).then_some((whole.start(), rule, caps))
            })
            .min_by_key(|(start, _, _)| *start);
        let Some((_, rule, caps)) = best else { break };
        let whole = caps.get(0).expect("match");
        if let Some(name) = &rule.name {
            out[whole.range()].fill(Some(name.clone()));
        }
        for (group, name) in &rule.captures {
            if let Some(m) = caps.get(*group) {
                out[m.range()].fill(Some(name.clone()));
            }
        }
        at = whole.end();
    }
    out
}

fn dis_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![
        repo().join("tests/fixtures"),
        repo().join("stdlib"),
        repo().join("experiments"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "dis") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_textmate_grammar_agrees_with_the_lexer_on_every_file() {
    let grammar = read_json("editors/vscode/syntaxes/disc.tmLanguage.json");
    assert_eq!(grammar["scopeName"], "source.disc");
    let rules = rules(&grammar);
    let files = dis_files();
    assert!(files.len() > 40);
    let mut checked_tokens = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("file");
        let name = path
            .strip_prefix(repo())
            .unwrap_or(&path)
            .display()
            .to_string();
        // A file that does not lex as the language (the syntax-error fixtures, E0001) may hold
        // words no grammar rule names; editors show those unscoped, as the checker reports them.
        if name.contains("/E0001_") {
            continue;
        }
        // Scopes per byte of the whole file, line by line as editors tokenize.
        let mut file_scopes: Vec<Option<String>> = Vec::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            file_scopes.extend(scopes(&rules, body));
            file_scopes.extend(std::iter::repeat_n(None, line.len() - body.len()));
        }
        for token in lex(&text) {
            let word = token.text(&text);
            let line = text[..token.span.start].matches('\n').count() + 1;
            let where_ = format!("{name}:{line}: `{word}`");
            let token_scopes = &file_scopes[token.span.range()];
            let Some(Some(scope)) = token_scopes.first() else {
                panic!("{where_} has no scope");
            };
            assert!(
                token_scopes.iter().all(|s| s.is_some()
                    && (s == &token_scopes[0]
                        || token.kind == TokenKind::Comment
                        || token.kind == TokenKind::String)),
                "{where_} is split between scopes {token_scopes:?}"
            );
            let expected: &[&str] = match token.kind {
                TokenKind::Comment => &["comment."],
                TokenKind::String => &["string."],
                TokenKind::Number => &["constant.numeric."],
                TokenKind::Keyword if matches!(word, "true" | "false") => &["constant.language."],
                TokenKind::Keyword => &["keyword."],
                TokenKind::Ident if matches!(word, "graph" | "sweep" | "zip") => {
                    &["keyword.control.", "entity.name.", "variable."]
                }
                TokenKind::Ident => &["entity.name.", "variable."],
                TokenKind::Punct => &["punctuation.", "keyword.operator."],
                TokenKind::Unknown => &[""],
            };
            assert!(
                expected.iter().any(|prefix| scope.starts_with(prefix)),
                "{where_} is highlighted as {scope}, expected one of {expected:?}"
            );
            checked_tokens += 1;
        }
    }
    assert!(checked_tokens > 5000, "{checked_tokens}");
}

#[test]
fn the_grammar_gives_the_expected_scopes_on_a_sample() {
    let grammar = read_json("editors/vscode/syntaxes/disc.tmLanguage.json");
    let rules = rules(&grammar);
    let line = "  model = conv_vae(latents: 10) // ok";
    let s = scopes(&rules, line);
    let at = |needle: &str| {
        s[line.find(needle).expect("needle")]
            .clone()
            .unwrap_or_default()
    };
    assert_eq!(at("model"), "variable.other.member.disc");
    assert_eq!(at("conv_vae"), "entity.name.function.call.disc");
    assert_eq!(at("latents"), "variable.parameter.disc");
    assert_eq!(at("10"), "constant.numeric.disc");
    assert_eq!(at("//"), "comment.line.double-slash.disc");
    let line = "def beta_vae(beta: float = 4.0): loss = recon + beta * kl";
    let s = scopes(&rules, line);
    assert_eq!(s[0].as_deref(), Some("keyword.declaration.disc"));
    assert_eq!(s[4].as_deref(), Some("entity.name.function.disc"));
}

#[test]
fn the_vscode_manifest_registers_the_language_grammar_and_configuration() {
    let manifest = read_json("editors/vscode/package.json");
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "disc");
    assert_eq!(language["extensions"][0], ".dis");
    let grammar = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar["scopeName"], "source.disc");
    for path in [
        grammar["path"].as_str().expect("grammar path"),
        language["configuration"]
            .as_str()
            .expect("configuration path"),
        manifest["main"].as_str().expect("extension entry point"),
    ] {
        let file = repo().join("editors/vscode").join(path);
        assert!(file.exists(), "{} is missing", file.display());
    }
    let config = read_json("editors/vscode/language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "//");
}
