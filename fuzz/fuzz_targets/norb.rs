//! Fuzz target: arbitrary bytes as a NORB binary matrix, parsed by the smallNORB loader's reader. No
//! input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = disc_data::fuzzing::norb(data);
});
