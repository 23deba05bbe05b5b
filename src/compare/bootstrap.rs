//! Confidence intervals of a latency percentile change by a circular
//! moving-block bootstrap over 1-second interval histograms.
//!
//! Seconds of one run are not independent (a slow checkpoint or a GC pause
//! lasts several seconds), so resampling single seconds would understate the
//! variance and make a gate cry wolf. Blocks of `L` consecutive seconds keep
//! that dependence; `L` comes from the data (twice the autocorrelation time
//! of the per-second p99 and the per-second sample count) and is never below
//! √n. Each replicate merges the resampled seconds' histograms and recomputes
//! the percentile from the merged counts, exactly as the headline figure is
//! computed from all seconds. The interval is the estimate ± Student's t with
//! (independent blocks − 1) degrees of freedom × the replicates' standard
//! deviation: a short run holds few independent blocks, and the replicates'
//! own percentiles were measured to be too narrow there (see the tests).
//! Fewer than [`MIN_DF`] degrees of freedom give no interval at all: two
//! blocks cannot say how much a run varies, and a verdict on them would be
//! chance.
//!
//! Histograms are first compacted onto one shared grid of bucket values, so a
//! replicate costs one pass over the sparse counts of the drawn seconds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::student_t;
pub use super::student_t::MIN_DF;
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
    /// Confidence interval of the difference (µs); (−∞, +∞) when
    /// [`Change::too_few_blocks`].
    pub diff_ci: (f64, f64),
    /// `current / baseline`.
    pub ratio: f64,
    /// Confidence interval of the ratio.
    pub ratio_ci: (f64, f64),
    /// Block length used (seconds).
    pub block_len: usize,
    /// Degrees of freedom of the intervals: whole independent blocks, less
    /// one per side estimated.
    pub df: u32,
    /// Seconds resampled from the baseline and the current side.
    pub seconds: (usize, usize),
    /// Samples (latencies) on each side.
    pub samples: (u64, u64),
    /// The settings used.
    pub options: BootstrapOptions,
    /// Set when the baseline was several runs: their spread, and whether it
    /// widened [`Change::diff_ci`] ([`super::runs::widen`]).
    pub between_runs: Option<super::runs::BetweenRuns>,
}

impl Change {
    /// A change from `base` to `cur` µs with the difference's interval `ci`
    /// (the ratio's follows it), for the tests of the modules that read one.
    #[cfg(test)]
    pub(crate) fn fixture(base: u64, cur: u64, ci: (f64, f64)) -> Change {
        Change {
            baseline_us: base,
            current_us: cur,
            diff_us: cur as f64 - base as f64,
            diff_ci: ci,
            ratio: cur as f64 / base as f64,
            ratio_ci: (1.0 + ci.0 / base as f64, 1.0 + ci.1 / base as f64),
            block_len: 3,
            df: 10,
            seconds: (30, 10),
            samples: (3000, 1000),
            options: BootstrapOptions::default(),
            between_runs: None,
        }
    }

    /// True when the runs held too few independent blocks (fewer than
    /// [`MIN_DF`] degrees of freedom) for an interval: no verdict either way.
    pub fn too_few_blocks(&self) -> bool {
        self.df < MIN_DF
    }

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
        let total = self.fill(side, picks, counts);
        quantile_of(&self.values, counts, total, q)
    }

    /// Fills `counts` with the merged counts of the seconds `picks` of `side`;
    /// returns their total.
    fn fill(&self, side: usize, picks: &[usize], counts: &mut [u64]) -> u64 {
        counts.fill(0);
        let mut total = 0u64;
        for &s in picks {
            for &(i, c) in &self.sides[side][s] {
                counts[i as usize] += c;
                total += c;
            }
        }
        total
    }

    /// The quantile of a signed sample stored as magnitudes: side 0 holds the
    /// values ≥ 0, side 1 the magnitudes of the negative ones.
    fn signed_quantile(&self, picks: &[usize], q: f64, scratch: &mut [Vec<u64>; 2]) -> Option<f64> {
        let [pos, neg] = scratch;
        let n_pos = self.fill(0, picks, pos);
        let n_neg = self.fill(1, picks, neg);
        let total = n_pos + n_neg;
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        // In ascending signed order the negatives come first, largest magnitude first.
        Some(if rank <= n_neg {
            -(kth_smallest(&self.values, neg, n_neg - rank + 1) as f64)
        } else {
            kth_smallest(&self.values, pos, rank - n_neg) as f64
        })
    }
}

