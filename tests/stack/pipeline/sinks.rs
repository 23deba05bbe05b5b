//! Reading the sinks: the Kafka observer, and the warehouse and MySQL
//! queries the test compares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;

use super::model::{
    decode, Event, Key, Plan, Snapshot, TableSpec, RETURNS, SALES, TIMESTAMP_COLUMNS,
};
use super::HINT;

/// Subscribes to both topics from their current end, before any change is
/// made, and collects (arrival time, event) for this run's tickets.
pub fn start_kafka_observer(brokers: &str, plan: &Plan) -> Arc<Mutex<Vec<(Instant, Event)>>> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("tpcds-pipeline-test-{}", plan.lo))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .expect("create Kafka consumer");
    let mut tpl = TopicPartitionList::new();
    for spec in [&SALES, &RETURNS] {
        let topic = format!("tpcds.{}", spec.name);
        let md = consumer
            .fetch_metadata(Some(&topic), Duration::from_secs(15))
            .unwrap_or_else(|e| {
                panic!("cannot reach Kafka at {brokers} (topic {topic}): {e}; {HINT}")
            });
        let partitions: Vec<i32> = md
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        assert!(
            !partitions.is_empty(),
            "Kafka topic {topic} does not exist at {brokers}; {HINT}"
        );
        for p in partitions {
            let (_, high) = consumer
                .fetch_watermarks(&topic, p, Duration::from_secs(15))
                .unwrap_or_else(|e| panic!("Kafka watermarks of {topic}/{p}: {e}"));
            tpl.add_partition_offset(&topic, p, Offset::Offset(high))
                .unwrap();
        }
    }
    consumer.assign(&tpl).expect("assign Kafka partitions");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let (lo, hi) = (plan.lo, plan.hi);
    tokio::spawn(async move {
        loop {
            let msg = match consumer.recv().await {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("Kafka consumer error: {e}");
                    continue;
                }
            };
            let arrived = Instant::now();
            let spec = if msg.topic() == "tpcds.store_sales" {
                &SALES
            } else {
                &RETURNS
            };
            let Some(payload) = msg.payload() else {
                continue;
            };
            let value: Value = serde_json::from_slice(payload).unwrap_or_else(|e| {
                panic!("{} carried a record that is not JSON: {e}", msg.topic())
            });
            if let Some(e) = decode(spec, &value) {
                if e.key.1 >= lo && e.key.1 < hi {
                    sink.lock().unwrap().push((arrived, e));
                }
            }
        }
    });
    events
}

pub async fn path_snapshot(wh: &tokio_postgres::Client, schema: &str, plan: &Plan) -> Snapshot {
    let mut snap = Snapshot::new();
    for spec in [&SALES, &RETURNS] {
        let sql = format!(
            "SELECT {item}, {ticket}, COALESCE({changed}::text, 'null') FROM {schema}.{table} \
             WHERE {ticket} >= $1 AND {ticket} < $2",
            item = spec.item,
            ticket = spec.ticket,
            changed = spec.changed,
            table = spec.name
        );
        let rows = wh
            .query(&sql, &[&plan.lo, &plan.hi])
            .await
            .unwrap_or_else(|e| panic!("query {schema}.{}: {e}", spec.name));
        let m = rows
            .iter()
            .map(|r| {
                (
                    (r.get::<_, i32>(0), r.get::<_, i64>(1)),
                    r.get::<_, String>(2),
                )
            })
            .collect();
        snap.insert(spec.name, m);
    }
    snap
}

/// Every column as text (NULL as None), keyed by the row key, timestamps
/// with microseconds on both sides.
pub type FullRows = HashMap<Key, Vec<Option<String>>>;

pub async fn mysql_rows(my: &mut mysql_async::Conn, spec: &TableSpec, plan: &Plan) -> FullRows {
    let cols: Vec<String> = spec
        .all_columns()
        .map(|c| {
            if TIMESTAMP_COLUMNS.contains(c) {
                format!("DATE_FORMAT({c}, '%Y-%m-%d %H:%i:%s.%f')")
            } else {
                format!("CAST({c} AS CHAR)")
            }
        })
        .collect();
    let sql = format!(
        "SELECT {item}, {ticket}, {cols} FROM {table} WHERE {ticket} >= {lo} AND {ticket} < {hi}",
        item = spec.item,
        ticket = spec.ticket,
        cols = cols.join(", "),
        table = spec.name,
        lo = plan.lo,
        hi = plan.hi
    );
    let rows: Vec<mysql_async::Row> = my.query(sql).await.expect("read MySQL rows");
    rows.into_iter()
        .map(|mut r| {
            let key: Key = (r.take(0).unwrap(), r.take(1).unwrap());
            let vals = (2..r.len())
                .map(|i| r.take::<Option<String>, _>(i).unwrap())
                .collect();
            (key, vals)
        })
        .collect()
}

pub async fn warehouse_rows(
    wh: &tokio_postgres::Client,
    schema: &str,
    spec: &TableSpec,
    plan: &Plan,
) -> FullRows {
    let cols: Vec<String> = spec
        .all_columns()
        .map(|c| {
            if TIMESTAMP_COLUMNS.contains(c) {
                format!("to_char({c}, 'YYYY-MM-DD HH24:MI:SS.US')")
            } else {
                format!("{c}::text")
            }
        })
        .collect();
    let sql = format!(
        "SELECT {item}, {ticket}, {cols} FROM {schema}.{table} WHERE {ticket} >= $1 AND {ticket} < $2",
        item = spec.item,
        ticket = spec.ticket,
        cols = cols.join(", "),
        table = spec.name
    );
    let rows = wh
        .query(&sql, &[&plan.lo, &plan.hi])
        .await
        .unwrap_or_else(|e| panic!("read {schema}.{}: {e}", spec.name));
    rows.iter()
        .map(|r| {
            let key: Key = (r.get(0), r.get(1));
            let vals = (2..r.len())
                .map(|i| r.get::<_, Option<String>>(i))
                .collect();
            (key, vals)
        })
        .collect()
}
