//! `summary.json`: the machine-readable contract of a run directory.
//!
//! Documented fields (stable; others may be added): `scenario`, `target_rate`,
//! `achieved_rate`, `sinks.{binlog,kafka,path1,path2}` each with `seen`, `missing`,
//! `duplicates`, `unexpected`, `latency_us {count,min,p50,p90,p99,p999,max,mean}`,
//! `resolution_us` (null for push sinks) and `ops.{insert,update,delete}`; `client`
//! (`latency_us`, `ops`, `lateness_us`); `slo {passed, breaches}`; `environment`;
//! `run_id`; `started_at` (RFC 3339); `duration_s`; `interrupted`; `caveats`;
//! `harness_memory` (peak RSS, projection, budget, ledger bytes per row).
//! Latencies are in µs and exclude warmup. `histograms` holds every headline
//! histogram (HdrHistogram V2 deflate, base64) keyed by series (`kafka.insert`,
//! `client.update`, `lateness`, `path1.server`), and `intervals` the per-second
//! counters, so `report`/`compare` can re-render from the directory alone.
//! `faults` (present when the scenario has `[[faults]]`): each fault's window
//! and, per sink, recovery time, backlog drain, rows delayed and lost.
//! `audit` (when it ran): per sink (Kafka, path1, path2) and table, rows compared with
//! MySQL, mismatched keys and the time the audit took; `audit.periodic` (with
//! `[audit] every`): per mid-run audit `at_ms` since the load started,
//! `took_ms`, and per sink `tickets`, `rows`, `mismatched`, `keys`, `took_ms`,
//! `error`; `audit.periodic_skipped`.
//! and, per sink, whether it was affected, recovery time, backlog drain, rows
//! delayed and lost. `left_changed` (present when a fault's target could not
//! be brought back): what was left down and the command that restores it.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Hop, OpKind, Sink};
use crate::stats::{encode_histogram, IntervalCounters, LatencySummary, Series};

use super::data::{RunData, SinkAccounting, SinkVisibility, SloVerdict};
use super::{write_file, Exporter, ReportError};
use crate::clock::ClockOffset;
use crate::redact::{redact_json, redact_text, redact_value};

/// Identifies the file type in `format`.
pub const SUMMARY_FORMAT: &str = "tpcds-bench/summary";
/// Version of the `summary.json` layout written by this build.
pub const SUMMARY_VERSION: u32 = 1;
/// File name in the run directory.
pub const SUMMARY_FILE: &str = "summary.json";

/// Per-sink block of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkSummary {
    /// Row accounting (flattened: `seen`, `missing`, `duplicates`, `unexpected`, `missing_keys`).
    #[serde(flatten)]
    pub accounting: SinkAccounting,
    /// End-to-end latency, all ops (µs, after warmup): commit ack → the
    /// sink's own visible moment at a polled sink that has one (see
    /// `visibility`), else → the harness's sighting.
    pub latency_us: LatencySummary,
    /// What bounds the headline percentiles (µs): the visible moments'
    /// uncertainty, else the measured detection window; null for push sinks.
    pub resolution_us: Option<u64>,
    /// A polled sink: commit ack → the harness's sighting (what the poll
    /// alone says), all ops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_us: Option<LatencySummary>,
    /// A polled sink's longest measured detection window (µs): bounds `detected_us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_window_us: Option<u64>,
    /// Sink-server clock minus harness clock, when measured: `offset_us`,
    /// `uncertainty_us`, `probes`, `min_offset_us`, `max_offset_us`.
    pub clock_offset_us: Option<ClockOffset>,
    /// A polled sink: where its latencies end (`source`, `by_source`,
    /// `uncertainty_us`, clock problems `before_ack` / `after_detection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<SinkVisibility>,
    /// Sink's own arrival stamp − `bench_ts` (µs), when the sink stamps arrival.
    pub server_latency_us: Option<LatencySummary>,
    /// End-to-end latency per op.
    pub ops: BTreeMap<OpKind, LatencySummary>,
}

/// The `client` block: write latency as the load generator saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSummary {
    /// Commit ack − intended time, all ops (µs, after warmup).
    pub latency_us: LatencySummary,
    /// Per op.
    pub ops: BTreeMap<OpKind, LatencySummary>,
    /// Send time − intended time (µs): how far the harness fell behind its schedule.
    pub lateness_us: LatencySummary,
}

/// One second of per-second counters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IntervalCountersRow {
    /// Run second (floor of elapsed time since start).
    pub second: u32,
    /// Rows the schedule intended in this second.
    pub target_rows: u64,
    /// Rows committed in this second.
    pub committed_rows: u64,
    /// Late operations.
    pub late: u64,
    /// Dropped operations.
    pub dropped: u64,
    /// Failed operations.
    pub failed: u64,
    /// Row versions first seen per sink.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seen: BTreeMap<Sink, u64>,
    /// In-flight rows per sink, when reported.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub in_flight: BTreeMap<Sink, u64>,
}

