//! Statistics for equality breakdowns on aggregated counts: Wilson intervals, group-vs-rest tests
//! and multiple-comparison corrections. Plain Rust on small tables: no polars, no I/O, no rounding.

use std::f64::consts::PI;

use crate::config::Correction;

/// Which test [`two_proportion_test`] used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestMethod {
    /// Fisher's exact test, two-sided: used when an expected cell count is below 5.
    FisherExact,
    /// The pooled two-proportion z test, two-sided.
    TwoProportionZ,
}

/// The outcome of comparing two proportions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// Two-sided p-value, before any correction for multiple comparisons.
    pub p_value: f64,
    pub method: TestMethod,
    /// `(x1 / n1 - x2 / n2) * 100`: the first group's rate minus the second's, in percentage points.
    pub difference_pp: f64,
}

/// Tests whether `x1` of `n1` differs from `x2` of `n2`, e.g. one group against the rest.
///
/// Uses Fisher's exact test when any expected cell count of the 2x2 table is below 5 (where the
/// normal approximation is poor), otherwise the pooled two-proportion z test. Correct the p-values
/// of a set of comparisons with [`Correction::adjust`] before flagging any.
/// `None` when either `n` is 0 or a count exceeds its `n`.
pub fn two_proportion_test(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<TestResult> {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let difference = x1 as f64 / n1f - x2 as f64 / n2f;
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let smallest_expected = n1f.min(n2f) * pooled.min(1.0 - pooled);
    let (p_value, method) = if smallest_expected < 5.0 {
        let p = fisher_exact_two_sided(x1, n1 - x1, x2, n2 - x2);
        (p, TestMethod::FisherExact)
    } else {
        // pooled is strictly inside 0..1 here (else an expected count would be 0), so se > 0.
        let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
        let z = difference / se;
        (
            erfc(z.abs() / std::f64::consts::SQRT_2),
            TestMethod::TwoProportionZ,
        )
    };
    Some(TestResult {
        p_value: p_value.min(1.0),
        method,
        difference_pp: difference * 100.0,
    })
}

/// The arithmetic of the correction chosen in the pipeline file (`equality.correction`; the
/// setting itself is [`crate::config::Correction`]).
impl Correction {
    /// Adjusted p-values in the input order.
    pub fn adjust(self, p_values: &[f64]) -> Vec<f64> {
        match self {
            Correction::Holm => holm(p_values),
            Correction::BenjaminiHochberg => benjamini_hochberg(p_values),
        }
    }

    /// The name to print beside adjusted p-values.
    pub fn name(self) -> &'static str {
        match self {
            Correction::Holm => "Holm",
            Correction::BenjaminiHochberg => "Benjamini-Hochberg",
        }
    }
}

/// Holm's step-down adjusted p-values, in the input order, monotone and capped at 1.
///
/// Controls the family-wise error rate like Bonferroni but is never less powerful.
/// A NaN p-value stays NaN and does not count towards the number of tests (as R's `p.adjust`).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let order = ascending_order(p_values);
    let m = order.len() as f64;
    let mut adjusted = vec![f64::NAN; p_values.len()];
    let mut running_max = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        running_max = running_max.max((m - rank as f64) * p_values[i]);
        adjusted[i] = running_max.min(1.0);
    }
    adjusted
}

/// Benjamini-Hochberg step-up adjusted p-values ("q-values"), in the input order, monotone and
/// capped at 1.
///
/// Controls the false discovery rate. A NaN p-value stays NaN and does not count towards the
/// number of tests (as R's `p.adjust`).
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let order = ascending_order(p_values);
    let m = order.len() as f64;
    let mut adjusted = vec![f64::NAN; p_values.len()];
    let mut running_min = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running_min = running_min.min(m / (rank as f64 + 1.0) * p_values[i]);
        adjusted[i] = running_min;
    }
    adjusted
}

/// Indices of the non-NaN p-values, smallest p first (ties keep input order).
fn ascending_order(p_values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p_values.len())
        .filter(|&i| !p_values[i].is_nan())
        .collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    order
}

/// The standard normal quantile: defined with the other shared measures.
pub use crate::measures::normal_quantile;

/// The complementary error function, relative error about 1e-13 or better.
///
/// Below 2 it uses the all-positive series erf(x) = 2/sqrt(pi) e^(-x^2) sum 2^k x^(2k+1) / (2k+1)!!
/// (no cancellation); from 2 up, the Laplace continued fraction, which keeps the tiny tail values
/// relatively accurate where 1 - erf(x) would lose them.
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        let mut term = x;
        let mut sum = x;
        let mut k = 0.0;
        while term > sum * 1e-17 {
            k += 1.0;
            term *= 2.0 * x * x / (2.0 * k + 1.0);
            sum += term;
        }
        return 1.0 - 2.0 / PI.sqrt() * (-x * x).exp() * sum;
    }
    // erfc(x) = e^(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), evaluated by
    // the modified Lentz method; about 60 terms at x = 2, fewer beyond.
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for j in 1..1000 {
        let a = j as f64 / 2.0;
        d = 1.0 / (x + a * d);
        c = x + a / c;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / PI.sqrt() / f
}

