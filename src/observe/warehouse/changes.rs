//! Changes that arrival polling cannot see, confirmed by key lookups instead.
//!
//! - **Deletes** leave no row to poll for. The run registers each key it deleted
//!   ([`ChangeWatch::register_delete`]) and each poller checks whether the row is
//!   gone. A key is only checked once the poller has seen the row present at its
//!   sink: absence of a row that never arrived proves nothing (the insert may
//!   still be on its way). A row whose insert and delete both reached the sink
//!   between two polls, or that the sink's buffer collapsed (Flink's JDBC sink
//!   reduces an insert and a delete of one key inside one flush to the delete),
//!   is never seen present: its delete stays pending and is reported as
//!   `ObserverStats::deletes_pending`, never timed with a guess.
//! - **Updates** on Cloudberry/Greenplum: row triggers do not run on distributed
//!   tables, so an upsert leaves `arrived_at` at the first arrival and arrival
//!   polling misses the new version. The run registers each key it updated with
//!   the new `bench_ts` ([`ChangeWatch::register_update`]); the poller looks the
//!   key up until it holds that stamp. On PostgreSQL the trigger moves
//!   `arrived_at` and arrival polling usually reports the update first; the
//!   lookup then finds it already seen and drops it (never reported twice).

use std::collections::VecDeque;

use crate::model::{RowKey, StampMicros, Table};
use crate::observe::feed::{Feed, FeedReader};

/// One change the run registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expected {
    pub(crate) key: RowKey,
    /// `Some(new bench_ts)` for an update, `None` for a delete.
    pub(crate) update_to: Option<StampMicros>,
}

/// The keys the run updated or deleted, shared by the run (writer) and the
/// warehouse pollers (readers). Cheap to clone. Register a change after its
/// MySQL transaction committed. Each poller takes every change registered
/// after it was connected; a change every poller has taken is forgotten here
/// (the pollers keep their own unconfirmed ones), so the watch holds only
/// the slowest poller's backlog (see [`crate::observe::feed`]).
#[derive(Debug, Clone, Default)]
pub struct ChangeWatch {
    feed: Feed<Expected>,
}

impl ChangeWatch {
    /// An empty watch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a key whose DELETE committed.
    pub fn register_delete(&self, key: RowKey) {
        self.register_deletes([key]);
    }

    /// Registers several deleted keys at once (one lock).
    pub fn register_deletes(&self, keys: impl IntoIterator<Item = RowKey>) {
        self.feed.extend(keys.into_iter().map(|key| Expected {
            key,
            update_to: None,
        }));
    }

    /// Registers a key whose UPDATE committed, with the new version's `bench_ts`.
    pub fn register_update(&self, key: RowKey, new_stamp: StampMicros) {
        self.feed.push(Expected {
            key,
            update_to: Some(new_stamp),
        });
    }

    /// How many changes were registered so far.
    pub fn len(&self) -> usize {
        self.feed.pushed() as usize
    }

    /// Whether nothing was registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many registered changes are held for a poller that has not taken
    /// them yet (what this watch costs in memory: 32 bytes each).
    pub fn held(&self) -> usize {
        self.feed.held()
    }
}

/// One poller's registered changes still to confirm.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    reader: Option<FeedReader<Expected>>,
    pending: VecDeque<Expected>,
}

impl Pending {
    /// Changes of `watch` registered from now on (none without a watch).
    /// Made when the poller connects, before the run writes.
    pub(crate) fn new(watch: Option<&ChangeWatch>) -> Self {
        Pending {
            reader: watch.map(|w| w.feed.reader()),
            pending: VecDeque::new(),
        }
    }

    /// Pulls changes registered since the last call.
    pub(crate) fn refresh(&mut self) {
        if let Some(r) = &mut self.reader {
            self.pending.extend(r.take());
        }
    }

    /// Up to `max` pending changes of `table` worth a lookup now, oldest first:
    /// deletes of keys seen present, and updates not already seen. Updates
    /// already seen at this sink are dropped. Checked changes go to the back,
    /// so a slow one never starves the others.
    pub(crate) fn checkable(
        &mut self,
        table: Table,
        present: impl Fn(&RowKey) -> Option<Option<StampMicros>>,
        max: usize,
    ) -> Vec<Expected> {
        let mut out = Vec::new();
        let mut rest = VecDeque::with_capacity(self.pending.len());
        while let Some(e) = self.pending.pop_front() {
            let seen = present(&e.key);
            let already = e.update_to.is_some() && seen == Some(e.update_to);
            let ready = match e.update_to {
                None => seen.is_some(),
                Some(_) => true,
            };
            if already {
                continue;
            }
            if out.len() < max && e.key.table == table && ready {
                out.push(e);
            } else {
                rest.push_back(e);
            }
        }
        rest.extend(out.iter().copied());
        self.pending = rest;
        out
    }

