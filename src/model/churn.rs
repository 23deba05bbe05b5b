//! A hash table of ids that keeps its size under steady insert and remove
//! churn.
//!
//! Why it exists (issue 26): hashbrown, behind `std::collections::HashMap`,
//! leaves a tombstone where an entry was removed. When tombstones have used
//! up the room left for growth, it rehashes in place only if the table is at
//! most half full; otherwise it doubles. The harness's FIFO-capped tables
//! (the pollers' present keys, the writers' stamp memories, the ledger's
//! duplicate window) hold a steady number of ids that is often more than half
//! their table, so each of them doubled about half an hour into a soak at a
//! constant rate, with no more ids in it than before: RSS rose by ~21 MiB at
//! minutes 32–37 of an hour at 1,000 rows/s. This table rebuilds itself at
//! its own size instead, once tombstones fill a quarter of it and the room
//! for growth is used up.

use std::ops::Deref;

use super::keys::IdMap;

/// An [`IdMap`] that clears its tombstones instead of doubling over them.
/// Reads go through `Deref`; every change goes through its own methods.
#[derive(Debug)]
pub(crate) struct ChurnMap<V> {
    map: IdMap<V>,
    /// The capacity right after the table was last allocated or rebuilt:
    /// `full - map.capacity()` is the number of tombstones (hashbrown's
    /// `capacity()` is the entries plus the room left for growth, and only a
    /// tombstone takes room without holding an entry).
    full: usize,
}

impl<V> Default for ChurnMap<V> {
    fn default() -> Self {
        ChurnMap {
            map: IdMap::default(),
            full: 0,
        }
    }
}

impl<V> Deref for ChurnMap<V> {
    type Target = IdMap<V>;

    fn deref(&self) -> &IdMap<V> {
        &self.map
    }
}

impl<V> ChurnMap<V> {
    /// Inserts like `HashMap::insert`, first rebuilding a table whose room is
    /// used up by tombstones.
    pub(crate) fn insert(&mut self, id: u64, v: V) -> Option<V> {
        let cap = self.map.capacity();
        let room = cap - self.map.len();
        let tombstones = self.full.saturating_sub(cap);
        if room <= 1 && tombstones >= self.full / 4 && self.full > 0 {
            self.rebuild(self.map.len() + 1);
        }
        let prev = self.map.insert(id, v);
        // A growth or an in-place rehash leaves no tombstone: its capacity
        // is the new full.
        self.full = self.full.max(self.map.capacity());
        prev
    }

    /// Removes like `HashMap::remove`.
    pub(crate) fn remove(&mut self, id: &u64) -> Option<V> {
        self.map.remove(id)
    }

    /// A mutable entry, like `HashMap::get_mut`.
    pub(crate) fn get_mut(&mut self, id: &u64) -> Option<&mut V> {
        self.map.get_mut(id)
    }

    /// Gives back half the room of a table below a quarter full (a backlog
    /// that drained), so memory follows the entries down as well as up.
    pub(crate) fn shrink_if_sparse(&mut self) {
        if self.full > 1024 && self.map.len() < self.full / 4 {
            self.rebuild(self.map.len() * 2);
        }
    }

    /// Heap bytes of the table: hashbrown keeps at most 7/8 of a power-of-two
    /// bucket count full (at most n − 1 below 8 buckets), one control byte a
    /// bucket.
    pub(crate) fn bytes(&self) -> usize {
        if self.full == 0 {
            return 0;
        }
        let buckets = if self.full < 8 {
            (self.full + 1).next_power_of_two()
        } else {
            (self.full * 8 / 7).next_power_of_two()
        };
        buckets * (std::mem::size_of::<(u64, V)>() + 1)
    }

    /// A fresh table with room for `room` entries, holding these.
    fn rebuild(&mut self, room: usize) {
        let mut fresh =
            IdMap::with_capacity_and_hasher(room.max(self.map.len()), Default::default());
        fresh.extend(self.map.drain());
        self.map = fresh;
        self.full = self.map.capacity();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// What the FIFO below needs of a table.
    trait Fifo {
        fn put(&mut self, id: u64);
        fn take(&mut self, id: u64);
        /// Buckets the table has now (tombstones lower `capacity()`, so
        /// the largest value over a run is the table's size).
        fn buckets(&self) -> usize;
    }

    impl Fifo for IdMap<i64> {
        fn put(&mut self, id: u64) {
            self.insert(id, 1);
        }
        fn take(&mut self, id: u64) {
            self.remove(&id);
        }
        fn buckets(&self) -> usize {
            (self.capacity() * 8 / 7).next_power_of_two()
        }
    }

    impl Fifo for ChurnMap<i64> {
        fn put(&mut self, id: u64) {
            self.insert(id, 1);
        }
        fn take(&mut self, id: u64) {
            self.remove(&id);
        }
        fn buckets(&self) -> usize {
            self.bytes() / (std::mem::size_of::<(u64, i64)>() + 1)
        }
    }

    /// A FIFO of `cap` ids (packed like sale lines) under churn; returns the
    /// table's largest bucket count.
    fn churn(table: &mut impl Fifo, cap: usize, inserts: u64) -> usize {
        let mut order = VecDeque::new();
        let mut most = 0;
        for i in 0..inserts {
            let id = ((i / 5) << 22) | (i % 5);
            table.put(id);
            order.push_back(id);
            if order.len() > cap {
                table.take(order.pop_front().expect("over cap"));
            }
            most = most.max(table.buckets());
        }
        most
    }

    #[test]
    fn a_capped_fifo_keeps_its_table_size_where_a_plain_map_doubles() {
        // 1,200 ids: more than half of the 2,048-bucket table they need.
        let mut plain = IdMap::<i64>::default();
        let mut churned = ChurnMap::<i64>::default();
        // The plain map ends at twice the buckets (what the soak saw).
        assert_eq!(
            churn(&mut plain, 1_200, 200_000),
            4_096,
            "hashbrown no longer doubles over tombstones?"
        );
        assert_eq!(churn(&mut churned, 1_200, 200_000), 2_048);
        assert_eq!(churned.len(), 1_200);
    }

    #[test]
    fn entries_survive_rebuilds_and_a_drained_table_shrinks() {
        let mut m = ChurnMap::<u64>::default();
        for i in 0..50_000u64 {
            m.insert(i, i * 3);
            if i >= 1_000 {
                assert_eq!(m.remove(&(i - 1_000)), Some((i - 1_000) * 3));
            }
        }
        assert_eq!(m.len(), 1_000);
        assert!((49_000..50_000).all(|i| m.get(&i) == Some(&(i * 3))));
        *m.get_mut(&49_999).expect("present") = 7;
        assert_eq!(m.get(&49_999), Some(&7));

        let mut big = ChurnMap::<u64>::default();
        (0..100_000).for_each(|i| {
            big.insert(i, i);
        });
        let before = big.bytes();
        (0..99_000).for_each(|i| {
            big.remove(&i);
        });
        big.shrink_if_sparse();
        assert!(big.bytes() * 8 <= before, "{} of {before}", big.bytes());
        assert!((99_000..100_000).all(|i| big.get(&i) == Some(&i)));
    }
}
