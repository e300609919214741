//! Compiler tests through the public `compile` entry point: the stdlib and experiments compile
//! cleanly, the reference study numbers its jobs like disentanglement_lib, the stdlib architectures
//! have the reference parameter counts, and representative mistakes give their codes.

#![allow(clippy::wildcard_enum_match_arm)] // tests pick one variant out of many

use std::collections::BTreeMap;

use crate::plan::{Job, ModelSpec, Term};
use crate::{Compiled, Loader, Source, compile};

/// An in-memory loader for `use "..."` in tests.
struct Files(BTreeMap<&'static str, &'static str>);

impl Loader for Files {
    fn load(&self, _importer: &str, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .map(|t| t.to_string())
            .ok_or_else(|| "no such file".to_string())
    }
}

fn compile_text(text: &str) -> Compiled {
    compile(
        Source {
            name: "test.dis".to_string(),
            text: text.to_string(),
        },
        &Files(BTreeMap::new()),
    )
}

fn codes(c: &Compiled) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

fn jobs(c: &Compiled) -> &[Job] {
    c.plan.as_ref().map_or(&[], |p| p.jobs.as_slice())
}

const EXPERIMENTS: &[(&str, &str)] = &[
    (
        "quickstart.dis",
        include_str!("../../experiments/quickstart.dis"),
    ),
    (
        "dlib_unsupervised_study.dis",
        include_str!("../../experiments/dlib_unsupervised_study.dis"),
    ),
    (
        "beta_vae_dsprites.dis",
        include_str!("../../experiments/beta_vae_dsprites.dis"),
    ),
    (
        "structured_infogan.dis",
        include_str!("../../experiments/structured_infogan.dis"),
    ),
    (
        "structured_vae.dis",
        include_str!("../../experiments/structured_vae.dis"),
    ),
    (
        "study_small.dis",
        include_str!("../../experiments/study_small.dis"),
    ),
    (
        "tests/fixtures/study/tiny.dis",
        include_str!("../../tests/fixtures/study/tiny.dis"),
    ),
];

#[test]
fn the_small_study_has_18_jobs_with_typed_swept_values() {
    use crate::plan::SweptValue;
    let c = compile_text(include_str!("../../experiments/study_small.dis"));
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let jobs = jobs(&c);
    assert_eq!(jobs.len(), 18);
    let first = jobs.first().expect("jobs");
    assert_eq!(
        first.swept.get("loss"),
        Some(&SweptValue::Expr("beta_vae()".to_string()))
    );
    assert_eq!(first.swept.get("loss.beta"), Some(&SweptValue::Int(1)));
    assert_eq!(first.swept.get("seed"), Some(&SweptValue::Int(0)));
    let last = jobs.last().expect("jobs");
    assert_eq!(last.swept.get("loss.lambda_od"), Some(&SweptValue::Int(10)));
    assert_eq!(last.swept.get("seed"), Some(&SweptValue::Int(2)));
    assert!(jobs.iter().all(|j| j.train.steps == 600));
}

#[test]
fn every_experiment_compiles_without_diagnostics() {
    for (name, text) in EXPERIMENTS {
        // The 12 600-job study is expanded in its own test; checking it is enough here.
        if name.starts_with("dlib") {
            let c = crate::check(
                Source {
                    name: name.to_string(),
                    text: text.to_string(),
                },
                &Files(BTreeMap::new()),
            );
            assert!(c.diagnostics.is_empty(), "{name}: {:#?}", c.diagnostics);
            continue;
        }
        let c = compile_text(text);
        assert!(c.diagnostics.is_empty(), "{name}: {:#?}", c.diagnostics);
        assert!(!jobs(&c).is_empty(), "{name} has no jobs");
    }
}

#[test]
fn study_numbering_matches_reference_model_num() {
    let c = compile_text(include_str!(
        "../../experiments/dlib_unsupervised_study.dis"
    ));
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let jobs = jobs(&c);
    assert_eq!(jobs.len(), 12_600);
    for (i, job) in jobs.iter().enumerate() {
        assert_eq!(job.index, i as u64);
        assert_eq!(job.train.seed, (i % 50) as u64, "job {i}");
    }
    let swept = |n: usize, key: &str| {
        jobs.get(n)
            .and_then(|j| j.swept.get(key))
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let kl_weight = |n: usize| {
        jobs.get(n)
            .and_then(|j| j.objective.iter().find(|t| t.term == Term::Kl))
            .map(|t| t.coefficient)
    };
    // Model 0: β-VAE β=1, seed 0, dsprites_full.
    assert_eq!(
        jobs.first().map(|j| j.dataset.name.as_str()),
        Some("dsprites_full")
    );
    assert_eq!(swept(0, "loss"), "beta_vae()");
    assert_eq!(kl_weight(0), Some(1.0));
    // Model 50: β = 2, seed 0.
    assert_eq!(swept(50, "loss.beta"), "2");
    assert_eq!(kl_weight(50), Some(2.0));
    assert_eq!(swept(50, "seed"), "0");
    // Model 300: FactorVAE γ = 10.
    assert_eq!(swept(300, "loss"), "factor_vae()");
    let tc = jobs.get(300).and_then(|j| {
        j.objective
            .iter()
            .find(|t| matches!(t.term, Term::DiscriminatorTc { .. }))
    });
    assert_eq!(tc.map(|t| t.coefficient), Some(10.0));
    // Model 1500: AnnealedVAE c_max = 5 (γ = 1000).
    let cap = jobs.get(1500).and_then(|j| {
        j.objective
            .iter()
            .find(|t| matches!(t.term, Term::Capacity { .. }))
    });
    assert_eq!(
        cap.map(|t| (t.coefficient, t.term.clone())),
        Some((
            1000.0,
            Term::Capacity {
                c_max: 5.0,
                iteration_threshold: 100_000
            }
        ))
    );
    // Model 10800: shapes3d β-VAE β = 1.
    assert_eq!(
        jobs.get(10_800).map(|j| j.dataset.name.as_str()),
        Some("shapes3d")
    );
    assert_eq!(kl_weight(10_800), Some(1.0));
    assert_eq!(swept(10_800, "loss"), "beta_vae()");
    // Dataset blocks of 1800 in the reference order.
    let names: Vec<&str> = (0..7)
        .filter_map(|d| jobs.get(d * 1800).map(|j| j.dataset.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            "dsprites_full",
            "color_dsprites",
            "noisy_dsprites",
            "scream_dsprites",
            "smallnorb",
            "cars3d",
            "shapes3d"
        ]
    );
    // Hashes: identical configs differ only by seed, so all 12 600 hashes are distinct.
    let mut hashes: Vec<&str> = jobs.iter().map(|j| j.hash.as_str()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), 12_600);
}

