//! [`RunData`]: everything a run directory is rendered from. The `run` command
//! fills it at the end of a run; [`super::load_run`] rebuilds it from a directory.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::ClockOffset;
use crate::model::{RowKey, Sink, VisibleSource};
use crate::stats::RunStats;

/// Row accounting of one sink at the end of the run (after drain).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SinkAccounting {
    /// Tracked row versions seen at the sink.
    pub seen: u64,
    /// Tracked row versions never seen before the drain timeout: loss.
    pub missing: u64,
    /// Row versions seen more than once.
    pub duplicates: u64,
    /// Changes seen in the run's key range that the harness never wrote.
    pub unexpected: u64,
    /// The first few missing keys (bounded by the tracker), for debugging.
    pub missing_keys: Vec<RowKey>,
}

/// Where a polled sink's latencies end: the sink's own visible moment (and
/// from which source), or the harness's sighting.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SinkVisibility {
    /// The source most latencies came from (`commit_ts`, `arrived_at`, `detected`).
    pub source: VisibleSource,
    /// Latencies recorded per source (sources with none are left out).
    pub by_source: BTreeMap<VisibleSource, u64>,
    /// Largest error bound of a visible moment used (µs): the clock offset's
    /// uncertainty.
    pub uncertainty_us: u64,
    /// Sightings whose visible moment came before the commit ack by more than
    /// its uncertainty (a clock problem; recorded as 0).
    pub before_ack: u64,
    /// Sightings whose visible moment came after the harness saw the row, by
    /// more than its uncertainty (a clock problem; recorded as the sighting).
    pub after_detection: u64,
}

/// What the run knows about one sink beyond its latency histograms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SinkRun {
    /// Seen / missing / duplicates / unexpected.
    pub accounting: SinkAccounting,
    /// What bounds the headline percentiles (µs): the visible moments'
    /// uncertainty where the sink stamped them, else the detection window;
    /// `None` when the sink pushes changes (Kafka, binlog).
    pub resolution_us: Option<u64>,
    /// A polled sink's longest measured detection window (one poll's start to
    /// the next one's answer, µs): what bounds the `detected` figures.
    pub detection_window_us: Option<u64>,
    /// The sink server's clock offset from the harness's (server − harness),
    /// when measured.
    pub clock_offset_us: Option<ClockOffset>,
    /// Where the latencies end (polled sinks).
    pub visibility: Option<SinkVisibility>,
}

/// One shard of a run split over several processes (`run --shard I/N`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// This shard, `0..count`.
    pub index: u32,
    /// Shards in the run.
    pub count: u32,
    /// What every shard of one run shares: scenario name and start second.
    pub group: String,
    /// The common start (`--start-at`).
    pub start_at: DateTime<Utc>,
    /// The shard's own ticket range, `start..end`.
    pub tickets: String,
}

/// The harness's own memory over the run: its peak resident set, what `run`
/// projected before it started against the scenario's budget
/// (`observe.memory_limit_mib`), and the ledger at its largest.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct HarnessMemory {
    /// Peak resident set of the harness process (`VmHWM` of /proc/self/status),
    /// bytes; `None` where the kernel does not say.
    pub peak_rss_bytes: Option<u64>,
    /// The peak `run` projected before it started, bytes.
    pub projected_bytes: u64,
    /// The scenario's budget, bytes.
    pub limit_bytes: u64,
    /// The ledger's heap at its largest (from its tables' capacities), bytes.
    pub ledger_peak_bytes: u64,
    /// The most row versions in flight (not yet seen at every sink) at once.
    pub in_flight_rows: u64,
    /// Ledger bytes per in-flight row version at that moment.
    pub bytes_per_in_flight_row: Option<f64>,
    /// The most row versions in the duplicate window (seen everywhere) at once.
    pub window_rows: u64,
    /// Ledger bytes per row version in the duplicate window at that moment.
    pub bytes_per_window_row: Option<f64>,
}

