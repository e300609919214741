//! Fuzz target: arbitrary bytes as a MATLAB v5 `.mat` file, decoded by the Cars3D loader's reader
//! (variable `im`). No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = disc_data::fuzzing::mat(data, "im");
});
