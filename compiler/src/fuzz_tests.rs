//! The `plan_ron` fuzz target's seeds and every input that once made it fail
//! (`fuzz/regressions/plan_ron/`), run through what the target does on each `cargo test`
//! (fuzz/README.md). The seeds are the plans of the `ok` fixtures, as `disc plan` writes them;
//! `DISC_WRITE_FUZZ_SEEDS=1 cargo test -p disc-compiler plan_ron` writes them to
//! `fuzz/seeds/plan_ron/`.

use std::path::{Path, PathBuf};

use crate::hash::job_hash;
use crate::plan::{ModelSpec, Network, PLAN_VERSION, Plan};
use crate::shape::infer_network;
use crate::{NoFiles, Source, compile};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file under `fuzz/<kind>/plan_ron/`, sorted.
fn fuzz_inputs(kind: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fuzz_dir().join(kind).join("plan_ron"))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

/// What `fuzz/fuzz_targets/plan_ron.rs` does with one input.
fn plan_ron_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = ron::from_str::<Plan>(text) else {
        return;
    };
    let _ = plan.version == PLAN_VERSION;
    let infer = |network: &Network| {
        let layers: Vec<_> = network
            .layers
            .iter()
            .map(|spec| spec.layer.clone())
            .collect();
        let _ = infer_network(&network.input, &layers);
    };
    for job in &plan.jobs {
        let _ = job_hash(job);
        if let ModelSpec::Vae(spec) = &job.model {
            infer(&spec.encoder);
            infer(&spec.decoder);
        }
    }
    if let Ok(written) = ron::to_string(&plan) {
        let again: Plan = ron::from_str(&written).expect("a written plan reads back");
        assert_eq!(again, plan, "a plan survives writing and reading");
    }
}

/// The `plan_ron` seeds: the plan of every `ok` fixture that fits the target's input limit
/// (16 KiB), pretty-printed as `disc plan` writes it.
fn plan_seeds() -> Vec<(String, String)> {
    let fixtures = fuzz_dir().join("../tests/fixtures/check/ok");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("the ok fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "dis"))
        .collect();
    paths.sort();
    let mut seeds = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable fixture");
        let name = path
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .to_string();
        let compiled = compile(
            Source {
                name: name.clone(),
                text,
            },
            &NoFiles,
        );
        // Fixtures that read the user's files (arrays) have no plan without them.
        let Some(plan) = compiled.plan else { continue };
        let config = ron::ser::PrettyConfig::new().indentor("  ".to_string());
        let written = ron::ser::to_string_pretty(&plan, config).expect("plans serialise");
        if written.len() <= 16 * 1024 {
            seeds.push((name.replace(".dis", ".ron"), written));
        }
    }
    seeds
}

#[test]
fn plan_ron_fuzz_seeds_and_regressions_pass_the_target() {
    let seeds = plan_seeds();
    assert!(seeds.len() >= 3, "only {} plans fit 16 KiB", seeds.len());
    if std::env::var_os("DISC_WRITE_FUZZ_SEEDS").is_some() {
        let dir = fuzz_dir().join("seeds/plan_ron");
        std::fs::create_dir_all(&dir).expect("fuzz dir is writable");
        for (name, text) in &seeds {
            std::fs::write(dir.join(name), text).expect("fuzz dir is writable");
        }
    }
    for (_, text) in &seeds {
        plan_ron_target(text.as_bytes());
    }
    for path in fuzz_inputs("seeds")
        .iter()
        .chain(&fuzz_inputs("regressions"))
    {
        plan_ron_target(&std::fs::read(path).expect("readable input"));
    }
}
