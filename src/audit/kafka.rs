//! The Kafka sink's side of the audit: the last image of each key of the
//! run's ticket range, as the Kafka observer's decoder reads it, kept as the
//! digest of its canonical text ([`super::canonical`]). The changelog topics
//! are read back after the drain from the messages appended since the run
//! started (`offsets_for_times`, a minute early for clock skew) to the high
//! watermarks seen when the audit began, so `tpcds-bench audit RUN_DIR` can
//! do the same later and the observer pays nothing during the run. Memory:
//! one digest per key of the range, for the audit's duration only: the key
//! packed into one u64 (ticket offset in the range, item), 16 bytes a slot
//! with the digest (before: a 24-byte `(i64, i64, u64)` slot, ~52 MB instead of
//! ~36 MB for the 1.5 M keys of a 5-minute run at 5,000 rows/s).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::side::{Aggregate, Key};
use super::AuditError;
use crate::model::Table;
use crate::observe::decode::{decode_digested, Format};
use crate::observe::kafka::{self as observer, KafkaConfig};

/// How the audit reads the Kafka sink.
#[derive(Debug, Clone)]
pub struct KafkaSource {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Topic prefix (`tpcds.`).
    pub topic_prefix: String,
    /// Message format.
    pub format: Format,
    /// Extra librdkafka properties of the scenario.
    pub extra: Vec<(String, String)>,
    /// When the run started: messages appended from a minute before are read.
    pub since: chrono::DateTime<chrono::Utc>,
}

/// Slack before the run's start, for the broker's clock (LogAppendTime) or
/// Flink's (CreateTime) running behind the harness's.
const EARLY: Duration = Duration::from_secs(60);
/// A read that gets no message for this long while short of the watermarks fails.
const STUCK: Duration = Duration::from_secs(15);

/// The last image of every key of the range, per table: key → digest.
#[derive(Debug, Default)]
pub struct Images {
    /// The range's first ticket: keys are packed relative to it.
    base: u64,
    /// Per table, packed key ([`Images::pack`]) → digest; a deleted key is absent.
    rows: BTreeMap<Table, HashMap<u64, u64>>,
    /// Messages read.
    pub messages: u64,
}

