//! Everything a run gathered, handed from its phases to the end of the run
//! (`finish`, which writes the run directory, and `caveats`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::faults::FaultEvent;
use crate::load::WorkerReport;
use crate::model::Sink;
use crate::observe::preflight::PreflightReport;
use crate::observe::ObserverStats;
use crate::plan::Plan;
use crate::scenario::Scenario;
use crate::stats::RunStats;
use crate::track::Ledger;

/// Everything the run gathered.
pub struct Outcome<'a> {
    pub scenario: &'a Scenario,
    pub plan: &'a Plan,
    pub started_at: DateTime<Utc>,
    pub wall_start_us: i64,
    pub tickets: Range<u64>,
    pub workers: Vec<WorkerReport>,
    pub ledger: Ledger,
    pub stats: RunStats,
    pub observers: Vec<(Sink, Result<ObserverStats, String>)>,
    pub observed_env: BTreeMap<String, String>,
    pub preflight: PreflightReport,
    /// Errors met besides the injected faults: the workers', the probes',
    /// the queries', the end-of-run delete check's (no passwords).
    pub errors: Vec<String>,
    pub interrupted: bool,
    pub drained: bool,
    pub drain_took: Duration,
    /// How long the load ran (shorter than the scenario's duration when interrupted).
    pub load_time: Duration,
    /// The scenario's `[[faults]]` as they happened.
    pub fault_events: Vec<FaultEvent>,
    /// The pipeline's own metrics.
    pub metrics: Vec<crate::pipeline_metrics::MetricsSample>,
    /// Failed metric reads (`None`: the sampler did not stop in time).
    pub metric_errors: Option<u64>,
    /// Probes written and queries run (derived and query sinks).
    pub derived: super::derived::Report,
    /// Each server's clock offset from the harness's, where measured.
    pub clock_offsets: BTreeMap<String, crate::clock::ClockOffset>,
    /// This process's shard, when the run is split.
    pub shards: Vec<crate::report::ShardInfo>,
    /// The projected peak and the budget (bytes), see `budget`.
    pub memory: (u64, u64),
    /// The audit of the warehouse paths' contents (`None`: off or interrupted).
    pub audit: Option<crate::audit::AuditReport>,
    /// The snapshot phase (`[snapshot]`).
    pub snapshot: Option<crate::snapshot::SnapshotReport>,
}
