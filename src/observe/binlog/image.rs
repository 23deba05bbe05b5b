//! The fast path for row images: reads only the key columns and `bench_ts` of
//! each row, skipping the other columns by their binlog sizes.
//!
//! Why: the driver's row decoder builds every value of every row (decimals as
//! strings), re-reads the table map's optional metadata for each row, and finds
//! each column's metadata by walking the columns before it. In a single-row
//! capacity run that was 18 % of the harness's CPU, on the cores MariaDB needs.
//! A table map whose columns all have a fixed or length-prefixed binlog size
//! (integers, DECIMAL, DATE/TIME/DATETIME/TIMESTAMP with fractions, FLOAT,
//! DOUBLE, YEAR, VARCHAR) gets [`Columns`]; anything else (JSON, BLOB, ENUM,
//! BIT, partial images, a row image that omits columns) goes through the
//! driver's decoder as before.

use chrono::NaiveDate;
use mysql_async::binlog::events::TableMapEvent;
use mysql_async::consts::ColumnType;

use super::rows::{Layout, RowsKind};
use crate::model::{OpKind, RowKey, StampMicros};
use crate::observe::decode::Change;

/// How one column's value is laid out in a row image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Width {
    /// Always this many bytes.
    Fixed(usize),
    /// A little-endian length of this many bytes, then that many bytes.
    Prefixed(usize),
}

/// What the fast path needs of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Col {
    ty: ColumnType,
    width: Width,
    /// Fractional-second digits, for the temporal types.
    fsp: u8,
}

/// A table map's columns, when every one has a size the fast path knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    cols: Vec<Col>,
}

impl Columns {
    /// The columns of `tme`, or `None` if any is of a type the fast path
    /// leaves to the driver.
    pub fn from_tme(tme: &TableMapEvent<'_>) -> Option<Columns> {
        let n = usize::try_from(tme.columns_count()).ok()?;
        let mut types = Vec::with_capacity(n);
        for i in 0..n {
            types.push(tme.get_column_type(i).ok()??);
        }
        let cols = (0..n)
            .map(|i| col(types[i], tme.get_column_metadata(i).unwrap_or(&[])))
            .collect::<Option<Vec<_>>>()?;
        Some(Columns { cols })
    }

    #[cfg(test)]
    fn of(spec: &[(ColumnType, &[u8])]) -> Option<Columns> {
        let cols = spec
            .iter()
            .map(|(t, m)| col(*t, m))
            .collect::<Option<Vec<_>>>()?;
        Some(Columns { cols })
    }
}

/// Binary size of a DECIMAL(precision, scale) (MySQL's `decimal_bin_size`).
fn decimal_size(precision: u8, scale: u8) -> Option<usize> {
    const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
    let (p, s) = (usize::from(precision), usize::from(scale));
    let intg = p.checked_sub(s)?;
    Some(intg / 9 * 4 + DIG2BYTES[intg % 9] + s / 9 * 4 + DIG2BYTES[s % 9])
}

fn col(ty: ColumnType, meta: &[u8]) -> Option<Col> {
    use ColumnType::*;
    let fsp = meta.first().copied().unwrap_or(0);
    let frac = usize::from(fsp).div_ceil(2);
    let width = match ty {
        MYSQL_TYPE_TINY | MYSQL_TYPE_YEAR => Width::Fixed(1),
        MYSQL_TYPE_SHORT => Width::Fixed(2),
        MYSQL_TYPE_INT24 | MYSQL_TYPE_DATE => Width::Fixed(3),
        MYSQL_TYPE_LONG | MYSQL_TYPE_FLOAT => Width::Fixed(4),
        MYSQL_TYPE_LONGLONG | MYSQL_TYPE_DOUBLE => Width::Fixed(8),
        MYSQL_TYPE_NEWDECIMAL => Width::Fixed(decimal_size(*meta.first()?, *meta.get(1)?)?),
        MYSQL_TYPE_DATETIME2 if fsp <= 6 => Width::Fixed(5 + frac),
        MYSQL_TYPE_TIMESTAMP2 if fsp <= 6 => Width::Fixed(4 + frac),
        MYSQL_TYPE_TIME2 if fsp <= 6 => Width::Fixed(3 + frac),
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => {
            let max = u16::from_le_bytes([*meta.first()?, *meta.get(1)?]);
            Width::Prefixed(if max < 256 { 1 } else { 2 })
        }
        _ => return None,
    };
    Some(Col { ty, width, fsp })
}

