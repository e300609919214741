//! The stable content hash of a job: two jobs with the same hash train the same model.
//!
//! The hash is 64-bit FNV-1a over a canonical binary encoding of the job, without its `index` and
//! `hash` fields, printed as 16 lowercase hex digits. The encoding is produced by a small serde
//! serializer ([`Encoder`]) straight into the hasher, so hashing the 12,600 jobs of the reference
//! study allocates nothing and formats no text (an earlier version hashed the job's RON text and
//! spent seconds there).
//!
//! The encoding is defined byte by byte, independent of platform, build and run:
//! - integers: the value widened to 64 bits, little-endian (`i64` for signed, `u64` for unsigned);
//! - floats: the IEEE-754 bits of the value as `f64`, little-endian, with every NaN mapped to one
//!   canonical NaN (−0.0 and 0.0 stay distinct, as they are distinct plan values);
//! - `bool` one byte; `char` as its `u32`; strings and bytes: length (u64 LE) then the bytes;
//! - options: tag byte 0 (none) or 1 then the value;
//! - structs, enum variants and fields by *name* (length-prefixed), so reordering declarations does
//!   not change a hash but renaming does; sequences, tuples, maps and structs are bracketed by
//!   distinct begin/end tag bytes, so the encoding of a value determines the value.
//!
//! It is an identifier, not a security measure: it need not resist deliberate collisions.
//!
//! This module depends only on the plan's serde form: a new plan field is hashed automatically. A
//! change to the encoding changes every job's identity, so it is pinned by a golden test below.

use std::fmt;

use serde::Serialize;
use serde::ser::{
    self, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
};
use serde::ser::{SerializeTupleStruct, SerializeTupleVariant};

use crate::plan::Job;

/// FNV-1a 64-bit offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// The running FNV-1a state.
struct Fnv1a(u64);

impl Fnv1a {
    fn bytes(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
}

/// The job's content hash: 16 lowercase hex digits, ignoring `job.index` and `job.hash`.
pub fn job_hash(job: &Job) -> String {
    format!("{:016x}", hash_value(job, &["index", "hash"]))
}

/// FNV-1a of the canonical encoding of any plan value (or tuple of them), e.g. to compare the
/// content of two jobs without their labels.
pub(crate) fn digest_of<T: Serialize + ?Sized>(value: &T) -> u64 {
    hash_value(value, &[])
}

/// FNV-1a of the canonical encoding of `value`, leaving out the top-level struct fields named in
/// `skip`.
fn hash_value<T: Serialize + ?Sized>(value: &T, skip: &'static [&'static str]) -> u64 {
    let mut encoder = Encoder {
        hasher: Fnv1a(FNV_OFFSET),
        depth: 0,
        skip,
    };
    // INVARIANT: the encoder never fails (it only feeds bytes into the hasher) and the plan types'
    // derived Serialize impls raise no errors of their own; were one to, the bytes fed so far
    // still determine a deterministic hash.
    let _ = value.serialize(&mut encoder);
    encoder.hasher.0
}

/// Tag bytes bracketing compound values.
mod tag {
    pub const NONE: u8 = 0;
    pub const SOME: u8 = 1;
    pub const UNIT: u8 = 2;
    pub const SEQ: u8 = 3;
    pub const MAP: u8 = 4;
    pub const STRUCT: u8 = 5;
    pub const VARIANT: u8 = 6;
    pub const NEWTYPE: u8 = 7;
    pub const END: u8 = 8;
}

/// The canonical-encoding serializer feeding [`Fnv1a`].
struct Encoder {
    hasher: Fnv1a,
    /// Nesting depth of compound values: fields in `skip` are left out at depth 1 only, i.e. in the
    /// outermost value when it is a struct (the job itself), never in nested values.
    depth: usize,
    skip: &'static [&'static str],
}

