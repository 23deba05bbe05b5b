//! One side of a comparison: MySQL, or one warehouse path. Runs the
//! statements of [`super::sql`] and returns their answers as plain values;
//! every value crosses the wire as text, so no driver type mapping can make
//! two equal values look different (or two different ones equal).

use std::collections::HashMap;
use std::ops::Range;

use mysql_async::prelude::Queryable;

use super::sql::{self, Dialect};
use super::AuditError;
use crate::model::Table;
use crate::observe::decode::canonical::{decimal_micros, six_places};

/// A range's aggregates: row count, digest sum, money sums (as the database printed them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Aggregate {
    /// Rows in the range.
    pub count: u64,
    /// Sum of the rows' digests (exact integer, as text).
    pub digest: String,
    /// Sum of each money column, in [`sql::money_columns`] order.
    pub sums: Vec<String>,
}

impl Aggregate {
    /// Whether two ranges hold the same rows: count and digest equal, and
    /// the money sums too where both sides computed them.
    pub fn agrees(&self, other: &Aggregate) -> bool {
        self.count == other.count
            && self.digest == other.digest
            && (self.sums.is_empty() || other.sums.is_empty() || self.sums == other.sums)
    }

    /// The aggregate of two disjoint ranges, added exactly and printed as the
    /// databases print theirs (an integer digest sum; money sums with six
    /// places, [`sql::totals`]). A value that is not of that form is kept as
    /// `a+b`, which no database prints, so the sides then differ and the
    /// narrowing (on one connection) finds out where.
    pub fn plus(&self, o: &Aggregate) -> Aggregate {
        let digest = match (self.digest.parse::<i128>(), o.digest.parse::<i128>()) {
            (Ok(a), Ok(b)) => (a + b).to_string(),
            _ => format!("{}+{}", self.digest, o.digest),
        };
        let sums = self
            .sums
            .iter()
            .zip(&o.sums)
            .map(|(a, b)| match (micros(a), micros(b)) {
                (Some(x), Some(y)) => six_places(x + y),
                _ => format!("{a}+{b}"),
            })
            .collect();
        Aggregate {
            count: self.count + o.count,
            digest,
            sums,
        }
    }
}

/// `-12.340000` → -12,340,000: a decimal printed with exactly six places
/// (any other form is no database's sum).
fn micros(s: &str) -> Option<i128> {
    let six = s.split_once('.').is_some_and(|(_, frac)| frac.len() == 6);
    six.then(|| decimal_micros(s)).flatten()
}

/// A row key as both databases return it: `(item, ticket)`.
pub type Key = (i64, i64);

/// A database connection and the table set it audits.
pub enum Side {
    /// MySQL (the source of truth).
    MySql(mysql_async::Conn),
    /// A warehouse schema (`path1`, `path2`).
    Warehouse {
        /// The client.
        client: std::sync::Arc<tokio_postgres::Client>,
        /// The schema.
        schema: String,
    },
    /// The Kafka sink's last images, being read back or read.
    Kafka(Box<super::kafka::KafkaImages>),
}

impl Side {
    /// What error messages call this side.
    pub fn name(&self) -> String {
        match self {
            Side::MySql(_) => "MySQL".into(),
            Side::Warehouse { schema, .. } => format!("warehouse {schema}"),
            Side::Kafka(_) => "Kafka".into(),
        }
    }

    /// The Kafka images, once read (`None` for a database).
    async fn images(&mut self) -> Result<Option<&super::kafka::Images>, AuditError> {
        match self {
            Side::Kafka(k) => k.get().await.map(Some),
            _ => Ok(None),
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            Side::MySql(_) => Dialect::MySql,
            // Kafka runs no SQL: every caller answers from its images first.
            Side::Warehouse { .. } | Side::Kafka(_) => Dialect::Postgres,
        }
    }

    fn schema(&self) -> &str {
        match self {
            Side::Warehouse { schema, .. } => schema,
            Side::MySql(_) | Side::Kafka(_) => "",
        }
    }

    fn err(&self, e: impl std::fmt::Display) -> AuditError {
        AuditError::Query {
            side: self.name(),
            message: crate::redact::redact_text(&e.to_string()).into_owned(),
        }
    }

    /// Sets the session's time zone to UTC (how timestamps are printed), and
    /// what makes the audit cheaper where the server knows it.
    pub async fn prepare(&mut self) -> Result<(), AuditError> {
        self.execute(sql::session_utc(self.dialect()))
            .await
            .map_err(|e| self.err(e))?;
        if let Some(stmt) = sql::session_cheaper(self.dialect()) {
            // Only a cost: a server without the setting audits the same.
            let _ = self.execute(stmt).await;
        }
        Ok(())
    }

