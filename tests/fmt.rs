//! `disc fmt`: the formatter never changes meaning, is idempotent, and the command behaves.
//!
//! Meaning is checked on every `.dis` file of the repository (fixtures, stdlib, experiments): the
//! formatted text must compile to the same plan (every job hash included) and the same diagnostics
//! (codes, messages, labels, help; only positions may move) as the original.

use std::path::{Path, PathBuf};
use std::process::Command;

use disc_compiler::diagnostic::Diagnostic;
use disc_compiler::ide::{FormatFailure, format};
use disc_compiler::{Loader, Source};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Reads imports relative to the directory of the root file.
struct DirLoader(PathBuf);

impl Loader for DirLoader {
    fn load(&self, _importer: &str, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn dis_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            dis_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "dis") {
            out.push(path);
        }
    }
}

fn all_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["tests/fixtures", "stdlib", "experiments"] {
        dis_files(&repo().join(dir), &mut files);
    }
    assert!(files.len() > 40, "found only {} .dis files", files.len());
    files
}

/// A diagnostic without its position: code, message, label and help.
type Unplaced = (String, String, String, Option<String>);

/// What must not change: the plan and the diagnostics without their positions.
fn meaning(path: &Path, text: &str) -> (Option<disc_compiler::plan::Plan>, Vec<Unplaced>) {
    let root = Source {
        name: "file.dis".to_string(),
        text: text.to_string(),
    };
    let dir = path.parent().expect("a file has a directory").to_path_buf();
    let compiled = disc_compiler::compile(root, &DirLoader(dir));
    let diagnostics = compiled
        .diagnostics
        .iter()
        .map(|d: &Diagnostic| {
            (
                d.code.to_string(),
                d.message.clone(),
                d.label.clone(),
                d.help.clone(),
            )
        })
        .collect();
    (compiled.plan, diagnostics)
}

#[test]
fn formatting_keeps_meaning_and_is_idempotent_on_every_repository_file() {
    let mut formatted_files = 0;
    for path in all_files() {
        let text = std::fs::read_to_string(&path).expect("readable fixture");
        let name = path
            .strip_prefix(repo())
            .unwrap_or(&path)
            .display()
            .to_string();
        let formatted = match format(&text) {
            Ok(formatted) => formatted,
            Err(FormatFailure::Syntax(d)) => {
                // Only the syntax-error fixtures may fail to format, and with their own code.
                assert!(
                    name.contains(&format!("/{}_", d.code)),
                    "{name} does not format: {d:?}"
                );
                continue;
            }
            Err(FormatFailure::TokensChanged(offset)) => {
                panic!("{name}: the formatter would change the token at byte {offset}")
            }
        };
        formatted_files += 1;
        assert_eq!(
            format(&formatted).as_ref(),
            Ok(&formatted),
            "{name}: formatting twice differs from formatting once"
        );
        let (plan_before, diags_before) = meaning(&path, &text);
        let (plan_after, diags_after) = meaning(&path, &formatted);
        assert_eq!(diags_before, diags_after, "{name}: diagnostics changed");
        assert_eq!(plan_before, plan_after, "{name}: plan changed");
        // A library (the stdlib) holds definitions and no experiment, so it plans no job.
        if let Some(plan) = plan_after.as_ref().filter(|_| !name.starts_with("stdlib")) {
            assert!(!plan.jobs.is_empty(), "{name}: an ok file with no job");
        }
    }
    assert!(
        formatted_files > 40,
        "only {formatted_files} files formatted"
    );
}

#[test]
fn the_study_file_keeps_its_12600_job_hashes() {
    let path = repo().join("experiments/dlib_unsupervised_study.dis");
    let text = std::fs::read_to_string(&path).expect("study file");
    // Deliberately disordered (comment lines aside, whose text formatting keeps), so formatting
    // has work to do.
    let messy: String = text
        .lines()
        .map(|line| match line.trim_start().starts_with("//") {
            true => format!("{line}\n"),
            false => format!("\t {}\n", line.replace(", ", " ,  ").replace(" = ", "=")),
        })
        .collect();
    assert_ne!(messy, text);
    let (before, _) = meaning(&path, &text);
    let formatted = format(&messy).expect("the messy study formats");
    assert_eq!(formatted, format(&text).expect("study formats"));
    let (after, _) = meaning(&path, &formatted);
    let hashes = |plan: &Option<disc_compiler::plan::Plan>| -> Vec<String> {
        plan.iter()
            .flat_map(|p| p.jobs.iter().map(|j| j.hash.clone()))
            .collect()
    };
    assert_eq!(hashes(&before).len(), 12_600);
    assert_eq!(hashes(&before), hashes(&after));
}

fn disc(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_disc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("disc runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("disc-fmt-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("temp dir");
    dir
}

#[test]
fn fmt_check_lists_unformatted_files_and_fmt_fixes_them() {
    let dir = temp_dir("fix");
    let messy = dir.join("sub/messy.dis");
    std::fs::write(&messy, "// keep me\ndef  x=[ 1,2 ]  // and me\n").expect("write");
    std::fs::write(dir.join("tidy.dis"), "def y = 1\n").expect("write");
    std::fs::write(dir.join("notes.txt"), "def  not = dis\n").expect("write");
    let d = dir.to_str().expect("utf-8 temp path");

    let (code, stdout, stderr) = disc(&["fmt", "--check", d]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout.trim(), messy.display().to_string());
    assert!(stderr.contains("1 of 2 files not formatted"), "{stderr}");

    let (code, _, stderr) = disc(&["fmt", d]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&messy).expect("read"),
        "// keep me\ndef x = [1, 2] // and me\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).expect("read"),
        "def  not = dis\n",
        "only .dis files are touched"
    );
    let (code, stdout, _) = disc(&["fmt", "--check", d]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_leaves_a_file_with_a_syntax_error_alone_and_says_where() {
    let dir = temp_dir("syntax");
    let broken = dir.join("broken.dis");
    let text = "experiment e {\n  data =\n}\n";
    std::fs::write(&broken, text).expect("write");
    let (code, _, stderr) = disc(&["fmt", broken.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("E0001") && stderr.contains("broken.dis:3:1"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&broken).expect("read"), text);
    let (code, _, stderr) = disc(&["fmt", dir.join("missing.dis").to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no such file"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
