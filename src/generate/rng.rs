//! Seeded pseudo-random numbers: SplitMix64 expands seeds, xoshiro256** draws.
//! Only integer and basic IEEE arithmetic is used, so a seed gives the same bytes on every platform.

/// Labels that keep the random streams of different purposes apart.
pub(crate) mod label {
    pub const TELEPHONY: u64 = 1;
    pub const FACE_TO_FACE: u64 = 2;
    pub const WEBFORMS: u64 = 3;
    pub const SATISFACTION: u64 = 4;
    /// Day-to-day volume noise (combined with a source label).
    pub const VOLUME: u64 = 10;
    /// Where the defects of a file go (combined with a source label and the file number).
    pub const DEFECTS: u64 = 11;
    /// Where each satisfaction file starts its systematic sample of Poor ratings.
    pub const RATINGS: u64 = 12;
    /// Who made each contact (see `customers`): combined with a source label and a day, or with
    /// 0, a service, a week and a slot for a returning customer's identity.
    pub const CUSTOMERS: u64 = 13;
    /// Advisers' wrap-up codes (see `telephony`), combined with a source label and a day.
    pub const REASONS: u64 = 14;
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// An independent stream for one purpose (e.g. seed, source, day). Rows are generated from
    /// streams keyed this way rather than one shared sequence, so a day's rows come out the same
    /// whichever file (or thread) generates them: that is what makes the overlap rows identical.
    pub(crate) fn stream(seed: u64, labels: &[u64]) -> Rng {
        let mut state = seed;
        let mut acc = splitmix64(&mut state);
        for &l in labels {
            let mut x = acc ^ l.wrapping_mul(0xD1B5_4A32_D192_ED03);
            acc = splitmix64(&mut x);
        }
        let mut st = acc;
        Rng {
            s: [
                splitmix64(&mut st),
                splitmix64(&mut st),
                splitmix64(&mut st),
                splitmix64(&mut st),
            ],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (0 when n is 0). Multiply-shift: the bias is below 2^-32 for our sizes.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items`, uniformly; `items` must not be empty.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Index drawn with the given (non-cumulative) weights; linear scan, our lists are short.
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Approximately standard normal: the sum of twelve 16-bit uniforms (Irwin-Hall) from three
    /// draws. Needs no `ln`/`cos`, whose results differ between platform maths libraries, and
    /// its tails stop at 6 sigma, which keeps durations plausible.
    pub(crate) fn normal(&mut self) -> f64 {
        let mut sum = 0u64;
        for _ in 0..3 {
            let x = self.next_u64();
            sum += (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
        }
        (sum as f64 + 6.0) / 65536.0 - 6.0
    }

    /// Log-normal with the given median and shape.
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }
}

/// `e^x` from basic arithmetic only (platform `exp` may differ in the last bit, which could flip
/// a rounded value and break byte-identical output across platforms). Accurate to ~1e-15 for
/// |x| < 700, far more than durations need.
pub(crate) fn exp(x: f64) -> f64 {
    let x = x.clamp(-700.0, 700.0);
    let k = (x * std::f64::consts::LOG2_E).round();
    let r = x - k * std::f64::consts::LN_2;
    // Taylor series of e^r for |r| <= ln2/2, Horner form.
    let mut p = 1.0;
    for i in (1..=14).rev() {
        p = 1.0 + r * p / f64::from(i);
    }
    let bits = ((k as i64 + 1023) as u64) << 52;
    p * f64::from_bits(bits)
}

/// `base^t` for positive base, via `exp` and a caller-supplied `ln(base)` constant.
pub(crate) fn pow_from_ln(ln_base: f64, t: f64) -> f64 {
    exp(ln_base * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| Rng::stream(42, &[1, 2]).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Rng::stream(42, &[1, 2]);
        let mut y = Rng::stream(42, &[2, 1]);
        assert_ne!(x.next_u64(), y.next_u64());
    }

    #[test]
    fn exp_matches_std_closely() {
        for i in -200..200 {
            let x = f64::from(i) / 13.0;
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-14, "exp({x}) off by {rel}");
        }
    }

    #[test]
    fn normal_has_unit_spread() {
        let mut r = Rng::stream(7, &[]);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
