//! The Kafka broker's clock offset, from LogAppendTime.
//!
//! A probe message is produced to `{prefix}clock_probe` (a topic with
//! `message.timestamp.type=LogAppendTime`, created when missing): the broker
//! stamps it on append and returns that stamp in the produce response, which
//! librdkafka hands back with the delivery report. The stamp was taken between
//! the send and the report, so the usual round-trip bound holds; Kafka's clock
//! has whole milliseconds, so each reading adds ±0.5 ms (taken at the
//! millisecond's middle).
//!
//! Nobody consumes the probe topic: the changelog topics, which Flink reads,
//! never see a probe.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Timestamp;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::clock::{OffsetTracker, Probe};

/// The probe topic's name under `prefix` (`tpcds.clock_probe`).
pub fn probe_topic(prefix: &str) -> String {
    format!("{prefix}clock_probe")
}

/// Probes per estimate: the best of them is kept.
pub const PROBES: usize = 8;

/// Measures the broker's clock offset with [`PROBES`] probes; an `Err` says why
/// it could not (the report then says "offset unknown").
pub async fn measure(
    brokers: &str,
    prefix: &str,
    extra: &[(String, String)],
    timeout: Duration,
) -> Result<OffsetTracker, String> {
    let topic = probe_topic(prefix);
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", brokers)
        .set("client.id", "tpcds-bench-clock")
        .set("linger.ms", "0")
        .set("acks", "1")
        .set("socket.nagle.disable", "true")
        .set("message.timeout.ms", timeout.as_millis().to_string());
    for (k, v) in extra {
        cfg.set(k, v);
    }
    ensure_topic(&cfg, &topic, timeout).await?;
    let producer: FutureProducer = cfg
        .create()
        .map_err(|e| format!("cannot create a producer: {e}"))?;
    let mut tracker = OffsetTracker::new(PROBES);
    // The first send also fetches metadata and connects: not a probe.
    send(&producer, &topic, timeout).await?;
    for _ in 0..PROBES {
        let sent = Instant::now();
        let stamp = send(&producer, &topic, timeout).await?;
        let received = Instant::now();
        tracker.add(Probe {
            sent,
            // The append happened somewhere in this millisecond.
            server: stamp * 1000 + 500,
            received,
            reading_us: 500,
        });
    }
    Ok(tracker)
}

/// Sends one probe and returns the broker's LogAppendTime (ms).
async fn send(producer: &FutureProducer, topic: &str, timeout: Duration) -> Result<i64, String> {
    let record: FutureRecord<'_, (), str> = FutureRecord::to(topic).payload("clock probe");
    let delivery = producer
        .send(record, timeout)
        .await
        .map_err(|(e, _)| format!("probe to {topic} not delivered: {e}"))?;
    match delivery.timestamp {
        Timestamp::LogAppendTime(ms) => Ok(ms),
        other => Err(format!(
            "{topic} answers with {other:?}, not LogAppendTime: create it with \
             message.timestamp.type=LogAppendTime"
        )),
    }
}

/// Creates the probe topic (1 partition, LogAppendTime) unless it exists.
async fn ensure_topic(cfg: &ClientConfig, topic: &str, timeout: Duration) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = cfg
        .create()
        .map_err(|e| format!("cannot create an admin client: {e}"))?;
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1))
        .set("message.timestamp.type", "LogAppendTime");
    let opts = AdminOptions::new().operation_timeout(Some(timeout));
    let results = admin
        .create_topics([&new], &opts)
        .await
        .map_err(|e| format!("cannot create {topic}: {e}"))?;
    for r in results {
        match r {
            Ok(_) => {}
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => return Err(format!("cannot create {t}: {code}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_probe_topic_sits_beside_the_changelog_topics() {
        assert_eq!(super::probe_topic("tpcds."), "tpcds.clock_probe");
    }
}
