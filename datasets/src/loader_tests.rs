//! Tests of the loaders on small files in the released formats, written by the tests themselves
//! ([`crate::test_files`]) or by the reference tools (`tests/fixtures/`, see its README).

use std::path::{Path, PathBuf};

use crate::{
    DataError, DatasetConfig, FactorSpace, GroundTruthData, RandomState, cars3d, dsprites, grid,
    h5, mat, norb, open,
    test_files::{i32_bytes, mat_uint8_matrix, temp_dir, write_mat, write_norb, write_npz},
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

// ------------------------------------------------------------------------------------------- npz

#[test]
fn dsprites_imgs_become_bit_masks() {
    let dir = temp_dir("dsprites-npz");
    let path = dir.join("d.npz");
    // Three images: empty, one pixel at (row 2, col 5), full last row.
    let mut imgs = vec![0u8; 3 * 64 * 64];
    imgs[64 * 64 + 2 * 64 + 5] = 1;
    for x in 0..64 {
        imgs[2 * 64 * 64 + 63 * 64 + x] = 1;
    }
    write_npz(
        &path,
        &[("imgs", &[3, 64, 64], &imgs), ("other", &[2], &[7, 8])],
    );
    let masks = dsprites::read_masks(&path, 3).expect("valid file");
    assert_eq!(masks.len(), 3 * 64);
    assert!(masks[..64].iter().all(|&w| w == 0));
    assert_eq!(masks[64 + 2], 1 << 5);
    assert_eq!(masks[2 * 64 + 63], u64::MAX);
}

#[test]
fn dsprites_npz_errors_name_the_file_and_the_problem() {
    let dir = temp_dir("dsprites-npz-errors");
    // Wrong shape: the public loader wants all 737,280 images.
    let small = dir.join("small.npz");
    write_npz(&small, &[("imgs", &[3, 64, 64], &vec![0u8; 3 * 64 * 64])]);
    let err = open(&DatasetConfig::Dsprites {
        file: Some(small.clone()),
    })
    .expect_err("3 images");
    assert!(
        matches!(&err, DataError::ArrayShape { found, .. } if found == &[3, 64, 64]),
        "{err}"
    );
    assert!(
        err.to_string().contains("small.npz") && err.to_string().contains("737280"),
        "{err}"
    );
    // Missing key lists what is there.
    let nokey = dir.join("nokey.npz");
    write_npz(&nokey, &[("images", &[1], &[0])]);
    let err = dsprites::read_masks(&nokey, 1).expect_err("no imgs");
    assert!(
        matches!(&err, DataError::MissingArray { available, .. } if available == &["images"]),
        "{err}"
    );
    // A value other than 0/1.
    let bad = dir.join("bad.npz");
    let mut imgs = vec![0u8; 64 * 64];
    imgs[70] = 255;
    write_npz(&bad, &[("imgs", &[1, 64, 64], &imgs)]);
    let err = dsprites::read_masks(&bad, 1).expect_err("255 is not binary");
    assert!(
        err.to_string().contains("255 in image 0, row 1, column 6"),
        "{err}"
    );
    // Not a zip at all, and a missing file.
    let junk = dir.join("junk.npz");
    std::fs::write(&junk, b"not a zip archive").expect("writable");
    assert!(matches!(
        dsprites::read_masks(&junk, 1),
        Err(DataError::Malformed { format: "npz", .. })
    ));
    let missing = dir.join("missing.npz");
    assert!(
        matches!(dsprites::read_masks(&missing, 1), Err(DataError::Io { path, .. }) if path == missing)
    );
}

#[test]
fn truncated_npz_is_an_error() {
    let dir = temp_dir("npz-truncated");
    let path = dir.join("t.npz");
    let data: Vec<u8> = (0..64 * 64 * 4).map(|i| (i % 2) as u8).collect();
    write_npz(&path, &[("imgs", &[4, 64, 64], &data)]);
    let bytes = std::fs::read(&path).expect("just written");
    for cut in [bytes.len() / 2, bytes.len() - 30, 40] {
        let truncated = dir.join(format!("cut{cut}.npz"));
        std::fs::write(&truncated, &bytes[..cut]).expect("writable");
        let err = dsprites::read_masks(&truncated, 4).expect_err("truncated archive");
        assert!(matches!(err, DataError::Malformed { .. }), "{err}");
    }
}

#[test]
fn image_grid_npz_accepts_flat_or_factor_axes_and_indexes_row_major() {
    let dir = temp_dir("grid-npz");
    let sizes = [2u32, 3];
    // Image i is filled with the byte 10·i, so the lookup can be checked.
    let data: Vec<u8> = (0..6u8)
        .flat_map(|i| std::iter::repeat_n(10 * i, 64 * 64 * 3))
        .collect();
    let flat = dir.join("flat.npz");
    write_npz(&flat, &[("images", &[6, 64, 64, 3], &data)]);
    let axes = dir.join("axes.npz");
    write_npz(&axes, &[("images", &[2, 3, 64, 64, 3], &data)]);
    for path in [&flat, &axes] {
        let pixels = grid::read_grid_npz(path, &sizes, [64, 64, 3]).expect("valid file");
        let space = FactorSpace::new(sizes.to_vec()).expect("valid sizes");
        let names = vec!["a".to_string(), "b".to_string()];
        let data =
            grid::ImageGrid::new("t", space, names, [64, 64, 3], pixels).expect("complete grid");
        let mut out = Vec::new();
        data.observations(
            &[vec![1, 2], vec![0, 1]],
            &mut RandomState::new(0),
            &mut out,
        )
        .expect("ok");
        assert_eq!(out.len(), 2 * 64 * 64 * 3);
        // Row-major: [1, 2] is image 5, [0, 1] is image 1.
        assert_eq!(out[0], (50.0f64 / 255.0) as f32);
        assert_eq!(out[64 * 64 * 3], (10.0f64 / 255.0) as f32);
    }
    let wrong = dir.join("wrong.npz");
    write_npz(
        &wrong,
        &[("images", &[5, 64, 64, 3], &data[..5 * 64 * 64 * 3])],
    );
    let err = grid::read_grid_npz(&wrong, &sizes, [64, 64, 3]).expect_err("5 images for 6 cells");
    assert!(
        err.to_string()
            .contains("[6, 64, 64, 3] or [2, 3, 64, 64, 3]"),
        "{err}"
    );
    let err = open(&DatasetConfig::Mpi3d {
        mode: "toy".into(),
        file: flat.clone(),
    })
    .expect_err("small");
    assert!(err.to_string().contains("460800"), "{err}");
    let err = open(&DatasetConfig::Mpi3d {
        mode: "fake".into(),
        file: flat,
    })
    .expect_err("bad mode");
    assert!(matches!(
        err,
        DataError::InvalidParameter {
            parameter: "mode",
            ..
        }
    ));
}

// ------------------------------------------------------------------------------------------- HDF5

#[test]
fn reads_h5py_gzip_chunked_images() {
    // tests/fixtures/README.md: np.arange(6*4*4*3) * 7 % 256, chunked and gzip-compressed by h5py.
    let path = fixture("h5py_gzip_images.h5");
    assert!(h5::is_hdf5(&path).expect("readable"));
    let data = h5::read_u8_dataset(&path, "images", &[6, 4, 4, 3]).expect("h5py file reads");
    let expected: Vec<u8> = (0..6 * 4 * 4 * 3)
        .map(|i: u32| (i * 7 % 256) as u8)
        .collect();
    assert_eq!(data, expected);
    let err = h5::read_u8_dataset(&path, "images", &[480_000, 64, 64, 3]).expect_err("wrong shape");
    assert!(
        matches!(&err, DataError::ArrayShape { found, .. } if found == &[6, 4, 4, 3]),
        "{err}"
    );
    let err = h5::read_u8_dataset(&path, "labels", &[6, 6]).expect_err("labels are float64");
    assert!(err.to_string().contains("8-byte elements"), "{err}");
    let err = h5::read_u8_dataset(&path, "imgs", &[6, 4, 4, 3]).expect_err("no such dataset");
    assert!(
        matches!(&err, DataError::MissingArray { available, .. } if available.contains(&"images".to_string()))
    );
    // The public Shapes3D loader routes .h5 files here and wants the full shape.
    let err = open(&DatasetConfig::Shapes3d { file: Some(path) }).expect_err("6 images");
    assert!(err.to_string().contains("480000"), "{err}");
}

#[test]
fn truncated_or_fake_hdf5_is_an_error() {
    let dir = temp_dir("h5-bad");
    let bytes = std::fs::read(fixture("h5py_gzip_images.h5")).expect("fixture");
    let truncated = dir.join("t.h5");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("writable");
    assert!(h5::is_hdf5(&truncated).expect("readable"));
    let err = h5::read_u8_dataset(&truncated, "images", &[6, 4, 4, 3]).expect_err("truncated");
    assert!(
        matches!(
            err,
            DataError::Malformed { format: "HDF5", .. } | DataError::MissingArray { .. }
        ),
        "{err}"
    );
    let fake = dir.join("f.h5");
    std::fs::write(&fake, b"\x89HDF\r\n\x1a\nthen nothing useful").expect("writable");
    assert!(h5::read_u8_dataset(&fake, "images", &[1]).is_err());
}

// ------------------------------------------------------------------------------------------- MAT

#[test]
fn reads_scipy_mat_files_plain_and_compressed() {
    // tests/fixtures/README.md: im = (np.arange(24) * 11 % 256).reshape(4, 3, 2), column-major on disk.
    let expected_fortran: Vec<u8> = vec![
        0, 66, 132, 198, 22, 88, 154, 220, 44, 110, 176, 242, 11, 77, 143, 209, 33, 99, 165, 231,
        55, 121, 187, 253,
    ];
    for name in ["scipy_plain.mat", "scipy_compressed.mat"] {
        let path = fixture(name);
        let im = mat::read_variable(&path, "im").expect("scipy file reads");
        assert_eq!(im.dims, vec![4, 3, 2]);
        assert_eq!(im.data, expected_fortran, "{name}");
        // A double array holding integers 0..=255 converts.
        let small = mat::read_variable(&path, "small").expect("double array");
        assert_eq!(small.data, vec![3, 200]);
        // A double array with a fraction does not.
        let err = mat::read_variable(&path, "aaa_first").expect_err("1.5 is not a byte");
        assert!(err.to_string().contains("1.5"), "{err}");
        let err = mat::read_variable(&path, "nothere").expect_err("absent");
        assert!(
            matches!(&err, DataError::MissingArray { available, .. } if available.len() == 3),
            "{err}"
        );
    }
}

#[test]
fn malformed_mat_files_are_errors() {
    let dir = temp_dir("mat-bad");
    let bytes = std::fs::read(fixture("scipy_compressed.mat")).expect("fixture");
    for cut in [10, 130, bytes.len() - 5] {
        let path = dir.join(format!("cut{cut}.mat"));
        std::fs::write(&path, &bytes[..cut]).expect("writable");
        let err = mat::read_variable(&path, "small").expect_err("truncated");
        assert!(matches!(err, DataError::Malformed { .. }), "{cut}: {err}");
    }
    let hdf = dir.join("v73.mat");
    std::fs::write(&hdf, [0u8; 200]).expect("writable");
    let err = mat::read_variable(&hdf, "im").expect_err("no MATLAB 5 header");
    assert!(err.to_string().contains("-v7.3"), "{err}");
}

/// One Cars3D `im` array, column-major `(128, 128, 3, 24, 4)`: every view a flat colour whose red is
/// `seed + azimuth`, green `10·elevation`, blue 7.
fn cars_array(seed: u8) -> Vec<u8> {
    let plane = 128 * 128;
    let mut data = vec![0u8; plane * 3 * 24 * 4];
    for elevation in 0..4 {
        for azimuth in 0..24 {
            let base = (azimuth + 24 * elevation) * 3 * plane;
            let colour = [seed + azimuth as u8, 10 * elevation as u8, 7];
            for (channel, value) in colour.iter().enumerate() {
                data[base + channel * plane..base + (channel + 1) * plane].fill(*value);
            }
        }
    }
    data
}

#[test]
fn cars3d_views_objects_sorted_by_file_name() {
    let dir = temp_dir("cars3d");
    // Written in reverse name order; ids must follow the sorted names regardless.
    write_mat(
        &dir.join("b_car.mat"),
        &[mat_uint8_matrix(
            "im",
            &[128, 128, 3, 24, 4],
            &cars_array(100),
        )],
        true,
    );
    write_mat(
        &dir.join("a_car.mat"),
        &[
            mat_uint8_matrix("other", &[1, 1], &[5]),
            mat_uint8_matrix("im", &[128, 128, 3, 24, 4], &cars_array(50)),
        ],
        false,
    );
    std::fs::write(dir.join("notes.txt"), "ignored").expect("writable");
    let data = open(&DatasetConfig::Cars3d { path: dir.clone() }).expect("two cars");
    assert_eq!(data.factor_space().sizes(), &[4, 24, 2]);
    assert_eq!(data.observation_shape(), [64, 64, 3]);
    let mut out = Vec::new();
    data.observations(
        &[vec![3, 5, 0], vec![1, 23, 1]],
        &mut RandomState::new(0),
        &mut out,
    )
    .expect("ok");
    // A flat colour stays exactly flat through the Lanczos filter (its weights sum to 1).
    let pixel = |image: usize| {
        [0, 1, 2].map(|c| (out[image * 64 * 64 * 3 + 32 * 64 * 3 + c] * 255.0).round())
    };
    assert_eq!(pixel(0), [55.0, 30.0, 7.0]); // a_car: 50 + azimuth 5, elevation 3
    assert_eq!(pixel(1), [123.0, 10.0, 7.0]); // b_car: 100 + azimuth 23, elevation 1
}

#[test]
fn cars3d_errors() {
    let dir = temp_dir("cars3d-bad");
    let err = cars3d::open(&dir).expect_err("empty directory");
    assert!(matches!(
        err,
        DataError::NoFiles {
            expected: "*.mat",
            ..
        }
    ));
    write_mat(
        &dir.join("x.mat"),
        &[mat_uint8_matrix("im", &[4, 6], &[0; 24])],
        true,
    );
    let err = cars3d::open(&dir).expect_err("wrong dims");
    assert!(
        err.to_string().contains("[128, 128, 3, 24, 4]") && err.to_string().contains("x.mat"),
        "{err}"
    );
    let err = cars3d::open(&dir.join("nowhere")).expect_err("missing directory");
    assert!(matches!(err, DataError::Io { .. }));
}

// ------------------------------------------------------------------------------------------- NORB

/// Writes a small SmallNORB directory: per half, records for categories {0, 1} × that half's five
/// instances at elevation 2, azimuth 8 (stored 16), lighting 3. Image pixel value = 10·category +
/// instance, first camera; the second camera is 255 so a mix-up shows.
fn write_small_norb(dir: &Path) {
    let halves = [
        (
            "smallnorb-5x46789x9x18x6x2x96x96-training-",
            [4, 6, 7, 8, 9],
        ),
        ("smallnorb-5x01235x9x18x6x2x96x96-testing-", [0, 1, 2, 3, 5]),
    ];
    for (prefix, instances) in halves {
        let mut dat = Vec::new();
        let mut cat = Vec::new();
        let mut info = Vec::new();
        for category in 0..2 {
            for &instance in &instances {
                dat.extend(std::iter::repeat_n(
                    (10 * category + instance) as u8,
                    96 * 96,
                ));
                dat.extend(std::iter::repeat_n(255u8, 96 * 96));
                cat.push(category);
                info.extend([instance, 2, 16, 3]);
            }
        }
        let n = cat.len() as i32;
        write_norb(
            &dir.join(format!("{prefix}dat.mat")),
            507_333_717,
            &[n, 2, 96, 96],
            &dat,
        );
        write_norb(
            &dir.join(format!("{prefix}cat.mat")),
            507_333_716,
            &[n],
            &i32_bytes(&cat),
        );
        write_norb(
            &dir.join(format!("{prefix}info.mat")),
            507_333_716,
            &[n, 4],
            &i32_bytes(&info),
        );
    }
}

#[test]
fn smallnorb_draws_the_instance_per_observation() {
    let dir = temp_dir("norb");
    write_small_norb(&dir);
    let data = open(&DatasetConfig::SmallNorb { path: dir.clone() }).expect("six files");
    assert_eq!(data.factor_space().sizes(), &[5, 9, 18, 6]);
    assert_eq!(data.observation_shape(), [64, 64, 1]);
    let rows = vec![vec![1, 2, 8, 3], vec![0, 2, 8, 3], vec![1, 2, 8, 3]];
    let mut out = Vec::new();
    let mut rng = RandomState::new(0);
    data.observations(&rows, &mut rng, &mut out)
        .expect("all combinations present");
    // The instances are randint(10) draws after nothing else: RandomState(0) gives 5, 0, 3.
    let got: Vec<f32> = (0..3)
        .map(|i| (out[i * 4096 + 2080] * 255.0).round())
        .collect();
    assert_eq!(got, vec![15.0, 0.0, 13.0]);
    // A combination the files lack is an error naming it, not a panic.
    let err = data
        .observations(&[vec![4, 0, 0, 0]], &mut rng, &mut out)
        .expect_err("not in files");
    assert!(
        matches!(
            err,
            DataError::MissingCombination {
                dataset: "smallnorb",
                ..
            }
        ),
        "{err}"
    );
    // Opening by one of the files works too.
    let file = dir.join("smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat");
    assert!(norb::SmallNorb::open(&file).is_ok());
}

#[test]
fn smallnorb_errors_name_the_file() {
    let dir = temp_dir("norb-bad");
    write_small_norb(&dir);
    let info = dir.join("smallnorb-5x01235x9x18x6x2x96x96-testing-info.mat");
    // Truncated data.
    let bytes = std::fs::read(&info).expect("written");
    std::fs::write(&info, &bytes[..bytes.len() - 4]).expect("writable");
    let err = norb::SmallNorb::open(&dir).expect_err("truncated");
    assert!(
        err.to_string().contains("testing-info.mat") && err.to_string().contains("data bytes"),
        "{err}"
    );
    // Bad magic.
    let mut bad = bytes.clone();
    bad[0] = 0;
    std::fs::write(&info, &bad).expect("writable");
    let err = norb::SmallNorb::open(&dir).expect_err("bad magic");
    assert!(err.to_string().contains("magic number"), "{err}");
    // A feature out of range (lighting 6).
    let mut values: Vec<i32> = bytes[20..]
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    values[3] = 6;
    write_norb(
        &info,
        507_333_716,
        &[values.len() as i32 / 4, 4],
        &i32_bytes(&values),
    );
    let err = norb::SmallNorb::open(&dir).expect_err("lighting 6");
    assert!(
        err.to_string().contains("feature 4 of record 0 in 0..6"),
        "{err}"
    );
    // A missing file.
    std::fs::remove_file(&info).expect("exists");
    let err = norb::SmallNorb::open(&dir).expect_err("missing");
    assert!(
        matches!(&err, DataError::Io { path, .. } if path == &info),
        "{err}"
    );
}

// ------------------------------------------------------------------------------------------- Scream

#[test]
fn scream_image_file_is_thumbnailed_like_pil() {
    let dir = temp_dir("scream");
    let path = dir.join("painting.png");
    image::RgbImage::from_fn(480, 400, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 99])
    })
    .save(&path)
    .expect("writable");
    let texture = dsprites::ScreamTexture::from_file(&path).expect("valid png");
    // PIL: aspect 1.2 < 350/274, so height 274 and width floor/ceil(328.8) → 329.
    assert_eq!(texture.size(), (274, 329));
    let data = open(&DatasetConfig::ScreamDsprites {
        file: None,
        image: Some(path),
    })
    .expect("opens");
    let mut out = Vec::new();
    data.observations(&[vec![0, 0, 0, 0, 0]], &mut RandomState::new(0), &mut out)
        .expect("ok");
    assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
    let tiny = dir.join("tiny.png");
    image::RgbImage::new(60, 100).save(&tiny).expect("writable");
    let err = dsprites::ScreamTexture::from_file(&tiny).expect_err("narrower than 64");
    assert!(
        matches!(
            err,
            DataError::ImageTooSmall {
                width: 60,
                height: 100,
                ..
            }
        ),
        "{err}"
    );
    let junk = dir.join("junk.png");
    std::fs::write(&junk, b"not an image").expect("writable");
    assert!(matches!(
        dsprites::ScreamTexture::from_file(&junk),
        Err(DataError::Image { .. })
    ));
}

#[test]
fn pil_thumbnail_sizes() {
    // Values computed with Pillow's rule (floor/ceil closest in aspect; unchanged if it fits).
    assert_eq!(dsprites::thumbnail_size(300, 200, 350, 274), (300, 200));
    assert_eq!(dsprites::thumbnail_size(1000, 1260, 350, 274), (217, 274));
    assert_eq!(dsprites::thumbnail_size(1000, 500, 350, 274), (350, 175));
    assert_eq!(dsprites::thumbnail_size(128, 128, 64, 64), (64, 64));
}
