//! The fast read against the general decoder: the same change and digest
//! for every message it accepts, and the odd messages left to the general one.

use super::*;
use crate::observe::decode::{decode_digested, Format};

/// What the general decoder makes of a message: key and digest.
fn general(table: Table, payload: &[u8]) -> Option<Image> {
    let d = decode_digested(Format::DebeziumJson, Some(table), None, Some(payload)).ok()?;
    assert_eq!(d.changes.len(), 1);
    Some(Image {
        ticket: d.changes[0].key.ticket,
        item: d.changes[0].key.item,
        digest: d.digests[0],
    })
}

fn fast(table: Table, payload: &str) -> Option<Image> {
    debezium(table, payload.as_bytes(), &mut String::new())
}

/// The fast read accepts `payload` and agrees with the general decoder.
fn agrees(table: Table, payload: &str) {
    let f = fast(table, payload).unwrap_or_else(|| panic!("not read fast: {payload}"));
    assert_eq!(Some(f), general(table, payload.as_bytes()), "{payload}");
}

const SALE: &str = r#"{"before":null,"after":{"ss_sold_date_sk":2451545,"ss_sold_time_sk":36000,"ss_item_sk":8284,"ss_customer_sk":99,"ss_cdemo_sk":null,"ss_hdemo_sk":7200,"ss_addr_sk":50000,"ss_store_sk":10,"ss_promo_sk":300,"ss_ticket_number":1795498440000000011,"ss_quantity":3,"ss_wholesale_cost":10.00,"ss_list_price":15.00,"ss_sales_price":12.34,"ss_ext_discount_amt":0.00,"ss_ext_sales_price":37.02,"ss_ext_wholesale_cost":30.00,"ss_ext_list_price":45.00,"ss_ext_tax":1.11,"ss_coupon_amt":-0.0,"ss_net_paid":37.02,"ss_net_paid_inc_tax":38.13,"ss_net_profit":-7.05,"bench_ts":"2026-11-24T05:49:42.123456","updated_at":"2026-11-24T05:49:42.12346"},"op":"c"}"#;

#[test]
fn the_captured_flink_messages_read_the_same_either_way() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/kafka/flink-debezium-json.json"
    ))
    .unwrap();
    let mut n = 0;
    for m in fixture["messages"].as_array().unwrap() {
        let Some(payload) = m["payload"].as_str() else {
            continue;
        };
        let table = match m["topic"].as_str().unwrap() {
            "tpcds.store_sales" => Table::StoreSales,
            _ => Table::StoreReturns,
        };
        agrees(table, payload);
        n += 1;
    }
    assert!(n >= 8, "{n} messages");
    agrees(Table::StoreSales, SALE);
}

