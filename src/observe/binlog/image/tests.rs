//! The fast path against the driver's own value decoder, on row images built
//! byte by byte: the same bytes must give the same key and stamp, and both
//! decoders must consume exactly the same number of bytes.

use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType::{self, *};
use mysql_common::io::ParseBuf;
use mysql_common::proto::MyDeserialize;
use proptest::prelude::*;

use super::*;
use crate::model::Table;
use crate::observe::binlog::rows::{value_to_micros, value_to_u64};

/// The column types and metadata of a store_sales-like table, with two
/// VARCHARs (one- and two-byte lengths) and a TIMESTAMP(3) added.
fn spec() -> Vec<(ColumnType, Vec<u8>)> {
    let mut s = vec![(MYSQL_TYPE_LONG, vec![]); 9];
    s[2] = (MYSQL_TYPE_LONG, vec![]); // item
    s.push((MYSQL_TYPE_LONGLONG, vec![])); // 9: ticket
    s.push((MYSQL_TYPE_LONG, vec![]));
    s.extend(std::iter::repeat_n((MYSQL_TYPE_NEWDECIMAL, vec![7, 2]), 12));
    s.push((MYSQL_TYPE_DATETIME2, vec![6])); // 23: bench_ts
    s.push((MYSQL_TYPE_DATETIME2, vec![6]));
    s.push((MYSQL_TYPE_VARCHAR, vec![20, 0]));
    s.push((MYSQL_TYPE_VARCHAR, vec![0x2c, 0x01])); // 300
    s.push((MYSQL_TYPE_TIMESTAMP2, vec![3]));
    s.push((MYSQL_TYPE_SHORT, vec![]));
    s
}

fn columns() -> Columns {
    let s = spec();
    let borrowed: Vec<(ColumnType, &[u8])> = s.iter().map(|(t, m)| (*t, &m[..])).collect();
    Columns::of(&borrowed).expect("every type is known")
}

fn layout() -> Layout {
    Layout {
        table: Table::StoreSales,
        columns: spec().len(),
        item: 2,
        ticket: 9,
        stamp: Some(23),
        canon: None,
    }
}

/// One row's values, as the generator below draws them.
#[derive(Debug, Clone)]
struct RowValues {
    item: u32,
    ticket: u64,
    cents: i64,
    stamp: (u16, u8, u8, u8, u8, u8, u32),
    text: String,
    nulls: u32,
}

fn encode(v: &RowValues) -> Vec<u8> {
    let spec = spec();
    let mut nulls = vec![0u8; spec.len().div_ceil(8)];
    let mut out = Vec::new();
    for (i, (ty, _)) in spec.iter().enumerate() {
        // Only non-key columns may be NULL.
        if ![2, 9, 23].contains(&i) && v.nulls & (1 << (i % 32)) != 0 {
            nulls[i / 8] |= 1 << (i % 8);
            continue;
        }
        match ty {
            MYSQL_TYPE_LONG if i == 2 => out.extend((v.item as i32).to_le_bytes()),
            MYSQL_TYPE_LONG => out.extend((i as i32 * 1000 - 7).to_le_bytes()),
            MYSQL_TYPE_LONGLONG => out.extend(v.ticket.to_le_bytes()),
            MYSQL_TYPE_SHORT => out.extend((-5i16).to_le_bytes()),
            MYSQL_TYPE_NEWDECIMAL => out.extend(decimal_7_2(v.cents)),
            MYSQL_TYPE_DATETIME2 => out.extend(datetime2_6(v.stamp)),
            MYSQL_TYPE_TIMESTAMP2 => {
                out.extend(1_795_000_000u32.to_be_bytes());
                out.extend(123u16.to_be_bytes());
            }
            MYSQL_TYPE_VARCHAR if i == 25 => {
                out.push(v.text.len().min(20) as u8);
                out.extend(&v.text.as_bytes()[..v.text.len().min(20)]);
            }
            MYSQL_TYPE_VARCHAR => {
                out.extend((v.text.len() as u16).to_le_bytes());
                out.extend(v.text.as_bytes());
            }
            _ => unreachable!("not in spec()"),
        }
    }
    [nulls, out].concat()
}

/// DECIMAL(7,2): 5 integer digits in 3 bytes, 2 fraction digits in 1, big
/// endian, the top bit set for ≥ 0 and every bit inverted for < 0.
fn decimal_7_2(cents: i64) -> Vec<u8> {
    let (int, frac) = (cents.unsigned_abs() / 100, cents.unsigned_abs() % 100);
    let mut b = vec![(int >> 16) as u8, (int >> 8) as u8, int as u8, frac as u8];
    b[0] ^= 0x80;
    if cents < 0 {
        b.iter_mut().for_each(|x| *x = !*x);
    }
    b
}