impl IntervalCountersRow {
    /// The row for `second`.
    pub fn from_counters(second: u32, c: &IntervalCounters) -> Self {
        IntervalCountersRow {
            second,
            target_rows: c.target_rows,
            committed_rows: c.committed_rows,
            late: c.late,
            dropped: c.dropped,
            failed: c.failed,
            seen: Sink::ALL
                .into_iter()
                .filter(|s| c.seen[s.index()] > 0)
                .map(|s| (s, c.seen[s.index()]))
                .collect(),
            in_flight: Sink::ALL
                .into_iter()
                .filter_map(|s| c.in_flight[s.index()].map(|n| (s, n)))
                .collect(),
        }
    }

    /// Back to counters.
    pub fn to_counters(&self) -> IntervalCounters {
        let mut c = IntervalCounters {
            target_rows: self.target_rows,
            committed_rows: self.committed_rows,
            late: self.late,
            dropped: self.dropped,
            failed: self.failed,
            ..IntervalCounters::default()
        };
        for (s, n) in &self.seen {
            c.seen[s.index()] = *n;
        }
        for (s, n) in &self.in_flight {
            c.in_flight[s.index()] = Some(*n);
        }
        c
    }
}

/// The whole of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SUMMARY_FORMAT`].
    pub format: String,
    /// [`SUMMARY_VERSION`] of the writer.
    pub format_version: u32,
    /// Unique id of the run.
    pub run_id: String,
    /// Scenario name.
    pub scenario: String,
    /// Run start, RFC 3339 UTC.
    pub started_at: DateTime<Utc>,
    /// Load duration (s).
    pub duration_s: f64,
    /// Warmup excluded from headline figures (s).
    pub warmup_s: f64,
    /// Number of leading 1-second intervals excluded as warmup.
    pub warmup_intervals: u32,
    /// True when the run was stopped early.
    pub interrupted: bool,
    /// What the run's faults left down, each with the command that restores
    /// it (empty when the pipeline was left as it was found).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_changed: Vec<crate::faults::restore::LeftChanged>,
    /// Rows the schedule intended.
    pub target_rows: u64,
    /// Intended rows per second.
    pub target_rate: f64,
    /// Rows committed.
    pub achieved_rows: u64,
    /// Committed rows per second.
    pub achieved_rate: f64,
    /// Late operations.
    pub late: u64,
    /// Dropped operations.
    pub dropped: u64,
    /// Failed operations.
    pub failed: u64,
    /// Per sink, keyed `binlog`, `kafka`, `path1`, `path2`.
    pub sinks: BTreeMap<Sink, SinkSummary>,
    /// Per hop of a row's way (`ack_to_binlog`, `binlog_to_kafka`,
    /// `kafka_to_path1`, `binlog_to_path2`): µs between the two moments, on the harness's clock.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hops: BTreeMap<Hop, LatencySummary>,
    /// Each server's clock offset from the harness's (`mysql`, `kafka`,
    /// `warehouse`), where measured.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clock_offsets: BTreeMap<String, ClockOffset>,
    /// A sharded run's shard (`run --shard`), or the shards a merged run joined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<super::ShardInfo>,
    /// Client-side latency.
    pub client: ClientSummary,
    /// SLO verdict.
    pub slo: SloVerdict,
    /// Versions and settings.
    pub environment: BTreeMap<String, String>,
    /// The harness's memory: `peak_rss_bytes` (VmHWM), `projected_bytes`,
    /// `limit_bytes`, `ledger_peak_bytes`, `in_flight_rows`,
    /// `bytes_per_in_flight_row`, `window_rows`, `bytes_per_window_row`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_memory: Option<super::data::HarnessMemory>,
    /// Caveats a reader must know.
    pub caveats: Vec<String>,
    /// The resolved scenario (secrets redacted).
    pub resolved_scenario: serde_json::Value,
    /// Headline histograms by series key, V2 deflate base64.
    pub histograms: BTreeMap<String, String>,
    /// Per-second counters, ascending by second.
    pub intervals: Vec<IntervalCountersRow>,
    /// The scenario's `[[faults]]`: window, and per sink recovery, backlog
    /// drain, rows delayed and lost (see `crate::faults::recovery`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<crate::faults::recovery::FaultRecovery>,
    /// The pipeline's own metrics per second (Flink jobs, restarts, checkpoint
    /// duration, path 1's Kafka lag, MySQL binlog position); `metrics.csv` too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipeline_metrics: Vec<crate::pipeline_metrics::MetricsSample>,
    /// The audit of the sinks' contents against MySQL over the
    /// run's tickets: per sink `rows`, `mismatched`, `took_ms`, `error`, and
    /// per table `rows_mysql`, `rows_sink`, `mismatched`, `keys` (the first 20
    /// differing keys with both sides' canonical text), `more_keys`,
    /// `sums_differ`, `took_ms`; `took_ms` and `mysql_ms` of the whole audit
    /// and of MySQL's side (see `crate::audit`); `periodic` and
    /// `periodic_skipped`, the audits during the run (`[audit] every`);
    /// `kafka_read`, the read-back's messages of the range, repeats and
    /// first/last LogAppendTime (when the topics were read back);
    /// `kafka_tally`, the Kafka observer's tally: `messages`, `agreed`
    /// (with MySQL, so nothing was read back), `unusable` (why not used);
    /// `mysql_tally`, the binlog observer's tally: `changes`, `used` (MySQL's
    /// totals came from it), `sql_because` (why they were computed in MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::AuditReport>,
    /// The snapshot phase (`[snapshot]`): the preload, the jobs' start, per
    /// sink the snapshot's duration, rate, duplicates and the streamed rows'
    /// p99 during and after it, MySQL's load, the preload's audit (see
    /// `crate::snapshot`). Times are seconds since the load started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<crate::snapshot::SnapshotReport>,
}

