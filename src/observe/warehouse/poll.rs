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
use crate::clock::{OffsetTracker, Probe};
use crate::model::{Observation, OpKind, RowKey, StampMicros, Table, Visible, VisibleSource};
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

/// The clock probe: the server's clock now (not the statement's start).
const CLOCK_SQL: &str = "SELECT clock_timestamp()";

/// The commit timestamp of a row version: when it became visible
/// (`track_commit_timestamp = on`), else NULL.
const COMMIT_TS: &str = "pg_xact_commit_timestamp(xmin)";

/// Clock probes at start (the best of them is the first offset).
const START_PROBES: usize = 8;
/// Time between clock probes during the run.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The arrival query. With `commit_ts`, the fifth column is the version's
/// commit timestamp; without, it is NULL (a server without the setting, or a
/// relation without `xmin` such as a view).
fn arrivals_sql(schema: &str, table: Table, commit_ts: bool) -> String {
    format!(
        "SELECT {p}item_sk::bigint, {p}ticket_number::bigint, bench_ts, arrived_at, {c} \
         FROM \"{schema}\".{t} \
         WHERE arrived_at > $1 AND {p}ticket_number >= $2 AND {p}ticket_number < $3 \
         ORDER BY arrived_at",
        p = table.prefix(),
        t = table.name(),
        c = if commit_ts {
            COMMIT_TS
        } else {
            "NULL::timestamptz"
        },
    )
}

fn lookup_sql(schema: &str, table: Table, commit_ts: bool) -> String {
    format!(
        "SELECT s.{p}item_sk::bigint, s.{p}ticket_number::bigint, s.bench_ts, {c} \
         FROM unnest($1::bigint[], $2::bigint[]) AS k(item, ticket) \
         JOIN \"{schema}\".{t} s ON s.{p}item_sk = k.item AND s.{p}ticket_number = k.ticket",
        p = table.prefix(),
        t = table.name(),
        c = if commit_ts {
            "pg_xact_commit_timestamp(s.xmin)"
        } else {
            "NULL::timestamptz"
        },
    )
}

