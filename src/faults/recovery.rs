//! What a fault did to each sink, read off the per-second series.
//!
//! Definitions (also in `docs/SCENARIO.md`):
//! - **pre-fault p99**: the p99 of every latency sample of the sink in the
//!   [`PRE_WINDOW_S`] seconds before the fault started (warmup included when
//!   the fault comes that early).
//! - **threshold**: pre-fault p99 × [`TOLERANCE`], and at least pre-fault p99 +
//!   [`TOLERANCE_FLOOR_US`] (one second's p99 of a polled sink jumps by a poll
//!   interval on its own).
//! - **recovered**: the first second at or after the fault's end from which the
//!   per-second p99 stays at or under the threshold for [`HOLD_S`] seconds (or
//!   until the series ends). A second without samples counts as recovered only
//!   when nothing is waiting (in flight at or under the pre-fault level).
//! - **backlog drained**: the first second at or after the fault's end from
//!   which the in-flight count stays, for [`HOLD_S`] seconds (or until the
//!   series ends), at or under the drain level: the highest in-flight count of
//!   the pre-fault window × [`TOLERANCE`], and at least that + [`DRAIN_FLOOR`]
//!   rows. The hold matters when the fault stops the writers too (a MySQL
//!   restart): nothing is in flight while MySQL is down, and the backlog only
//!   builds once writes resume into a pipeline that has not reconnected yet.
//! - **affected**: the sink left its pre-fault band: from the fault's start
//!   until recovery, some second had no samples while more rows waited than
//!   before the fault, or more than [`AFFECTED_SHARE`] of the rows seen were
//!   over the threshold (the window's own p99 left the band). A sink that
//!   never left it is **unaffected**: its recovery is not reported (a "did
//!   not recover" there would blame the fault for a sink it never touched).
//!   One second's p99 alone does not make a sink affected: at 150 rows a
//!   second, two slow rows lift that second's p99 (CI saw Kafka's go 61 →
//!   162 ms for two rows while path 1's job took a savepoint on 2 cores).
//! - **rows delayed**: latency samples above the threshold in the seconds from
//!   the fault's start until recovery (rows are counted in the second they
//!   were seen; with `sample_rate` < 1 this is the sampled count).
//! - **run missing**: the sink's rows still missing after the drain, for the
//!   whole run, repeated on every fault. Not per fault: the run directory
//!   keeps no commit time for a missing row, so a loss cannot be placed in
//!   one fault's window or told apart from another cause. (Runs written
//!   before this name called it `lost`, which read as the fault's own loss;
//!   they still load.)

use serde::{Deserialize, Serialize};

use super::FaultEvent;
use crate::model::Sink;
use crate::stats::{RunStats, Series};

/// Seconds before a fault that set its baseline.
pub const PRE_WINDOW_S: u32 = 10;
/// Recovered = per-second p99 ≤ pre-fault p99 × this …
pub const TOLERANCE: f64 = 1.5;
/// … and at least pre-fault p99 + this many µs.
pub const TOLERANCE_FLOOR_US: u64 = 50_000;
/// Seconds the p99 (and the in-flight count) must stay under its level to
/// count as recovered (drained).
pub const HOLD_S: u32 = 5;
/// The drain level is at least the pre-fault in-flight count + this many
/// rows (a sink with almost nothing in flight still jitters by a few rows).
pub const DRAIN_FLOOR: u64 = 10;

/// An affected sink has more than this share of its rows over the threshold
/// from the fault's start until recovery (1 %: the window's p99 is over it).
pub const AFFECTED_SHARE: f64 = 0.01;

/// One second of one sink, as the analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Second {
    /// Run second.
    pub second: u32,
    /// p99 latency of that second (µs), `None` without samples.
    pub p99_us: Option<u64>,
    /// Rows in flight at that second, when reported.
    pub in_flight: Option<u64>,
}

