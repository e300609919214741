//! The one random number generator of the project: numpy's legacy `RandomState` (MT19937).
//!
//! Every draw in data sampling and metrics goes through [`RandomState`] so that the reference's
//! streams can be reproduced bit for bit (reference §9.1): the same seeding (`init_genrand`), the same
//! 53-bit doubles, the same masked rejection in `randint`, the same polar Box–Muller with a cached
//! second value, and the same Fisher–Yates-from-the-end shuffle. Goldens printed by real numpy are in
//! the tests below.
//!
//! This module must not grow a second source of randomness (no `rand` crate, no thread RNG), and must
//! not change the order or number of words a method consumes: callers rely on it to stay in step with
//! numpy.

use serde::{Deserialize, Serialize};

/// Number of 32-bit words of MT19937 state.
const STATE_LEN: usize = 624;
/// Half the period parameter `M` of MT19937.
const SHIFT_M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// numpy's legacy `numpy.random.RandomState`, seeded with a 32-bit integer.
///
/// Serialisable (checkpoints store it to resume the exact stream). The serialised form holds the 624
/// state words, the position in them and the cached Gaussian; deserialising checks the lengths and
/// bounds, so a corrupted checkpoint gives an error rather than a panic later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StateRepr", into = "StateRepr")]
pub struct RandomState {
    /// The MT19937 state words. INVARIANT: exactly `STATE_LEN` long.
    key: Box<[u32; STATE_LEN]>,
    /// Index of the next word to temper; `STATE_LEN` means "regenerate first".
    /// INVARIANT: `pos <= STATE_LEN`.
    pos: usize,
    /// The second value of the last polar Box–Muller pair, returned by the next `standard_normal`.
    cached_gauss: Option<f64>,
}

/// Plain serde form of [`RandomState`], validated on the way in.
#[derive(Serialize, Deserialize)]
struct StateRepr {
    key: Vec<u32>,
    pos: usize,
    cached_gauss: Option<f64>,
}

/// A serialised [`RandomState`] that cannot be a valid MT19937 state.
#[derive(Debug, thiserror::Error)]
pub enum RandomStateError {
    /// The state vector does not have 624 words.
    #[error("random state has {found} state words, expected {STATE_LEN}")]
    StateLength {
        /// Number of words found.
        found: usize,
    },
    /// The position is past the end of the state.
    #[error("random state position {found} is past the end of the {STATE_LEN}-word state")]
    Position {
        /// The position found.
        found: usize,
    },
}

impl TryFrom<StateRepr> for RandomState {
    type Error = RandomStateError;
    fn try_from(repr: StateRepr) -> Result<Self, Self::Error> {
        let found = repr.key.len();
        let key: Box<[u32; STATE_LEN]> = repr
            .key
            .into_boxed_slice()
            .try_into()
            .map_err(|_| RandomStateError::StateLength { found })?;
        if repr.pos > STATE_LEN {
            return Err(RandomStateError::Position { found: repr.pos });
        }
        Ok(RandomState {
            key,
            pos: repr.pos,
            cached_gauss: repr.cached_gauss,
        })
    }
}

impl From<RandomState> for StateRepr {
    fn from(state: RandomState) -> Self {
        StateRepr {
            key: state.key.to_vec(),
            pos: state.pos,
            cached_gauss: state.cached_gauss,
        }
    }
}

impl RandomState {
    /// `numpy.random.RandomState(seed)`: MT19937 `init_genrand(seed)`.
    pub fn new(seed: u32) -> Self {
        let mut key = Box::new([0u32; STATE_LEN]);
        let mut value = seed;
        for (pos, word) in key.iter_mut().enumerate() {
            *word = value;
            // pos < 624, so the cast is exact.
            value = 1_812_433_253u32
                .wrapping_mul(value ^ (value >> 30))
                .wrapping_add(pos as u32 + 1);
        }
        RandomState {
            key,
            pos: STATE_LEN,
            cached_gauss: None,
        }
    }

    /// Regenerates all 624 words (the MT19937 "twist"), in the usual three runs so that no index
    /// needs a modulo (this loop is the cost of every draw; Noisy-dSprites draws 24,576 words an image).
    fn twist(&mut self) {
        #[inline(always)]
        fn mix(upper: u32, lower: u32, far: u32) -> u32 {
            let y = (upper & UPPER_MASK) | (lower & LOWER_MASK);
            far ^ (y >> 1) ^ (if y & 1 == 1 { MATRIX_A } else { 0 })
        }
        let key = &mut *self.key;
        for i in 0..STATE_LEN - SHIFT_M {
            key[i] = mix(key[i], key[i + 1], key[i + SHIFT_M]);
        }
        for i in STATE_LEN - SHIFT_M..STATE_LEN - 1 {
            key[i] = mix(key[i], key[i + 1], key[i + SHIFT_M - STATE_LEN]);
        }
        key[STATE_LEN - 1] = mix(key[STATE_LEN - 1], key[0], key[SHIFT_M - 1]);
        self.pos = 0;
    }

