//! Decoder tests: one section per format, plus the shared key/stamp rules.

mod maxwell_ogg;

use super::*;
use crate::model::{OpKind, RowKey, Table};

/// 2026-11-24T04:34:40.123456Z and a later version, in µs.
pub(super) const T1: i64 = 1_795_494_880_123_456;
pub(super) const T2: i64 = 1_795_494_881_000_001;

pub(super) fn ss(ticket: u64, item: u32) -> RowKey {
    RowKey {
        table: Table::StoreSales,
        ticket,
        item,
    }
}

fn sr(ticket: u64, item: u32) -> RowKey {
    RowKey {
        table: Table::StoreReturns,
        ticket,
        item,
    }
}

fn one(format: Format, table: Option<Table>, key: Option<&str>, payload: Option<&str>) -> Change {
    let d = decode(
        format,
        table,
        key.map(str::as_bytes),
        payload.map(str::as_bytes),
    )
    .unwrap();
    assert_eq!(d.ignored, 0, "{d:?}");
    assert_eq!(d.changes.len(), 1, "{d:?}");
    d.changes[0]
}

fn err(format: Format, table: Option<Table>, payload: &str) -> DecodeError {
    decode(format, table, None, Some(payload.as_bytes())).unwrap_err()
}

/// A full store_sales row as Flink prints it with plain decimals and ISO-8601 stamps.
fn ss_row(ticket: u64, item: u32, ts: &str) -> String {
    format!(
        r#"{{"ss_sold_date_sk":2451545,"ss_sold_time_sk":36000,"ss_item_sk":{item},"ss_customer_sk":17,
        "ss_cdemo_sk":null,"ss_hdemo_sk":5,"ss_addr_sk":9,"ss_store_sk":4,"ss_promo_sk":12,
        "ss_ticket_number":{ticket},"ss_quantity":3,"ss_wholesale_cost":12.50,"ss_list_price":20.00,
        "ss_sales_price":18.75,"ss_ext_discount_amt":0.00,"ss_ext_sales_price":56.25,
        "ss_ext_wholesale_cost":37.50,"ss_ext_list_price":60.00,"ss_ext_tax":2.81,"ss_coupon_amt":0.00,
        "ss_net_paid":56.25,"ss_net_paid_inc_tax":59.06,"ss_net_profit":18.75,
        "bench_ts":"{ts}","updated_at":"{ts}"}}"#
    )
}

// ---------------------------------------------------------------- debezium-json

#[test]
fn debezium_flink_insert() {
    let msg = format!(
        r#"{{"before":null,"after":{},"op":"c"}}"#,
        ss_row(9_000_001, 42, "2026-11-24T04:34:40.123456")
    );
    let c = one(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        None,
        Some(&msg),
    );
    assert_eq!(
        c,
        Change {
            key: ss(9_000_001, 42),
            op: OpKind::Insert,
            stamp: Some(T1)
        }
    );
}

#[test]
fn debezium_flink_update_is_delete_of_before_then_insert_of_after() {
    let d_msg = format!(
        r#"{{"before":{},"after":null,"op":"d"}}"#,
        ss_row(7, 1, "2026-11-24T04:34:40.123456")
    );
    let c_msg = format!(
        r#"{{"before":null,"after":{},"op":"c"}}"#,
        ss_row(7, 1, "2026-11-24T04:34:41.000001")
    );
    let d = one(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        None,
        Some(&d_msg),
    );
    let c = one(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        None,
        Some(&c_msg),
    );
    assert_eq!(
        d,
        Change {
            key: ss(7, 1),
            op: OpKind::Delete,
            stamp: Some(T1)
        }
    );
    assert_eq!(
        c,
        Change {
            key: ss(7, 1),
            op: OpKind::Insert,
            stamp: Some(T2)
        }
    );
}

