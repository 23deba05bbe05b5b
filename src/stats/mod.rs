//! Latency statistics: HdrHistograms (µs, 3 significant digits) per [`Series`],
//! recorded locally by each worker/observer ([`Recorder`]), shipped once a second
//! as [`IntervalSnapshot`]s over a bounded channel, and merged by a single
//! [`Collector`] into 1-second interval histograms aligned to run start plus
//! headline totals that exclude warmup ([`RunStats`]). No I/O.
//!
//! The interval histograms stay accessible ([`RunStats::intervals`]) for the
//! report's time series and for later statistical gating.

mod buckets;
mod codec;
mod collector;
mod histograms;
mod progress;
mod recorder;
mod seconds;
mod series;
mod spill;
mod summary;

pub use buckets::{BucketCounts, SinkBuckets};
pub use codec::{decode_histogram, encode_histogram, encode_v2};
pub use collector::{warmup_intervals, Collector, RunStats, PROGRESS_LAG_SECONDS};
pub use histograms::SeriesHistograms;
pub use progress::{format_ms, Progress, SinkProgress};
pub use recorder::{
    second_of, snapshot_channel, Counter, Gauge, IntervalCounters, IntervalPart, IntervalSnapshot,
    Recorder, SnapshotReceiver, SnapshotSender,
};
pub use seconds::{IntervalStats, Seconds};
pub use series::{new_histogram, DeltaSign, Series, SIGFIGS};
pub use spill::SpillFile;
pub use summary::LatencySummary;

/// The µs histogram type used everywhere.
pub type Hist = hdrhistogram::Histogram<u64>;

/// Errors of the statistics module (histogram encoding only: recording cannot fail).
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A histogram could not be serialized.
    #[error("cannot encode histogram: {0}")]
    Encode(String),
    /// A saved histogram could not be read back (corrupt or not HdrHistogram V2).
    #[error("cannot decode histogram: {0}; the saved run may be corrupt or from another tool")]
    Decode(String),
}

impl StatsError {
    /// Exit-code class: an internal fault (4).
    pub fn exit_code(&self) -> i32 {
        4
    }
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
