//! One open-loop worker: schedule → generator → one MySQL round trip per batch
//! → commit report to the tracker, client latencies to the stats collector.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use tokio::sync::{mpsc, watch};

use super::sql::BatchSql;
use super::stamps::StampMemory;
use crate::model::{OpKind, StampMicros};
use crate::plan::Schedule;
use crate::stats::{Counter, Recorder, Series, SnapshotSender};
use crate::tpcds::{Generator, Write};
use crate::track::{CommitBatch, CommittedRow};

/// A batch sent later than this after its due time counts its rows as late.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(10);

/// Everything one worker needs besides its schedule and generator.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Worker number (for messages).
    pub id: usize,
    /// Where to write.
    pub mysql: mysql_async::Opts,
    /// Rows per transaction.
    pub batch_rows: usize,
    /// Beyond this lateness a batch is dropped (counted), not sent.
    pub max_lag: Duration,
    /// The schedule's zero.
    pub start: Instant,
    /// Wall-clock µs at `start`, to stamp rows on one clock.
    pub wall_start_us: StampMicros,
    /// The worker's first ticket and how many sale lines' stamps it keeps for
    /// the updates and deletes it may write (see `stamps`).
    pub stamp_memory: (u64, usize),
    /// Bumped by the mid-run audit when it wants a cut: the worker then sends
    /// its closed tickets with its next commit batch (`None`: no mid-run audits).
    pub cuts: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// An error a worker met along the way (a lost connection, a failed
/// transaction): reported besides its measurements, never an injected fault.
#[derive(Debug)]
pub struct WorkerError {
    /// Which worker.
    pub worker: usize,
    /// What happened (no passwords).
    pub message: String,
}

/// A worker's totals when it ends.
#[derive(Debug, Clone, Default)]
pub struct WorkerReport {
    /// Rows committed.
    pub committed: u64,
    /// Rows late.
    pub late: u64,
    /// Late rows whose batch waited for the worker's previous transaction
    /// (MySQL still busy at the due time): MySQL held the schedule back.
    pub late_waiting_for_mysql: u64,
    /// Rows dropped.
    pub dropped: u64,
    /// Rows failed.
    pub failed: u64,
    /// Transactions committed.
    pub transactions: u64,
    /// Ticket numbers this worker used.
    pub tickets: std::ops::Range<u64>,
}

/// Whole microseconds, at least 1 (HdrHistogram's lowest value).
fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

/// Opens a writer session. READ COMMITTED: the workers write disjoint ticket
/// ranges, but the primary key leads with the item, so REPEATABLE READ's gap
/// locks would make their upserts and deletes deadlock on neighbouring keys.
async fn connect(opts: &mysql_async::Opts) -> Result<mysql_async::Conn, mysql_async::Error> {
    let mut c = mysql_async::Conn::new(opts.clone()).await?;
    c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await?;
    Ok(c)
}

/// Executes a prepared single-row write, preparing `text` on the first use on
/// this connection. Holding the [`mysql_async::Statement`] spares the driver
/// parsing the text for named parameters and looking it up in its cache on
/// every row (about 5 % of the harness's CPU in a single-row `perf` profile).
async fn exec_prepared(
    c: &mut mysql_async::Conn,
    statements: &mut HashMap<&'static str, mysql_async::Statement>,
    text: &'static str,
    params: Vec<mysql_async::Value>,
) -> Result<(), mysql_async::Error> {
    let stmt = match statements.get(text) {
        Some(s) => s.clone(),
        None => {
            let s = c.prep(text).await?;
            statements.insert(text, s.clone());
            s
        }
    };
    c.exec_drop(&stmt, params).await
}