/// The row changes of one rows event's data (`rows_data`), all columns in
/// every image; `Err` says what in the bytes did not add up.
pub fn changes(
    cols: &Columns,
    layout: &Layout,
    kind: RowsKind,
    mut data: &[u8],
) -> Result<Vec<Change>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let change = match kind {
            RowsKind::Write => read_image(cols, layout, OpKind::Insert, &mut data)?,
            RowsKind::Delete => read_image(cols, layout, OpKind::Delete, &mut data)?,
            RowsKind::Update => {
                read_image(cols, layout, OpKind::Update, &mut data)?;
                read_image(cols, layout, OpKind::Update, &mut data)?
            }
        };
        out.push(change);
    }
    Ok(out)
}

/// Reads one image off the front of `data`.
fn read_image(
    cols: &Columns,
    layout: &Layout,
    op: OpKind,
    data: &mut &[u8],
) -> Result<Change, String> {
    let n = cols.cols.len();
    let nulls = take(data, n.div_ceil(8))?;
    let (mut item, mut ticket, mut stamp) = (None, None, None);
    for (i, c) in cols.cols.iter().enumerate() {
        if nulls[i / 8] & (1 << (i % 8)) != 0 {
            continue;
        }
        let len = match c.width {
            Width::Fixed(w) => w,
            Width::Prefixed(p) => le_uint(take(data, p)?) as usize,
        };
        let bytes = take(data, len)?;
        if i == layout.item {
            item = Some(int(c, bytes).ok_or("item key is not an integer")?);
        } else if i == layout.ticket {
            ticket = Some(int(c, bytes).ok_or("ticket key is not an integer")?);
        } else if Some(i) == layout.stamp {
            stamp = Some(datetime(c, bytes).ok_or("bench_ts is not a valid DATETIME")?);
        }
    }
    let item = item.ok_or("item key is NULL")?;
    let item = u32::try_from(item).map_err(|_| format!("item key {item} exceeds u32"))?;
    Ok(Change {
        key: RowKey {
            table: layout.table,
            ticket: ticket.ok_or("ticket key is NULL")?,
            item,
        },
        op,
        stamp,
    })
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if data.len() < n {
        return Err(format!(
            "row image cut short: {n} bytes wanted, {} left",
            data.len()
        ));
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Ok(head)
}

fn le_uint(b: &[u8]) -> u64 {
    b.iter().rev().fold(0, |v, &x| v << 8 | u64::from(x))
}

fn be_uint(b: &[u8]) -> u64 {
    b.iter().fold(0, |v, &x| v << 8 | u64::from(x))
}

/// A non-negative integer key column (the sign does not matter for keys ≥ 0).
fn int(c: &Col, b: &[u8]) -> Option<u64> {
    use ColumnType::*;
    let v = le_uint(b);
    let negative = match c.ty {
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG => {
            v >> (b.len() * 8 - 1) & 1 == 1
        }
        // Signed or not, a BIGINT key ≥ 2^63 is not one the harness writes.
        MYSQL_TYPE_LONGLONG => v >> 63 == 1,
        _ => return None,
    };
    (!negative).then_some(v)
}

/// A DATETIME2 value as UTC µs (MySQL's packed datetime binary format).
fn datetime(c: &Col, b: &[u8]) -> Option<StampMicros> {
    if c.ty != ColumnType::MYSQL_TYPE_DATETIME2 {
        return None;
    }
    // 40 bits, biased by 2^39: sign, year*13+month (17), day (5), hour (5),
    // minute (6), second (6); then the fraction in (fsp + 1) / 2 bytes.
    let packed = be_uint(&b[..5]).checked_sub(0x80_0000_0000)?;
    let frac = be_uint(&b[5..]) as u32;
    let us = match c.fsp {
        0 => 0,
        1 | 2 => frac * 10_000,
        3 | 4 => frac * 100,
        _ => frac,
    };
    let ymd = packed >> 17;
    let (ym, day) = (ymd >> 5, (ymd & 31) as u32);
    let (year, month) = ((ym / 13) as i32, (ym % 13) as u32);
    let hms = packed & 0x1_FFFF;
    let (h, m, s) = (
        (hms >> 12) as u32,
        (hms >> 6 & 63) as u32,
        (hms & 63) as u32,
    );
    Some(
        NaiveDate::from_ymd_opt(year, month, day)?
            .and_hms_micro_opt(h, m, s, us)?
            .and_utc()
            .timestamp_micros(),
    )
}

#[cfg(test)]
mod tests;