    /// Removes confirmed changes.
    pub(crate) fn confirm(&mut self, done: &[Expected]) {
        if !done.is_empty() {
            self.pending.retain(|e| !done.contains(e));
        }
    }

    /// (deletes, updates) still unconfirmed.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let deletes = self
            .pending
            .iter()
            .filter(|e| e.update_to.is_none())
            .count() as u64;
        (deletes, self.pending.len() as u64 - deletes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn k(table: Table, ticket: u64) -> RowKey {
        RowKey {
            table,
            ticket,
            item: 1,
        }
    }

    fn del(key: RowKey) -> Expected {
        Expected {
            key,
            update_to: None,
        }
    }

    #[test]
    fn each_reader_sees_every_change_once() {
        let w = ChangeWatch::new();
        let mut a = Pending::new(Some(&w));
        let mut b = Pending::new(Some(&w));
        w.register_delete(k(Table::StoreSales, 1));
        a.refresh();
        w.register_deletes([k(Table::StoreSales, 2), k(Table::StoreReturns, 3)]);
        w.register_update(k(Table::StoreSales, 4), 99);
        a.refresh();
        b.refresh();
        a.refresh();
        assert_eq!((a.counts(), b.counts(), w.len()), ((3, 1), (3, 1), 4));
        // Both pollers took every change: the watch holds none of them.
        assert_eq!(w.held(), 0);
    }

    // The run-long log this replaced grew by every update and delete; now
    // the watch holds only what a poller has yet to take, however long the
    // run (counted in entries, not timed).
    #[test]
    fn the_watch_holds_only_the_slowest_pollers_backlog() {
        let w = ChangeWatch::new();
        let mut a = Pending::new(Some(&w));
        let mut b = Pending::new(Some(&w));
        for t in 0..100_000 {
            w.register_delete(k(Table::StoreSales, t));
            if t % 100 == 99 {
                a.refresh();
                b.refresh();
                a.pending.clear();
                b.pending.clear();
                assert_eq!(w.held(), 0);
            }
        }
        w.register_update(k(Table::StoreSales, 1), 7);
        a.refresh();
        assert_eq!((w.held(), w.len()), (1, 100_001));
        drop(b);
        assert_eq!(w.held(), 0);
    }

    #[test]
    fn deletes_need_the_row_seen_and_batches_are_bounded() {
        let w = ChangeWatch::new();
        let mut p = Pending::new(Some(&w));
        let keys: Vec<RowKey> = (0..5).map(|t| k(Table::StoreSales, t)).collect();
        w.register_deletes(keys.iter().copied());
        w.register_delete(k(Table::StoreReturns, 9));
        p.refresh();
        let mut present = HashMap::new();
        for key in &keys[..4] {
            present.insert(*key, Some(1));
        }
        present.insert(k(Table::StoreReturns, 9), Some(1));
        let first = p.checkable(Table::StoreSales, |k| present.get(k).copied(), 2);
        assert_eq!(first, vec![del(keys[0]), del(keys[1])]);
        // Unconfirmed checks rotate to the back: the next batch is the others.
        let second = p.checkable(Table::StoreSales, |k| present.get(k).copied(), 2);
        assert_eq!(second, vec![del(keys[2]), del(keys[3])]);
        // keys[4] was never seen present: never checked.
        let third = p.checkable(Table::StoreSales, |k| present.get(k).copied(), 10);
        assert!(!third.contains(&del(keys[4])) && third.len() == 4);
        p.confirm(&third);
        assert_eq!(p.counts(), (2, 0));
        assert_eq!(
            p.checkable(Table::StoreReturns, |k| present.get(k).copied(), 10),
            vec![del(k(Table::StoreReturns, 9))]
        );
    }

    #[test]
    fn updates_are_checked_at_once_and_dropped_when_already_seen() {
        let w = ChangeWatch::new();
        let mut p = Pending::new(Some(&w));
        let a = k(Table::StoreSales, 1);
        let b = k(Table::StoreSales, 2);
        w.register_update(a, 50);
        w.register_update(b, 60);
        p.refresh();
        let mut present = HashMap::new();
        // a's new version was already reported by arrival polling.
        present.insert(a, Some(50));
        present.insert(b, Some(10));
        let got = p.checkable(Table::StoreSales, |k| present.get(k).copied(), 10);
        assert_eq!(
            got,
            vec![Expected {
                key: b,
                update_to: Some(60)
            }]
        );
        assert_eq!(p.counts(), (0, 1));
    }
}
