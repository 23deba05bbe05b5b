//! The probe writer: one `store_sales` row of store [`PROBE_STORE`] every
//! `1 / probes_per_second` seconds, written to MySQL like the workload's rows
//! (same statement builder, autocommit) and registered with the tracker like
//! them, so every sink accounts for it. Each probe's commit is also published
//! on a [`ProbeBoard`] for the derived observers.
//!
//! Open loop like the workers: probe *n* is due at `(n + 0.5) / rate`; a slow
//! commit delays the next send but never the schedule, and freshness is
//! counted from the commit ack (what a user's "my sale committed" means).

use std::ops::Range;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use tokio::sync::{mpsc, watch};

use super::{probe_date_sk, Probe, ProbeBoard, PROBE_STORE};
use crate::load::BatchSql;
use crate::model::OpKind;
use crate::tpcds::{SaleRow, Write};
use crate::track::{CommitBatch, CommittedRow};

/// What the probe writer needs.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// The MySQL connection options (the workload's).
    pub mysql: mysql_async::Opts,
    /// Probes per second.
    pub per_second: f64,
    /// The run's start (monotonic) and the same instant on the wall clock (µs).
    pub start: Instant,
    /// See `start`.
    pub wall_start_us: i64,
    /// How long to write probes (the load phase).
    pub duration: Duration,
    /// The reserved ticket numbers.
    pub tickets: Range<u64>,
}

/// What the probe writer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeReport {
    /// Probes committed.
    pub committed: u64,
    /// Probes whose write failed (each is reported as an error).
    pub failed: u64,
}

/// A probe sale: one unit at 1.00, profit 0.50, store [`PROBE_STORE`].
fn probe_row(ticket: u64, date_sk: i32) -> SaleRow {
    SaleRow {
        ss_sold_date_sk: Some(date_sk as u32),
        ss_sold_time_sk: Some(0),
        ss_item_sk: 1,
        ss_customer_sk: None,
        ss_cdemo_sk: None,
        ss_hdemo_sk: None,
        ss_addr_sk: None,
        ss_store_sk: Some(PROBE_STORE as u32),
        ss_promo_sk: None,
        ss_ticket_number: ticket,
        ss_quantity: Some(1),
        ss_wholesale_cost: Some(50),
        ss_list_price: Some(100),
        ss_sales_price: Some(100),
        ss_ext_discount_amt: Some(0),
        ss_ext_sales_price: Some(100),
        ss_ext_wholesale_cost: Some(50),
        ss_ext_list_price: Some(100),
        ss_ext_tax: Some(0),
        ss_coupon_amt: Some(0),
        ss_net_paid: Some(100),
        ss_net_paid_inc_tax: Some(100),
        ss_net_profit: Some(50),
    }
}

/// Writes probes until the schedule ends or `stop`; errors go to `errors`.
pub async fn run_probes(
    cfg: ProbeConfig,
    board: ProbeBoard,
    commits: mpsc::Sender<CommitBatch>,
    errors: mpsc::UnboundedSender<crate::load::WorkerError>,
    mut stop: watch::Receiver<bool>,
) -> ProbeReport {
    let mut report = ProbeReport::default();
    let mut conn: Option<mysql_async::Conn> = None;
    let mut sql = BatchSql::default();
    let interval = 1.0 / cfg.per_second;
    let mut last_date = i32::MIN;
    let say = |m: String| {
        let _ = errors.send(crate::load::WorkerError {
            worker: usize::MAX,
            message: m,
        });
    };
    for n in 0u64.. {
        let offset = Duration::from_secs_f64((n as f64 + 0.5) * interval);
        if offset >= cfg.duration || cfg.tickets.start + n >= cfg.tickets.end {
            break;
        }
        let due = cfg.start + offset;
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        if conn.is_none() {
            match mysql_async::Conn::new(cfg.mysql.clone()).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    report.failed += 1;
                    say(format!("probe writer: cannot connect to MySQL: {e}"));
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected above");
        let stamp = cfg.wall_start_us
            + Instant::now()
                .saturating_duration_since(cfg.start)
                .as_micros() as i64;
        // Each probe its own group, even two in one centisecond.
        let date_sk = probe_date_sk(stamp).max(last_date.saturating_add(1));
        last_date = date_sk;
        let row = probe_row(cfg.tickets.start + n, date_sk);
        let key = row.key();
        let text = sql.build(&[Write::InsertSale(row)], stamp);
        match c.query_drop(text).await {
            Ok(()) => {
                let acked_at = Instant::now();
                report.committed += 1;
                board.push(Probe {
                    key,
                    stamp,
                    date_sk,
                    acked_at,
                });
                let batch = CommitBatch {
                    closed: None,
                    acked_at,
                    rows: vec![CommittedRow {
                        key,
                        op: OpKind::Insert,
                        stamp,
                        prev_stamp: None,
                    }],
                };
                if commits.send(batch).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                report.failed += 1;
                conn = None;
                say(format!("probe writer: write failed: {e}"));
            }
        }
    }
    if let Some(c) = conn {
        let _ = c.disconnect().await;
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_row_carries_the_probe_store_and_its_date() {
        let r = probe_row(42, 100_000_123);
        assert_eq!(r.ss_store_sk, Some(PROBE_STORE as u32));
        assert_eq!(r.ss_sold_date_sk, Some(100_000_123));
        assert_eq!(r.key().ticket, 42);
    }
}
