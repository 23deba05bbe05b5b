//! Every SQL statement of the audit, for both dialects, in one place.
//!
//! A row's *canonical text* is its columns (all but the stamps, see
//! [`columns`]) rendered so that MySQL/MariaDB and PostgreSQL/Cloudberry print
//! the same characters for the same value, joined by `|`:
//! integers in decimal; money as `DECIMAL(20,6)` (`12.300000`: a column's
//! declared scale is a format, six places keep any real difference a
//! `DECIMAL(7,2)` can hold); timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC
//! (the MySQL server and the audit's sessions run in UTC; a `timestamptz`
//! column would be printed in the session's zone, which the audit sets to UTC);
//! NULL as the word `NULL`, which no rendered number or timestamp can be.
//! Each row's digest is the first 15 hex digits of the MD5 of that text read
//! as a 60-bit integer; a range's digest is their sum (exact: a DECIMAL/
//! NUMERIC sum of at most 2^63 rows cannot overflow), so it is independent of
//! row order and computed inside each database.
//!
//! Functions relied on.
//! MySQL/MariaDB: `MD5`, `LEFT`, `CONV(x, 16, 10)`, `CAST(… AS UNSIGNED |
//! SIGNED | DECIMAL(p,s) | DATETIME(6) | CHAR)`, the implicit conversion of a
//! number or `DATETIME(6)` to text inside `IFNULL`/`CONCAT_WS`, `DIV`, `SUM`,
//! `COUNT`, row constructors in `IN`.
//! PostgreSQL 15 (and, by their documentation, Greenplum 7 / Cloudberry 2,
//! whose kernel is PostgreSQL 12 / 14): `md5`, `left`, the cast
//! `('x' || hex)::bit(60)::bigint`, `::numeric(p,s)`, `::text`,
//! `to_char(…, 'YYYY-MM-DD HH24:MI:SS.US')`, `coalesce`, `concat_ws`,
//! `unnest` of two arrays, `SET TIME ZONE`, and `SET jit = off` where the
//! server knows it (ignored where it does not: compiling the digest
//! expression took about a third of PostgreSQL's CPU for the statement).
//!
//! Untested on Cloudberry (it cannot run on our machines): that the statements
//! run there at all, that `to_char` and the `bit(60)` cast behave as in
//! PostgreSQL on its segments, and how long they take (a `GROUP BY` over a
//! distributed table is a two-stage aggregate there; the ticket ranges are not
//! the distribution key, so every segment scans its share).

use crate::model::Table;
pub use crate::observe::decode::columns::{columns, money_columns, Kind};

/// The two SQL dialects the audit speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL 8 / MariaDB 10.11 (`?` parameters).
    MySql,
    /// PostgreSQL 15 / Cloudberry (`$n` parameters).
    Postgres,
}

/// Where a table lives: MySQL's table in the URL's database, or `schema.table`.
fn relation(d: Dialect, schema: &str, table: Table) -> String {
    match d {
        Dialect::MySql => table.name().to_string(),
        Dialect::Postgres => format!("\"{schema}\".{}", table.name()),
    }
}

/// One column rendered as canonical text. MySQL/MariaDB: an integer and a
/// `DECIMAL` become text implicitly inside `CONCAT_WS` (`IFNULL(x, 'NULL')`
/// is a string), so only the scale and the fraction width need a cast; an
/// explicit `CAST(… AS CHAR)` per column or `DATE_FORMAT` cost a third of
/// the statement's CPU for the same characters (docs/RESULTS.md).
fn render(d: Dialect, col: &str, kind: Kind) -> String {
    match (d, kind) {
        (Dialect::MySql, Kind::Int) => format!("IFNULL({col}, 'NULL')"),
        (Dialect::MySql, Kind::Money) => {
            format!("IFNULL(CAST({col} AS DECIMAL(20,6)), 'NULL')")
        }
        (Dialect::MySql, Kind::Timestamp) => {
            format!("IFNULL(CAST({col} AS DATETIME(6)), 'NULL')")
        }
        (Dialect::Postgres, Kind::Int) => format!("coalesce({col}::text, 'NULL')"),
        (Dialect::Postgres, Kind::Money) => format!("coalesce({col}::numeric(20,6)::text, 'NULL')"),
        (Dialect::Postgres, Kind::Timestamp) => {
            format!("coalesce(to_char({col}, 'YYYY-MM-DD HH24:MI:SS.US'), 'NULL')")
        }
    }
}

/// The canonical text of a row of `table`.
pub fn canonical(d: Dialect, table: Table) -> String {
    let parts: Vec<String> = columns(table)
        .iter()
        .map(|(c, k)| render(d, c, *k))
        .collect();
    match d {
        Dialect::MySql => format!("CONCAT_WS('|', {})", parts.join(", ")),
        Dialect::Postgres => format!("concat_ws('|', {})", parts.join(", ")),
    }
}

