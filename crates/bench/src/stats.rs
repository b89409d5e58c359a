//! The statistics of the harness: medians, distribution-free confidence intervals of a
//! median, and paired ratios of samples taken in the same round.
//!
//! Throughput samples on a shared machine are not normal: most land near the machine's rate
//! and a few land far below it (another tenant, the hypervisor), so a mean and a standard
//! deviation describe neither. The median does not care how far an outlier lies, and its
//! confidence interval needs no distribution: with `n` samples, the interval between the
//! `k`-th smallest and the `k`-th largest holds the true median with probability
//! `1 - 2 P(Binomial(n, 1/2) < k)`, whatever the samples' distribution.

/// The confidence a [`Estimate`]'s interval has at least.
pub const CONFIDENCE: f64 = 0.95;

/// The fewest samples for which a [`CONFIDENCE`] interval of the median exists (with 5, even
/// the smallest and largest bound it with only 94%).
pub const MIN_SAMPLES: usize = 6;

/// The median of sorted `v` (the mean of the middle two for an even count); 0 when empty.
pub fn median(v: &[f64]) -> f64 {
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `P(Binomial(n, 1/2) <= j)`.
fn binomial_cdf_half(n: usize, j: usize) -> f64 {
    // Terms C(n, i) / 2^n built up multiplicatively, so no factorial overflows.
    let mut term = 0.5f64.powi(n.min(i32::MAX as usize) as i32);
    let mut sum = 0.0;
    for i in 0..=j.min(n) {
        if i > 0 {
            term *= (n + 1 - i) as f64 / i as f64;
        }
        sum += term;
    }
    sum
}

/// The order statistic (1-based, from either end) whose pair bounds the median of `n` samples
/// with at least [`CONFIDENCE`]; `None` below [`MIN_SAMPLES`].
pub fn ci_rank(n: usize) -> Option<usize> {
    let alpha = (1.0 - CONFIDENCE) / 2.0;
    let mut k = 0;
    // The largest k with P(Bin(n, 1/2) <= k - 1) <= alpha.
    while k < n / 2 && binomial_cdf_half(n, k) <= alpha {
        k += 1;
    }
    (k >= 1).then_some(k)
}

/// A median with its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub median: f64,
    /// The interval's ends; `None` with fewer than [`MIN_SAMPLES`] samples.
    pub interval: Option<(f64, f64)>,
    pub samples: usize,
}

impl Estimate {
    /// The median of `values` and its interval (non-finite values are dropped).
    pub fn of(values: &[f64]) -> Estimate {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let interval = ci_rank(n).and_then(|k| Some((*v.get(k - 1)?, *v.get(n - k)?)));
        Estimate {
            median: median(&v),
            interval,
            samples: n,
        }
    }

    /// The interval's farther end from the median, relative to the median: `0.05` means the
    /// median is known to within ±5%. Infinite without an interval.
    pub fn half_width(&self) -> f64 {
        match self.interval {
            Some((lo, hi)) if self.median > 0.0 => {
                ((self.median - lo).max(hi - self.median) / self.median).max(0.0)
            }
            _ => f64::INFINITY,
        }
    }

    /// The interval's lower end (0 without one).
    pub fn lo(&self) -> f64 {
        self.interval.map_or(0.0, |i| i.0)
    }

    /// The interval's upper end (infinite without one).
    pub fn hi(&self) -> f64 {
        self.interval.map_or(f64::INFINITY, |i| i.1)
    }

    /// `1.23x (1.19-1.27)` or, without an interval, `1.23x (few samples)`.
    pub fn ratio_text(&self) -> String {
        match self.interval {
            Some((lo, hi)) => format!("{:.2}x ({lo:.2}-{hi:.2})", self.median),
            None => format!("{:.2}x (few samples)", self.median),
        }
    }
}

/// Ratios of the samples of `a` over those of `b` taken in the same round, in round order:
/// `a` and `b` are `(round, value)` pairs, each round at most once per side.
pub fn paired(a: &[(u32, f64)], b: &[(u32, f64)]) -> Vec<f64> {
    a.iter()
        .filter_map(|(round, x)| {
            let (_, y) = b.iter().find(|(r, _)| r == round)?;
            let q = x / y;
            (q.is_finite() && q > 0.0).then_some(q)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_an_even_count_is_the_middle_mean() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[1.0, 3.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
    }

    #[test]
    fn ranks_follow_the_binomial_tables() {
        // The textbook 95% ranks of the median (e.g. Conover, Practical Nonparametric
        // Statistics, table A3 read for p = 1/2).
        assert_eq!(ci_rank(5), None);
        assert_eq!(ci_rank(6), Some(1));
        assert_eq!(ci_rank(8), Some(1));
        assert_eq!(ci_rank(9), Some(2));
        assert_eq!(ci_rank(11), Some(2));
        assert_eq!(ci_rank(12), Some(3));
        assert_eq!(ci_rank(20), Some(6));
        assert_eq!(ci_rank(30), Some(10));
        for n in MIN_SAMPLES..200 {
            let k = ci_rank(n).expect("rank");
            let coverage = 1.0 - 2.0 * binomial_cdf_half(n, k - 1);
            assert!(coverage >= CONFIDENCE, "n {n}: {coverage}");
            // And k + 1 would not do.
            assert!(1.0 - 2.0 * binomial_cdf_half(n, k) < CONFIDENCE || k == n / 2);
        }
    }

    #[test]
    fn an_outlier_moves_neither_the_median_nor_the_interval_much() {
        let mut v: Vec<f64> = (0..12).map(|i| 100.0 + f64::from(i)).collect();
        let clean = Estimate::of(&v);
        assert_eq!(clean.interval, Some((102.0, 109.0)));
        v[0] = 1.0; // one sample hit by a slow spell
        let hit = Estimate::of(&v);
        assert_eq!(hit.interval, Some((102.0, 109.0)));
        assert_eq!(hit.median, clean.median);
        assert!((hit.half_width() - 3.5 / 105.5).abs() < 1e-12);
        assert_eq!(Estimate::of(&[1.0, 2.0]).half_width(), f64::INFINITY);
    }

    #[test]
    fn pairs_only_samples_of_the_same_round() {
        let a = [(0, 10.0), (1, 20.0), (3, 30.0)];
        let b = [(0, 5.0), (2, 7.0), (3, 10.0)];
        assert_eq!(paired(&a, &b), vec![2.0, 3.0]);
    }
}
