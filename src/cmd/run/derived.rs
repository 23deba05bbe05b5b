//! Wiring of the derived-data sinks into a run: the probe writer, the view and
//! analytics-topic observers, and the reads-under-load queries (see
//! [`crate::derived`]). Everything connects before the load starts.

use std::ops::Range;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::observers::ObserverTask;
use crate::derived::analytics_topic::MetricsObserver;
use crate::derived::probe::{run_probes, ProbeConfig, ProbeReport};
use crate::derived::reads::{ReadConfig, ReadReport, ReadRunner};
use crate::derived::view::{ViewConfig, ViewObserver};
use crate::derived::{ProbeBoard, PROBE_TICKETS};
use crate::load::WorkerError;
use crate::model::{Observation, Sink};
use crate::observe::ObserveError;
use crate::scenario::Scenario;
use crate::stats::SnapshotSender;
use crate::track::CommitBatch;

/// The probe tickets: the top of the run's range (the workers get the rest).
pub fn probe_tickets(tickets: &Range<u64>) -> Range<u64> {
    tickets.end - PROBE_TICKETS..tickets.end
}

/// Derived observers and query runners, connected.
pub struct Ready {
    board: ProbeBoard,
    /// Probe rate, when a derived sink is observed.
    probes_per_second: Option<f64>,
    views: Vec<ViewObserver>,
    metrics: Option<MetricsObserver>,
    reads: Vec<ReadRunner>,
}

/// Connects what the scenario's derived and query sinks need.
pub async fn start(s: &Scenario) -> Result<Ready, ObserveError> {
    let board = ProbeBoard::new();
    let wants = |sink| s.observe.sinks.contains(&sink);
    let mut views = Vec::new();
    for sink in [Sink::Path1View, Sink::Path2View] {
        if wants(sink) {
            let cfg = ViewConfig {
                url: s.targets.warehouse.expose().to_string(),
                sink,
                relation: s.derived.relation_name(sink),
                poll_interval: s.derived.poll_interval,
            };
            views.push(ViewObserver::start(cfg, board.clone()).await?);
        }
    }
    let metrics = if wants(Sink::Metrics) {
        Some(
            MetricsObserver::start(
                s.targets.kafka.brokers.clone(),
                s.targets.kafka.topic_prefix.clone(),
                board.clone(),
            )
            .await?,
        )
    } else {
        None
    };
    let mut reads = Vec::new();
    for sink in Sink::QUERIES {
        if wants(sink) {
            let cfg = ReadConfig {
                url: s.targets.warehouse.expose().to_string(),
                sink,
                schema: s.derived.reads_schema.clone(),
                per_second: s.derived.reads_per_second,
            };
            reads.push(ReadRunner::start(cfg).await?);
        }
    }
    Ok(Ready {
        board,
        probes_per_second: Sink::DERIVED
            .iter()
            .any(|d| wants(*d))
            .then_some(s.derived.probes_per_second),
        views,
        metrics,
        reads,
    })
}

/// The channels and clocks the derived tasks share with the run.
pub struct Io {
    /// Observations to the tracker.
    pub observations: mpsc::Sender<Vec<Observation>>,
    /// Stops the observers (after the drain).
    pub stop_observers: watch::Receiver<bool>,
    /// Stops the load-phase tasks (probes, queries) on an interrupt.
    pub stop_load: watch::Receiver<bool>,
    /// Commits to the tracker (probes).
    pub commits: mpsc::Sender<CommitBatch>,
    /// Latency snapshots to the collector.
    pub stats: SnapshotSender,
    /// Errors to the run.
    pub errors: mpsc::UnboundedSender<WorkerError>,
    /// The run's start, monotonic and wall-clock µs.
    pub start: Instant,
    /// See `start`.
    pub wall_start_us: i64,
    /// The load phase's length.
    pub duration: Duration,
}

/// The running derived tasks.
pub struct Tasks {
    /// Observers, joined with the others after the drain.
    pub observers: Vec<ObserverTask>,
    probes: Option<JoinHandle<ProbeReport>>,
    reads: Vec<(Sink, JoinHandle<ReadReport>)>,
}

/// What the load-phase tasks did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The probe writer's counts.
    pub probes: ProbeReport,
    /// Per query sink.
    pub reads: Vec<(Sink, ReadReport)>,
}

impl Ready {
    /// Starts everything; `mysql` is the workload's connection options.
    pub fn spawn(self, io: Io, mysql: mysql_async::Opts, tickets: Range<u64>) -> Tasks {
        let mut observers: Vec<ObserverTask> = Vec::new();
        for v in self.views {
            let sink = v.sink();
            let (tx, stop) = (io.observations.clone(), io.stop_observers.clone());
            observers.push((sink, tokio::spawn(v.run(tx, stop))));
        }
        if let Some(m) = self.metrics {
            let (tx, stop) = (io.observations.clone(), io.stop_observers.clone());
            let task = m.run(tx, io.stats.clone(), io.start, stop);
            observers.push((Sink::Metrics, tokio::spawn(task)));
        }
        let probes = self.probes_per_second.map(|per_second| {
            let cfg = ProbeConfig {
                mysql,
                per_second,
                start: io.start,
                duration: io.duration,
                wall_start_us: io.wall_start_us,
                tickets,
            };
            tokio::spawn(run_probes(
                cfg,
                self.board.clone(),
                io.commits.clone(),
                io.errors.clone(),
                io.stop_load.clone(),
            ))
        });
        let reads = self
            .reads
            .into_iter()
            .map(|r| {
                let sink = r.sink();
                let task = r.run(
                    io.start,
                    io.duration,
                    io.stats.clone(),
                    io.errors.clone(),
                    io.stop_load.clone(),
                );
                (sink, tokio::spawn(task))
            })
            .collect();
        Tasks {
            observers,
            probes,
            reads,
        }
    }
}

impl Tasks {
    /// Waits for the load-phase tasks (they end with the load, or on `stop_load`).
    pub async fn join_load(&mut self) -> Report {
        let mut report = Report::default();
        if let Some(p) = self.probes.take() {
            report.probes = p.await.unwrap_or_default();
        }
        for (sink, task) in self.reads.drain(..) {
            report.reads.push((sink, task.await.unwrap_or_default()));
        }
        report
    }
}