/// A row's digest as an exact integer (a 60-bit prefix of the MD5).
fn digest(d: Dialect, table: Table) -> String {
    let text = canonical(d, table);
    match d {
        Dialect::MySql => format!("CAST(CONV(LEFT(MD5({text}), 15), 16, 10) AS UNSIGNED)"),
        Dialect::Postgres => format!("('x' || left(md5({text}), 15))::bit(60)::bigint"),
    }
}

/// Ticket range predicate; parameters `lo`, `hi` (`[lo, hi)`).
fn in_range(d: Dialect, table: Table) -> String {
    let t = format!("{}ticket_number", table.prefix());
    match d {
        Dialect::MySql => format!("{t} >= ? AND {t} < ?"),
        Dialect::Postgres => format!("{t} >= $1 AND {t} < $2"),
    }
}

/// The whole of `[lo, hi)` in one aggregate, no `GROUP BY` (the common case:
/// both sides agree and nothing is narrowed; a `GROUP BY` made MariaDB sort
/// and PostgreSQL plan a sort for the one group). Returns the row count, the
/// digest sum and each money column's sum, as text. Parameters `lo`, `hi`.
pub fn totals(d: Dialect, schema: &str, table: Table) -> String {
    let (count, dsum, sums) = aggregates(d, table);
    format!(
        "SELECT {count}, {dsum}, {sums} FROM (SELECT {digest} AS d, {money} FROM {rel} WHERE {range}) x",
        sums = sums.join(", "),
        digest = digest(d, table),
        money = money_columns(table).join(", "),
        rel = relation(d, schema, table),
        range = in_range(d, table),
    )
}

/// The rows of `[lo, hi)`, counted (an index range scan: how MySQL's count
/// checks the binlog's tally). Parameters `lo`, `hi`.
pub fn count(d: Dialect, schema: &str, table: Table) -> String {
    format!(
        "SELECT COUNT(*) FROM {rel} WHERE {range}",
        rel = relation(d, schema, table),
        range = in_range(d, table),
    )
}

/// The aggregate columns of [`totals`] and [`buckets`]: count, digest sum,
/// money sums (over a derived table with `d` and the money columns).
fn aggregates(d: Dialect, table: Table) -> (&'static str, &'static str, Vec<String>) {
    let money = money_columns(table);
    match d {
        Dialect::MySql => (
            "CAST(COUNT(*) AS CHAR)",
            "CAST(IFNULL(SUM(d), 0) AS CHAR)",
            money
                .iter()
                .map(|c| format!("CAST(CAST(IFNULL(SUM({c}), 0) AS DECIMAL(30,6)) AS CHAR)"))
                .collect(),
        ),
        Dialect::Postgres => (
            "count(*)::text",
            "coalesce(sum(d), 0)::text",
            money
                .iter()
                .map(|c| format!("coalesce(sum({c}), 0)::numeric(30,6)::text"))
                .collect(),
        ),
    }
}

/// Per bucket of `width` tickets from `lo` within `[lo, hi)`: the bucket
/// number, the row count, the digest sum, and each money column's sum, all
/// as text. Parameters: MySQL `lo, width, lo, hi` (in textual order);
/// PostgreSQL `$1` = lo, `$2` = hi, `$3` = width.
pub fn buckets(d: Dialect, schema: &str, table: Table) -> String {
    let t = format!("{}ticket_number", table.prefix());
    let (count, dsum, sums) = aggregates(d, table);
    // MariaDB sorts by the GROUP BY key unless told not to.
    let (bucket, cast_bucket, order) = match d {
        Dialect::MySql => (
            format!("({t} - ?) DIV ?"),
            "CAST(b AS CHAR)",
            " ORDER BY NULL",
        ),
        Dialect::Postgres => (format!("({t} - $1) / $3"), "b::text", ""),
    };
    format!(
        "SELECT {cast_bucket}, {count}, {dsum}, {sums} FROM (SELECT {bucket} AS b, {digest} AS d, {money} \
         FROM {rel} WHERE {range}) x GROUP BY b{order}",
        sums = sums.join(", "),
        digest = digest(d, table),
        money = money_columns(table).join(", "),
        rel = relation(d, schema, table),
        range = in_range(d, table),
    )
}

