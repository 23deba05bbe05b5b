//! MySQL's side of the audit: its totals per table over the run's range,
//! from the binlog observer's tally when it stands for MySQL (see
//! [`crate::observe::binlog::tally`]), else computed in MySQL.
//!
//! MySQL's statement was the longest part of the audit (its MD5s and DECIMAL
//! sums: 1.4–3.3 s of MySQL's CPU for a 5-minute run at 1,000 rows/s on our
//! machines), and the binlog's changes, counted as the run went by, fold
//! into the same totals. The tally is taken when it is usable and MySQL's own
//! row count over the range (an index range scan) agrees with it. When a sink
//! then differs from it, MySQL's totals are computed in SQL after all, so a
//! difference is always confirmed against MySQL's rows and narrowed there.

use std::ops::Range;

use super::side::{Aggregate, Side};
use super::sql::money_columns;
use super::AuditError;
use crate::model::Table;
use crate::observe::binlog::tally::Totals;

/// MySQL's totals of `table`, and why they were computed in SQL though a
/// tally was there (`None`: from the tally, or there was none).
pub async fn totals(
    a: &mut Side,
    b: &mut Side,
    tally: Option<&Totals>,
    table: Table,
    range: &Range<u64>,
) -> (Result<Aggregate, AuditError>, Option<String>) {
    let Some(t) = tally else {
        return (halves(a, b, table, range).await, None);
    };
    let why = match a.count(table, range).await {
        Err(e) => return (Err(e), None),
        Ok(n) if i64::try_from(n) == Ok(t.rows) => return (Ok(of_tally(t, table)), None),
        Ok(n) => format!(
            "MySQL holds {n} rows of {table} in the range, the binlog's changes leave {}",
            t.rows
        ),
    };
    (halves(a, b, table, range).await, Some(why))
}

/// The tally's totals as MySQL's statement prints them.
pub fn of_tally(t: &Totals, table: Table) -> Aggregate {
    Aggregate {
        count: u64::try_from(t.rows).unwrap_or(u64::MAX),
        digest: t.digest.to_string(),
        sums: t.sums_text(money_columns(table).len()),
    }
}

/// MySQL's totals of `range` as two halves, one per connection, at once,
/// added exactly ([`Aggregate::plus`]).
pub async fn halves(
    a: &mut Side,
    b: &mut Side,
    table: Table,
    range: &Range<u64>,
) -> Result<Aggregate, AuditError> {
    let mid = range.start + (range.end - range.start) / 2;
    let (lo, hi) = (range.start..mid, mid..range.end);
    let (x, y) = tokio::join!(a.totals(table, &lo), b.totals(table, &hi));
    Ok(x?.plus(&y?))
}