    async fn execute(&mut self, stmt: &str) -> Result<(), String> {
        match self {
            Side::MySql(c) => c.query_drop(stmt).await.map_err(|e| e.to_string()),
            Side::Warehouse { client, .. } => {
                client.batch_execute(stmt).await.map_err(|e| e.to_string())
            }
            Side::Kafka(_) => Ok(()),
        }
    }

    /// The aggregates of the whole `range` (see [`sql::totals`]).
    pub async fn totals(
        &mut self,
        table: Table,
        range: &Range<u64>,
    ) -> Result<Aggregate, AuditError> {
        if let Side::Kafka(k) = self {
            if let Some((rows, digest)) = k.tally_of(table, range) {
                return Ok(Aggregate {
                    // Fewer rows than none: never MySQL's count.
                    count: u64::try_from(rows).unwrap_or(u64::MAX),
                    digest: digest.to_string(),
                    // Kafka keeps no money sums.
                    sums: Vec::new(),
                });
            }
        }
        if let Some(images) = self.images().await? {
            return Ok(images.aggregate(table, range));
        }
        let stmt = sql::totals(self.dialect(), self.schema(), table);
        let (lo, hi) = (to_i64(range.start), to_i64(range.end));
        let row: Result<Vec<String>, String> = match self {
            Side::MySql(c) => c
                .exec_first::<mysql_async::Row, _, _>(stmt, (lo, hi))
                .await
                .map(|r| r.map(texts_my).unwrap_or_default())
                .map_err(|e| e.to_string()),
            Side::Warehouse { client, .. } => client
                .query_one(stmt.as_str(), &[&lo, &hi])
                .await
                .map(|r| texts_pg(&r))
                .map_err(|e| e.to_string()),
            Side::Kafka(_) => Err("Kafka answers from its images".to_string()),
        };
        let mut row = row.map_err(|e| self.err(e))?;
        if row.len() < 2 {
            return Err(self.err("the totals row has too few columns"));
        }
        let sums = row.split_off(2);
        Ok(Aggregate {
            count: row[0].parse().unwrap_or(0),
            digest: row[1].clone(),
            sums,
        })
    }

    /// MySQL's rows in `range` (only MySQL is asked: see [`super::source`]).
    pub async fn count(&mut self, table: Table, range: &Range<u64>) -> Result<u64, AuditError> {
        let stmt = sql::count(self.dialect(), self.schema(), table);
        let (lo, hi) = (to_i64(range.start), to_i64(range.end));
        let n: Result<u64, String> = match self {
            Side::MySql(c) => c
                .exec_first::<u64, _, _>(stmt, (lo, hi))
                .await
                .map(Option::unwrap_or_default)
                .map_err(|e| e.to_string()),
            _ => Err("only MySQL's rows are counted alone".to_string()),
        };
        n.map_err(|e| self.err(e))
    }

    /// The aggregates of each `width`-ticket bucket of `range` that holds rows,
    /// by bucket number (0 = the bucket starting at `range.start`).
    pub async fn buckets(
        &mut self,
        table: Table,
        range: &Range<u64>,
        width: u64,
    ) -> Result<HashMap<i64, Aggregate>, AuditError> {
        if let Some(images) = self.images().await? {
            return Ok(images.bucketed(table, range, width));
        }
        let stmt = sql::buckets(self.dialect(), self.schema(), table);
        let (lo, hi, w) = (to_i64(range.start), to_i64(range.end), to_i64(width));
        let rows: Result<Vec<Vec<String>>, String> = match self {
            Side::MySql(c) => c
                .exec::<mysql_async::Row, _, _>(stmt, (lo, w, lo, hi))
                .await
                .map(|rows| rows.into_iter().map(texts_my).collect())
                .map_err(|e| e.to_string()),
            Side::Warehouse { client, .. } => client
                .query(stmt.as_str(), &[&lo, &hi, &w])
                .await
                .map(|rows| rows.iter().map(texts_pg).collect())
                .map_err(|e| e.to_string()),
            Side::Kafka(_) => Err("Kafka answers from its images".to_string()),
        };
        let rows = rows.map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for mut r in rows {
            let parse = |s: &str| s.parse::<i64>().unwrap_or(-1);
            if r.len() < 3 {
                return Err(self.err("a bucket row has too few columns"));
            }
            let sums = r.split_off(3);
            out.insert(
                parse(&r[0]),
                Aggregate {
                    count: parse(&r[1]).max(0) as u64,
                    digest: r[2].clone(),
                    sums,
                },
            );
        }
        Ok(out)
    }

