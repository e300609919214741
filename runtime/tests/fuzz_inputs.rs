//! The runtime's fuzz targets' seeds and every crash they found (fuzz/README.md), run through the
//! same entry points on each `cargo test`: `model.safetensors` bytes (`fuzz/*/safetensors/`) and a
//! VAE's checkpoint files (`fuzz/*/checkpoint/`). The seeds are files the runtime writes;
//! `DISC_WRITE_FUZZ_SEEDS=1 cargo test -p disc-runtime --test fuzz_inputs` writes them to
//! `fuzz/seeds/<target>/`.

use std::path::{Path, PathBuf};

use disc_runtime::fuzzing;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file under `fuzz/<kind>/<target>/`, sorted.
fn committed(kind: &str, target: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fuzz_dir().join(kind).join(target))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

fn write_seeds(target: &str, seeds: &[(String, Vec<u8>)]) {
    if std::env::var_os("DISC_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    let dir = fuzz_dir().join("seeds").join(target);
    std::fs::create_dir_all(&dir).expect("fuzz dir is writable");
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).expect("fuzz dir is writable");
    }
}

#[test]
fn safetensors_seeds_are_read_and_no_input_panics() {
    let fit = fuzzing::example_fit_file().expect("the example fit encodes");
    let read = fuzzing::safetensors(&fit);
    assert!(
        read.as_ref().is_ok_and(|&n| n > 0),
        "the example fit must be read back: {read:?}"
    );
    write_seeds("safetensors", &[("pca_fit.safetensors".to_string(), fit)]);
    let inputs: Vec<PathBuf> = committed("seeds", "safetensors")
        .into_iter()
        .chain(committed("regressions", "safetensors"))
        .collect();
    for path in &inputs {
        let bytes = std::fs::read(path).expect("readable input");
        let _ = fuzzing::safetensors(&bytes);
    }
}

#[test]
fn checkpoint_seeds_resume_and_no_input_panics() {
    let job = fuzzing::example_vae_job().expect("the example VAE compiles");
    let files = fuzzing::vae_checkpoint(&job).expect("a checkpoint of the example VAE");
    let seeds = fuzzing::checkpoint_inputs(&files);
    assert!(
        seeds.len() >= 2,
        "a model and an optimizer file, found {}",
        seeds.len()
    );
    for (name, input) in &seeds {
        let resumed = fuzzing::resume_vae_with_input(&job, &files, input);
        assert!(
            resumed.as_ref().is_ok_and(|loss| loss.is_finite()),
            "the checkpoint's own {name} must resume: {resumed:?}"
        );
    }
    write_seeds("checkpoint", &seeds);
    for path in committed("seeds", "checkpoint")
        .into_iter()
        .chain(committed("regressions", "checkpoint"))
    {
        let bytes = std::fs::read(&path).expect("readable input");
        let _ = fuzzing::resume_vae_with_input(&job, &files, &bytes);
    }
}
