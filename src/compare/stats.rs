//! Confidence intervals of a latency percentile change by a circular
//! moving-block bootstrap over 1-second interval histograms.
//!
//! Seconds of one run are not independent (a slow checkpoint or a GC pause
//! lasts several seconds), so resampling single seconds would understate the
//! variance and make a gate cry wolf. Blocks of `L` consecutive seconds keep
//! that dependence; `L` comes from the data (the first lag at which the
//! per-second p99 and the per-second sample count stop being autocorrelated)
//! and is never below n^(1/3). Each replicate merges the resampled seconds'
//! histograms and recomputes the percentile from the merged counts, exactly
//! as the headline figure is computed from all seconds.
//!
//! Histograms are first compacted onto one shared grid of bucket values, so a
//! replicate costs one pass over the sparse counts of the drawn seconds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::stats::Hist;

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    /// The percentile compared, as a quantile (0.99 for p99).
    pub quantile: f64,
    /// Two-sided confidence level of the intervals (0.95).
    pub confidence: f64,
    /// Bootstrap replicates.
    pub replicates: usize,
    /// RNG seed: the same inputs and seed give the same intervals.
    pub seed: u64,
    /// Block length in seconds; `None` = estimated from the data.
    pub block_len: Option<usize>,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            quantile: 0.99,
            confidence: 0.95,
            replicates: 2000,
            seed: 0x7470_6364_735f_6761,
            block_len: None,
        }
    }
}

/// The change of one percentile from a baseline to a current sample of seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Baseline percentile over all its seconds (µs).
    pub baseline_us: u64,
    /// Current percentile over all its seconds (µs).
    pub current_us: u64,
    /// `current − baseline` (µs).
    pub diff_us: f64,
    /// Confidence interval of the difference (µs).
    pub diff_ci: (f64, f64),
    /// `current / baseline`.
    pub ratio: f64,
    /// Confidence interval of the ratio.
    pub ratio_ci: (f64, f64),
    /// Block length used (seconds).
    pub block_len: usize,
    /// Seconds resampled from the baseline and the current side.
    pub seconds: (usize, usize),
    /// Samples (latencies) on each side.
    pub samples: (u64, u64),
    /// The settings used.
    pub options: BootstrapOptions,
}

impl Change {
    /// True when the difference's interval excludes zero on the side of a slowdown.
    pub fn significantly_slower(&self) -> bool {
        self.diff_ci.0 > 0.0
    }

    /// True when the difference's interval excludes zero in either direction.
    pub fn significant(&self) -> bool {
        self.diff_ci.0 > 0.0 || self.diff_ci.1 < 0.0
    }
}

/// Per-second histograms compacted onto a shared, ascending value grid.
struct Compact {
    values: Vec<u64>,
    /// Per side, per second: (grid index, count) of every non-empty bucket.
    sides: Vec<Vec<Vec<(u32, u64)>>>,
}

