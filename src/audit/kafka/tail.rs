//! A resumable read-back of the changelog topics: the end-of-run audit reads
//! once, the mid-run audits catch up from where the last one stopped, so each
//! reads only the messages appended since.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::{fail, Images, KafkaSource, EARLY, STUCK};
use crate::audit::AuditError;
use crate::model::Table;
use crate::observe::decode::{decode_digested, fast, Format};
use crate::observe::kafka::{self as observer, KafkaConfig};

/// A consumer on every partition of the run's topics and the last images
/// read so far (blocking: run it off the async runtime).
pub struct Tail {
    consumer: BaseConsumer,
    cfg: KafkaConfig,
    /// Topic → table.
    topics: Vec<(String, Table)>,
    /// Per partition: the next offset to read.
    next: HashMap<(String, i32), i64>,
    /// The last images read (`None` while lent out, see [`Tail::take_images`]).
    images: Option<Images>,
}

impl Tail {
    /// A consumer on every partition of the run's topics, from the first
    /// message appended since a minute before the run started.
    pub fn open(src: &KafkaSource, tickets: &Range<u64>) -> Result<Tail, AuditError> {
        let images = Images::new(tickets)?;
        let mut cfg = KafkaConfig::new(src.brokers.clone(), tickets.clone());
        cfg.topic_prefix = src.topic_prefix.clone();
        cfg.format = src.format;
        // A read-back wants throughput, not the observer's latency: fetches
        // of up to 8 MiB a partition (librdkafka's default is 1 MiB; ~7 %
        // faster on a 5-minute run's 300,000 messages, docs/RESULTS.md). Put
        // before the scenario's own settings, which client_config applies
        // in order, so those still win.
        cfg.extra = [
            ("max.partition.fetch.bytes", "8388608"),
            ("fetch.max.bytes", "33554432"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(src.extra.iter().cloned())
        .collect();
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
            // No message since then (`End`, or an error): from the end as it
            // was, for what a later catch-up finds appended.
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
            images: Some(images),
        })
    }

    /// The images read so far, lent out (a mid-run audit compares them):
    /// give them back with [`Tail::give_back`] before the next catch-up.
    pub fn take_images(&mut self) -> Images {
        self.images.take().unwrap_or_default()
    }

    /// Returns the images [`Tail::take_images`] lent out.
    pub fn give_back(&mut self, images: Images) {
        self.images = Some(images);
    }

    /// Reads on until every partition reached the high watermark it had
    /// when this call began.
    pub fn catch_up(&mut self) -> Result<(), AuditError> {
        let Some(images) = self.images.as_mut() else {
            return Err(fail("the images were lent out and not given back"));
        };
        let tickets = self.cfg.tickets.clone();
        let table_of = |topic: &str| {
            self.topics
                .iter()
                .find(|(t, _)| t == topic)
                .map(|(_, t)| *t)
        };
        // Partitions still to read up to their end, and messages to read per table.
        let mut open: HashMap<(String, i32), i64> = HashMap::new();
        let mut messages: BTreeMap<Table, usize> = BTreeMap::new();
        for (key, &next) in &self.next {
            let (_, high) = self
                .consumer
                .fetch_watermarks(&key.0, key.1, self.cfg.connect_timeout)
                .map_err(fail)?;
            if next < high {
                open.insert(key.clone(), high);
                if let Some(table) = table_of(&key.0) {
                    *messages.entry(table).or_default() +=
                        usize::try_from(high - next).unwrap_or(0);
                }
            }
        }
        // Messages outnumber keys only by the updates and deletes.
        for (table, n) in messages {
            images.reserve(table, n);
        }
        let mut last = Instant::now();
        // The canonical text's buffer, reused for every message.
        let mut buf = String::with_capacity(512);
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
            images.messages += 1;
            if observer::prefilter::skip(msg.payload(), &tickets) {
                continue;
            }
            let table = table_of(msg.topic());
            // The stack's format read fast; what that path leaves, and the
            // other formats, by the observer's decoder.
            if let (Format::DebeziumJson, Some(t), Some(p)) =
                (self.cfg.format, table, msg.payload())
            {
                if let Some(f) = fast::debezium(t, p, &mut buf) {
                    if tickets.contains(&f.ticket) {
                        images.set(t, f.ticket, f.item, f.digest);
                        images.appended_at(msg.timestamp().to_millis());
                    }
                    continue;
                }
            }
            // A message the observer could not decode was reported by the run;
            // here it changes no image.
            let Ok(d) = decode_digested(self.cfg.format, table, msg.key(), msg.payload()) else {
                continue;
            };
            for (c, digest) in d.changes.iter().zip(d.digests) {
                if tickets.contains(&c.key.ticket) {
                    images.set(c.key.table, c.key.ticket, c.key.item, digest);
                    images.appended_at(msg.timestamp().to_millis());
                }
            }
        }
        Ok(())
    }
}
