//! Decoder test vectors captured from the real pipeline (see
//! `tests/observe_kafka.rs`, `capture_fixtures`): every message Flink wrote
//! decodes, and per key the decoded changes are exactly what the writes imply
//! (insert → Insert; update → Delete of the old image, Insert of the new one;
//! delete → Delete of the last image). Needs no service.

use std::collections::BTreeMap;

use serde_json::Value;
use tpcds_bench::model::{OpKind, RowKey, StampMicros, Table};
use tpcds_bench::observe::decode::{decode, Format};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/kafka/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

type Seq = BTreeMap<RowKey, Vec<(OpKind, Option<StampMicros>)>>;

/// What a debezium-json changelog must contain for `writes`, per key.
fn expected(writes: &[Value]) -> Seq {
    let mut out = Seq::new();
    let mut current: BTreeMap<RowKey, Option<StampMicros>> = BTreeMap::new();
    for w in writes {
        let key = RowKey {
            table: Table::from_qualified(w["table"].as_str().unwrap()).unwrap(),
            ticket: w["ticket"].as_u64().unwrap(),
            item: w["item"].as_u64().unwrap() as u32,
        };
        let ts = w["bench_ts"].as_i64();
        let seq = out.entry(key).or_default();
        match w["op"].as_str().unwrap() {
            "insert" => seq.push((OpKind::Insert, ts)),
            "update" => {
                seq.push((OpKind::Delete, current[&key]));
                seq.push((OpKind::Insert, ts));
            }
            "delete" => seq.push((OpKind::Delete, current[&key])),
            other => panic!("unknown write {other}"),
        }
        current.insert(key, ts);
    }
    out
}

#[test]
fn flink_debezium_json_vectors_decode_to_the_writes() {
    let f = load("flink-debezium-json.json");
    let format: Format = f["format"].as_str().unwrap().parse().unwrap();
    let writes = f["writes"].as_array().unwrap();
    let messages = f["messages"].as_array().unwrap();
    assert!(messages.len() >= writes.len());
    let mut got = Seq::new();
    for m in messages {
        let table = Table::from_qualified(m["topic"].as_str().unwrap());
        let key = m["key"].as_str().map(str::as_bytes);
        let payload = m["payload"].as_str().map(str::as_bytes);
        let d = decode(format, table, key, payload).unwrap_or_else(|e| panic!("{e}: {m}"));
        assert_eq!(d.ignored, 0);
        for c in d.changes {
            got.entry(c.key).or_default().push((c.op, c.stamp));
        }
    }
    assert_eq!(got, expected(writes));
}