impl Compact {
    fn new(sides: &[&[Hist]]) -> Compact {
        let mut values: Vec<u64> = sides
            .iter()
            .flat_map(|s| s.iter())
            .flat_map(|h| {
                h.iter_recorded()
                    .map(|v| h.highest_equivalent(v.value_iterated_to()))
            })
            .collect();
        values.sort_unstable();
        values.dedup();
        let index = |v: u64| values.binary_search(&v).expect("grid holds every value") as u32;
        let sides = sides
            .iter()
            .map(|side| {
                side.iter()
                    .map(|h| {
                        h.iter_recorded()
                            .map(|v| {
                                let value = h.highest_equivalent(v.value_iterated_to());
                                (index(value), v.count_at_value())
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>();
        Compact { values, sides }
    }

    /// The quantile of the seconds `picks` of `side`, using `counts` as scratch.
    fn quantile(&self, side: usize, picks: &[usize], q: f64, counts: &mut [u64]) -> Option<u64> {
        counts.fill(0);
        let mut total = 0u64;
        for &s in picks {
            for &(i, c) in &self.sides[side][s] {
                counts[i as usize] += c;
                total += c;
            }
        }
        quantile_of(&self.values, counts, total, q)
    }
}

/// HdrHistogram's quantile rule on dense counts: the smallest value whose
/// cumulative count reaches `ceil(q · total)` (at least one sample).
fn quantile_of(values: &[u64], counts: &[u64], total: u64, q: f64) -> Option<u64> {
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut cum = 0;
    for (v, c) in values.iter().zip(counts) {
        cum += c;
        if cum >= rank {
            return Some(*v);
        }
    }
    values.last().copied()
}

/// Lag-`k` sample autocorrelation of `x`.
fn autocorrelation(x: &[f64], k: usize) -> f64 {
    let n = x.len();
    if k >= n {
        return 0.0;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = (0..n - k).map(|i| (x[i] - mean) * (x[i + k] - mean)).sum();
    cov / var
}

/// The first lag at which `x`'s autocorrelation falls inside the ±2/√n band
/// of white noise (1 when already lag 1 is insignificant).
fn decorrelation_lag(x: &[f64]) -> usize {
    let n = x.len();
    let band = 2.0 / (n.max(1) as f64).sqrt();
    (1..n / 2)
        .find(|&k| autocorrelation(x, k) < band)
        .unwrap_or((n / 2).max(1))
}

/// The block length for one run's seconds: the larger of n^(1/3) and the
/// decorrelation lags of the per-second p99 and of the per-second count, at
/// most half the seconds.
pub fn block_length(seconds: &[Hist]) -> usize {
    let n = seconds.len();
    if n < 4 {
        return 1;
    }
    let cube_root = (n as f64).cbrt().ceil() as usize;
    let p99: Vec<f64> = seconds
        .iter()
        .map(|h| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(0.99) as f64
            }
        })
        .collect();
    let counts: Vec<f64> = seconds.iter().map(|h| h.len() as f64).collect();
    cube_root
        .max(decorrelation_lag(&p99))
        .max(decorrelation_lag(&counts))
        .min(n / 2)
        .max(1)
}

/// Draws `n` indices of a circular block bootstrap with blocks of `len`.
fn draw_blocks(rng: &mut ChaCha8Rng, n: usize, len: usize, out: &mut Vec<usize>) {
    out.clear();
    while out.len() < n {
        let start = rng.random_range(0..n);
        for j in 0..len.min(n - out.len()) {
            out.push((start + j) % n);
        }
    }
}

/// The `(1 − confidence)/2` and `(1 + confidence)/2` percentiles of `xs`.
fn percentile_interval(xs: &mut [f64], confidence: f64) -> (f64, f64) {
    xs.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| {
        let i = ((p * (xs.len() - 1) as f64).round() as usize).min(xs.len() - 1);
        xs[i]
    };
    let tail = (1.0 - confidence) / 2.0;
    (at(tail), at(1.0 - tail))
}

fn samples(seconds: &[Hist]) -> u64 {
    seconds.iter().map(|h| h.len()).sum()
}

/// How the two sides are resampled.
#[derive(Clone, Copy, PartialEq)]
enum Pairing {
    /// Two independent runs: each side draws its own blocks.
    Independent,
    /// Two series of one run, aligned by second: both sides draw the same
    /// blocks, so noise shared by a second cancels in the difference.
    BySecond,
}

/// The change of the percentile from `baseline` to `current`, two
/// independent runs (each a list of 1-second histograms, warmup excluded).
/// `None` when either side has no sample.
pub fn change(baseline: &[Hist], current: &[Hist], opts: &BootstrapOptions) -> Option<Change> {
    bootstrap(baseline, current, opts, Pairing::Independent)
}

/// The change from series `a` to series `b` of one run, aligned second by
/// second (same length), resampling the same blocks of seconds for both.
/// `None` when either side has no sample or the lengths differ.
pub fn paired_change(a: &[Hist], b: &[Hist], opts: &BootstrapOptions) -> Option<Change> {
    if a.len() != b.len() {
        return None;
    }
    bootstrap(a, b, opts, Pairing::BySecond)
}

fn bootstrap(
    base: &[Hist],
    cur: &[Hist],
    opts: &BootstrapOptions,
    pairing: Pairing,
) -> Option<Change> {
    let compact = Compact::new(&[base, cur]);
    let mut counts = vec![0u64; compact.values.len()];
    let all = |n: usize| (0..n).collect::<Vec<_>>();
    let q = opts.quantile;
    let b0 = compact.quantile(0, &all(base.len()), q, &mut counts)?;
    let c0 = compact.quantile(1, &all(cur.len()), q, &mut counts)?;
    let block_len = opts
        .block_len
        .unwrap_or_else(|| block_length(base).max(block_length(cur)))
        .max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let (mut pick_b, mut pick_c) = (Vec::new(), Vec::new());
    let mut diffs = Vec::with_capacity(opts.replicates);
    let mut ratios = Vec::with_capacity(opts.replicates);
    for _ in 0..opts.replicates {
        draw_blocks(&mut rng, base.len(), block_len.min(base.len()), &mut pick_b);
        if pairing == Pairing::BySecond {
            pick_c.clone_from(&pick_b);
        } else {
            draw_blocks(&mut rng, cur.len(), block_len.min(cur.len()), &mut pick_c);
        }
        // A replicate that drew only empty seconds has no percentile: skip it.
        let (Some(b), Some(c)) = (
            compact.quantile(0, &pick_b, q, &mut counts),
            compact.quantile(1, &pick_c, q, &mut counts),
        ) else {
            continue;
        };
        diffs.push(c as f64 - b as f64);
        ratios.push(c as f64 / (b as f64).max(1.0));
    }
    if diffs.is_empty() {
        return None;
    }
    Some(Change {
        baseline_us: b0,
        current_us: c0,
        diff_us: c0 as f64 - b0 as f64,
        diff_ci: percentile_interval(&mut diffs, opts.confidence),
        ratio: c0 as f64 / (b0 as f64).max(1.0),
        ratio_ci: percentile_interval(&mut ratios, opts.confidence),
        block_len,
        seconds: (base.len(), cur.len()),
        samples: (samples(base), samples(cur)),
        options: *opts,
    })
}

#[cfg(test)]
mod tests;
