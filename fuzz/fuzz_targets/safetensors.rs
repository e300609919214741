//! Fuzz target: arbitrary bytes as `model.safetensors`, read as the runtime reads it (every tensor
//! and the metadata, then as a stored PCA/ICA fit that a rerun of the job evaluates again). No input
//! may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = disc_runtime::fuzzing::safetensors(data);
});
