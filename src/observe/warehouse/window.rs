//! The lower bound of each arrival poll and the de-duplication of rows re-read
//! inside the overlap.
//!
//! Why an overlap at all: `arrived_at` is `clock_timestamp()` when the sink wrote
//! the row, not when its transaction committed. A poll whose snapshot was taken
//! while a sink transaction was open cannot see that transaction's rows, yet a
//! later poll would skip them if the watermark had moved past their `arrived_at`.
//!
//! The bound used here is exact when the poller can read `pg_stat_activity`:
//! before each poll's data snapshot, it reads `statement_timestamp()` and the
//! earliest `xact_start` of any other open client transaction. Every row not yet
//! visible to the following snapshot was written by a transaction that was either
//! open then (so its rows are not older than its `xact_start`) or started later
//! (so its rows are not older than that statement's time). The next poll reads
//! from `min(those) - overlap`; `overlap` is only a safety margin, and the
//! lookback is capped (`max_lookback`) so an idle-in-transaction session cannot
//! make every poll re-read the whole run.

use std::collections::{BTreeMap, HashSet};

use crate::model::{RowKey, StampMicros};

/// The next poll's lower bound on `arrived_at` (exclusive), all in µs on the
/// warehouse's clock.
///
/// `stmt_ts` is the bound query's `statement_timestamp()`, `oldest_open` the
/// earliest `xact_start` of other open transactions.
pub(crate) fn next_lower_bound(
    stmt_ts: StampMicros,
    oldest_open: Option<StampMicros>,
    overlap_us: i64,
    max_lookback_us: i64,
) -> StampMicros {
    let base = oldest_open.map_or(stmt_ts, |o| o.min(stmt_ts));
    (base - overlap_us).max(stmt_ts - max_lookback_us)
}

/// Row versions already reported whose `arrived_at` is still inside the window a
/// later poll may re-read. Pruned as the lower bound advances; a hard cap keeps
/// memory bounded even if the bound stalls.
#[derive(Debug)]
pub(crate) struct SeenWindow {
    by_arrival: BTreeMap<StampMicros, Vec<(RowKey, Option<StampMicros>)>>,
    set: HashSet<(RowKey, Option<StampMicros>)>,
    cap: usize,
}

impl SeenWindow {
    pub(crate) fn new(cap: usize) -> Self {
        SeenWindow {
            by_arrival: BTreeMap::new(),
            set: HashSet::new(),
            cap,
        }
    }

    /// Records a row version read at `arrived`; `false` if it was already recorded.
    pub(crate) fn insert_if_new(
        &mut self,
        key: RowKey,
        stamp: Option<StampMicros>,
        arrived: StampMicros,
    ) -> bool {
        if !self.set.insert((key, stamp)) {
            return false;
        }
        self.by_arrival
            .entry(arrived)
            .or_default()
            .push((key, stamp));
        if self.set.len() > self.cap {
            self.drop_oldest();
        }
        true
    }

    /// Forgets versions that the next poll (`arrived_at > bound`) cannot return.
    pub(crate) fn prune_through(&mut self, bound: StampMicros) {
        let keep = self.by_arrival.split_off(&(bound + 1));
        for (_, versions) in std::mem::replace(&mut self.by_arrival, keep) {
            for v in versions {
                self.set.remove(&v);
            }
        }
    }

    fn drop_oldest(&mut self) {
        if let Some((_, versions)) = self.by_arrival.pop_first() {
            for v in versions {
                self.set.remove(&v);
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;

    fn k(ticket: u64) -> RowKey {
        RowKey {
            table: Table::StoreSales,
            ticket,
            item: 7,
        }
    }

    #[test]
    fn bound_follows_oldest_open_transaction() {
        // No open transaction: statement time minus the margin.
        assert_eq!(next_lower_bound(10_000, None, 100, 1_000_000), 9_900);
        // An open transaction started earlier holds the bound back.
        assert_eq!(next_lower_bound(10_000, Some(4_000), 100, 1_000_000), 3_900);
        // A transaction that started after the statement does not move it forward.
        assert_eq!(
            next_lower_bound(10_000, Some(12_000), 100, 1_000_000),
            9_900
        );
        // The lookback is capped.
        assert_eq!(
            next_lower_bound(10_000_000, Some(1), 100, 2_000_000),
            8_000_000
        );
    }

    #[test]
    fn re_read_versions_are_duplicates_until_pruned() {
        let mut w = SeenWindow::new(100);
        assert!(w.insert_if_new(k(1), Some(5), 1_000));
        assert!(!w.insert_if_new(k(1), Some(5), 1_000));
        // A new version of the same key is not a duplicate.
        assert!(w.insert_if_new(k(1), Some(6), 2_000));
        assert!(w.insert_if_new(k(2), None, 3_000));
        w.prune_through(2_000);
        assert_eq!(w.len(), 1);
        assert!(
            w.insert_if_new(k(1), Some(5), 1_000),
            "pruned versions are forgotten"
        );
        assert!(!w.insert_if_new(k(2), None, 3_000));
    }

    #[test]
    fn cap_drops_oldest_arrivals() {
        let mut w = SeenWindow::new(3);
        for t in 0..5 {
            assert!(w.insert_if_new(k(t), Some(1), t as i64 * 10));
        }
        assert_eq!(w.len(), 3);
        assert!(w.insert_if_new(k(0), Some(1), 0), "oldest was dropped");
        assert!(!w.insert_if_new(k(4), Some(1), 40), "newest kept");
    }
}
