//! The fuzz targets' seeds and every crash they found, run through the same readers on each
//! `cargo test` (fuzz/README.md). The seeds are valid files in each format, made by this crate's test
//! writers or taken from its fixtures; `DISC_WRITE_FUZZ_SEEDS=1 cargo test -p disc-data fuzz_seeds`
//! writes them to `fuzz/seeds/<target>/`.

use std::path::{Path, PathBuf};

use crate::fuzzing;
use crate::test_files::{mat_uint8_matrix, temp_dir, write_mat, write_norb, write_npz};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Valid seed files per target, as (target, file name, bytes).
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let dir = temp_dir("fuzz-seeds");
    let fixture = |name: &str| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .expect("fixture exists")
    };
    let npz = dir.join("images.npz");
    let pixels: Vec<u8> = (0..2 * 4 * 4 * 3).map(|v| (v * 7 % 256) as u8).collect();
    write_npz(
        &npz,
        &[
            ("images", &[2, 4, 4, 3], &pixels),
            ("labels", &[2], &[0, 1]),
        ],
    );
    let norb = dir.join("matrix.norb");
    // 507333717 is the uint8 matrix magic number (0x1E3D4C55).
    write_norb(&norb, 507_333_717, &[2, 2, 3, 3], &[7; 36]);
    let mat = dir.join("im.mat");
    write_mat(&mat, &[mat_uint8_matrix("im", &[2, 3, 2], &[1; 12])], true);
    let read = |path: &Path| std::fs::read(path).expect("written above");
    let (npy_images, npy_labels) = fuzzing::npy_pair();
    let codes: Vec<u8> = (0..6 * 3)
        .map(|v| v as f32 / 7.0)
        .flat_map(f32::to_le_bytes)
        .collect();
    let float_images: Vec<u8> = (0..6 * 4)
        .map(|v| v as f64 / 24.0)
        .flat_map(f64::to_le_bytes)
        .collect();
    vec![
        ("npy", "images_u8.npy", npy_images),
        ("npy", "labels_i64.npy", npy_labels),
        (
            "npy",
            "images_f64.npy",
            fuzzing::npy_bytes("<f8", &[6, 2, 2, 1], &float_images),
        ),
        // What `disc eval --codes` reads: float32 codes of shape (n, d).
        (
            "npy",
            "codes_f32.npy",
            fuzzing::npy_bytes("<f4", &[6, 3], &codes),
        ),
        ("npz", "images.npz", read(&npz)),
        (
            "hdf5",
            "h5py_gzip_images.h5",
            fixture("h5py_gzip_images.h5"),
        ),
        ("mat", "scipy_plain.mat", fixture("scipy_plain.mat")),
        (
            "mat",
            "scipy_compressed.mat",
            fixture("scipy_compressed.mat"),
        ),
        ("mat", "disc_compressed.mat", read(&mat)),
        ("norb", "matrix.norb", read(&norb)),
    ]
}

/// Runs one input through a target's reader, as the fuzz target does.
fn run_target(target: &str, bytes: &[u8], scratch: &Path) -> Result<usize, crate::DataError> {
    match target {
        "npz" | "hdf5" => {
            let path = scratch.join(format!("input.{target}"));
            std::fs::write(&path, bytes).expect("scratch is writable");
            if target == "npz" {
                fuzzing::npz(&path)
            } else {
                fuzzing::hdf5(&path, &[6, 4, 4, 3])
            }
        }
        "npy" => {
            // As the fuzz target does: the input as the images beside valid labels, then as the
            // labels beside valid images. A seed is valid when either reading accepts it.
            let (images, labels) = fuzzing::npy_pair();
            let [input, images_path, labels_path] =
                ["input.npy", "images.npy", "labels.npy"].map(|name| scratch.join(name));
            std::fs::write(&input, bytes).expect("scratch is writable");
            std::fs::write(&images_path, images).expect("scratch is writable");
            std::fs::write(&labels_path, labels).expect("scratch is writable");
            let as_images = fuzzing::arrays(&input, &labels_path);
            let as_labels = fuzzing::arrays(&images_path, &input);
            let as_codes = fuzzing::npy_as_eval_reads(bytes);
            as_images
                .or(as_labels)
                .or_else(|error| as_codes.map_err(|_| error))
        }
        "mat" => fuzzing::mat(bytes, "im"),
        "norb" => fuzzing::norb(bytes),
        other => panic!("no fuzz target `{other}` in disc-data"),
    }
}

