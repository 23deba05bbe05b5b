//! Several baseline runs: how far one more run of the baseline's build could
//! land from them, so that a gate does not call the machine's run-to-run
//! swings a regression.
//!
//! The block bootstrap ([`super::stats`]) sees the noise inside a run. On
//! shared CI runners a whole 15 s run can be slower (measured: every sink's
//! p99 +50 … +80 % in one A run out of five). With `n ≥ 2` baseline runs their
//! per-run p99s are `n` draws of "a run's p99 on this build and machine", so a
//! prediction interval for the next draw is `mean ± t(n − 1) · s · √(1 + 1/n)`
//! (`s` the runs' standard deviation). The gate's interval of a change is
//! then at least that wide around the change; with few runs `t` is large and
//! says honestly how little two or three runs tell about the spread.

use super::bootstrap::Change;
use super::student_t;

/// What the baseline runs' spread did to one sink's interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetweenRuns {
    /// Baseline runs.
    pub runs: usize,
    /// Lowest and highest per-run percentile (µs).
    pub range_us: (u64, u64),
    /// Standard deviation of the per-run percentiles (µs).
    pub sd_us: f64,
    /// Half-width of the prediction interval for one more run (µs).
    pub half_width_us: f64,
    /// True when the prediction interval, not the bootstrap's, set the interval.
    pub widened: bool,
}

/// `change` (pooled baseline vs current) with its interval widened to at
/// least ± the prediction half-width of `per_run` (each baseline run's
/// percentile, µs) at `change.options.confidence`. Fewer than 2 runs: no
/// spread to measure, `change` unchanged.
pub fn widen(mut change: Change, per_run: &[u64]) -> Change {
    let n = per_run.len();
    if n < 2 {
        return change;
    }
    let xs: Vec<f64> = per_run.iter().map(|&v| v as f64).collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let t = student_t::quantile((1.0 + change.options.confidence) / 2.0, (n - 1) as u32);
    let half = t * sd * (1.0 + 1.0 / n as f64).sqrt();
    let (lo, hi) = change.diff_ci;
    let widened = change.diff_us - half < lo || change.diff_us + half > hi;
    if widened {
        change.diff_ci = (lo.min(change.diff_us - half), hi.max(change.diff_us + half));
        // The ratio's interval follows the difference's on the baseline's scale
        // (kept positive: a ratio cannot reach zero).
        let base = (change.baseline_us as f64).max(1.0);
        change.ratio_ci = (
            change
                .ratio_ci
                .0
                .min((1.0 + change.diff_ci.0 / base).max(0.0)),
            change.ratio_ci.1.max(1.0 + change.diff_ci.1 / base),
        );
    }
    change.between_runs = Some(BetweenRuns {
        runs: n,
        range_us: (
            *per_run.iter().min().unwrap(),
            *per_run.iter().max().unwrap(),
        ),
        sd_us: sd,
        half_width_us: half,
        widened,
    });
    change
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(base: u64, cur: u64, ci: (f64, f64)) -> Change {
        Change::fixture(base, cur, ci)
    }

    #[test]
    fn a_run_inside_the_baselines_spread_is_not_significant() {
        // Three baselines at 200, 240, 280 ms (s = 40 ms); current 330 ms, a
        // tight bootstrap interval that alone would call it significant.
        let c = change(240_000, 330_000, (60_000.0, 120_000.0));
        assert!(c.significantly_slower());
        let w = widen(c, &[200_000, 240_000, 280_000]);
        let b = w.between_runs.unwrap();
        // t(2) at 97.5 % = 4.303; 4.303 · 40 ms · √(4/3) = 198.7 ms.
        assert!((b.half_width_us - 198_745.0).abs() < 500.0, "{b:?}");
        assert!(b.widened && !w.significantly_slower(), "{w:?}");
        assert_eq!(b.range_us, (200_000, 280_000));
        assert!(w.ratio_ci.0 < 1.0 && w.ratio_ci.1 > c.ratio_ci.1);
    }

    #[test]
    fn a_change_far_beyond_the_spread_stays_significant_and_one_run_changes_nothing() {
        let c = change(220_000, 1_100_000, (850_000.0, 910_000.0));
        let w = widen(c, &[215_000, 220_000, 225_000, 230_000]);
        assert!(w.significantly_slower(), "{w:?}");
        // A spread narrower than the bootstrap's interval leaves it as it was.
        assert_eq!(w.diff_ci, c.diff_ci);
        assert!(!w.between_runs.unwrap().widened);
        assert_eq!(widen(c, &[220_000]), c);
    }
}
