//! Per-row accounting: every version the workers commit is registered here, every
//! observation a sink reports is matched against it, and at the end each sink
//! reports seen, missing, duplicated and unexpected rows.
//!
//! Memory: a version in flight costs about 40 bytes (a compact id and 32
//! bytes, `store`); once seen at every sink it keeps only its id and stamp
//! for the duplicate window. The ticket-relative ids are in `model::keys`.
//!
//! Matching rules (why they are unambiguous): a version is identified by its key
//! and its `bench_ts` stamp; each row is mutated at most once after its insert
//! (an update *or* a delete), so a row has at most two versions. A changelog
//! "delete" whose stamp is that of a row's superseded version while an update is
//! registered is the update's before-image, not a delete, and is ignored.
//! Observations can overtake the worker's commit message (CDC is fast, channels
//! queue), so unmatched observations wait in an early buffer until their commit
//! is registered; those still unmatched at the end are `unexpected`.

mod caveats;
mod cut;
mod ledger;
mod store;
mod task;

#[cfg(test)]
mod tests;

pub use caveats::{Clamped, NegativeHop, SeenWithoutLatency};
pub use cut::{Closed, Cut, CutRequest};
pub use ledger::{Ledger, MatchOutcome, SinkCounts, VisibilityCounts};
pub use store::LedgerMemory;
pub use task::{run_tracker, TrackerIo, TrackerStatus, EARLY_GRACE};

use std::time::Instant;

use crate::model::{OpKind, RowKey, StampMicros};

/// One committed row version, as a worker reports it after the commit ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommittedRow {
    /// The row.
    pub key: RowKey,
    /// What the write did.
    pub op: OpKind,
    /// `bench_ts` of the new version; for a delete, the harness's stamp of the
    /// delete itself (when it was sent), which no sink carries.
    pub stamp: StampMicros,
    /// For an update or a delete, the stamp of the version it replaced or removed
    /// (the before-image a changelog carries), when the worker still knows it.
    pub prev_stamp: Option<StampMicros>,
}

/// A batch of rows committed by one transaction.
#[derive(Debug, Clone)]
pub struct CommitBatch {
    /// When the commit was acknowledged to the worker.
    pub acked_at: Instant,
    /// The rows, in statement order.
    pub rows: Vec<CommittedRow>,
    /// Set when a mid-run audit asked for a cut: the sending worker's tickets
    /// that no later write touches (from its first ticket to its generator's
    /// [`open_from`](crate::tpcds::Generator::open_from)). It holds once this
    /// batch and the worker's earlier ones are registered, which is why it
    /// travels with them.
    pub closed: Option<std::ops::Range<u64>>,
}