/// Runs one worker until its schedule ends or `stop` turns true.
pub async fn run_worker(
    cfg: WorkerConfig,
    mut schedule: Schedule,
    mut gen: Generator,
    commits: mpsc::Sender<CommitBatch>,
    stats: SnapshotSender,
    errors: mpsc::UnboundedSender<WorkerError>,
    mut stop: watch::Receiver<bool>,
) -> WorkerReport {
    let mut report = WorkerReport::default();
    let mut conn: Option<mysql_async::Conn> = None;
    let mut backoff = Duration::from_millis(100);
    let mut next_connect = cfg.start;
    let mut sql = BatchSql::default();
    let mut stamps = StampMemory::new(cfg.stamp_memory.0, cfg.stamp_memory.1);
    let mut rec = Recorder::new(cfg.start);
    // When the previous transaction was acknowledged: a batch due before that
    // was late because of MySQL, one due after it because of the harness.
    let mut prev_ack = cfg.start;
    let mut last_flush = Instant::now();
    let error = |message: String| {
        let _ = errors.send(WorkerError {
            worker: cfg.id,
            message,
        });
    };
    let mut writes: Vec<Write> = Vec::with_capacity(cfg.batch_rows);
    // This connection's prepared statements, by text (cleared with the connection).
    let mut statements: HashMap<&'static str, mysql_async::Statement> = HashMap::new();
    // The last cut request answered.
    let mut cut_seen = 0u64;

    while let Some(batch) = schedule.next_batch(cfg.batch_rows as u32) {
        let Some(&last) = batch.rows.last() else {
            continue;
        };
        let due = cfg.start + last;
        if Instant::now() < due {
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                _ = stop.changed() => {}
            }
        }
        if *stop.borrow() {
            break;
        }
        let sent = Instant::now();
        if sent.duration_since(last_flush) >= Duration::from_millis(500) {
            last_flush = sent;
            if stats.send(rec.take_interval()).await.is_err() {
                break;
            }
        }
        let rows = batch.rows.len() as u64;
        rec.add_at(Counter::TargetRows, due, rows);
        let lateness = sent.saturating_duration_since(due);
        if lateness > cfg.max_lag {
            rec.add_at(Counter::Dropped, due, rows);
            report.dropped += rows;
            continue;
        }
        for _ in 0..rows {
            rec.record_at(Series::Lateness, sent, micros(lateness));
        }
        if lateness > LATE_THRESHOLD {
            rec.add_at(Counter::Late, sent, rows);
            report.late += rows;
            if prev_ack > due {
                report.late_waiting_for_mysql += rows;
            }
        }

        if conn.is_none() && sent >= next_connect {
            match connect(&cfg.mysql).await {
                Ok(c) => {
                    conn = Some(c);
                    backoff = Duration::from_millis(100);
                }
                Err(e) => {
                    next_connect = Instant::now() + backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    error(format!("worker {}: cannot connect to MySQL: {e}", cfg.id));
                }
            }
        }
        let Some(c) = conn.as_mut() else {
            // Not connected: the slot is lost, and says so.
            rec.add_at(Counter::Failed, sent, rows);
            report.failed += rows;
            continue;
        };

        let now_us = sent.saturating_duration_since(cfg.start).as_micros() as u64;
        writes.clear();
        writes.extend((0..batch.rows.len()).map_while(|_| gen.try_next_write(now_us)));
        let exhausted = writes.len() < batch.rows.len();
        if exhausted {
            error(format!(
                "worker {}: its ticket range {:?} is used up; it stops here (run shorter, or at a lower rate)",
                cfg.id,
                gen.tickets_used()
            ));
            if writes.is_empty() {
                break;
            }
        }
        let rows = writes.len() as u64;
        let stamp = cfg.wall_start_us + now_us as i64;
        let (outcome, in_transaction) = match BatchSql::prepared(&writes, stamp) {
            Some((text, params)) => (exec_prepared(c, &mut statements, text, params).await, false),
            None => {
                let r = c.query_drop(sql.build(&writes, stamp)).await;
                (r, sql.is_transaction())
            }
        };
        match outcome {
            Ok(()) => {
                let acked = Instant::now();
                prev_ack = acked;
                let ack_us = acked.saturating_duration_since(cfg.start).as_micros() as u64;
                gen.committed(&writes, ack_us);
                let mut committed = Vec::with_capacity(writes.len());
                for (w, intended) in writes.iter().zip(&batch.rows) {
                    let key = w.key();
                    let op = w.op();
                    let prev_stamp = match op {
                        OpKind::Insert if key.table == crate::model::Table::StoreSales => {
                            stamps.set(key, stamp);
                            None
                        }
                        OpKind::Insert => None,
                        OpKind::Update => stamps.set(key, stamp),
                        OpKind::Delete => stamps.get(&key),
                    };
                    rec.record_at(
                        Series::Client(op),
                        acked,
                        micros(acked.saturating_duration_since(cfg.start + *intended)),
                    );
                    committed.push(CommittedRow {
                        key,
                        op,
                        stamp,
                        prev_stamp,
                    });
                }
                rec.add_at(Counter::CommittedRows, acked, rows);
                report.committed += rows;
                report.transactions += 1;
                // Asked for a cut: once in a while, so the O(pool) scan of
                // `open_from` stays off the per-batch path.
                let wanted = cfg
                    .cuts
                    .as_ref()
                    .map_or(0, |c| c.load(std::sync::atomic::Ordering::Acquire));
                let closed = (wanted != cut_seen).then(|| {
                    cut_seen = wanted;
                    gen.tickets_used().start..gen.open_from()
                });
                if commits
                    .send(CommitBatch {
                        acked_at: acked,
                        rows: committed,
                        closed,
                    })
                    .await
                    .is_err()
                    || exhausted
                {
                    break;
                }
            }
            Err(e) => {
                gen.failed(&writes);
                rec.add_at(Counter::Failed, sent, rows);
                report.failed += rows;
                let fatal = matches!(e, mysql_async::Error::Io(_) | mysql_async::Error::Driver(_));
                if fatal {
                    conn = None;
                    statements.clear();
                    next_connect = Instant::now();
                } else if in_transaction {
                    let _ = c.query_drop("ROLLBACK").await;
                }
                error(format!(
                    "worker {}: write failed ({rows} rows): {e}",
                    cfg.id
                ));
            }
        }
    }
    let _ = stats.send(rec.take_interval()).await;
    if let Some(c) = conn {
        let _ = c.disconnect().await;
    }
    report.tickets = gen.tickets_used();
    report
}