fn vae_params(text: &str) -> (u64, u64) {
    let c = compile_text(text);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    match jobs(&c).first().map(|j| &j.model) {
        Some(ModelSpec::Vae(v)) => (v.encoder.parameters, v.decoder.parameters),
        other => panic!("expected a VAE, got {other:?}"),
    }
}

#[test]
fn stdlib_architectures_have_reference_parameter_counts() {
    let program = |data: &str, enc: &str, dec: &str| {
        format!(
            "use std.data.{{{data}}}\nuse std.arch.{{{enc}, {dec}}}\nexperiment e {{\n data = {data}()\n model = vae(latents: 10, encoder: {enc}(latents: 10), decoder: {dec}(channels: data.channels))\n loss = recon + kl\n}}\n"
        )
    };
    // Reference §2.1/2.2.
    assert_eq!(
        vae_params(&program("dsprites_full", "conv_encoder", "deconv_decoder")),
        (309_204, 381_313)
    );
    assert_eq!(
        vae_params(&program("color_dsprites", "conv_encoder", "deconv_decoder")),
        (310_228, 382_339)
    );
    // Reference §2.3/2.4.
    assert_eq!(
        vae_params(&program("dsprites_full", "fc_encoder", "fc_decoder")),
        (6_381_620, 7_814_896)
    );
    // Reference §2.5: the FactorVAE discriminator for D = 10.
    let c = compile_text(
        "use std.data.dsprites_full\nuse std.models.{conv_vae, factor_vae}\nexperiment e {\n data = dsprites_full()\n model = conv_vae()\n loss = factor_vae()\n}\n",
    );
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let disc = jobs(&c).first().and_then(|j| {
        j.objective.iter().find_map(|t| match &t.term {
            Term::DiscriminatorTc {
                discriminator,
                optimizer,
            } => Some((discriminator.parameters, optimizer.clone())),
            _ => None,
        })
    });
    assert_eq!(
        disc,
        Some((
            5_018_002,
            crate::plan::Optimizer::Adam {
                lr: 1e-4,
                beta1: 0.5,
                beta2: 0.9,
                epsilon: 1e-8
            }
        ))
    );
}

