//! The latency tables shared by `summary.md` and `report.html`: which rows a sink
//! and the client get, and how resolution and clock offsets are worded.

use crate::model::{OpKind, Sink};
use crate::stats::{LatencySummary, Series};

use super::data::RunData;

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

/// Formats µs for humans: `1.8 ms`, `180 ms`, `12.3 s`.
pub fn fmt_latency(micros: u64) -> String {
    let ms = micros as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// How a sink's detection resolution reads next to its percentiles.
pub(crate) fn resolution(us: Option<u64>) -> String {
    match us {
        Some(us) => format!("≤ {} (poll)", fmt_latency(us)),
        None => "push".to_string(),
    }
}

/// Rows of a sink's table: all ops, each op seen, then the sink-stamped figure.
pub(crate) fn sink_rows(run: &RunData, sink: Sink) -> Vec<TableRow> {
    let stats = &run.stats;
    let sr = &run.sinks[&sink];
    let res = if sink.is_query() {
        // A query's latency is its own duration, counted from its intended start.
        "from intended start".to_string()
    } else {
        resolution(sr.resolution_us)
    };
    let mut rows = vec![TableRow {
        label: "all".into(),
        summary: LatencySummary::from_option(stats.sink_total(sink).as_ref()),
        note: res.clone(),
    }];
    for op in OpKind::ALL {
        let s = stats.summary(Series::Sink(sink, op));
        if !s.is_empty() {
            rows.push(TableRow {
                label: op.to_string(),
                summary: s,
                note: res.clone(),
            });
        }
    }
    let server = stats.summary(Series::SinkServer(sink));
    if !server.is_empty() {
        let note = match sr.clock_offset_us {
            Some(o) => format!(
                "server clock {}{} vs harness",
                if o < 0 { "-" } else { "+" },
                fmt_latency(o.unsigned_abs())
            ),
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
