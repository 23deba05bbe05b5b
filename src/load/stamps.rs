//! The stamps of recently written sale lines, so an update or a delete can
//! name the version it replaced (its before-image, which a changelog carries).
//!
//! Sized from what the mix can mutate: the generator only mutates lines of its
//! pool ([`crate::tpcds::GenConfig::mutation_pool`]), so twice the pool is
//! remembered (a line can outlive `pool` newer ones in it: a mutation's
//! swap-remove reorders the round-robin), and nothing when the mix has no
//! updates or deletes. A line is held as its ticket's offset in the worker's
//! range and its item, one u64, with its stamp: about 35 bytes with the
//! table's slack and the FIFO, instead of ~75 with full keys.

use std::collections::VecDeque;

use crate::model::churn::ChurnMap;
use crate::model::{RowKey, StampMicros, Table};

/// Bounded FIFO memory of sale lines' latest stamps.
#[derive(Debug, Default)]
pub(super) struct StampMemory {
    base: u64,
    cap: usize,
    stamps: ChurnMap<StampMicros>,
    order: VecDeque<u64>,
}

impl StampMemory {
    /// Remembers up to `cap` lines of tickets from `base` on.
    pub(super) fn new(base: u64, cap: usize) -> Self {
        StampMemory {
            base,
            cap,
            ..StampMemory::default()
        }
    }

    /// A sale line's id: ticket offset and item (items stay below 2³²).
    fn id(&self, key: &RowKey) -> Option<u64> {
        let offset = key.ticket.checked_sub(self.base)?;
        (key.table == Table::StoreSales && offset >> 32 == 0)
            .then(|| (offset << 32) | u64::from(key.item))
    }

    /// Sets a line's stamp; returns the one it replaced, if remembered.
    pub(super) fn set(&mut self, key: RowKey, stamp: StampMicros) -> Option<StampMicros> {
        let id = self.id(&key)?;
        if self.cap == 0 {
            return None;
        }
        let prev = self.stamps.insert(id, stamp);
        if prev.is_none() {
            self.order.push_back(id);
            if self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.stamps.remove(&old);
                }
            }
        }
        prev
    }

    /// A line's latest stamp, if remembered.
    pub(super) fn get(&self, key: &RowKey) -> Option<StampMicros> {
        self.stamps.get(&self.id(key)?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(ticket: u64, item: u32) -> RowKey {
        RowKey {
            table: Table::StoreSales,
            ticket,
            item,
        }
    }

    #[test]
    fn remembers_the_latest_cap_lines_and_nothing_without_a_cap() {
        let mut m = StampMemory::new(1_000, 2);
        assert_eq!(m.set(k(1_000, 7), 1), None);
        assert_eq!(
            m.set(k(1_000, 7), 2),
            Some(1),
            "an update names its before-image"
        );
        m.set(k(1_001, u32::MAX), 3);
        assert_eq!(m.get(&k(1_001, u32::MAX)), Some(3));
        m.set(k(1_002, 1), 4);
        assert_eq!(m.get(&k(1_000, 7)), None, "the oldest line is forgotten");
        assert_eq!(m.get(&k(1_002, 1)), Some(4));
        assert_eq!(m.get(&k(999, 1)), None, "outside the range");
        let mut none = StampMemory::new(0, 0);
        assert_eq!(none.set(k(1, 1), 1), None);
        assert_eq!(none.get(&k(1, 1)), None);
    }
}