#[test]
fn presets_expand_into_weighted_terms() {
    let objective = |preset: &str| {
        let c = compile_text(&format!(
            "use std.data.dsprites_full\nuse std.models.{{conv_vae, {name}}}\nexperiment e {{\n data = dsprites_full()\n model = conv_vae()\n loss = {preset}\n}}\n",
            name = preset.split('(').next().unwrap_or(preset)
        ));
        assert!(c.diagnostics.is_empty(), "{preset}: {:#?}", c.diagnostics);
        jobs(&c)
            .first()
            .map(|j| {
                j.objective
                    .iter()
                    .map(|t| (t.coefficient, t.term.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    use crate::plan::DipKind;
    assert_eq!(
        objective("beta_tc_vae(beta: 6)"),
        vec![
            (1.0, Term::Reconstruction),
            (1.0, Term::Kl),
            (5.0, Term::TotalCorrelation)
        ]
    );
    assert_eq!(
        objective("annealed_vae(c_max: 10)"),
        vec![
            (1.0, Term::Reconstruction),
            (
                1000.0,
                Term::Capacity {
                    c_max: 10.0,
                    iteration_threshold: 100_000
                }
            )
        ]
    );
    assert_eq!(
        objective("dip_vae_i(lambda_od: 5)"),
        vec![
            (1.0, Term::Reconstruction),
            (1.0, Term::Kl),
            (
                1.0,
                Term::DipCovariance {
                    kind: DipKind::I,
                    lambda_od: 5.0,
                    lambda_d: 50.0
                }
            )
        ]
    );
    assert_eq!(
        objective("dip_vae_ii(lambda_od: 5)"),
        vec![
            (1.0, Term::Reconstruction),
            (1.0, Term::Kl),
            (
                1.0,
                Term::DipCovariance {
                    kind: DipKind::II,
                    lambda_od: 5.0,
                    lambda_d: 5.0
                }
            )
        ]
    );
}

#[test]
fn user_files_are_imported_through_the_loader() {
    let files = Files(BTreeMap::from([(
        "common.dis",
        "use std.data.dsprites_full\ndef my_data = dsprites_full()\n",
    )]));
    let text = "use \"common.dis\"\nuse std.models.conv_vae\nexperiment e {\n data = my_data\n model = conv_vae()\n loss = recon + kl\n}\n";
    let c = compile(
        Source {
            name: "main.dis".to_string(),
            text: text.to_string(),
        },
        &files,
    );
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    assert_eq!(
        c.sources.len(),
        5,
        "main, common, std.data, std.models, std.arch"
    );
    let missing = compile_text("use \"nope.dis\"\n");
    assert_eq!(codes(&missing), ["E0105"]);
}

/// Keys files by the name the compiler would give them (importer's directory + path), and records
/// every `(importer, path)` request, to test that each import is resolved next to its importer.
struct Tree {
    files: BTreeMap<&'static str, &'static str>,
    asked: std::cell::RefCell<Vec<(String, String)>>,
}

impl Loader for Tree {
    fn load(&self, importer: &str, path: &str) -> Result<String, String> {
        self.asked
            .borrow_mut()
            .push((importer.to_string(), path.to_string()));
        let full = match importer.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{path}"),
            None => path.to_string(),
        };
        self.files
            .get(full.as_str())
            .map(|t| t.to_string())
            .ok_or_else(|| "no such file".to_string())
    }
}

#[test]
fn nested_imports_are_requested_with_their_importer_and_named_by_their_directory() {
    let tree = Tree {
        files: BTreeMap::from([
            (
                "lib/wrap.dis",
                "use \"data.dis\"\ndef wrapped_data = my_data\n",
            ),
            (
                "lib/data.dis",
                "use std.data.dsprites_full\ndef my_data = dsprites_full()\n",
            ),
            // A decoy next to the root: resolving `data.dis` against the root would find no `my_data`.
            ("data.dis", "def other = 1\n"),
        ]),
        asked: std::cell::RefCell::new(Vec::new()),
    };
    let text = "use \"lib/wrap.dis\"\nuse std.models.conv_vae\nexperiment e {\n data = wrapped_data\n model = conv_vae()\n loss = recon + kl\n}\n";
    let c = compile(
        Source {
            name: "main.dis".to_string(),
            text: text.to_string(),
        },
        &tree,
    );
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    assert_eq!(
        *tree.asked.borrow(),
        [
            ("main.dis".to_string(), "lib/wrap.dis".to_string()),
            ("lib/wrap.dis".to_string(), "data.dis".to_string()),
        ]
    );
    let names: Vec<&str> = c.sources.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"lib/data.dis"), "{names:?}");
}

#[test]
fn a_missing_model_does_not_hide_errors_in_the_other_fields() {
    let c = compile_text(
        "use std.data.dsprites_full\nexperiment e {\n data = dsprites_ful()\n loss = recon + kl\n}\n",
    );
    let mut found = codes(&c);
    found.sort_unstable();
    assert_eq!(found, ["E0101", "E0111", "W0002"], "{:#?}", c.diagnostics);
}

#[test]
fn shape_errors_point_at_the_failing_layer_in_a_written_list() {
    let text = "use std.data.dsprites_full\nuse std.arch.deconv_decoder\nexperiment e {\n data = dsprites_full()\n model = vae(latents: 10, encoder: [flatten, dense(256), reshape([3, 3]), gaussian_head(10)], decoder: deconv_decoder())\n loss = recon + kl\n}\n";
    let c = compile_text(text);
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == "E0203")
        .unwrap_or_else(|| panic!("no E0203 in {:#?}", c.diagnostics));
    assert_eq!(text.get(d.span.clone()), Some("reshape([3, 3])"), "{d:#?}");
}

#[test]
fn all_errors_in_a_file_are_reported() {
    let c = compile_text(
        "use std.data.dsprites_full\nuse std.models.conv_vae\nexperiment e {\n data = dsprits_full()\n model = conv_vae(latent: 10)\n loss = recon + kl\n train = training(batch: 0, optimizer: adam(lr: -1))\n}\n",
    );
    // The unused-import warning comes from the typo. `adam(lr: -1)` fails, but `batch: 0` is an
    // independent argument of `training(...)` and is reported too (issue 11). Sorted by position.
    assert_eq!(
        codes(&c),
        ["W0002", "E0101", "E0106", "E0202", "E0202"],
        "{:#?}",
        c.diagnostics
    );
    assert!(c.plan.is_none());
    let help = c
        .diagnostics
        .iter()
        .find(|d| d.code == "E0101")
        .and_then(|d| d.help.clone())
        .unwrap_or_default();
    assert!(help.contains("dsprites_full"), "{help}");
}

#[test]
fn sweep_errors_point_at_the_sweep() {
    let base = "use std.data.dsprites_full\nuse std.models.{conv_vae, beta_vae}\nexperiment e {\n data = dsprites_full()\n model = conv_vae()\n loss = beta_vae()\n";
    let c = compile_text(&format!("{base} sweep {{ loss.bta in [1, 2] }}\n}}\n"));
    assert_eq!(codes(&c), ["E0403"]);
    let c = compile_text(&format!("{base} sweep {{ seed in [] }}\n}}\n"));
    assert_eq!(codes(&c), ["E0404"]);
    let c = compile_text(&format!(
        "{base} sweep {{ zip(seed in [1, 2], loss.beta in [1]) }}\n}}\n"
    ));
    assert_eq!(codes(&c), ["E0405"]);
    let c = compile_text(&format!("{base} sweep {{ loss.beta in [1, -2] }}\n}}\n"));
    assert_eq!(codes(&c), ["E0202"]);
    let c = compile_text(&format!(
        "{base} sweep {{ zip(seed in [3, 4], loss.beta in [1, 8]) + seed in 10..12 }}\n}}\n"
    ));
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let seeds: Vec<u64> = jobs(&c).iter().map(|j| j.train.seed).collect();
    assert_eq!(seeds, [3, 4, 10, 11]);
}

/// Assemblies are compared by their small parts first and in full only within a group (see
/// `lower::ContentIds`): jobs that differ only in the network are distinct, jobs that differ only
/// in how a value is written are one job, and points that repeat an assignment set in another
/// order (or a nested path after its parent) are told apart exactly as written.
#[test]
fn repeated_jobs_are_found_by_content_whatever_part_differs() {
    let base = "use std.data.dsprites_full\nuse std.models.{conv_vae, beta_vae}\nexperiment e {\n data = dsprites_full()\n model = conv_vae()\n loss = beta_vae()\n";
    let distinct = compile_text(&format!(
        "{base} sweep {{ model in [conv_vae(latents: 8), conv_vae(latents: 10)] * seed in [0, 1] }}\n}}\n"
    ));
    assert!(
        distinct.diagnostics.is_empty(),
        "{:#?}",
        distinct.diagnostics
    );
    assert_eq!(jobs(&distinct).len(), 4);
    // `latents: 10` is the default: the same network written two ways.
    let same = compile_text(&format!(
        "{base} sweep {{ model in [conv_vae(), conv_vae(latents: 10)] }}\n}}\n"
    ));
    assert_eq!(codes(&same), ["E0411"]);
    // The same assignments in another order are the same point; a parent after its nested path is not.
    let reordered = compile_text(&format!(
        "{base} sweep {{ seed in [1] * loss.beta in [2] + loss.beta in [2] * seed in [1] }}\n}}\n"
    ));
    assert_eq!(codes(&reordered), ["E0411"]);
    let nested = compile_text(&format!(
        "{base} sweep {{ loss.beta in [2] * loss in [beta_vae()] + loss in [beta_vae()] * loss.beta in [2] }}\n}}\n"
    ));
    assert!(nested.diagnostics.is_empty(), "{:#?}", nested.diagnostics);
    assert_eq!(jobs(&nested).len(), 2);
}
/// The expected codes of a fixture from its first line, `// expect: E0101, W0002` or `// expect: ok`.
fn expected_codes(text: &str) -> Option<Vec<String>> {
    let first = text.lines().next()?.strip_prefix("// expect:")?.trim();
    if first == "ok" {
        return Some(Vec::new());
    }
    Some(first.split(',').map(|c| c.trim().to_string()).collect())
}

/// Reads files next to the fixture; anything else is missing.
struct FixtureDir(std::path::PathBuf);

impl Loader for FixtureDir {
    fn load(&self, _importer: &str, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

#[test]
fn fixtures_give_exactly_their_expected_codes_and_every_code_has_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/check");
    let mut covered = std::collections::BTreeSet::new();
    let mut count = 0;
    for dir in ["ok", "warn", "err"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixture directory exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "dis"))
            .collect();
        paths.sort();
        for path in paths {
            count += 1;
            let text = std::fs::read_to_string(&path).expect("fixture is readable");
            let expected = expected_codes(&text)
                .unwrap_or_else(|| panic!("{}: no `// expect:` line", path.display()));
            assert_eq!(
                dir == "ok",
                expected.is_empty(),
                "{}: ok/ fixtures expect ok, warn/ and err/ fixtures codes",
                path.display()
            );
            // Fixtures of `arrays(...)` read data files, which this pure crate cannot: the root
            // harness (tests/check.rs) checks them with the CLI's reader, in-process and through
            // `disc check`; here they only count as covering their code.
            if text.contains("tests/fixtures/check/data/") {
                if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                    covered.insert(name.split('_').next().unwrap_or("").to_string());
                }
                continue;
            }
            // `// set: PATH=VALUE` lines after the expectation are command-line overrides.
            let overrides: Vec<String> = text
                .lines()
                .skip(1)
                .map_while(|line| line.strip_prefix("// set: "))
                .map(str::to_string)
                .collect();
            let c = crate::compile_with(
                Source {
                    name: path.display().to_string(),
                    text: text.clone(),
                },
                &FixtureDir(root.join(dir)),
                &overrides,
            );
            let mut found: Vec<String> = c.diagnostics.iter().map(|d| d.code.to_string()).collect();
            let mut want = expected.clone();
            found.sort();
            want.sort();
            assert_eq!(found, want, "{}: {:#?}", path.display(), c.diagnostics);
            for d in &c.diagnostics {
                assert!(
                    crate::codes::lookup(d.code).is_some(),
                    "{} is not registered",
                    d.code
                );
                assert!(
                    !d.message.ends_with('.') && !d.message.contains('\n'),
                    "{}: message style: {}",
                    d.code,
                    d.message
                );
                let len = c
                    .sources
                    .get(d.source.0 as usize)
                    .map_or(0, |s| s.text.len());
                assert!(
                    d.span.start <= d.span.end && d.span.end <= len,
                    "{}: span out of bounds",
                    d.code
                );
            }
            // A clean file has a plan; a file with an error has none.
            let has_error = c
                .diagnostics
                .iter()
                .any(|d| matches!(d.severity, crate::diagnostic::Severity::Error));
            assert_eq!(c.plan.is_none(), has_error, "{}", path.display());
            // err/ fixtures must fail the check; warn/ fixtures must only warn.
            assert_eq!(has_error, dir == "err", "{}", path.display());
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                covered.insert(name.split('_').next().unwrap_or("").to_string());
            }
        }
    }
    assert!(count > 40);
    for info in crate::codes::CODES {
        // E0004 and E0412 are the CLI's (an unreadable file, a plan larger than the machine's
        // memory; tests/cli.rs covers them); E0005 reports a broken compiler invariant, which no
        // input can produce.
        assert!(
            covered.contains(info.code) || ["E0004", "E0005", "E0412"].contains(&info.code),
            "code {} has no fixture in err/ or warn/",
            info.code
        );
    }
}

