//! The drain: observers read on until every row is seen, the drain timeout
//! or a signal, and the faults' targets are back ([`wait`]); then what the
//! run's tasks hold is collected: observers, clocks, ledger, statistics,
//! audits, errors and pipeline metrics ([`collect`]).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;

use super::launch::Running;
use super::load::Loaded;
use super::signals::Signals;
use super::{audit, observers};
use crate::faults::{self, FaultEvent, FaultRun};
use crate::live::Phase;
use crate::model::Sink;
use crate::observe::ObserverStats;
use crate::pipeline_metrics::MetricsSample;
use crate::stats::RunStats;
use crate::track::Ledger;

/// How long observers keep reading after an interrupt, so the partial report
/// still counts what was in flight (kept short: the report is due within 5 s).
const INTERRUPT_DRAIN: Duration = Duration::from_secs(1);

/// How the drain ended.
pub struct Drain {
    /// Every row was seen (or only deletes' absences were unconfirmed).
    pub drained: bool,
    /// From the end of the load to the end of the drain.
    pub took: Duration,
}

/// Waits until the tracker has every row seen, the drain timeout (counted
/// from the end of the last fault) or a signal (`loaded.interrupted` is set).
pub async fn wait(r: &mut Running, loaded: &mut Loaded, signals: &mut Signals) -> Drain {
    let interrupted = loaded.interrupted;
    let drain_limit = if interrupted {
        INTERRUPT_DRAIN
    } else {
        r.p.scenario.drain_timeout
    };
    let mut status = r.status.clone();
    // The drain timeout counts from the end of the last fault (its target
    // back), so a fault that outlasts the load is not reported as loss.
    let fault_wait = if interrupted {
        INTERRUPT_DRAIN
    } else {
        faults::RESTORE_GRACE
    };
    let fault_run = &mut r.fault_run;
    let deadline = async {
        if let Some(f) = fault_run.as_mut() {
            f.wait(fault_wait).await;
        }
        tokio::time::sleep(drain_limit).await;
    };
    let drained = tokio::select! {
        // `commits_done` first: a status published before the last commit
        // batches were registered says "all seen" of fewer rows (a capacity
        // run lost its last rows at the binlog sink that way).
        r = status.wait_for(|s| s.commits_done && (s.all_seen || s.only_deletes_missing)) => r.is_ok(),
        _ = deadline => false,
        _ = signals.next(), if !interrupted => { loaded.interrupted = true; false }
    };
    if loaded.interrupted {
        if let Some(f) = &r.fault_run {
            f.stop();
        }
    } else if let Some(f) = r.fault_run.as_mut() {
        // Every row may be seen before the last target is back: wait for it,
        // so its window has an end and the stack is whole when the run ends.
        if !f.wait(faults::RESTORE_GRACE).await {
            eprintln!(
                "a fault's target is still not back after {} s",
                faults::RESTORE_GRACE.as_secs()
            );
        }
    }
    let took = loaded.ended.elapsed();
    if let Some(l) = &r.live {
        l.set_phase(Phase::Done);
    }
    Drain { drained, took }
}

/// What the run's tasks gathered, collected after the drain.
pub struct Collected {
    pub observers: Vec<(Sink, Result<ObserverStats, String>)>,
    pub clock_offsets: BTreeMap<String, crate::clock::ClockOffset>,
    pub ledger: Ledger,
    pub stats: RunStats,
    pub audit: Option<crate::audit::AuditReport>,
    /// Errors met besides the injected faults (see `Outcome::errors`).
    pub errors: Vec<String>,
    pub fault_events: Vec<FaultEvent>,
    pub metrics: Vec<MetricsSample>,
    pub metric_errors: Option<u64>,
}

/// Stops the observers and collects every task's result; the end-of-run
/// audit runs here.
pub async fn collect(r: &mut Running, interrupted: bool) -> anyhow::Result<Collected> {
    let _ = r.stop_observers.send(true);
    let mut observers = observers::join(std::mem::take(&mut r.observer_tasks)).await;
    // The observers' tallies are the audit's, not the report's (each is
    // kept by its own observer only).
    let mut tallies = audit::Tallies::default();
    for o in observers.iter_mut().filter_map(|(_, o)| o.as_mut().ok()) {
        tallies.kafka = tallies.kafka.take().or(o.kafka_tally.take());
        tallies.binlog = tallies.binlog.take().or(o.binlog_tally.take());
    }
    let mut clock_offsets = observers::clock_offsets(&observers);
    match &mut r.mysql_clock {
        Ok(t) => {
            let end = crate::observe::preflight::mysql::clock(&r.mysql_url, Duration::from_secs(5));
            if let Ok(end) = end.await {
                t.absorb(&end);
            }
            clock_offsets.extend(t.summary().map(|o| ("mysql".to_string(), o)));
        }
        Err(e) => eprintln!("MySQL's clock offset is unknown: {e}"),
    }
    let mut ledger = (&mut r.tracker)
        .await
        .context("the tracker task panicked")?;
    let mut errors = Vec::new();
    if let Err(e) = observers::confirm_absent_deletes(&r.p.scenario, &mut ledger).await {
        errors.push(format!("end-of-run delete check failed: {e}"));
    }
    ledger.close_window();
    let stats = (&mut r.collector)
        .await
        .context("the stats collector panicked")?;
    let series = r.mid_run.finish().await;
    let p = &r.p;
    let audit = audit::after_drain(
        &p.scenario,
        &p.tickets,
        p.started_at,
        interrupted,
        series,
        tallies,
    )
    .await;
    while let Ok(e) = r.errors.try_recv() {
        errors.push(e.message);
    }
    let fault_events = r
        .fault_run
        .as_ref()
        .map(FaultRun::events)
        .unwrap_or_default();
    let _ = r.metrics.stop.send(true);
    let metric_errors = tokio::time::timeout(Duration::from_secs(1), &mut r.metrics.task)
        .await
        .ok()
        .and_then(Result::ok);
    let metrics = r
        .metrics
        .samples
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    Ok(Collected {
        observers,
        clock_offsets,
        ledger,
        stats,
        audit,
        errors,
        fault_events,
        metrics,
        metric_errors,
    })
}
