//! Turns a batch of generated writes into one round trip of SQL text.
//!
//! Text protocol on purpose: one multi-row `INSERT` per table is the cheapest way
//! to push many rows through MySQL, and the decimal values are exact strings.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::model::{StampMicros, Table};
use crate::tpcds::{push_sql_key_predicate, Write, RETURNS_COLUMNS, SALES_COLUMNS};

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
                let cols: &[&str] = match table {
                    Table::StoreSales => &SALES_COLUMNS,
                    Table::StoreReturns => &RETURNS_COLUMNS,
                };
                let _ = write!(self.text, "INSERT INTO {} (", table.name());
                for c in cols {
                    self.text.push_str(c);
                    self.text.push(',');
                }
                self.text.push_str("bench_ts) VALUES ");
                first = false;
            } else {
                self.text.push(',');
            }
            push_row(w, ts, &mut self.text);
        }
        if upsert && !first {
            self.text.push_str(" ON DUPLICATE KEY UPDATE ");
            for c in SALES_COLUMNS
                .iter()
                .filter(|c| !c.ends_with("item_sk") && !c.ends_with("ticket_number"))
            {
                let _ = write!(self.text, "{c}=VALUES({c}),");
            }
            self.text.push_str("bench_ts=VALUES(bench_ts)");
        }
    }
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
}
