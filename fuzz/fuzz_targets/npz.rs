//! Fuzz target: arbitrary bytes as an `.npz` archive, read by the dataset loaders' npz reader (array
//! names, then array `images` whole and in chunks). No input may panic or ask for unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The reader takes a path, as the loaders do; one scratch file per fuzzing process.
    let path = std::env::temp_dir().join(format!("disc-fuzz-{}.npz", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = disc_data::fuzzing::npz(&path);
    }
});
