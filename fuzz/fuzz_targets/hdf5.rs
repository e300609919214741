//! Fuzz target: arbitrary bytes as an HDF5 file, read by the 3dshapes loader's reader (signature,
//! length check, dataset `images` of a small uint8 shape). No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("disc-fuzz-{}.h5", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        // The seed (tests/fixtures/h5py_gzip_images.h5) holds `images` of this shape.
        let _ = disc_data::fuzzing::hdf5(&path, &[6, 4, 4, 3]);
    }
});
