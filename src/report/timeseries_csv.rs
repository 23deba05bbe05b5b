//! `timeseries.csv`: one row per run second per sink (and `client`): target and
//! achieved rows/s of the load, p50/p99 latency of that second, sample count,
//! rows first seen there and rows in flight. Every second from 0 to the last one
//! that saw anything is present, so gaps show as zero rates rather than missing rows.
//! Warmup seconds are included (`warmup` column) so charts can shade them;
//! `fault` names the `[[faults]]` active in that second.

use std::path::Path;

use serde::Serialize;

use crate::model::Sink;
use crate::stats::{IntervalStats, LatencySummary};

use super::data::RunData;
use super::{write_file, Exporter, ReportError};

/// File name in the run directory.
pub const TIMESERIES_FILE: &str = "timeseries.csv";

/// Column names, in the order of the row struct's fields.
pub const HEADER: [&str; 11] = [
    "second",
    "sink",
    "target_rate",
    "achieved_rate",
    "p50_us",
    "p99_us",
    "count",
    "seen",
    "in_flight",
    "warmup",
    "fault",
];

/// One CSV row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeseriesRow {
    /// Run second.
    pub second: u32,
    /// `client` or a sink name.
    pub sink: &'static str,
    /// Rows/s the schedule intended this second.
    pub target_rate: u64,
    /// Rows/s committed this second.
    pub achieved_rate: u64,
    /// Median latency this second (µs): end-to-end for a sink, write latency for `client`.
    pub p50_us: Option<u64>,
    /// 99th percentile latency this second (µs).
    pub p99_us: Option<u64>,
    /// Latency samples this second.
    pub count: u64,
    /// Rows first seen at the sink this second (empty for `client`).
    pub seen: Option<u64>,
    /// Rows committed but not yet seen at the sink (empty when not reported).
    pub in_flight: Option<u64>,
    /// True for warmup seconds (excluded from headline figures).
    pub warmup: bool,
    /// Faults active during this second (`kafka restart`; `;`-separated), empty when none.
    pub fault: String,
}

/// Whose latency a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Client write latency.
    Client,
    /// End-to-end latency at a sink.
    Sink(Sink),
}

impl Lane {
    /// `client` or the sink's name.
    pub fn name(self) -> &'static str {
        match self {
            Lane::Client => "client",
            Lane::Sink(s) => s.name(),
        }
    }

    /// This lane's latency in one interval, all ops merged.
    pub fn summary(self, interval: &IntervalStats) -> LatencySummary {
        interval.lane(match self {
            Lane::Client => None,
            Lane::Sink(s) => Some(s),
        })
    }
}

/// The rows of `run`, ordered by second then lane.
pub fn rows(run: &RunData) -> Vec<TimeseriesRow> {
    let lanes: Vec<Lane> = std::iter::once(Lane::Client)
        .chain(run.sinks.keys().map(|s| Lane::Sink(*s)))
        .collect();
    let empty = IntervalStats::default();
    let Some(last) = run.stats.last_second() else {
        return Vec::new();
    };
    let windows: Vec<(String, f64, f64)> = run
        .faults
        .iter()
        .filter_map(|f| f.event.window().map(|(a, b)| (f.event.label(), a, b)))
        .collect();
    let mut rows = Vec::new();
    for second in 0..=last {
        let (lo, hi) = (f64::from(second), f64::from(second + 1));
        let fault = windows
            .iter()
            .filter(|(_, a, b)| *a < hi && *b >= lo)
            .map(|(l, _, _)| l.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let interval = run.stats.interval(second).unwrap_or(&empty);
        let c = &interval.counters;
        for &lane in &lanes {
            let s = lane.summary(interval);
            let (seen, in_flight) = match lane {
                Lane::Client => (None, None),
                Lane::Sink(sink) => (Some(c.seen[sink.index()]), c.in_flight[sink.index()]),
            };
            rows.push(TimeseriesRow {
                second,
                sink: lane.name(),
                target_rate: c.target_rows,
                achieved_rate: c.committed_rows,
                p50_us: (!s.is_empty()).then_some(s.p50),
                p99_us: (!s.is_empty()).then_some(s.p99),
                count: s.count,
                seen,
                in_flight,
                warmup: second < run.stats.warmup_intervals(),
                fault: fault.clone(),
            });
        }
    }
    rows
}

/// Renders the CSV text.
pub fn render(run: &RunData) -> Result<String, ReportError> {
    super::csv_text(TIMESERIES_FILE, &HEADER, rows(run))
}

/// Writes `timeseries.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeseriesCsvExporter;

impl Exporter for TimeseriesCsvExporter {
    fn name(&self) -> &'static str {
        TIMESERIES_FILE
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        write_file(dir, TIMESERIES_FILE, render(run)?.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::tiny_run;

    // Every second from 0 appears for every lane, warmup included and flagged;
    // in_flight is empty where the tracker set no gauge that second.
    #[test]
    fn snapshot() {
        let got = render(&tiny_run());
        let got = got.unwrap_or_else(|e| panic!("{e}"));
        let want = r#"second,sink,target_rate,achieved_rate,p50_us,p99_us,count,seen,in_flight,warmup,fault
0,client,2,1,5003,5003,1,,,true,
0,kafka,2,1,20015,20015,1,0,,true,
0,path1,2,1,,,0,0,,true,
1,client,3,3,2000,3001,3,,,false,
1,kafka,3,3,30015,50015,3,3,1,false,
1,path1,3,3,150015,150015,1,1,2,false,
2,client,1,1,4001,4001,1,,,false,
2,kafka,1,1,12007,12007,1,0,,false,
2,path1,1,1,250111,250111,1,0,0,false,
"#;
        assert_eq!(got, want);
    }
}
