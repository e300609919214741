//! Tests of the user's arrays ([`crate::arrays`]) in each format the tests write themselves:
//! `.npz` (stored and compressed), `.npy` pairs and HDF5.

use std::path::Path;

use crate::arrays::{ArraySource, UserArrays, inspect};
use crate::test_files::{npy_bytes, temp_dir, write_npz_raw};
use crate::{GroundTruthData, RandomState, sample_batch};

/// A 2 × 3 grid of 2×2×1 images: image i has every pixel `i * 40`, labels `(i / 3, i % 3)`.
fn grid_images() -> Vec<u8> {
    (0..6u8).flat_map(|i| [i * 40; 4]).collect()
}

fn grid_labels() -> Vec<i64> {
    (0..6i64).flat_map(|i| [i / 3, i % 3]).collect()
}

fn i64_bytes(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn source(images: &Path, labels: &Path) -> ArraySource {
    ArraySource {
        images: images.to_path_buf(),
        images_key: "images".to_string(),
        labels: labels.to_path_buf(),
        labels_key: "factors".to_string(),
    }
}

fn names() -> Vec<String> {
    vec!["a".to_string(), "b".to_string()]
}

/// Checks that every observation of the grid is its own image.
fn assert_grid(data: &UserArrays) {
    assert!(data.is_complete_grid());
    assert_eq!(data.observation_shape(), [2, 2, 1]);
    let mut rng = RandomState::new(0);
    let mut out = Vec::new();
    data.observations(&[vec![1, 2], vec![0, 1]], &mut rng, &mut out)
        .expect("rows exist");
    let want: Vec<f32> = [200.0f64, 200.0, 200.0, 200.0, 40.0, 40.0, 40.0, 40.0]
        .iter()
        .map(|v| (v / 255.0) as f32)
        .collect();
    assert_eq!(out, want);
}

#[test]
fn npz_with_images_and_factors_is_inspected_and_opened() {
    let dir = temp_dir("arrays-npz");
    let path = dir.join("grid.npz");
    write_npz_raw(
        &path,
        &[
            ("images", npy_bytes("|u1", &[6, 2, 2, 1], &grid_images())),
            (
                "factors",
                npy_bytes("<i8", &[6, 2], &i64_bytes(&grid_labels())),
            ),
        ],
    );
    let facts = inspect(&source(&path, &path)).expect("inspects");
    assert_eq!(facts.images.dtype, "uint8");
    assert_eq!(facts.images.shape, vec![6, 2, 2, 1]);
    assert_eq!(facts.labels.dtype, "int64");
    assert_eq!(facts.labels.shape, vec![6, 2]);
    assert_eq!(facts.label_ranges, Some(vec![(0, 1), (0, 2)]));
    assert_eq!(facts.distinct_rows, 6);
    let data = UserArrays::open("grid", &source(&path, &path), names(), vec![2, 3]).expect("opens");
    // `np.savez` stores arrays uncompressed: the images are read in place, row by row.
    assert!(data.reads_rows_in_place());
    assert_grid(&data);

    // The same arrays deflated (`np.savez_compressed`) are read whole, with the same pixels.
    let compressed = dir.join("grid_compressed.npz");
    write_npz_deflated(
        &compressed,
        &[
            ("images", npy_bytes("|u1", &[6, 2, 2, 1], &grid_images())),
            (
                "factors",
                npy_bytes("<i8", &[6, 2], &i64_bytes(&grid_labels())),
            ),
        ],
    );
    let data = UserArrays::open(
        "grid",
        &source(&compressed, &compressed),
        names(),
        vec![2, 3],
    )
    .expect("opens");
    assert!(!data.reads_rows_in_place());
    assert_grid(&data);

    // A stored array whose data is cut short is refused when opened, not mid-training.
    let full = npy_bytes("|u1", &[6, 2, 2, 1], &grid_images());
    let truncated = dir.join("grid_truncated.npz");
    write_npz_raw(&truncated, &[("images", full[..full.len() - 10].to_vec())]);
    let error = UserArrays::open("grid", &source(&truncated, &path), names(), vec![2, 3])
        .expect_err("truncated images");
    assert!(error.to_string().contains("truncated"), "{error}");
}

/// Writes an `.npz` whose entries are deflated, as `np.savez_compressed` does.
fn write_npz_deflated(path: &Path, arrays: &[(&str, Vec<u8>)]) {
    use std::io::Write;
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("writable"));
    let mut zip = zip::ZipWriter::new(file);
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, npy) in arrays {
        zip.start_file(npyz::npz::file_name_from_array_name(name), options)
            .expect("zip entry");
        zip.write_all(npy).expect("zip data");
    }
    zip.finish().expect("zip finish");
}

