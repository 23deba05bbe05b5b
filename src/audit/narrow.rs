//! Comparing one table over a ticket range, and narrowing a difference down to
//! its keys: compare the whole range's aggregates; where they differ, split
//! the range into [`PARTS`] chunks and compare each chunk's aggregates in one
//! `GROUP BY` per side (sync-diff-inspector's chunks, several levels at once
//! rather than halves, so fewer round trips); a chunk of at most [`LEAF_ROWS`]
//! rows is compared row by row by digest. Only digests of differing chunks
//! leave the databases, and full rows only for the keys listed.

use std::collections::HashMap;
use std::ops::Range;

use super::side::{Aggregate, Key, Side};
use super::sql;
use super::{AuditError, ColumnDiff, DiffKind, KeyDiff, SumDiff, TableAudit};
use crate::model::Table;

/// Chunks per level.
const PARTS: u64 = 16;
/// A chunk with at most this many rows on each side is compared row by row.
const LEAF_ROWS: u64 = 2_000;
/// Differing keys listed with both sides' values.
pub const LISTED: usize = 20;

/// Compares `table` over `range` between MySQL (`my`) and a sink (`sink`),
/// given both sides' [`Side::totals`] (MySQL's computed once for every
/// sink), and narrows a difference down to its keys. `took_ms` is the caller's.
pub async fn table(
    my: &mut Side,
    sink: &mut Side,
    table: Table,
    range: &Range<u64>,
    top_a: &Aggregate,
    top_b: &Aggregate,
) -> Result<TableAudit, AuditError> {
    let mut out = TableAudit {
        rows_mysql: top_a.count,
        rows_sink: top_b.count,
        ..TableAudit::default()
    };
    // A sink that keeps no money sums (Kafka's digests) has none to differ.
    for ((col, x), y) in sql::money_columns(table)
        .into_iter()
        .zip(&top_a.sums)
        .zip(&top_b.sums)
    {
        if x != y {
            out.sums_differ.push(SumDiff {
                column: col,
                mysql: x.clone(),
                sink: y.clone(),
            });
        }
    }
    if top_a.agrees(top_b) {
        return Ok(out);
    }
    // Chunks still to look at, with the larger side's row count.
    let mut todo = vec![(range.clone(), top_a.count.max(top_b.count))];
    let mut diffs: Vec<(Key, DiffKind)> = Vec::new();
    while let Some((r, rows)) = todo.pop() {
        let len = r.end - r.start;
        if rows <= LEAF_ROWS || len <= PARTS {
            let (a, b) = tokio::join!(my.row_digests(table, &r), sink.row_digests(table, &r));
            diffs.extend(row_diffs(&a?, &b?));
            continue;
        }
        let width = len.div_ceil(PARTS);
        let (a, b) = tokio::join!(my.buckets(table, &r, width), sink.buckets(table, &r, width));
        let (a, b) = (a?, b?);
        let mut ids: Vec<i64> = a.keys().chain(b.keys()).copied().collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let (x, y) = (a.get(&id), b.get(&id));
            let same = matches!((x, y), (Some(x), Some(y)) if x.agrees(y));
            if !same {
                let lo = r.start + id.max(0) as u64 * width;
                let n = x.map_or(0, |v| v.count).max(y.map_or(0, |v| v.count));
                todo.push((lo..(lo + width).min(r.end), n));
            }
        }
    }
    diffs.sort_by_key(|((item, ticket), _)| (*ticket, *item));
    out.mismatched = diffs.len() as u64;
    out.more_keys = diffs.len().saturating_sub(LISTED) as u64;
    diffs.truncate(LISTED);
    let keys: Vec<Key> = diffs.iter().map(|(k, _)| *k).collect();
    let (a, b) = tokio::join!(my.rows(table, &keys), sink.rows(table, &keys));
    let (a, b) = (a?, b?);
    out.keys = diffs
        .into_iter()
        .map(|(k, kind)| key_diff(table, k, kind, a.get(&k), b.get(&k)))
        .collect();
    Ok(out)
}

/// The keys whose rows differ between two chunks' row digests.
pub fn row_diffs(a: &HashMap<Key, String>, b: &HashMap<Key, String>) -> Vec<(Key, DiffKind)> {
    let mut out = Vec::new();
    for (k, d) in a {
        match b.get(k) {
            None => out.push((*k, DiffKind::Missing)),
            Some(e) if e != d => out.push((*k, DiffKind::Changed)),
            Some(_) => {}
        }
    }
    out.extend(
        b.keys()
            .filter(|k| !a.contains_key(k))
            .map(|k| (*k, DiffKind::Extra)),
    );
    out
}

/// One differing key with both sides' canonical text and the columns that differ.
pub fn key_diff(
    table: Table,
    (item, ticket): Key,
    kind: DiffKind,
    mysql: Option<&String>,
    sink: Option<&String>,
) -> KeyDiff {
    let mut columns = Vec::new();
    // Column by column only when both are canonical texts (Kafka's side is a digest).
    let both = match (mysql, sink) {
        (Some(x), Some(y)) if x.split('|').count() == y.split('|').count() => Some((x, y)),
        _ => None,
    };
    if let Some((x, y)) = both {
        let names = sql::columns(table);
        for ((name, _), (u, v)) in names.iter().zip(x.split('|').zip(y.split('|'))) {
            if u != v {
                columns.push(ColumnDiff {
                    column: name.clone(),
                    mysql: u.to_string(),
                    sink: v.to_string(),
                });
            }
        }
    }
    KeyDiff {
        item: item as u32,
        ticket: ticket.max(0) as u64,
        kind,
        mysql: mysql.cloned(),
        sink: sink.cloned(),
        columns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_missing_extra_or_changed() {
        let a: HashMap<Key, String> = [((1, 10), "x".into()), ((2, 10), "y".into())].into();
        let b: HashMap<Key, String> = [((2, 10), "z".into()), ((3, 10), "w".into())].into();
        let mut d = row_diffs(&a, &b);
        d.sort_by_key(|(k, _)| *k);
        assert_eq!(
            d,
            [
                ((1, 10), DiffKind::Missing),
                ((2, 10), DiffKind::Changed),
                ((3, 10), DiffKind::Extra)
            ]
        );
    }

    #[test]
    fn a_changed_row_names_its_columns() {
        let cols = sql::columns(Table::StoreReturns);
        let mut x: Vec<String> = cols.iter().map(|_| "1".to_string()).collect();
        let y_text = {
            let mut y = x.clone();
            y[11] = "2.000000".into();
            y.join("|")
        };
        x[0] = "1".into();
        let d = key_diff(
            Table::StoreReturns,
            (5, 7),
            DiffKind::Changed,
            Some(&x.join("|")),
            Some(&y_text),
        );
        assert_eq!(d.columns.len(), 1);
        assert_eq!(d.columns[0].column, cols[11].0);
        assert_eq!((d.item, d.ticket), (5, 7));
    }
}