/// The encoder's error type; never produced by the encoder itself.
#[derive(Debug)]
struct EncodeError(String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

type Done = Result<(), EncodeError>;

impl Encoder {
    fn tag(&mut self, tag: u8) {
        self.hasher.bytes(&[tag]);
    }
    fn u64(&mut self, v: u64) {
        self.hasher.bytes(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.hasher.bytes(&v.to_le_bytes());
    }
    fn str(&mut self, v: &str) {
        self.u64(v.len() as u64);
        self.hasher.bytes(v.as_bytes());
    }
    fn f64(&mut self, v: f64) {
        let bits = if v.is_nan() {
            f64::NAN.to_bits()
        } else {
            v.to_bits()
        };
        self.u64(bits);
    }
    /// Begins a compound value (sequence, map, struct): one level deeper.
    fn open(&mut self, tag: u8) {
        self.tag(tag);
        self.depth += 1;
    }
    /// Ends the innermost compound value.
    fn close(&mut self) -> Done {
        self.depth = self.depth.saturating_sub(1);
        self.tag(tag::END);
        Ok(())
    }
    fn variant(&mut self, name: &str, variant: &str) {
        self.tag(tag::VARIANT);
        self.str(name);
        self.str(variant);
    }
}

impl ser::Serializer for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Done {
        self.hasher.bytes(&[u8::from(v)]);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Done {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Done {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Done {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Done {
        self.i64(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Done {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Done {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Done {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Done {
        self.u64(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Done {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Done {
        self.f64(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Done {
        self.serialize_u64(u64::from(u32::from(v)))
    }
    fn serialize_str(self, v: &str) -> Done {
        self.str(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Done {
        self.u64(v.len() as u64);
        self.hasher.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> Done {
        self.tag(tag::NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Done {
        self.tag(tag::SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Done {
        self.tag(tag::UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Done {
        self.tag(tag::UNIT);
        self.str(name);
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Done {
        self.variant(name, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Done {
        self.tag(tag::NEWTYPE);
        self.str(name);
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Done {
        self.variant(name, variant);
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, EncodeError> {
        self.open(tag::SEQ);
        Ok(self)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self, EncodeError> {
        self.open(tag::SEQ);
        Ok(self)
    }
    fn serialize_tuple_struct(self, name: &'static str, _len: usize) -> Result<Self, EncodeError> {
        self.open(tag::SEQ);
        self.str(name);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, EncodeError> {
        self.variant(name, variant);
        self.open(tag::SEQ);
        Ok(self)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self, EncodeError> {
        self.open(tag::MAP);
        Ok(self)
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Self, EncodeError> {
        self.open(tag::STRUCT);
        self.str(name);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, EncodeError> {
        self.variant(name, variant);
        self.open(tag::STRUCT);
        Ok(self)
    }
}

impl SerializeSeq for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.close()
    }
}

impl SerializeTuple for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.close()
    }
}

impl SerializeTupleStruct for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.close()
    }
}

impl SerializeTupleVariant for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.close()
    }
}

impl SerializeMap for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Done {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.close()
    }
}

impl SerializeStruct for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Done {
        if self.depth == 1 && self.skip.contains(&key) {
            return Ok(());
        }
        self.str(key);
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.close()
    }
}

impl SerializeStructVariant for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Done {
        self.str(key);
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::*;

    fn job() -> Job {
        Job {
            index: 3,
            hash: String::new(),
            experiment: "baseline".to_string(),
            swept: BTreeMap::from([("seed".to_string(), SweptValue::Int(3))]),
            dataset: DatasetSpec {
                name: "dummy".to_string(),
                kind: DatasetKind::Dummy,
                source: DataSource::Procedural,
                factors: vec![FactorSpec {
                    name: "a".to_string(),
                    size: 4,
                }],
                observation_shape: [64, 64, 1],
                complete_grid: true,
            },
            model: ModelSpec::Pca {
                components: 10,
                samples: 1000,
            },
            objective: vec![],
            train: TrainSpec {
                steps: 100,
                batch_size: 64,
                optimizer: Optimizer::Adam {
                    lr: 1e-4,
                    beta1: 0.9,
                    beta2: 0.999,
                    epsilon: 1e-8,
                },
                schedule: LrSchedule::Constant,
                seed: 3,
                checkpoint_every: 0,
                log_every: 10,
            },
            players: vec![],
            evaluate: EvalSpec {
                representations: vec![Representation::Mean],
                metrics: vec![MetricSpec::Mig {
                    num_train: 10_000,
                    batch_size: 16,
                    num_bins: 20,
                }],
                seed: 0,
                repeat_seeds: Vec::new(),
                visuals: Visuals {
                    reconstructions: 0,
                    samples: 0,
                    traversal_steps: 0,
                    traversal_limit: 2.0,
                },
            },
        }
    }

    #[test]
    fn fnv1a_matches_published_test_vectors() {
        // Vectors from the FNV reference (Fowler/Noll/Vo): "" and "a" and "foobar".
        for (text, expected) in [
            ("", 0xcbf2_9ce4_8422_2325u64),
            ("a", 0xaf63_dc4c_8601_ec8c),
            ("foobar", 0x8594_4171_f739_67e8),
        ] {
            let mut h = Fnv1a(FNV_OFFSET);
            h.bytes(text.as_bytes());
            assert_eq!(h.0, expected, "{text:?}");
        }
    }

    #[test]
    fn is_sixteen_hex_digits_and_ignores_index_and_hash() {
        let a = job();
        let h = job_hash(&a);
        assert_eq!(h.len(), 16);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let mut b = a.clone();
        b.index = 9999;
        b.hash = "0123456789abcdef".to_string();
        assert_eq!(job_hash(&b), h);
    }

    #[test]
    fn changes_with_any_content() {
        let h = job_hash(&job());
        let mut seed = job();
        seed.train.seed = 4;
        let mut lr = job();
        lr.train.optimizer = Optimizer::Adam {
            lr: 2e-4,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        };
        let mut swept = job();
        swept.swept.insert("beta".to_string(), SweptValue::Int(1));
        let mut name = job();
        name.experiment = "other".to_string();
        let hashes = [
            h.clone(),
            job_hash(&seed),
            job_hash(&lr),
            job_hash(&swept),
            job_hash(&name),
        ];
        let distinct: std::collections::BTreeSet<&String> = hashes.iter().collect();
        assert_eq!(distinct.len(), hashes.len(), "{hashes:?}");
    }

    #[test]
    fn encoding_is_unambiguous() {
        // Adjacent strings, options and nested sequences must not run together.
        assert_ne!(hash_value(&("ab", "c"), &[]), hash_value(&("a", "bc"), &[]));
        assert_ne!(
            hash_value(&(Some(0u32), None::<u32>), &[]),
            hash_value(&(None::<u32>, Some(0u32)), &[])
        );
        assert_ne!(
            hash_value(&vec![vec![1u32], vec![]], &[]),
            hash_value(&vec![vec![], vec![1u32]], &[])
        );
        // Integer widths do not matter, the value does; every NaN is the same value.
        assert_eq!(hash_value(&3u8, &[]), hash_value(&3u64, &[]));
        assert_eq!(hash_value(&f64::NAN, &[]), hash_value(&-f64::NAN, &[]));
        assert_ne!(hash_value(&0.0f64, &[]), hash_value(&-0.0f64, &[]));
    }

    #[test]
    fn only_top_level_index_and_hash_are_skipped() {
        // A nested field called `index` (here inside a tuple of jobs) is content, not identity.
        let (a, mut b) = (job(), job());
        b.index = 7;
        assert_eq!(
            hash_value(&a, &["index", "hash"]),
            hash_value(&b, &["index", "hash"])
        );
        assert_ne!(
            hash_value(&(a.clone(),), &["index"]),
            hash_value(&(b,), &["index"])
        );
        assert_ne!(hash_value(&a, &[]), hash_value(&a, &["index", "hash"]));
    }

    #[test]
    fn golden_value_is_stable() {
        // Pinned: if this changes, every job identity (and every result directory keyed by it)
        // changes too. Update only together with PLAN_VERSION.
        // (Plan version 5 gave the PCA job below its `samples`; the encoding is unchanged.)
        assert_eq!(job_hash(&job()), GOLDEN);
    }

    const GOLDEN: &str = "408d7aaebe8ba15f";
}
