//! The canonical text of a row image as a Kafka message carries it (JSON),
//! character for character what the audit's SQL (`audit::sql`) makes MySQL print for the same
//! row, and its digest: so the Kafka sink's last images compare with MySQL
//! by the same sums.
//!
//! JSON values: integers as JSON numbers or numeric strings; money as JSON
//! numbers (Flink's `decode.decimal-as-plain-number`) or strings, rendered
//! with six decimals from the nearest `f64` (exact for every value with at
//! most six decimals below 10⁹, which covers any `DECIMAL(7,2)` and any real
//! difference from one); timestamps in every form `bench_ts` may take
//! ([`super::parse_stamp_value`]: ISO-8601, SQL, epoch),
//! printed in UTC with six fraction digits; `null` or an absent column as
//! `NULL`.

use std::sync::OnceLock;

use chrono::{Datelike, Timelike};
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use super::columns::{columns, Kind};
use super::parse_stamp_value;
use crate::model::Table;

/// The canonical text of `image` (a row of `table`), or `None` when a
/// column holds something no MySQL value renders as (the digest then cannot
/// match MySQL's, which is what the audit should say: `None` digests as a
/// value no row has).
pub fn text(table: Table, image: &Map<String, Value>) -> Option<String> {
    // The column list once per table, not per message.
    static COLUMNS: OnceLock<[Vec<(String, Kind)>; 2]> = OnceLock::new();
    let all = COLUMNS.get_or_init(|| [columns(Table::StoreSales), columns(Table::StoreReturns)]);
    let cols = &all[table.index()];
    let mut out = String::with_capacity(256);
    for (i, (col, kind)) in cols.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        match image.get(col.as_str()) {
            None | Some(Value::Null) => out.push_str("NULL"),
            Some(v) => out.push_str(&render(v, *kind)?),
        }
    }
    Some(out)
}

fn render(v: &Value, kind: Kind) -> Option<String> {
    match kind {
        Kind::Int => match v {
            Value::Number(n) => n.as_i64().map(|i| i.to_string()),
            Value::String(s) => s.trim().parse::<i64>().ok().map(|i| i.to_string()),
            _ => None,
        },
        Kind::Money => {
            let f = match v {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => s.trim().parse::<f64>().ok()?,
                _ => return None,
            };
            // `+ 0.0` turns -0.0 into 0.0: MySQL prints no negative zero.
            f.is_finite().then(|| format!("{:.6}", f + 0.0))
        }
        Kind::Timestamp => {
            let micros = parse_stamp_value(v).ok()??;
            let mut out = String::with_capacity(26);
            push_timestamp(micros, &mut out)?;
            Some(out)
        }
    }
}

/// `micros` (since the epoch) as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, onto
/// `out`; `None` outside chrono's range.
pub(crate) fn push_timestamp(micros: i64, out: &mut String) -> Option<()> {
    use std::fmt::Write as _;
    let t = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
    // By hand: a strftime pattern is parsed anew on every call.
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        micros.rem_euclid(1_000_000)
    );
    Some(())
}

/// A decimal's text (`-12.3`, `0.05`, `7`) in millionths, exactly; `None`
/// for anything else, or for digits past the sixth place that are not zero
/// (the canonical text's `DECIMAL(20,6)` would round them).
pub fn decimal_micros(s: &str) -> Option<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
    if int.is_empty() || int.len() > 30 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let (kept, rest) = frac.split_at(frac.len().min(6));
    if rest.bytes().any(|c| c != b'0') {
        return None;
    }
    let scaled = format!("{kept:0<6}").parse::<i128>().ok()?;
    let v = int.parse::<i128>().ok()? * 1_000_000 + scaled;
    Some(if neg { -v } else { v })
}

/// Millionths printed with exactly six places (`-12.340000`), as
/// `CAST(… AS DECIMAL(20,6))` and `::numeric(20,6)` print them; no negative zero.
pub fn six_places(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

/// The digest of a canonical text: the first 15 hex digits of its MD5 as an
/// integer, as [`super::sql`] computes it in the databases.
pub fn digest(text: &str) -> u64 {
    let h = Md5::digest(text.as_bytes());
    // 60 bits: the first 7.5 bytes.
    let mut d = 0u64;
    for b in &h[..8] {
        d = (d << 8) | u64::from(*b);
    }
    d >> 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_flink_image_renders_as_mysql_prints_it() {
        // store_returns: 10 ints, quantity, 9 money, updated_at.
        let img = image(
            r#"{"sr_returned_date_sk":2450000,"sr_return_time_sk":null,"sr_item_sk":"7",
            "sr_ticket_number":1795497123921428000,"sr_return_quantity":3,"sr_return_amt":12.3,
            "sr_fee":-0.0,"sr_net_loss":"1.05","sr_store_credit":99999.99,
            "updated_at":"2026-11-24T05:12:03.95738","bench_ts":"ignored"}"#,
        );
        let t = text(Table::StoreReturns, &img).unwrap();
        let parts: Vec<&str> = t.split('|').collect();
        assert_eq!(parts.len(), columns(Table::StoreReturns).len());
        assert_eq!(parts[0], "2450000");
        assert_eq!(parts[1], "NULL");
        assert_eq!(parts[2], "7");
        assert_eq!(parts[9], "1795497123921428000");
        assert_eq!(parts[11], "12.300000");
        assert_eq!(parts[14], "0.000000", "sr_fee: no negative zero");
        assert_eq!(parts[18], "99999.990000");
        assert_eq!(parts[19], "1.050000");
        assert_eq!(parts[20], "2026-11-24 05:12:03.957380");
        let early = image(r#"{"updated_at":"1969-12-31 23:59:59.5"}"#);
        let t = text(Table::StoreReturns, &early).unwrap();
        assert!(t.ends_with("|1969-12-31 23:59:59.500000"), "{t}");
        assert!(text(Table::StoreReturns, &image(r#"{"sr_fee":"x"}"#)).is_none());
    }

    #[test]
    fn decimals_read_exactly_to_the_sixth_place() {
        assert_eq!(decimal_micros("12.30"), Some(12_300_000));
        assert_eq!(decimal_micros("-0.05"), Some(-50_000));
        assert_eq!(decimal_micros("7"), Some(7_000_000));
        assert_eq!(decimal_micros("1.1234560"), Some(1_123_456));
        assert_eq!(decimal_micros("1.1234567"), None, "would round");
        assert_eq!(decimal_micros("1e3"), None);
        assert_eq!(decimal_micros(".5"), None);
        assert_eq!(six_places(-12_340_000), "-12.340000");
        assert_eq!(six_places(0), "0.000000");
        assert_eq!(six_places(99_999_990_000), "99999.990000");
    }

    #[test]
    fn the_digest_is_the_md5_prefix_mysql_computes() {
        // MD5('abc') = 900150983cd24fb0d6963f7d28e17f72; MySQL's
        // CONV(LEFT(MD5('abc'), 15), 16, 10) is its first 15 hex digits.
        assert_eq!(digest("abc"), 0x900150983cd24fb);
    }
}
