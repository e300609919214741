//! The check every reader of `.npy` data makes before npyz parses a header: npyz multiplies the
//! header's shape out unchecked (`NpyFile::new`), so a shape whose element count does not fit in 64
//! bits overflows inside it (a panic under overflow checks, a wrong count without them). The
//! readers of `.npy` files and of `.npz` members (this crate's and `disc eval`'s) refuse such a
//! header first, through the functions here (fuzz/README.md, crash #1).
//!
//! This module only looks at the header's text; it must not decide anything else about the array
//! (a header it cannot make sense of is left to npyz to judge and report).

use std::io::{Read, Seek};

/// The longest header read here (bytes after the fixed prefix). numpy's version-1 headers are at
/// most 64 KiB; a longer version-2 header is only read this far, and a shape beyond it is left to npyz.
const MAX_HEADER: u64 = 1 << 20;

/// Whether the shape in a `.npy` header (`head`: the file's first bytes, its header at least) has an
/// element count that fits in a `u64`. A header whose shape cannot be found is left to npyz.
fn shape_fits(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let Some(key) = text.find("'shape'").or_else(|| text.find("\"shape\"")) else {
        return true;
    };
    let rest = text.get(key..).unwrap_or_default();
    let (Some(open), Some(close)) = (rest.find('('), rest.find(')')) else {
        return true;
    };
    rest.get(open + 1..close)
        .unwrap_or_default()
        .split(',')
        .filter_map(|dim| dim.trim().parse::<u64>().ok())
        .try_fold(1u64, u64::checked_mul)
        .is_some()
}

/// Whether the `.npy` data `reader` starts with (a file, an `.npz` member, bytes in memory) has a
/// header whose shape's element count fits in a `u64`. Reads the fixed prefix and the header only
/// (not the array's data, which for a compressed `.npz` member would mean inflating it). A read
/// that fails or ends early leaves the header to npyz, which reports the same fault when it reads
/// it; so does a stream without the `.npy` magic.
pub fn npy_shape_fits(mut reader: impl Read) -> bool {
    // Magic (6 bytes), version (2), then the header's length: a u16 in version 1, a u32 from
    // version 2 on (numpy's NEP 1).
    let mut prefix = [0u8; 12];
    let mut filled = 0;
    while filled < prefix.len() {
        match reader.read(prefix.get_mut(filled..).unwrap_or_default()) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    let (header_len, header_start) = match prefix {
        [0x93, b'N', b'U', b'M', b'P', b'Y', 1, _, a, b, ..] => {
            (u64::from(u16::from_le_bytes([a, b])), 10)
        }
        [0x93, b'N', b'U', b'M', b'P', b'Y', 2 | 3, _, a, b, c, d] => {
            (u64::from(u32::from_le_bytes([a, b, c, d])), 12)
        }
        _ => return true,
    };
    // Bytes of the header already read with the prefix (version 1's first two).
    let mut head = prefix
        .get(header_start..filled)
        .unwrap_or_default()
        .to_vec();
    let wanted = header_len.min(MAX_HEADER).saturating_sub(head.len() as u64);
    // A read error ends the header where it happened: what was read is still judged.
    let _ = reader.take(wanted).read_to_end(&mut head);
    shape_fits(&head)
}

/// Whether array `key` of an `.npz` archive has a header whose shape's element count fits in a
/// `u64` (see [`npy_shape_fits`]), checked before npyz's `NpzArchive::by_name` parses it. A member
/// that is missing or unreadable is left to `by_name`, which reports it.
pub fn npz_member_shape_fits<R: Read + Seek>(
    archive: &mut npyz::npz::NpzArchive<R>,
    key: &str,
) -> bool {
    match archive
        .zip_archive()
        .by_name(&npyz::npz::file_name_from_array_name(key))
    {
        Ok(member) => npy_shape_fits(member),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_whose_count_overflows_are_refused_in_every_header_version() {
        let v1 = crate::fuzzing::npy_bytes("<f4", &[1 << 32, 1 << 32, 4], &[]);
        assert!(!npy_shape_fits(v1.as_slice()));
        let fits = crate::fuzzing::npy_bytes("<f4", &[1 << 32, 1 << 29, 4], &[]);
        assert!(npy_shape_fits(fits.as_slice()));
        // Version 2.0: the header's length is a u32.
        let header =
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }\n";
        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend((header.len() as u32).to_le_bytes());
        v2.extend(header);
        assert!(!npy_shape_fits(v2.as_slice()));
        // Anything that is not a `.npy` header is npyz's to report.
        assert!(npy_shape_fits(&b"PK\x03\x04"[..]));
        assert!(npy_shape_fits(&b""[..]));
        // A header cut short is judged on what there is.
        let end_of_shape = v1
            .windows(2)
            .position(|pair| pair == b"4)")
            .expect("the shape is in the header")
            + 2;
        assert!(!npy_shape_fits(
            v1.get(..end_of_shape).expect("inside the header")
        ));
    }
}
