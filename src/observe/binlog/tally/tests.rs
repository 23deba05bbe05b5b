use std::sync::Arc;

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::Column;

use super::*;
use crate::observe::decode::canonical;
use crate::observe::decode::columns::columns;

const TICKETS: Range<u64> = 1_000..2_000;

/// store_returns' canonical columns in order, then `bench_ts` (as MySQL has them).
fn names() -> Vec<String> {
    let mut n: Vec<String> = columns(Table::StoreReturns)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    n.push("bench_ts".into());
    n
}

fn layout() -> Layout {
    Layout::from_columns(Table::StoreReturns, &names()).unwrap()
}

/// A row: ints from `seed`, money `amt` in the first money column (text, as
/// the driver gives a DECIMAL), the others `1.05`, the timestamp, and NULL
/// in the second int column.
fn row(
    ticket: u64,
    amt: &str,
    micros: i64,
) -> (BinlogRow, serde_json::Map<String, serde_json::Value>) {
    let mut values = Vec::new();
    let mut json = serde_json::Map::new();
    let mut first_money = true;
    for (i, (c, k)) in columns(Table::StoreReturns).into_iter().enumerate() {
        let (v, j) = match k {
            _ if i == 1 => (Value::NULL, serde_json::Value::Null),
            Kind::Int if c.ends_with("ticket_number") => (Value::Int(ticket as i64), ticket.into()),
            Kind::Int => (Value::Int(i as i64 * 7), (i as i64 * 7).into()),
            Kind::Money => {
                let a = if std::mem::take(&mut first_money) {
                    amt
                } else {
                    "1.05"
                };
                (Value::Bytes(a.as_bytes().to_vec()), a.into())
            }
            Kind::Timestamp => {
                let t = chrono::DateTime::from_timestamp_micros(micros)
                    .unwrap()
                    .naive_utc();
                use chrono::{Datelike, Timelike};
                (
                    Value::Date(
                        t.year() as u16,
                        t.month() as u8,
                        t.day() as u8,
                        t.hour() as u8,
                        t.minute() as u8,
                        t.second() as u8,
                        t.nanosecond() / 1000,
                    ),
                    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string().into(),
                )
            }
        };
        values.push(v);
        json.insert(c, j);
    }
    values.push(Value::NULL); // bench_ts
    let cols: Arc<[Column]> = values
        .iter()
        .map(|_| Column::new(ColumnType::MYSQL_TYPE_LONGLONG).with_flags(ColumnFlags::empty()))
        .collect::<Vec<_>>()
        .into();
    let row = BinlogRow::new(
        values
            .into_iter()
            .map(|v| Some(BinlogValue::Value(v)))
            .collect(),
        cols,
    );
    (row, json)
}

const T: i64 = 1_795_494_880_123_456;

// The binlog's row renders character for character as the Kafka image of
// the same row does (whose text the stack tests hold to MySQL's own).
#[test]
fn a_binlog_row_renders_as_mysql_prints_it() {
    let (r, json) = row(1_500, "-12.3", T);
    let mut buf = String::new();
    let mut money = Vec::new();
    render(layout().canon.as_ref().unwrap(), &r, &mut buf, &mut money).unwrap();
    assert_eq!(
        Some(buf.clone()),
        canonical::text(Table::StoreReturns, &json)
    );
    assert!(buf.contains("|-12.300000|"), "{buf}");
    assert!(buf.contains("|NULL|"), "{buf}");
    assert_eq!(money.len(), 9);
    assert_eq!(money[0], -12_300_000);
    assert_eq!(money[1], 1_050_000);
}

fn totals_of(rows: &[(BinlogRow, serde_json::Map<String, serde_json::Value>)]) -> Totals {
    let mut t = Tally::default();
    let mut buf = String::new();
    for (r, _) in rows {
        t.count(&layout(), None, Some(r), &TICKETS, &mut buf);
    }
    t.commit();
    t.of(Table::StoreReturns).unwrap().clone()
}

