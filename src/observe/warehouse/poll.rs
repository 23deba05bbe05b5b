//! One warehouse poll: bound query, pipelined arrival and delete queries, and
//! turning rows into observations.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use futures::future::try_join4;
use tokio_postgres::{Row, Statement};

use super::changes::{Expected, Pending};
use super::conn::{ticket_bounds, WarehouseConn};
use super::present::Present;
use super::window::{next_lower_bound, SeenWindow};
use super::WarehouseConfig;
use crate::model::{Observation, OpKind, RowKey, StampMicros, Table};
use crate::observe::{in_range, ObserveError, ObserverStats};

/// Most row versions the de-duplication window holds, whatever the bound does.
const WINDOW_CAP: usize = 2_000_000;

/// Reads the next lower bound: this statement's time and the oldest open client
/// transaction (must run before the data snapshot it protects).
const BOUND_SQL: &str = "SELECT statement_timestamp(), \
     (SELECT min(xact_start) FROM pg_stat_activity \
      WHERE pid <> pg_backend_pid() AND datname = current_database() \
        AND xact_start IS NOT NULL AND backend_type = 'client backend')";

/// The same for servers whose `pg_stat_activity` has no `backend_type` (PostgreSQL < 10).
const BOUND_SQL_OLD: &str = "SELECT statement_timestamp(), \
     (SELECT min(xact_start) FROM pg_stat_activity \
      WHERE pid <> pg_backend_pid() AND datname = current_database() AND xact_start IS NOT NULL)";

fn arrivals_sql(schema: &str, table: Table) -> String {
    format!(
        "SELECT {p}item_sk::bigint, {p}ticket_number::bigint, bench_ts, arrived_at \
         FROM \"{schema}\".{t} \
         WHERE arrived_at > $1 AND {p}ticket_number >= $2 AND {p}ticket_number < $3 \
         ORDER BY arrived_at",
        p = table.prefix(),
        t = table.name()
    )
}

fn lookup_sql(schema: &str, table: Table) -> String {
    format!(
        "SELECT s.{p}item_sk::bigint, s.{p}ticket_number::bigint, s.bench_ts \
         FROM unnest($1::bigint[], $2::bigint[]) AS k(item, ticket) \
         JOIN \"{schema}\".{t} s ON s.{p}item_sk = k.item AND s.{p}ticket_number = k.ticket",
        p = table.prefix(),
        t = table.name()
    )
}

/// The poller's state between polls.
pub(super) struct Poller {
    pub(super) conn: WarehouseConn,
    pub(super) cfg: WarehouseConfig,
    pub(super) stats: ObserverStats,
    bound_stmt: Statement,
    arrivals: [Statement; 2],
    lookups: [Statement; 2],
    /// Exclusive lower bound on `arrived_at` for the next poll (µs, server clock).
    lower: StampMicros,
    window: SeenWindow,
    /// Last stamp seen per key at this sink (insert/update classification, and
    /// the precondition for confirming a delete).
    present: Present,
    pending: Pending,
    tickets: (i64, i64),
    /// When the last successful poll started (`None` after a failed one).
    last_start: Option<Instant>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("conn", &self.conn)
            .field("schema", &self.cfg.schema)
            .field("lower", &self.lower)
            .finish()
    }
}

impl Poller {
    pub(super) async fn new(
        conn: WarehouseConn,
        cfg: WarehouseConfig,
    ) -> Result<Self, ObserveError> {
        let target = conn.target().to_string();
        let prep_err = |e: tokio_postgres::Error| {
            ObserveError::misconfigured(
                &target,
                format!(
                    "cannot prepare the poll queries on schema {}: {e}",
                    cfg.schema
                ),
                "check the warehouse schema matches the stack's DDL",
            )
        };
        let (bound_stmt, arrivals, lookups) =
            prepare(&conn, &cfg.schema).await.map_err(prep_err)?;
        let (stmt_ts, _) = read_bound(&conn, &bound_stmt)
            .await
            .map_err(|e| ObserveError::unreachable(&target, e))?;
        // No row of the run exists yet: the statement time is a safe start.
        let lower = stmt_ts - cfg.overlap.as_micros() as i64;
        let tickets = ticket_bounds(&cfg.tickets);
        Ok(Poller {
            stats: ObserverStats::new(cfg.sink),
            arrivals,
            lookups,
            bound_stmt,
            lower,
            window: SeenWindow::new(WINDOW_CAP),
            present: Present::new(cfg.present_cap),
            pending: Pending::default(),
            tickets,
            last_start: None,
            conn,
            cfg,
        })
    }