/// The `k`-th smallest value (1-based) of dense counts.
fn kth_smallest(values: &[u64], counts: &[u64], k: u64) -> u64 {
    let mut cum = 0;
    for (v, c) in values.iter().zip(counts) {
        cum += c;
        if cum >= k {
            return *v;
        }
    }
    values.last().copied().unwrap_or(0)
}

/// HdrHistogram's quantile rule on dense counts: the smallest value whose
/// cumulative count reaches `ceil(q · total)` (at least one sample).
fn quantile_of(values: &[u64], counts: &[u64], total: u64, q: f64) -> Option<u64> {
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    Some(kth_smallest(values, counts, rank))
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

/// The integrated autocorrelation time of `x`, `1 + 2 Σ ρ_k`, summed over the
/// lags before the first one whose autocorrelation falls inside the ±2/√n
/// band of white noise: how many consecutive seconds carry one second's worth
/// of independent information (1 for white noise).
fn autocorrelation_time(x: &[f64]) -> f64 {
    let n = x.len();
    let band = 2.0 / (n.max(1) as f64).sqrt();
    let mut tau = 1.0;
    for k in 1..n / 2 {
        let r = autocorrelation(x, k);
        if r < band {
            break;
        }
        tau += 2.0 * r;
    }
    tau
}

/// The block length for one run's seconds: twice the larger autocorrelation
/// time of the per-second p99 and of the per-second count, at least √n, at
/// most half the seconds. √n rather than the asymptotic n^(1/3): short runs
/// under-estimate dependence, and a gate must rather be wide than wrong. Twice, because on the short series a gate sees
/// (30–120 s) the sample autocorrelation is biased low, and too short blocks
/// make intervals too narrow: a gate that cries wolf. Measured on synthetic
/// AR(1) runs in the tests (coverage of zero between runs of one process).
pub fn block_length(seconds: &[Hist]) -> usize {
    let n = seconds.len();
    if n < 4 {
        return 1;
    }
    let floor = (n as f64).sqrt().ceil() as usize;
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
    let tau = autocorrelation_time(&p99).max(autocorrelation_time(&counts));
    floor.max((2.0 * tau).ceil() as usize).min(n / 2).max(1)
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

/// A studentized interval around `point`: ± t(df) × the replicates' standard
/// deviation. Used instead of the replicates' own percentiles, which on the
/// few independent blocks of a short run are too narrow. Below [`MIN_DF`]:
/// (−∞, +∞), no interval.
fn t_interval(point: f64, xs: &[f64], confidence: f64, df: u32) -> (f64, f64) {
    if df < MIN_DF {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let half = student_t::quantile((1.0 + confidence) / 2.0, df) * sd;
    (point - half, point + half)
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

/// The percentile of all `seconds` merged, computed as [`change`] computes
/// its headline figures (`None` without samples).
pub fn percentile(seconds: &[Hist], q: f64) -> Option<u64> {
    let compact = Compact::new(&[seconds]);
    let mut counts = vec![0u64; compact.values.len()];
    compact.quantile(0, &(0..seconds.len()).collect::<Vec<_>>(), q, &mut counts)
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
        ratios.push((c as f64).max(1.0).ln() - (b as f64).max(1.0).ln());
    }
    if diffs.is_empty() {
        return None;
    }
    // Degrees of freedom: independent blocks, less one per side estimated,
    // rounded down (a part of a block is not a whole independent one).
    let blocks = |n: usize| n as f64 / block_len as f64;
    let df = match pairing {
        Pairing::Independent => blocks(base.len()) + blocks(cur.len()) - 2.0,
        Pairing::BySecond => blocks(base.len()) - 1.0,
    };
    let df = df.max(0.0).floor() as u32;
    let diff_us = c0 as f64 - b0 as f64;
    let ratio = (c0 as f64).max(1.0) / (b0 as f64).max(1.0);
    // The ratio's interval is made on the log scale (replicates hold log
    // ratios), so it stays positive and symmetric in relative terms.
    let log_ci = t_interval(ratio.ln(), &ratios, opts.confidence, df);
    Some(Change {
        baseline_us: b0,
        current_us: c0,
        diff_us,
        diff_ci: t_interval(diff_us, &diffs, opts.confidence, df),
        ratio,
        ratio_ci: (log_ci.0.exp(), log_ci.1.exp()),
        block_len,
        df,
        seconds: (base.len(), cur.len()),
        samples: (samples(base), samples(cur)),
        options: *opts,
        between_runs: None,
    })
}

/// One percentile of the per-row difference path 2 − path 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowDelta {
    /// The percentile, as a quantile.
    pub quantile: f64,
    /// Its value over all seconds (µs; negative = path 2 sooner).
    pub value_us: f64,
    /// Its confidence interval (µs).
    pub ci: (f64, f64),
}

/// Percentiles of the per-row paired difference, with block-bootstrap
/// intervals over the seconds in which the pairs completed.
#[derive(Debug, Clone, PartialEq)]
pub struct RowDeltas {
    /// One entry per quantile asked for.
    pub percentiles: Vec<RowDelta>,
    /// Rows paired (seen on both paths, latency recorded).
    pub rows: u64,
    /// Block length used (seconds).
    pub block_len: usize,
    /// Seconds resampled.
    pub seconds: usize,
}

/// Percentiles of a signed per-row difference given as two aligned lists of
/// 1-second histograms: `later` holds differences ≥ 0, `earlier` the
/// magnitudes of negative ones. `opts.quantile` is ignored; `quantiles` are
/// computed from the same resampled seconds. `None` without any sample.
pub fn row_deltas(
    later: &[Hist],
    earlier: &[Hist],
    quantiles: &[f64],
    opts: &BootstrapOptions,
) -> Option<RowDeltas> {
    if later.len() != earlier.len() || later.is_empty() {
        return None;
    }
    let compact = Compact::new(&[later, earlier]);
    let mut scratch = [
        vec![0u64; compact.values.len()],
        vec![0u64; compact.values.len()],
    ];
    let all: Vec<usize> = (0..later.len()).collect();
    let point: Vec<f64> = quantiles
        .iter()
        .map(|&q| compact.signed_quantile(&all, q, &mut scratch))
        .collect::<Option<_>>()?;
    // Both signs together make one sample per row; its per-second shape sets L.
    let both: Vec<Hist> = later
        .iter()
        .zip(earlier)
        .map(|(a, b)| {
            let mut h = a.clone();
            h.add(b).expect("auto-resizing histograms accept any value");
            h
        })
        .collect();
    let block_len = opts.block_len.unwrap_or_else(|| block_length(&both)).max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut picks = Vec::new();
    let mut reps: Vec<Vec<f64>> = vec![Vec::with_capacity(opts.replicates); quantiles.len()];
    for _ in 0..opts.replicates {
        draw_blocks(
            &mut rng,
            later.len(),
            block_len.min(later.len()),
            &mut picks,
        );
        for (q, out) in quantiles.iter().zip(&mut reps) {
            if let Some(v) = compact.signed_quantile(&picks, *q, &mut scratch) {
                out.push(v);
            }
        }
    }
    let percentiles = quantiles
        .iter()
        .zip(point)
        .zip(&mut reps)
        .map(|((&quantile, value_us), xs)| RowDelta {
            quantile,
            value_us,
            ci: if xs.is_empty() {
                (value_us, value_us)
            } else {
                percentile_interval(xs, opts.confidence)
            },
        })
        .collect();
    Some(RowDeltas {
        percentiles,
        rows: samples(&both),
        block_len,
        seconds: later.len(),
    })
}

#[cfg(test)]
mod tests;