/// What one fault did to one sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkRecovery {
    /// The sink.
    pub sink: String,
    /// Whether the sink left its pre-fault band (see the module's
    /// definitions); runs written before this field read as affected.
    #[serde(default = "affected_by_default")]
    pub affected: bool,
    /// p99 of the pre-fault window, ms.
    pub pre_fault_p99_ms: Option<f64>,
    /// The recovery threshold, ms.
    pub threshold_ms: Option<f64>,
    /// Highest per-second p99 from the fault's start until recovery, ms.
    pub peak_p99_ms: Option<f64>,
    /// Run second from which latency stayed under the threshold.
    pub recovered_at_s: Option<u32>,
    /// Seconds from the fault's end until recovered (0 when it never rose).
    pub recovery_s: Option<f64>,
    /// Highest in-flight count of the pre-fault window.
    pub pre_fault_in_flight: Option<u64>,
    /// Highest in-flight count from the fault's start until drained.
    pub peak_in_flight: Option<u64>,
    /// Run second at which in flight was back at the pre-fault level.
    pub drained_at_s: Option<u32>,
    /// Seconds from the fault's end until the backlog drained.
    pub drain_s: Option<f64>,
    /// Rows whose latency exceeded the threshold, from the fault's start until recovery.
    pub rows_delayed: u64,
    /// Rows of this sink still missing after the drain in the whole run (the
    /// same on every fault; their keys are `sinks.<sink>.missing_keys`).
    /// Written as `lost` by older runs.
    #[serde(default, alias = "lost")]
    pub run_missing: u64,
}

fn affected_by_default() -> bool {
    true
}

/// The in-flight count at or under which a backlog counts as drained.
pub fn drain_level(pre_in_flight: u64) -> u64 {
    tolerated(pre_in_flight, DRAIN_FLOOR)
}

/// `base` × [`TOLERANCE`], and at least `base + floor`: the one rule both the
/// latency threshold and the drain level follow.
fn tolerated(base: u64, floor: u64) -> u64 {
    ((base as f64 * TOLERANCE) as u64).max(base + floor)
}

/// The first of `after`'s seconds from which `ok` holds for [`HOLD_S`]
/// seconds, or until the series ends.
fn first_lasting(after: &[&Second], ok: impl Fn(&Second) -> bool) -> Option<u32> {
    (0..after.len())
        .find(|&i| {
            let first = after[i].second;
            after[i..]
                .iter()
                .take_while(|s| s.second < first + HOLD_S)
                .all(|s| ok(s))
        })
        .map(|i| after[i].second)
}

/// Thresholds of one sink for one fault: (pre-fault p99 µs, threshold µs).
pub fn threshold(pre_p99_us: u64) -> u64 {
    tolerated(pre_p99_us, TOLERANCE_FLOOR_US)
}

/// Analyses one sink's `series` (ascending seconds, gaps allowed) for a fault
/// window `[start, end]` (run seconds). `pre_p99_us` is the pre-fault p99;
/// `counts(second, threshold)` gives that second's samples over the threshold
/// and all its samples.
pub fn analyse(
    sink: Sink,
    series: &[Second],
    start: f64,
    end: f64,
    pre_p99_us: Option<u64>,
    counts: impl Fn(u32, u64) -> (u64, u64),
) -> SinkRecovery {
    let fs = start.max(0.0).floor() as u32;
    let fe = if end.is_finite() {
        end.max(0.0).ceil() as u32
    } else {
        u32::MAX
    };
    let pre_lo = fs.saturating_sub(PRE_WINDOW_S);
    let pre_in_flight = series
        .iter()
        .filter(|s| s.second >= pre_lo && s.second < fs)
        .filter_map(|s| s.in_flight)
        .max();
    let thr = pre_p99_us.map(threshold);
    let ok = |s: &Second| match (s.p99_us, thr) {
        (Some(p), Some(t)) => p <= t,
        (Some(_), None) => false,
        (None, _) => matches!((s.in_flight, pre_in_flight), (Some(i), Some(pre)) if i <= pre),
    };
    let after: Vec<&Second> = series.iter().filter(|s| s.second >= fe).collect();
    let recovered_at = first_lasting(&after, ok);
    let drained_at = pre_in_flight.and_then(|pre| {
        let level = drain_level(pre);
        first_lasting(&after, |s| s.in_flight.is_some_and(|i| i <= level))
    });
    let during = |until: Option<u32>| {
        series
            .iter()
            .filter(move |s| s.second >= fs && until.is_none_or(|u| s.second < u.max(fs + 1)))
    };
    let peak_p99 = during(recovered_at).filter_map(|s| s.p99_us).max();
    let peak_in_flight = during(drained_at).filter_map(|s| s.in_flight).max();
    let (rows_delayed, rows_seen) = thr.map_or((0, 0), |t| {
        during(recovered_at)
            .map(|s| counts(s.second, t))
            .fold((0, 0), |(a, n), (da, dn)| (a + da, n + dn))
    });
    let stalled = during(recovered_at).any(|s| s.p99_us.is_none() && !ok(s));
    let over = during(recovered_at).any(|s| s.p99_us.is_some() && !ok(s));
    // Without a threshold every sample is out of band.
    let many_delayed = thr.is_none() || rows_delayed as f64 > AFFECTED_SHARE * rows_seen as f64;
    let affected = stalled || (over && many_delayed);
    let since_end = |s: u32| (s as f64 - end).max(0.0);
    let ms = |us: u64| us as f64 / 1000.0;
    SinkRecovery {
        sink: sink.name().to_string(),
        affected,
        pre_fault_p99_ms: pre_p99_us.map(ms),
        threshold_ms: thr.map(ms),
        peak_p99_ms: peak_p99.map(ms),
        recovered_at_s: recovered_at,
        recovery_s: recovered_at.map(since_end),
        pre_fault_in_flight: pre_in_flight,
        peak_in_flight,
        drained_at_s: drained_at,
        drain_s: drained_at.map(since_end),
        rows_delayed,
        run_missing: 0,
    }
}

