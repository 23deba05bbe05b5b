//! The Kafka observer: reads the changelog topics `{prefix}store_sales` and
//! `{prefix}store_returns` and reports each row change of the run.
//!
//! It uses a `BaseConsumer` polled from one blocking thread rather than a
//! `StreamConsumer`: no waker hand-off between librdkafka's queue and the async
//! runtime, and the message is stamped (`seen_at`) on the thread that polled it.
//! Partitions are assigned explicitly at the high watermarks captured in
//! [`KafkaObserver::start`], before the load starts, so no message of the run can
//! be skipped by `auto.offset.reset=latest` or by rebalance timing.
//!
//! A consumer that stops fetching while its partitions grow (a librdkafka
//! failure mode after a broker restart) is replaced at its own offsets: see
//! [`stall`].
//!
//! A message's Kafka timestamp is reported as `server_arrival` only when the
//! topic uses LogAppendTime (the broker's clock); CreateTime is the producer's
//! (Flink's) clock and is only counted. The broker's clock offset is measured
//! at start and at the end ([`clock`]), so a LogAppendTime is also reported as
//! the moment of the append on the harness's clock (`visible`), which times the
//! hops binlog → Kafka → path 1.

pub mod clock;
pub mod prefilter;
mod setup;
pub(crate) mod stall;
pub mod tally;

use std::ops::Range;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, Timestamp};
use tokio::sync::{mpsc, watch};

use super::decode::{decode, Format};
use super::{in_range, ObserveError, ObserverStats};
use crate::clock::OffsetTracker;
use crate::model::{Observation, Sink, Table, Visible, VisibleSource};
use crate::redact::redact_text;

pub use setup::{
    assign_topics_at_high_watermarks, client_config, partitions, target_name, topics,
    unique_group_id, StartOffset,
};

/// Errors further apart than this are separate incidents, not one outage.
const ERROR_QUIET: Duration = Duration::from_secs(15);

/// What the Kafka observer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaConfig {
    /// `bootstrap.servers`, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Topic name prefix; topics are `{prefix}store_sales` and `{prefix}store_returns`.
    pub topic_prefix: String,
    /// Message format on the topics.
    pub format: Format,
    /// The run's ticket numbers; other rows are ignored.
    pub tickets: Range<u64>,
    /// At most this many observations per batch sent to the tracker.
    pub batch_max: usize,
    /// Timeout for metadata and watermark requests at start.
    pub connect_timeout: Duration,
    /// After this long with only consumer errors and no message, a warning is
    /// printed (librdkafka keeps reconnecting with backoff; the run goes on).
    pub fault_after: Duration,
    /// After this long without a message, the high watermarks are checked
    /// once a second; a partition with unread offsets at two checks in a row
    /// gets the consumer replaced at its own offsets (see [`stall`]).
    pub stall_after: Duration,
    /// Extra librdkafka properties, applied last (override the defaults).
    pub extra: Vec<(String, String)>,
    /// Keep a [`tally`] of the images for the end-of-run audit (Debezium
    /// JSON only; other formats are read back).
    pub tally: bool,
}

impl KafkaConfig {
    /// Defaults: prefix `tpcds.`, `debezium-json`, batches of 512, 10 s connect
    /// timeout, a warning after 30 s of persistent errors, a stalled consumer
    /// replaced after 4 s (3 s quiet, then two checks).
    pub fn new(brokers: impl Into<String>, tickets: Range<u64>) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            topic_prefix: "tpcds.".to_string(),
            format: Format::DebeziumJson,
            tickets,
            batch_max: 512,
            connect_timeout: Duration::from_secs(10),
            fault_after: Duration::from_secs(30),
            stall_after: Duration::from_secs(3),
            extra: Vec::new(),
            tally: false,
        }
    }
}

/// A connected observer, assigned at the high watermarks: ready for the load.
pub struct KafkaObserver {
    cfg: KafkaConfig,
    consumer: BaseConsumer,
    group_id: String,
    starts: Vec<StartOffset>,
    /// The broker clock's offset (`Err`: why it could not be measured).
    clock: Result<OffsetTracker, String>,
}

impl std::fmt::Debug for KafkaObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaObserver")
            .field("brokers", &self.cfg.brokers)
            .field("group_id", &self.group_id)
            .field("starts", &self.starts)
            .finish()
    }
}

