//! Compact row ids: a [`RowKey`] (24 bytes with its padding) as one `u64`,
//! relative to the run's first ticket, and a version id as the row id plus the
//! version's slot (a row has at most two versions, see `track`).
//!
//! Layout of a row id (63 bits, so a version id `row << 1 | slot` fits a u64):
//! bit 62 clear, bit 61 the table, bits 22..61 the ticket's offset from the
//! base (39 bits: 5.5·10¹¹ tickets, the run's range is 10⁷), bits 0..22 the
//! item (4.2 M items; TPC-DS has 402 k at its largest scale). A key that does
//! not fit (a ticket below the base, a ledger built without one) is interned
//! instead: bit 62 set and an index into a table that is never shrunk. Only
//! registered rows are interned; a lookup never interns.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::model::{RowKey, Table};

const INTERNED: u64 = 1 << 62;
const TABLE_BIT: u64 = 1 << 61;
const ITEM_BITS: u32 = 22;
const OFFSET_BITS: u32 = 39;

/// A version id: `row << 1 | slot`.
pub(crate) fn version(row: u64, slot: usize) -> u64 {
    (row << 1) | slot as u64
}

/// The row of a version id, and its slot.
pub(crate) fn split(version: u64) -> (u64, usize) {
    (version >> 1, (version & 1) as usize)
}

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash (the generator's
/// draws use it too).
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes the u64 ids with splitmix64's finaliser: the ids are structured
/// (item in the low bits), which the table's low-bit bucket index needs mixed,
/// and SipHash would cost more than the lookups it guards.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix64(self.0 ^ u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = mix64(self.0 ^ n);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map keyed by row or version ids.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<MixHasher>>;

/// A row's packed id relative to the ticket `base` (the layout above), if it
/// fits: what the ledger and the warehouse pollers hold instead of a [`RowKey`].
pub(crate) fn pack(base: u64, key: &RowKey) -> Option<u64> {
    let offset = key.ticket.checked_sub(base)?;
    if offset >> OFFSET_BITS != 0 || u64::from(key.item) >> ITEM_BITS != 0 {
        return None;
    }
    let table = match key.table {
        Table::StoreSales => 0,
        Table::StoreReturns => TABLE_BIT,
    };
    Some(table | (offset << ITEM_BITS) | u64::from(key.item))
}

/// Row keys to ids and back.
#[derive(Debug, Default)]
pub(crate) struct RowIds {
    base: u64,
    interned: HashMap<RowKey, u64>,
    keys: Vec<RowKey>,
}

impl RowIds {
    /// Ids relative to `base`, the run's first ticket.
    pub(crate) fn new(base: u64) -> Self {
        RowIds {
            base,
            ..RowIds::default()
        }
    }

    fn packed(&self, key: &RowKey) -> Option<u64> {
        pack(self.base, key)
    }

    /// The id of a row, if it can have been registered.
    pub(crate) fn get(&self, key: &RowKey) -> Option<u64> {
        self.packed(key).or_else(|| self.interned.get(key).copied())
    }

    /// The id of a row being registered.
    pub(crate) fn get_or_intern(&mut self, key: &RowKey) -> u64 {
        if let Some(id) = self.get(key) {
            return id;
        }
        let id = INTERNED | self.keys.len() as u64;
        self.keys.push(*key);
        self.interned.insert(*key, id);
        id
    }

    /// The key of a row id.
    pub(crate) fn key(&self, row: u64) -> RowKey {
        if row & INTERNED != 0 {
            return self.keys[(row & !INTERNED) as usize];
        }
        RowKey {
            table: if row & TABLE_BIT != 0 {
                Table::StoreReturns
            } else {
                Table::StoreSales
            },
            ticket: self.base + ((row & !TABLE_BIT) >> ITEM_BITS),
            item: (row & ((1 << ITEM_BITS) - 1)) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_packed_or_interned() {
        let mut ids = RowIds::new(1_000);
        let keys = [
            RowKey {
                table: Table::StoreSales,
                ticket: 1_000,
                item: 1,
            },
            RowKey {
                table: Table::StoreReturns,
                ticket: 1_000 + (1 << OFFSET_BITS) - 1,
                item: (1 << ITEM_BITS) - 1,
            },
            // Below the base, past the offset range, an item too large: interned.
            RowKey {
                table: Table::StoreSales,
                ticket: 999,
                item: 1,
            },
            RowKey {
                table: Table::StoreReturns,
                ticket: 1_000 + (1 << OFFSET_BITS),
                item: 1,
            },
            RowKey {
                table: Table::StoreSales,
                ticket: 1_000,
                item: 1 << ITEM_BITS,
            },
        ];
        assert_eq!(ids.get(&keys[2]), None, "a lookup does not intern");
        let got: Vec<u64> = keys.iter().map(|k| ids.get_or_intern(k)).collect();
        for (k, id) in keys.iter().zip(&got) {
            assert_eq!(ids.key(*id), *k);
            assert_eq!(ids.get(k), Some(*id));
            assert_eq!(split(version(*id, 1)), (*id, 1));
        }
        let mut distinct = got.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), keys.len());
        assert_eq!(got[2] & INTERNED, INTERNED);
        assert_eq!(got[0] & INTERNED, 0);
    }
}
