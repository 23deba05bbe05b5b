//! Freshness of derived data and reads under load.
//!
//! Users build answers on the CDC rows: views and materialized views in the
//! warehouse (`warehouse-init/02-derived.sql`), and the streaming analytics
//! topic `tpcds.sales_metrics` (`flink-sql/streaming-analytics.sql`). A row
//! landing in `path1.*` does not mean those answers include it, so the run
//! writes **probe** sales ([`probe`]): ordinary MySQL rows through the
//! pipeline, with a reserved store key ([`PROBE_STORE`], which the workload
//! never writes: its stores are 1, 2, 4, 7, 8, 10) and each its own
//! `ss_sold_date_sk` ([`probe_date_sk`]), so each probe is a new group of the
//! per-store daily result. Probes are tracked by the ledger like every row (at
//! every sink), and additionally at the derived sinks:
//!
//! - [`view`]: polls `derived.store_daily_pathN[_mv]` for the probes' groups;
//!   freshness = first poll that shows the probe's group − its commit ack
//!   (resolution: the poll interval, `[derived] poll_interval`).
//! - [`analytics_topic`]: reads `tpcds.sales_metrics`; freshness = the first window
//!   result of the probe store that includes the probe − its commit ack; and
//!   for every window result, its window end → when it was read.
//! - [`reads`]: TPC-DS-style queries at a fixed rate during the load, latency
//!   from their intended start (open loop).

pub mod analytics_topic;
mod caveats;
pub mod probe;
pub mod reads;
pub mod view;

pub use caveats::{caveats, DerivedCaveat};

use std::time::Instant;

use crate::model::{RowKey, StampMicros};
use crate::observe::feed::{Feed, FeedReader};

/// The store key of probe sales; the workload's stores are {1, 2, 4, 7, 8, 10}.
pub const PROBE_STORE: i32 = 999;

/// Probe `ss_sold_date_sk`s start here, far above any calendar key (TPC-DS
/// dates are ~2,450,000; wall-clock dates ~2,460,000).
pub const PROBE_DATE_BASE: i64 = 100_000_000;

/// Distinct probe dates before they repeat: one per centisecond (≤ 100 probes
/// a second), so a date recurs only after ~231 days.
pub const PROBE_DATE_SPAN: i64 = 2_000_000_000;

/// How many tickets at the top of the run's range are reserved for probes
/// (at 2 probes a second, ~14 hours' worth).
pub const PROBE_TICKETS: u64 = 100_000;

/// The probe date for a wall-clock time (µs): its centisecond, folded into
/// `PROBE_DATE_BASE .. PROBE_DATE_BASE + PROBE_DATE_SPAN` (fits an INTEGER).
pub fn probe_date_sk(wall_us: i64) -> i32 {
    (PROBE_DATE_BASE + (wall_us / 10_000).rem_euclid(PROBE_DATE_SPAN)) as i32
}

/// One committed probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Its row key (`store_sales`, a reserved ticket).
    pub key: RowKey,
    /// Its `bench_ts`.
    pub stamp: StampMicros,
    /// Its `ss_sold_date_sk`: the group it makes in the derived result.
    pub date_sk: i32,
    /// When MySQL acknowledged its commit.
    pub acked_at: Instant,
}

/// Committed probes in commit order, shared by the writer and the observers.
/// Each observer takes them through its own reader (registered when it
/// connects, before the first probe); probes every reader took are forgotten
/// (see [`crate::observe::feed`]), so the board does not grow with the run.
#[derive(Debug, Clone, Default)]
pub struct ProbeBoard(Feed<Probe>);

impl ProbeBoard {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a committed probe.
    pub fn push(&self, p: Probe) {
        self.0.push(p);
    }

    /// A reader of every probe committed from now on.
    pub fn reader(&self) -> FeedReader<Probe> {
        self.0.reader()
    }

    /// How many probes were committed.
    pub fn len(&self) -> usize {
        self.0.pushed() as usize
    }

    /// True when none was.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_dates_are_distinct_per_centisecond_and_fit_an_integer() {
        let t = 1_780_000_000_000_000;
        assert_ne!(probe_date_sk(t), probe_date_sk(t + 10_000));
        assert_eq!(probe_date_sk(t), probe_date_sk(t + 9_999));
        for w in [0, t, i64::MAX / 2] {
            let d = probe_date_sk(w) as i64;
            assert!((PROBE_DATE_BASE..PROBE_DATE_BASE + PROBE_DATE_SPAN).contains(&d));
        }
    }
}