#[test]
fn fuzz_seeds_are_valid_files_of_each_format() {
    let scratch = temp_dir("fuzz-seed-check");
    let write = std::env::var_os("DISC_WRITE_FUZZ_SEEDS").is_some();
    for (target, name, bytes) in seeds() {
        let read = run_target(target, &bytes, &scratch);
        assert!(
            read.as_ref().is_ok_and(|&n| n > 0),
            "seed {target}/{name} must be a valid file: {read:?}"
        );
        if write {
            let dir = fuzz_dir().join("seeds").join(target);
            std::fs::create_dir_all(&dir).expect("fuzz dir is writable");
            std::fs::write(dir.join(name), &bytes).expect("fuzz dir is writable");
        }
    }
}

/// Every committed seed and every input that once crashed a reader (fuzz/regressions/<target>/) goes
/// through the reader again: none may panic. (Whether it is accepted does not matter.)
#[test]
fn fuzz_seeds_and_regressions_never_panic() {
    let scratch = temp_dir("fuzz-regressions");
    let mut inputs = 0;
    for (target, _, bytes) in seeds() {
        let _ = run_target(target, &bytes, &scratch);
        inputs += 1;
    }
    for target in ["npz", "npy", "hdf5", "mat", "norb"] {
        for kind in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("readable directory").path();
                let bytes = std::fs::read(&path).expect("readable input");
                let _ = run_target(target, &bytes, &scratch);
                inputs += 1;
            }
        }
    }
    assert!(
        inputs >= 6,
        "the committed seeds are missing: found {inputs} inputs"
    );
}

/// The `.npz` twin of the `.npy` crash #1 (fuzz/README.md): a member whose header claims shape
/// (2³², 2³², 4) reached npyz's unchecked multiply through `NpzFile`. It is refused by name, by the
/// fuzz target's reader and by the user-arrays dataset (`disc check`, `disc run`).
#[test]
fn an_npz_member_whose_shape_overflows_is_refused_with_file_and_array() {
    let path = fuzz_dir().join("regressions/npz/shape_count_overflows.npz");
    let as_target = fuzzing::npz(&path).expect_err("the header overflows");
    let as_arrays = fuzzing::arrays(&path, &path).expect_err("the header overflows");
    for error in [as_target, as_arrays] {
        let message = error.to_string();
        assert!(
            message.contains("shape_count_overflows.npz")
                && message
                    .contains("array `images` with a shape whose element count fits in 64 bits"),
            "{message}"
        );
    }
}

/// Found by the `hdf5` target (fuzz/README.md, crash #5): a 6×4×4×3 `images` dataset whose layout
/// declares chunks of 44 GB. rust-hdf5 allocates a chunk's declared size before reading it, so the
/// 3dshapes reader aborted the process; the chunk layout is now refused, naming the file.
#[test]
fn an_hdf5_chunk_larger_than_its_dataset_is_refused_before_allocation() {
    let path = fuzz_dir().join("regressions/hdf5/chunks_of_44_gb.h5");
    let message = fuzzing::hdf5(&path, &[6, 4, 4, 3])
        .expect_err("the chunks are malformed")
        .to_string();
    assert!(
        message.contains("chunks_of_44_gb.h5") && message.contains("chunks of shape"),
        "{message}"
    );
}
