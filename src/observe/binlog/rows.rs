//! Turning binlog row images into row changes: where the key columns and
//! `bench_ts` sit in a table's column order, and how their binlog values read.

use chrono::NaiveDate;
use mysql_async::binlog::events::{RowsEventData, TableMapEvent};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::Value;

use super::image::{self, Columns};

use crate::model::{OpKind, RowKey, StampMicros, Table};
use crate::observe::decode::{key_columns, Change, STAMP_COLUMN};

/// Positions (0-based) of the columns the observer reads, from
/// `information_schema.COLUMNS` ordered by `ORDINAL_POSITION` (binlog row images
/// carry values by position only, unless `binlog_row_metadata=FULL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The table.
    pub table: Table,
    /// Number of columns.
    pub columns: usize,
    /// Index of `*_item_sk`.
    pub item: usize,
    /// Index of `*_ticket_number`.
    pub ticket: usize,
    /// Index of `bench_ts`, if the table has it.
    pub stamp: Option<usize>,
    /// Where the audit's canonical columns sit (for the [`super::tally`]);
    /// `None` when one is missing.
    pub canon: Option<crate::observe::decode::columns::Canon>,
}

impl Layout {
    /// Builds the layout from the table's column names in ordinal order;
    /// `Err` names the missing key column.
    pub fn from_columns(table: Table, names: &[String]) -> Result<Layout, String> {
        let (item_col, ticket_col) = key_columns(table);
        let find = |c: &str| names.iter().position(|n| n.eq_ignore_ascii_case(c));
        Ok(Layout {
            table,
            columns: names.len(),
            item: find(&item_col).ok_or(item_col)?,
            ticket: find(&ticket_col).ok_or(ticket_col)?,
            stamp: find(STAMP_COLUMN),
            canon: crate::observe::decode::columns::Canon::from_names(table, names),
        })
    }
}

/// Which kind of rows event an image pair came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    /// WRITE_ROWS (V1 or V2): after image only.
    Write,
    /// UPDATE_ROWS (V1, V2, partial): before and after.
    Update,
    /// DELETE_ROWS (V1 or V2): before image only.
    Delete,
}

impl RowsKind {
    /// The kind of a rows event.
    pub fn of(rows: &RowsEventData<'_>) -> RowsKind {
        match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => {
                RowsKind::Write
            }
            RowsEventData::UpdateRowsEventV1(_)
            | RowsEventData::UpdateRowsEvent(_)
            | RowsEventData::PartialUpdateRowsEvent(_) => RowsKind::Update,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => {
                RowsKind::Delete
            }
        }
    }
}

/// The row changes of one rows event of a table laid out as `layout`: read
/// by the fast path when it can (`fast`, the table map's sized columns; every
/// column in every image; not a partial update), by the driver's decoder
/// otherwise, and for an event the fast path cannot read (the driver then
/// says what is wrong with it).
pub fn decode(
    layout: &Layout,
    tme: &TableMapEvent<'_>,
    rows: &RowsEventData<'_>,
    fast: Option<&Columns>,
) -> Vec<Result<Change, String>> {
    let n = layout.columns;
    let full = !matches!(rows, RowsEventData::PartialUpdateRowsEvent(_))
        && rows
            .columns_before_image()
            .is_none_or(|b| b.iter().take(n).all(|bit| *bit))
        && rows
            .columns_after_image()
            .is_none_or(|b| b.iter().take(n).all(|bit| *bit));
    let quick = fast
        .filter(|_| full)
        .and_then(|cols| image::changes(cols, layout, RowsKind::of(rows), rows.rows_data()).ok());
    match quick {
        Some(list) => list.into_iter().map(Ok).collect(),
        None => decode_with_driver(layout, tme, rows),
    }
}

/// [`decode`] by the driver's decoder only, which builds every value of
/// every row.
pub fn decode_with_driver(
    layout: &Layout,
    tme: &TableMapEvent<'_>,
    rows: &RowsEventData<'_>,
) -> Vec<Result<Change, String>> {
    let kind = RowsKind::of(rows);
    rows.rows(tme)
        .map(|row| {
            row.map_err(|e| e.to_string()).and_then(|(before, after)| {
                change_from_images(layout, kind, before.as_ref(), after.as_ref())
            })
        })
        .collect()
}

/// One row change from a (before, after) image pair: inserts and updates are
/// keyed and stamped by the after image, deletes by the before image.
pub fn change_from_images(
    layout: &Layout,
    kind: RowsKind,
    before: Option<&BinlogRow>,
    after: Option<&BinlogRow>,
) -> Result<Change, String> {
    let (op, image) = match kind {
        RowsKind::Write => (OpKind::Insert, after),
        RowsKind::Update => (OpKind::Update, after),
        RowsKind::Delete => (OpKind::Delete, before),
    };
    let image = image.ok_or_else(|| format!("{op} row event without its image"))?;
    let value = |idx: usize| match image.as_ref(idx) {
        Some(BinlogValue::Value(v)) => Ok(v),
        Some(_) => Err(format!("column {idx} is JSON, not a scalar")),
        None => Err(format!(
            "column {idx} is not in the row image (binlog_row_image must be FULL)"
        )),
    };
    let item = value_to_u64(value(layout.item)?).ok_or("item key is not an integer")?;
    let ticket = value_to_u64(value(layout.ticket)?).ok_or("ticket key is not an integer")?;
    let item = u32::try_from(item).map_err(|_| format!("item key {item} exceeds u32"))?;
    let stamp = match layout.stamp {
        None => None,
        Some(idx) => match value(idx)? {
            Value::NULL => None,
            v => Some(
                value_to_micros(v).ok_or_else(|| format!("bench_ts {v:?} is not a DATETIME"))?,
            ),
        },
    };
    Ok(Change {
        key: RowKey {
            table: layout.table,
            ticket,
            item,
        },
        op,
        stamp,
    })
}