/// The poller's state between polls.
pub(super) struct Poller {
    pub(super) conn: WarehouseConn,
    pub(super) cfg: WarehouseConfig,
    pub(super) stats: ObserverStats,
    bound_stmt: Statement,
    clock_stmt: Statement,
    arrivals: [Statement; 2],
    lookups: [Statement; 2],
    /// The warehouse clock's offset from the harness's.
    clock: OffsetTracker,
    /// When the last clock probe was taken.
    last_probe: Instant,
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
        let want_commit_ts = conn.info.track_commit_timestamp == Some(true);
        let q = prepare(&conn, &cfg.schema, want_commit_ts)
            .await
            .map_err(prep_err)?;
        let mut clock = OffsetTracker::default();
        for _ in 0..START_PROBES {
            let p = probe(&conn, &q.clock)
                .await
                .map_err(|e| ObserveError::unreachable(&target, e))?;
            clock.add(p);
        }
        let (stmt_ts, _) = read_bound(&conn, &q.bound)
            .await
            .map_err(|e| ObserveError::unreachable(&target, e))?;
        // No row of the run exists yet: the statement time is a safe start.
        let lower = stmt_ts - cfg.overlap.as_micros() as i64;
        let tickets = ticket_bounds(&cfg.tickets);
        let mut stats = ObserverStats::new(cfg.sink);
        stats.commit_ts = q.commit_ts;
        Ok(Poller {
            stats,
            arrivals: q.arrivals,
            lookups: q.lookups,
            bound_stmt: q.bound,
            clock_stmt: q.clock,
            clock,
            last_probe: Instant::now(),
            lower,
            window: SeenWindow::new(WINDOW_CAP),
            present: Present::new(cfg.present_cap, cfg.tickets.start),
            // Registered now, before the run writes: sees every change.
            pending: Pending::new(cfg.watch.as_ref()),
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
        // A restarted server keeps commit timestamps only if still configured.
        let want_commit_ts = conn.info.track_commit_timestamp == Some(true);
        let q = prepare(&conn, &self.cfg.schema, want_commit_ts)
            .await
            .map_err(|e| ObserveError::fault(conn.target(), e))?;
        self.conn = conn;
        self.bound_stmt = q.bound;
        self.clock_stmt = q.clock;
        self.arrivals = q.arrivals;
        self.lookups = q.lookups;
        // `commit_ts` stays true only if every connection of the run read them.
        self.stats.commit_ts &= q.commit_ts;
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
        if started.duration_since(self.last_probe) >= PROBE_EVERY {
            let p = probe(&self.conn, &self.clock_stmt).await.map_err(fault)?;
            self.clock.add(p);
            self.last_probe = started;
        }
        let (stmt_ts, oldest_open) = read_bound(&self.conn, &self.bound_stmt)
            .await
            .map_err(fault)?;
        let next_lower = next_lower_bound(
            stmt_ts,
            oldest_open,
            self.cfg.overlap.as_micros() as i64,
            self.cfg.max_lookback.as_micros() as i64,
        );

        self.pending.refresh();
        let present = &self.present;
        let checks: Vec<Vec<Expected>> = Table::ALL
            .iter()
            .map(|&t| {
                self.pending
                    .checkable(t, |k| present.get(k), self.cfg.lookup_batch)
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
        type Decoded = (
            RowKey,
            Option<StampMicros>,
            StampMicros,
            Option<StampMicros>,
        );
        let decoded = (|| -> Result<Decoded, tokio_postgres::Error> {
            let item: i64 = row.try_get(0)?;
            let ticket: i64 = row.try_get(1)?;
            let bench_ts: Option<NaiveDateTime> = row.try_get(2)?;
            let arrived: DateTime<Utc> = row.try_get(3)?;
            let committed: Option<DateTime<Utc>> = row.try_get(4)?;
            Ok((
                RowKey {
                    table,
                    ticket: ticket as u64,
                    item: item as u32,
                },
                bench_ts.map(|t| t.and_utc().timestamp_micros()),
                arrived.timestamp_micros(),
                committed.map(|t| t.timestamp_micros()),
            ))
        })();
        let (key, stamp, arrived, committed) = match decoded {
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
        let visible = match committed {
            Some(c) => self.visible(c, VisibleSource::CommitTs),
            None => self.visible(arrived, VisibleSource::ArrivedAt),
        };
        out.push(Observation {
            sink: self.cfg.sink,
            key,
            op,
            stamp,
            seen_at,
            server_arrival: Some(arrived),
            visible,
        });
    }

    /// A server-clock reading moved onto the harness's clock.
    fn visible(&self, server: StampMicros, source: VisibleSource) -> Option<Visible> {
        let (at, unc) = self.clock.to_instant(server)?;
        Some(Visible {
            at,
            source,
            uncertainty_us: u32::try_from(unc).unwrap_or(u32::MAX),
        })
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
        type Found = (Option<StampMicros>, Option<StampMicros>);
        let found: HashMap<(i64, i64), Found> = found
            .iter()
            .map(|r| {
                let ts: Option<NaiveDateTime> = r.get(2);
                let committed: Option<DateTime<Utc>> = r.get(3);
                (
                    (r.get(0), r.get(1)),
                    (
                        ts.map(|t| t.and_utc().timestamp_micros()),
                        committed.map(|t| t.timestamp_micros()),
                    ),
                )
            })
            .collect();
        let mut done = Vec::new();
        for e in checked {
            let now = found.get(&(i64::from(e.key.item), e.key.ticket as i64));
            // A delete leaves no row to carry a commit timestamp: detected only.
            let (op, stamp, visible) = match (e.update_to, now) {
                // The version removed is the last one seen here.
                (None, None) => (OpKind::Delete, self.present.remove(&e.key).flatten(), None),
                (Some(want), Some(&(have, committed))) if have == Some(want) => {
                    if self.present.insert(e.key, have) == Some(have) {
                        // Arrival polling reported it in this same poll.
                        done.push(*e);
                        continue;
                    }
                    let visible = committed.and_then(|c| self.visible(c, VisibleSource::CommitTs));
                    (OpKind::Update, have, visible)
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
                visible,
            });
        }
        self.pending.confirm(&done);
    }

    /// Final counters.
    pub(super) fn finish(mut self) -> ObserverStats {
        self.pending.refresh();
        (self.stats.deletes_pending, self.stats.updates_pending) = self.pending.counts();
        self.stats.clock_offset = self.clock.summary();
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

/// The poller's prepared statements.
struct Prepared {
    bound: Statement,
    clock: Statement,
    arrivals: [Statement; 2],
    lookups: [Statement; 2],
    /// Whether `arrivals` and `lookups` read commit timestamps.
    commit_ts: bool,
}

/// The bound and clock queries and, per table, the arrival and lookup
/// queries; with commit timestamps when `commit_ts` and the relations have
/// `xmin` (a view has none: then without).
async fn prepare(
    conn: &WarehouseConn,
    schema: &str,
    commit_ts: bool,
) -> Result<Prepared, tokio_postgres::Error> {
    let bound = match conn.client.prepare(BOUND_SQL).await {
        Ok(s) => s,
        Err(_) => conn.client.prepare(BOUND_SQL_OLD).await?,
    };
    let clock = conn.client.prepare(CLOCK_SQL).await?;
    let per_table = |with: bool| async move {
        let [ss, sr] = Table::ALL;
        let arrivals = [
            conn.client.prepare(&arrivals_sql(schema, ss, with)).await?,
            conn.client.prepare(&arrivals_sql(schema, sr, with)).await?,
        ];
        let lookups = [
            conn.client.prepare(&lookup_sql(schema, ss, with)).await?,
            conn.client.prepare(&lookup_sql(schema, sr, with)).await?,
        ];
        Ok::<_, tokio_postgres::Error>((arrivals, lookups))
    };
    let (with, (arrivals, lookups)) = match commit_ts {
        true => match per_table(true).await {
            Ok(q) => (true, q),
            Err(_) => (false, per_table(false).await?),
        },
        false => (false, per_table(false).await?),
    };
    Ok(Prepared {
        bound,
        clock,
        arrivals,
        lookups,
        commit_ts: with,
    })
}

/// One clock probe: the server's `clock_timestamp()` between two instants.
async fn probe(conn: &WarehouseConn, stmt: &Statement) -> Result<Probe, tokio_postgres::Error> {
    let sent = Instant::now();
    let row = conn.client.query_one(stmt, &[]).await?;
    let received = Instant::now();
    let server: DateTime<Utc> = row.try_get(0)?;
    Ok(Probe {
        sent,
        server: server.timestamp_micros(),
        received,
        reading_us: 0,
    })
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
        let s = arrivals_sql("path1", Table::StoreReturns, true);
        assert!(
            s.contains("arrived_at, pg_xact_commit_timestamp(xmin) FROM"),
            "{s}"
        );
        assert!(arrivals_sql("v", Table::StoreSales, false)
            .contains("arrived_at, NULL::timestamptz FROM"));
        assert!(s.contains("FROM \"path1\".store_returns"), "{s}");
        assert!(
            s.contains("sr_ticket_number >= $2 AND sr_ticket_number < $3"),
            "{s}"
        );
        assert!(s.contains("ORDER BY arrived_at"));
        let d = lookup_sql("path2", Table::StoreSales, true);
        assert!(d.contains("pg_xact_commit_timestamp(s.xmin)"), "{d}");
        assert!(
            d.contains("\"path2\".store_sales s ON s.ss_item_sk = k.item"),
            "{d}"
        );
    }
}
