//! The gate's decision per sink: a p99 regression needs both statistical
//! evidence (the confidence interval of the change excludes zero on the slow
//! side) and practical size (the change exceeds a relative and an absolute
//! floor). Either alone cries wolf: long runs make tiny shifts significant,
//! and short runs make big swings of noise look large.
//!
//! Two things are never a pass: a sink that recorded latencies in the
//! baseline and none in the current run (rows stopped arriving: the worst
//! regression there is), and runs too short to hold the independent blocks an
//! interval needs (refused, so that a gate cannot pass on no evidence).

use super::bootstrap::{Change, MIN_DF};
use crate::model::Sink;

/// The practical floors a change must exceed to count as a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    /// Least relative increase (0.25 = 25 %).
    pub relative: f64,
    /// Least absolute increase (µs); raised per sink to its resolution (what
    /// bounds its figures).
    pub absolute_us: u64,
}

/// How one sink fared.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not a regression (the reason says which test it passed).
    Pass(String),
    /// A regression: significant and above both floors, or no samples at all
    /// in the current run where the baseline had some.
    Regression(String),
    /// No verdict: the runs hold too few independent blocks for an interval.
    /// Not a pass; the gate exits 2 (run longer) unless something failed.
    Refused(String),
    /// Nothing to compare against (no samples in the baseline).
    Skipped(String),
}

impl Outcome {
    /// True for [`Outcome::Regression`].
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Regression(_))
    }

    /// True for [`Outcome::Refused`].
    pub fn refused(&self) -> bool {
        matches!(self, Outcome::Refused(_))
    }

    /// The explanation.
    pub fn reason(&self) -> &str {
        match self {
            Outcome::Pass(r)
            | Outcome::Regression(r)
            | Outcome::Refused(r)
            | Outcome::Skipped(r) => r,
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
    /// Latency samples after warmup in the baseline and in the current run.
    pub samples: (u64, u64),
    /// The absolute floor applied to this sink (µs).
    pub absolute_floor_us: u64,
    /// The verdict.
    pub outcome: Outcome,
}

use super::fmt_delta as ms;

/// Judges one sink from its `change` and the latency `samples` (baseline,
/// current) after warmup that it rests on. `resolution_us` (a polled sink's
/// poll interval) raises the absolute floor: a change smaller than the
/// detection resolution is not a measured change.
pub fn judge(
    sink: Sink,
    change: Option<Change>,
    samples: (u64, u64),
    floors: &Floors,
    resolution_us: Option<u64>,
) -> SinkVerdict {
    let absolute_floor_us = floors.absolute_us.max(resolution_us.unwrap_or(0));
    let outcome = match &change {
        None => match samples {
            (0, 0) => Outcome::Skipped("no latency samples in either run".into()),
            (0, _) => Outcome::Skipped(
                "no latency samples in the baseline: nothing to compare against".into(),
            ),
            (base, _) => Outcome::Regression(format!(
                "recorded no latency samples in the current run (the baseline had {base}): \
                 a sink that recorded nothing is a regression"
            )),
        },
        Some(c) if c.too_few_blocks() => Outcome::Refused(format!(
            "too short to judge: {} s and {} s after warmup hold {} degree{} of freedom in \
             blocks of {} s, fewer than {MIN_DF}; run longer (at least {} s after warmup per run)",
            c.seconds.0,
            c.seconds.1,
            c.df,
            if c.df == 1 { "" } else { "s" },
            c.block_len,
            2 * c.block_len
        )),
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
                    crate::stats::fmt_latency(absolute_floor_us)
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
        samples,
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
        let j = |c| judge(Sink::Path2, Some(c), (3000, 1000), &FLOORS, Some(100_000)).outcome;
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
    fn a_sink_that_recorded_nothing_now_is_a_regression() {
        let v = judge(Sink::Kafka, None, (1200, 0), &FLOORS, None);
        assert!(v.outcome.failed(), "{v:?}");
        assert!(
            v.outcome
                .reason()
                .contains("a sink that recorded nothing is a regression"),
            "{v:?}"
        );
        // Nothing in the baseline: nothing to compare against, not a failure.
        let v = judge(Sink::Kafka, None, (0, 1200), &FLOORS, None);
        assert!(matches!(v.outcome, Outcome::Skipped(_)), "{v:?}");
        let v = judge(Sink::Kafka, None, (0, 0), &FLOORS, None);
        assert!(matches!(v.outcome, Outcome::Skipped(_)), "{v:?}");
    }

    #[test]
    fn fewer_than_two_degrees_of_freedom_is_refused_not_passed() {
        // A huge, "significant" change on one degree of freedom: no verdict.
        let mut c = change(300_000, 1_200_000, (800_000.0, 1e6));
        for df in [0, 1] {
            c.df = df;
            let o = judge(Sink::Path2, Some(c), (3000, 1000), &FLOORS, None).outcome;
            assert!(o.refused() && !o.failed(), "{o:?}");
            assert!(o.reason().contains("run longer"), "{o:?}");
        }
        c.df = MIN_DF;
        let o = judge(Sink::Path2, Some(c), (3000, 1000), &FLOORS, None).outcome;
        assert!(o.failed(), "{o:?}");
    }

    #[test]
    fn resolution_raises_the_floor() {
        let v = judge(Sink::Kafka, None, (0, 0), &FLOORS, None);
        assert_eq!(v.absolute_floor_us, 20_000);
        assert_eq!(
            judge(Sink::Path1, None, (0, 0), &FLOORS, Some(100_000)).absolute_floor_us,
            100_000
        );
        assert_eq!(quantile_label(0.99), "99");
        assert_eq!(quantile_label(0.999), "99.9");
    }
}
