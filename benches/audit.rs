//! The Kafka sink's audit per message: the observer's general decoder with
//! digests (`decode_digested`: a `serde_json::Value` map of every column, a
//! `String` per rendered column) against the audit's fast read of the stack's
//! Debezium-JSON (`observe::decode::fast`: typed, the audited columns only,
//! borrowed, one reused text buffer), on the messages Flink 1.20 wrote,
//! captured from the stack (tests/fixtures/kafka) and one with every column set.
//!
//! `cargo bench --bench audit`. Nanoseconds per message; compare the two side
//! by side in one run (the machine is shared).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tpcds_bench::model::Table;
use tpcds_bench::observe::decode::fast;
use tpcds_bench::observe::decode::{decode_digested, Format};

/// A store_sales insert with every column set, as Flink 1.20 writes it.
const SALE: &str = r#"{"before":null,"after":{"ss_sold_date_sk":2451545,"ss_sold_time_sk":36000,"ss_item_sk":8284,"ss_customer_sk":99,"ss_cdemo_sk":1920800,"ss_hdemo_sk":7200,"ss_addr_sk":50000,"ss_store_sk":10,"ss_promo_sk":300,"ss_ticket_number":1795498440000000011,"ss_quantity":3,"ss_wholesale_cost":10.00,"ss_list_price":15.00,"ss_sales_price":12.34,"ss_ext_discount_amt":0.00,"ss_ext_sales_price":37.02,"ss_ext_wholesale_cost":30.00,"ss_ext_list_price":45.00,"ss_ext_tax":1.11,"ss_coupon_amt":0.00,"ss_net_paid":37.02,"ss_net_paid_inc_tax":38.13,"ss_net_profit":7.02,"bench_ts":"2026-11-24T05:49:42.123456","updated_at":"2026-11-24T05:49:42.12346"},"op":"c"}"#;

/// The captured messages (table, payload), and [`SALE`].
fn messages() -> Vec<(Table, Vec<u8>)> {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../tests/fixtures/kafka/flink-debezium-json.json"
    ))
    .expect("the fixture is JSON");
    let mut out: Vec<(Table, Vec<u8>)> = fixture["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| {
            let table = match m["topic"].as_str()? {
                "tpcds.store_sales" => Table::StoreSales,
                _ => Table::StoreReturns,
            };
            Some((table, m["payload"].as_str()?.as_bytes().to_vec()))
        })
        .collect();
    out.push((Table::StoreSales, SALE.as_bytes().to_vec()));
    out
}

fn kafka_audit(c: &mut Criterion) {
    let msgs = messages();
    let mut g = c.benchmark_group("kafka audit per message");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("general decode_digested", |b| {
        b.iter(|| {
            for (t, p) in &msgs {
                let d = decode_digested(Format::DebeziumJson, Some(*t), None, Some(black_box(p)))
                    .expect("a valid message");
                black_box(d.digests);
            }
        })
    });
    let mut buf = String::with_capacity(512);
    g.bench_function("fast typed read", |b| {
        b.iter(|| {
            for (t, p) in &msgs {
                black_box(fast::debezium(*t, black_box(p), &mut buf).expect("read fast"));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, kafka_audit);
criterion_main!(benches);