#[test]
fn debezium_delete_stamp_is_the_before_image() {
    // An "after" with another stamp must not be used for a delete.
    let msg = r#"{"before":{"sr_item_sk":3,"sr_ticket_number":11,"bench_ts":"2026-11-24 04:34:40.123456"},
                  "after":{"sr_item_sk":3,"sr_ticket_number":11,"bench_ts":"2026-11-24 04:34:41.000001"},
                  "op":"d"}"#;
    let c = one(
        Format::DebeziumJson,
        Some(Table::StoreReturns),
        None,
        Some(msg),
    );
    assert_eq!(
        c,
        Change {
            key: sr(11, 3),
            op: OpKind::Delete,
            stamp: Some(T1)
        }
    );
}

#[test]
fn debezium_native_envelope_with_schema_source_and_micro_timestamps() {
    // Debezium's own MySQL connector: DATETIME(6) as MicroTimestamp (epoch µs),
    // table from `source`, topic name irrelevant.
    let msg = format!(
        r#"{{"schema":{{"type":"struct","fields":[]}},
            "payload":{{"before":{{"sr_item_sk":5,"sr_ticket_number":"12","bench_ts":{T1}}},
                        "after":{{"sr_item_sk":5,"sr_ticket_number":"12","bench_ts":{T2}}},
                        "source":{{"connector":"mysql","db":"business_db","table":"store_returns"}},
                        "op":"u","ts_ms":1795494881002}}}}"#
    );
    let c = one(Format::DebeziumJson, None, None, Some(&msg));
    assert_eq!(
        c,
        Change {
            key: sr(12, 5),
            op: OpKind::Update,
            stamp: Some(T2)
        }
    );
}

#[test]
fn debezium_snapshot_read_is_insert_and_millis_stamps_work() {
    let msg = r#"{"before":null,"after":{"ss_item_sk":1,"ss_ticket_number":2,"bench_ts":1795494880123},"op":"r"}"#;
    let c = one(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        None,
        Some(msg),
    );
    assert_eq!(
        c,
        Change {
            key: ss(2, 1),
            op: OpKind::Insert,
            stamp: Some(T1 - 456)
        }
    );
}

#[test]
fn debezium_scientific_decimals_and_string_keys() {
    let msg = r#"{"before":null,"after":{"ss_item_sk":"17","ss_ticket_number":1.2E3,
                  "ss_net_paid":1.2345E+2,"ss_list_price":"5E-1","bench_ts":"2026-11-24 04:34:40.123456"},"op":"c"}"#;
    let c = one(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        None,
        Some(msg),
    );
    assert_eq!(c.key, ss(1200, 17));
}

#[test]
fn debezium_other_table_truncate_and_tombstone_are_ignored() {
    let other =
        r#"{"payload":{"before":null,"after":{"id":1},"source":{"table":"customers"},"op":"c"}}"#;
    let d = decode(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        None,
        Some(other.as_bytes()),
    )
    .unwrap();
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
    let trunc = r#"{"before":null,"after":null,"op":"t"}"#;
    let d = decode(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        None,
        Some(trunc.as_bytes()),
    )
    .unwrap();
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
    let d = decode(
        Format::DebeziumJson,
        Some(Table::StoreSales),
        Some(b"{}"),
        None,
    )
    .unwrap();
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
}

#[test]
fn debezium_missing_stamp_is_none_not_error() {
    let msg = r#"{"before":null,"after":{"ss_item_sk":1,"ss_ticket_number":2},"op":"c"}"#;
    assert_eq!(
        one(
            Format::DebeziumJson,
            Some(Table::StoreSales),
            None,
            Some(msg)
        )
        .stamp,
        None
    );
}

