//! The run's tasks started in order: observers (the load waits until each is
//! ready), tracker, statistics, pipeline metrics, faults, then the workers
//! ([`launch`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::observers::ObserverTask;
use super::start::Prepared;
use super::{audit, derived, observers, progress};
use crate::clock::OffsetTracker;
use crate::exit::{Classified, Exit};
use crate::faults::FaultRun;
use crate::load::{run_worker, WorkerConfig, WorkerError, WorkerReport};
use crate::model::Observation;
use crate::pipeline_metrics::MetricsSample;
use crate::stats::{snapshot_channel, RunStats, SnapshotSender};
use crate::tpcds::Generator;
use crate::track::{run_tracker, CommitBatch, Ledger, TrackerIo, TrackerStatus};

/// The pipeline-metrics sampler.
pub struct Metrics {
    pub samples: Arc<Mutex<Vec<MetricsSample>>>,
    pub stop: watch::Sender<bool>,
    /// Its count of failed reads.
    pub task: JoinHandle<u64>,
}

impl Metrics {
    /// Samples the pipeline's metrics from `start` until stopped.
    fn spawn(scenario: &crate::scenario::Scenario, start: Instant) -> Metrics {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(crate::pipeline_metrics::sample(
            crate::pipeline_metrics::MetricsConfig::from_scenario(scenario),
            start,
            stop_rx,
            samples.clone(),
        ));
        Metrics {
            samples,
            stop,
            task,
        }
    }
}

/// A run under way: what the later phases wait for, stop and collect.
pub struct Running {
    pub p: Prepared,
    /// The schedule's zero (shards: the common start).
    pub start: Instant,
    pub wall_start_us: i64,
    pub live: Option<crate::live::Live>,
    /// What the observers learnt of the environment (formats, versions).
    pub observed_env: BTreeMap<String, String>,
    pub observer_tasks: Vec<ObserverTask>,
    pub derived_tasks: derived::Tasks,
    pub mysql_url: String,
    /// MySQL's clock before the load (measured again after the drain).
    pub mysql_clock: Result<OffsetTracker, String>,
    pub tracker: JoinHandle<Ledger>,
    pub collector: JoinHandle<RunStats>,
    pub status: watch::Receiver<TrackerStatus>,
    pub metrics: Metrics,
    pub fault_run: Option<FaultRun>,
    pub stop_load: watch::Sender<bool>,
    pub stop_observers: watch::Sender<bool>,
    pub errors: mpsc::UnboundedReceiver<WorkerError>,
    pub workers: Vec<JoinHandle<WorkerReport>>,
    pub mid_run: audit::MidRun,
}

/// Starts the observers (and waits until each is ready), the tracker, the
/// statistics, the pipeline metrics, the faults and the workers.
pub async fn launch(mut p: Prepared, quiet: bool) -> anyhow::Result<Running> {
    let controller = p.controller.take();
    let scenario = &p.scenario;
    let sinks = scenario.observe.sinks.clone();
    let live = p.endpoint.as_ref().map(|e| e.live.clone());
    let (obs_tx, obs_rx) = mpsc::channel::<Vec<Observation>>(1024);
    let (stop_observers, stop_obs_rx) = watch::channel(false);
    let ready = observers::start(scenario, p.tickets.clone())
        .await
        .map_err(|e| Classified::new(Exit::from_code(e.exit_code()), e))?;
    let observed_env = ready.environment.clone();
    let changes = ready.changes.clone();
    let derived_ready = derived::start(scenario)
        .await
        .map_err(|e| Classified::new(Exit::from_code(e.exit_code()), e))?;
    let mut observer_tasks = ready.spawn(obs_tx.clone(), stop_obs_rx.clone());
    // MySQL's clock, before the load and after the drain (their spread is drift).
    let mysql_url = scenario.targets.mysql.expose().to_string();
    let mysql_clock =
        crate::observe::preflight::mysql::clock(&mysql_url, Duration::from_secs(5)).await;
    // The observers are ready: the CDC jobs start over the preloaded tables,
    // and the load follows at once, while they snapshot.
    if let Some(phase) = p.snapshot.as_mut() {
        phase
            .start_jobs(&p.scenario)
            .await
            .map_err(super::start::snapshot_exit)?;
        refresh_job_settings(&p.scenario, &mut p.preflight).await;
    }

    let (start, wall_start) = p.sharding.wait_for_start().await?;
    let wall_start_us = wall_start.timestamp_micros();
    let (stats_tx, stats_rx) = snapshot_channel(64 * (p.plan.workers as usize + 4));
    let (status_tx, status) = watch::channel(TrackerStatus::default());
    let (commit_tx, commit_rx) = mpsc::channel(4096);
    let mut mid_run = audit::MidRun::new(scenario);
    let tracker = tokio::spawn(run_tracker(
        Ledger::new(&sinks)
            .with_probes(derived::probe_tickets(&p.run_tickets))
            .with_tickets(p.tickets.clone())
            .with_dup_window(scenario.observe.duplicate_window),
        sinks.clone(),
        start,
        TrackerIo {
            commits: commit_rx,
            observations: obs_rx,
            stats: stats_tx.clone(),
            changes,
            status: status_tx,
            sample_rate: scenario.observe.sample_rate,
            cuts: mid_run.cuts.take(),
        },
    ));
    let collector = tokio::spawn(progress::collect(
        stats_rx,
        status.clone(),
        scenario.warmup,
        start,
        sinks,
        quiet,
        live.clone(),
    ));
    let metrics = Metrics::spawn(scenario, start);
    let fault_run = controller.map(|c| FaultRun::start(c, scenario.faults.clone(), start));
    let (stop_load, stop_rx) = watch::channel(false);
    let (error_tx, errors) = mpsc::unbounded_channel::<WorkerError>();
    let mysql_opts = crate::targets::mysql::opts(scenario.targets.mysql.expose())
        .context("the MySQL URL was validated but the driver rejects it")?;
    let io = LoadIo {
        commits: commit_tx,
        stats: stats_tx,
        errors: error_tx,
        stop: stop_rx,
    };
    let workers = spawn_workers(&p, &mid_run, &mysql_opts, start, wall_start_us, &io);
    let mut derived_tasks = derived_ready.spawn(
        derived::Io {
            observations: obs_tx,
            stop_observers: stop_obs_rx,
            stop_load: io.stop.clone(),
            commits: io.commits.clone(),
            stats: io.stats.clone(),
            errors: io.errors.clone(),
            start,
            wall_start_us,
            duration: scenario.duration,
        },
        mysql_opts,
        derived::probe_tickets(&p.run_tickets),
    );
    observer_tasks.append(&mut derived_tasks.observers);
    // The senders live in the tasks now: the tracker ends when they do.
    drop(io);
    // Shards align their seconds on the common start.
    p.started_at = p.sharding.start_at.unwrap_or(p.started_at);
    mid_run.start(&p.scenario, &p.tickets, p.started_at, start);
    Ok(Running {
        p,
        start,
        wall_start_us,
        live,
        observed_env,
        observer_tasks,
        derived_tasks,
        mysql_url,
        mysql_clock,
        tracker,
        collector,
        status,
        metrics,
        fault_run,
        stop_load,
        stop_observers,
        errors,
        workers,
        mid_run,
    })
}

