//! The preload: `[snapshot] rows` rows of the scenario's mix written into
//! MySQL as fast as it takes them, while the CDC jobs are stopped, in a
//! ticket slot of their own (never the run's), so the sinks' copies of them
//! can be counted and audited apart from the streamed rows.
//!
//! What is written: sale lines and their returns, with the scenario's items,
//! customers, dates, NULLs and return share. No updates or deletes: a
//! preloaded table is the state the pipeline finds, not a change stream.
//! Returns follow their sale on a virtual clock (1 ms a row), so a return's
//! lag is drawn as in the run but costs no waiting.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use super::SnapshotError;
use crate::load::BatchSql;
use crate::scenario::{Scenario, Snapshot};
use crate::tpcds::{Generator, Write};

/// Virtual time between two generated rows (drives the returns' lag).
const ROW_STEP_US: u64 = 1_000;
/// Time between two progress lines.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What the preload wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Preloaded {
    /// Its ticket slot.
    pub tickets: Range<u64>,
    /// Sale lines written.
    pub sales: u64,
    /// Returns written.
    pub returns: u64,
    /// Wall time of the writes.
    pub took: Duration,
}

/// Writes `spec.rows` rows over `tickets`, one connection per slice of
/// them; prints progress to stderr every few seconds.
pub async fn preload(
    scenario: &Scenario,
    spec: &Snapshot,
    tickets: Range<u64>,
) -> Result<Preloaded, SnapshotError> {
    let opts = crate::targets::mysql::opts(scenario.targets.mysql.expose())
        .map_err(|e| SnapshotError::Preload(e.to_string()))?;
    let mut cfg = crate::plan::gen_config(scenario, chrono::Utc::now().timestamp_micros());
    cfg.update_probability = 0.0;
    cfg.delete_probability = 0.0;
    let n = spec.connections as u64;
    let span = (tickets.end - tickets.start) / n;
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..n {
        let rows = spec.rows / n + u64::from(c < spec.rows % n);
        let lo = tickets.start + c * span;
        let gen = Generator::try_new(
            cfg.clone(),
            scenario.seed.wrapping_add(1_000 + c),
            lo..lo + span,
        )
        .map_err(|e| SnapshotError::Preload(e.to_string()))?;
        tasks.push(tokio::spawn(write(
            opts.clone(),
            gen,
            rows,
            spec.batch_rows,
            done.clone(),
        )));
    }
    let progress = tokio::spawn(progress(done.clone(), spec.rows, started));
    let mut out = Preloaded {
        tickets,
        sales: 0,
        returns: 0,
        took: Duration::ZERO,
    };
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok(Ok((sales, returns))) => {
                out.sales += sales;
                out.returns += returns;
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(SnapshotError::Preload(e.to_string()));
            }
        }
    }
    progress.abort();
    out.took = started.elapsed();
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// One connection's share: `rows` rows in `batch_rows`-row transactions.
async fn write(
    opts: mysql_async::Opts,
    mut gen: Generator,
    rows: u64,
    batch_rows: usize,
    done: Arc<AtomicU64>,
) -> Result<(u64, u64), SnapshotError> {
    let fail = |e: mysql_async::Error| {
        SnapshotError::Preload(crate::redact::redact_text(&e.to_string()).into_owned())
    };
    let mut conn = mysql_async::Conn::new(opts).await.map_err(fail)?;
    let mut sql = BatchSql::default();
    let mut batch: Vec<Write> = Vec::with_capacity(batch_rows);
    let (mut written, mut now_us) = (0u64, 0u64);
    let (mut sales, mut returns) = (0u64, 0u64);
    while written < rows {
        batch.clear();
        let want = batch_rows.min((rows - written) as usize);
        while batch.len() < want {
            let Some(w) = gen.try_next_write(now_us) else {
                break;
            };
            now_us += ROW_STEP_US;
            batch.push(w);
        }
        if batch.is_empty() {
            return Err(SnapshotError::Preload(format!(
                "the preload's ticket slice {:?} is used up after {written} rows",
                gen.tickets_used()
            )));
        }
        let stamp = chrono::Utc::now().timestamp_micros();
        conn.query_drop(sql.build(&batch, stamp))
            .await
            .map_err(fail)?;
        gen.committed(&batch, now_us);
        for w in &batch {
            match w {
                Write::InsertReturn(_) => returns += 1,
                _ => sales += 1,
            }
        }
        written += batch.len() as u64;
        done.fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
    let _ = conn.disconnect().await;
    Ok((sales, returns))
}

async fn progress(done: Arc<AtomicU64>, rows: u64, started: Instant) {
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let n = done.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "snapshot: preloaded {n} of {rows} rows ({:.0} rows/s)",
            n as f64 / secs.max(1e-3)
        );
    }
}