fn datetime2_6((y, mo, d, h, mi, s, us): (u16, u8, u8, u8, u8, u8, u32)) -> Vec<u8> {
    let ym = u64::from(y) * 13 + u64::from(mo);
    let packed = (ym << 22 | u64::from(d) << 17 | u64::from(h) << 12 | u64::from(mi) << 6)
        + u64::from(s)
        + 0x80_0000_0000;
    let mut b = packed.to_be_bytes()[3..].to_vec();
    b.extend(&us.to_be_bytes()[1..]);
    b
}

/// The driver's reading of one image: (item, ticket, bench_ts) and the bytes used.
fn oracle(image: &[u8]) -> ((u64, u64, Option<StampMicros>), usize) {
    let spec = spec();
    let mut buf = ParseBuf(image);
    let nulls = buf.0[..spec.len().div_ceil(8)].to_vec();
    buf.0 = &buf.0[nulls.len()..];
    let (mut item, mut ticket, mut stamp) = (0, 0, None);
    for (i, (ty, meta)) in spec.iter().enumerate() {
        if nulls[i / 8] & (1 << (i % 8)) != 0 {
            continue;
        }
        let v = BinlogValue::deserialize((*ty, &meta[..], false, false), &mut buf)
            .unwrap_or_else(|e| panic!("column {i} ({ty:?}): {e}"));
        let BinlogValue::Value(v) = v else {
            panic!("column {i} is not a scalar")
        };
        match i {
            2 => item = value_to_u64(&v).unwrap(),
            9 => ticket = value_to_u64(&v).unwrap(),
            23 => stamp = value_to_micros(&v),
            _ => {}
        }
    }
    ((item, ticket, stamp), image.len() - buf.0.len())
}

fn row_values() -> impl Strategy<Value = RowValues> {
    (
        0..=i32::MAX as u32,
        0..=i64::MAX as u64,
        -9_999_999i64..=9_999_999,
        (
            1000u16..9999,
            1u8..=12,
            1u8..=28,
            0u8..24,
            0u8..60,
            0u8..60,
            0u32..1_000_000,
        ),
        "[a-z]{0,300}",
        any::<u32>(),
    )
        .prop_map(|(item, ticket, cents, stamp, text, nulls)| RowValues {
            item,
            ticket,
            cents,
            stamp,
            text,
            nulls,
        })
}

proptest! {
    #[test]
    fn an_image_reads_as_the_driver_reads_it(v in row_values(), kind in 0..3u8) {
        let image = encode(&v);
        let ((item, ticket, stamp), used) = oracle(&image);
        prop_assert_eq!(used, image.len());
        let kind = [RowsKind::Write, RowsKind::Update, RowsKind::Delete][kind as usize];
        // An update carries a before image (here another row) ahead of the after image.
        let data = match kind {
            RowsKind::Update => [encode(&RowValues { item: 1, ticket: 2, ..v.clone() }), image].concat(),
            _ => image,
        };
        let got = changes(&columns(), &layout(), kind, &data).unwrap();
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(u64::from(got[0].key.item), item);
        prop_assert_eq!(got[0].key.ticket, ticket);
        prop_assert_eq!(got[0].stamp, stamp);
        prop_assert!(stamp.is_some());
    }
}

#[test]
fn several_rows_in_one_event_and_a_cut_image() {
    let v = |item| RowValues {
        item,
        ticket: 1_796_184_321_290_001_511,
        cents: -12_34,
        stamp: (2026, 12, 2, 14, 9, 44, 123_456),
        text: "x".repeat(280),
        nulls: 0,
    };
    let data = [encode(&v(1)), encode(&v(2)), encode(&v(3))].concat();
    let got = changes(&columns(), &layout(), RowsKind::Write, &data).unwrap();
    let items: Vec<u32> = got.iter().map(|c| c.key.item).collect();
    assert_eq!(items, [1, 2, 3]);
    assert_eq!(got[0].op, OpKind::Insert);
    assert_eq!(got[0].stamp, Some(1_796_220_584_123_456));
    let err = changes(
        &columns(),
        &layout(),
        RowsKind::Write,
        &data[..data.len() - 1],
    );
    assert!(err.unwrap_err().contains("cut short"));
}

#[test]
fn types_the_fast_path_does_not_know_go_to_the_driver() {
    for ty in [
        MYSQL_TYPE_BLOB,
        MYSQL_TYPE_JSON,
        MYSQL_TYPE_ENUM,
        MYSQL_TYPE_BIT,
    ] {
        assert!(
            Columns::of(&[(MYSQL_TYPE_LONG, &[]), (ty, &[2])]).is_none(),
            "{ty:?}"
        );
    }
    assert!(
        Columns::of(&[(MYSQL_TYPE_NEWDECIMAL, &[2, 5])]).is_none(),
        "scale > precision"
    );
    assert_eq!(decimal_size(7, 2), Some(4));
    assert_eq!(decimal_size(18, 9), Some(8));
    assert_eq!(decimal_size(65, 30), Some(30));
}
