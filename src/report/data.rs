//! [`RunData`]: everything a run directory is rendered from. The `run` command
//! fills it at the end of a run; [`super::load_run`] rebuilds it from a directory.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{RowKey, Sink};
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

/// What the run knows about one sink beyond its latency histograms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SinkRun {
    /// Seen / missing / duplicates / unexpected.
    pub accounting: SinkAccounting,
    /// Detection resolution (µs): the poll interval of a polled sink, `None` when
    /// the sink pushes changes (Kafka, binlog).
    pub resolution_us: Option<u64>,
    /// Estimated offset of the sink server's clock from the harness clock (µs,
    /// server − harness), when measured; qualifies the `SinkServer` series.
    pub clock_offset_us: Option<i64>,
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
    pub caveats: Vec<String>,
    /// The collector's histograms and per-second counters.
    pub stats: RunStats,
    /// The scenario's `[[faults]]` as they happened, with each sink's recovery.
    pub faults: Vec<crate::faults::recovery::FaultRecovery>,
    /// The pipeline's own metrics, one sample per second (empty when not sampled).
    pub metrics: Vec<crate::metrics::MetricsSample>,
}

impl RunData {
    /// The sinks of this run, in report order.
    pub fn sink_list(&self) -> Vec<Sink> {
        self.sinks.keys().copied().collect()
    }
}