#[test]
fn odd_values_read_the_same_either_way() {
    let with = |from: &str, to: &str| {
        assert!(SALE.contains(from), "{from}");
        SALE.replacen(from, to, 1)
    };
    for (from, to) in [
        // Money as text, large, negative, beyond cents, in exponent form.
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":" 12.34""#),
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":99999.99"#),
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":-0.05"#),
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":12.345"#),
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":1.234e1"#),
        (
            r#""ss_sales_price":12.34"#,
            r#""ss_sales_price":123456789012.5"#,
        ),
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":7"#),
        // Not a number MySQL prints: unrenderable either way.
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":"x""#),
        (r#""ss_sales_price":12.34"#, r#""ss_sales_price":true"#),
        (r#""ss_quantity":3"#, r#""ss_quantity":3.0"#),
        (r#""ss_quantity":3"#, r#""ss_quantity":"3""#),
        (r#""ss_quantity":3"#, r#""ss_quantity":[3]"#),
        (r#""ss_quantity":3"#, r#""ss_quantity":{"a":1}"#),
        (r#""ss_quantity":3"#, r#""ss_quantity":-3"#),
        // Timestamps in other forms, and a column left out.
        (r#"05:49:42.12346""#, r#"05:49:42""#),
        (
            r#""2026-11-24T05:49:42.12346""#,
            r#""2026-11-24 05:49:42.1""#,
        ),
        (
            r#""2026-11-24T05:49:42.12346""#,
            r#""2026-11-24T05:49:42.123456789""#,
        ),
        (
            r#""2026-11-24T05:49:42.12346""#,
            r#""2026-11-24T05:49:42.12346Z""#,
        ),
        (r#""2026-11-24T05:49:42.12346""#, r#""2026-11-24T05:49:60""#),
        (r#""2026-11-24T05:49:42.12346""#, r#"1795498182123"#),
        (r#""2026-11-24T05:49:42.12346""#, r#""2026-02-30T05:49:42""#),
        (r#""2026-11-24T05:49:42.12346""#, r#""not a time""#),
        (r#""ss_ext_tax":1.11,"#, ""),
        // Escapes in a key and a value; a member repeated (the last wins).
        (r#""ss_store_sk":10"#, r#""ss_st\u006fre_sk":"1\u0030""#),
        (
            r#""ss_store_sk":10"#,
            r#""ss_store_sk":10,"ss_store_sk":11"#,
        ),
        (r#""op":"c""#, r#""op":"r""#),
        (r#""op":"c""#, r#""op":"u""#),
        (r#""op":"c""#, r#""op":"c","ts_ms":1,"op":"u""#),
    ] {
        agrees(Table::StoreSales, &with(from, to));
    }
    // A delete carries its before image.
    let delete = SALE
        .replacen(r#""before":null,"after""#, r#""after":null,"before""#, 1)
        .replacen(r#""op":"c""#, r#""op":"d""#, 1);
    agrees(Table::StoreSales, &delete);
    assert_eq!(fast(Table::StoreSales, &delete).unwrap().digest, None);
}

#[test]
fn what_the_fast_read_leaves_to_the_general_decoder() {
    let with = |from: &str, to: &str| SALE.replacen(from, to, 1);
    for odd in [
        // Named table, schema envelope, other ops, no op, no image.
        with(
            r#""op":"c""#,
            r#""op":"c","source":{"table":"store_returns"}"#,
        ),
        format!(r#"{{"schema":{{}},"payload":{SALE}}}"#),
        with(r#""op":"c""#, r#""op":"t""#),
        with(r#""op":"c""#, r#""op":"x""#),
        with(r#","op":"c""#, ""),
        with(r#""op":"c""#, r#""op":null"#),
        with(r#""op":"c""#, r#""op":1"#),
        with(r#""before":null,"after""#, r#""before":null,"x""#),
        with(r#""before":null,"after""#, r#""before":null,"after":5,"x""#),
        // Keys as text, negative, fractional, null, too wide.
        with(r#""ss_item_sk":8284"#, r#""ss_item_sk":"8284""#),
        with(r#""ss_item_sk":8284"#, r#""ss_item_sk":-1"#),
        with(r#""ss_item_sk":8284"#, r#""ss_item_sk":1.5"#),
        with(r#""ss_item_sk":8284"#, r#""ss_item_sk":null"#),
        with(r#""ss_item_sk":8284"#, r#""ss_item_sk":4294967296"#),
        // A stamp the general decoder rejects, or reads as a number.
        with(
            r#""bench_ts":"2026-11-24T05:49:42.123456""#,
            r#""bench_ts":"soon""#,
        ),
        with(
            r#""bench_ts":"2026-11-24T05:49:42.123456""#,
            r#""bench_ts":1795498182123"#,
        ),
        // Not JSON, not an object, trailing bytes.
        "{".to_string(),
        "[1]".to_string(),
        format!("{SALE} x"),
    ] {
        assert_eq!(fast(Table::StoreSales, &odd), None, "{odd}");
    }
    // Integral float keys read as the general decoder reads them.
    agrees(
        Table::StoreSales,
        &with(r#""ss_item_sk":8284"#, r#""ss_item_sk":8284.0"#),
    );
}

#[test]
fn money_by_cents_prints_what_the_formatter_prints() {
    let mut buf = String::new();
    let mut check = |f: f64| {
        buf.clear();
        money(f, &mut buf);
        assert_eq!(buf, format!("{:.6}", f + 0.0), "{f:e}");
    };
    for c in (-100_000i64..100_000).chain([9_999_999, -9_999_999, 99_999_999_999]) {
        check(c as f64 / 100.0);
    }
    for f in [
        0.001, -0.001, 1e-9, 12.345, 0.125, 1e9, 1e12, -0.0, 2.5e-7, 123456.785,
    ] {
        check(f);
    }
}