/// An integer column value (signed, unsigned, or as text).
pub fn value_to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::UInt(u) => Some(*u),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// A `DATETIME(6)` column value as UTC µs (the server runs in UTC; DATETIME
/// carries no zone).
pub fn value_to_micros(v: &Value) -> Option<StampMicros> {
    match *v {
        Value::Date(y, mo, d, h, mi, s, us) => Some(
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))?
                .and_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us)?
                .and_utc()
                .timestamp_micros(),
        ),
        Value::Bytes(ref b) => {
            crate::observe::decode::parse_stamp_str(std::str::from_utf8(b).ok()?)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mysql_async::consts::{ColumnFlags, ColumnType};
    use mysql_async::Column;

    use super::*;

    const T1: StampMicros = 1_795_494_880_123_456;

    fn names(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    fn row(values: Vec<Value>) -> BinlogRow {
        let cols: Arc<[Column]> = values
            .iter()
            .map(|_| Column::new(ColumnType::MYSQL_TYPE_LONGLONG).with_flags(ColumnFlags::empty()))
            .collect::<Vec<_>>()
            .into();
        BinlogRow::new(
            values
                .into_iter()
                .map(|v| Some(BinlogValue::Value(v)))
                .collect(),
            cols,
        )
    }

    fn layout() -> Layout {
        Layout::from_columns(
            Table::StoreSales,
            &names(&[
                "ss_sold_date_sk",
                "ss_item_sk",
                "ss_ticket_number",
                "ss_quantity",
                "bench_ts",
            ]),
        )
        .unwrap()
    }

    fn dt() -> Value {
        Value::Date(2026, 11, 24, 4, 34, 40, 123_456)
    }

    #[test]
    fn layout_finds_key_and_stamp_columns() {
        let l = layout();
        assert_eq!((l.columns, l.item, l.ticket, l.stamp), (5, 1, 2, Some(4)));
        let err = Layout::from_columns(Table::StoreReturns, &names(&["sr_item_sk", "bench_ts"]))
            .unwrap_err();
        assert_eq!(err, "sr_ticket_number");
        let no_stamp = Layout::from_columns(
            Table::StoreSales,
            &names(&["ss_item_sk", "ss_ticket_number"]),
        )
        .unwrap();
        assert_eq!(no_stamp.stamp, None);
    }

    #[test]
    fn write_update_delete_images() {
        let l = layout();
        let before = row(vec![
            Value::NULL,
            Value::Int(7),
            Value::Int(900),
            Value::Int(1),
            dt(),
        ]);
        let after = row(vec![
            Value::NULL,
            Value::Int(7),
            Value::UInt(900),
            Value::Int(2),
            Value::Date(2026, 11, 24, 4, 34, 41, 1),
        ]);
        let key = RowKey {
            table: Table::StoreSales,
            ticket: 900,
            item: 7,
        };
        let w = change_from_images(&l, RowsKind::Write, None, Some(&before)).unwrap();
        assert_eq!(
            w,
            Change {
                key,
                op: OpKind::Insert,
                stamp: Some(T1)
            }
        );
        let u = change_from_images(&l, RowsKind::Update, Some(&before), Some(&after)).unwrap();
        assert_eq!(
            u,
            Change {
                key,
                op: OpKind::Update,
                stamp: Some(1_795_494_881_000_001)
            }
        );
        let d = change_from_images(&l, RowsKind::Delete, Some(&before), None).unwrap();
        assert_eq!(
            d,
            Change {
                key,
                op: OpKind::Delete,
                stamp: Some(T1)
            }
        );
    }

    #[test]
    fn bad_images_are_errors() {
        let l = layout();
        assert!(change_from_images(&l, RowsKind::Write, None, None).is_err());
        let neg = row(vec![
            Value::NULL,
            Value::Int(-1),
            Value::Int(1),
            Value::Int(1),
            dt(),
        ]);
        assert!(change_from_images(&l, RowsKind::Write, None, Some(&neg)).is_err());
        let short = row(vec![Value::NULL, Value::Int(1)]);
        assert!(change_from_images(&l, RowsKind::Write, None, Some(&short)).is_err());
        let bad_ts = row(vec![
            Value::NULL,
            Value::Int(1),
            Value::Int(1),
            Value::Int(1),
            Value::Float(1.0),
        ]);
        assert!(change_from_images(&l, RowsKind::Write, None, Some(&bad_ts)).is_err());
    }

    #[test]
    fn value_conversions() {
        assert_eq!(value_to_u64(&Value::Bytes(b"42".to_vec())), Some(42));
        assert_eq!(value_to_u64(&Value::Double(1.0)), None);
        assert_eq!(value_to_micros(&dt()), Some(T1));
        assert_eq!(
            value_to_micros(&Value::Bytes(b"2026-11-24 04:34:40.123456".to_vec())),
            Some(T1)
        );
        assert_eq!(value_to_micros(&Value::Date(2026, 2, 30, 0, 0, 0, 0)), None);
    }
}
