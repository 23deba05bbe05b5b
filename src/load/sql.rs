//! Turns a batch of generated writes into one round trip of SQL.
//!
//! Batches go as text: one multi-row `INSERT` per table is the cheapest way to
//! push many rows through MySQL, and the decimal values are exact strings. A
//! single-row insert or upsert goes as a prepared statement instead: the
//! server parses the 24-column statement once per connection rather than once
//! per row (mysql_async keeps it prepared), and the values travel binary.
//! Measured flat out on 4 connections: 5,289 rows/s prepared against 4,271 and
//! 5,025 as text (`scripts/bench/capacity.sh`'s single-row run).

use std::fmt::Write as _;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Timelike, Utc};
use mysql_async::Value;

use crate::model::{StampMicros, Table};
use crate::tpcds::{
    format_cents, push_sql_key_predicate, SqlValue, Write, RETURNS_COLUMNS, SALES_COLUMNS,
};

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) for a `DATETIME(6)` literal.
pub fn format_stamp(stamp: StampMicros) -> String {
    let dt = DateTime::<Utc>::from_timestamp_micros(stamp).unwrap_or_default();
    dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// The statements of one transaction, built into a reusable buffer.
#[derive(Debug, Default)]
pub struct BatchSql {
    text: String,
    statements: usize,
}

impl BatchSql {
    /// Builds the SQL for `writes`, all stamped `stamp`. Statements are grouped by
    /// table and kind; their order is inserts of sales, upserts (updates), returns,
    /// deletes, so a return never precedes its sale within a batch.
    pub fn build(&mut self, writes: &[Write], stamp: StampMicros) -> &str {
        self.text.clear();
        self.statements = 0;
        let ts = format_stamp(stamp);
        self.values_stmt(
            writes,
            &ts,
            |w| matches!(w, Write::InsertSale(_)),
            Table::StoreSales,
            false,
        );
        self.values_stmt(
            writes,
            &ts,
            |w| matches!(w, Write::UpdateSale(_)),
            Table::StoreSales,
            true,
        );
        self.values_stmt(
            writes,
            &ts,
            |w| matches!(w, Write::InsertReturn(_)),
            Table::StoreReturns,
            false,
        );
        let deletes: Vec<_> = writes
            .iter()
            .filter_map(|w| match w {
                Write::DeleteSale(k) => Some(*k),
                _ => None,
            })
            .collect();
        if !deletes.is_empty() {
            self.begin_stmt();
            // OR of key predicates, not a row-constructor IN list: every MySQL
            // flavour turns this into primary-key range reads, so the delete
            // locks only its own rows.
            self.text.push_str("DELETE FROM store_sales WHERE ");
            for (i, k) in deletes.iter().enumerate() {
                if i > 0 {
                    self.text.push_str(" OR ");
                }
                self.text.push('(');
                push_sql_key_predicate(k, &mut self.text);
                self.text.push(')');
            }
        }
        if self.statements > 1 {
            self.text.insert_str(0, "START TRANSACTION;");
            self.text.push_str(";COMMIT");
        }
        &self.text
    }

    /// The prepared statement and its parameters when `writes` is one insert
    /// or upsert; `None` otherwise (send [`BatchSql::build`]'s text).
    pub fn prepared(writes: &[Write], stamp: StampMicros) -> Option<(&'static str, Vec<Value>)> {
        let [w] = writes else {
            return None;
        };
        let params = |values: &[SqlValue]| -> Vec<Value> {
            let mut p: Vec<Value> = values.iter().map(|&v| param(v)).collect();
            p.push(stamp_param(stamp));
            p
        };
        let (text, params) = match w {
            Write::InsertSale(r) => (statement(Table::StoreSales, false), params(&r.values())),
            Write::UpdateSale(r) => (statement(Table::StoreSales, true), params(&r.values())),
            Write::InsertReturn(r) => (statement(Table::StoreReturns, false), params(&r.values())),
            Write::DeleteSale(_) => return None,
        };
        Some((text, params))
    }

    /// True when the batch is more than one statement (sent as one transaction).
    pub fn is_transaction(&self) -> bool {
        self.statements > 1
    }

    fn begin_stmt(&mut self) {
        if self.statements > 0 {
            self.text.push(';');
        }
        self.statements += 1;
    }

    fn values_stmt(
        &mut self,
        writes: &[Write],
        ts: &str,
        pick: impl Fn(&Write) -> bool,
        table: Table,
        upsert: bool,
    ) {
        let mut first = true;
        for w in writes.iter().filter(|w| pick(w)) {
            if first {
                self.begin_stmt();
                push_insert_head(table, &mut self.text);
                first = false;
            } else {
                self.text.push(',');
            }
            push_row(w, ts, &mut self.text);
        }
        if upsert && !first {
            push_upsert_clause(&mut self.text);
        }
    }
}

/// The one-row `INSERT` (or upsert) of `table` with `?` placeholders, built once.
fn statement(table: Table, upsert: bool) -> &'static str {
    static TEXTS: [OnceLock<String>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match (table, upsert) {
        (Table::StoreSales, false) => 0,
        (Table::StoreSales, true) => 1,
        (Table::StoreReturns, _) => 2,
    };
    TEXTS[slot].get_or_init(|| {
        let mut text = String::new();
        push_insert_head(table, &mut text);
        text.push('(');
        text.push_str(&vec!["?"; columns(table).len() + 1].join(","));
        text.push(')');
        if upsert {
            push_upsert_clause(&mut text);
        }
        text
    })
}

/// `INSERT INTO t (c1,...,cN,bench_ts) VALUES `: the same columns for text and
/// prepared statements.
fn push_insert_head(table: Table, out: &mut String) {
    let _ = write!(out, "INSERT INTO {} (", table.name());
    for c in columns(table) {
        out.push_str(c);
        out.push(',');
    }
    out.push_str("bench_ts) VALUES ");
}

/// The generator's columns of `table`, in its tuple order (`bench_ts` not included).
fn columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::StoreSales => &SALES_COLUMNS,
        Table::StoreReturns => &RETURNS_COLUMNS,
    }
}

