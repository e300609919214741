//! End-to-end tests of `disc check`, `disc plan` and `disc explain`: run the built binary on real
//! files and check exit codes and the shape of what it prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `disc` with `args` from the repository root, without colours.
fn disc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_disc"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("the disc binary built by cargo can be started")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch directory unique to this test process and name.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("disc-cli-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

#[test]
fn check_accepts_every_experiment() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("experiments"))
        .expect("experiments/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dis"))
        .map(|p| {
            format!(
                "experiments/{}",
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )
        })
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = disc(&args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("checked {} files: no problems", files.len())),
        "{stderr}"
    );
}

#[test]
fn check_rejects_a_broken_file_with_a_located_coded_diagnostic() {
    let dir = scratch("broken");
    let file = dir.join("broken.dis");
    std::fs::write(
        &file,
        "use std.data.dsprites_full\nuse std.models.{conv_vae, beta_vae}\n\nexperiment e {\n  data = dsprites_ful()\n  model = conv_vae()\n  loss = beta_vae()\n}\n",
    )
    .expect("writable");
    let path = file.to_string_lossy().into_owned();
    let out = disc(&["check", &path]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The rendered snippet names the file and line, shows the code and the offending text.
    assert!(stderr.contains(&format!("[{path}:5:")), "{stderr}");
    assert!(stderr.contains("dsprites_ful()"), "{stderr}");
    assert!(stderr.contains("E0101"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "NO_COLOR must disable colours:\n{stderr}"
    );

    // The JSON form: an array of objects with the documented keys, on stdout.
    let out = disc(&["check", "--format", "json", &path]);
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let first = value
        .as_array()
        .and_then(|a| a.first())
        .expect("at least one diagnostic");
    for key in [
        "code", "severity", "message", "file", "line", "column", "span", "label", "help",
    ] {
        assert!(first.get(key).is_some(), "missing `{key}` in {first}");
    }
    assert_eq!(first["file"], serde_json::Value::String(path.clone()));
    let unknown = value
        .as_array()
        .and_then(|a| a.iter().find(|d| d["code"] == "E0101"))
        .expect("the unknown name is reported");
    assert_eq!(
        (unknown["line"].as_u64(), unknown["column"].as_u64()),
        (Some(5), Some(10))
    );
    assert_eq!(unknown["severity"], "error");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_usage_errors_exit_2_and_unreadable_files_are_errors() {
    assert_eq!(disc(&["check"]).status.code(), Some(2));
    // An unreadable file is an error like any other (E0004): counted in the summary, exit 1.
    let good = "tests/fixtures/check/ok/minimal_beta_vae.dis";
    let out = disc(&["check", good, "no/such/file.dis"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot read `no/such/file.dis`: no such file"),
        "{stderr}"
    );
    assert!(stderr.contains("E0004"), "{stderr}");
    assert!(stderr.contains("checked 2 files: 1 error"), "{stderr}");
    // ... and in JSON on stdout, not only on stderr.
    let out = disc(&["check", "--format", "json", "no/such/file.dis"]);
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let first = value
        .as_array()
        .and_then(|a| a.first())
        .expect("the unreadable file is reported");
    assert_eq!(first["code"], "E0004");
    assert_eq!(first["file"], "no/such/file.dis");
}

#[test]
fn json_and_human_columns_agree_on_non_ascii_lines() {
    // `é` is two bytes: the unknown name starts at character 16 but byte 17 of line 5. Both
    // outputs count bytes, as the span does.
    let dir = scratch("columns");
    let file = dir.join("accents.dis");
    std::fs::write(
        &file,
        "use std.data.dsprites_full\nuse std.models.{conv_vae, beta_vae}\n\nexperiment e {\n  data = (\"é\", dsprites_ful())\n  model = conv_vae()\n  loss = beta_vae()\n}\n",
    )
    .expect("writable");
    let path = file.to_string_lossy().into_owned();
    let human = text(&disc(&["check", "--color", "never", &path]).stderr);
    let out = disc(&["check", "--format", "json", &path]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let unknown = value
        .as_array()
        .and_then(|a| a.iter().find(|d| d["code"] == "E0101"))
        .expect("the unknown name is reported");
    let column = unknown["column"].as_u64().unwrap_or_default();
    assert_eq!(column, 17);
    assert!(
        human.contains(&format!("[{path}:5:{column}]")),
        "json column {column} not in:\n{human}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn imports_resolve_relative_to_the_root_file() {
    let dir = scratch("imports");
    std::fs::write(
        dir.join("common.dis"),
        "use std.data.dsprites_full\ndef my_data = dsprites_full()\n",
    )
    .expect("writable");
    let main = dir.join("main.dis");
    std::fs::write(&main, "use \"common.dis\"\nuse std.models.conv_vae\nexperiment e {\n  data = my_data\n  model = conv_vae()\n  loss = recon + kl\n}\n")
        .expect("writable");
    // Run from the repository root: `common.dis` is found next to `main.dis`, not in the cwd.
    let out = disc(&["check", &main.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(&main, "use \"missing.dis\"\n").expect("writable");
    let out = disc(&["check", &main.to_string_lossy()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("E0105") && stderr.contains("missing.dis"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn nested_imports_resolve_relative_to_the_importing_file() {
    let dir = scratch("nested-imports");
    let lib = dir.join("lib");
    std::fs::create_dir_all(&lib).expect("writable");
    std::fs::write(
        lib.join("data.dis"),
        "use std.data.dsprites_full\ndef my_data = dsprites_full()\n",
    )
    .expect("writable");
    // `lib/wrap.dis` imports `data.dis`: that is `lib/data.dis`, next to it; there is no
    // `data.dis` next to the root file, so resolving against the root's directory would fail.
    std::fs::write(
        lib.join("wrap.dis"),
        "use \"data.dis\"\ndef wrapped_data = my_data\n",
    )
    .expect("writable");
    let main = dir.join("main.dis");
    std::fs::write(&main, "use \"lib/wrap.dis\"\nuse std.models.conv_vae\nexperiment e {\n  data = wrapped_data\n  model = conv_vae()\n  loss = recon + kl\n}\n")
        .expect("writable");
    let out = disc(&["check", &main.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A missing nested import is reported at the `use` inside the imported file, by its path there.
    std::fs::remove_file(lib.join("data.dis")).expect("removable");
    let out = disc(&["check", &main.to_string_lossy()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("E0105")
            && stderr.contains("wrap.dis")
            && stderr.contains("relative to the directory of the importing file"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn plan_prints_ron_lists_jobs_selects_and_writes() {
    let out = disc(&["plan", "experiments/quickstart.dis"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ron_text = text(&out.stdout);
    let plan: disc_compiler::plan::Plan = ron::from_str(&ron_text).expect("stdout is a RON plan");
    assert_eq!(plan.version, disc_compiler::plan::PLAN_VERSION);
    assert!(!plan.jobs.is_empty());

    // Byte-stable: a second run prints the same bytes.
    assert_eq!(
        disc(&["plan", "experiments/quickstart.dis"]).stdout,
        out.stdout
    );

    let out = disc(&["plan", "experiments/quickstart.dis", "--list"]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(table.starts_with("index"), "{table}");
    assert!(table.contains(&plan.jobs[0].hash), "{table}");
    assert!(
        table
            .lines()
            .last()
            .is_some_and(|l| l.contains("examples in total")),
        "{table}"
    );

    let out = disc(&["plan", "experiments/quickstart.dis", "--job", "999999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("there is no job 999999"));

    let dir = scratch("plan");
    let target = dir.join("plan.ron");
    let out = disc(&[
        "plan",
        "experiments/quickstart.dis",
        "--job",
        "0",
        "-o",
        &target.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        out.stdout.is_empty(),
        "with -o the plan goes to the file only"
    );
    let written: disc_compiler::plan::Plan =
        ron::from_str(&std::fs::read_to_string(&target).expect("written")).expect("a RON plan");
    assert_eq!(written.jobs.len(), 1);
    assert_eq!(written.jobs[0], plan.jobs[0]);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temporary file may be left: {leftovers:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn plan_of_the_reference_study_lists_12600_jobs_in_reference_order() {
    let out = disc(&["plan", "experiments/dlib_unsupervised_study.dis", "--list"]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: Vec<&str> = table
        .lines()
        .skip(1)
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    // The last line is the total, which also starts with a digit.
    assert!(
        table
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("12600 jobs")),
        "{}",
        table.lines().last().unwrap_or("")
    );
    let jobs: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|l| !l.contains("examples in total"))
        .collect();
    assert_eq!(jobs.len(), 12_600);
    for (i, row) in jobs.iter().enumerate() {
        let index = row.split_whitespace().next().unwrap_or("");
        assert_eq!(index, i.to_string(), "row {i}: {row}");
    }
    // Reference model_num checkpoints (reference §1.8), as the issue lists them.
    let expected: [(usize, &[&str]); 5] = [
        (
            0,
            &[
                "data=dsprites_full()",
                "loss=beta_vae()",
                "loss.beta=1 ",
                "seed=0",
            ],
        ),
        (
            50,
            &[
                "data=dsprites_full()",
                "loss=beta_vae()",
                "loss.beta=2 ",
                "seed=0",
            ],
        ),
        (
            300,
            &[
                "data=dsprites_full()",
                "loss=factor_vae()",
                "loss.gamma=10 ",
                "seed=0",
            ],
        ),
        (
            1500,
            &[
                "data=dsprites_full()",
                "loss=annealed_vae()",
                "loss.c_max=5 ",
                "seed=0",
            ],
        ),
        (
            10_800,
            &[
                "data=shapes3d()",
                "loss=beta_vae()",
                "loss.beta=1 ",
                "seed=0",
            ],
        ),
    ];
    for (index, needles) in expected {
        let row = jobs[index];
        for needle in needles {
            assert!(row.contains(needle), "job {index} lacks `{needle}`: {row}");
        }
    }
    // Every job trains 300k steps at batch 64 (reference §1.7).
    assert!(jobs.iter().all(|r| r.ends_with("300000 × 64 = 19.2M")));
}

#[test]
fn explain_prints_registered_codes_and_rejects_unknown_ones() {
    let code = disc_compiler::CODES
        .first()
        .expect("codes are registered")
        .code;
    let out = disc(&["explain", &code.to_lowercase()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.starts_with(&format!("{code}: ")), "{stdout}");
    let out = disc(&["explain", "E9999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a disc diagnostic code"));
}

#[test]
fn a_plan_larger_than_memory_is_refused_with_its_size_but_still_streams() {
    let dir = scratch("memory");
    let file = dir.join("many.dis");
    std::fs::write(
        &file,
        "use std.data.dsprites_full\nuse std.models.{conv_vae, beta_vae}\n\
         experiment e {\n  data = dsprites_full()\n  model = conv_vae()\n  loss = beta_vae()\n  \
         sweep { seed in 0..3000 }\n}\n",
    )
    .expect("the scratch dir is writable");
    let with_limit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_disc"))
            .args(args)
            .current_dir(repo())
            .env("NO_COLOR", "1")
            .env("DISC_MEMORY_LIMIT", "1")
            .output()
            .expect("the disc binary built by cargo can be started")
    };
    let path = file.to_string_lossy().into_owned();
    // `--job 999999`: were the plan not refused, the run would stop at the unknown job (exit 2).
    let out = with_limit(&[
        "run",
        &path,
        "--job",
        "999999",
        "--out",
        &dir.to_string_lossy(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("E0412"), "{stderr}");
    assert!(stderr.contains("3000 jobs need about"), "{stderr}");
    // `disc plan` holds no plan: the same study lists within the same limit.
    let out = with_limit(&["plan", &path, "--list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("3000 jobs"));
    let _ = std::fs::remove_dir_all(dir);
}
