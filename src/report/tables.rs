//! The latency tables shared by `summary.md` and `report.html`: which rows a sink
//! and the client get, and how resolution and clock offsets are worded.

use crate::model::{Hop, OpKind, Sink, VisibleSource};
use crate::stats::{fmt_latency, LatencySummary, Series};

use super::data::{RunData, SinkRun};

/// One row of a latency table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableRow {
    /// First column (`all`, an op, or a derived figure).
    pub label: String,
    /// The numbers.
    pub summary: LatencySummary,
    /// Last column: the resolution bounding these percentiles, or a clock note.
    pub note: String,
}

/// How a sink's detection resolution reads next to its percentiles.
pub(crate) fn resolution(us: Option<u64>) -> String {
    match us {
        Some(us) => format!("≤ {} (poll)", fmt_latency(us)),
        None => "push".to_string(),
    }
}

/// The note beside a polled sink's headline rows: where the latencies end and
/// what bounds them.
fn headline_note(sr: &SinkRun) -> String {
    match &sr.visibility {
        Some(v) if v.source != VisibleSource::Detected => {
            let what = match v.source {
                VisibleSource::CommitTs => "commit ts",
                VisibleSource::ArrivedAt => "arrived_at (≤ commit)",
                VisibleSource::LogAppendTime => "broker append",
                VisibleSource::Detected => unreachable!("matched above"),
            };
            // A delete leaves no row to carry a commit time: the poll times it.
            let polled = if v.by_source.contains_key(&VisibleSource::Detected) {
                format!(
                    "; deletes by poll {}",
                    resolution(sr.detection_window_us.or(sr.resolution_us))
                )
            } else {
                String::new()
            };
            format!("{what} ± {}{polled}", fmt_latency(v.uncertainty_us))
        }
        _ => resolution(sr.resolution_us),
    }
}

/// Rows of a sink's table: all ops, each op seen, the harness's own
/// detection (polled sinks), then the sink-stamped figure.
pub(crate) fn sink_rows(run: &RunData, sink: Sink) -> Vec<TableRow> {
    let stats = &run.stats;
    let sr = &run.sinks[&sink];
    let res = if sink.is_query() {
        // A query's latency is its own duration, counted from its intended start.
        "from intended start".to_string()
    } else {
        headline_note(sr)
    };
    let mut rows = vec![TableRow {
        label: "all".into(),
        summary: LatencySummary::from_option(stats.sink_total(sink).as_ref()),
        note: res.clone(),
    }];
    let stamped = sr
        .visibility
        .as_ref()
        .is_some_and(|v| v.source != VisibleSource::Detected);
    for op in OpKind::ALL {
        let s = stats.summary(Series::Sink(sink, op));
        if !s.is_empty() {
            let note = if stamped && op == OpKind::Delete {
                resolution(sr.detection_window_us)
            } else {
                res.clone()
            };
            rows.push(TableRow {
                label: op.to_string(),
                summary: s,
                note,
            });
        }
    }
    let detected = stats.summary(Series::Detected(sink));
    if stamped && !detected.is_empty() {
        rows.push(TableRow {
            label: "detected (the poll's sighting)".into(),
            summary: detected,
            note: resolution(sr.detection_window_us),
        });
    }
    let server = stats.summary(Series::SinkServer(sink));
    if !server.is_empty() {
        let note = match &sr.clock_offset_us {
            Some(o) => format!("server clock {} vs harness", o.describe()),
            None => "server clock offset unknown".to_string(),
        };
        let label = if sink == Sink::Metrics {
            "window end → result read"
        } else {
            "sink-stamped arrival − bench_ts"
        };
        rows.push(TableRow {
            label: label.into(),
            summary: server,
            note,
        });
    }
    rows
}

/// Rows of the hop table: each hop timed on the harness's clock, with what
/// bounds its ends (a push sighting, a Kafka stamp's millisecond and the
/// broker clock's offset, a warehouse commit's offset uncertainty).
pub(crate) fn hop_rows(run: &RunData) -> Vec<TableRow> {
    let end_note = |sink: Sink| -> String {
        match sink {
            Sink::Binlog => "binlog: push".to_string(),
            Sink::Kafka => match run.clock_offsets.get("kafka") {
                Some(o) => format!("Kafka ms stamp ± {}", fmt_latency(o.uncertainty_us + 500)),
                None => "Kafka: sighting (broker clock unknown)".to_string(),
            },
            _ => match run.sinks.get(&sink).map(headline_note) {
                Some(n) => format!("{sink}: {n}"),
                None => String::new(),
            },
        }
    };
    Hop::ALL
        .into_iter()
        .filter_map(|hop| {
            let summary = run.stats.summary(Series::Hop(hop));
            if summary.is_empty() {
                return None;
            }
            let (from, to) = hop.ends();
            let note = match from {
                Some(f) => format!("{}; {}", end_note(f), end_note(to)),
                None => end_note(to),
            };
            Some(TableRow {
                label: hop.label().to_string(),
                summary,
                note,
            })
        })
        .collect()
}

/// Rows of the client table: all ops, each op, then schedule lateness.
pub(crate) fn client_rows(run: &RunData) -> Vec<TableRow> {
    let stats = &run.stats;
    let mut rows = vec![TableRow {
        label: "all".into(),
        summary: LatencySummary::from_option(stats.client_total().as_ref()),
        note: String::new(),
    }];
    for op in OpKind::ALL {
        let s = stats.summary(Series::Client(op));
        if !s.is_empty() {
            rows.push(TableRow {
                label: op.to_string(),
                summary: s,
                note: String::new(),
            });
        }
    }
    let late = stats.summary(Series::Lateness);
    if !late.is_empty() {
        rows.push(TableRow {
            label: "schedule lateness (send − intended)".into(),
            summary: late,
            note: String::new(),
        });
    }
    rows
}