/// Every row of `[lo, hi)`: item, ticket and its digest as 15 hex digits
/// (the digest [`totals`] sums; the Kafka sink keeps no more than that).
pub fn row_digests(d: Dialect, schema: &str, table: Table) -> String {
    let p = table.prefix();
    let (key, hex) = match d {
        Dialect::MySql => (
            format!("CAST({p}item_sk AS SIGNED), CAST({p}ticket_number AS SIGNED)"),
            format!("LEFT(MD5({}), 15)", canonical(d, table)),
        ),
        Dialect::Postgres => (
            format!("{p}item_sk::bigint, {p}ticket_number::bigint"),
            format!("left(md5({}), 15)", canonical(d, table)),
        ),
    };
    format!(
        "SELECT {key}, {hex} FROM {rel} WHERE {range}",
        rel = relation(d, schema, table),
        range = in_range(d, table)
    )
}

/// The canonical text of the rows with the given keys. MySQL: the keys are
/// spliced as integers (they are `i64`/`u32`, never text), `n` pairs;
/// PostgreSQL: two BIGINT arrays `$1` (items), `$2` (tickets).
pub fn rows_by_key(d: Dialect, schema: &str, table: Table, mysql_keys: &[(u32, u64)]) -> String {
    let p = table.prefix();
    match d {
        Dialect::MySql => {
            let list: Vec<String> = mysql_keys
                .iter()
                .map(|(i, t)| format!("({i},{t})"))
                .collect();
            format!(
                "SELECT CAST({p}item_sk AS SIGNED), CAST({p}ticket_number AS SIGNED), {text} FROM {rel} \
                 WHERE ({p}item_sk, {p}ticket_number) IN ({list})",
                text = canonical(d, table),
                rel = relation(d, schema, table),
                list = if list.is_empty() {
                    "(NULL,NULL)".to_string()
                } else {
                    list.join(",")
                }
            )
        }
        Dialect::Postgres => format!(
            "SELECT {p}item_sk::bigint, {p}ticket_number::bigint, {text} FROM {rel} \
             WHERE ({p}item_sk, {p}ticket_number) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
            text = canonical(d, table),
            rel = relation(d, schema, table),
        ),
    }
}

/// Session settings that make timestamps print in UTC.
pub fn session_utc(d: Dialect) -> &'static str {
    match d {
        Dialect::MySql => "SET time_zone = '+00:00'",
        Dialect::Postgres => "SET TIME ZONE 'UTC'",
    }
}

/// A session setting that only makes the audit cheaper, so a server that
/// does not know it (an older Cloudberry/Greenplum) is not an error:
/// PostgreSQL's JIT compiles the digest expression anew for every statement
/// and spent more CPU compiling than it saved at 300,000 rows.
pub fn session_cheaper(d: Dialect) -> Option<&'static str> {
    match d {
        Dialect::MySql => None,
        Dialect::Postgres => Some("SET jit = off"),
    }
}

/// The canonical text of literal values, for the canonical-text tests: the
/// same renderings applied to a one-row `SELECT` of typed literals
/// (`exprs`: (SQL literal of the column's type, kind)).
pub fn canonical_of_literals(d: Dialect, exprs: &[(&str, Kind)]) -> String {
    let parts: Vec<String> = exprs.iter().map(|(e, k)| render(d, e, *k)).collect();
    match d {
        Dialect::MySql => format!("SELECT CONCAT_WS('|', {})", parts.join(", ")),
        Dialect::Postgres => format!("SELECT concat_ws('|', {})", parts.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamps_are_left_out_and_every_other_column_is_audited() {
        let ss = columns(Table::StoreSales);
        assert_eq!(ss.len(), 24, "23 TPC-DS columns + updated_at");
        assert!(ss.iter().all(|(c, _)| c != "bench_ts" && c != "arrived_at"));
        assert_eq!(money_columns(Table::StoreSales).len(), 12);
        assert_eq!(columns(Table::StoreReturns).len(), 21);
        assert_eq!(money_columns(Table::StoreReturns).len(), 9);
    }

    #[test]
    fn the_totals_have_no_group_by_and_the_same_columns_as_a_bucket() {
        for d in [Dialect::MySql, Dialect::Postgres] {
            let t = totals(d, "path2", Table::StoreSales);
            assert!(!t.contains("GROUP BY"), "{t}");
            // A bucket row is the bucket number, then exactly a total's columns.
            let sums = |s: &str| s.to_lowercase().matches("sum(").count();
            assert_eq!(sums(&t), sums(&buckets(d, "path2", Table::StoreSales)));
        }
    }

    #[test]
    fn both_dialects_bind_the_range_first() {
        let my = buckets(Dialect::MySql, "x", Table::StoreSales);
        assert!(my.contains("FROM store_sales WHERE ss_ticket_number >= ?"));
        let pg = buckets(Dialect::Postgres, "path1", Table::StoreReturns);
        assert!(pg.contains("FROM \"path1\".store_returns WHERE sr_ticket_number >= $1"));
        assert!(pg.contains("/ $3"));
    }
}
