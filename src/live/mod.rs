//! The live OpenMetrics endpoint (`run --metrics-addr`, `[live] addr`): what
//! the run's progress line knows, served for Prometheus while the run lasts.
//!
//! Off the hot path by construction: the stats collector task, which already
//! merges every recorder's snapshot once a second for the progress line,
//! publishes a [`Snapshot`] into one mutex once a second ([`Live::publish`]);
//! a scrape copies it out and encodes it ([`encode`]). No worker, observer
//! or tracker touches anything here, and nothing is done per row.
//!
//! Latency is served as a histogram per sink built from the run's headline
//! HdrHistograms (the population of `summary.json`: after warmup, all ops),
//! not as last-interval p50/p99 gauges: buckets add up over any time range
//! and across runs, so `histogram_quantile` gives a p99 over whatever window
//! a dashboard shows, and the whole run's p99 can be checked against the
//! report; a gauge's p99 of one second cannot be averaged into anything.

mod encode;
mod serve;
mod snapshot;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

pub use encode::{encode, BUCKETS_SECONDS};
pub use serve::{bind, serve, LiveError};
pub use snapshot::{LatencyBuckets, SinkSnapshot, Snapshot};

/// Where the run is. Served as the `phase` label of `tpcds_run_phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Connecting, observers getting ready: no load yet.
    Starting = 0,
    /// Load, inside the scenario's warmup (latencies not in the headline).
    Warmup = 1,
    /// Load after warmup.
    Load = 2,
    /// The load has ended; observers wait for the rows still in flight.
    Drain = 3,
    /// Drained: the report is being written (the figures are final).
    Done = 4,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 5] = [
        Phase::Starting,
        Phase::Warmup,
        Phase::Load,
        Phase::Drain,
        Phase::Done,
    ];

    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Warmup => "warmup",
            Phase::Load => "load",
            Phase::Drain => "drain",
            Phase::Done => "done",
        }
    }

    fn from_u8(v: u8) -> Phase {
        Phase::ALL.get(v as usize).copied().unwrap_or(Phase::Done)
    }
}

/// The state one run shares between its collector task (writer, once a
/// second), its run command (phase changes) and the endpoint (reader, once
/// a scrape). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    run: String,
    phase: AtomicU8,
    snapshot: Mutex<Snapshot>,
}

impl Live {
    /// State for the run called `run` (the `run` label of every series).
    pub fn new(run: &str) -> Self {
        Live {
            inner: Arc::new(Inner {
                run: run.to_string(),
                phase: AtomicU8::new(Phase::Starting as u8),
                snapshot: Mutex::new(Snapshot::default()),
            }),
        }
    }

    /// The run's name.
    pub fn run(&self) -> &str {
        &self.inner.run
    }

    /// Moves on to `phase`; never back (the collector's tick, which tells
    /// warmup from load, may come after the run command moved to drain).
    pub fn set_phase(&self, phase: Phase) {
        self.inner.phase.fetch_max(phase as u8, Ordering::Relaxed);
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.inner.phase.load(Ordering::Relaxed))
    }

    /// Replaces the served figures (the collector task, once a second).
    pub fn publish(&self, snapshot: Snapshot) {
        if let Ok(mut s) = self.inner.snapshot.lock() {
            *s = snapshot;
        }
    }

    /// A copy of the served figures (a scrape).
    pub fn snapshot(&self) -> Snapshot {
        self.inner
            .snapshot
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}