    /// Every row of `range`: key → MD5 of its canonical text.
    pub async fn row_digests(
        &mut self,
        table: Table,
        range: &Range<u64>,
    ) -> Result<HashMap<Key, String>, AuditError> {
        if let Some(images) = self.images().await? {
            return Ok(images.row_digests(table, range));
        }
        let stmt = sql::row_digests(self.dialect(), self.schema(), table);
        let (lo, hi) = (to_i64(range.start), to_i64(range.end));
        let r: Result<HashMap<Key, String>, String> = match self {
            Side::MySql(c) => c
                .exec::<(i64, i64, String), _, _>(stmt, (lo, hi))
                .await
                .map(|rows| rows.into_iter().map(|(i, t, d)| ((i, t), d)).collect())
                .map_err(|e| e.to_string()),
            Side::Warehouse { client, .. } => client
                .query(stmt.as_str(), &[&lo, &hi])
                .await
                .map(|rows| {
                    rows.iter()
                        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
                        .collect()
                })
                .map_err(|e| e.to_string()),
            Side::Kafka(_) => Err("Kafka answers from its images".to_string()),
        };
        r.map_err(|e| self.err(e))
    }

    /// The canonical text of the rows with these keys (absent keys are absent).
    pub async fn rows(
        &mut self,
        table: Table,
        keys: &[Key],
    ) -> Result<HashMap<Key, String>, AuditError> {
        if let Some(images) = self.images().await? {
            // Kafka keeps digests, not text: a differing key shows its digest.
            let all = images.row_digests(table, &(0..u64::MAX));
            return Ok(keys
                .iter()
                .filter_map(|k| {
                    all.get(k)
                        .map(|d| (*k, format!("(Kafka's last image, digest {d})")))
                })
                .collect());
        }
        let spliced: Vec<(u32, u64)> = keys
            .iter()
            .map(|(i, t)| (*i as u32, (*t).max(0) as u64))
            .collect();
        let stmt = sql::rows_by_key(self.dialect(), self.schema(), table, &spliced);
        let r: Result<HashMap<Key, String>, String> = match self {
            Side::MySql(c) => c
                .query::<(i64, i64, String), _>(stmt)
                .await
                .map(|rows| rows.into_iter().map(|(i, t, d)| ((i, t), d)).collect())
                .map_err(|e| e.to_string()),
            Side::Warehouse { client, .. } => {
                let items: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let tickets: Vec<i64> = keys.iter().map(|k| k.1).collect();
                client
                    .query(stmt.as_str(), &[&items, &tickets])
                    .await
                    .map(|rows| {
                        rows.iter()
                            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
                            .collect()
                    })
                    .map_err(|e| e.to_string())
            }
            Side::Kafka(_) => Err("Kafka answers from its images".to_string()),
        };
        r.map_err(|e| self.err(e))
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn texts_my(row: mysql_async::Row) -> Vec<String> {
    row.unwrap()
        .into_iter()
        .map(|v| match v {
            mysql_async::Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
            mysql_async::Value::NULL => String::new(),
            other => other.as_sql(true),
        })
        .collect()
}

fn texts_pg(row: &tokio_postgres::Row) -> Vec<String> {
    (0..row.len())
        .map(|i| row.get::<_, Option<String>>(i).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(count: u64, digest: &str, sums: &[&str]) -> Aggregate {
        Aggregate {
            count,
            digest: digest.into(),
            sums: sums.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn two_halves_add_up_exactly_as_the_databases_print_the_whole() {
        let a = agg(
            3,
            "1152921504606846975",
            &["12.340000", "-0.500000", "0.000000"],
        );
        let b = agg(
            2,
            "1152921504606846976",
            &["0.660000", "0.200000", "-7.000001"],
        );
        assert_eq!(
            a.plus(&b),
            agg(
                5,
                "2305843009213693951",
                &["13.000000", "-0.300000", "-7.000001"]
            )
        );
        // Zero, and a sum that crosses zero.
        let z = agg(0, "0", &["0.000000"]);
        assert_eq!(z.plus(&z), z);
        assert_eq!(
            agg(1, "1", &["-1.000000"])
                .plus(&agg(1, "1", &["1.000000"]))
                .sums,
            ["0.000000"]
        );
    }

    #[test]
    fn what_is_not_of_the_printed_form_never_agrees() {
        let a = agg(1, "1", &["12.3"]);
        let b = agg(1, "x", &["1.000000"]);
        let s = a.plus(&b);
        assert_eq!(
            (s.digest.as_str(), s.sums[0].as_str()),
            ("1+x", "12.3+1.000000")
        );
        assert!(!s.agrees(&agg(2, "1", &["13.300000"])));
    }
}
