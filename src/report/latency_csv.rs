//! `latency.csv`: one row per (sink, op) with the headline percentiles (µs, after
//! warmup). `sink` is `client` for write latency; `op` is an operation, `all`
//! (every op merged), `server` (the sink's own arrival stamp − `bench_ts`) or
//! `lateness` (client send − intended time). Ops never recorded are left out,
//! except `all`, which is always present (empty cells when nothing was seen).

use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::model::OpKind;
use crate::stats::{LatencySummary, Series};

use super::data::RunData;
use super::{write_file, Exporter, ReportError};

/// File name in the run directory.
pub const LATENCY_FILE: &str = "latency.csv";

/// Column names, in the order of the row struct's fields.
pub const HEADER: [&str; 10] = [
    "sink", "op", "count", "min_us", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us",
];

/// One CSV row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyRow {
    /// `client` or a sink name.
    pub sink: &'static str,
    /// Op name, `all`, `server` or `lateness`.
    pub op: &'static str,
    /// Samples.
    pub count: u64,
    /// Minimum (µs).
    pub min_us: Option<u64>,
    /// Median (µs).
    pub p50_us: Option<u64>,
    /// 90th percentile (µs).
    pub p90_us: Option<u64>,
    /// 99th percentile (µs).
    pub p99_us: Option<u64>,
    /// 99.9th percentile (µs).
    pub p999_us: Option<u64>,
    /// Maximum (µs).
    pub max_us: Option<u64>,
    /// Mean (µs, one decimal).
    pub mean_us: Option<f64>,
}

impl LatencyRow {
    fn new(sink: &'static str, op: &'static str, s: LatencySummary) -> Self {
        let v = |x: u64| (!s.is_empty()).then_some(x);
        LatencyRow {
            sink,
            op,
            count: s.count,
            min_us: v(s.min),
            p50_us: v(s.p50),
            p90_us: v(s.p90),
            p99_us: v(s.p99),
            p999_us: v(s.p999),
            max_us: v(s.max),
            mean_us: (!s.is_empty()).then_some((s.mean * 10.0).round() / 10.0),
        }
    }
}

fn push_group(
    rows: &mut Vec<LatencyRow>,
    run: &RunData,
    name: &'static str,
    ops: [Series; 3],
    all: Option<Histogram<u64>>,
    extra: (&'static str, Series),
) {
    for (op, series) in OpKind::ALL.into_iter().zip(ops) {
        let sum = run.stats.summary(series);
        if !sum.is_empty() {
            rows.push(LatencyRow::new(name, op.name(), sum));
        }
    }
    let all = LatencySummary::from_option(all.as_ref());
    rows.push(LatencyRow::new(name, "all", all));
    let sum = run.stats.summary(extra.1);
    if !sum.is_empty() {
        rows.push(LatencyRow::new(name, extra.0, sum));
    }
}

/// The rows of `run`, client first, then sinks in report order.
pub fn rows(run: &RunData) -> Vec<LatencyRow> {
    let stats = &run.stats;
    let mut rows = Vec::new();
    push_group(
        &mut rows,
        run,
        "client",
        Series::client_ops(),
        stats.client_total(),
        ("lateness", Series::Lateness),
    );
    for &sink in run.sinks.keys() {
        push_group(
            &mut rows,
            run,
            sink.name(),
            Series::sink_ops(sink),
            stats.sink_total(sink),
            ("server", Series::SinkServer(sink)),
        );
    }
    rows
}

/// Renders the CSV text.
pub fn render(run: &RunData) -> Result<String, ReportError> {
    super::csv_text(LATENCY_FILE, &HEADER, rows(run))
}

/// Writes `latency.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LatencyCsvExporter;

impl Exporter for LatencyCsvExporter {
    fn name(&self) -> &'static str {
        LATENCY_FILE
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        write_file(dir, LATENCY_FILE, render(run)?.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::tiny_run;

    // HdrHistogram reports a percentile as the top of its bucket and the minimum as
    // the bottom: 4000 µs → 4001, 150 000 µs → 149 888..150 015 (128 µs buckets).
    // The warmup second's samples (5 ms client, 20 ms kafka) are absent.
    #[test]
    fn snapshot() {
        let got = render(&tiny_run());
        let got = got.unwrap_or_else(|e| panic!("{e}"));
        let want = r#"sink,op,count,min_us,p50_us,p90_us,p99_us,p999_us,max_us,mean_us
client,insert,3,1000,2000,4001,4001,4001,4001,2333.7
client,update,1,3000,3001,3001,3001,3001,3001,3001.0
client,all,4,1000,2000,4001,4001,4001,4001,2500.5
client,lateness,1,100,100,100,100,100,100,100.0
kafka,insert,3,10000,12007,30015,30015,30015,30015,17338.7
kafka,update,1,49984,50015,50015,50015,50015,50015,50000.0
kafka,all,4,10000,12007,50015,50015,50015,50015,25504.0
path1,insert,2,149888,150015,250111,250111,250111,250111,200000.0
path1,all,2,149888,150015,250111,250111,250111,250111,200000.0
path1,server,1,139904,140031,140031,140031,140031,140031,139968.0
"#;
        assert_eq!(got, want);
    }

    #[test]
    fn header_even_without_data() {
        let mut run = tiny_run();
        run.stats = crate::stats::RunStats::new(run.warmup);
        run.sinks.clear();
        assert_eq!(
            render(&run).unwrap(),
            "sink,op,count,min_us,p50_us,p90_us,p99_us,p999_us,max_us,mean_us\nclient,all,0,,,,,,,\n"
        );
    }
}