#[test]
fn debezium_malformed_inputs_are_errors() {
    let t = Some(Table::StoreSales);
    assert!(matches!(
        err(Format::DebeziumJson, t, "{not json"),
        DecodeError::NotJson(_)
    ));
    assert!(matches!(
        err(Format::DebeziumJson, t, "[1,2]"),
        DecodeError::NotObject(_)
    ));
    assert!(
        matches!(err(Format::DebeziumJson, t, r#"{"after":{}}"#), DecodeError::MissingField(f) if f == "op")
    );
    assert!(matches!(
        err(Format::DebeziumJson, t, r#"{"before":null,"after":null,"op":"c"}"#),
        DecodeError::MissingField(f) if f == "after"
    ));
    assert!(matches!(
        err(Format::DebeziumJson, t, r#"{"before":null,"after":{"ss_item_sk":1},"op":"c"}"#),
        DecodeError::MissingField(f) if f == "ss_ticket_number"
    ));
    assert!(matches!(
        err(
            Format::DebeziumJson,
            t,
            r#"{"after":{"ss_item_sk":-1,"ss_ticket_number":2},"op":"c"}"#
        ),
        DecodeError::BadKey { .. }
    ));
    assert!(matches!(
        err(
            Format::DebeziumJson,
            t,
            r#"{"after":{"ss_item_sk":1.5,"ss_ticket_number":2},"op":"c"}"#
        ),
        DecodeError::BadKey { .. }
    ));
    assert!(matches!(
        err(
            Format::DebeziumJson,
            t,
            r#"{"after":{"ss_item_sk":4294967296,"ss_ticket_number":2},"op":"c"}"#
        ),
        DecodeError::BadKey { .. }
    ));
    assert!(matches!(
        err(
            Format::DebeziumJson,
            t,
            r#"{"after":{"ss_item_sk":1,"ss_ticket_number":2,"bench_ts":"soon"},"op":"c"}"#
        ),
        DecodeError::BadStamp(_)
    ));
    assert!(matches!(
        err(Format::DebeziumJson, t, r#"{"after":{"ss_item_sk":1,"ss_ticket_number":2},"op":"x"}"#),
        DecodeError::UnknownOp(o) if o == "x"
    ));
    assert!(matches!(
        err(
            Format::DebeziumJson,
            None,
            r#"{"after":{"ss_item_sk":1,"ss_ticket_number":2},"op":"c"}"#
        ),
        DecodeError::NoTable
    ));
}

// ---------------------------------------------------------------- canal-json

#[test]
fn canal_several_rows_per_message() {
    let msg = r#"{"data":[{"ss_item_sk":"1","ss_ticket_number":"10","bench_ts":"2026-11-24 04:34:40.123456"},
                          {"ss_item_sk":"2","ss_ticket_number":"10","bench_ts":"2026-11-24 04:34:41.000001"}],
                  "database":"business_db","table":"store_sales","es":1795494880000,"ts":1795494880005,
                  "isDdl":false,"pkNames":["ss_item_sk","ss_ticket_number"],"old":null,"type":"INSERT"}"#;
    let d = decode(Format::CanalJson, None, None, Some(msg.as_bytes())).unwrap();
    assert_eq!(
        d.changes,
        vec![
            Change {
                key: ss(10, 1),
                op: OpKind::Insert,
                stamp: Some(T1)
            },
            Change {
                key: ss(10, 2),
                op: OpKind::Insert,
                stamp: Some(T2)
            },
        ]
    );
}

#[test]
fn canal_update_uses_new_image_and_delete_uses_deleted_image() {
    let upd = r#"{"data":[{"sr_item_sk":3,"sr_ticket_number":11,"bench_ts":"2026-11-24 04:34:41.000001"}],
                  "old":[{"bench_ts":"2026-11-24 04:34:40.123456"}],"type":"UPDATE","table":"store_returns"}"#;
    assert_eq!(
        one(Format::CanalJson, None, None, Some(upd)),
        Change {
            key: sr(11, 3),
            op: OpKind::Update,
            stamp: Some(T2)
        }
    );
    let del = r#"{"data":[{"sr_item_sk":3,"sr_ticket_number":11,"bench_ts":"2026-11-24 04:34:40.123456"}],"type":"DELETE"}"#;
    assert_eq!(
        one(
            Format::CanalJson,
            Some(Table::StoreReturns),
            None,
            Some(del)
        ),
        Change {
            key: sr(11, 3),
            op: OpKind::Delete,
            stamp: Some(T1)
        }
    );
}

#[test]
fn canal_flink_style_without_database_uses_topic_table() {
    let msg = r#"{"data":[{"ss_item_sk":1,"ss_ticket_number":2,"bench_ts":"2026-11-24T04:34:40.123456"}],"type":"INSERT"}"#;
    assert_eq!(
        one(Format::CanalJson, Some(Table::StoreSales), None, Some(msg)).key,
        ss(2, 1)
    );
}

#[test]
fn canal_ddl_and_other_tables_are_ignored() {
    let ddl = r#"{"data":null,"isDdl":true,"sql":"ALTER TABLE store_sales ADD x INT","type":"ALTER","table":"store_sales"}"#;
    let d = decode(Format::CanalJson, None, None, Some(ddl.as_bytes())).unwrap();
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
    let other = r#"{"data":[{"id":1},{"id":2}],"type":"INSERT","table":"customers"}"#;
    let d = decode(
        Format::CanalJson,
        Some(Table::StoreSales),
        None,
        Some(other.as_bytes()),
    )
    .unwrap();
    assert_eq!((d.changes.len(), d.ignored), (0, 2));
    let trunc = r#"{"data":null,"type":"TRUNCATE","table":"store_sales"}"#;
    let d = decode(Format::CanalJson, None, None, Some(trunc.as_bytes())).unwrap();
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
}

#[test]
fn canal_malformed_inputs_are_errors() {
    let t = Some(Table::StoreSales);
    assert!(
        matches!(err(Format::CanalJson, t, r#"{"data":[]}"#), DecodeError::MissingField(f) if f == "type")
    );
    assert!(
        matches!(err(Format::CanalJson, t, r#"{"type":"INSERT"}"#), DecodeError::MissingField(f) if f == "data")
    );
    assert!(matches!(
        err(Format::CanalJson, t, r#"{"type":"INSERT","data":{}}"#),
        DecodeError::NotObject(_)
    ));
    assert!(matches!(
        err(Format::CanalJson, t, r#"{"type":"INSERT","data":[1]}"#),
        DecodeError::NotObject(_)
    ));
    assert!(matches!(
        err(Format::CanalJson, t, r#"{"type":"insert","data":[]}"#),
        DecodeError::UnknownOp(_)
    ));
}

// ---------------------------------------------------------------- upsert-kafka

#[test]
fn upsert_value_is_insert_with_key_from_value_or_key() {
    let key = r#"{"ss_item_sk":4,"ss_ticket_number":99}"#;
    let full = r#"{"ss_item_sk":4,"ss_ticket_number":99,"bench_ts":"2026-11-24T04:34:40.123456"}"#;
    assert_eq!(
        one(
            Format::UpsertKafka,
            Some(Table::StoreSales),
            Some(key),
            Some(full)
        ),
        Change {
            key: ss(99, 4),
            op: OpKind::Insert,
            stamp: Some(T1)
        }
    );
    // value.fields-include = EXCEPT_KEY
    let except_key = r#"{"ss_quantity":3,"bench_ts":"2026-11-24T04:34:40.123456"}"#;
    assert_eq!(
        one(
            Format::UpsertKafka,
            Some(Table::StoreSales),
            Some(key),
            Some(except_key)
        )
        .key,
        ss(99, 4)
    );
}

#[test]
fn upsert_tombstone_is_delete_without_stamp() {
    let key = r#"{"sr_item_sk":4,"sr_ticket_number":99}"#;
    assert_eq!(
        one(
            Format::UpsertKafka,
            Some(Table::StoreReturns),
            Some(key),
            None
        ),
        Change {
            key: sr(99, 4),
            op: OpKind::Delete,
            stamp: None
        }
    );
}

#[test]
fn upsert_malformed_inputs_are_errors() {
    let t = Some(Table::StoreSales);
    assert!(matches!(
        decode(Format::UpsertKafka, t, None, None),
        Err(DecodeError::MissingField(_))
    ));
    assert!(matches!(
        decode(Format::UpsertKafka, t, Some(b"nope"), None),
        Err(DecodeError::NotJson(_))
    ));
    assert!(matches!(
        decode(Format::UpsertKafka, None, Some(b"{}"), Some(b"{}")),
        Err(DecodeError::NoTable)
    ));
    assert!(matches!(
        decode(
            Format::UpsertKafka,
            t,
            Some(b"{}"),
            Some(br#"{"bench_ts":null}"#)
        ),
        Err(DecodeError::MissingField(_))
    ));
}

// ---------------------------------------------------------------- json

#[test]
fn plain_json_rows_are_inserts() {
    let row = ss_row(5, 6, "2026-11-24 04:34:40.123456");
    assert_eq!(
        one(Format::Json, Some(Table::StoreSales), None, Some(&row)),
        Change {
            key: ss(5, 6),
            op: OpKind::Insert,
            stamp: Some(T1)
        }
    );
    let d = decode(Format::Json, Some(Table::StoreSales), None, None).unwrap();
    assert_eq!((d.changes.len(), d.ignored), (0, 1));
    assert!(matches!(
        decode(Format::Json, None, None, Some(row.as_bytes())),
        Err(DecodeError::NoTable)
    ));
}

// ---------------------------------------------------------------- formats

#[test]
fn format_names_round_trip() {
    for f in [
        Format::DebeziumJson,
        Format::CanalJson,
        Format::UpsertKafka,
        Format::Json,
    ] {
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
        assert_eq!(f.to_string(), f.name());
    }
    assert!("avro"
        .parse::<Format>()
        .unwrap_err()
        .contains("debezium-json"));
}

#[test]
fn key_columns_follow_table_prefix() {
    assert_eq!(
        key_columns(Table::StoreReturns),
        ("sr_item_sk".to_string(), "sr_ticket_number".to_string())
    );
}

// ---------------------------------------------------------------- properties

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever arrives on a topic, decoding returns (never panics).
        #[test]
        fn decode_never_panics(key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
                               payload in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..256))) {
            for f in [Format::DebeziumJson, Format::CanalJson, Format::UpsertKafka, Format::Json] {
                let _ = decode(f, Some(Table::StoreSales), key.as_deref(), payload.as_deref());
            }
        }

        /// Any µs stamp printed the ways sinks print it parses back exactly.
        #[test]
        fn stamps_round_trip(us in 0i64..4_102_444_800_000_000) {
            let dt = chrono::DateTime::from_timestamp_micros(us).unwrap();
            let trimmed = dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
            for s in [
                dt.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
                dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                // Flink drops trailing zeros of the fraction (never of the seconds).
                if trimmed.contains('.') {
                    trimmed.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    trimmed.clone()
                },
                dt.to_rfc3339(),
            ] {
                prop_assert_eq!(parse_stamp_str(&s), Some(us), "{}", s);
            }
            if us >= 100_000_000_000_000 {
                prop_assert_eq!(parse_stamp_value(&serde_json::json!(us)).unwrap(), Some(us));
            }
        }

        /// Valid rows decode to their key and stamp, whatever the key's JSON form.
        #[test]
        fn keys_in_any_json_form(ticket in 0u64..9_007_199_254_740_992, item in any::<u32>(), as_string in any::<bool>()) {
            let t = if as_string { format!("\"{ticket}\"") } else { ticket.to_string() };
            let i = if as_string { format!("\"{item}\"") } else { item.to_string() };
            let msg = format!(r#"{{"before":null,"after":{{"ss_item_sk":{i},"ss_ticket_number":{t},"bench_ts":"2026-11-24T04:34:40.123456"}},"op":"c"}}"#);
            let c = one(Format::DebeziumJson, Some(Table::StoreSales), None, Some(&msg));
            prop_assert_eq!(c.key, ss(ticket, item));
            prop_assert_eq!(c.stamp, Some(T1));
        }
    }
}
