//! The harness's own cost per row on the observe and account path:
//! decoding a Flink debezium-json message (and the messages Flink wrote in
//! every Kafka format, tests/fixtures/kafka/), registering a committed row and
//! matching its observation in the ledger, and recording a latency sample.
//!
//! `cargo bench --bench harness`. Wall-clock nanoseconds per operation; compare
//! the figures side by side in one run (the machine is shared).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tpcds_bench::model::{Observation, OpKind, RowKey, Sink, Table};
use tpcds_bench::observe::decode::{decode, Format, FORMAT_NAMES};
use tpcds_bench::stats::{Recorder, Series};
use tpcds_bench::track::{CommitBatch, CommittedRow, Ledger};

/// A message as Flink 1.20 writes it to `tpcds.store_sales` (captured from the stack).
const MESSAGE: &str = r#"{"before":null,"after":{"ss_sold_date_sk":2451545,"ss_sold_time_sk":36000,"ss_item_sk":8284,"ss_customer_sk":99,"ss_cdemo_sk":1920800,"ss_hdemo_sk":7200,"ss_addr_sk":50000,"ss_store_sk":10,"ss_promo_sk":300,"ss_ticket_number":1795498440000000011,"ss_quantity":3,"ss_wholesale_cost":10.00,"ss_list_price":15.00,"ss_sales_price":12.34,"ss_ext_discount_amt":0.00,"ss_ext_sales_price":37.02,"ss_ext_wholesale_cost":30.00,"ss_ext_list_price":45.00,"ss_ext_tax":1.11,"ss_coupon_amt":0.00,"ss_net_paid":37.02,"ss_net_paid_inc_tax":38.13,"ss_net_profit":7.02,"bench_ts":"2026-11-24T05:49:42.123456","updated_at":"2026-11-24T05:49:42.12346"},"op":"c"}"#;

fn decoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("debezium-json store_sales insert", |b| {
        b.iter(|| {
            decode(
                Format::DebeziumJson,
                Some(Table::StoreSales),
                None,
                Some(black_box(MESSAGE.as_bytes())),
            )
            .expect("a valid message")
        })
    });
    // Every format as Flink wrote it (the captured fixtures: inserts, updates'
    // two halves or new rows, deletes or tombstones), per message.
    for name in FORMAT_NAMES {
        let path = format!(
            "{}/tests/fixtures/kafka/flink-{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        // A format whose fixture has not been captured yet
        // (scripts/capture-fixtures.sh) is left out.
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("{path} missing: no decode figure for {name}");
            continue;
        };
        let f: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let format: Format = name.parse().expect("a format");
        let messages: Vec<Captured> = f["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| {
                let bytes = |v: &serde_json::Value| v.as_str().map(|s| s.as_bytes().to_vec());
                (
                    Table::from_qualified(m["topic"].as_str().unwrap_or_default()),
                    bytes(&m["key"]),
                    bytes(&m["payload"]),
                )
            })
            .collect();
        g.throughput(Throughput::Elements(messages.len() as u64));
        g.bench_function(format!("{name} captured messages"), |b| {
            b.iter(|| {
                for (table, key, payload) in &messages {
                    black_box(
                        decode(format, *table, key.as_deref(), payload.as_deref())
                            .expect("a valid message"),
                    );
                }
            })
        });
    }
    g.finish();
}

/// A captured message: its topic's table, key and payload.
type Captured = (Option<Table>, Option<Vec<u8>>, Option<Vec<u8>>);

fn ledger(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracker");
    const N: u64 = 10_000;
    g.throughput(Throughput::Elements(N));
    let sinks = [Sink::Kafka, Sink::Path1, Sink::Path2];
    g.bench_function("commit + match at 3 sinks, per row", |b| {
        let t0 = Instant::now();
        let mut base = 0u64;
        b.iter(|| {
            let mut l = Ledger::new(&sinks);
            let rows: Vec<CommittedRow> = (base..base + N)
                .map(|t| CommittedRow {
                    key: RowKey {
                        table: Table::StoreSales,
                        ticket: t,
                        item: 7,
                    },
                    op: OpKind::Insert,
                    stamp: t as i64,
                    prev_stamp: None,
                })
                .collect();
            for chunk in rows.chunks(50) {
                l.commit(&CommitBatch {
                    closed: None,
                    acked_at: t0,
                    rows: chunk.to_vec(),
                });
            }
            for s in sinks {
                for r in &rows {
                    black_box(l.observe(&Observation {
                        sink: s,
                        key: r.key,
                        op: OpKind::Insert,
                        stamp: Some(r.stamp),
                        seen_at: t0 + Duration::from_millis(5),
                        server_arrival: None,
                        visible: None,
                    }));
                }
            }
            base += N;
            l
        })
    });
    g.finish();
}

fn histogram(c: &mut Criterion) {
    let mut g = c.benchmark_group("stats");
    g.throughput(Throughput::Elements(1));
    let start = Instant::now();
    let mut rec = Recorder::new(start);
    let at = start + Duration::from_millis(1500);
    let mut v = 1u64;
    g.bench_function("record_at (one latency sample)", |b| {
        b.iter(|| {
            v = v
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            rec.record_at(Series::Sink(Sink::Kafka, OpKind::Insert), at, 1 + (v >> 44));
        })
    });
    g.finish();
}

criterion_group!(benches, decoding, ledger, histogram);
criterion_main!(benches);