/// The Flink jobs' settings as the fresh jobs of a snapshot run them (they
/// may run at another parallelism or chunk size than the jobs the preflight
/// saw): the `setting.*` facts of the Flink target read again.
async fn refresh_job_settings(
    scenario: &crate::scenario::Scenario,
    preflight: &mut crate::observe::preflight::PreflightReport,
) {
    let jobs: Vec<String> = crate::observe::preflight::DEFAULT_FLINK_JOBS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let now = crate::observe::preflight::check_flink(
        scenario.targets.flink_rest.expose(),
        &jobs,
        Duration::from_secs(5),
    )
    .await;
    for t in preflight.targets.iter_mut().filter(|t| t.kind == "flink") {
        t.facts.retain(|(k, _)| !k.starts_with("setting."));
        t.facts.extend(
            now.facts
                .iter()
                .filter(|(k, _)| k.starts_with("setting."))
                .cloned(),
        );
    }
}

/// What the load's tasks send into (and the load's stop).
struct LoadIo {
    commits: mpsc::Sender<CommitBatch>,
    stats: SnapshotSender,
    errors: mpsc::UnboundedSender<WorkerError>,
    stop: watch::Receiver<bool>,
}

/// One task per worker of this process, each on its own schedule and its
/// own slice of the tickets.
fn spawn_workers(
    p: &Prepared,
    mid_run: &audit::MidRun,
    mysql: &mysql_async::Opts,
    start: Instant,
    wall_start_us: i64,
    io: &LoadIo,
) -> Vec<JoinHandle<WorkerReport>> {
    let gen_cfg = crate::plan::gen_config(&p.scenario, wall_start_us);
    // Stamps of the lines the generator may still mutate (see `load::stamps`).
    let mutates = gen_cfg.update_probability > 0.0 || gen_cfg.delete_probability > 0.0;
    let stamp_memory = if mutates {
        2 * gen_cfg.mutation_pool
    } else {
        0
    };
    let mut workers = Vec::new();
    for w in p.plan.local_workers() {
        let lo = p.run_tickets.start + w as u64 * p.span;
        let gen = Generator::new(
            gen_cfg.clone(),
            p.scenario.seed.wrapping_add(w as u64),
            lo..lo + p.span,
        );
        let cfg = WorkerConfig {
            id: w as usize,
            mysql: mysql.clone(),
            batch_rows: p.plan.batch_rows as usize,
            max_lag: p.plan.max_lag,
            start,
            wall_start_us,
            stamp_memory: (lo, stamp_memory),
            cuts: mid_run.ask.clone(),
        };
        workers.push(tokio::spawn(run_worker(
            cfg,
            p.plan.schedule(w),
            gen,
            io.commits.clone(),
            io.stats.clone(),
            io.errors.clone(),
            io.stop.clone(),
        )));
    }
    workers
}