#[test]
fn deep_definition_chains_are_errors_not_stack_overflows() {
    let mut text = String::from("use std.data.dsprites_full\nuse std.models.conv_vae\n");
    for i in 0..300 {
        text.push_str(&format!("def w{i} = w{}\n", i + 1));
    }
    text.push_str("def w300 = 1.0\nexperiment e {\n data = dsprites_full()\n model = conv_vae()\n loss = recon + w0 * kl\n}\n");
    let found = codes(&compile_text(&text));
    // Each chain that reaches the limit reports where it stopped (the experiment's and the
    // stand-alone check of the not-yet-evaluated definitions).
    assert!(
        !found.is_empty() && found.iter().all(|c| *c == "E0116"),
        "{found:?}"
    );
}

#[test]
fn mutated_fixtures_never_panic() {
    // Deterministic mutations (an LCG, no RNG crate): truncate, delete a byte, insert a token.
    const TOKENS: &[&str] = &[
        "(", ")", "{", "}", "[", "]", ",", ".", ":", "=", "+", "*", "-", "\"", "0", "1e9", "..",
        "->", "x", "in", "kl", "sweep {", "graph {",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/check");
    let mut texts: Vec<String> = EXPERIMENTS.iter().map(|(_, t)| t.to_string()).collect();
    for dir in ["ok", "warn", "err"] {
        for entry in std::fs::read_dir(root.join(dir))
            .expect("fixture directory exists")
            .flatten()
        {
            texts.push(std::fs::read_to_string(entry.path()).expect("fixture is readable"));
        }
    }
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n.max(1)
    };
    for text in &texts {
        for round in 0..12 {
            let mut t = text.clone();
            let mut pos = next(t.len());
            while !t.is_char_boundary(pos) {
                pos -= 1;
            }
            match round % 3 {
                0 => t.truncate(pos),
                1 => {
                    if let Some(c) = t.get(pos..).and_then(|r| r.chars().next()) {
                        t.replace_range(pos..pos + c.len_utf8(), "");
                    }
                }
                _ => t.insert_str(pos, TOKENS.get(next(TOKENS.len())).copied().unwrap_or("(")),
            }
            // The study would expand to 12 600 jobs per mutation; checking is enough here.
            let c = crate::check(
                Source {
                    name: "mutant.dis".to_string(),
                    text: t,
                },
                &Files(BTreeMap::new()),
            );
            for d in &c.diagnostics {
                let len = c
                    .sources
                    .get(d.source.0 as usize)
                    .map_or(0, |s| s.text.len());
                assert!(d.span.end <= len, "span out of bounds for {}", d.code);
            }
        }
    }
}

