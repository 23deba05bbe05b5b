//! The Kafka sink's last images, one digest per key of the run's range.
//! Memory: the key packed into one u64 (ticket offset in the range, item),
//! 16 bytes a slot with the digest (before: a 24-byte `(i64, i64, u64)` slot,
//! ~52 MB instead of ~36 MB for the 1.5 M keys of a 5-minute run at 5,000
//! rows/s).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::audit::side::{Aggregate, Key};
use crate::audit::AuditError;
use crate::model::Table;

/// The last image of every key of the range, per table: key → digest.
#[derive(Debug, Default)]
pub struct Images {
    /// The range's first ticket: keys are packed relative to it.
    base: u64,
    /// Per table, packed key ([`Images::pack`]) → digest; a deleted key is absent.
    rows: BTreeMap<Table, HashMap<u64, u64>>,
    /// Messages read.
    pub messages: u64,
    /// What was read of the range itself (the snapshot phase's Kafka figures).
    pub read: KafkaRead,
}

/// The messages of the range read back: how many, how many repeated a key
/// already imaged, and when the broker appended the first and the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct KafkaRead {
    /// Messages with a key in the range.
    pub messages: u64,
    /// Of them, images of a key that already had one: updates, and
    /// duplicates where a key is written once (a preload's rows).
    pub repeated: u64,
    /// The first one's broker timestamp (LogAppendTime, Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_ms: Option<i64>,
    /// The last one's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ms: Option<i64>,
}

impl Images {
    /// Images of the tickets of `range`, which must span at most 2³² tickets
    /// (a run reserves 10 M).
    pub(super) fn new(range: &Range<u64>) -> Result<Self, AuditError> {
        if range.end.saturating_sub(range.start) > 1 << 32 {
            return Err(AuditError::Query {
                side: "Kafka".into(),
                message: format!(
                    "the ticket range {}..{} is wider than 2^32 tickets, more than a run can reserve",
                    range.start, range.end
                ),
            });
        }
        Ok(Images {
            base: range.start,
            ..Images::default()
        })
    }

    /// Room for `n` more images of `table` up front: growing a table by
    /// doubling held the old and the new one at once, half as much again at
    /// the peak (issue 26).
    pub(super) fn reserve(&mut self, table: Table, n: usize) {
        self.rows.entry(table).or_default().reserve(n);
    }

    /// A key of the range as one u64: ticket offset (high half), item (low half).
    fn pack(&self, ticket: u64, item: u32) -> u64 {
        ((ticket - self.base) << 32) | u64::from(item)
    }

    fn unpack(&self, id: u64) -> Key {
        (i64::from(id as u32), (self.base + (id >> 32)) as i64)
    }

    /// Sets (`Some`) or removes (`None`) the image of a key of the range.
    pub(super) fn set(&mut self, table: Table, ticket: u64, item: u32, digest: Option<u64>) {
        let id = self.pack(ticket, item);
        let rows = self.rows.entry(table).or_default();
        self.read.messages += 1;
        let had = match digest {
            Some(d) => rows.insert(id, d),
            None => rows.remove(&id),
        };
        self.read.repeated += u64::from(had.is_some() && digest.is_some());
    }

    /// Notes the broker timestamp (Unix ms) of a message of the range.
    pub(super) fn appended_at(&mut self, ms: Option<i64>) {
        let Some(ms) = ms else { return };
        self.read.first_ms = Some(self.read.first_ms.map_or(ms, |f| f.min(ms)));
        self.read.last_ms = Some(self.read.last_ms.map_or(ms, |l| l.max(ms)));
    }

    /// The aggregates of `range` (count and digest sum; Kafka keeps no money sums).
    pub fn aggregate(&self, table: Table, range: &Range<u64>) -> Aggregate {
        self.bucketed(table, range, u64::MAX)
            .remove(&0)
            .unwrap_or_else(|| Aggregate {
                count: 0,
                digest: "0".into(),
                sums: Vec::new(),
            })
    }

    /// The aggregates of each `width`-ticket bucket of `range` that holds rows.
    pub fn bucketed(
        &self,
        table: Table,
        range: &Range<u64>,
        width: u64,
    ) -> HashMap<i64, Aggregate> {
        let mut acc: HashMap<i64, (u64, u128)> = HashMap::new();
        for (k, d) in self.within(table, range) {
            let b = ((k.1 as u64 - range.start) / width.max(1)) as i64;
            let e = acc.entry(b).or_default();
            e.0 += 1;
            e.1 += u128::from(d);
        }
        acc.into_iter()
            .map(|(b, (count, sum))| {
                let digest = sum.to_string();
                (
                    b,
                    Aggregate {
                        count,
                        digest,
                        sums: Vec::new(),
                    },
                )
            })
            .collect()
    }

    /// Each key of `range` with its digest, as hex like the databases' row digests.
    pub fn row_digests(&self, table: Table, range: &Range<u64>) -> HashMap<Key, String> {
        self.within(table, range)
            .map(|(k, d)| (k, format!("{d:015x}")))
            .collect()
    }

    fn within<'a>(
        &'a self,
        table: Table,
        range: &'a Range<u64>,
    ) -> impl Iterator<Item = (Key, u64)> + 'a {
        self.rows
            .get(&table)
            .into_iter()
            .flatten()
            .map(move |(id, d)| (self.unpack(*id), *d))
            .filter(move |(k, _)| k.1 >= 0 && range.contains(&(k.1 as u64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_keep_the_last_image_of_each_key_under_its_full_key() {
        let range = 5_000_000_000..5_000_000_010;
        let mut im = Images::new(&range).unwrap();
        im.set(Table::StoreSales, 5_000_000_009, u32::MAX, Some(7));
        im.set(Table::StoreSales, 5_000_000_000, 3, Some(1));
        im.set(Table::StoreSales, 5_000_000_000, 3, Some(2));
        im.set(Table::StoreSales, 5_000_000_001, 4, Some(5));
        im.set(Table::StoreSales, 5_000_000_001, 4, None);
        im.set(Table::StoreReturns, 5_000_000_000, 3, Some(9));
        let d = im.row_digests(Table::StoreSales, &range);
        assert_eq!(d.len(), 2, "the deleted key is absent: {d:?}");
        assert_eq!(d[&(3, 5_000_000_000)], format!("{:015x}", 2));
        assert_eq!(
            d[&(i64::from(u32::MAX), 5_000_000_009)],
            format!("{:015x}", 7)
        );
        let a = im.aggregate(Table::StoreSales, &(5_000_000_005..5_000_000_010));
        assert_eq!((a.count, a.digest.as_str()), (1, "7"));
        assert_eq!(im.aggregate(Table::StoreReturns, &range).count, 1);
        assert_eq!((im.read.messages, im.read.repeated), (6, 1));
        im.appended_at(Some(20));
        im.appended_at(None);
        im.appended_at(Some(10));
        assert_eq!((im.read.first_ms, im.read.last_ms), (Some(10), Some(20)));
        assert!(Images::new(&(0..(1 << 32) + 1)).is_err());
        assert!(Images::new(&(0..1 << 32)).is_ok());
    }
}
