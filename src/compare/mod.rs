//! Comparing runs: `compare` (two runs side by side per sink, or path 1 vs
//! path 2 of one run) and `gate` (a CI regression gate on p99 and the SLOs).
//!
//! Everything works from saved run directories ([`crate::report::load_run`]):
//! the per-second interval histograms after warmup are the unit of
//! resampling ([`bootstrap`]), the fingerprint says whether two runs are
//! comparable at all ([`fingerprint`]), [`runs`] widens
//! intervals by the spread of several baseline runs, [`student_t`] is the one
//! t quantile both use, [`verdict`] decides, [`slo`] lists the
//! scenario's objectives, [`render`] writes Markdown and [`junit`] JUnit XML.
//! [`merge`] joins the shards of one sharded run into one run.

pub mod bootstrap;
pub mod fingerprint;
pub mod junit;
pub mod merge;
pub mod render;
pub mod runs;
pub mod slo;
pub mod student_t;
pub mod sweeps;
pub mod verdict;

use crate::model::Sink;
use crate::report::RunData;
use crate::stats::{fmt_latency, new_histogram, DeltaSign, Hist, Series};

/// The 1-second end-to-end histograms of `sink` (all ops merged), from the
/// end of warmup to the last second that saw a sample; seconds without
/// samples are kept (empty), so blocks stay consecutive in time.
pub fn sink_seconds(run: &RunData, sink: Sink) -> Vec<Hist> {
    series_seconds(run, &Series::sink_ops(sink))
}

/// Like [`sink_seconds`] for the sum of any `series`.
pub fn series_seconds(run: &RunData, series: &[Series]) -> Vec<Hist> {
    let stats = &run.stats;
    let first = stats.warmup_intervals();
    let per_second: Vec<(u32, Option<Hist>)> = stats
        .intervals()
        .since(first)
        .map(|(s, i)| (s, i.histograms.merged(series.iter().copied())))
        .collect();
    let Some(last) = per_second
        .iter()
        .rev()
        .find(|(_, h)| h.as_ref().is_some_and(|h| !h.is_empty()))
        .map(|(s, _)| *s)
    else {
        return Vec::new();
    };
    let mut out: Vec<Hist> = (first..=last).map(|_| new_histogram()).collect();
    for (s, h) in per_second {
        if let (Some(h), Some(slot)) = (h, out.get_mut((s - first) as usize)) {
            *slot = h;
        }
    }
    out
}

/// The change of one percentile at `sink` from run `base` to run `cur`.
pub fn run_change(
    base: &RunData,
    cur: &RunData,
    sink: Sink,
    opts: &bootstrap::BootstrapOptions,
) -> Option<bootstrap::Change> {
    bootstrap::change(&sink_seconds(base, sink), &sink_seconds(cur, sink), opts)
}

/// The change of one percentile from path 1 to path 2 within `run`, paired by
/// second (the same rows travel both paths in the same seconds).
pub fn paths_change(
    run: &RunData,
    opts: &bootstrap::BootstrapOptions,
) -> Option<bootstrap::Change> {
    let (a, b) = aligned_seconds(
        run,
        &Series::sink_ops(Sink::Path1),
        &Series::sink_ops(Sink::Path2),
    );
    bootstrap::paired_change(&a, &b, opts)
}

/// [`series_seconds`] of `a` and of `b` in one run, padded with empty seconds
/// to the same length: both start at the end of warmup, so index i is the
/// same second on both sides.
fn aligned_seconds(run: &RunData, a: &[Series], b: &[Series]) -> (Vec<Hist>, Vec<Hist>) {
    let mut a = series_seconds(run, a);
    let mut b = series_seconds(run, b);
    let n = a.len().max(b.len());
    a.resize_with(n, new_histogram);
    b.resize_with(n, new_histogram);
    (a, b)
}

/// Percentiles of the per-row difference path 2 − path 1 within `run` (each
/// row's latency on path 2 minus the same row's on path 1), or `None` when the
/// run recorded no pair (older runs, or a path not observed).
pub fn row_deltas(
    run: &RunData,
    quantiles: &[f64],
    opts: &bootstrap::BootstrapOptions,
) -> Option<bootstrap::RowDeltas> {
    let (later, earlier) = aligned_seconds(
        run,
        &[Series::PathsDelta(DeltaSign::Path2Later)],
        &[Series::PathsDelta(DeltaSign::Path2Earlier)],
    );
    bootstrap::row_deltas(&later, &earlier, quantiles, opts)
}

/// A signed latency change for tables: `+12 ms`, `−3.4 ms`, `+1.2 s`.
pub fn fmt_delta(us: f64) -> String {
    let sign = if us < 0.0 { "−" } else { "+" };
    format!("{sign}{}", fmt_latency(us.abs().round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::tiny_run;

    #[test]
    fn seconds_start_after_warmup_and_keep_empty_ones() {
        let run = tiny_run();
        let secs = sink_seconds(&run, Sink::Kafka);
        let warm = run.stats.warmup_intervals();
        let last = run.stats.last_second().unwrap();
        assert!(!secs.is_empty());
        assert!(secs.len() as u32 <= last - warm + 1);
        let total: u64 = secs.iter().map(|h| h.len()).sum();
        assert_eq!(total, run.stats.sink_total(Sink::Kafka).unwrap().len());
    }

    #[test]
    fn deltas_read_as_signed_latencies() {
        assert_eq!(fmt_delta(12_400.0), "+12 ms");
        assert_eq!(fmt_delta(-3_400.0), "−3.4 ms");
        assert_eq!(fmt_delta(1_250_000.0), "+1250 ms");
    }
}
