//! Decoder test vectors captured from the real pipeline, one file per Kafka
//! format the stack writes (`tests/fixtures/kafka/flink-<format>.json`,
//! refreshed by `scripts/capture-fixtures.sh`): every message Flink wrote
//! decodes, and per key the decoded changes are exactly what the writes imply
//! for that format. Needs no service.

use std::collections::BTreeMap;

use serde_json::Value;
use tpcds_bench::model::{OpKind, RowKey, StampMicros, Table};
use tpcds_bench::observe::decode::{decode, Format, FORMAT_NAMES};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/kafka/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

type Seq = BTreeMap<RowKey, Vec<(OpKind, Option<StampMicros>)>>;

/// What Flink's changelog in `format` must contain for `writes`, per key:
/// - the envelope formats (debezium, canal, maxwell, ogg): insert → Insert;
///   update → Delete of the old image, Insert of the new one; delete → Delete
///   of the last image (Flink never writes an update as one message);
/// - upsert-kafka: insert and update → the new row (Insert); delete → a
///   tombstone (Delete without a stamp);
/// - json: insert and update → the new row; delete → nothing.
fn expected(format: Format, writes: &[Value]) -> Seq {
    let mut out = Seq::new();
    let mut current: BTreeMap<RowKey, Option<StampMicros>> = BTreeMap::new();
    let upsert_like = matches!(format, Format::UpsertKafka | Format::Json);
    for w in writes {
        let key = RowKey {
            table: Table::from_qualified(w["table"].as_str().unwrap()).unwrap(),
            ticket: w["ticket"].as_u64().unwrap(),
            item: w["item"].as_u64().unwrap() as u32,
        };
        let ts = w["bench_ts"].as_i64();
        let seq = out.entry(key).or_default();
        match (w["op"].as_str().unwrap(), upsert_like) {
            ("insert", _) | ("update", true) => seq.push((OpKind::Insert, ts)),
            ("update", false) => {
                seq.push((OpKind::Delete, current[&key]));
                seq.push((OpKind::Insert, ts));
            }
            ("delete", false) => seq.push((OpKind::Delete, current[&key])),
            ("delete", true) if format.carries_deletes() => seq.push((OpKind::Delete, None)),
            ("delete", true) => {}
            (other, _) => panic!("unknown write {other}"),
        }
        current.insert(key, ts);
    }
    out
}

fn check_fixture(format_name: &str) {
    let f = load(&format!("flink-{format_name}.json"));
    let format: Format = f["format"].as_str().unwrap().parse().unwrap();
    assert_eq!(format.name(), format_name);
    let writes = f["writes"].as_array().unwrap();
    let messages = f["messages"].as_array().unwrap();
    assert!(!messages.is_empty());
    let mut got = Seq::new();
    for m in messages {
        let table = Table::from_qualified(m["topic"].as_str().unwrap());
        let key = m["key"].as_str().map(str::as_bytes);
        let payload = m["payload"].as_str().map(str::as_bytes);
        let d = decode(format, table, key, payload).unwrap_or_else(|e| panic!("{e}: {m}"));
        assert_eq!(d.ignored, 0, "{m}");
        for c in d.changes {
            got.entry(c.key).or_default().push((c.op, c.stamp));
        }
    }
    assert_eq!(got, expected(format, writes), "{format_name}");
}

#[test]
fn flink_debezium_json_vectors_decode_to_the_writes() {
    check_fixture("debezium-json");
}

#[test]
fn flink_canal_json_vectors_decode_to_the_writes() {
    check_fixture("canal-json");
}

#[test]
fn flink_maxwell_json_vectors_decode_to_the_writes() {
    check_fixture("maxwell-json");
}

#[test]
fn flink_ogg_json_vectors_decode_to_the_writes() {
    check_fixture("ogg-json");
}

#[test]
fn flink_upsert_kafka_vectors_decode_to_the_writes() {
    check_fixture("upsert-kafka");
}

#[test]
fn flink_json_vectors_decode_to_the_writes() {
    check_fixture("json");
}

#[test]
fn every_format_has_a_captured_fixture() {
    for name in FORMAT_NAMES {
        let path = format!(
            "{}/tests/fixtures/kafka/flink-{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        assert!(
            std::path::Path::new(&path).exists(),
            "{path} missing: run scripts/capture-fixtures.sh"
        );
    }
}