    /// Opens a new connection after a failed poll and prepares the queries
    /// again; everything the poller knows (the lower bound, the rows seen, the
    /// pending changes) is kept, so the next poll reads on from where the last
    /// good one ended and nothing in between is missed.
    pub(super) async fn reconnect(&mut self) -> Result<(), ObserveError> {
        let conn = WarehouseConn::connect(&self.cfg.url, self.cfg.connect_timeout).await?;
        let (bound, arrivals, lookups) = prepare(&conn, &self.cfg.schema)
            .await
            .map_err(|e| ObserveError::fault(conn.target(), e))?;
        self.conn = conn;
        self.bound_stmt = bound;
        self.arrivals = arrivals;
        self.lookups = lookups;
        self.stats.reconnects += 1;
        Ok(())
    }

    /// One poll; returns the observations it produced.
    pub(super) async fn poll_once(&mut self) -> Result<Vec<Observation>, ObserveError> {
        let started = Instant::now();
        // Taken now so a failed poll (any `?` below) leaves it unset: the
        // window around an outage is not a detection window.
        let previous_start = self.last_start.take();
        let fault = |e: tokio_postgres::Error| ObserveError::fault(self.conn.target(), e);
        let (stmt_ts, oldest_open) = read_bound(&self.conn, &self.bound_stmt)
            .await
            .map_err(fault)?;
        let next_lower = next_lower_bound(
            stmt_ts,
            oldest_open,
            self.cfg.overlap.as_micros() as i64,
            self.cfg.max_lookback.as_micros() as i64,
        );

        if let Some(watch) = &self.cfg.watch {
            self.pending.refresh(watch);
        }
        let checks: Vec<Vec<Expected>> = Table::ALL
            .iter()
            .map(|&t| {
                self.pending
                    .checkable(t, self.present.map(), self.cfg.lookup_batch)
            })
            .collect();

        let lower =
            DateTime::<Utc>::from_timestamp_micros(self.lower).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let (lo, hi) = self.tickets;
        let client = &self.conn.client;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&lower, &lo, &hi];
        let arrivals = |i: usize| client.query(&self.arrivals[i], &params);
        let present = |i: usize| {
            let keys = &checks[i];
            let items: Vec<i64> = keys.iter().map(|e| i64::from(e.key.item)).collect();
            let tickets: Vec<i64> = keys.iter().map(|e| e.key.ticket as i64).collect();
            let stmt = &self.lookups[i];
            async move {
                if items.is_empty() {
                    Ok(Vec::new())
                } else {
                    client.query(stmt, &[&items, &tickets]).await
                }
            }
        };
        // One round trip: the server runs the four statements in order.
        let (ss, sr, ss_found, sr_found) =
            try_join4(arrivals(0), arrivals(1), present(0), present(1))
                .await
                .map_err(fault)?;
        let seen_at = Instant::now();

        let mut out = Vec::new();
        for (table, rows) in [(Table::StoreSales, ss), (Table::StoreReturns, sr)] {
            for row in rows {
                self.arrival(table, &row, seen_at, &mut out);
            }
        }
        for (i, rows) in [ss_found, sr_found].into_iter().enumerate() {
            self.confirm_lookups(&checks[i], &rows, seen_at, &mut out);
        }