impl KafkaObserver {
    /// Connects, checks the topics exist, and assigns every partition at its
    /// current high watermark. When this returns, the observer is ready: any
    /// message produced from now on will be read.
    pub async fn start(cfg: KafkaConfig) -> Result<Self, ObserveError> {
        let (cfg, consumer, group_id, starts) = tokio::task::spawn_blocking(move || {
            let group_id = unique_group_id();
            let consumer: BaseConsumer = client_config(&cfg, &group_id).create().map_err(|e| {
                ObserveError::misconfigured(
                    setup::target_name(&cfg.brokers),
                    format!("cannot create a Kafka consumer: {e}"),
                    "check the Kafka settings in the scenario's [targets.kafka]",
                )
            })?;
            let starts = setup::assign_at_high_watermarks(&consumer, &cfg)?;
            Ok((cfg, consumer, group_id, starts))
        })
        .await
        .map_err(|e| ObserveError::fault("kafka observer", e))??;
        let clock = clock::measure(
            &cfg.brokers,
            &cfg.topic_prefix,
            &cfg.extra,
            cfg.connect_timeout,
        )
        .await;
        if let Err(e) = &clock {
            eprintln!("kafka observer: the broker's clock offset is unknown ({e})");
        }
        Ok(KafkaObserver {
            cfg,
            consumer,
            group_id,
            starts,
            clock,
        })
    }

    /// The consumer group id used (unique per run, never committed).
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// Where each partition is read from.
    pub fn start_offsets(&self) -> &[StartOffset] {
        &self.starts
    }

    /// Reads until `stop` is `true` or `tx` is closed, sending batches of
    /// observations. Returns the counters. Consumer errors (a broker restarting)
    /// are counted (`poll_errors`) while librdkafka reconnects; only a fatal
    /// client error is a fault (exit code 4).
    pub async fn run(
        self,
        tx: mpsc::Sender<Vec<Observation>>,
        stop: watch::Receiver<bool>,
    ) -> Result<ObserverStats, ObserveError> {
        let (brokers, prefix, extra, timeout) = (
            self.cfg.brokers.clone(),
            self.cfg.topic_prefix.clone(),
            self.cfg.extra.clone(),
            self.cfg.connect_timeout,
        );
        let (mut stats, start_clock) =
            tokio::task::spawn_blocking(move || self.run_blocking(&tx, &stop))
                .await
                .map_err(|e| ObserveError::fault("kafka observer", e))??;
        // Measured again at the end: the two estimates' spread is drift.
        if let Ok(mut tracker) = start_clock {
            if let Ok(end) = clock::measure(&brokers, &prefix, &extra, timeout).await {
                tracker.absorb(&end);
            }
            stats.clock_offset = tracker.summary();
        }
        Ok(stats)
    }

    fn run_blocking(
        mut self,
        tx: &mpsc::Sender<Vec<Observation>>,
        stop: &watch::Receiver<bool>,
    ) -> Result<(ObserverStats, Result<OffsetTracker, String>), ObserveError> {
        let topics = setup::topics(&self.cfg);
        let mut stats = ObserverStats::new(Sink::Kafka);
        let mut batch = Vec::with_capacity(self.cfg.batch_max);
        // (first, last) consumer error of the current error streak.
        let mut erroring: Option<(Instant, Instant)> = None;
        let mut warned = false;
        let target = setup::target_name(&self.cfg.brokers);
        let mut watch = stall::StallWatch::new(&self.starts, self.cfg.stall_after, Instant::now());
        // The tally's digests are taken on its own thread: here only the
        // payloads of the run's range are copied (see [`tally`]).
        let mut counter = (self.cfg.tally && self.cfg.format == Format::DebeziumJson)
            .then(|| tally::Counter::start(self.cfg.tickets.clone()).ok())
            .flatten();
        let mut pending = Vec::new();
        while !*stop.borrow() {
            // Block briefly for the first message, then drain what is already
            // there without waiting, so a batch never holds a message back.
            let mut timeout = Duration::from_millis(100);
            loop {
                match self.consumer.poll(timeout) {
                    None => break,
                    Some(Err(e)) => {
                        if let Some((code, reason)) = self.consumer.client().fatal_error() {
                            return Err(ObserveError::fault(target, format!("{code:?}: {reason}")));
                        }
                        // librdkafka reconnects by itself and re-reports failures on
                        // each attempt (backoff at most 10 s): errors that keep coming
                        // for `fault_after` are a fault, an isolated one is not.
                        let now = Instant::now();
                        let first = match erroring {
                            Some((first, last)) if now - last < ERROR_QUIET => first,
                            _ => now,
                        };
                        stats.poll_errors += 1;
                        if first == now {
                            // Once per outage: what librdkafka said when it began.
                            eprintln!(
                                "kafka observer: {} (librdkafka reconnects by itself)",
                                redact_text(&e.to_string())
                            );
                        }
                        if now - first >= self.cfg.fault_after && !warned {
                            // Keep reading: the broker may come back (a restart),
                            // and what never arrives is reported missing.
                            eprintln!(
                                "kafka observer: only errors for {} s ({}); still retrying",
                                (now - first).as_secs(),
                                redact_text(&e.to_string())
                            );
                            warned = true;
                        }
                        erroring = Some((first, now));
                        break;
                    }
                    Some(Ok(msg)) => {
                        let seen_at = Instant::now();
                        if erroring.take().is_some() {
                            stats.reconnects += 1;
                        }
                        warned = false;
                        let offset = msg.offset();
                        if let Some(s) =
                            watch.delivered(msg.topic(), msg.partition(), offset, seen_at)
                        {
                            stall::record(&mut stats, "kafka observer", &s);
                        }
                        let table = topics
                            .iter()
                            .find(|(t, _)| t == msg.topic())
                            .map(|(_, t)| *t);
                        let kept = self.handle(&msg, table, seen_at, &mut batch, &mut stats);
                        if kept && counter.is_some() {
                            pending.push((table, msg.payload().unwrap_or_default().to_vec()));
                        }
                    }
                }
                if batch.len() >= self.cfg.batch_max {
                    break;
                }
                timeout = Duration::ZERO;
            }
            if !batch.is_empty() {
                // Sent at its length: a fresh `batch_max` buffer per batch made
                // every queued batch ~50 KB (512 × 96 B) however few rows it held, up to
                // 1,024 of them while the tracker lagged (issue 26). Not
                // `mem::take`: `batch` keeps its buffer for the next batch.
                #[allow(clippy::drain_collect)]
                let full: Vec<Observation> = batch.drain(..).collect();
                stats.batches += 1;
                if tx.blocking_send(full).is_err() {
                    // The tracker is gone: the run is over.
                    break;
                }
            }
            if let Some(c) = counter.as_mut() {
                c.send(std::mem::take(&mut pending));
            }
            let group = (&self.cfg, self.group_id.as_str());
            stall::check(
                &mut self.consumer,
                &mut watch,
                group,
                &mut stats,
                "kafka observer",
            );
        }
        stats.kafka_tally = counter.map(tally::Counter::finish);
        Ok((stats, self.clock))
    }

