//! The fixture harness of the `.dis` checker (issue 2, "Tests").
//!
//! - `tests/fixtures/check/ok/*.dis` must compile with no diagnostic at all and `disc check` must
//!   pass them; `warn/*.dis` must give warnings only, still produce a plan, and pass `disc check`;
//!   `err/*.dis` must give at least one *error*, and `disc check` must fail them (exit 1). All of
//!   it is enforced *before* any snapshot is compared, so accepting snapshots can never bless a
//!   regression. `disc_compiler::check` (no jobs built) must report exactly what `compile` does.
//! - The first line of every fixture is `// expect: ok` or `// expect: E0203, W0001`: the sorted list of
//!   codes written there must equal the sorted list of codes produced (a code listed twice must be
//!   produced twice). Lines `// set: PATH=VALUE` right after it are command-line overrides
//!   (`disc check --set PATH=VALUE`), so override diagnostics are fixtures like any other.
//! - Each fixture has an insta snapshot in `tests/snapshots/`: its source text above its rendered
//!   diagnostics (miette, `unicode_nocolor`, width 80, file names relative to the repository root),
//!   and for ok fixtures the plan (RON; a job table plus the first job when the plan is large).
//! - Meta-tests: every registered error code has an err fixture (every warning code a warn
//!   fixture) named after it and listing it, and every code a fixture lists is registered; every `stdlib/*.dis` and `experiments/*.dis` compiles
//!   without errors.
//! - Robustness: the compiler runs over a few thousand seeded mutations of the fixtures and must
//!   never panic.
//!
//! Everything goes through [`check`]: source text in, an [`Outcome`] out.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use disc_compiler::diagnostic::{self, RenderOptions, Severity};
use disc_compiler::{CODES, Compiled, Loader, Source};

/// The repository root (the root package's manifest directory).
fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Reads imports relative to a directory, as `disc check` does relative to the root file.
struct DirLoader(PathBuf);

impl Loader for DirLoader {
    fn load(&self, _importer: &str, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        })
    }
}

/// What the expectation line of a fixture says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    /// `// expect: ok`: no diagnostic at all.
    Ok,
    /// `// expect: E0101, W0001`: exactly these codes (sorted), at least one.
    Codes(Vec<String>),
}

/// Parses the first line of a fixture.
fn expected(text: &str) -> Result<Expected, String> {
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix("// expect:")
        .ok_or_else(|| {
            format!(
                "the first line must be `// expect: ok` or `// expect: CODE, ...`, found {first:?}"
            )
        })?
        .trim();
    if rest == "ok" {
        return Ok(Expected::Ok);
    }
    let mut codes: Vec<String> = rest
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if codes.is_empty() {
        return Err("the expectation line lists no codes".to_string());
    }
    codes.sort();
    Ok(Expected::Codes(codes))
}

/// The `// set: PATH=VALUE` lines that follow the expectation line.
fn overrides(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .map_while(|line| line.strip_prefix("// set: "))
        .map(str::to_string)
        .collect()
}

/// The result of compiling one input.
struct Outcome {
    compiled: Compiled,
    /// Codes produced, sorted.
    codes: Vec<String>,
    /// Source text followed by the deterministic rendering of every diagnostic.
    rendered: String,
}

