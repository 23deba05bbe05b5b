//! Deletes in the warehouse: a deleted row leaves nothing to poll for, so the
//! run tells the pollers which keys it deleted ([`DeleteWatch`]) and each poller
//! checks whether those rows are gone.
//!
//! A key is only checked once the poller has seen the row present at its sink:
//! absence of a row that never arrived proves nothing (the insert may still be
//! on its way). A row whose insert and delete both reached the sink between two
//! polls, or that the sink's buffer collapsed (Flink's JDBC sink reduces an
//! insert and a delete of one key inside one flush to the delete), is never
//! seen present: its delete stays pending and is reported as
//! `ObserverStats::deletes_pending`, never timed with a guess.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::model::{RowKey, StampMicros, Table};

/// The keys the run deleted, shared by the run (writer) and the warehouse
/// pollers (readers). Cheap to clone; append-only for the length of a run.
#[derive(Debug, Clone, Default)]
pub struct DeleteWatch {
    log: Arc<Mutex<Vec<RowKey>>>,
}

impl DeleteWatch {
    /// An empty watch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a key whose DELETE has committed in MySQL.
    pub fn register(&self, key: RowKey) {
        self.lock().push(key);
    }

    /// Registers several keys at once (one lock).
    pub fn register_all(&self, keys: impl IntoIterator<Item = RowKey>) {
        self.lock().extend(keys);
    }

    /// How many keys were registered so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key was registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys registered since `cursor`, advancing it.
    fn read_from(&self, cursor: &mut usize) -> Vec<RowKey> {
        let log = self.lock();
        let new = log.get(*cursor..).map(<[RowKey]>::to_vec).unwrap_or_default();
        *cursor = log.len();
        new
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RowKey>> {
        // A writer that panicked mid-push leaves a valid Vec: keep going.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One poller's view of the deletes it still has to confirm.
#[derive(Debug, Default)]
pub(crate) struct PendingDeletes {
    cursor: usize,
    pending: VecDeque<RowKey>,
}

impl PendingDeletes {
    /// Pulls keys registered since the last call.
    pub(crate) fn refresh(&mut self, watch: &DeleteWatch) {
        self.pending.extend(watch.read_from(&mut self.cursor));
    }

    /// Up to `max` pending keys of `table` that were seen present at this sink,
    /// oldest first. Keys checked and found still present go to the back, so a
    /// slow delete never starves the others.
    pub(crate) fn checkable(
        &mut self,
        table: Table,
        present: &HashMap<RowKey, Option<StampMicros>>,
        max: usize,
    ) -> Vec<RowKey> {
        let mut out = Vec::new();
        let mut rest = VecDeque::with_capacity(self.pending.len());
        while let Some(k) = self.pending.pop_front() {
            if out.len() < max && k.table == table && present.contains_key(&k) {
                out.push(k);
            } else {
                rest.push_back(k);
            }
        }
        // Checked keys go back at the end; `confirm` removes the gone ones.
        rest.extend(out.iter().copied());
        self.pending = rest;
        out
    }

    /// Removes confirmed keys.
    pub(crate) fn confirm(&mut self, gone: &[RowKey]) {
        if !gone.is_empty() {
            self.pending.retain(|k| !gone.contains(k));
        }
    }

    /// Keys still unconfirmed.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(table: Table, ticket: u64) -> RowKey {
        RowKey { table, ticket, item: 1 }
    }

    #[test]
    fn each_reader_sees_every_key_once() {
        let w = DeleteWatch::new();
        let mut a = PendingDeletes::default();
        let mut b = PendingDeletes::default();
        w.register(k(Table::StoreSales, 1));
        a.refresh(&w);
        w.register_all([k(Table::StoreSales, 2), k(Table::StoreReturns, 3)]);
        a.refresh(&w);
        b.refresh(&w);
        a.refresh(&w);
        assert_eq!((a.len(), b.len(), w.len()), (3, 3, 3));
    }

    #[test]
    fn only_keys_seen_present_are_checked_and_batches_are_bounded() {
        let w = DeleteWatch::new();
        let mut p = PendingDeletes::default();
        let keys: Vec<RowKey> = (0..5).map(|t| k(Table::StoreSales, t)).collect();
        w.register_all(keys.iter().copied());
        w.register(k(Table::StoreReturns, 9));
        p.refresh(&w);
        let mut present = HashMap::new();
        for key in &keys[..4] {
            present.insert(*key, Some(1));
        }
        present.insert(k(Table::StoreReturns, 9), Some(1));
        let first = p.checkable(Table::StoreSales, &present, 2);
        assert_eq!(first, keys[..2].to_vec());
        // Unconfirmed keys rotate to the back: the next batch is the others.
        let second = p.checkable(Table::StoreSales, &present, 2);
        assert_eq!(second, keys[2..4].to_vec());
        // keys[4] was never seen present: never checked.
        let third = p.checkable(Table::StoreSales, &present, 10);
        assert!(!third.contains(&keys[4]) && third.len() == 4);
        p.confirm(&third);
        assert_eq!(p.len(), 2);
        assert_eq!(p.checkable(Table::StoreReturns, &present, 10), vec![k(Table::StoreReturns, 9)]);
    }
}