fn op_map(run: &RunData, series: impl Fn(OpKind) -> Series) -> BTreeMap<OpKind, LatencySummary> {
    OpKind::ALL
        .into_iter()
        .map(|op| (op, run.stats.summary(series(op))))
        .collect()
}

impl Summary {
    /// Builds the summary of `run`.
    pub fn from_run(run: &RunData) -> Result<Summary, ReportError> {
        let stats = &run.stats;
        let sinks = run
            .sinks
            .iter()
            .map(|(&sink, sr)| {
                let server = stats.total(Series::SinkServer(sink));
                let s = SinkSummary {
                    accounting: sr.accounting.clone(),
                    latency_us: LatencySummary::from_option(stats.sink_total(sink).as_ref()),
                    resolution_us: sr.resolution_us,
                    detected_us: stats
                        .total(Series::Detected(sink))
                        .as_deref()
                        .map(LatencySummary::from_histogram),
                    detection_window_us: sr.detection_window_us,
                    clock_offset_us: sr.clock_offset_us,
                    visibility: sr.visibility.clone(),
                    server_latency_us: server.as_deref().map(LatencySummary::from_histogram),
                    ops: op_map(run, |op| Series::Sink(sink, op)),
                };
                (sink, s)
            })
            .collect();
        let client = ClientSummary {
            latency_us: LatencySummary::from_option(stats.client_total().as_ref()),
            ops: op_map(run, Series::Client),
            lateness_us: stats.summary(Series::Lateness),
        };
        let mut histograms = BTreeMap::new();
        for (series, h) in stats.totals().iter() {
            let text = encode_histogram(&h).map_err(|source| ReportError::Histogram {
                what: series.key(),
                source,
            })?;
            histograms.insert(series.key(), text);
        }
        let intervals = stats
            .intervals()
            .iter()
            .map(|(s, i)| IntervalCountersRow::from_counters(s, &i.counters))
            .collect();
        Ok(Summary {
            format: SUMMARY_FORMAT.to_string(),
            format_version: SUMMARY_VERSION,
            run_id: run.run_id.clone(),
            scenario: run.scenario.clone(),
            started_at: run.started_at,
            duration_s: run.duration.as_secs_f64(),
            warmup_s: run.warmup.as_secs_f64(),
            warmup_intervals: stats.warmup_intervals(),
            interrupted: run.interrupted,
            target_rows: run.target_rows,
            target_rate: run.target_rate,
            achieved_rows: run.achieved_rows,
            achieved_rate: run.achieved_rate,
            late: run.late,
            dropped: run.dropped,
            failed: run.failed,
            sinks,
            hops: Hop::ALL
                .into_iter()
                .filter_map(|h| {
                    let t = stats.total(Series::Hop(h))?;
                    Some((h, LatencySummary::from_histogram(&t)))
                })
                .collect(),
            clock_offsets: run.clock_offsets.clone(),
            shards: run.shards.clone(),
            client,
            slo: SloVerdict {
                passed: run.slo.passed,
                breaches: run
                    .slo
                    .breaches
                    .iter()
                    .map(|b| redact_text(b).into_owned())
                    .collect(),
            },
            harness_memory: run.memory,
            environment: run
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), redact_value(k, v).into_owned()))
                .collect(),
            caveats: run
                .caveats
                .iter()
                .map(|c| redact_text(&c.to_string()).into_owned())
                .collect(),
            resolved_scenario: redact_json(&run.resolved_scenario),
            histograms,
            intervals,
            faults: run.faults.clone(),
            left_changed: run.left_changed(),
            pipeline_metrics: run.metrics.clone(),
            audit: run.audit.clone(),
            snapshot: run.snapshot.clone(),
        })
    }
}

/// Writes `summary.json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryJsonExporter;

impl Exporter for SummaryJsonExporter {
    fn name(&self) -> &'static str {
        SUMMARY_FILE
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        let summary = Summary::from_run(run)?;
        let mut text =
            serde_json::to_string_pretty(&summary).map_err(|source| ReportError::Json {
                path: dir.join(SUMMARY_FILE),
                source,
            })?;
        text.push('\n');
        write_file(dir, SUMMARY_FILE, text.as_bytes())
    }
}
