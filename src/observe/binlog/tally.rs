//! The binlog observer's tally of MySQL's side for the end-of-run audit:
//! per table, the rows, the digest sum and each money column's sum that the
//! binlog's row changes leave in the run's ticket range, counted as the
//! events go by, so the audit need not compute them in MySQL afterwards
//! (MySQL's statement was the longest part of the audit: 1.4–3.3 s for a
//! 5-minute run at 1,000 rows/s, docs/RESULTS.md).
//!
//! Every row of the run's range was written in the run (the tickets are the
//! run's own), and every change to a row is in the binlog (ROW format, FULL
//! images; preflight checks both), so the binlog's changes fold into
//! MySQL's rows: each change adds its after image's canonical text (digest,
//! money) and takes its before image's away. The text is rendered exactly as
//! [`crate::audit::sql`] makes MySQL print it: integers in decimal, money
//! with six places from the DECIMAL's exact digits, DATETIME(6) in UTC.
//!
//! Changes are counted per transaction and added to the tally at its XID
//! (or when the observer stops: a transaction is in the binlog only once
//! committed): a stream that breaks inside a transaction is read again from
//! its start, so its half-counted changes are dropped, not counted twice.
//!
//! What the tally cannot see is a change MySQL made without writing the
//! binlog (`SET sql_log_bin = 0`): CDC cannot see it either. The audit
//! checks MySQL's row count in SQL (cheap), and `tpcds-bench audit RUN_DIR`
//! computes MySQL's whole side in SQL.

use std::ops::Range;

use mysql_async::binlog::events::{RowsEventData, TableMapEvent};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::Value;

use super::rows::{value_to_micros, value_to_u64, Layout};
use crate::model::Table;
use crate::observe::decode::canonical::{decimal_micros, digest, push_timestamp, six_places};
use crate::observe::decode::columns::{Canon, Kind};

/// One table's rows, digest sum and money sums (µ-units, in
/// [`crate::observe::decode::columns::money_columns`] order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Rows (negative when more were deleted than written in the range).
    pub rows: i64,
    /// Sum of the rows' digests.
    pub digest: i128,
    /// Sum of each money column, millionths.
    pub sums: Vec<i128>,
}

impl Totals {
    fn add(&mut self, sign: i64, d: u64, money: &[i128]) {
        self.rows += sign;
        self.digest += i128::from(sign) * i128::from(d);
        if self.sums.len() < money.len() {
            self.sums.resize(money.len(), 0);
        }
        for (s, m) in self.sums.iter_mut().zip(money) {
            *s += i128::from(sign) * m;
        }
    }

    fn merge(&mut self, o: &Totals) {
        self.rows += o.rows;
        self.digest += o.digest;
        if self.sums.len() < o.sums.len() {
            self.sums.resize(o.sums.len(), 0);
        }
        for (s, m) in self.sums.iter_mut().zip(&o.sums) {
            *s += m;
        }
    }

    /// The money sums printed with six places, as the databases print theirs.
    pub fn sums_text(&self, columns: usize) -> Vec<String> {
        (0..columns)
            .map(|i| six_places(self.sums.get(i).copied().unwrap_or(0)))
            .collect()
    }
}

/// MySQL's side of the run's range, from the binlog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    committed: [Totals; 2],
    pending: [Totals; 2],
    /// Row changes of the run's range counted (committed).
    pub changes: u64,
    pending_changes: u64,
    /// Why the tally does not stand for MySQL (the audit computes it in SQL).
    pub unusable: Option<String>,
}