    /// The next raw 32-bit output (numpy's `next_uint32`).
    #[inline]
    fn next_u32(&mut self) -> u32 {
        if self.pos >= STATE_LEN {
            self.twist();
        }
        // INVARIANT: pos < STATE_LEN after the twist above.
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// The next raw 64-bit output: the first 32-bit word is the high half (numpy's `mt19937_next64`).
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        let low = u64::from(self.next_u32());
        (high << 32) | low
    }

    /// `randint(2**32)`: one raw 32-bit word, as `train.py` draws its stream seeds (reference §1.9).
    pub fn randint_u32(&mut self) -> u32 {
        self.next_u32()
    }

    /// `random_sample()`: a double in [0, 1) with 53 random bits, from two 32-bit words.
    #[inline]
    pub fn random_sample(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// `uniform(low, high)`: `low + (high - low) * random_sample()`.
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random_sample()
    }

    /// `standard_normal()`: legacy polar Box–Muller. Each pair of accepted uniforms yields two
    /// normals; the second is cached and returned by the next call without consuming words.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(cached) = self.cached_gauss.take() {
            return cached;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.cached_gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `normal(loc, scale)`: `loc + scale * standard_normal()`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// `randint(low, high)`: one integer in `[low, high)` by legacy masked rejection sampling.
    ///
    /// A range of one value (`high == low + 1`) consumes no words, as numpy (reference §9.1). An
    /// empty range (`high <= low`), which numpy rejects with a `ValueError`, returns `low` and consumes
    /// nothing; callers validate sizes (e.g. [`crate::FactorSpace::new`]) so it does not arise.
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        // The inclusive span, as numpy: `rng = (high - 1) - low`, computed in wrapping u64 so that the
        // full i64 range works too.
        let span = (high as u64).wrapping_sub(1).wrapping_sub(low as u64);
        (low as u64).wrapping_add(self.bounded_u64(span)) as i64
    }

    /// A value in `[0, span]` by numpy's `random_bounded_uint64` with `use_masked=True`.
    #[inline]
    fn bounded_u64(&mut self, span: u64) -> u64 {
        if span == 0 {
            0
        } else if span == u64::from(u32::MAX) {
            u64::from(self.next_u32())
        } else if span < u64::from(u32::MAX) {
            // span fits in u32 here.
            let span32 = span as u32;
            let mask = mask_for(span) as u32;
            loop {
                let value = self.next_u32() & mask;
                if value <= span32 {
                    return u64::from(value);
                }
            }
        } else if span == u64::MAX {
            self.next_u64()
        } else {
            let mask = mask_for(span);
            loop {
                let value = self.next_u64() & mask;
                if value <= span {
                    return value;
                }
            }
        }
    }

    /// `random_integers(low, high)`: one integer in `[low, high]` inclusive, i.e. `randint(low, high + 1)`.
    pub fn random_integers(&mut self, low: i64, high: i64) -> i64 {
        self.randint(low, high.saturating_add(1))
    }

    /// numpy's `random_interval(max)`: a value in `[0, max]`, used by the legacy shuffle. Differs from
    /// `randint` only in using 64-bit words as soon as `max` does not fit in 32 bits.
    #[inline]
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = mask_for(max);
        if max <= u64::from(u32::MAX) {
            loop {
                let value = u64::from(self.next_u32()) & mask;
                if value <= max {
                    return value;
                }
            }
        } else {
            loop {
                let value = self.next_u64() & mask;
                if value <= max {
                    return value;
                }
            }
        }
    }

    /// `shuffle(xs)` in place: for `i` from `n-1` down to 1, swap `xs[i]` with `xs[random_interval(i)]`.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            // j <= i < len, so the cast back to usize and the swap are in bounds.
            let j = self.interval(i as u64) as usize;
            xs.swap(i, j);
        }
    }

    /// `permutation(n)`: a shuffled `arange(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut values: Vec<usize> = (0..n).collect();
        self.shuffle(&mut values);
        values
    }
}