/// The one helper every test goes through: compiles `text` as the file `name` (imports resolved
/// relative to `dir`), checks the outcome against `expected`, and returns it for snapshots.
fn check(name: &str, text: &str, dir: &Path, expected: &Expected) -> Result<Outcome, String> {
    let compiled = disc_compiler::compile_with(
        Source {
            name: name.to_string(),
            text: text.to_string(),
        },
        &DirLoader(dir.to_path_buf()),
        &overrides(text),
    );
    let mut codes: Vec<String> = compiled
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    codes.sort();
    let rendered_diagnostics = diagnostic::render(
        &compiled.diagnostics,
        &compiled.sources,
        RenderOptions::PLAIN,
    );
    let rendered = format!("{text}\n----- diagnostics -----\n{rendered_diagnostics}");
    let has_error = compiled
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    // `disc check` builds no jobs; it must find exactly what compiling does.
    let checked = disc_compiler::check_with(
        Source {
            name: name.to_string(),
            text: text.to_string(),
        },
        &DirLoader(dir.to_path_buf()),
        &overrides(text),
    );
    if checked.diagnostics != compiled.diagnostics {
        return Err(format!(
            "{name}: `check` and `compile` disagree:\n{}\n-----\n{rendered_diagnostics}",
            diagnostic::render(&checked.diagnostics, &checked.sources, RenderOptions::PLAIN)
        ));
    }
    match expected {
        Expected::Ok if !codes.is_empty() => {
            return Err(format!(
                "{name}: an ok fixture gave diagnostics {codes:?}:\n{rendered_diagnostics}"
            ));
        }
        Expected::Ok if compiled.plan.is_none() => {
            return Err(format!("{name}: an ok fixture produced no plan"));
        }
        Expected::Codes(_) if codes.is_empty() => {
            return Err(format!("{name}: an err fixture gave no diagnostic"));
        }
        Expected::Codes(want) if *want != codes => {
            return Err(format!(
                "{name}: expected codes {want:?}, produced {codes:?}:\n{rendered_diagnostics}"
            ));
        }
        Expected::Ok | Expected::Codes(_) => {}
    }
    if has_error == compiled.plan.is_some() {
        return Err(format!(
            "{name}: a plan must be produced iff there is no error (errors: {has_error})"
        ));
    }
    Ok(Outcome {
        compiled,
        codes,
        rendered,
    })
}

/// The top-level `*.dis` files of a directory, sorted (subdirectories hold imported helpers).
fn dis_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "dis"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Name relative to the repository root, with `/` separators on every platform.
fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(repo()).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Snapshot settings: `tests/snapshots/`, no module prefix, no expression header.
fn snapshot_settings(input: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(input);
    settings
}

/// The plan in snapshot form: full RON for small plans, else a job table and the first job.
fn plan_snapshot(compiled: &Compiled) -> String {
    let Some(plan) = &compiled.plan else {
        return "no plan".to_string();
    };
    let pretty = || ron::ser::PrettyConfig::new().indentor("  ".to_string());
    const FULL_LIMIT: usize = 4;
    if plan.jobs.len() <= FULL_LIMIT {
        return ron::ser::to_string_pretty(plan, pretty())
            .unwrap_or_else(|e| format!("cannot serialise: {e}"));
    }
    let mut out = format!(
        "{} jobs (version {}); table, then job 0 in full\n",
        plan.jobs.len(),
        plan.version
    );
    for job in &plan.jobs {
        let swept: Vec<String> = job.swept.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!(
            "{:>5}  {}  {}  {}\n",
            job.index,
            job.hash,
            job.experiment,
            swept.join(" ")
        ));
    }
    if let Some(first) = plan.jobs.first() {
        out.push_str(
            &ron::ser::to_string_pretty(first, pretty())
                .unwrap_or_else(|e| format!("cannot serialise: {e}")),
        );
    }
    out
}

