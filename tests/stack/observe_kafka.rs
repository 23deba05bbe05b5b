//! The Kafka observer against the real stack (MySQL → Flink CDC → Kafka):
//! inserts, an update (Flink writes a "d" of the old image then a "c" of the
//! new one) and a delete in a private ticket range are reported with the stamps
//! written, in order per key.
//!
//! `capture_fixtures` (ignored by default) refreshes the decoder test vectors
//! in `tests/fixtures/kafka/` from what Flink really writes in the format the
//! stack runs (TPCDS_CAPTURE_FORMAT, default debezium-json); for every format:
//! `scripts/capture-fixtures.sh`.

use crate::support::stack_check;

use std::time::{Duration, Instant};

use crate::support::observe::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, Timestamp};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tpcds_bench::model::{OpKind, RowKey, Sink, Table};
use tpcds_bench::observe::kafka::{KafkaConfig, KafkaObserver};

async fn start_observer(tickets: std::ops::Range<u64>) -> KafkaObserver {
    KafkaObserver::start(KafkaConfig::new(kafka_brokers(), tickets))
        .await
        .unwrap_or_else(|e| panic!("Kafka observer did not start: {e}; {HINT}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_reports_inserts_updates_deletes_in_range() {
    let _turn = crate::support::turn();
    stack_check::require();
    let tickets = unique_tickets();
    let t0 = tickets.start;
    let observer = start_observer(tickets.clone()).await;
    assert!(
        observer.start_offsets().len() >= 2,
        "{:?}",
        observer.start_offsets()
    );
    assert!(observer.group_id().starts_with("tpcds-bench-observe-"));
    let (tx, rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(observer.run(tx, stop_rx));
    let mut got = Collector::new(rx);

    let mut w = Writer::connect().await;
    let a = key(Table::StoreSales, t0, 21);
    let b = key(Table::StoreSales, t0 + 1, 22);
    let r = key(Table::StoreReturns, t0, 21);
    let outside = key(Table::StoreSales, tickets.end + 5, 21);
    let ta = w.insert(a).await;
    let tb = w.insert(b).await;
    let tr = w.insert(r).await;
    w.insert(outside).await;
    let ta2 = w.update(a).await;
    w.delete(b).await;

    got.until("the six changelog records", VISIBLE_TIMEOUT, |s| {
        has(s, a, OpKind::Insert, Some(ta))
            && has(s, b, OpKind::Insert, Some(tb))
            && has(s, r, OpKind::Insert, Some(tr))
            && has(s, a, OpKind::Delete, Some(ta))
            && has(s, a, OpKind::Insert, Some(ta2))
            && has(s, b, OpKind::Delete, Some(tb))
    })
    .await;
    stop_tx.send(true).unwrap();
    let stats = task.await.unwrap().expect("Kafka observer failed");

    assert!(got
        .seen
        .iter()
        .all(|o| o.sink == Sink::Kafka && tickets.contains(&o.key.ticket)));
    assert_eq!(got.seen.len(), 6, "{:#?}", got.seen);
    // Per key, the changelog keeps order: a's update-before precedes its after image.
    let a_ops: Vec<(OpKind, Option<i64>)> = got
        .seen
        .iter()
        .filter(|o| o.key == a)
        .map(|o| (o.op, o.stamp))
        .collect();
    assert_eq!(
        a_ops,
        vec![
            (OpKind::Insert, Some(ta)),
            (OpKind::Delete, Some(ta)),
            (OpKind::Insert, Some(ta2))
        ]
    );
    assert_eq!(stats.malformed, 0, "{stats:?}");
    assert_eq!(stats.observed, 6);
    // Every message carries a timestamp of one kind or the other.
    assert_eq!(
        stats.log_append_time + stats.create_time,
        stats.received,
        "{stats:?}"
    );
    let log_append = stats.log_append_time > 0;
    assert!(got
        .seen
        .iter()
        .all(|o| o.server_arrival.is_some() == log_append));
}

#[tokio::test]
async fn kafka_start_fails_with_exit_3_on_missing_topics() {
    let _turn = crate::support::turn();
    stack_check::require();
    let mut cfg = KafkaConfig::new(kafka_brokers(), 0..1);
    cfg.topic_prefix = "no_such_prefix_for_tpcds.".to_string();
    let err = KafkaObserver::start(cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        err.to_string()
            .contains("no_such_prefix_for_tpcds.store_sales"),
        "{err}"
    );
}

#[tokio::test]
async fn kafka_start_fails_with_exit_3_on_unreachable_brokers() {
    let _turn = crate::support::turn();
    let mut cfg = KafkaConfig::new("127.0.0.1:1", 0..1);
    cfg.connect_timeout = Duration::from_secs(2);
    let err = KafkaObserver::start(cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
}

/// A consumer of both changelog topics from their current ends.
fn tail_consumer(group: &str) -> BaseConsumer {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka_brokers())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for topic in ["tpcds.store_sales", "tpcds.store_returns"] {
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("Kafka unreachable: {e}; {HINT}"));
        for p in md.topics()[0].partitions() {
            let (_, high) = consumer
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .unwrap();
            tpl.add_partition_offset(topic, p.id(), Offset::Offset(high))
                .unwrap();
        }
    }
    consumer.assign(&tpl).unwrap();
    consumer
}

/// Waits until the CDC job streams both tables. A freshly started job (a
/// format switch starts it fresh) first snapshots each table; a change made
/// meanwhile reaches Kafka merged into the snapshot's row (an insert and an
/// update as one message of the final row), not as its own messages, which
/// is not what the fixtures are for. So a probe row per table (outside
/// `tickets`) is inserted and updated until both writes come through as
/// messages of their own (2 or more: the insert and the update's one or two).
async fn wait_until_streaming(w: &mut Writer, probe_from: u64) {
    let consumer = tail_consumer(&format!("tpcds-bench-probe-{probe_from}"));
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut ticket = probe_from;
    for table in [Table::StoreSales, Table::StoreReturns] {
        loop {
            assert!(
                Instant::now() < deadline,
                "the CDC job did not stream {} within 15 min; {HINT}",
                table.name()
            );
            let k = key(table, ticket, 1);
            ticket += 1;
            w.insert(k).await;
            w.update(k).await;
            let text = k.ticket.to_string();
            let mut seen = 0;
            let until = Instant::now() + Duration::from_secs(20);
            while seen < 2 && Instant::now() < until {
                let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
                    continue;
                };
                let msg = msg.expect("consume");
                let has = |b: Option<&[u8]>| {
                    b.is_some_and(|b| String::from_utf8_lossy(b).contains(&text))
                };
                if has(msg.key()) || has(msg.payload()) {
                    seen += 1;
                }
            }
            if seen >= 2 {
                break;
            }
            eprintln!(
                "{}: still snapshotting (probe {text} seen {seen} times)",
                table.name()
            );
        }
    }
}

/// Waits until the stack's CDC job streams (see [`wait_until_streaming`]);
/// `scripts/bench/formats.sh` runs it after a format switch, before it measures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by scripts/bench/formats.sh after a format switch"]
async fn cdc_streams() {
    let _turn = crate::support::turn();
    stack_check::require();
    let mut w = Writer::connect().await;
    wait_until_streaming(&mut w, unique_tickets().start).await;
}

/// Captures the raw messages Flink writes for a known sequence of changes and
/// stores them, with the changes, as a decoder fixture
/// (`tests/fixtures/kafka/flink-<format>.json`). The rows carry NULLs,
/// DECIMAL(7,2) values and DATETIME(6) stamps (support::observe's Writer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "refreshes tests/fixtures/kafka/; run by scripts/capture-fixtures.sh against the stack"]
async fn capture_fixtures() {
    let _turn = crate::support::turn();
    let format = std::env::var("TPCDS_CAPTURE_FORMAT").unwrap_or_else(|_| "debezium-json".into());
    let tickets = unique_tickets();
    let t0 = tickets.start;
    let mut w = Writer::connect().await;
    // Probe rows above the range: their ticket text never contains t0's.
    wait_until_streaming(&mut w, tickets.end + 1_000).await;
    let consumer = tail_consumer(&format!("tpcds-bench-capture-{t0}"));
    let a = key(Table::StoreSales, t0, 31);
    let b = key(Table::StoreSales, t0 + 1, 32);
    let r = key(Table::StoreReturns, t0, 31);
    let mut writes = Vec::new();
    let write = |op: &str, k: RowKey, ts: Option<i64>| json!({"op": op, "table": k.table.name(), "ticket": k.ticket, "item": k.item, "bench_ts": ts});
    writes.push(write("insert", a, Some(w.insert(a).await)));
    writes.push(write("insert", b, Some(w.insert(b).await)));
    writes.push(write("insert", r, Some(w.insert(r).await)));
    writes.push(write("update", a, Some(w.update(a).await)));
    writes.push(write("delete", b, None));
    w.delete(b).await;
    writes.push(write("update", r, Some(w.update(r).await)));
    writes.push(write("delete", r, None));
    w.delete(r).await;

    // insert ×3, update ×2, delete ×2: an update is two records (delete of the
    // old row, insert of the new) in the envelope formats, one in upsert-kafka
    // and json; json writes no deletes.
    let want = match format.as_str() {
        "upsert-kafka" => 3 + 2 + 2,
        "json" => 3 + 2,
        _ => 3 + 2 * 2 + 2,
    };
    let tickets_text = [t0.to_string(), (t0 + 1).to_string()];
    let mut messages = Vec::new();
    let deadline = Instant::now() + VISIBLE_TIMEOUT;
    // After the expected count, listen 3 s more: anything extra goes into the
    // fixture too, where the decoder test would flag it.
    let mut quiet_until: Option<Instant> = None;
    while quiet_until.is_none_or(|t| Instant::now() < t) {
        assert!(
            Instant::now() < deadline,
            "only {} of {want} messages: {messages:#?}",
            messages.len()
        );
        if quiet_until.is_none() && messages.len() >= want {
            quiet_until = Some(Instant::now() + Duration::from_secs(3));
        }
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg.expect("consume");
        let text = |b: Option<&[u8]>| b.map(|p| String::from_utf8_lossy(p).into_owned());
        let (key_text, payload) = (text(msg.key()), text(msg.payload()));
        // A tombstone has only its key to say which row it is.
        let in_range = [&key_text, &payload].iter().any(|t| {
            t.as_deref()
                .is_some_and(|t| tickets_text.iter().any(|n| t.contains(n)))
        });
        if !in_range {
            continue;
        }
        let ts_type = match msg.timestamp() {
            Timestamp::LogAppendTime(_) => "LogAppendTime",
            Timestamp::CreateTime(_) => "CreateTime",
            Timestamp::NotAvailable => "NotAvailable",
        };
        messages.push(json!({
            "topic": msg.topic(),
            "partition": msg.partition(),
            "timestamp_type": ts_type,
            "key": key_text,
            "payload": payload,
        }));
    }
    let fixture = json!({
        "about": format!("Messages Flink 1.20 (mysql-cdc -> kafka, KAFKA_FORMAT={format}, \
                  decimal-as-plain-number, ISO-8601 timestamps; rows with NULLs, DECIMAL(7,2), \
                  DATETIME(6)) wrote for `writes`, captured by scripts/capture-fixtures.sh \
                  (tests/observe_kafka.rs capture_fixtures)"),
        "format": format,
        "writes": writes,
        "messages": messages,
    });
    let path = format!(
        "{}/tests/fixtures/kafka/flink-{format}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&fixture).unwrap() + "\n",
    )
    .unwrap();
    eprintln!("wrote {path}");
}