/// Fisher's exact test on the 2x2 table [[a, b], [c, d]], two-sided: the total probability of the
/// tables with the same margins that are no more likely than the one observed.
///
/// The relative tolerance of 1e-7 (as R's `fisher.test`) keeps tables exactly as likely as the
/// observed one from being dropped for rounding.
fn fisher_exact_two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let row1 = a + b;
    let row2 = c + d;
    let col1 = a + c;
    let n = row1 + row2;
    // log of the constant part of the hypergeometric probability: row1! row2! col1! col2! / n!
    let log_margins =
        ln_factorial(row1) + ln_factorial(row2) + ln_factorial(col1) + ln_factorial(n - col1)
            - ln_factorial(n);
    // k successes in row 1 fixes the whole table.
    let log_probability = |k: u64| {
        log_margins
            - ln_factorial(k)
            - ln_factorial(row1 - k)
            - ln_factorial(col1 - k)
            - ln_factorial(row2 + k - col1)
    };
    let observed = log_probability(a);
    let threshold = observed + 1e-7_f64.ln_1p();
    let low = col1.saturating_sub(row2);
    let high = row1.min(col1);
    let p: f64 = (low..=high)
        .map(log_probability)
        .filter(|&lp| lp <= threshold)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

/// ln(n!): summed exactly for small n, Stirling's series beyond (error below 1e-16 from n = 32).
fn ln_factorial(n: u64) -> f64 {
    if n < 32 {
        return (2..=n).map(|k| (k as f64).ln()).sum();
    }
    let x = n as f64;
    let inverse = 1.0 / x;
    let inverse2 = inverse * inverse;
    let correction = inverse
        * (1.0 / 12.0 - inverse2 * (1.0 / 360.0 - inverse2 * (1.0 / 1260.0 - inverse2 / 1680.0)));
    x * x.ln() - x + 0.5 * (2.0 * PI * x).ln() + correction
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn normal_quantile_matches_published_values() {
        // Standard tables: z(0.975) = 1.959963985, z(0.995) = 2.575829304, z(0.001) = -3.090232306.
        assert_close(normal_quantile(0.975).unwrap(), 1.959963985, 1e-8);
        assert_close(normal_quantile(0.025).unwrap(), -1.959963985, 1e-8);
        assert_close(normal_quantile(0.995).unwrap(), 2.575829304, 1e-8);
        assert_close(normal_quantile(0.001).unwrap(), -3.090232306, 1e-8);
        assert_close(normal_quantile(0.2).unwrap(), -0.841621234, 1e-8);
        assert_eq!(normal_quantile(0.5), Some(0.0));
        // The far tail (third branch of AS241): z(1e-20) = -9.262340090 (Python's NormalDist, also
        // AS241, so this guards the transcription of the coefficients rather than the algorithm).
        assert_close(normal_quantile(1e-20).unwrap(), -9.262340090, 1e-8);
        assert_eq!(normal_quantile(0.0), None);
        assert_eq!(normal_quantile(1.0), None);
        assert_eq!(normal_quantile(f64::NAN), None);
    }

    #[test]
    fn erfc_matches_reference_values() {
        // Reference values from the C library's erfc (via Python's math.erfc), 12 significant figures.
        for (x, expected) in [
            (0.0, 1.0),
            (0.3, 0.671373240541),
            (1.0, 0.157299207050),
            (1.9, 7.20957076474e-3),
            (2.0, 4.67773498105e-3),
            (2.5, 4.06952017445e-4),
            (5.0, 1.53745979443e-12),
            (-1.0, 1.842700792950),
        ] {
            assert_close(erfc(x) / expected, 1.0, 1e-10);
        }
    }

    #[test]
    fn seed_004_age_groups_overlap_and_do_not_differ() {
        // Seed 004: 35-44 "55% of 29" (16/29) and 45-54 "54% of 48" (26/48).
        // Their Wilson intervals (checked in `measures`) overlap almost entirely, so the table
        // must not read them as different.
        // Pooled p = 42/77 = 0.5455; se = sqrt(0.5455 * 0.4545 * (1/29 + 1/48)) = 0.1171;
        // z = (0.5517 - 0.5417) / 0.1171 = 0.0859; two-sided p = 0.9316.
        let result = two_proportion_test(16, 29, 26, 48).unwrap();
        assert_eq!(result.method, TestMethod::TwoProportionZ);
        assert_close(result.p_value, 0.9316, 0.0001);
        assert_close(result.difference_pp, 1.0057, 0.0001);
    }

    #[test]
    fn fisher_tea_tasting() {
        // Fisher's lady tasting tea, [[3, 1], [1, 3]]: tables with a = 0, 1, 3, 4 have probability
        // 1/70, 16/70, 16/70, 1/70 and a = 2 has 36/70, so the two-sided p = 34/70 = 0.4857.
        // Expected counts are 2, so the public test must choose Fisher.
        let result = two_proportion_test(3, 4, 1, 4).unwrap();
        assert_eq!(result.method, TestMethod::FisherExact);
        assert_close(result.p_value, 34.0 / 70.0, 1e-12);
        assert_close(result.difference_pp, 50.0, 1e-12);
    }

    #[test]
    fn fisher_matches_r() {
        // R: fisher.test(matrix(c(1, 11, 9, 3), 2))$p.value = 0.002759456.
        assert_close(fisher_exact_two_sided(1, 9, 11, 3), 0.002759456, 1e-9);
        // The observed table is the most likely one: p = 1 (R gives 1).
        assert_close(fisher_exact_two_sided(0, 5, 4, 20), 1.0, 1e-12);
    }

    #[test]
    fn fisher_with_large_counts() {
        // 2 of 30,000 against 12 of 30,000: expected counts 7 would use z, so call Fisher directly.
        // Exact value by rational arithmetic (Python fractions, sum of hypergeometric terms no
        // larger than the observed): 0.0129294572328.
        assert_close(
            fisher_exact_two_sided(2, 29_998, 12, 29_988),
            0.0129294572328,
            1e-10,
        );
        // A small group against a large rest goes to Fisher through the public function.
        let result = two_proportion_test(1, 6, 300, 30_000).unwrap();
        assert_eq!(result.method, TestMethod::FisherExact);
        assert!(result.p_value > 0.0 && result.p_value <= 1.0);
    }

    #[test]
    fn z_test_by_hand() {
        // 45/100 against 30/100: pooled p = 75/200 = 0.375,
        // se = sqrt(0.375 * 0.625 * (1/100 + 1/100)) = 0.068465,
        // z = 0.15 / 0.068465 = 2.1909, two-sided p = erfc(2.1909 / sqrt 2) = 0.02846.
        let result = two_proportion_test(45, 100, 30, 100).unwrap();
        assert_eq!(result.method, TestMethod::TwoProportionZ);
        assert_close(result.p_value, 0.02846, 0.00001);
        assert_close(result.difference_pp, 15.0, 1e-9);
        // The test is symmetric apart from the sign of the difference.
        let swapped = two_proportion_test(30, 100, 45, 100).unwrap();
        assert_close(swapped.p_value, result.p_value, 1e-15);
        assert_close(swapped.difference_pp, -15.0, 1e-9);
    }

    #[test]
    fn two_proportion_test_rejects_empty_groups() {
        assert_eq!(two_proportion_test(0, 0, 3, 10), None);
        assert_eq!(two_proportion_test(3, 10, 0, 0), None);
        assert_eq!(two_proportion_test(11, 10, 3, 10), None);
    }

    #[test]
    fn holm_by_hand() {
        // p = [0.01, 0.04, 0.03, 0.005], m = 4. Sorted: 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1
        // = 0.02, 0.03, 0.06, 0.04; running max = 0.02, 0.03, 0.06, 0.06.
        // Back in input order: [0.03, 0.06, 0.06, 0.02].
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        for (a, e) in adjusted.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert_close(*a, e, 1e-12);
        }
        // Capped at 1.
        assert_eq!(holm(&[0.6, 0.7]), vec![1.0, 1.0]);
    }

    #[test]
    fn benjamini_hochberg_by_hand() {
        // Sorted p with rank k: 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4); p * 4 / k = 0.02, 0.02,
        // 0.04, 0.04; running min from the largest down: 0.04, 0.04, 0.02, 0.02.
        // Back in input order: [0.02, 0.04, 0.04, 0.02].
        let adjusted = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005]);
        for (a, e) in adjusted.iter().zip([0.02, 0.04, 0.04, 0.02]) {
            assert_close(*a, e, 1e-12);
        }
        // Step-up monotonicity: [0.04, 0.05] -> 0.04 * 2 = 0.08 is lowered to 0.05.
        assert_eq!(benjamini_hochberg(&[0.04, 0.05]), vec![0.05, 0.05]);
    }

    #[test]
    fn corrections_skip_nan_and_empty_input() {
        // NaN neither counts as a test nor gets a value, as R's p.adjust: m = 2 here.
        let adjusted = holm(&[0.01, f64::NAN, 0.04]);
        assert_close(adjusted[0], 0.02, 1e-12);
        assert!(adjusted[1].is_nan());
        assert_close(adjusted[2], 0.04, 1e-12);
        assert!(benjamini_hochberg(&[]).is_empty());
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn correction_dispatch_and_names() {
        let p = [0.01, 0.04, 0.03, 0.005];
        assert_eq!(Correction::Holm.adjust(&p), holm(&p));
        assert_eq!(
            Correction::BenjaminiHochberg.adjust(&p),
            benjamini_hochberg(&p)
        );
        assert_eq!(Correction::Holm.name(), "Holm");
        assert_eq!(Correction::BenjaminiHochberg.name(), "Benjamini-Hochberg");
    }
}