#[test]
fn plans_round_trip_through_ron() {
    for (name, text) in EXPERIMENTS.iter().filter(|(n, _)| !n.starts_with("dlib")) {
        let plan = compile_text(text)
            .plan
            .unwrap_or_else(|| panic!("{name} compiles"));
        let ron_text = ron::to_string(&plan).expect("plans serialise");
        let back: crate::plan::Plan = ron::from_str(&ron_text).expect("plans deserialise");
        assert_eq!(back, plan, "{name}");
    }
}

#[test]
fn structural_graph_is_topologically_ordered_over_all_declared_latents() {
    let c = compile_text(include_str!("../../experiments/structured_infogan.dis"));
    let graph = jobs(&c).first().and_then(|j| {
        j.objective.iter().find_map(|t| match &t.term {
            Term::Structural { graph, .. } => Some(graph.clone()),
            _ => None,
        })
    });
    let graph = graph.expect("the experiment has a structural term");
    // Codes `shape, c1, c2, c3` with c1 -> c3 and c2 -> c3: c3 comes last, with parents c1 and c2.
    assert_eq!(graph.nodes, ["shape", "c1", "c2", "c3"]);
    assert_eq!(graph.parents, [vec![], vec![], vec![], vec![1, 2]]);
    // The recognition head outputs 3 logits for `shape` and one mean per continuous code.
    match jobs(&c).first().map(|j| &j.model) {
        Some(ModelSpec::InfoGan(g)) => {
            assert_eq!(g.recognition_head.output, [6]);
            assert_eq!(g.generator.input, [5 + 3 + 3]);
            assert_eq!(g.generator.output, [64, 64, 1]);
        }
        other => panic!("expected an InfoGAN, got {other:?}"),
    }
}

#[test]
fn the_gan_loss_and_discriminator_updates_reach_the_plan() {
    use crate::plan::GanLoss;
    let text = include_str!("../../experiments/structured_infogan.dis")
        .replace(
            "discriminator: infogan_discriminator(),",
            "discriminator: infogan_discriminator(), discriminator_updates: 3,",
        )
        .replace("loss = gan +", "loss = gan(loss: least_squares) +");
    let c = compile_text(&text);
    let job = jobs(&c).first().cloned().expect("a job");
    let losses: Vec<GanLoss> = job
        .objective
        .iter()
        .filter_map(|t| match t.term {
            Term::Adversarial { loss } => Some(loss),
            _ => None,
        })
        .collect();
    assert_eq!(losses, [GanLoss::LeastSquares]);
    assert_eq!(job.players.first().map(|p| p.updates_per_step), Some(3));
    // The defaults: the non-saturating loss, one discriminator update.
    let c = compile_text(include_str!("../../experiments/structured_infogan.dis"));
    let job = jobs(&c).first().cloned().expect("a job");
    assert!(job.objective.iter().any(|t| t.term
        == Term::Adversarial {
            loss: GanLoss::NonSaturating
        }));
    assert_eq!(job.players.first().map(|p| p.updates_per_step), Some(1));
}