/// Runs [`check`] on every fixture of `kind` (`ok` or `err`); returns the outcomes after the
/// ok/err discipline held for all of them.
fn run_fixtures(kind: &str) -> Vec<(PathBuf, Outcome)> {
    let dir = repo().join("tests/fixtures/check").join(kind);
    let files = dis_files(&dir);
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for path in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let result = expected(&text).and_then(|want| {
            match (kind, &want) {
                ("ok", Expected::Codes(_)) => {
                    return Err("an ok fixture must say `// expect: ok`".to_string());
                }
                ("err" | "warn", Expected::Ok) => {
                    return Err(format!("an {kind} fixture must list its codes"));
                }
                _ => {}
            }
            let outcome = check(&relative(&path), &text, &dir, &want)?;
            let errors = diagnostic::error_count(&outcome.compiled.diagnostics);
            match kind {
                "err" if errors == 0 => {
                    return Err("an err fixture must give at least one error".to_string());
                }
                "warn" if errors > 0 || outcome.compiled.plan.is_none() => {
                    return Err(
                        "a warn fixture must give warnings only and still produce a plan"
                            .to_string(),
                    );
                }
                _ => {}
            }
            disc_check_agrees(&path, kind)?;
            Ok(outcome)
        });
        match result {
            Ok(outcome) => outcomes.push((path, outcome)),
            Err(message) => failures.push(format!("{}: {message}", relative(&path))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    outcomes
}

/// Runs the `disc check` binary on a fixture as a user would and checks its exit status: 1 for
/// an err fixture, 0 otherwise.
fn disc_check_agrees(path: &Path, kind: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let sets = overrides(&text)
        .into_iter()
        .flat_map(|o| ["--set".to_string(), o]);
    let output = Command::new(env!("CARGO_BIN_EXE_disc"))
        .args(["check", "--color", "never"])
        .arg(path)
        .args(sets)
        .current_dir(repo())
        .output()
        .map_err(|e| format!("cannot run disc: {e}"))?;
    let want = if kind == "err" { 1 } else { 0 };
    if output.status.code() == Some(want) {
        Ok(())
    } else {
        Err(format!(
            "`disc check` exited with {:?}, expected {want}:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn ok_fixtures_compile_cleanly_and_match_snapshots() {
    for (path, outcome) in run_fixtures("ok") {
        let name = file_stem(&path);
        snapshot_settings(&path).bind(|| {
            insta::assert_snapshot!(format!("ok@{name}"), outcome.rendered);
            insta::assert_snapshot!(format!("plan@{name}"), plan_snapshot(&outcome.compiled));
        });
    }
}

#[test]
fn err_fixtures_give_their_codes_and_match_snapshots() {
    for (path, outcome) in run_fixtures("err") {
        let name = file_stem(&path);
        assert!(!outcome.codes.is_empty());
        snapshot_settings(&path)
            .bind(|| insta::assert_snapshot!(format!("err@{name}"), outcome.rendered));
    }
}

#[test]
fn warn_fixtures_give_only_warnings_and_match_snapshots() {
    for (path, outcome) in run_fixtures("warn") {
        let name = file_stem(&path);
        assert!(!outcome.codes.is_empty());
        snapshot_settings(&path)
            .bind(|| insta::assert_snapshot!(format!("warn@{name}"), outcome.rendered));
    }
}

/// Codes no fixture can produce, each still registered so `disc explain` knows it: E0004 is the
/// CLI's report of a file it cannot read (`tests/cli.rs` covers it), E0005 a broken invariant of
/// the compiler itself, which no input can reach, E0412 the CLI's refusal of a plan larger than
/// the machine's memory (`tests/cli.rs` covers it with `DISC_MEMORY_LIMIT`).
const NO_FIXTURE_CODES: &[&str] = &["E0004", "E0005", "E0412"];

#[test]
fn every_registered_code_has_a_fixture_and_every_fixture_code_is_registered() {
    let registered: BTreeSet<&str> = CODES.iter().map(|c| c.code).collect();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut problems = Vec::new();
    let fixtures = ["err", "warn"].into_iter().flat_map(|kind| {
        dis_files(&repo().join("tests/fixtures/check").join(kind))
            .into_iter()
            .map(move |p| (kind, p))
    });
    for (kind, path) in fixtures {
        let stem = file_stem(&path);
        let named_kind = if stem.starts_with('W') { "warn" } else { "err" };
        if named_kind != kind {
            problems.push(format!("{stem}: belongs in `{named_kind}/`, not `{kind}/`"));
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Ok(Expected::Codes(codes)) = expected(&text) else {
            problems.push(format!("{stem}: no expectation line with codes"));
            continue;
        };
        let named = stem.split('_').next().unwrap_or("");
        if !codes.iter().any(|c| c == named) {
            problems.push(format!(
                "{stem}: named after `{named}` but expects {codes:?}"
            ));
        } else {
            covered.insert(named.to_string());
        }
        for code in &codes {
            if !registered.contains(code.as_str()) {
                problems.push(format!(
                    "{stem}: expects `{code}`, which is not registered in codes.rs"
                ));
            }
        }
    }
    for code in &registered {
        if !covered.contains(*code) && !NO_FIXTURE_CODES.contains(code) {
            let kind = if code.starts_with('W') { "warn" } else { "err" };
            problems.push(format!(
                "`{code}` has no fixture `tests/fixtures/check/{kind}/{code}_<what>.dis`"
            ));
        }
    }
    for info in CODES {
        if info.title.is_empty() || info.explanation.len() < 40 {
            problems.push(format!(
                "`{}` needs a title and a paragraph of explanation",
                info.code
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn stdlib_and_experiments_compile_without_errors() {
    let mut problems = Vec::new();
    let mut seen = 0;
    for dir in ["stdlib", "experiments"] {
        let files = dis_files(&repo().join(dir));
        assert!(!files.is_empty(), "no .dis files in {dir}/");
        for path in files {
            seen += 1;
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let name = relative(&path);
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let compiled = disc_compiler::check(
                Source {
                    name: name.clone(),
                    text,
                },
                &DirLoader(parent),
            );
            if diagnostic::error_count(&compiled.diagnostics) > 0 {
                problems.push(diagnostic::render(
                    &compiled.diagnostics,
                    &compiled.sources,
                    RenderOptions::PLAIN,
                ));
            }
            if dir == "experiments" && !compiled.diagnostics.is_empty() {
                problems.push(format!(
                    "{name} should be clean, got:\n{}",
                    diagnostic::render(
                        &compiled.diagnostics,
                        &compiled.sources,
                        RenderOptions::PLAIN
                    )
                ));
            }
        }
    }
    assert!(seen >= 2);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Mutation robustness
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a tiny seeded generator, so every run mutates the same way.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform-enough index in `0..n` (n > 0); modulo bias is irrelevant for fuzzing.
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Splits text into tokens: identifier/number runs, whitespace runs, and single other characters.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    let mut previous: Option<u8> = None;
    for (i, c) in text.char_indices() {
        let k = class(c);
        if previous.is_some_and(|p| p != k || k == 2) && i > start {
            out.push(&text[start..i]);
            start = i;
        }
        previous = Some(k);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Characters that matter to the grammar, used for random edits.
const EDIT_CHARS: &[char] = &[
    '{', '}', '(', ')', '[', ']', ',', ':', '=', '+', '-', '*', '/', '.', '"', '<', '>', '|', '\n',
    ' ', '0', '1', '9', 'k', 'M', 'e', 'z', '_', '→', '\t', '#',
];

/// One mutation of `text`, chosen by `rng`.
fn mutate(text: &str, rng: &mut SplitMix) -> String {
    let toks = tokens(text);
    if toks.is_empty() {
        return String::new();
    }
    let i = rng.below(toks.len());
    let mut out: Vec<&str> = toks.clone();
    match rng.below(6) {
        0 => {
            out.remove(i);
        }
        1 => out.insert(i, toks[i]),
        2 => {
            let j = rng.below(toks.len());
            out.swap(i, j);
        }
        3 => {
            // Truncate at a random character boundary.
            let mut cut = rng.below(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            return text[..cut].to_string();
        }
        4 => {
            // Replace one character with a grammar-relevant one.
            let chars: Vec<char> = text.chars().collect();
            let at = rng.below(chars.len());
            let mut s: String = chars[..at].iter().collect();
            s.push(EDIT_CHARS[rng.below(EDIT_CHARS.len())]);
            s.extend(&chars[(at + 1).min(chars.len())..]);
            return s;
        }
        _ => {
            // Copy a token somewhere else (e.g. a name into a number position).
            let j = rng.below(toks.len());
            out.insert(j, toks[i]);
        }
    }
    out.concat()
}

#[test]
fn mutated_fixtures_never_panic() {
    let mut inputs: Vec<(String, String, PathBuf)> = Vec::new();
    for kind in ["ok", "warn", "err"] {
        let dir = repo().join("tests/fixtures/check").join(kind);
        for path in dis_files(&dir) {
            if let Ok(text) = std::fs::read_to_string(&path) {
                inputs.push((relative(&path), text, dir.clone()));
            }
        }
    }
    assert!(!inputs.is_empty());
    const MUTATIONS_PER_FIXTURE: usize = 80;
    // Bounded time: the debug-build compiler handles a small fixture in milliseconds; the budget
    // only matters on a very slow machine, and the count actually run is asserted below.
    let budget = Duration::from_secs(90);
    let started = Instant::now();
    let mut rng = SplitMix(0x5eed_d15c);
    let mut panics = Vec::new();
    let mut runs = 0usize;
    'outer: for round in 0..MUTATIONS_PER_FIXTURE {
        for (name, text, dir) in &inputs {
            if started.elapsed() > budget {
                break 'outer;
            }
            // Mutations compound: odd rounds mutate twice.
            let mut mutated = mutate(text, &mut rng);
            if round % 2 == 1 {
                mutated = mutate(&mutated, &mut rng);
            }
            let source = Source {
                name: name.clone(),
                text: mutated.clone(),
            };
            let loader = DirLoader(dir.clone());
            let result = catch_unwind(AssertUnwindSafe(|| {
                let compiled = disc_compiler::compile(source, &loader);
                // Rendering and JSON must cope with whatever spans came out.
                let _ = diagnostic::render(
                    &compiled.diagnostics,
                    &compiled.sources,
                    RenderOptions::PLAIN,
                );
                for d in &compiled.diagnostics {
                    let _ = diagnostic::JsonDiagnostic::new(d, &compiled.sources);
                    assert!(
                        compiled
                            .sources
                            .get(d.source.0 as usize)
                            .is_some_and(
                                |s| d.span.start <= d.span.end && d.span.end <= s.text.len()
                            ),
                        "diagnostic {} has a span outside its source",
                        d.code
                    );
                }
            }));
            runs += 1;
            if result.is_err() && panics.len() < 10 {
                panics.push(format!("{name}, mutation {round}:\n{mutated}"));
            }
        }
    }
    eprintln!(
        "{runs} mutations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        panics.is_empty(),
        "the compiler panicked on {} mutated input(s):\n\n{}",
        panics.len(),
        panics.join("\n\n-----\n\n")
    );
    assert!(
        runs >= 1000.min(inputs.len() * MUTATIONS_PER_FIXTURE),
        "only {runs} mutations ran within the time budget"
    );
}

#[test]
fn expectation_lines_parse() {
    assert_eq!(expected("// expect: ok\nx"), Ok(Expected::Ok));
    assert_eq!(
        expected("// expect: W0001, E0201"),
        Ok(Expected::Codes(vec!["E0201".into(), "W0001".into()]))
    );
    assert!(expected("// expect:").is_err());
    assert!(expected("experiment e {}").is_err());
}

#[test]
fn harness_rejects_wrong_outcomes() {
    // An err expectation on valid text, and an ok expectation on broken text, must both fail.
    let dir = repo().join("tests/fixtures/check/ok");
    let valid = std::fs::read_to_string(dir.join("minimal_beta_vae.dis")).unwrap_or_default();
    assert!(check("v.dis", &valid, &dir, &Expected::Ok).is_ok());
    assert!(
        check(
            "v.dis",
            &valid,
            &dir,
            &Expected::Codes(vec!["E0101".into()])
        )
        .is_err()
    );
    // The same file with one typo: E0101 (unknown name); the import it no longer uses may add
    // W0002, so the exact list is taken from the compiler and then checked both ways.
    let broken = valid.replace("dsprites_full()", "dsprites_ful()");
    assert_ne!(broken, valid);
    assert!(check("b.dis", &broken, &dir, &Expected::Ok).is_err());
    let mut produced: Vec<String> = disc_compiler::compile(
        Source {
            name: "b.dis".into(),
            text: broken.clone(),
        },
        &DirLoader(dir.clone()),
    )
    .diagnostics
    .iter()
    .map(|d| d.code.to_string())
    .collect();
    produced.sort();
    assert!(produced.iter().any(|c| c == "E0101"), "{produced:?}");
    let outcome = check("b.dis", &broken, &dir, &Expected::Codes(produced.clone()));
    assert_eq!(outcome.map(|o| o.codes).ok(), Some(produced.clone()));
    let mut one_more = produced;
    one_more.push("E0101".into());
    one_more.sort();
    let err = check("b.dis", &broken, &dir, &Expected::Codes(one_more))
        .err()
        .unwrap_or_default();
    assert!(
        err.contains("expected codes"),
        "a missing duplicate code must fail: {err}"
    );
}
