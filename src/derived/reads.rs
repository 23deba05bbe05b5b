//! Reads under load: TPC-DS-style analytical queries over the warehouse's
//! `store_sales`/`store_returns` (one path schema), each at a fixed rate while
//! the load runs, so the report shows how the warehouse serves readers while
//! it ingests.
//!
//! Open loop: execution *k* of a query is due at `k / rate`; one connection
//! per query runs them in order, so a slow execution delays the next, and
//! latency is counted from the **intended** start (no coordinated omission).
//! Each query is its own series (a `q_*` sink): `seen` = executions that
//! answered, `missing` = executions that failed.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::model::{OpKind, Sink};
use crate::observe::warehouse::WarehouseConn;
use crate::observe::ObserveError;
use crate::stats::{Counter, Recorder, Series, SnapshotSender};

/// The first TPC-DS date key (1998-01-01); the date ranges walk from here.
const FIRST_DATE_SK: i32 = 2_450_815;
/// Days covered by the calendar (1998–2003).
const DATE_SPAN: i32 = 2_190;

/// The SQL of a query sink over `schema`; `$1` is the first date key of its range.
pub fn query_sql(sink: Sink, schema: &str) -> Option<String> {
    match sink {
        // Per-store sales for a month, joined with the returns of those lines.
        Sink::QStoreReturns => Some(format!(
            "SELECT s.ss_store_sk, count(*) AS lines, sum(s.ss_net_paid) AS paid, \
                    count(r.sr_item_sk) AS returned, coalesce(sum(r.sr_return_amt), 0) AS return_amt \
             FROM {schema}.store_sales s \
             LEFT JOIN {schema}.store_returns r \
               ON r.sr_item_sk = s.ss_item_sk AND r.sr_ticket_number = s.ss_ticket_number \
             WHERE s.ss_sold_date_sk BETWEEN $1 AND $1 + 30 \
             GROUP BY s.ss_store_sk ORDER BY s.ss_store_sk"
        )),
        // Top items by net profit over a quarter.
        Sink::QTopItems => Some(format!(
            "SELECT ss_item_sk, sum(ss_net_profit) AS profit, sum(ss_quantity) AS qty \
             FROM {schema}.store_sales \
             WHERE ss_sold_date_sk BETWEEN $1 AND $1 + 90 \
             GROUP BY ss_item_sk ORDER BY profit DESC NULLS LAST LIMIT 10"
        )),
        _ => None,
    }
}

/// The first date key of execution `k` (a fixed walk over the calendar, so
/// runs with the same settings read the same ranges).
fn date_of(k: u64) -> i32 {
    FIRST_DATE_SK + ((k * 97) % DATE_SPAN as u64) as i32
}

/// What a query runner needs.
#[derive(Debug, Clone)]
pub struct ReadConfig {
    /// `postgres://…` of the warehouse.
    pub url: String,
    /// The query (a `q_*` sink).
    pub sink: Sink,
    /// The schema read (`path1`/`path2`).
    pub schema: String,
    /// Executions per second.
    pub per_second: f64,
}

/// What a query runner did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Executions that answered.
    pub ok: u64,
    /// Executions that failed.
    pub failed: u64,
}

/// A query runner whose statement is prepared: ready for the load.
pub struct ReadRunner {
    cfg: ReadConfig,
    conn: WarehouseConn,
    stmt: tokio_postgres::Statement,
}

impl ReadRunner {
    /// Connects and prepares the query (a missing table fails here, before the load).
    pub async fn start(cfg: ReadConfig) -> Result<Self, ObserveError> {
        let sql = query_sql(cfg.sink, &cfg.schema).ok_or_else(|| {
            ObserveError::misconfigured("reads", format!("{} is not a query", cfg.sink), "")
        })?;
        let conn = WarehouseConn::connect(&cfg.url, Duration::from_secs(10)).await?;
        let stmt = conn.client.prepare(&sql).await.map_err(|e| {
            ObserveError::misconfigured(
                conn.target(),
                format!("cannot prepare query {}: {e}", cfg.sink),
                "the path schemas come from warehouse-init/apply.sh (scripts/stack.sh up runs it)",
            )
        })?;
        Ok(ReadRunner { cfg, conn, stmt })
    }

    /// The query sink.
    pub fn sink(&self) -> Sink {
        self.cfg.sink
    }

    /// Runs the schedule from `start` for `duration` or until `stop`; failures go to `errors`.
    pub async fn run(
        self,
        start: Instant,
        duration: Duration,
        stats: SnapshotSender,
        errors: mpsc::UnboundedSender<crate::load::WorkerError>,
        mut stop: watch::Receiver<bool>,
    ) -> ReadReport {
        let sink = self.cfg.sink;
        let mut rec = Recorder::new(start);
        let mut report = ReadReport::default();
        let mut last_flush = Instant::now();
        for k in 0u64.. {
            let offset = Duration::from_secs_f64(k as f64 / self.cfg.per_second);
            if offset >= duration {
                break;
            }
            let due = start + offset;
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            let r = self.conn.client.query(&self.stmt, &[&date_of(k)]).await;
            let done = Instant::now();
            match r {
                Ok(_) => {
                    report.ok += 1;
                    let us = done.saturating_duration_since(due).as_micros() as u64;
                    rec.record_at(Series::Sink(sink, OpKind::Insert), done, us);
                    rec.add_at(Counter::Seen(sink), done, 1);
                }
                Err(e) => {
                    report.failed += 1;
                    let _ = errors.send(crate::load::WorkerError {
                        worker: usize::MAX,
                        message: format!("query {sink} failed: {e}"),
                    });
                }
            }
            if done.duration_since(last_flush) >= Duration::from_millis(500) {
                last_flush = done;
                let _ = stats.send(rec.take_interval()).await;
            }
        }
        let _ = stats.send(rec.take_interval()).await;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_query_sinks_have_sql_and_dates_stay_in_the_calendar() {
        for s in Sink::ALL {
            assert_eq!(query_sql(s, "path2").is_some(), s.is_query(), "{s}");
        }
        for k in 0..10_000 {
            let d = date_of(k);
            assert!((FIRST_DATE_SK..FIRST_DATE_SK + DATE_SPAN).contains(&d));
        }
    }
}
