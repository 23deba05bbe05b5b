//! Percentile summaries of a latency histogram.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The headline numbers of one latency histogram, all in microseconds.
///
/// Percentiles are HdrHistogram's "highest equivalent value" at the quantile, so
/// they never under-report by more than the histogram's 0.1 % resolution. An
/// empty histogram summarises to all zeros with `count == 0`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Smallest sample (µs).
    pub min: u64,
    /// Median (µs).
    pub p50: u64,
    /// 90th percentile (µs).
    pub p90: u64,
    /// 99th percentile (µs).
    pub p99: u64,
    /// 99.9th percentile (µs).
    pub p999: u64,
    /// Largest sample (µs).
    pub max: u64,
    /// Arithmetic mean (µs).
    pub mean: f64,
}

impl LatencySummary {
    /// Summarises `h`.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        // One pass over the counts for all four quantiles.
        let mut q = h.value_at_quantiles([0.50, 0.90, 0.99, 0.999]);
        let mut next = || q.next().expect("one value per ascending quantile");
        let (p50, p90, p99, p999) = (next(), next(), next(), next());
        LatencySummary {
            count: h.len(),
            min: h.min(),
            p50,
            p90,
            p99,
            p999,
            max: h.max(),
            mean: h.mean(),
        }
    }

    /// Bytes of [`LatencySummary::to_bytes`].
    pub const BYTES: usize = 64;

    /// The summary as 64 bytes (eight little-endian words, in field order),
    /// for the spill file.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let words = [
            self.count,
            self.min,
            self.p50,
            self.p90,
            self.p99,
            self.p999,
            self.max,
            self.mean.to_bits(),
        ];
        let mut out = [0; Self::BYTES];
        for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// The summary [`LatencySummary::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> Self {
        let mut w = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")));
        let mut next = || w.next().expect("eight words");
        LatencySummary {
            count: next(),
            min: next(),
            p50: next(),
            p90: next(),
            p99: next(),
            p999: next(),
            max: next(),
            mean: f64::from_bits(next()),
        }
    }

    /// Summarises an optional histogram (`None` → empty summary).
    pub fn from_option(h: Option<&Histogram<u64>>) -> Self {
        h.map(Self::from_histogram).unwrap_or_default()
    }

    /// True when no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;

    #[test]
    fn uniform_one_to_ten_thousand() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.record(v).unwrap();
        }
        let s = LatencySummary::from_histogram(&h);
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min, 1);
        // 3 significant digits: 4096..8192 share buckets of width 4, 8192..16384 of 8,
        // and a percentile reports the top of its bucket.
        assert_eq!(s.p50, 5_003); // 5000 in 5000..=5003
        assert_eq!(s.p90, 9_007); // 9000 in 9000..=9007
        assert_eq!(s.p99, 9_903); // 9900 in 9896..=9903
        assert_eq!(s.p999, 9_991); // 9990 in 9984..=9991
        assert_eq!(s.max, 10_007);
        assert!((s.mean - 5_000.5).abs() < 5.0, "mean {}", s.mean);
    }

    #[test]
    fn percentiles_are_within_resolution_of_exact_values() {
        // A skewed distribution: most fast, a long tail.
        let mut h = new_histogram();
        let mut exact = Vec::new();
        for i in 0..100_000u64 {
            let v = if i % 100 == 0 {
                250_000 + i
            } else {
                1_000 + i % 5_000
            };
            h.record(v).unwrap();
            exact.push(v);
        }
        exact.sort_unstable();
        let s = LatencySummary::from_histogram(&h);
        for (q, got) in [(0.5, s.p50), (0.9, s.p90), (0.99, s.p99), (0.999, s.p999)] {
            let want = exact[((q * exact.len() as f64).ceil() as usize) - 1];
            let err = (got as f64 - want as f64).abs() / want as f64;
            assert!(err <= 0.001, "q={q} got {got} want {want}");
            assert!(got >= want, "q={q} must not under-report: {got} < {want}");
        }
    }

    #[test]
    fn empty_is_all_zero() {
        let s = LatencySummary::from_histogram(&new_histogram());
        assert!(s.is_empty());
        assert_eq!(s, LatencySummary::default());
        assert_eq!(LatencySummary::from_option(None), LatencySummary::default());
    }

    #[test]
    fn single_sample_min_equals_max_bucket() {
        let mut h = new_histogram();
        h.record(42).unwrap();
        let s = LatencySummary::from_histogram(&h);
        assert_eq!((s.count, s.min, s.p50, s.p999, s.max), (1, 42, 42, 42, 42));
        assert_eq!(s.mean, 42.0);
    }

    proptest::proptest! {
        // Few cases: this runs unoptimised in `cargo test`.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn quantiles_bound_exact_values_and_merge_equals_whole(
            values in proptest::collection::vec(0u64..50_000_000, 1..2_000),
            split in 0usize..2_000,
        ) {
            let split = split.min(values.len());
            let (mut whole, mut left, mut right) = (new_histogram(), new_histogram(), new_histogram());
            for (i, v) in values.iter().enumerate() {
                whole.record(*v).unwrap();
                if i < split { left.record(*v).unwrap() } else { right.record(*v).unwrap() }
            }
            left.add(&right).unwrap();
            let s = LatencySummary::from_histogram(&whole);
            proptest::prop_assert_eq!(s, LatencySummary::from_histogram(&left));
            let mut sorted = values.clone();
            sorted.sort_unstable();
            for (q, got) in [(0.5, s.p50), (0.9, s.p90), (0.99, s.p99), (0.999, s.p999)] {
                let want = sorted[((q * sorted.len() as f64).ceil() as usize).max(1) - 1];
                proptest::prop_assert!(got >= want, "q={} got {} < exact {}", q, got, want);
                proptest::prop_assert!(got as f64 <= want as f64 * 1.001 + 1.0, "q={} got {} exact {}", q, got, want);
            }
            proptest::prop_assert_eq!(s.count, values.len() as u64);
            proptest::prop_assert!(s.min <= sorted[0] && s.max >= sorted[sorted.len() - 1]);
        }
    }
}
