//! Decoder tests for the Maxwell and Oracle GoldenGate envelopes as the tools
//! themselves write them (Flink's own output is in the captured fixtures,
//! tests/offline/observe_fixtures.rs).

use super::super::*;
use crate::model::{OpKind, Table};

use super::super::tests::{ss, T1, T2};

fn decode_one(format: Format, topic: Option<Table>, payload: &str) -> Decoded {
    decode(format, topic, None, Some(payload.as_bytes())).unwrap()
}

/// An insert (stamp T1), an update and a delete (T2) of store_sales row
/// (11, 7) decode to that, with no topic to say the table.
fn insert_update_delete(format: Format, [ins, upd, del]: [&str; 3]) {
    for (msg, op, stamp) in [
        (ins, OpKind::Insert, T1),
        (upd, OpKind::Update, T2),
        (del, OpKind::Delete, T2),
    ] {
        let d = decode_one(format, None, msg);
        let want = Change {
            key: ss(11, 7),
            op,
            stamp: Some(stamp),
        };
        assert_eq!(d.changes, vec![want], "{msg}");
    }
}

#[test]
fn maxwell_insert_update_delete() {
    let ins = r#"{"database":"business_db","table":"store_sales","type":"insert","ts":1795494880,
                  "xid":1,"commit":true,"data":{"ss_item_sk":7,"ss_ticket_number":11,
                  "ss_net_paid":37.02,"ss_customer_sk":null,"bench_ts":"2026-11-24 04:34:40.123456"}}"#;
    let upd = r#"{"database":"business_db","table":"store_sales","type":"update",
                  "data":{"ss_item_sk":7,"ss_ticket_number":11,"bench_ts":"2026-11-24 04:34:41.000001"},
                  "old":{"bench_ts":"2026-11-24 04:34:40.123456"}}"#;
    let del = r#"{"database":"business_db","table":"store_sales","type":"delete",
                  "data":{"ss_item_sk":7,"ss_ticket_number":11,"bench_ts":"2026-11-24 04:34:41.000001"}}"#;
    insert_update_delete(Format::MaxwellJson, [ins, upd, del]);
}

#[test]
fn maxwell_ddl_bootstrap_markers_and_other_tables_are_ignored() {
    for msg in [
        r#"{"type":"table-create","database":"business_db","table":"store_sales","sql":"CREATE TABLE …"}"#,
        r#"{"type":"bootstrap-start","database":"business_db","table":"store_sales","data":{}}"#,
        r#"{"type":"insert","database":"business_db","table":"customer","data":{"c_customer_sk":1}}"#,
    ] {
        let d = decode_one(Format::MaxwellJson, Some(Table::StoreSales), msg);
        assert_eq!((d.changes.len(), d.ignored), (0, 1), "{msg}");
    }
    // Flink writes neither database nor table: the topic's table counts.
    let d = decode_one(
        Format::MaxwellJson,
        Some(Table::StoreSales),
        r#"{"data":{"ss_item_sk":7,"ss_ticket_number":11,"bench_ts":"2026-11-24T04:34:40.123456"},"type":"insert"}"#,
    );
    assert_eq!(d.changes[0].key, ss(11, 7));
}

#[test]
fn maxwell_malformed_inputs_are_errors() {
    let e = decode(
        Format::MaxwellJson,
        Some(Table::StoreSales),
        None,
        Some(&br#"{"data":{}}"#[..]),
    );
    assert!(matches!(e, Err(DecodeError::MissingField(f)) if f == "type"));
    let e = decode(
        Format::MaxwellJson,
        Some(Table::StoreSales),
        None,
        Some(&br#"{"type":"insert","data":null}"#[..]),
    );
    assert!(matches!(e, Err(DecodeError::MissingField(f)) if f == "data"));
    let e = decode(
        Format::MaxwellJson,
        Some(Table::StoreSales),
        None,
        Some(&br#"{"type":"INSERT!","data":{}}"#[..]),
    );
    assert!(matches!(e, Err(DecodeError::UnknownOp(_))));
}

#[test]
fn ogg_insert_update_delete_with_goldengate_table_names() {
    // GoldenGate: upper-case SCHEMA.TABLE, op_ts, a delete's row in "before".
    let ins = r#"{"table":"BUSINESS_DB.STORE_SALES","op_type":"I","op_ts":"2026-11-24 04:34:40.123456",
                  "current_ts":"2026-11-24T04:34:40.200000","pos":"00000000000000001234",
                  "after":{"ss_item_sk":7,"ss_ticket_number":11,"bench_ts":"2026-11-24 04:34:40.123456"}}"#;
    let upd = r#"{"table":"BUSINESS_DB.STORE_SALES","op_type":"U",
                  "before":{"ss_item_sk":7,"ss_ticket_number":11,"bench_ts":"2026-11-24 04:34:40.123456"},
                  "after":{"ss_item_sk":7,"ss_ticket_number":11,"bench_ts":"2026-11-24 04:34:41.000001"}}"#;
    let del = r#"{"table":"BUSINESS_DB.STORE_SALES","op_type":"D",
                  "before":{"ss_item_sk":7,"ss_ticket_number":11,"bench_ts":"2026-11-24 04:34:41.000001"},
                  "after":null}"#;
    insert_update_delete(Format::OggJson, [ins, upd, del]);
}

#[test]
fn ogg_truncate_and_other_tables_are_ignored_and_bad_ops_are_errors() {
    let d = decode_one(
        Format::OggJson,
        Some(Table::StoreSales),
        r#"{"table":"BUSINESS_DB.STORE_SALES","op_type":"T"}"#,
    );
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
    let d = decode_one(
        Format::OggJson,
        None,
        r#"{"table":"BUSINESS_DB.CUSTOMER","op_type":"I","after":{"c_customer_sk":1}}"#,
    );
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
    let e = decode(
        Format::OggJson,
        Some(Table::StoreSales),
        None,
        Some(&br#"{"op_type":"X","after":{}}"#[..]),
    );
    assert!(matches!(e, Err(DecodeError::UnknownOp(op)) if op == "X"));
    // A delete without its before image cannot say which row.
    let e = decode(
        Format::OggJson,
        Some(Table::StoreSales),
        None,
        Some(&br#"{"op_type":"D","before":null,"after":null}"#[..]),
    );
    assert!(matches!(e, Err(DecodeError::MissingField(f)) if f == "before"));
}

#[test]
fn format_names_round_trip_and_only_json_lacks_deletes() {
    for name in FORMAT_NAMES {
        let f: Format = name.parse().unwrap();
        assert_eq!(f.name(), name);
        assert_eq!(f.carries_deletes(), name != "json");
    }
    let e = "avro".parse::<Format>().unwrap_err();
    assert!(e.contains("maxwell-json") && e.contains("ogg-json"), "{e}");
}