// Over a changelog the tally is each key's last image: an update replaces
// the before image, a delete takes its row away, rows outside the range
// are not counted.
#[test]
fn the_tally_holds_each_keys_last_image() {
    let l = layout();
    let mut buf = String::new();
    let (a, _) = row(1_001, "5.00", T);
    let (a2, _) = row(1_001, "5.01", T + 1);
    let (b, _) = row(1_002, "7.00", T);
    let (out, _) = row(5_000, "9.00", T);
    let mut t = Tally::default();
    t.count(&l, None, Some(&a), &TICKETS, &mut buf);
    t.count(&l, None, Some(&b), &TICKETS, &mut buf);
    t.count(&l, None, Some(&out), &TICKETS, &mut buf);
    t.commit();
    t.count(&l, Some(&a), Some(&a2), &TICKETS, &mut buf);
    t.count(&l, Some(&b), None, &TICKETS, &mut buf);
    t.commit();
    let got = t.of(Table::StoreReturns).unwrap().clone();
    assert_eq!(got, totals_of(&[row(1_001, "5.01", T + 1)]));
    assert_eq!(got.rows, 1);
    assert_eq!(got.sums_text(9)[0], "5.010000");
    assert_eq!(t.changes, 4, "the row outside the range is not a change");
    assert_eq!(t.of(Table::StoreSales).unwrap(), &Totals::default());
}

// One cent, a lost or repeated change: the tally differs.
#[test]
fn any_change_lost_repeated_or_altered_shows() {
    let base = totals_of(&[row(1_001, "5.00", T), row(1_002, "7.00", T)]);
    assert_ne!(
        base,
        totals_of(&[row(1_001, "5.00", T), row(1_002, "7.01", T)])
    );
    assert_ne!(base, totals_of(&[row(1_001, "5.00", T)]));
    assert_ne!(
        base,
        totals_of(&[
            row(1_001, "5.00", T),
            row(1_002, "7.00", T),
            row(1_002, "7.00", T)
        ])
    );
    assert_ne!(
        base,
        totals_of(&[row(1_001, "5.00", T), row(1_002, "7.00", T + 1)])
    );
}

// A stream that broke inside a transaction reads it again from its start:
// the half counted is dropped, so nothing counts twice.
#[test]
fn a_transaction_read_again_counts_once() {
    let l = layout();
    let mut buf = String::new();
    let (a, _) = row(1_001, "5.00", T);
    let (b, _) = row(1_002, "7.00", T);
    let mut t = Tally::default();
    t.count(&l, None, Some(&a), &TICKETS, &mut buf);
    t.rollback();
    t.count(&l, None, Some(&a), &TICKETS, &mut buf);
    t.count(&l, None, Some(&b), &TICKETS, &mut buf);
    t.commit();
    assert_eq!(
        t.of(Table::StoreReturns).unwrap(),
        &totals_of(&[row(1_001, "5.00", T), row(1_002, "7.00", T)])
    );
    assert_eq!(t.changes, 2);
}

// A value the canonical text has no form for, or a table without one of
// its columns, makes the tally unusable (the audit then asks MySQL).
#[test]
fn what_the_tally_cannot_read_makes_it_unusable() {
    let mut buf = String::new();
    let (bad, _) = row(1_001, "1.0000001", T);
    let mut t = Tally::default();
    t.count(&layout(), None, Some(&bad), &TICKETS, &mut buf);
    assert!(t.of(Table::StoreReturns).is_none() && t.unusable.is_some());

    let mut short = names();
    short.retain(|n| !n.ends_with("fee"));
    let l = Layout::from_columns(Table::StoreReturns, &short).unwrap();
    assert!(l.canon.is_none());
    let (a, _) = row(1_001, "5.00", T);
    let mut t = Tally::default();
    t.count(&l, None, Some(&a), &TICKETS, &mut buf);
    assert!(t.unusable.unwrap().contains("store_returns"));
}