/// ` ON DUPLICATE KEY UPDATE c=VALUES(c),...`: every non-key column and the stamp.
fn push_upsert_clause(out: &mut String) {
    out.push_str(" ON DUPLICATE KEY UPDATE ");
    for c in SALES_COLUMNS
        .iter()
        .filter(|c| !c.ends_with("item_sk") && !c.ends_with("ticket_number"))
    {
        let _ = write!(out, "{c}=VALUES({c}),");
    }
    out.push_str("bench_ts=VALUES(bench_ts)");
}

fn param(v: SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::NULL,
        SqlValue::Int(i) => Value::UInt(i),
        // Exact: the server converts the decimal string, as it parses the literal.
        SqlValue::Money(c) => Value::Bytes(format_cents(c).into_bytes()),
    }
}

/// `bench_ts` as a binary DATETIME(6): the same value as [`format_stamp`]'s text.
fn stamp_param(stamp: StampMicros) -> Value {
    let dt = DateTime::<Utc>::from_timestamp_micros(stamp).unwrap_or_default();
    Value::Date(
        dt.year() as u16,
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
        dt.timestamp_subsec_micros(),
    )
}

/// Appends `(v1,...,vN,'stamp')`: the generator's tuple with `bench_ts` added.
fn push_row(w: &Write, ts: &str, out: &mut String) {
    match w {
        Write::InsertSale(r) | Write::UpdateSale(r) => r.push_sql_values(out),
        Write::InsertReturn(r) => r.push_sql_values(out),
        Write::DeleteSale(_) => return,
    }
    out.pop(); // the tuple's closing parenthesis
    out.push_str(",'");
    out.push_str(ts);
    out.push_str("')");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_render_with_microseconds() {
        assert_eq!(
            format_stamp(1_700_000_000_123_456),
            "2023-11-14 22:13:20.123456"
        );
        assert_eq!(
            format_stamp(1_700_000_000_000_001),
            "2023-11-14 22:13:20.000001"
        );
    }

    #[test]
    fn one_insert_is_prepared_with_the_text_paths_columns_and_values() {
        use crate::tpcds::{GenConfig, Generator};
        let mut g = Generator::new(GenConfig::default(), 7, 1_000..2_000);
        let w = g.next_write(0);
        let stamp = 1_700_000_000_123_456;
        let (stmt, params) =
            BatchSql::prepared(std::slice::from_ref(&w), stamp).expect("one insert");
        let mut text = BatchSql::default();
        let text = text.build(std::slice::from_ref(&w), stamp).to_string();
        // Same statement head; the tuple's literals are the parameters, in order.
        let head = &text[..text.find("VALUES ").unwrap() + 7];
        assert!(stmt.starts_with(head), "{stmt}");
        assert_eq!(stmt.matches('?').count(), SALES_COLUMNS.len() + 1);
        let literals: Vec<&str> = text[head.len() + 1..text.len() - 1].split(',').collect();
        assert_eq!(literals.len(), params.len());
        for (lit, p) in literals.iter().zip(&params) {
            let shown = match p {
                Value::NULL => "NULL".to_string(),
                Value::UInt(u) => u.to_string(),
                Value::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
                Value::Date(..) => format!("'{}'", format_stamp(stamp)),
                other => panic!("unexpected parameter {other:?}"),
            };
            assert_eq!(*lit, shown);
        }
        assert_eq!(
            params.last(),
            Some(&Value::Date(2023, 11, 14, 22, 13, 20, 123_456))
        );
    }

    #[test]
    fn batches_and_deletes_stay_text() {
        use crate::tpcds::{GenConfig, Generator};
        let mut g = Generator::new(GenConfig::default(), 7, 1_000..2_000);
        let two = [g.next_write(0), g.next_write(0)];
        assert!(BatchSql::prepared(&two, 0).is_none());
        let key = two[0].key();
        assert!(BatchSql::prepared(&[Write::DeleteSale(key)], 0).is_none());
        assert!(statement(Table::StoreSales, true).contains("ON DUPLICATE KEY UPDATE"));
        assert_eq!(
            statement(Table::StoreReturns, false).matches('?').count(),
            RETURNS_COLUMNS.len() + 1
        );
    }
}
