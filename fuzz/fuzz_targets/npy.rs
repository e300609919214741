//! Fuzz target: arbitrary bytes as a `.npy` file, read as the user-arrays dataset reads it (as the
//! images beside valid labels, then as the labels beside valid images: `disc check`'s inspection,
//! `disc run`'s opening and one observation) and as `disc eval --codes codes.npy` decodes it. No
//! input may panic or ask for unbounded memory.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// This process's scratch files: the input, and the valid images and labels beside it.
fn paths() -> &'static [PathBuf; 3] {
    static PATHS: OnceLock<[PathBuf; 3]> = OnceLock::new();
    PATHS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("disc-fuzz-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        let (images, labels) = disc_data::fuzzing::npy_pair();
        let paths = ["input.npy", "images.npy", "labels.npy"].map(|name| dir.join(name));
        std::fs::write(&paths[1], images).expect("temp dir is writable");
        std::fs::write(&paths[2], labels).expect("temp dir is writable");
        paths
    })
}

fuzz_target!(|data: &[u8]| {
    let [input, images, labels] = paths();
    if std::fs::write(input, data).is_ok() {
        let _ = disc_data::fuzzing::arrays(input, labels);
        let _ = disc_data::fuzzing::arrays(images, input);
    }
    let _ = disc_data::fuzzing::npy_as_eval_reads(data);
});
