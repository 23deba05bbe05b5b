//! The load phase: until every worker's schedule ends, or a signal (which
//! stops the load and the faults, for a partial report).

use std::time::Instant;

use anyhow::Context;

use super::launch::Running;
use super::signals::Signals;
use crate::live::Phase;
use crate::load::WorkerReport;

/// How the load ended.
pub struct Loaded {
    pub reports: Vec<WorkerReport>,
    /// Probes written and queries run during the load.
    pub derived: super::derived::Report,
    pub ended: Instant,
    pub interrupted: bool,
}

/// Waits for the workers (or a signal), then for the load-phase tasks of
/// the derived sinks; the mid-run audits end with it.
pub async fn run(r: &mut Running, signals: &mut Signals) -> anyhow::Result<Loaded> {
    let all_workers = futures::future::join_all(std::mem::take(&mut r.workers));
    tokio::pin!(all_workers);
    let mut interrupted = false;
    let worker_results = tokio::select! {
        r = &mut all_workers => r,
        _ = signals.next() => {
            interrupted = true;
            eprintln!("\ninterrupted: stopping the load and writing a partial report");
            let _ = r.stop_load.send(true);
            if let Some(f) = &r.fault_run {
                f.stop();
            }
            all_workers.await
        }
    };
    let derived = r.derived_tasks.join_load().await;
    let ended = Instant::now();
    // The mid-run audits end with the load (one under way overlaps the drain).
    r.mid_run.stop();
    if let Some(l) = &r.live {
        l.set_phase(Phase::Drain);
    }
    let reports = worker_results
        .into_iter()
        .map(|r| r.context("a worker task panicked"))
        .collect::<anyhow::Result<_>>()?;
    Ok(Loaded {
        reports,
        derived,
        ended,
        interrupted,
    })
}
