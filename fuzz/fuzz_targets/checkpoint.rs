//! Fuzz target: arbitrary bytes as one checkpoint file of a VAE (the model's or the Adam state's burn
//! record, `BinBytesRecorder<FullPrecisionSettings>`): the first byte picks the file, the rest
//! replaces it; the trainer is then restored as a resumed run restores it and trains one step. No
//! input may panic: a file the runtime did not write must be refused with an error.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use disc_compiler::plan::Job;
use disc_runtime::fuzzing;
use libfuzzer_sys::fuzz_target;

/// The example VAE's job and its own checkpoint files, made once per process.
fn example() -> &'static (Job, BTreeMap<String, Vec<u8>>) {
    static EXAMPLE: OnceLock<(Job, BTreeMap<String, Vec<u8>>)> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let job = fuzzing::example_vae_job().expect("the example VAE compiles");
        let files = fuzzing::vae_checkpoint(&job).expect("the example VAE checkpoints");
        (job, files)
    })
}

fuzz_target!(|data: &[u8]| {
    let (job, files) = example();
    let _ = fuzzing::resume_vae_with_input(job, files, data);
});
