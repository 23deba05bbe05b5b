//! The Kafka sink's side of the audit: the last image of each key of the
//! run's ticket range, as the Kafka observer's decoder reads it, kept as the
//! digest of its canonical text ([`super::canonical`]). The changelog topics
//! are read back after the drain from the messages appended since the run
//! started (`offsets_for_times`, a minute early for clock skew) to the high
//! watermarks seen when the audit began, so `tpcds-bench audit RUN_DIR` can
//! do the same later and the observer pays nothing during the run. The
//! mid-run audits keep one [`Tail`] and catch up from where they stopped. Memory:
//! one digest per key of the range (~40 bytes each), for the audit's
//! duration only.

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
    /// Per table; a deleted key is absent.
    pub rows: BTreeMap<Table, HashMap<Key, u64>>,
    /// Messages read.
    pub messages: u64,
}

impl Images {
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
            .filter(move |(k, _)| k.1 >= 0 && range.contains(&(k.1 as u64)))
            .map(|(k, d)| (*k, *d))
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
    let mut tail = Tail::open(src, tickets)?;
    tail.catch_up()?;
    Ok(tail.images)
}

/// A read-back that can be resumed: the end-of-run audit reads once, the
/// mid-run audits catch up from where the last one stopped, so each reads
/// only the messages appended since (blocking: run it off the async runtime).
pub struct Tail {
    consumer: BaseConsumer,
    cfg: KafkaConfig,
    topics: Vec<(String, Table)>,
    /// Per partition: the next offset to read.
    next: HashMap<(String, i32), i64>,
    /// The last images read.
    pub images: Images,
}

impl Tail {
    /// A consumer on every partition of the run's topics, from the first
    /// message appended since a minute before the run started.
    pub fn open(src: &KafkaSource, tickets: &Range<u64>) -> Result<Tail, AuditError> {
        let mut cfg = KafkaConfig::new(src.brokers.clone(), tickets.clone());
        cfg.topic_prefix = src.topic_prefix.clone();
        cfg.format = src.format;
        cfg.extra = src.extra.clone();
        let consumer: BaseConsumer = observer::client_config(&cfg, &observer::unique_group_id())
            .create()
            .map_err(fail)?;
        let topics = observer::topics(&cfg);
        let names: Vec<String> = topics.iter().map(|(t, _)| t.clone()).collect();
        let parts = observer::partitions(&consumer, &cfg.brokers, &names, cfg.connect_timeout)
            .map_err(fail)?;
        let since =
            (src.since - chrono::Duration::from_std(EARLY).unwrap_or_default()).timestamp_millis();
        let mut times = TopicPartitionList::new();
        let mut ends = HashMap::new();
        for (topic, ids) in &parts {
            for &p in ids {
                let (_, high) = consumer
                    .fetch_watermarks(topic, p, cfg.connect_timeout)
                    .map_err(fail)?;
                ends.insert((topic.clone(), p), high);
                times
                    .add_partition_offset(topic, p, Offset::Offset(since))
                    .map_err(fail)?;
            }
        }
        let starts = consumer
            .offsets_for_times(times, cfg.connect_timeout)
            .map_err(fail)?;
        let mut assign = TopicPartitionList::new();
        let mut next = HashMap::new();
        for e in starts.elements() {
            let key = (e.topic().to_string(), e.partition());
            // No message since then (`End`, or an error): from the end as it was.
            let start = match e.offset() {
                Offset::Offset(start) => start,
                _ => ends.get(&key).copied().unwrap_or(0),
            };
            assign
                .add_partition_offset(e.topic(), e.partition(), Offset::Offset(start))
                .map_err(fail)?;
            next.insert(key, start);
        }
        consumer.assign(&assign).map_err(fail)?;
        Ok(Tail {
            consumer,
            cfg,
            topics,
            next,
            images: Images::default(),
        })
    }

    /// Reads on until every partition reached the high watermark it had
    /// when this call began.
    pub fn catch_up(&mut self) -> Result<(), AuditError> {
        let tickets = self.cfg.tickets.clone();
        // Partitions still to read up to their end.
        let mut open: HashMap<(String, i32), i64> = HashMap::new();
        for (key, &next) in &self.next {
            let (_, high) = self
                .consumer
                .fetch_watermarks(&key.0, key.1, self.cfg.connect_timeout)
                .map_err(fail)?;
            if next < high {
                open.insert(key.clone(), high);
            }
        }
        let mut last = Instant::now();
        while !open.is_empty() {
            let Some(msg) = self.consumer.poll(Duration::from_millis(200)) else {
                if last.elapsed() > STUCK {
                    let short: Vec<String> =
                        open.keys().map(|(t, p)| format!("{t}[{p}]")).collect();
                    return Err(fail(format!(
                        "no message for {} s while {} were short of their high watermarks",
                        STUCK.as_secs(),
                        short.join(", ")
                    )));
                }
                continue;
            };
            let msg = msg.map_err(fail)?;
            last = Instant::now();
            let key = (msg.topic().to_string(), msg.partition());
            match self.next.get_mut(&key) {
                // Read already (a fetch may deliver a message twice).
                Some(n) if msg.offset() < *n => continue,
                Some(n) => *n = msg.offset() + 1,
                None => continue,
            }
            if open.get(&key).is_some_and(|&end| msg.offset() + 1 >= end) {
                open.remove(&key);
            }
            self.images.messages += 1;
            if observer::prefilter::skip(msg.payload(), &tickets) {
                continue;
            }
            let table = self
                .topics
                .iter()
                .find(|(t, _)| t == msg.topic())
                .map(|(_, t)| *t);
            // A message the observer could not decode was reported by the run;
            // here it changes no image.
            let Ok(d) = decode_digested(self.cfg.format, table, msg.key(), msg.payload()) else {
                continue;
            };
            for (c, digest) in d.changes.iter().zip(d.digests) {
                if !tickets.contains(&c.key.ticket) {
                    continue;
                }
                let rows = self.images.rows.entry(c.key.table).or_default();
                let k = (i64::from(c.key.item), c.key.ticket as i64);
                match digest {
                    Some(d) => rows.insert(k, d),
                    None => rows.remove(&k),
                };
            }
        }
        Ok(())
    }
}

fn fail(e: impl std::fmt::Display) -> AuditError {
    AuditError::Query {
        side: "Kafka".into(),
        message: crate::redact::redact_text(&e.to_string()).into_owned(),
    }
}