impl HarnessMemory {
    /// One line for the reports.
    pub fn line(&self) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let rss = self
            .peak_rss_bytes
            .map_or("unknown".to_string(), |b| format!("{:.0} MiB", mib(b)));
        let per = |x: Option<f64>| x.map_or("–".to_string(), |b| format!("{b:.0} B"));
        format!(
            "harness peak RSS {rss} (projected {:.0} MiB, budget {:.0} MiB); ledger peak {:.1} MiB; \
             at most {} rows in flight at {} a row, {} in the duplicate window at {} a row",
            mib(self.projected_bytes),
            mib(self.limit_bytes),
            mib(self.ledger_peak_bytes),
            self.in_flight_rows,
            per(self.bytes_per_in_flight_row),
            self.window_rows,
            per(self.bytes_per_window_row),
        )
    }
}

/// The SLO verdict of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SloVerdict {
    /// True when no objective was breached.
    pub passed: bool,
    /// One human-readable line per breached objective.
    pub breaches: Vec<String>,
}

/// Everything a report is rendered from.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// Scenario name (from the scenario file).
    pub scenario: String,
    /// The scenario file exactly as given; copied to `scenario.toml`.
    pub scenario_source: String,
    /// The validated scenario after overrides, with secrets redacted.
    pub resolved_scenario: serde_json::Value,
    /// Unique id of the run.
    pub run_id: String,
    /// Wall-clock time of run start (interval 0 begins here).
    pub started_at: DateTime<Utc>,
    /// Load duration actually run (shorter than planned when interrupted).
    pub duration: Duration,
    /// Warmup excluded from the headline figures.
    pub warmup: Duration,
    /// True when the run was stopped early (SIGINT/SIGTERM); the report is complete
    /// for what was measured.
    pub interrupted: bool,
    /// Rows the schedule intended to write.
    pub target_rows: u64,
    /// Intended rows per second (mean over the run).
    pub target_rate: f64,
    /// Rows committed.
    pub achieved_rows: u64,
    /// Committed rows per second (mean over the run).
    pub achieved_rate: f64,
    /// Operations sent late.
    pub late: u64,
    /// Operations dropped because the harness could not keep up.
    pub dropped: u64,
    /// Operations that failed.
    pub failed: u64,
    /// The sinks measured in this run (binlog only when enabled).
    pub sinks: BTreeMap<Sink, SinkRun>,
    /// Versions and settings seen (server versions, binlog format, poll intervals...).
    pub environment: BTreeMap<String, String>,
    /// SLO verdict.
    pub slo: SloVerdict,
    /// Anything a reader must know to trust the numbers (clock offsets, sampling...).
    pub caveats: Vec<crate::caveat::Caveat>,
    /// The collector's histograms and per-second counters.
    pub stats: RunStats,
    /// The scenario's `[[faults]]` as they happened, with each sink's recovery.
    pub faults: Vec<crate::faults::recovery::FaultRecovery>,
    /// The pipeline's own metrics, one sample per second (empty when not sampled).
    pub metrics: Vec<crate::pipeline_metrics::MetricsSample>,
    /// Each server's clock offset from the harness's (`mysql`, `kafka`,
    /// `warehouse`), where measured.
    pub clock_offsets: BTreeMap<String, ClockOffset>,
    /// A shard's own entry, or every shard a merged run was made of; empty
    /// for a run in one process.
    pub shards: Vec<ShardInfo>,
    /// The harness's memory (absent in run directories written before it was recorded).
    pub memory: Option<HarnessMemory>,
    /// The audit of the warehouse paths' contents against MySQL (`None`: not run).
    pub audit: Option<crate::audit::AuditReport>,
    /// The snapshot phase (`[snapshot]`; `None`: the run started from the pipeline as it was).
    pub snapshot: Option<crate::snapshot::SnapshotReport>,
}

impl RunData {
    /// The sinks of this run, in report order.
    pub fn sink_list(&self) -> Vec<Sink> {
        self.sinks.keys().copied().collect()
    }

    /// What the run's faults left down (their undo failed), each with the
    /// command that restores it: every report leads with these.
    pub fn left_changed(&self) -> Vec<crate::faults::restore::LeftChanged> {
        self.faults
            .iter()
            .filter_map(|f| f.event.left_changed.clone())
            .collect()
    }
}