#[test]
fn players_and_structural_nodes_are_in_the_plan() {
    use crate::plan::{Cpd, NodeInput};
    let c = compile_text(include_str!("../../experiments/structured_infogan.dis"));
    let job = jobs(&c).first().cloned().expect("a job");
    // InfoGAN: the discriminator (trunk and both heads) updates first, then the generator.
    let names: Vec<&str> = job.players.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["discriminator", "generator"]);
    let discriminator = job.players.first().expect("two players");
    assert_eq!(
        discriminator.modules,
        ["discriminator", "adversarial_head", "recognition_head"]
    );
    assert_eq!(
        discriminator.terms,
        ["adversarial", "mutual_information", "structural"]
    );
    let generator = job.players.get(1).expect("two players");
    assert_eq!(generator.optimizer, job.train.optimizer);
    // One node per continuous code; the categorical `shape` has no edges and is left out. c3's
    // inputs are its own sampled code, then its parents'.
    let nodes = job
        .objective
        .iter()
        .find_map(|t| match &t.term {
            Term::Structural { nodes, .. } => Some(nodes.clone()),
            _ => None,
        })
        .expect("a structural term");
    let summary: Vec<(&str, u32, Vec<NodeInput>)> = nodes
        .iter()
        .map(|n| (n.name.as_str(), n.target, n.inputs.clone()))
        .collect();
    use NodeInput::SampledCode as S;
    assert_eq!(
        summary,
        [
            ("c1", 1, vec![S(1)]),
            ("c2", 2, vec![S(2)]),
            ("c3", 3, vec![S(3), S(1), S(2)]),
        ]
    );
    assert_eq!(
        nodes.last().map(|n| n.cpd.clone()),
        Some(Cpd::LinearGaussian { inputs: 3 })
    );

    // VAE: only latents with parents are nodes; the nonlinear CPDs make a `cpd` player.
    let c = compile_text(include_str!("../../experiments/structured_vae.dis"));
    let job = jobs(&c).first().cloned().expect("a job");
    let names: Vec<&str> = job.players.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["model", "cpd"]);
    assert_eq!(
        job.players.get(1).map(|p| p.modules.clone()),
        Some(vec!["cpd/z1".to_string(), "cpd/z2".into(), "cpd/z3".into()])
    );
    let nodes = job
        .objective
        .iter()
        .find_map(|t| match &t.term {
            Term::Structural { nodes, .. } => Some(nodes.clone()),
            _ => None,
        })
        .expect("a structural term");
    let first = nodes.first().expect("three nodes");
    assert_eq!(
        (first.name.as_str(), first.inputs.clone(), first.cpd.clone()),
        (
            "z1",
            vec![NodeInput::Latent(0)],
            Cpd::NonlinearGaussian {
                inputs: 1,
                hidden: 32
            }
        )
    );
}

