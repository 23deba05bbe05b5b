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
use std::sync::{Arc, Mutex};

use crate::model::{RowKey, StampMicros, Table};

/// One change the run registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expected {
    pub(crate) key: RowKey,
    /// `Some(new bench_ts)` for an update, `None` for a delete.
    pub(crate) update_to: Option<StampMicros>,
}

/// The keys the run updated or deleted, shared by the run (writer) and the
/// warehouse pollers (readers). Cheap to clone; append-only for a run.
/// Register a change after its MySQL transaction committed.
#[derive(Debug, Clone, Default)]
pub struct ChangeWatch {
    log: Arc<Mutex<Vec<Expected>>>,
}

impl ChangeWatch {
    /// An empty watch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a key whose DELETE committed.
    pub fn register_delete(&self, key: RowKey) {
        self.lock().push(Expected {
            key,
            update_to: None,
        });
    }

    /// Registers several deleted keys at once (one lock).
    pub fn register_deletes(&self, keys: impl IntoIterator<Item = RowKey>) {
        self.lock().extend(keys.into_iter().map(|key| Expected {
            key,
            update_to: None,
        }));
    }

    /// Registers a key whose UPDATE committed, with the new version's `bench_ts`.
    pub fn register_update(&self, key: RowKey, new_stamp: StampMicros) {
        self.lock().push(Expected {
            key,
            update_to: Some(new_stamp),
        });
    }

    /// How many changes were registered so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes registered since `cursor`, advancing it.
    fn read_from(&self, cursor: &mut usize) -> Vec<Expected> {
        let log = self.lock();
        let new = log
            .get(*cursor..)
            .map(<[Expected]>::to_vec)
            .unwrap_or_default();
        *cursor = log.len();
        new
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Expected>> {
        // A writer that panicked mid-push leaves a valid Vec: keep going.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One poller's registered changes still to confirm.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    cursor: usize,
    pending: VecDeque<Expected>,
}

impl Pending {
    /// Pulls changes registered since the last call.
    pub(crate) fn refresh(&mut self, watch: &ChangeWatch) {
        self.pending.extend(watch.read_from(&mut self.cursor));
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
        let mut a = Pending::default();
        let mut b = Pending::default();
        w.register_delete(k(Table::StoreSales, 1));
        a.refresh(&w);
        w.register_deletes([k(Table::StoreSales, 2), k(Table::StoreReturns, 3)]);
        w.register_update(k(Table::StoreSales, 4), 99);
        a.refresh(&w);
        b.refresh(&w);
        a.refresh(&w);
        assert_eq!((a.counts(), b.counts(), w.len()), ((3, 1), (3, 1), 4));
    }

    #[test]
    fn deletes_need_the_row_seen_and_batches_are_bounded() {
        let w = ChangeWatch::new();
        let mut p = Pending::default();
        let keys: Vec<RowKey> = (0..5).map(|t| k(Table::StoreSales, t)).collect();
        w.register_deletes(keys.iter().copied());
        w.register_delete(k(Table::StoreReturns, 9));
        p.refresh(&w);
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
        let mut p = Pending::default();
        let a = k(Table::StoreSales, 1);
        let b = k(Table::StoreSales, 2);
        w.register_update(a, 50);
        w.register_update(b, 60);
        p.refresh(&w);
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