impl Tally {
    /// Counts one row change (before and after images as the binlog has
    /// them) of `layout`'s table into the open transaction.
    pub fn count(
        &mut self,
        layout: &Layout,
        before: Option<&BinlogRow>,
        after: Option<&BinlogRow>,
        tickets: &Range<u64>,
        buf: &mut String,
    ) {
        if self.unusable.is_some() {
            return;
        }
        let Some(canon) = &layout.canon else {
            self.unusable = Some(format!("{} lacks a column the audit reads", layout.table));
            return;
        };
        let mut counted = false;
        for (sign, image) in [(-1, before), (1, after)] {
            let Some(row) = image else { continue };
            let ticket = match row.as_ref(layout.ticket) {
                Some(BinlogValue::Value(v)) => value_to_u64(v),
                _ => None,
            };
            let Some(ticket) = ticket else {
                self.unusable = Some("a row image without its ticket".into());
                return;
            };
            if !tickets.contains(&ticket) {
                continue;
            }
            let mut money = Vec::with_capacity(12);
            if render(canon, row, buf, &mut money).is_none() {
                self.unusable = Some(format!("a {} value the tally does not read", layout.table));
                return;
            }
            self.pending[layout.table.index()].add(sign, digest(buf), &money);
            counted = true;
        }
        self.pending_changes += u64::from(counted);
    }

    /// Counts a rows event's changes (the driver decodes every value: see
    /// `cargo bench --bench binlog` for what that costs a row, beside the
    /// observer's own reading of the key and stamp only).
    pub fn count_event(
        &mut self,
        layout: &Layout,
        tme: &TableMapEvent<'_>,
        rows: &RowsEventData<'_>,
        tickets: &Range<u64>,
    ) {
        let mut buf = String::with_capacity(256);
        for pair in rows.rows(tme) {
            match pair {
                Ok((before, after)) => {
                    self.count(layout, before.as_ref(), after.as_ref(), tickets, &mut buf)
                }
                Err(e) => {
                    self.unusable = Some(format!("a rows event the driver does not read: {e}"));
                    return;
                }
            }
        }
    }

    /// The open transaction committed (XID): its changes count.
    pub fn commit(&mut self) {
        for (c, p) in self.committed.iter_mut().zip(&mut self.pending) {
            if *p != Totals::default() {
                c.merge(p);
                *p = Totals::default();
            }
        }
        self.changes += std::mem::take(&mut self.pending_changes);
    }

    /// The stream broke: the open transaction will be read again.
    pub fn rollback(&mut self) {
        self.pending = Default::default();
        self.pending_changes = 0;
    }

    /// A tally of known totals per table (store_sales, store_returns): one
    /// kept elsewhere, or a test's.
    pub fn from_totals(tables: [Totals; 2], changes: u64) -> Tally {
        Tally {
            committed: tables,
            changes,
            ..Tally::default()
        }
    }

    /// `table`'s committed totals (`None` when unusable).
    pub fn of(&self, table: Table) -> Option<&Totals> {
        self.unusable
            .is_none()
            .then(|| &self.committed[table.index()])
    }
}

/// The canonical text of `row` into `buf` and its money values (µ-units)
/// into `money`; `None` for a value MySQL's canonical text has no form for.
fn render(canon: &Canon, row: &BinlogRow, buf: &mut String, money: &mut Vec<i128>) -> Option<()> {
    use std::fmt::Write as _;
    buf.clear();
    for (i, (pos, kind)) in canon.positions().iter().enumerate() {
        if i > 0 {
            buf.push('|');
        }
        let v = match row.as_ref(*pos) {
            Some(BinlogValue::Value(v)) => v,
            _ => return None,
        };
        if *v == Value::NULL {
            buf.push_str("NULL");
            if *kind == Kind::Money {
                // SUM skips a NULL: it adds nothing.
                money.push(0);
            }
            continue;
        }
        match kind {
            Kind::Int => match v {
                Value::Int(n) => write!(buf, "{n}").ok()?,
                Value::UInt(n) => write!(buf, "{n}").ok()?,
                _ => return None,
            },
            Kind::Money => {
                let m = match v {
                    Value::Bytes(b) => decimal_micros(std::str::from_utf8(b).ok()?)?,
                    _ => return None,
                };
                buf.push_str(&six_places(m));
                money.push(m);
            }
            Kind::Timestamp => push_timestamp(value_to_micros(v)?, buf)?,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests;