#[test]
fn swept_values_are_recorded_as_written_in_row_major_order() {
    let c = compile_text(include_str!("../../experiments/beta_vae_dsprites.dis"));
    let rows: Vec<(String, String)> = jobs(&c)
        .iter()
        .map(|j| {
            (
                j.swept
                    .get("beta")
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                j.swept
                    .get("seed")
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 30);
    assert_eq!(rows.first(), Some(&("1".to_string(), "0".to_string())));
    assert_eq!(rows.get(4), Some(&("1".to_string(), "4".to_string())));
    assert_eq!(rows.get(5), Some(&("2".to_string(), "0".to_string())));
    assert_eq!(rows.last(), Some(&("16".to_string(), "4".to_string())));
    // The same file compiles to the same bytes every time.
    let again = compile_text(include_str!("../../experiments/beta_vae_dsprites.dis"));
    assert_eq!(
        ron::to_string(&c.plan).ok(),
        ron::to_string(&again.plan).ok()
    );
}

#[test]
fn stdlib_datasets_match_the_reference_factor_grids() {
    // (call, name, factor sizes, observation shape) per reference §4.
    let cases: &[(&str, &str, &[u32], [u32; 3])] = &[
        (
            "dsprites_full()",
            "dsprites_full",
            &[3, 6, 40, 32, 32],
            [64, 64, 1],
        ),
        (
            "color_dsprites()",
            "color_dsprites",
            &[3, 6, 40, 32, 32],
            [64, 64, 3],
        ),
        (
            "noisy_dsprites()",
            "noisy_dsprites",
            &[3, 6, 40, 32, 32],
            [64, 64, 3],
        ),
        (
            "scream_dsprites()",
            "scream_dsprites",
            &[3, 6, 40, 32, 32],
            [64, 64, 3],
        ),
        (
            "smallnorb(path: \"n\")",
            "smallnorb",
            &[5, 9, 18, 6],
            [64, 64, 1],
        ),
        ("cars3d(path: \"c\")", "cars3d", &[4, 24, 183], [64, 64, 3]),
        (
            "shapes3d()",
            "shapes3d",
            &[10, 10, 10, 8, 4, 15],
            [64, 64, 3],
        ),
        (
            "mpi3d_toy(path: \"m\")",
            "mpi3d_toy",
            &[4, 4, 2, 3, 3, 40, 40],
            [64, 64, 3],
        ),
        (
            "mpi3d_realistic(path: \"m\")",
            "mpi3d_realistic",
            &[4, 4, 2, 3, 3, 40, 40],
            [64, 64, 3],
        ),
        (
            "mpi3d_real(path: \"m\")",
            "mpi3d_real",
            &[6, 6, 2, 3, 3, 40, 40],
            [64, 64, 3],
        ),
        ("dummy_data()", "dummy_data", &[5; 10], [64, 64, 1]),
    ];
    for (call, name, sizes, shape) in cases {
        let function = call.split('(').next().unwrap_or(call);
        let text = format!(
            "use std.data.{function}\nuse std.models.conv_vae\nexperiment e {{\n data = {call}\n model = conv_vae(channels: data.channels)\n loss = recon + kl\n}}\n"
        );
        let c = compile_text(&text);
        assert!(c.diagnostics.is_empty(), "{call}: {:#?}", c.diagnostics);
        let dataset = jobs(&c)
            .first()
            .map(|j| j.dataset.clone())
            .expect("one job");
        assert_eq!(&dataset.name, name);
        assert_eq!(
            dataset.factors.iter().map(|f| f.size).collect::<Vec<_>>(),
            *sizes,
            "{call}"
        );
        assert_eq!(&dataset.observation_shape, shape, "{call}");
        let file_only = matches!(*name, "smallnorb" | "cars3d") || name.starts_with("mpi3d");
        assert_eq!(
            matches!(dataset.source, crate::plan::DataSource::File { .. }),
            file_only,
            "{call}"
        );
    }
    // MPI3D toy has 460 800 images: the full factor grid (reference §4.8).
    assert_eq!([4u32, 4, 2, 3, 3, 40, 40].iter().product::<u32>(), 460_800);
}

#[test]
fn errors_inside_stdlib_definitions_point_at_the_user_call() {
    let c = compile_text(include_str!(
        "../../tests/fixtures/check/err/E0202_inside_stdlib_definition.dis"
    ));
    let d = c.diagnostics.first().expect("one diagnostic");
    assert_eq!((d.code, d.source.0), ("E0202", 0), "{d:#?}");
    let text = c.sources.first().map_or("", |s| s.text.as_str());
    assert_eq!(text.get(d.span.clone()), Some("conv_encoder(latents: 0)"));
    assert!(d.message.contains("inside `conv_encoder`"), "{}", d.message);
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("<stdlib/arch.dis> line"),
        "{:?}",
        d.help
    );
}

#[test]
fn shape_errors_of_stdlib_networks_point_at_the_model_field() {
    let c = compile_text(include_str!(
        "../../tests/fixtures/check/err/E0204_stdlib_model_channels.dis"
    ));
    let d = c.diagnostics.first().expect("one diagnostic");
    let text = c.sources.first().map_or("", |s| s.text.as_str());
    assert_eq!(
        (d.code, d.source.0, text.get(d.span.clone())),
        ("E0204", 0, Some("conv_vae()"))
    );
}

// ---------------------------------------------------------------------------------------------
// The user's own arrays, through a fake loader (the real one, reading files, is the CLI's)
// ---------------------------------------------------------------------------------------------

mod arrays {
    use std::cell::Cell;

    use crate::diagnostic::Severity;
    use crate::plan::DatasetKind;
    use crate::{
        ArrayFacts, ArrayFile, ArrayFileError, ArrayHeader, ArrayRequest, Compiled, Loader, Source,
        compile,
    };

    /// Answers every array request with `facts` (or `error`), counting the questions.
    struct FakeArrays {
        facts: Result<ArrayFacts, ArrayFileError>,
        asked: Cell<usize>,
    }

    impl Loader for FakeArrays {
        fn load(&self, _importer: &str, _path: &str) -> Result<String, String> {
            Err("no such file".to_string())
        }
        fn array_facts(&self, _request: &ArrayRequest) -> Result<ArrayFacts, ArrayFileError> {
            self.asked.set(self.asked.get() + 1);
            self.facts.clone()
        }
    }

    /// The codes of the errors (the test file imports metrics it does not always use).
    fn codes(c: &Compiled) -> Vec<&'static str> {
        c.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.code)
            .collect()
    }

    /// The first error.
    fn error(c: &Compiled) -> &crate::diagnostic::Diagnostic {
        c.diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
            .expect("an error")
    }

    /// A 2 × 3 grid of 32×32×3 uint8 images (six rows, every combination).
    fn grid() -> ArrayFacts {
        ArrayFacts {
            images: ArrayHeader {
                dtype: "uint8".to_string(),
                shape: vec![6, 32, 32, 3],
            },
            labels: ArrayHeader {
                dtype: "int64".to_string(),
                shape: vec![6, 2],
            },
            label_ranges: Some(vec![(0, 1), (0, 2)]),
            distinct_rows: 6,
        }
    }

    fn run(
        data: &str,
        evaluate: &str,
        facts: Result<ArrayFacts, ArrayFileError>,
    ) -> (Compiled, usize) {
        let text = format!(
            "use std.models.beta_vae\n\
             use std.metrics.{{beta_vae_score, mig, dci}}\n\
             experiment e {{\n  data = {data}\n  model = vae(latents: 2, encoder: [flatten, gaussian_head(2)],\n    decoder: [dense(3072), reshape((32, 32, 3))])\n  loss = beta_vae()\n  evaluate = {evaluate}\n  sweep {{ seed in 0..3 }}\n}}\n"
        );
        let loader = FakeArrays {
            facts,
            asked: Cell::new(0),
        };
        let compiled = compile(
            Source {
                name: "test.dis".to_string(),
                text,
            },
            &loader,
        );
        (compiled, loader.asked.get())
    }

    const GRID: &str = r#"arrays(images: "scenes.npz", factors: {a: 2, b: 3})"#;
    const FEW_METRICS: &str =
        "[beta_vae_score(num_train: 5, num_eval: 5), dci(num_train: 4, num_test: 2)]";

    #[test]
    fn a_complete_grid_is_planned_with_its_shape_and_asked_about_once() {
        let (compiled, asked) = run(GRID, FEW_METRICS, Ok(grid()));
        assert_eq!(
            codes(&compiled),
            Vec::<&str>::new(),
            "{:?}",
            compiled.diagnostics
        );
        assert_eq!(asked, 1, "three sweep points, one question");
        let plan = compiled.plan.expect("plan");
        let data = &plan.jobs.first().expect("a job").dataset;
        assert_eq!(data.observation_shape, [32, 32, 3]);
        assert!(data.complete_grid);
        assert_eq!(
            data.kind,
            DatasetKind::Arrays {
                images_key: "images".to_string(),
                labels: "scenes.npz".to_string(),
                labels_key: "factors".to_string(),
                rows: 6,
                combinations: 6,
            }
        );
    }

    #[test]
    fn plain_observations_refuse_interventional_metrics() {
        let mut facts = grid();
        facts.distinct_rows = 4;
        let (compiled, _) = run(GRID, FEW_METRICS, Ok(facts));
        assert_eq!(codes(&compiled), ["E0401"]);
        assert!(error(&compiled).message.contains("4 of the 6 combinations"));
        let mut facts = grid();
        facts.distinct_rows = 4;
        let (compiled, _) = run(GRID, "[mig(num_train: 10)]", Ok(facts));
        let plan = compiled.plan.expect("plan without interventional metrics");
        assert!(!plan.jobs.first().expect("a job").dataset.complete_grid);
    }

    #[test]
    fn every_mismatch_with_the_declaration_has_its_code() {
        let mut floats = grid();
        floats.labels.dtype = "float64".to_string();
        floats.label_ranges = None;
        assert_eq!(codes(&run(GRID, "[]", Ok(floats)).0), ["E0502"]);
        let mut flat = grid();
        flat.images.shape = vec![6, 3072];
        assert_eq!(codes(&run(GRID, "[]", Ok(flat)).0), ["E0502"]);
        let mut empty = grid();
        empty.images.shape = vec![0, 32, 32, 3];
        assert_eq!(codes(&run(GRID, "[]", Ok(empty)).0), ["E0502"]);
        let mut strings = grid();
        strings.images.dtype = "<U3".to_string();
        assert_eq!(codes(&run(GRID, "[]", Ok(strings)).0), ["E0502"]);
        let three = r#"arrays(images: "scenes.npz", factors: {a: 2, b: 3, c: 4})"#;
        assert_eq!(codes(&run(three, "[]", Ok(grid())).0), ["E0503"]);
        let small = r#"arrays(images: "scenes.npz", factors: {a: 2, b: 2})"#;
        let (compiled, _) = run(small, "[]", Ok(grid()));
        assert_eq!(codes(&compiled), ["E0504"]);
        assert_eq!(
            error(&compiled).help.as_deref(),
            Some("declare `b: 3`, or fix the labels")
        );
        let mut negative = grid();
        negative.label_ranges = Some(vec![(-1, 0), (0, 2)]);
        assert_eq!(codes(&run(GRID, "[]", Ok(negative)).0), ["E0504"]);
        let mut short = grid();
        short.labels.shape = vec![5, 2];
        assert_eq!(codes(&run(GRID, "[]", Ok(short)).0), ["E0505"]);
        assert_eq!(codes(&run(GRID, "[dci]", Ok(grid())).0), ["E0506"]);
        let missing = Err(ArrayFileError {
            file: ArrayFile::Images,
            reason: "no such file".to_string(),
        });
        let (compiled, _) = run(GRID, "[]", missing);
        assert_eq!(codes(&compiled), ["E0501"]);
        assert!(
            error(&compiled)
                .message
                .contains("`scenes.npz`: no such file")
        );
    }

    #[test]
    fn a_loader_without_files_cannot_answer() {
        let compiled = super::compile_text(&format!(
            "use std.models.{{conv_vae, beta_vae}}\nexperiment e {{\n  data = {GRID}\n  model = conv_vae()\n  loss = beta_vae()\n}}\n"
        ));
        assert_eq!(codes(&compiled), ["E0501"]);
    }

    #[test]
    fn prim_dataset_cannot_relabel_a_built_in_kind() {
        let declared = |kind: &str, factors: &str, shape: &str| {
            super::compile_text(&format!(
                "use std.models.{{conv_vae, beta_vae}}\n\
                 def d(): dataset = prim.dataset(name: \"mine\", kind: \"{kind}\", factors: {factors}, shape: {shape}, complete_grid: true)\n\
                 experiment e {{\n  data = d()\n  model = conv_vae(channels: data.channels)\n  loss = beta_vae()\n}}\n"
            ))
        };
        let made_up = "{color: 4, size: 5, pos_x: 16, pos_y: 16}";
        assert_eq!(
            codes(&declared("dsprites", made_up, "(64, 64, 3)")),
            ["E0507", "E0507"]
        );
        assert_eq!(
            codes(&declared("dsprites", made_up, "(64, 64, 1)")),
            ["E0507"]
        );
        let npz = declared("npz", made_up, "(64, 64, 3)");
        assert_eq!(codes(&npz), ["E0202"]);
        assert!(
            error(&npz)
                .help
                .as_deref()
                .unwrap_or("")
                .contains("arrays(")
        );
        // The built-in's own sizes under other names are accepted (names label the outputs).
        let renamed = "{s: 3, sc: 6, o: 40, x: 32, y: 32}";
        assert_eq!(
            codes(&declared("dsprites", renamed, "(64, 64, 1)")),
            Vec::<&str>::new()
        );
    }
}