impl Images {
    /// Images of the tickets of `range`, which must span at most 2³² tickets
    /// (a run reserves 10 M).
    fn new(range: &Range<u64>) -> Result<Self, AuditError> {
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

    /// A key of the range as one u64: ticket offset (high half), item (low half).
    fn pack(&self, ticket: u64, item: u32) -> u64 {
        ((ticket - self.base) << 32) | u64::from(item)
    }

    fn unpack(&self, id: u64) -> Key {
        (i64::from(id as u32), (self.base + (id >> 32)) as i64)
    }

    /// Sets (`Some`) or removes (`None`) the image of a key of the range.
    fn set(&mut self, table: Table, ticket: u64, item: u32, digest: Option<u64>) {
        let id = self.pack(ticket, item);
        let rows = self.rows.entry(table).or_default();
        match digest {
            Some(d) => rows.insert(id, d),
            None => rows.remove(&id),
        };
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

/// The Kafka sink's images: the read started when the audit did (so it
/// overlaps the databases' work), awaited on first use.
pub enum KafkaImages {
    /// Still reading.
    Reading(tokio::task::JoinHandle<Result<Images, AuditError>>),
    /// Read.
    Read(Images),
    /// Failed (the error was returned once).
    Failed,
}

impl KafkaImages {
    /// The images, awaiting the read the first time.
    pub async fn get(&mut self) -> Result<&Images, AuditError> {
        if let KafkaImages::Reading(h) = self {
            let read = match h.await {
                Ok(r) => r,
                Err(e) => Err(AuditError::Query {
                    side: "Kafka".into(),
                    message: format!("the read-back task failed: {e}"),
                }),
            };
            match read {
                Ok(images) => *self = KafkaImages::Read(images),
                Err(e) => {
                    *self = KafkaImages::Failed;
                    return Err(e);
                }
            }
        }
        match self {
            KafkaImages::Read(images) => Ok(images),
            _ => Err(AuditError::Query {
                side: "Kafka".into(),
                message: "the topics could not be read back".into(),
            }),
        }
    }
}

/// Reads the topics back (blocking: run it off the async runtime).
pub fn read(src: &KafkaSource, tickets: &Range<u64>) -> Result<Images, AuditError> {
    let mut cfg = KafkaConfig::new(src.brokers.clone(), tickets.clone());
    cfg.topic_prefix = src.topic_prefix.clone();
    cfg.format = src.format;
    cfg.extra = src.extra.clone();
    let fail = |e: String| AuditError::Query {
        side: "Kafka".into(),
        message: crate::redact::redact_text(&e).into_owned(),
    };
    let consumer: BaseConsumer = observer::client_config(&cfg, &observer::unique_group_id())
        .create()
        .map_err(|e| fail(e.to_string()))?;
    let topics = observer::topics(&cfg);
    let table_of = |topic: &str| topics.iter().find(|(t, _)| t == topic).map(|(_, t)| *t);
    let names: Vec<String> = topics.iter().map(|(t, _)| t.clone()).collect();
    let parts = observer::partitions(&consumer, &cfg.brokers, &names, cfg.connect_timeout)
        .map_err(|e| fail(e.to_string()))?;
    let since =
        (src.since - chrono::Duration::from_std(EARLY).unwrap_or_default()).timestamp_millis();
    let mut times = TopicPartitionList::new();
    let mut ends = HashMap::new();
    for (topic, ids) in &parts {
        for &p in ids {
            let (_, high) = consumer
                .fetch_watermarks(topic, p, cfg.connect_timeout)
                .map_err(|e| fail(e.to_string()))?;
            ends.insert((topic.clone(), p), high);
            times
                .add_partition_offset(topic, p, Offset::Offset(since))
                .map_err(|e| fail(e.to_string()))?;
        }
    }
    let starts = consumer
        .offsets_for_times(times, cfg.connect_timeout)
        .map_err(|e| fail(e.to_string()))?;
    let mut assign = TopicPartitionList::new();
    // Partitions still to read up to their end, and messages to read per table.
    let mut open: HashMap<(String, i32), i64> = HashMap::new();
    let mut messages: BTreeMap<Table, usize> = BTreeMap::new();
    for e in starts.elements() {
        let key = (e.topic().to_string(), e.partition());
        let end = ends.get(&key).copied().unwrap_or(0);
        // No message since then: `End` (or an error): nothing to read.
        let Offset::Offset(start) = e.offset() else {
            continue;
        };
        if start < end {
            assign
                .add_partition_offset(e.topic(), e.partition(), Offset::Offset(start))
                .map_err(|e| fail(e.to_string()))?;
            open.insert(key, end);
            if let Some(table) = table_of(e.topic()) {
                *messages.entry(table).or_default() += usize::try_from(end - start).unwrap_or(0);
            }
        }
    }
    let mut images = Images::new(tickets)?;
    if open.is_empty() {
        return Ok(images);
    }
    // Room for one image per message up front: growing the tables by doubling
    // held the old and the new one at once, half as much again at the peak
    // (issue 26). Messages outnumber keys only by the updates and deletes.
    for (table, n) in messages {
        images.rows.entry(table).or_default().reserve(n);
    }
    consumer.assign(&assign).map_err(|e| fail(e.to_string()))?;
    let mut last = Instant::now();
    while !open.is_empty() {
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            if last.elapsed() > STUCK {
                let short: Vec<String> = open.keys().map(|(t, p)| format!("{t}[{p}]")).collect();
                return Err(fail(format!(
                    "no message for {} s while {} were short of their high watermarks",
                    STUCK.as_secs(),
                    short.join(", ")
                )));
            }
            continue;
        };
        let msg = msg.map_err(|e| fail(e.to_string()))?;
        last = Instant::now();
        let key = (msg.topic().to_string(), msg.partition());
        if let Some(&end) = open.get(&key) {
            if msg.offset() + 1 >= end {
                open.remove(&key);
            }
            if msg.offset() >= end {
                continue;
            }
        } else {
            continue;
        }
        images.messages += 1;
        if observer::prefilter::skip(msg.payload(), tickets) {
            continue;
        }
        let table = table_of(msg.topic());
        // A message the observer could not decode was reported by the run;
        // here it changes no image.
        let Ok(d) = decode_digested(cfg.format, table, msg.key(), msg.payload()) else {
            continue;
        };
        for (c, digest) in d.changes.iter().zip(d.digests) {
            if !tickets.contains(&c.key.ticket) {
                continue;
            }
            images.set(c.key.table, c.key.ticket, c.key.item, digest);
        }
    }
    Ok(images)
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
        assert!(Images::new(&(0..(1 << 32) + 1)).is_err());
        assert!(Images::new(&(0..1 << 32)).is_ok());
    }
}
