//! The end-of-run audit: after the drain, each warehouse path and Kafka against MySQL
//! over the run's tickets (see [`crate::audit`]); and the audits during the
//! run (`[audit] every`, see [`crate::audit::periodic`]).

use std::ops::Range;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::audit::{periodic, AuditReport, Series, Targets, AUDITED};
use crate::model::Sink;
use crate::scenario::Scenario;
use crate::track::CutRequest;

/// The audited sinks the run observes (`None`: the audit is off).
fn audited(scenario: &Scenario) -> Option<Vec<Sink>> {
    let sinks: Vec<_> = AUDITED
        .into_iter()
        .filter(|s| scenario.observe.sinks.contains(s))
        .collect();
    (scenario.audit.enabled && !sinks.is_empty()).then_some(sinks)
}

/// The mid-run audits' plumbing: the tracker's end of the cut requests,
/// the workers' "send your closed tickets" counter, and the audit task.
#[derive(Default)]
pub struct MidRun {
    /// For [`crate::track::TrackerIo::cuts`].
    pub cuts: Option<mpsc::Receiver<CutRequest>>,
    /// For [`crate::load::WorkerConfig::cuts`].
    pub ask: Option<Arc<AtomicU64>>,
    requests: Option<mpsc::Sender<CutRequest>>,
    task: Option<(tokio::task::JoinHandle<Series>, watch::Sender<bool>)>,
}

impl MidRun {
    /// Channels when the scenario asks for mid-run audits.
    pub fn new(scenario: &Scenario) -> MidRun {
        if scenario.audit.every.is_none() || audited(scenario).is_none() {
            return MidRun::default();
        }
        let (tx, rx) = mpsc::channel(1);
        MidRun {
            cuts: Some(rx),
            ask: Some(Arc::new(AtomicU64::new(0))),
            requests: Some(tx),
            task: None,
        }
    }

    /// Starts the audits, on the load's clock `start`.
    pub fn start(
        &mut self,
        scenario: &Scenario,
        tickets: &Range<u64>,
        started_at: chrono::DateTime<chrono::Utc>,
        start: Instant,
    ) {
        let (Some(cuts), Some(ask), Some(every), Some(sinks)) = (
            self.requests.take(),
            self.ask.clone(),
            scenario.audit.every,
            audited(scenario),
        ) else {
            return;
        };
        let (stop_tx, stop) = watch::channel(false);
        let p = periodic::Periodic {
            targets: Targets::of(scenario, started_at),
            sinks,
            tickets: tickets.clone(),
            every,
            cuts,
            ask,
            start,
        };
        self.task = Some((tokio::spawn(periodic::run(p, stop)), stop_tx));
    }

    /// Stops at the end of the load; returns the series once the audit
    /// under way (if any) is done.
    pub async fn finish(&mut self) -> Option<Series> {
        let (task, stop) = self.task.take()?;
        let _ = stop.send(true);
        task.await.ok()
    }

    /// Asks the audits to stop (the load ended); [`MidRun::finish`] collects them.
    pub fn stop(&self) {
        if let Some((_, stop)) = &self.task {
            let _ = stop.send(true);
        }
    }
}

/// A difference found right after the drain may be a change still on its
/// way (the drain ends when every version was seen, but a delete may still be
/// in flight): look again this often, this many times, before reporting it.
/// A real difference persists, so this only costs time when there is one.
const SETTLE: Duration = Duration::from_secs(2);
const SETTLE_TRIES: u32 = 2;

/// What the observers counted for the audit as the run went by.
#[derive(Debug, Default)]
pub struct Tallies {
    /// The Kafka observer's tally of the changelog's last images.
    pub kafka: Option<crate::observe::kafka::tally::Tally>,
    /// The binlog observer's tally of MySQL's rows.
    pub binlog: Option<crate::observe::binlog::tally::Tally>,
}

/// Audits the observed sinks (Kafka and the warehouse paths), with the
/// mid-run audits' `series` and the observers' `tallies`; `None`
/// when `[audit] enabled = false` or no audited sink was observed, and on an
/// interrupted run without mid-run audits.
pub async fn after_drain(
    scenario: &Scenario,
    tickets: &Range<u64>,
    started_at: chrono::DateTime<chrono::Utc>,
    interrupted: bool,
    series: Option<Series>,
    tallies: Tallies,
) -> Option<AuditReport> {
    let sinks = audited(scenario)?;
    let with_series = |mut r: AuditReport| {
        if let Some(s) = &series {
            r.periodic = s.audits.clone();
            r.periodic_skipped = s.skipped;
        }
        r
    };
    if interrupted {
        let r = with_series(AuditReport {
            tickets: format!("{}..{}", tickets.start, tickets.end),
            ..AuditReport::default()
        });
        return (!r.periodic.is_empty()).then_some(r);
    }
    let targets = Targets {
        kafka_tally: tallies.kafka,
        binlog_tally: tallies.binlog,
        ..Targets::of(scenario, started_at)
    };
    let once = || async {
        crate::audit::audit(&targets, tickets, &sinks)
            .await
            .unwrap_or_else(|e| crate::audit::failed(tickets, &sinks, &e))
    };
    let mut report = once().await;
    for _ in 0..SETTLE_TRIES {
        if report.mismatched() == 0 {
            break;
        }
        eprintln!(
            "audit: {} rows differ from MySQL; looking again in {} s (a change may still be in flight)",
            report.mismatched(),
            SETTLE.as_secs()
        );
        tokio::time::sleep(SETTLE).await;
        report = once().await;
    }
    Some(with_series(report))
}
