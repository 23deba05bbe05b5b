//! The gate's decision per sink: a p99 regression needs both statistical
//! evidence (the confidence interval of the change excludes zero on the slow
//! side) and practical size (the change exceeds a relative and an absolute
//! floor). Either alone cries wolf: long runs make tiny shifts significant,
//! and short runs make big swings of noise look large.

use super::stats::Change;
use crate::model::Sink;

/// The practical floors a change must exceed to count as a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    /// Least relative increase (0.25 = 25 %).
    pub relative: f64,
    /// Least absolute increase (µs); raised per sink to its detection resolution.
    pub absolute_us: u64,
}

/// How one sink fared.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not a regression (the reason says which test it passed).
    Pass(String),
    /// A regression: significant and above both floors.
    Regression(String),
    /// Could not be judged (no samples on one side).
    Skipped(String),
}

impl Outcome {
    /// True for [`Outcome::Regression`].
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Regression(_))
    }

    /// The explanation.
    pub fn reason(&self) -> &str {
        match self {
            Outcome::Pass(r) | Outcome::Regression(r) | Outcome::Skipped(r) => r,
        }
    }
}

/// One sink's comparison and verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkVerdict {
    /// The sink.
    pub sink: Sink,
    /// The bootstrap result; `None` when a side has no samples.
    pub change: Option<Change>,
    /// The absolute floor applied to this sink (µs).
    pub absolute_floor_us: u64,
    /// The verdict.
    pub outcome: Outcome,
}

use super::fmt_delta as ms;

/// Judges one sink. `resolution_us` (a polled sink's poll interval) raises the
/// absolute floor: a change smaller than the detection resolution is not a
/// measured change.
pub fn judge(
    sink: Sink,
    change: Option<Change>,
    floors: &Floors,
    resolution_us: Option<u64>,
) -> SinkVerdict {
    let absolute_floor_us = floors.absolute_us.max(resolution_us.unwrap_or(0));
    let outcome = match &change {
        None => Outcome::Skipped("no latency samples on one side".into()),
        Some(c) => {
            let rel_floor = floors.relative * c.baseline_us as f64;
            let ci = format!("{} … {}", ms(c.diff_ci.0), ms(c.diff_ci.1));
            if !c.significantly_slower() {
                Outcome::Pass(format!(
                    "interval of the change [{ci}] includes zero or is faster"
                ))
            } else if c.diff_us <= absolute_floor_us as f64 {
                Outcome::Pass(format!(
                    "significant but {} ≤ absolute floor {}",
                    ms(c.diff_us),
                    crate::report::fmt_latency(absolute_floor_us)
                ))
            } else if c.diff_us <= rel_floor {
                Outcome::Pass(format!(
                    "significant but +{:.0} % ≤ relative floor {:.0} %",
                    (c.ratio - 1.0) * 100.0,
                    floors.relative * 100.0
                ))
            } else {
                Outcome::Regression(format!(
                    "p{} {} (+{:.0} %), interval [{ci}] excludes zero, above both floors",
                    quantile_label(c.options.quantile),
                    ms(c.diff_us),
                    (c.ratio - 1.0) * 100.0
                ))
            }
        }
    };
    SinkVerdict {
        sink,
        change,
        absolute_floor_us,
        outcome,
    }
}

/// The confidence of each of `sinks` intervals that keeps the chance of any
/// false alarm among them at most `1 − family` (Bonferroni: a gate over four sinks
/// at 0.95 judges each at 0.9875). Without it, four sinks at 95 % cry wolf in
/// up to one gate of ten between two runs of the same build.
pub fn per_sink_confidence(family: f64, sinks: usize) -> f64 {
    1.0 - (1.0 - family) / sinks.max(1) as f64
}

/// `99` for 0.99, `99.9` for 0.999.
pub fn quantile_label(q: f64) -> String {
    let p = q * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}", p.round())
    } else {
        format!("{p:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(base: u64, cur: u64, ci: (f64, f64)) -> Change {
        Change::fixture(base, cur, ci)
    }

    const FLOORS: Floors = Floors {
        relative: 0.25,
        absolute_us: 20_000,
    };

    #[test]
    fn fails_only_when_significant_and_above_both_floors() {
        let j = |c| judge(Sink::Path2, Some(c), &FLOORS, Some(100_000)).outcome;
        // Significant, +900 ms on 300 ms: regression.
        assert!(j(change(300_000, 1_200_000, (800_000.0, 1e6))).failed());
        // Big but not significant.
        assert!(!j(change(300_000, 1_200_000, (-10_000.0, 1e6))).failed());
        // Significant, +40 % but below the sink's 100 ms resolution.
        assert!(!j(change(200_000, 280_000, (50_000.0, 90_000.0))).failed());
        // Significant, +150 ms but only +10 % of 1.5 s.
        assert!(!j(change(1_500_000, 1_650_000, (100_000.0, 200_000.0))).failed());
        // Faster is never a regression.
        assert!(!j(change(300_000, 100_000, (-250_000.0, -150_000.0))).failed());
    }

    #[test]
    fn each_sink_is_judged_at_the_family_level_split_among_the_sinks() {
        assert!((per_sink_confidence(0.95, 4) - 0.9875).abs() < 1e-12);
        assert!((per_sink_confidence(0.95, 1) - 0.95).abs() < 1e-12);
        assert!((per_sink_confidence(0.9, 0) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn no_samples_is_skipped_and_resolution_raises_the_floor() {
        let v = judge(Sink::Kafka, None, &FLOORS, None);
        assert!(matches!(v.outcome, Outcome::Skipped(_)));
        assert_eq!(v.absolute_floor_us, 20_000);
        assert_eq!(
            judge(Sink::Path1, None, &FLOORS, Some(100_000)).absolute_floor_us,
            100_000
        );
        assert_eq!(quantile_label(0.99), "99");
        assert_eq!(quantile_label(0.999), "99.9");
    }
}