/// One fault with what it did to every sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecovery {
    /// The fault as it happened.
    #[serde(flatten)]
    pub event: FaultEvent,
    /// Per sink, in report order (empty when the fault never started).
    pub sinks: Vec<SinkRecovery>,
    /// The other faults whose windows overlap this one's (labels): a sink
    /// out of its band then may owe it to either, and the report says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlaps: Vec<String>,
}

/// Labels of the faults in `events`, other than the `i`-th, whose windows
/// overlap its window.
fn overlapping(events: &[FaultEvent], i: usize) -> Vec<String> {
    let Some((start, end)) = events[i].window() else {
        return Vec::new();
    };
    events
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .filter_map(|(_, e)| {
            e.window()
                .filter(|&(s, e)| s <= end && e >= start)
                .map(|_| e.label())
        })
        .collect()
}

/// Analyses every fault of a run against its per-second statistics.
pub fn from_run(stats: &RunStats, sinks: &[Sink], events: &[FaultEvent]) -> Vec<FaultRecovery> {
    let last = stats.last_second().unwrap_or(0);
    events
        .iter()
        .enumerate()
        .map(|(i, ev)| {
            let Some((start, end)) = ev.window() else {
                return FaultRecovery {
                    event: ev.clone(),
                    sinks: Vec::new(),
                    overlaps: Vec::new(),
                };
            };
            let fs = start.max(0.0).floor() as u32;
            let sinks = sinks
                .iter()
                .map(|&sink| {
                    let ops = Series::sink_ops(sink);
                    let series: Vec<Second> = (0..=last)
                        .filter_map(|s| {
                            stats.interval(s).map(|i| {
                                let lane = i.lane(Some(sink));
                                Second {
                                    second: s,
                                    p99_us: (!lane.is_empty()).then_some(lane.p99),
                                    in_flight: i.counters.in_flight[sink.index()],
                                }
                            })
                        })
                        .collect();
                    let mut pre: Option<hdrhistogram::Histogram<u64>> = None;
                    for s in fs.saturating_sub(PRE_WINDOW_S)..fs {
                        if let Some(h) =
                            stats.interval(s).and_then(|i| i.histograms.merged_cow(ops))
                        {
                            match &mut pre {
                                Some(p) => {
                                    let _ = p.add(h.as_ref());
                                }
                                None => pre = Some(h.into_owned()),
                            }
                        }
                    }
                    let pre_p99 = pre
                        .filter(|h| !h.is_empty())
                        .map(|h| h.value_at_quantile(0.99));
                    analyse(sink, &series, start, end, pre_p99, |s, t| {
                        stats
                            .interval(s)
                            .and_then(|i| i.histograms.merged_cow(ops))
                            .map_or((0, 0), |h| {
                                (h.count_between(t.saturating_add(1), u64::MAX), h.len())
                            })
                    })
                })
                .collect();
            FaultRecovery {
                event: ev.clone(),
                sinks,
                overlaps: overlapping(events, i),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(p99_ms: &[Option<u64>], in_flight: &[u64]) -> Vec<Second> {
        p99_ms
            .iter()
            .zip(in_flight)
            .enumerate()
            .map(|(i, (p, f))| Second {
                second: i as u32,
                p99_us: p.map(|ms| ms * 1000),
                in_flight: Some(*f),
            })
            .collect()
    }

    // A sink at 100 ms p99 and ~50 rows in flight; fault over 10..13 s; latency
    // spikes to 4 s, backlog to 900, back to normal at second 17 and for good.
    #[test]
    fn recovery_and_drain_are_read_from_the_first_lasting_return() {
        let mut p = vec![Some(100); 10];
        p.extend([
            Some(150),
            None,
            None,
            Some(4000),
            Some(3000),
            Some(900),
            Some(120),
        ]);
        p.extend([Some(100); 8]);
        let mut f = vec![50; 10];
        f.extend([200, 500, 800, 900, 600, 300, 60, 40]);
        f.extend([50; 7]);
        let s = series(&p, &f);
        let r = analyse(Sink::Path1, &s, 10.2, 12.6, Some(100_000), |sec, _| {
            (u64::from((13..16).contains(&sec)) * 10, 100)
        });
        assert_eq!(r.threshold_ms, Some(150.0), "max(1.5 × 100, 100 + 50) ms");
        assert_eq!(r.recovered_at_s, Some(16));
        assert!((r.recovery_s.unwrap() - 3.4).abs() < 1e-9);
        assert_eq!(
            r.drained_at_s,
            Some(16),
            "in flight 60 ≤ 1.5 × the pre-fault 50"
        );
        assert_eq!(r.peak_p99_ms, Some(4000.0));
        assert_eq!(r.peak_in_flight, Some(900));
        assert_eq!(r.rows_delayed, 30);
    }

    // A fault that stops the writers too (MySQL restart): nothing is in
    // flight during it; the backlog builds afterwards, while the pipeline
    // reconnects. The empty seconds right after the fault are not the drain.
    #[test]
    fn a_backlog_that_builds_after_the_fault_is_not_drained_before_it() {
        let mut f = vec![20; 8];
        f.extend([0, 0, 0, 0, 5, 150, 300, 450, 600, 300, 12, 10]);
        f.extend([15; 6]);
        let mut p = vec![Some(100); 8];
        p.extend([None, None, None, None, Some(90)]);
        p.extend([None, None, None, None]);
        p.extend([Some(5000), Some(4000), Some(200)]);
        p.extend([Some(100); 6]);
        let r = analyse(
            Sink::Kafka,
            &series(&p, &f),
            8.2,
            11.4,
            Some(100_000),
            |_, _| (0, 100),
        );
        assert_eq!(
            r.drained_at_s,
            Some(18),
            "not 12, where 5 rows were in flight"
        );
        assert_eq!(r.peak_in_flight, Some(600));
        assert_eq!(r.recovered_at_s, Some(20), "19 is still 200 ms, over 150");
    }

    // What CI saw during a path 1 pause: Kafka's p99 jumped for one second
    // (two slow rows out of 150), everything else stayed in band. Not
    // affected; the same second with a third of its rows late is.
    #[test]
    fn one_second_of_a_few_slow_rows_is_not_affected() {
        let mut p = vec![Some(60); 25];
        p[12] = Some(162);
        let f = vec![10; p.len()];
        let run = |late: u64| {
            analyse(
                Sink::Kafka,
                &series(&p, &f),
                8.0,
                24.2,
                Some(61_000),
                |s, _| (if s == 12 { late } else { 0 }, 150),
            )
        };
        let r = run(2);
        assert!(!r.affected, "{r:?}");
        assert_eq!(r.rows_delayed, 2);
        assert_eq!(r.peak_p99_ms, Some(162.0));
        assert!(run(50).affected);
    }

    // CI: a resume that took a minute on a loaded machine ran into the next
    // fault's window; the report names the overlap.
    #[test]
    fn overlapping_windows_are_named() {
        let ev = |target: &str, start: f64, end: Option<f64>| FaultEvent {
            action: "pause".into(),
            target: target.into(),
            control: "native".into(),
            at_s: start,
            duration_s: 5.0,
            started_s: Some(start),
            down_s: Some(start),
            restore_s: Some(start + 5.0),
            ended_s: end,
            error: None,
            left_changed: None,
        };
        let events = [
            ev("a", 8.0, Some(68.2)),
            ev("b", 60.0, Some(70.0)),
            ev("c", 90.0, None),
            ev("d", 69.0, Some(89.0)),
        ];
        assert_eq!(overlapping(&events, 0), ["b pause"]);
        assert_eq!(overlapping(&events, 1), ["a pause", "d pause"]);
        assert!(overlapping(&events, 2).is_empty(), "89 < 90");
    }

    // One good second inside a bad stretch is not recovery: the hold period.
    #[test]
    fn a_single_good_second_is_not_recovery() {
        let mut p = vec![Some(100); 10];
        p.extend([Some(2000), Some(100), Some(2000), Some(2000)]);
        p.extend([Some(100); 6]);
        let f = vec![10; p.len()];
        let r = analyse(
            Sink::Kafka,
            &series(&p, &f),
            9.5,
            10.5,
            Some(100_000),
            |_, _| (0, 100),
        );
        assert_eq!(r.recovered_at_s, Some(14));
    }

    // An unaffected sink recovers at the fault's end; a sink that never comes
    // back has no recovery time.
    #[test]
    fn unaffected_and_never_recovered() {
        let p = vec![Some(100); 20];
        let f = vec![5; 20];
        let r = analyse(
            Sink::Kafka,
            &series(&p, &f),
            8.0,
            10.0,
            Some(100_000),
            |_, _| (0, 100),
        );
        assert_eq!(r.recovered_at_s, Some(10));
        assert_eq!(r.recovery_s, Some(0.0));
        assert_eq!(r.drained_at_s, Some(10));

        let mut p = vec![Some(100); 10];
        p.extend([Some(5000); 10]);
        let mut f = vec![5; 10];
        f.extend([500; 10]);
        let r = analyse(
            Sink::Path2,
            &series(&p, &f),
            10.0,
            12.0,
            Some(100_000),
            |_, _| (1, 1),
        );
        assert_eq!(r.recovered_at_s, None);
        assert_eq!(r.drained_at_s, None);
        assert_eq!(r.rows_delayed, 10, "every second from the start counts");
    }

    // Seconds without samples count only when nothing waits; no pre-fault
    // samples at all: no threshold, nothing claimed.
    #[test]
    fn empty_seconds_and_missing_baseline() {
        let mut s = series(&[Some(100); 10], &[5; 10]);
        for sec in 10..16 {
            s.push(Second {
                second: sec,
                p99_us: None,
                in_flight: Some(if sec < 13 { 100 } else { 0 }),
            });
        }
        let r = analyse(Sink::Path1, &s, 10.0, 11.0, Some(100_000), |_, _| (0, 100));
        assert_eq!(r.recovered_at_s, Some(13));
        let r = analyse(Sink::Path1, &s, 10.0, 11.0, None, |_, _| (0, 100));
        assert_eq!((r.threshold_ms, r.recovered_at_s), (None, Some(13)));
    }

    #[test]
    fn run_missing_is_not_called_lost_and_older_runs_still_read() {
        let r = analyse(Sink::Kafka, &[], 10.0, 15.0, None, |_, _| (0, 100));
        let v = serde_json::to_value(&r).unwrap();
        assert!(
            v.get("lost").is_none() && v.get("run_missing").is_some(),
            "{v}"
        );
        let mut old = v.clone();
        let obj = old.as_object_mut().unwrap();
        obj.remove("run_missing");
        obj.insert("lost".into(), 7.into());
        let back: SinkRecovery = serde_json::from_value(old).unwrap();
        assert_eq!(back.run_missing, 7);
    }
}
