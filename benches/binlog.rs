//! The binlog observer's cost per row: decoding a `store_sales` row image by
//! the fast path (key and `bench_ts` only) against the driver's decoder (every
//! value of every row), on a write-rows event as MariaDB writes it (V1, full
//! row image) with one row and with 50 rows; and the audit's tally of the
//! same rows (the driver's decoder, each row's canonical text and its MD5).
//!
//! `cargo bench --bench binlog`. Wall-clock nanoseconds per row; the two
//! decoders run side by side in one run, so read the ratio rather than the
//! absolute figures (the machine is shared).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mysql_common::binlog::consts::{BinlogVersion, EventType};
use mysql_common::binlog::events::{
    FormatDescriptionEvent, RowsEventData, TableMapEvent, WriteRowsEventV1,
};
use mysql_common::binlog::BinlogCtx;
use mysql_common::io::ParseBuf;
use mysql_common::proto::MyDeserialize;
use tpcds_bench::model::Table;
use tpcds_bench::observe::binlog::rows::{decode, decode_with_driver, Layout};
use tpcds_bench::observe::binlog::tally::Tally;
use tpcds_bench::observe::binlog::Columns;
use tpcds_bench::observe::decode::columns::columns;

/// Binlog column types: 9 INT, BIGINT ticket, INT quantity, 12 DECIMAL(7,2),
/// `bench_ts` and `updated_at` DATETIME(6): `mysql-init/`'s store_sales.
const TYPES: [u8; 25] = {
    let mut t = [3u8; 25]; // MYSQL_TYPE_LONG
    t[9] = 8; // LONGLONG
    let mut i = 11;
    while i < 23 {
        t[i] = 246; // NEWDECIMAL
        i += 1;
    }
    t[23] = 18; // DATETIME2
    t[24] = 18;
    t
};

fn table_map_bytes() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(&42u64.to_le_bytes()[..6]); // table id
    b.extend([0, 0]); // flags
    for name in [&b"business_db"[..], b"store_sales"] {
        b.push(name.len() as u8);
        b.extend(name);
        b.push(0);
    }
    b.push(TYPES.len() as u8);
    b.extend(TYPES);
    let mut meta = Vec::new();
    for t in TYPES {
        match t {
            246 => meta.extend([7, 2]),
            18 => meta.push(6),
            _ => {}
        }
    }
    b.push(meta.len() as u8);
    b.extend(meta);
    b.extend([0xff, 0xfd, 0x7f, 0x00]); // nullable: all but item, ticket and the stamps
    b
}

/// DATETIME(6) in the binlog's packed form.
fn datetime2(y: u64, mo: u64, d: u64, h: u64, mi: u64, s: u64, us: u32) -> [u8; 8] {
    let packed = (((y * 13 + mo) << 22) | (d << 17) | (h << 12) | (mi << 6) | s) + 0x80_0000_0000;
    let mut out = [0u8; 8];
    out[..5].copy_from_slice(&packed.to_be_bytes()[3..]);
    out[5..].copy_from_slice(&us.to_be_bytes()[1..]);
    out
}

/// A write-rows (V1) event's body with `n` rows.
fn write_rows_bytes(n: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(&42u64.to_le_bytes()[..6]);
    b.extend([0, 0]);
    b.push(TYPES.len() as u8);
    b.extend([0xff, 0xff, 0xff, 0x01]); // every column in the after image
    for r in 0..n {
        b.extend([0u8; 4]); // no NULLs
        for (i, t) in TYPES.iter().enumerate() {
            match (i, t) {
                (2, _) => b.extend((1000 + r as i32).to_le_bytes()),
                (_, 8) => b.extend((1_796_000_000_000_000_000u64 + u64::from(r)).to_le_bytes()),
                (_, 3) => b.extend((i as i32 * 7).to_le_bytes()),
                // 12.34: three bytes of integer part, one of cents, sign bit set.
                (_, 246) => b.extend([0x80, 0x00, 0x0c, 0x22]),
                _ => b.extend(datetime2(2026, 12, 3, 9, 15, 30, 123_456 + r)),
            }
        }
    }
    b
}

fn binlog(c: &mut Criterion) {
    let fde = FormatDescriptionEvent::new(BinlogVersion::Version4);
    let tm = table_map_bytes();
    let ctx = BinlogCtx::new(tm.len(), &fde, EventType::TABLE_MAP_EVENT as u8);
    let tme = TableMapEvent::deserialize(ctx, &mut ParseBuf(&tm)).expect("a table map");
    let cols = Columns::from_tme(&tme).expect("every store_sales type has a known size");
    // The audit's canonical columns in the table's order, `bench_ts` before
    // `updated_at`, as `mysql-init/` creates store_sales.
    let mut names: Vec<String> = columns(Table::StoreSales)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    names.insert(23, "bench_ts".into());
    assert_eq!(names.len(), TYPES.len());
    let layout = Layout::from_columns(Table::StoreSales, &names).expect("the key columns");
    assert_eq!((layout.item, layout.ticket, layout.stamp), (2, 9, Some(23)));
    let mut g = c.benchmark_group("binlog");
    for n in [1u32, 50] {
        let body = write_rows_bytes(n);
        let ctx = BinlogCtx::new(body.len(), &fde, EventType::WRITE_ROWS_EVENT_V1 as u8);
        let ev = WriteRowsEventV1::deserialize(ctx, &mut ParseBuf(&body)).expect("a rows event");
        let rows = RowsEventData::WriteRowsEventV1(ev);
        // Both decoders must read the same rows before their speed means anything.
        let fast = decode(&layout, &tme, &rows, Some(&cols));
        assert_eq!(fast, decode_with_driver(&layout, &tme, &rows));
        assert_eq!(fast.len(), n as usize);
        assert!(fast
            .iter()
            .all(|c| c.as_ref().is_ok_and(|c| c.stamp.is_some())));
        g.throughput(Throughput::Elements(u64::from(n)));
        g.bench_function(format!("fast path, {n} rows/event"), |b| {
            b.iter(|| decode(&layout, &tme, black_box(&rows), Some(&cols)))
        });
        g.bench_function(format!("driver's decoder, {n} rows/event"), |b| {
            b.iter(|| decode_with_driver(&layout, &tme, black_box(&rows)))
        });
        // The audit's tally: every value rendered as canonical text, its MD5.
        let mut t = Tally::default();
        t.count_event(&layout, &tme, &rows, &(0..u64::MAX));
        t.commit();
        assert_eq!((t.changes, t.unusable.clone()), (u64::from(n), None));
        g.bench_function(format!("audit's tally, {n} rows/event"), |b| {
            b.iter(|| t.count_event(&layout, &tme, black_box(&rows), &(0..u64::MAX)))
        });
    }
    g.finish();
}

criterion_group!(benches, binlog);
criterion_main!(benches);