/// The smallest `2^k - 1` that is `>= value`.
#[inline]
fn mask_for(value: u64) -> u64 {
    if value == 0 {
        0
    } else {
        u64::MAX >> value.leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    //! Goldens printed by numpy 2.4.6 (`numpy.random.RandomState`, legacy MT19937). Each block names the
    //! Python that produced it. Integers compare exactly; doubles compare exactly too, because every
    //! step (53-bit composition, polar Box–Muller with glibc's `log`/`sqrt`) is the same IEEE-754
    //! arithmetic in the same order.
    use super::RandomState;

    fn draws<T>(seed: u32, n: usize, mut f: impl FnMut(&mut RandomState) -> T) -> Vec<T> {
        let mut rs = RandomState::new(seed);
        (0..n).map(|_| f(&mut rs)).collect()
    }

    #[test]
    fn randint_2_pow_32_matches_train_py_seeds() {
        // r = np.random.RandomState(0); [r.randint(2**32) for _ in range(3)]
        assert_eq!(
            draws(0, 3, |r| r.randint_u32()),
            vec![2357136044, 2546248239, 3071714933]
        );
        // Same draws through the general path: a span of exactly 2^32 - 1.
        assert_eq!(
            draws(0, 2, |r| r.randint(0, 1 << 32)),
            vec![2357136044, 2546248239]
        );
        // r = np.random.RandomState(2**32-1); [r.randint(2**32) for _ in range(3)]
        assert_eq!(
            draws(u32::MAX, 3, |r| r.randint_u32()),
            vec![419326371, 479346978, 3918654476]
        );
    }

    #[test]
    fn randint_small_ranges() {
        // r = np.random.RandomState(0); [r.randint(10) for _ in range(10)]
        assert_eq!(
            draws(0, 10, |r| r.randint(0, 10)),
            vec![5, 0, 3, 3, 7, 9, 3, 5, 2, 4]
        );
        // r = np.random.RandomState(0); [r.randint(-5, 7) for _ in range(8)]
        assert_eq!(
            draws(0, 8, |r| r.randint(-5, 7)),
            vec![0, -5, -2, 6, -2, 2, 4, -2]
        );
        // r = np.random.RandomState(0); [r.randint(737280) for _ in range(5)]
        assert_eq!(
            draws(0, 5, |r| r.randint(0, 737_280)),
            vec![305711, 435829, 117952, 152315, 359783]
        );
        // r = np.random.RandomState(2**32-1); [r.randint(6) for _ in range(10)]
        assert_eq!(
            draws(u32::MAX, 10, |r| r.randint(0, 6)),
            vec![3, 2, 4, 4, 0, 2, 1, 0, 3, 2]
        );
    }

    #[test]
    fn randint_of_one_value_consumes_nothing() {
        // r = np.random.RandomState(0); [r.randint(1), r.randint(3), r.randint(1), r.randint(3)]
        let mut rs = RandomState::new(0);
        let got = [
            rs.randint(0, 1),
            rs.randint(0, 3),
            rs.randint(0, 1),
            rs.randint(0, 3),
        ];
        assert_eq!(got, [0, 0, 0, 1]);
    }

    #[test]
    fn randint_wide_ranges_use_64_bit_words() {
        // r = np.random.RandomState(0); [r.randint(0, 2**40) for _ in range(4)]
        assert_eq!(
            draws(0, 4, |r| r.randint(0, 1 << 40)),
            vec![741280623151, 506137267392, 291447657211, 841157541223]
        );
        // r = np.random.RandomState(0); [r.randint(0, 3*2**31) for _ in range(4)]
        assert_eq!(
            draws(0, 4, |r| r.randint(0, 3 << 31)),
            vec![2546248239, 5945874162, 1277901399, 243580376]
        );
    }

    #[test]
    fn array_randint_is_repeated_scalar_randint() {
        // r = np.random.RandomState(0); r.randint(3, size=5), r.randint(40, size=5)
        let mut rs = RandomState::new(0);
        let a: Vec<i64> = (0..5).map(|_| rs.randint(0, 3)).collect();
        let b: Vec<i64> = (0..5).map(|_| rs.randint(0, 40)).collect();
        assert_eq!(a, vec![0, 1, 0, 1, 1]);
        assert_eq!(b, vec![36, 23, 6, 24, 24]);
    }

    #[test]
    fn random_sample_and_uniform() {
        // r = np.random.RandomState(0); [r.random_sample() for _ in range(4)]
        assert_eq!(
            draws(0, 4, |r| r.random_sample()),
            vec![
                0.5488135039273248,
                0.7151893663724195,
                0.6027633760716439,
                0.5448831829968969
            ]
        );
        // r = np.random.RandomState(2**32-1); [r.random_sample() for _ in range(3)]
        assert_eq!(
            draws(u32::MAX, 3, |r| r.random_sample()),
            vec![0.0976320289940138, 0.9123828453026218, 0.78903530185164]
        );
        // r = np.random.RandomState(0); [r.uniform(0.5, 1) for _ in range(4)]
        assert_eq!(
            draws(0, 4, |r| r.uniform(0.5, 1.0)),
            vec![
                0.7744067519636624,
                0.8575946831862098,
                0.801381688035822,
                0.7724415914984484
            ]
        );
    }

    #[test]
    fn standard_normal_polar_with_cache() {
        // r = np.random.RandomState(0); [r.standard_normal() for _ in range(5)]
        let got = draws(0, 5, |r| r.standard_normal());
        let want = [
            1.764052345967664,
            0.4001572083672233,
            0.9787379841057392,
            2.240893199201458,
            1.8675579901499675,
        ];
        for (g, w) in got.iter().zip(want) {
            // Exact in practice; allow one ulp in case a libm rounds `log` differently.
            assert!((g - w).abs() <= w.abs() * f64::EPSILON, "{g} vs {w}");
        }
        // r = np.random.RandomState(2**32-1); [r.standard_normal() for _ in range(3)]
        let got = draws(u32::MAX, 3, |r| r.standard_normal());
        let want = [0.6484086742306527, 0.6693235306338161, -1.0805437227474493];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= w.abs() * f64::EPSILON, "{g} vs {w}");
        }
    }

    #[test]
    fn cached_normal_survives_interleaved_integer_draws() {
        // r = np.random.RandomState(0)
        // r.standard_normal(), r.randint(100), r.standard_normal(), r.standard_normal()
        // -> 1.764052345967664, 67, 0.4001572083672233, 0.07085925794500358
        let mut rs = RandomState::new(0);
        let a = rs.standard_normal();
        let k = rs.randint(0, 100);
        let b = rs.standard_normal();
        let c = rs.standard_normal();
        assert!((a - 1.764052345967664).abs() <= 4e-16);
        assert_eq!(k, 67);
        assert!((b - 0.4001572083672233).abs() <= 1e-16);
        assert!((c - 0.07085925794500358).abs() <= 1e-16);
    }

    #[test]
    fn random_integers_is_inclusive() {
        // r = np.random.RandomState(0); [r.random_integers(10) for _ in range(10)]
        assert_eq!(
            draws(0, 10, |r| r.random_integers(1, 10)),
            vec![6, 1, 4, 4, 8, 10, 4, 6, 3, 5]
        );
    }

    #[test]
    fn shuffle_and_permutation() {
        // r = np.random.RandomState(0); x = list(range(10)); r.shuffle(x); x
        let mut rs = RandomState::new(0);
        let mut xs: Vec<u8> = (0..10).collect();
        rs.shuffle(&mut xs);
        assert_eq!(xs, vec![2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
        // r = np.random.RandomState(0); r.permutation(20)
        assert_eq!(
            RandomState::new(0).permutation(20),
            vec![
                18, 1, 19, 8, 10, 17, 6, 13, 4, 2, 5, 14, 9, 7, 16, 11, 3, 0, 15, 12
            ]
        );
        // r = np.random.RandomState(2**32-1); r.permutation(7)
        assert_eq!(
            RandomState::new(u32::MAX).permutation(7),
            vec![1, 5, 0, 6, 4, 2, 3]
        );
        // Degenerate lengths consume nothing.
        let mut rs = RandomState::new(0);
        rs.shuffle::<u8>(&mut []);
        rs.shuffle(&mut [7u8]);
        assert_eq!(rs.randint_u32(), 2357136044);
    }

    #[test]
    fn stream_past_one_twist() {
        // r = np.random.RandomState(42); [r.randint(2**32) for _ in range(1000)];
        // [r.randint(2**32) for _ in range(2)]
        let mut rs = RandomState::new(42);
        for _ in 0..1000 {
            rs.randint_u32();
        }
        assert_eq!(
            [rs.randint_u32(), rs.randint_u32()],
            [2998581749, 138795966]
        );
    }

    #[test]
    fn serde_round_trip_resumes_the_stream() {
        let mut rs = RandomState::new(7);
        rs.standard_normal(); // leaves a cached value
        for _ in 0..700 {
            rs.randint_u32();
        }
        let json = serde_json::to_string(&rs).expect("serialising plain data");
        let mut back: RandomState = serde_json::from_str(&json).expect("own output deserialises");
        assert_eq!(back, rs);
        let a: Vec<f64> = (0..5).map(|_| rs.standard_normal()).collect();
        let b: Vec<f64> = (0..5).map(|_| back.standard_normal()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn corrupted_state_is_an_error() {
        let short = r#"{"key":[1,2,3],"pos":0,"cached_gauss":null}"#;
        let err = serde_json::from_str::<RandomState>(short).expect_err("3 words is not a state");
        assert!(err.to_string().contains("3 state words"), "{err}");
        let json = serde_json::to_string(&RandomState::new(1)).expect("plain data");
        let bad_pos = json.replace("\"pos\":624", "\"pos\":625");
        assert_ne!(bad_pos, json);
        let err = serde_json::from_str::<RandomState>(&bad_pos).expect_err("625 is past the end");
        assert!(err.to_string().contains("position 625"), "{err}");
    }
}