#[test]
fn npy_pair_is_read_row_by_row() {
    let dir = temp_dir("arrays-npy");
    let images = dir.join("images.npy");
    let labels = dir.join("labels.npy");
    // (rows, height, width) without a channel axis: one channel.
    std::fs::write(&images, npy_bytes("|u1", &[6, 2, 2], &grid_images())).expect("writable");
    std::fs::write(
        &labels,
        npy_bytes(
            "<i4",
            &[6, 2],
            &grid_labels()
                .iter()
                .flat_map(|&v| (v as i32).to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
    )
    .expect("writable");
    let facts = inspect(&source(&images, &labels)).expect("inspects");
    assert_eq!(facts.labels.dtype, "int32");
    let data =
        UserArrays::open("grid", &source(&images, &labels), names(), vec![2, 3]).expect("opens");
    assert_grid(&data);
    // Float images are passed through as stored.
    let floats: Vec<u8> = (0..24)
        .flat_map(|i| (i as f32 / 24.0).to_le_bytes())
        .collect();
    std::fs::write(&images, npy_bytes("<f4", &[6, 2, 2, 1], &floats)).expect("writable");
    let data =
        UserArrays::open("grid", &source(&images, &labels), names(), vec![2, 3]).expect("opens");
    let mut out = Vec::new();
    data.observations(&[vec![0, 1]], &mut RandomState::new(0), &mut out)
        .expect("row exists");
    assert_eq!(out, vec![4.0 / 24.0, 5.0 / 24.0, 6.0 / 24.0, 7.0 / 24.0]);
}

#[test]
fn hdf5_datasets_named_by_the_user_are_read() {
    let dir = temp_dir("arrays-h5");
    let path = dir.join("grid.h5");
    {
        let file = rust_hdf5::H5File::create(&path).expect("h5 create");
        let images = file
            .new_dataset::<u8>()
            .shape([6usize, 2, 2, 1])
            .create("pixels")
            .expect("dataset");
        images.write_raw(&grid_images()).expect("write");
        let labels = file
            .new_dataset::<i64>()
            .shape([6usize, 2])
            .create("latents")
            .expect("dataset");
        labels.write_raw(&grid_labels()).expect("write");
        file.close().expect("close");
    }
    let mut src = source(&path, &path);
    src.images_key = "pixels".to_string();
    src.labels_key = "latents".to_string();
    let facts = inspect(&src).expect("inspects");
    assert_eq!(facts.images.dtype, "uint8");
    assert_eq!(facts.labels.dtype, "int64");
    assert_eq!(facts.label_ranges, Some(vec![(0, 1), (0, 2)]));
    let data = UserArrays::open("grid", &src, names(), vec![2, 3]).expect("opens");
    assert_grid(&data);
    // A missing dataset names those the file has.
    src.labels_key = "factors".to_string();
    let err = inspect(&src).expect_err("no such dataset");
    assert!(err.to_string().contains("no array `factors`"), "{err}");
}

#[test]
fn plain_observations_sample_only_rows_that_exist() {
    let dir = temp_dir("arrays-plain");
    let path = dir.join("plain.npz");
    // Four of the six combinations, one of them twice.
    let labels: Vec<i64> = vec![0, 0, 0, 1, 1, 2, 1, 2, 0, 2];
    let images: Vec<u8> = (0..5u8).flat_map(|i| [i; 4]).collect();
    write_npz_raw(
        &path,
        &[
            ("images", npy_bytes("|u1", &[5, 2, 2, 1], &images)),
            ("factors", npy_bytes("<i8", &[5, 2], &i64_bytes(&labels))),
        ],
    );
    let facts = inspect(&source(&path, &path)).expect("inspects");
    assert_eq!(facts.distinct_rows, 4);
    let data =
        UserArrays::open("plain", &source(&path, &path), names(), vec![2, 3]).expect("opens");
    assert!(!data.is_complete_grid());
    let mut rng = RandomState::new(3);
    let (rows, observations) = sample_batch(&data, 200, &mut rng).expect("samples");
    let present = [vec![0, 0], vec![0, 1], vec![1, 2], vec![0, 2]];
    assert!(rows.iter().all(|r| present.contains(r)));
    assert_eq!(observations.len(), 200 * 4);
    // A combination with no row is an error, not a wrong image.
    let mut out = Vec::new();
    assert!(
        data.observations(&[vec![1, 0]], &mut rng, &mut out)
            .is_err()
    );
}

#[test]
fn labels_outside_the_declared_sizes_fail_to_open() {
    let dir = temp_dir("arrays-range");
    let path = dir.join("grid.npz");
    write_npz_raw(
        &path,
        &[
            ("images", npy_bytes("|u1", &[6, 2, 2, 1], &grid_images())),
            (
                "factors",
                npy_bytes("<i8", &[6, 2], &i64_bytes(&grid_labels())),
            ),
        ],
    );
    let err = UserArrays::open("grid", &source(&path, &path), names(), vec![2, 2])
        .expect_err("label 2 of a 2-value factor");
    assert!(err.to_string().contains("factor 1 has value 2"), "{err}");
    // Float labels are reported as what they are, not decoded.
    let floats: Vec<u8> = (0..12).flat_map(|i| (i as f64).to_le_bytes()).collect();
    write_npz_raw(
        &path,
        &[
            ("images", npy_bytes("|u1", &[6, 2, 2, 1], &grid_images())),
            ("factors", npy_bytes("<f8", &[6, 2], &floats)),
        ],
    );
    let facts = inspect(&source(&path, &path)).expect("inspects");
    assert_eq!(facts.labels.dtype, "float64");
    assert_eq!(facts.label_ranges, None);
}

/// The throughput of the pipeline on a user-sized file: `cargo test -p disc-data --release
/// arrays_throughput -- --nocapture` prints images/s for 64×64×3 `.npy` and `.npz` grids.
#[test]
fn arrays_throughput() {
    let dir = temp_dir("arrays-speed");
    let rows = 4096u64;
    let sizes = vec![16u32, 16, 16];
    let images: Vec<u8> = (0..rows * 64 * 64 * 3).map(|i| (i % 251) as u8).collect();
    let labels: Vec<i64> = (0..rows as i64)
        .flat_map(|i| [i / 256, (i / 16) % 16, i % 16])
        .collect();
    let npy = dir.join("images.npy");
    let npy_labels = dir.join("labels.npy");
    std::fs::write(&npy, npy_bytes("|u1", &[rows, 64, 64, 3], &images)).expect("writable");
    std::fs::write(
        &npy_labels,
        npy_bytes("<i8", &[rows, 3], &i64_bytes(&labels)),
    )
    .expect("writable");
    let npz = dir.join("grid.npz");
    write_npz_raw(
        &npz,
        &[
            ("images", npy_bytes("|u1", &[rows, 64, 64, 3], &images)),
            ("factors", npy_bytes("<i8", &[rows, 3], &i64_bytes(&labels))),
        ],
    );
    let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    for (what, src) in [
        ("npy", source(&npy, &npy_labels)),
        ("npz", source(&npz, &npz)),
    ] {
        let data = UserArrays::open("speed", &src, names.clone(), sizes.clone()).expect("opens");
        let mut rng = RandomState::new(0);
        let started = std::time::Instant::now();
        let batches = 50;
        for _ in 0..batches {
            sample_batch(&data, 64, &mut rng).expect("samples");
        }
        let per_second = (batches * 64) as f64 / started.elapsed().as_secs_f64();
        eprintln!("arrays ({what}, 64x64x3 uint8): {per_second:.0} images/s");
        assert!(per_second > 0.0);
    }
}