    /// Reports the message's changes of the run's range; `false` when the
    /// prefilter put it aside (no row of the run).
    fn handle<M: Message>(
        &self,
        msg: &M,
        table: Option<Table>,
        seen_at: Instant,
        batch: &mut Vec<Observation>,
        stats: &mut ObserverStats,
    ) -> bool {
        stats.received += 1;
        let mut visible = None;
        let server_arrival = match msg.timestamp() {
            Timestamp::LogAppendTime(ms) => {
                stats.log_append_time += 1;
                // The append happened within this millisecond: its middle, ±0.5 ms.
                let mid = ms.saturating_mul(1000).saturating_add(500);
                if let Ok(Some((at, unc))) = self.clock.as_ref().map(|c| c.to_instant(mid)) {
                    visible = Some(Visible {
                        at,
                        source: VisibleSource::LogAppendTime,
                        uncertainty_us: u32::try_from(unc + 500).unwrap_or(u32::MAX),
                    });
                }
                Some(ms.saturating_mul(1000))
            }
            Timestamp::CreateTime(_) => {
                stats.create_time += 1;
                None
            }
            Timestamp::NotAvailable => None,
        };
        if prefilter::skip(msg.payload(), &self.cfg.tickets) {
            stats.ignored += 1;
            return false;
        }
        match decode(self.cfg.format, table, msg.key(), msg.payload()) {
            Ok(decoded) => {
                stats.ignored += decoded.ignored;
                for c in decoded.changes {
                    if !in_range(&self.cfg.tickets, c.key.ticket) {
                        stats.ignored += 1;
                        continue;
                    }
                    stats.observed += 1;
                    batch.push(Observation {
                        sink: Sink::Kafka,
                        key: c.key,
                        op: c.op,
                        stamp: c.stamp,
                        seen_at,
                        server_arrival,
                        visible,
                    });
                }
            }
            Err(e) => {
                let location = format!("{}[{}]@{}", msg.topic(), msg.partition(), msg.offset());
                stats.record_malformed(location, e.to_string(), msg.payload().unwrap_or(b"<null>"));
            }
        }
        true
    }
}

/// Starts the observer and runs it until `stop` (both phases in one call; use
/// [`KafkaObserver::start`] when the caller must wait for readiness).
pub async fn run(
    cfg: KafkaConfig,
    tx: mpsc::Sender<Vec<Observation>>,
    stop: watch::Receiver<bool>,
) -> Result<ObserverStats, ObserveError> {
    KafkaObserver::start(cfg).await?.run(tx, stop).await
}
