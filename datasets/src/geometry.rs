//! Platform-independent trigonometry for the procedural renderers.
//!
//! `f64::sin`/`cos` call the platform's libm, whose last bit may differ between machines; rendered
//! images would then differ at shape boundaries. Here sine and cosine are evaluated with a Taylor series
//! using only `+`, `−`, `×` and `÷`, which IEEE-754 rounds identically everywhere (Rust never fuses a
//! multiply-add on its own), so the same factors give the same image on every machine. Accuracy is a
//! few ulps, far below what a 64×64 raster can see. Nothing here may call a libm transcendental.

/// π to f64 precision.
pub(crate) const PI: f64 = std::f64::consts::PI;

/// `(sin θ, cos θ)` for `θ = 2π · numerator / denominator`, deterministic on every platform.
///
/// `denominator` must be positive; zero gives `(0, 1)`.
pub(crate) fn sin_cos_turns(numerator: f64, denominator: f64) -> (f64, f64) {
    if denominator == 0.0 {
        return (0.0, 1.0);
    }
    // Reduce the fraction of a turn to [-0.5, 0.5) exactly-ish, then to an angle in [-π, π).
    let turns = numerator / denominator;
    let reduced = turns - (turns + 0.5).floor();
    sin_cos_small(2.0 * PI * reduced)
}

/// `(sin x, cos x)` for `|x| ≤ π` by the Taylor series to 30 terms (the next term is below 1e-30).
fn sin_cos_small(x: f64) -> (f64, f64) {
    let x2 = x * x;
    let mut sin_term = x;
    let mut cos_term = 1.0;
    let mut sin = 0.0;
    let mut cos = 0.0;
    for k in 0..30u32 {
        sin += sin_term;
        cos += cos_term;
        let k = f64::from(k);
        sin_term = -sin_term * x2 / ((2.0 * k + 2.0) * (2.0 * k + 3.0));
        cos_term = -cos_term * x2 / ((2.0 * k + 1.0) * (2.0 * k + 2.0));
    }
    (sin, cos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_to_a_few_ulps() {
        // The libm values are accurate to < 1 ulp; the series accumulates a few roundings, so allow
        // 1e-14 absolute (values are at most 1).
        for k in -40..80 {
            let (s, c) = sin_cos_turns(f64::from(k), 40.0);
            let angle = 2.0 * PI * f64::from(k) / 40.0;
            assert!(
                (s - angle.sin()).abs() < 1e-14,
                "sin at {k}/40: {s} vs {}",
                angle.sin()
            );
            assert!(
                (c - angle.cos()).abs() < 1e-14,
                "cos at {k}/40: {c} vs {}",
                angle.cos()
            );
        }
        assert_eq!(sin_cos_turns(1.0, 0.0), (0.0, 1.0));
        let (s, c) = sin_cos_turns(1.0, 4.0);
        assert!((s - 1.0).abs() < 1e-15 && c.abs() < 1e-15);
    }
}
