//! Tests of the user's arrays ([`crate::arrays`]) in each format the tests write themselves:
//! `.npz` (stored and compressed), `.npy` pairs and HDF5.

use std::path::Path;

use crate::arrays::{ArraySource, ImageStorage, UserArrays, inspect};
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
    assert_eq!(data.image_storage(), ImageStorage::InPlace);
    assert_grid(&data);

    // The same arrays deflated (`np.savez_compressed`) are decoded once into a temporary file,
    // with the same pixels.
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
    assert_eq!(data.image_storage(), ImageStorage::DecodedOnce);
    assert_grid(&data);
    // Float images in a compressed archive: float64 narrowed to f32 per row, as from an `.npy`.
    let floats: Vec<u8> = (0..24)
        .flat_map(|i| (f64::from(i) / 24.0).to_le_bytes())
        .collect();
    write_npz_deflated(
        &compressed,
        &[
            ("images", npy_bytes("<f8", &[6, 2, 2, 1], &floats)),
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
    let mut out = Vec::new();
    data.observations(&[vec![1, 2]], &mut RandomState::new(0), &mut out)
        .expect("row exists");
    assert_eq!(
        out,
        vec![20.0 / 24.0, 21.0 / 24.0, 22.0 / 24.0, 23.0 / 24.0]
    );

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

/// Writes `images` (`shape`) and the grid's labels (three columns) to an HDF5 file, the images
/// chunked as `chunk` and gzip-compressed as h5py writes them (`compression="gzip"`).
fn write_h5_chunked<T: rust_hdf5::types::H5Type>(
    path: &Path,
    shape: &[usize],
    chunk: &[usize],
    images: &[T],
    labels: &[i64],
) {
    let file = rust_hdf5::H5File::create(path).expect("h5 create");
    let dataset = file
        .new_dataset::<T>()
        .shape(shape)
        .chunk(chunk)
        .deflate(4)
        .create("images")
        .expect("dataset");
    dataset.write_raw(images).expect("write");
    let rows = labels.len() / 3;
    let labels_set = file
        .new_dataset::<i64>()
        .shape([rows, 3])
        .create("labels")
        .expect("dataset");
    labels_set.write_raw(labels).expect("write");
    file.close().expect("close");
}

#[test]
fn hdf5_chunks_are_decoded_once_each_while_they_fit_the_cache() {
    let dir = temp_dir("arrays-h5-chunks");
    let path = dir.join("chunked.h5");
    // 40 rows of 4×4×3 images, chunks of 8 rows split across the width (as h5py's automatic
    // chunking splits every axis): row i has every pixel equal to i.
    let images: Vec<u8> = (0..40u8).flat_map(|i| [i; 48]).collect();
    let labels: Vec<i64> = (0..40i64)
        .flat_map(|i| [i / 20, (i / 4) % 5, i % 4])
        .collect();
    write_h5_chunked(&path, &[40, 4, 4, 3], &[8, 4, 2, 3], &images, &labels);
    let mut src = source(&path, &path);
    src.labels_key = "labels".to_string();
    let sizes = vec![2, 5, 4];
    let names3 = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    let data = UserArrays::open("chunked", &src, names3.clone(), sizes.clone()).expect("opens");
    assert_eq!(data.image_storage(), ImageStorage::Chunked);
    assert_eq!(data.block_rows(), 8);
    assert!(data.is_complete_grid());
    let rows: Vec<Vec<u32>> = (0..40u32)
        .map(|i| vec![i / 20, (i / 4) % 5, i % 4])
        .collect();
    let mut rng = RandomState::new(0);
    for _ in 0..2 {
        let mut out = Vec::new();
        data.observations(&rows, &mut rng, &mut out)
            .expect("rows exist");
        let want: Vec<f32> = (0..40u8)
            .flat_map(|i| [(f64::from(i) / 255.0) as f32; 48])
            .collect();
        assert_eq!(out, want);
    }
    // Five blocks of eight rows, each decoded once for 80 row reads.
    assert_eq!(data.blocks_decoded(), 5);

    // A cache smaller than two blocks keeps only the newest: alternating between two blocks
    // decodes each time, and the rows are still right.
    let data = UserArrays::open("chunked", &src, names3, sizes)
        .expect("opens")
        .with_cache_bytes(8 * 48);
    let mut out = Vec::new();
    let alternating = [
        rows[0].clone(),
        rows[8].clone(),
        rows[1].clone(),
        rows[9].clone(),
    ];
    data.observations(&alternating, &mut rng, &mut out)
        .expect("rows exist");
    assert_eq!(data.blocks_decoded(), 4);
    let firsts: Vec<u8> = out
        .chunks(48)
        .map(|image| (image.first().copied().unwrap_or(-1.0) * 255.0).round() as u8)
        .collect();
    assert_eq!(firsts, vec![0, 8, 1, 9]);
}

/// Every row of `data`, in a scrambled order (as training asks for them), as f32 bit patterns.
fn every_row_bits(data: &UserArrays, rows: u32) -> Vec<u32> {
    let factors: Vec<Vec<u32>> = (0..rows)
        .map(|i| (i * 17) % rows)
        .map(|i| vec![i / 20, (i / 4) % 5, i % 4])
        .collect();
    let mut out = Vec::new();
    data.observations(&factors, &mut RandomState::new(0), &mut out)
        .expect("rows exist");
    out.iter().map(|v| v.to_bits()).collect()
}

/// Writes one element type's images to an HDF5 file (path), chunked as given (chunk shape).
type WriteImages<'a> = &'a dyn Fn(&Path, &[usize]);

/// A dataset of multi-row chunks larger than the row cache is decoded once into a temporary file
/// when it is opened; its rows are then bit for bit what the lazy path reads through the cache,
/// for each image type (float64 narrowed to float32 the same way). A dataset chunked a row at a
/// time, or not chunked, stays lazy whatever its size.
#[test]
fn hdf5_datasets_larger_than_the_cache_are_decoded_once_with_the_lazy_values() {
    let dir = temp_dir("arrays-h5-decode-once");
    // 40 rows of 4×4×3 images (48 elements), chunks of 8 rows split across the width, as in
    // `hdf5_chunks_are_decoded_once_each_while_they_fit_the_cache`; labels `(i / 20, i / 4 % 5,
    // i % 4)` make a complete 2 × 5 × 4 grid.
    let labels: Vec<i64> = (0..40i64)
        .flat_map(|i| [i / 20, (i / 4) % 5, i % 4])
        .collect();
    let shape = [40usize, 4, 4, 3];
    let names3 = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    let sizes = vec![2, 5, 4];
    // A file per case: rust-hdf5 refuses to create a file that readers still hold open.
    let h5_source = |name: String| {
        let path = dir.join(name);
        let mut src = source(&path, &path);
        src.labels_key = "labels".to_string();
        src
    };
    // Values that float32 cannot hold exactly, so that the narrowing is compared too.
    let value = |i: usize| (i as f64).sqrt() / 7.0 + 1e-12;
    let cases: [(&str, WriteImages); 3] = [
        ("uint8", &|path: &Path, chunk: &[usize]| {
            let images: Vec<u8> = (0..40 * 48).map(|i| (i * 7 % 251) as u8).collect();
            write_h5_chunked(path, &shape, chunk, &images, &labels);
        }),
        ("float32", &|path: &Path, chunk: &[usize]| {
            let images: Vec<f32> = (0..40 * 48).map(|i| value(i) as f32).collect();
            write_h5_chunked(path, &shape, chunk, &images, &labels);
        }),
        ("float64", &|path: &Path, chunk: &[usize]| {
            let images: Vec<f64> = (0..40 * 48).map(value).collect();
            write_h5_chunked(path, &shape, chunk, &images, &labels);
        }),
    ];
    // A budget of one block (8 rows of 48 four-byte elements): the 40 rows do not fit.
    let budget = 8 * 48 * 4;
    for (dtype, write) in cases {
        let src = h5_source(format!("{dtype}_8_rows.h5"));
        write(&src.images, &[8, 4, 2, 3]);
        let lazy = UserArrays::open("h5", &src, names3.clone(), sizes.clone())
            .expect("opens")
            .with_cache_bytes(budget);
        assert_eq!(lazy.image_storage(), ImageStorage::Chunked, "{dtype}");
        let decoded =
            UserArrays::open_with_row_cache("h5", &src, names3.clone(), sizes.clone(), budget)
                .expect("opens");
        assert_eq!(
            decoded.image_storage(),
            ImageStorage::DecodedOnce,
            "{dtype}"
        );
        let want = every_row_bits(&lazy, 40);
        assert_eq!(want.len(), 40 * 48, "{dtype}");
        assert_eq!(every_row_bits(&decoded, 40), want, "{dtype}");
        assert!(lazy.blocks_decoded() > 5, "{dtype}: the lazy path missed");
        assert_eq!(
            decoded.blocks_decoded(),
            0,
            "{dtype}: read from the decoded file"
        );

        // One-row chunks: a random row costs one row's inflate, so it stays lazy.
        let src = h5_source(format!("{dtype}_1_row.h5"));
        write(&src.images, &[1, 4, 4, 3]);
        let rows =
            UserArrays::open_with_row_cache("h5", &src, names3.clone(), sizes.clone(), budget)
                .expect("opens");
        assert_eq!(rows.image_storage(), ImageStorage::Chunked, "{dtype}");
        assert_eq!(every_row_bits(&rows, 40), want, "{dtype}");
    }
    // A contiguous (unchunked) dataset is read a row at a time: lazy too.
    let images: Vec<u8> = (0..40 * 48).map(|i| (i * 7 % 251) as u8).collect();
    let src = h5_source("contiguous.h5".to_string());
    {
        let file = rust_hdf5::H5File::create(&src.images).expect("h5 create");
        file.new_dataset::<u8>()
            .shape(shape)
            .create("images")
            .expect("dataset")
            .write_raw(&images)
            .expect("write");
        file.new_dataset::<i64>()
            .shape([40usize, 3])
            .create("labels")
            .expect("dataset")
            .write_raw(&labels)
            .expect("write");
        file.close().expect("close");
    }
    let contiguous = UserArrays::open_with_row_cache("h5", &src, names3, sizes, 1).expect("opens");
    assert_eq!(contiguous.image_storage(), ImageStorage::Chunked);
    assert_eq!(contiguous.block_rows(), 1);
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

/// How [`arrays_throughput`] opens a dataset.
#[derive(Clone, Copy)]
enum Opening {
    /// As a job does ([`UserArrays::open`]).
    AsAJob,
    /// HDF5 read lazily whatever its size (the only way before datasets larger than the cache were
    /// decoded once), through a cache of this many bytes.
    Lazy(usize),
}

/// The throughput of random row reads on a user-sized file, in every format: `cargo test -p
/// disc-data --release arrays_throughput -- --nocapture` prints images/s for a 6,144-row grid of
/// 64×64×3 `uint8` images (75 MB, larger than the 64 MiB HDF5 row cache) as `.npy`, as an `.npz`
/// written by `np.savez` and by `np.savez_compressed`, and as HDF5 gzip-compressed in h5py's
/// automatic chunks (512 rows × 8 × 16 × 1 for this shape) and in one-image chunks. The h5py
/// chunks are decoded once as a job opens them (a block is 512 rows and the file is larger than
/// the cache); they are also read lazily, as before, through the default cache (10 of the 12
/// blocks fit) and through a cache of one block, which is what a dataset much larger than the
/// cache sees (nearly every row read decodes its block).
#[test]
fn arrays_throughput() {
    let dir = temp_dir("arrays-speed");
    let rows = 6144u64;
    let sizes = vec![24u32, 16, 16];
    // Images with some structure (gradients and noise), so that deflate has realistic work.
    let images: Vec<u8> = (0..rows * 64 * 64 * 3)
        .map(|i| {
            let pixel = i % (64 * 64 * 3);
            let image = i / (64 * 64 * 3);
            ((pixel / 3 % 64 + image) as u8)
                .wrapping_add((i.wrapping_mul(2_654_435_761) >> 29) as u8 & 7)
        })
        .collect();
    assert!(images.len() > crate::h5::ROW_CACHE_BYTES);
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
    let arrays = [
        ("images", npy_bytes("|u1", &[rows, 64, 64, 3], &images)),
        ("factors", npy_bytes("<i8", &[rows, 3], &i64_bytes(&labels))),
    ];
    let npz = dir.join("grid.npz");
    write_npz_raw(&npz, &arrays);
    let npz_compressed = dir.join("grid_compressed.npz");
    write_npz_deflated(&npz_compressed, &arrays);
    drop(arrays);
    let shape = [rows as usize, 64, 64, 3];
    let h5_auto = dir.join("auto.h5");
    write_h5_chunked(&h5_auto, &shape, &[512, 8, 16, 1], &images, &labels);
    let h5_rows = dir.join("rows.h5");
    write_h5_chunked(&h5_rows, &shape, &[1, 64, 64, 3], &images, &labels);
    let h5_source = |path: &Path| {
        let mut src = source(path, path);
        src.labels_key = "labels".to_string();
        src
    };
    let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    let one_block = 512 * 64 * 64 * 3;
    let default_cache = crate::h5::ROW_CACHE_BYTES;
    use ImageStorage::{Chunked, DecodedOnce, InPlace};
    for (what, src, opening, storage) in [
        ("npy", source(&npy, &npy_labels), Opening::AsAJob, InPlace),
        (
            "npz, np.savez",
            source(&npz, &npz),
            Opening::AsAJob,
            InPlace,
        ),
        (
            "npz, np.savez_compressed",
            source(&npz_compressed, &npz_compressed),
            Opening::AsAJob,
            DecodedOnce,
        ),
        // Larger than the cache in blocks of 512 rows: a job decodes it once.
        (
            "HDF5 gzip, h5py's chunks (512,8,16,1)",
            h5_source(&h5_auto),
            Opening::AsAJob,
            DecodedOnce,
        ),
        (
            "HDF5 gzip, h5py's chunks, lazy, default cache",
            h5_source(&h5_auto),
            Opening::Lazy(default_cache),
            Chunked,
        ),
        (
            "HDF5 gzip, h5py's chunks, lazy, one-block cache",
            h5_source(&h5_auto),
            Opening::Lazy(one_block),
            Chunked,
        ),
        (
            "HDF5 gzip, one-image chunks",
            h5_source(&h5_rows),
            Opening::AsAJob,
            Chunked,
        ),
        (
            "HDF5 gzip, one-image chunks, one-block cache",
            h5_source(&h5_rows),
            Opening::Lazy(64 * 64 * 3),
            Chunked,
        ),
    ] {
        let opening_started = std::time::Instant::now();
        let data = match opening {
            Opening::AsAJob => UserArrays::open("speed", &src, names.clone(), sizes.clone()),
            // A budget no file reaches keeps the dataset lazy; the cache is then set alone.
            Opening::Lazy(bytes) => UserArrays::open_with_row_cache(
                "speed",
                &src,
                names.clone(),
                sizes.clone(),
                usize::MAX,
            )
            .map(|data| data.with_cache_bytes(bytes)),
        }
        .expect("opens");
        let open_seconds = opening_started.elapsed().as_secs_f64();
        assert_eq!(data.image_storage(), storage, "{what}");
        let mut rng = RandomState::new(0);
        let mut first = Vec::new();
        data.observations(&[vec![3, 4, 5]], &mut rng, &mut first)
            .expect("row exists");
        let row = 3 * 256 + 4 * 16 + 5;
        let want: Vec<f32> = images[row * 12288..(row + 1) * 12288]
            .iter()
            .map(|&b| (f64::from(b) / 255.0) as f32)
            .collect();
        assert_eq!(first, want, "{what}: row {row}");
        let started = std::time::Instant::now();
        // A lazy read of 512-row blocks of a file larger than the cache decodes a block for most
        // rows (a fifth of a second each): a few batches say as much.
        let batches = match opening {
            Opening::Lazy(bytes) if bytes == one_block => 1,
            Opening::Lazy(_) => 4,
            Opening::AsAJob => 50,
        };
        for _ in 0..batches {
            sample_batch(&data, 64, &mut rng).expect("samples");
        }
        let per_second = (batches * 64) as f64 / started.elapsed().as_secs_f64();
        eprintln!(
            "arrays ({what}, 64x64x3 uint8): {:?}, opened in {open_seconds:.2} s, {per_second:.0} random images/s, {} blocks decoded",
            data.image_storage(),
            data.blocks_decoded()
        );
        assert!(per_second > 0.0);
    }
}
