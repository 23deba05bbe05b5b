//! The last stamp the poller saw per key, bounded.
//!
//! A warehouse sink shows rows, not changes, so the poller remembers each
//! key's last stamp: to tell an update from a re-read, and because a delete
//! is only confirmed for a key that was seen present. Kept for every row of
//! the run this grew without end (about 60 B a row, ~200 MB per path in an
//! hour at 1k rows/s). A line can only be updated or deleted while it is in
//! its worker's mutation pool (at most `GenConfig::mutation_pool` of the
//! worker's latest lines), so the oldest keys are forgotten once `cap` newer
//! ones arrived; the cap is set well above every worker's pool together
//! (`cmd::run::observers`), and small when the mix neither updates nor
//! deletes. Matching in the ledger is by stamp, so a forgotten key's update
//! would still match; only its delete could no longer be confirmed, and the
//! cap keeps that out of reach.
//!
//! A key is held as its packed id relative to the run's first ticket
//! (`model::keys::pack`, 8 bytes) with its stamp: about 35 bytes a key with the
//! table's slack and the FIFO, instead of ~80 with full keys. A key outside
//! the run's range (the poll's query excludes them) is not remembered.

use std::collections::VecDeque;

use crate::model::churn::ChurnMap;
use crate::model::keys::pack as pack_key;
use crate::model::{RowKey, StampMicros};

/// A stamp the sink showed without one (`None`).
const NO_STAMP: StampMicros = StampMicros::MIN;

/// Keys with their last stamp, forgetting the oldest first once over `cap`.
#[derive(Debug)]
pub(super) struct Present {
    base: u64,
    map: ChurnMap<StampMicros>,
    /// Keys in the order first seen (a deleted key stays here until evicted).
    order: VecDeque<u64>,
    cap: usize,
}

impl Present {
    /// Up to `cap` keys of tickets from `base` on.
    pub(super) fn new(cap: usize, base: u64) -> Self {
        Present {
            base,
            map: ChurnMap::default(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Sets `key`'s stamp; returns the previous one like `HashMap::insert`.
    pub(super) fn insert(
        &mut self,
        key: RowKey,
        stamp: Option<StampMicros>,
    ) -> Option<Option<StampMicros>> {
        let id = pack_key(self.base, &key)?;
        let prev = self.map.insert(id, stamp.unwrap_or(NO_STAMP));
        if prev.is_none() {
            self.order.push_back(id);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
        prev.map(unstamp)
    }

    pub(super) fn remove(&mut self, key: &RowKey) -> Option<Option<StampMicros>> {
        self.map.remove(&pack_key(self.base, key)?).map(unstamp)
    }

    /// `key`'s last stamp, if remembered (the change watch reads it).
    pub(super) fn get(&self, key: &RowKey) -> Option<Option<StampMicros>> {
        self.map
            .get(&pack_key(self.base, key)?)
            .copied()
            .map(unstamp)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

fn unstamp(s: StampMicros) -> Option<StampMicros> {
    (s != NO_STAMP).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;

    fn k(ticket: u64) -> RowKey {
        RowKey {
            table: Table::StoreSales,
            item: 1,
            ticket,
        }
    }

    #[test]
    fn forgets_the_oldest_keys_beyond_the_cap_and_nothing_else() {
        let mut p = Present::new(3, 0);
        for t in 0..3 {
            assert_eq!(p.insert(k(t), Some(t as i64)), None);
        }
        // An update of a known key is not a new key: nothing is evicted.
        assert_eq!(p.insert(k(0), Some(10)), Some(Some(0)));
        assert_eq!(p.len(), 3);
        p.insert(k(3), Some(3));
        assert_eq!(p.get(&k(0)), None, "the first seen goes first");
        assert_eq!(p.get(&k(1)), Some(Some(1)));
        p.insert(k(2), None);
        assert_eq!(
            p.get(&k(2)),
            Some(None),
            "a version without a stamp is remembered"
        );
        for t in 4..1000 {
            p.insert(k(t), Some(t as i64));
        }
        assert_eq!(p.len(), 3);
        assert!(p.order.len() <= 3);
    }
}
