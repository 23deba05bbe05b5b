//! Consumer construction, topic metadata and the start-offset assignment.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use super::KafkaConfig;
use crate::model::Table;
use crate::observe::ObserveError;

/// Where the observer starts reading one partition: the high watermark captured
/// before the load starts, so every message produced afterwards is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartOffset {
    /// Topic name.
    pub topic: String,
    /// Partition id.
    pub partition: i32,
    /// First offset read.
    pub offset: i64,
}

/// A consumer group id nobody else uses: the observer never commits offsets,
/// and a fresh group can never inherit another run's position.
pub fn unique_group_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("tpcds-bench-observe-{}-{nanos}", std::process::id())
}

/// The librdkafka settings for a low-latency, read-only observer.
pub fn client_config(cfg: &KafkaConfig, group_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers)
        .set("group.id", group_id)
        .set("client.id", "tpcds-bench-observer")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Only consulted if an assigned offset is out of range.
        .set("auto.offset.reset", "latest")
        .set("enable.partition.eof", "false")
        // Answer a fetch as soon as one byte is there, wait at most 10 ms otherwise:
        // the broker-side part of the observed latency stays negligible.
        .set("fetch.wait.max.ms", "10")
        .set("fetch.min.bytes", "1")
        .set("socket.nagle.disable", "true")
        // What downstream consumers (Flink) see: transactional data once committed.
        .set("isolation.level", "read_committed")
        // Prefetch at most 16 MiB (librdkafka's default is 64 MiB): the queue
        // only fills while the harness reads slower than the broker serves, as
        // in a catch-up after a stall, where 64 MiB was a quarter of the
        // harness's budget and bought no latency (issue 26).
        .set("queued.max.messages.kbytes", "16384")
        .set("allow.auto.create.topics", "false");
    for (k, v) in &cfg.extra {
        c.set(k, v);
    }
    c
}

/// `kafka <brokers>`: how errors name this target.
pub fn target_name(brokers: &str) -> String {
    format!("kafka {brokers}")
}

/// The (topic, table) pairs the observer reads.
pub fn topics(cfg: &KafkaConfig) -> Vec<(String, Table)> {
    Table::ALL
        .iter()
        .map(|&t| (format!("{}{}", cfg.topic_prefix, t.name()), t))
        .collect()
}

/// Metadata of the wanted topics: partition ids per topic, or why not.
///
/// Blocking (librdkafka calls): run it off the async runtime.
pub fn partitions(
    consumer: &BaseConsumer,
    brokers: &str,
    wanted: &[String],
    timeout: Duration,
) -> Result<Vec<(String, Vec<i32>)>, ObserveError> {
    let md = consumer
        .fetch_metadata(None, timeout)
        .map_err(|e| ObserveError::unreachable(target_name(brokers), e))?;
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for name in wanted {
        match md.topics().iter().find(|t| t.name() == name) {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                out.push((
                    name.clone(),
                    t.partitions().iter().map(|p| p.id()).collect(),
                ));
            }
            _ => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(ObserveError::misconfigured(
            target_name(brokers),
            format!("topic(s) {} do not exist", missing.join(", ")),
            "start the pipeline that writes them (scripts/stack.sh up starts the Flink jobs), \
             or set the topic prefix in the scenario's [targets.kafka]",
        ));
    }
    Ok(out)
}

/// Captures the high watermark of every partition and assigns the consumer
/// there. Blocking: run it off the async runtime.
pub fn assign_at_high_watermarks(
    consumer: &BaseConsumer,
    cfg: &KafkaConfig,
) -> Result<Vec<StartOffset>, ObserveError> {
    let wanted: Vec<String> = topics(cfg).into_iter().map(|(t, _)| t).collect();
    assign_topics_at_high_watermarks(consumer, cfg, &wanted)
}

/// [`assign_at_high_watermarks`] for any list of topics (e.g. the analytics
/// topic `tpcds.sales_metrics`). Blocking: run it off the async runtime.
pub fn assign_topics_at_high_watermarks(
    consumer: &BaseConsumer,
    cfg: &KafkaConfig,
    wanted: &[String],
) -> Result<Vec<StartOffset>, ObserveError> {
    let parts = partitions(consumer, &cfg.brokers, wanted, cfg.connect_timeout)?;
    let mut tpl = TopicPartitionList::new();
    let mut starts = Vec::new();
    for (topic, ids) in parts {
        for p in ids {
            let (_low, high) = consumer
                .fetch_watermarks(&topic, p, cfg.connect_timeout)
                .map_err(|e| ObserveError::unreachable(target_name(&cfg.brokers), e))?;
            tpl.add_partition_offset(&topic, p, Offset::Offset(high))
                .map_err(|e| ObserveError::unreachable(target_name(&cfg.brokers), e))?;
            starts.push(StartOffset {
                topic: topic.clone(),
                partition: p,
                offset: high,
            });
        }
    }
    // An explicit assignment: no group rebalance, no timing race with the load.
    consumer
        .assign(&tpl)
        .map_err(|e| ObserveError::unreachable(target_name(&cfg.brokers), e))?;
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_are_unique() {
        let a = unique_group_id();
        std::thread::sleep(Duration::from_millis(1));
        assert_ne!(a, unique_group_id());
        assert!(a.starts_with("tpcds-bench-observe-"));
    }

    #[test]
    fn topics_use_prefix() {
        let cfg = KafkaConfig::new("127.0.0.1:9092", 0..10);
        assert_eq!(
            topics(&cfg),
            vec![
                ("tpcds.store_sales".to_string(), Table::StoreSales),
                ("tpcds.store_returns".to_string(), Table::StoreReturns)
            ]
        );
    }

    #[test]
    fn extra_settings_override_defaults() {
        let mut cfg = KafkaConfig::new("b:1", 0..10);
        cfg.extra.push(("fetch.wait.max.ms".into(), "5".into()));
        let c = client_config(&cfg, "g");
        assert_eq!(c.get("fetch.wait.max.ms"), Some("5"));
        assert_eq!(c.get("group.id"), Some("g"));
        assert_eq!(c.get("enable.auto.commit"), Some("false"));
    }
}