        self.lower = next_lower;
        self.window.prune_through(next_lower);
        self.stats.polls += 1;
        self.stats.max_poll_micros = self
            .stats
            .max_poll_micros
            .max(started.elapsed().as_micros() as u64);
        if let Some(prev) = previous_start {
            record_window(&mut self.stats, seen_at - prev, self.cfg.poll_interval);
        }
        self.last_start = Some(started);
        Ok(out)
    }

    fn arrival(&mut self, table: Table, row: &Row, seen_at: Instant, out: &mut Vec<Observation>) {
        self.stats.received += 1;
        let decoded =
            (|| -> Result<(RowKey, Option<StampMicros>, StampMicros), tokio_postgres::Error> {
                let item: i64 = row.try_get(0)?;
                let ticket: i64 = row.try_get(1)?;
                let bench_ts: Option<NaiveDateTime> = row.try_get(2)?;
                let arrived: DateTime<Utc> = row.try_get(3)?;
                Ok((
                    RowKey {
                        table,
                        ticket: ticket as u64,
                        item: item as u32,
                    },
                    bench_ts.map(|t| t.and_utc().timestamp_micros()),
                    arrived.timestamp_micros(),
                ))
            })();
        let (key, stamp, arrived) = match decoded {
            Ok(v) => v,
            Err(e) => {
                let location = format!("{}.{}", self.cfg.schema, table);
                self.stats
                    .record_malformed(location, e.to_string(), format!("{row:?}").as_bytes());
                return;
            }
        };
        if !in_range(&self.cfg.tickets, key.ticket) {
            self.stats.ignored += 1;
            return;
        }
        if !self.window.insert_if_new(key, stamp, arrived) {
            self.stats.duplicates += 1;
            return;
        }
        let op = match self.present.insert(key, stamp) {
            None => OpKind::Insert,
            Some(prev) if prev != stamp => OpKind::Update,
            // Same version re-read after the window forgot it (cap reached).
            Some(_) => {
                self.stats.duplicates += 1;
                return;
            }
        };
        self.stats.observed += 1;
        out.push(Observation {
            sink: self.cfg.sink,
            key,
            op,
            stamp,
            seen_at,
            server_arrival: Some(arrived),
        });
    }

    /// Settles looked-up changes: a delete whose row is gone, an update whose
    /// row now holds the new stamp.
    fn confirm_lookups(
        &mut self,
        checked: &[Expected],
        found: &[Row],
        seen_at: Instant,
        out: &mut Vec<Observation>,
    ) {
        if checked.is_empty() {
            return;
        }
        let found: HashMap<(i64, i64), Option<StampMicros>> = found
            .iter()
            .map(|r| {
                let ts: Option<NaiveDateTime> = r.get(2);
                (
                    (r.get(0), r.get(1)),
                    ts.map(|t| t.and_utc().timestamp_micros()),
                )
            })
            .collect();
        let mut done = Vec::new();
        for e in checked {
            let now = found.get(&(i64::from(e.key.item), e.key.ticket as i64));
            let (op, stamp) = match (e.update_to, now) {
                // The version removed is the last one seen here.
                (None, None) => (OpKind::Delete, self.present.remove(&e.key).flatten()),
                (Some(want), Some(&have)) if have == Some(want) => {
                    if self.present.insert(e.key, have) == Some(have) {
                        // Arrival polling reported it in this same poll.
                        done.push(*e);
                        continue;
                    }
                    (OpKind::Update, have)
                }
                _ => continue,
            };
            done.push(*e);
            self.stats.observed += 1;
            match op {
                OpKind::Delete => self.stats.deletes_confirmed += 1,
                _ => self.stats.updates_looked_up += 1,
            }
            out.push(Observation {
                sink: self.cfg.sink,
                key: e.key,
                op,
                stamp,
                seen_at,
                server_arrival: None,
            });
        }
        self.pending.confirm(&done);
    }

    /// Final counters.
    pub(super) fn finish(mut self) -> ObserverStats {
        if let Some(watch) = &self.cfg.watch {
            self.pending.refresh(watch);
        }
        (self.stats.deletes_pending, self.stats.updates_pending) = self.pending.counts();
        self.stats
    }
}

/// Counts one detection window (the previous poll's start → this poll's
/// answer): the longest, and whether it ran over twice the poll interval.
fn record_window(stats: &mut ObserverStats, window: Duration, poll_interval: Duration) {
    stats.max_window_micros = stats.max_window_micros.max(window.as_micros() as u64);
    if window > 2 * poll_interval {
        stats.late_windows += 1;
    }
}

type Prepared = (Statement, [Statement; 2], [Statement; 2]);

/// The bound query and, per table, the arrival and lookup queries.
async fn prepare(conn: &WarehouseConn, schema: &str) -> Result<Prepared, tokio_postgres::Error> {
    let bound = match conn.client.prepare(BOUND_SQL).await {
        Ok(s) => s,
        Err(_) => conn.client.prepare(BOUND_SQL_OLD).await?,
    };
    let [ss, sr] = Table::ALL;
    let arrivals = [
        conn.client.prepare(&arrivals_sql(schema, ss)).await?,
        conn.client.prepare(&arrivals_sql(schema, sr)).await?,
    ];
    let lookups = [
        conn.client.prepare(&lookup_sql(schema, ss)).await?,
        conn.client.prepare(&lookup_sql(schema, sr)).await?,
    ];
    Ok((bound, arrivals, lookups))
}

async fn read_bound(
    conn: &WarehouseConn,
    stmt: &Statement,
) -> Result<(StampMicros, Option<StampMicros>), tokio_postgres::Error> {
    let row = conn.client.query_one(stmt, &[]).await?;
    let now: DateTime<Utc> = row.try_get(0)?;
    let oldest: Option<DateTime<Utc>> = row.try_get(1)?;
    Ok((now.timestamp_micros(), oldest.map(|t| t.timestamp_micros())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_window_is_kept_and_windows_over_twice_the_interval_count_as_late() {
        let mut st = ObserverStats::new(crate::model::Sink::Path2);
        let ms = Duration::from_millis;
        for w in [104, 230, 150, 201] {
            record_window(&mut st, ms(w), ms(100));
        }
        assert_eq!(st.max_window_micros, 230_000);
        assert_eq!(st.late_windows, 2, "230 and 201 ms are over 200 ms");
    }

    #[test]
    fn sql_uses_table_prefix_and_quoted_schema() {
        let s = arrivals_sql("path1", Table::StoreReturns);
        assert!(s.contains("FROM \"path1\".store_returns"), "{s}");
        assert!(
            s.contains("sr_ticket_number >= $2 AND sr_ticket_number < $3"),
            "{s}"
        );
        assert!(s.contains("ORDER BY arrived_at"));
        let d = lookup_sql("path2", Table::StoreSales);
        assert!(
            d.contains("\"path2\".store_sales s ON s.ss_item_sk = k.item"),
            "{d}"
        );
    }
}
