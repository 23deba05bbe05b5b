//! `tpcds-bench run`: scenario → plan → observers ready → workers on their
//! schedules → drain → audit of the sinks' contents → accounting and SLOs →
//! run directory.

mod audit;
mod budget;
mod caveats;
mod derived;
mod finish;
mod live;
mod observers;
mod outcome;
mod progress;
mod shard;
mod signals;
mod tickets;

pub use observers::preflight;

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{mpsc, watch};

use crate::cli::RunArgs;
use crate::exit::{Classified, Exit};
use crate::faults::{self, control::Controller, FaultRun};
use crate::live::Phase;
use crate::load::{run_worker, WorkerConfig, WorkerError, WorkerReport};
use crate::model::Observation;
use crate::plan::Plan;
use crate::stats::snapshot_channel;
use crate::tpcds::Generator;
use crate::track::{run_tracker, Ledger, TrackerIo, TrackerStatus};

/// How long observers keep reading after an interrupt, so the partial report
/// still counts what was in flight (kept short: the report is due within 5 s).
const INTERRUPT_DRAIN: Duration = Duration::from_secs(1);

/// Runs a scenario end to end.
pub async fn run(args: RunArgs) -> anyhow::Result<Exit> {
    execute(args, true).await.map(|(exit, _)| exit)
}

/// Runs a scenario end to end; returns the exit class and the run directory.
/// `print`: the report goes to stdout (a sweep's steps print only their progress).
pub async fn execute(args: RunArgs, print: bool) -> anyhow::Result<(Exit, std::path::PathBuf)> {
    let mut set = args.set.clone();
    if let Some(addr) = &args.metrics_addr {
        set.push(format!("live.addr={addr}"));
    }
    let scenario = super::load_scenario(&args.scenario, &set)?;
    // Before any connection: a scenario that acts on the stack is code.
    faults::consent::check(&scenario, args.allow_faults)
        .map_err(|e| Classified::new(Exit::BadInput, e))?;
    let sharding = shard::Sharding::from_args(&args, &scenario)?;
    let plan = Plan::from_scenario(&scenario).with_shard(sharding.shard);
    let sinks = scenario.observe.sinks.clone();
    // Bound before any connection: a taken port fails the run at once.
    let endpoint = live::start(&scenario).await?;
    let live = endpoint.as_ref().map(|e| e.live.clone());

    let preflight = observers::preflight(&scenario, true).await;
    if !preflight.ok() {
        for d in preflight.problems() {
            eprintln!("{d}");
        }
        return Err(Classified::new(
            Exit::Unreachable,
            anyhow::anyhow!(
                "the targets are not ready (see above; `tpcds-bench check` tells more)"
            ),
        )
        .into());
    }
    for d in preflight.warnings() {
        eprintln!("warning: {d}");
    }
    let projected_memory = budget::project(&scenario, &plan);
    if let Some(w) = budget::warning(projected_memory, budget::limit(&scenario)) {
        eprintln!("{w}");
    }
    let controller = fault_control(&scenario, &args.scenario).await?;
    // The run's tickets; a shard writes and tracks only its own workers' slice.
    let run_tickets = match sharding.group_tickets(&scenario) {
        Some(r) => r,
        None => tickets::reserve(&scenario).await?,
    };
    // The top of the range is the probes' (see `derived::probe_tickets`).
    let span =
        (derived::probe_tickets(&run_tickets).start - run_tickets.start) / plan.workers as u64;
    let tickets = if sharding.shard.is_split() {
        let local = sharding.local_tickets(&run_tickets, span, plan.workers);
        tickets::claim(&scenario, &local).await?;
        eprintln!(
            "shard {}: workers {:?} of {}",
            sharding.shard,
            plan.local_workers(),
            plan.workers
        );
        local
    } else {
        run_tickets.clone()
    };
    let started_at = chrono::Utc::now();
    eprintln!(
        "run {}: {:.0} rows/s target for {} ({} workers, {} rows/txn), sinks {}, tickets {}..{}",
        scenario.name,
        plan.expected_rows(scenario.duration) / scenario.duration.as_secs_f64(),
        humantime::format_duration(scenario.duration),
        plan.workers,
        plan.batch_rows,
        sinks.iter().map(|s| s.name()).collect::<Vec<_>>().join(","),
        tickets.start,
        tickets.end
    );

    // Observers first: the load starts only when every one of them is ready.
    let (obs_tx, obs_rx) = mpsc::channel::<Vec<Observation>>(1024);
    let (stop_obs_tx, stop_obs_rx) = watch::channel(false);
    let ready = observers::start(&scenario, tickets.clone())
        .await
        .map_err(|e| Classified::new(Exit::from_code(e.exit_code()), e))?;
    let observed_env = ready.environment.clone();
    let changes = ready.changes.clone();
    let derived_ready = derived::start(&scenario)
        .await
        .map_err(|e| Classified::new(Exit::from_code(e.exit_code()), e))?;
    let mut observer_tasks = ready.spawn(obs_tx.clone(), stop_obs_rx.clone());
    // MySQL's clock, before the load and after the drain (their spread is drift).
    let mysql_url = scenario.targets.mysql.expose().to_string();
    let mysql_clock =
        crate::observe::preflight::mysql::clock(&mysql_url, Duration::from_secs(5)).await;

    let (start, wall_start) = sharding.wait_for_start().await?;
    let wall_start_us = wall_start.timestamp_micros();
    // Shards align their seconds on the common start.
    let started_at = sharding.start_at.unwrap_or(started_at);
    let (stats_tx, stats_rx) = snapshot_channel(64 * (plan.workers as usize + 4));
    let (status_tx, status_rx) = watch::channel(TrackerStatus::default());
    let (commit_tx, commit_rx) = mpsc::channel(4096);
    let mut mid_run = audit::MidRun::new(&scenario);
    let tracker = tokio::spawn(run_tracker(
        Ledger::new(&sinks)
            .with_probes(derived::probe_tickets(&run_tickets))
            .with_tickets(tickets.clone())
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
        status_rx.clone(),
        scenario.warmup,
        start,
        sinks.clone(),
        args.quiet,
        live.clone(),
    ));

    let metrics_samples = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (metrics_stop, metrics_stop_rx) = watch::channel(false);
    let metrics_task = tokio::spawn(crate::pipeline_metrics::sample(
        crate::pipeline_metrics::MetricsConfig::from_scenario(&scenario),
        start,
        metrics_stop_rx,
        metrics_samples.clone(),
    ));
    let mut fault_run = controller.map(|c| FaultRun::start(c, scenario.faults.clone(), start));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (error_tx, mut error_rx) = mpsc::unbounded_channel::<WorkerError>();
    let mysql_opts = crate::targets::mysql::opts(scenario.targets.mysql.expose())
        .context("the MySQL URL was validated but the driver rejects it")?;
    let gen_cfg = crate::plan::gen_config(&scenario, wall_start_us);
    // Stamps of the lines the generator may still mutate (see `load::stamps`).
    let mutates = gen_cfg.update_probability > 0.0 || gen_cfg.delete_probability > 0.0;
    let stamp_memory = if mutates {
        2 * gen_cfg.mutation_pool
    } else {
        0
    };
    let mut workers = Vec::new();
    for w in plan.local_workers() {
        let lo = run_tickets.start + w as u64 * span;
        let gen = Generator::new(
            gen_cfg.clone(),
            scenario.seed.wrapping_add(w as u64),
            lo..lo + span,
        );
        let cfg = WorkerConfig {
            id: w as usize,
            mysql: mysql_opts.clone(),
            batch_rows: plan.batch_rows as usize,
            max_lag: plan.max_lag,
            start,
            wall_start_us,
            stamp_memory: (lo, stamp_memory),
            cuts: mid_run.ask.clone(),
        };
        workers.push(tokio::spawn(run_worker(
            cfg,
            plan.schedule(w),
            gen,
            commit_tx.clone(),
            stats_tx.clone(),
            error_tx.clone(),
            stop_rx.clone(),
        )));
    }
    let mut derived_tasks = derived_ready.spawn(
        derived::Io {
            observations: obs_tx,
            stop_observers: stop_obs_rx,
            stop_load: stop_rx.clone(),
            commits: commit_tx.clone(),
            stats: stats_tx.clone(),
            errors: error_tx.clone(),
            start,
            wall_start_us,
            duration: scenario.duration,
        },
        mysql_opts.clone(),
        derived::probe_tickets(&run_tickets),
    );
    observer_tasks.append(&mut derived_tasks.observers);
    drop((commit_tx, stats_tx, error_tx));
    mid_run.start(&scenario, &tickets, started_at, start);

    // Load phase: until every worker's schedule ends, or a signal.
    let mut signals = signals::Signals::new()?;
    let all_workers = futures::future::join_all(workers);
    tokio::pin!(all_workers);
    let mut interrupted = false;
    let worker_results = tokio::select! {
        r = &mut all_workers => r,
        _ = signals.next() => {
            interrupted = true;
            eprintln!("\ninterrupted: stopping the load and writing a partial report");
            let _ = stop_tx.send(true);
            if let Some(f) = &fault_run {
                f.stop();
            }
            all_workers.await
        }
    };
    let derived_report = derived_tasks.join_load().await;
    let load_ended = Instant::now();
    // The mid-run audits end with the load (one under way overlaps the drain).
    mid_run.stop();
    if let Some(l) = &live {
        l.set_phase(Phase::Drain);
    }
    let reports: Vec<WorkerReport> = worker_results
        .into_iter()
        .map(|r| r.context("a worker task panicked"))
        .collect::<anyhow::Result<_>>()?;

    // Drain: observers keep reading until every row is seen or the timeout.
    let drain_limit = if interrupted {
        INTERRUPT_DRAIN
    } else {
        scenario.drain_timeout
    };
    let mut status = status_rx.clone();
    // The drain timeout counts from the end of the last fault (its target
    // back), so a fault that outlasts the load is not reported as loss.
    let fault_wait = if interrupted {
        INTERRUPT_DRAIN
    } else {
        faults::RESTORE_GRACE
    };
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
        _ = signals.next(), if !interrupted => { interrupted = true; false }
    };
    if interrupted {
        if let Some(f) = &fault_run {
            f.stop();
        }
    } else if let Some(f) = fault_run.as_mut() {
        // Every row may be seen before the last target is back: wait for it,
        // so its window has an end and the stack is whole when the run ends.
        if !f.wait(faults::RESTORE_GRACE).await {
            eprintln!(
                "a fault's target is still not back after {} s",
                faults::RESTORE_GRACE.as_secs()
            );
        }
    }
    let drain_took = load_ended.elapsed();
    if let Some(l) = &live {
        l.set_phase(Phase::Done);
    }
    let _ = stop_obs_tx.send(true);
    let observer_results = observers::join(observer_tasks).await;
    let mut clock_offsets = observers::clock_offsets(&observer_results);
    match mysql_clock {
        Ok(mut t) => {
            if let Ok(end) =
                crate::observe::preflight::mysql::clock(&mysql_url, Duration::from_secs(5)).await
            {
                t.absorb(&end);
            }
            clock_offsets.extend(t.summary().map(|o| ("mysql".to_string(), o)));
        }
        Err(e) => eprintln!("MySQL's clock offset is unknown: {e}"),
    }
    let mut ledger = tracker.await.context("the tracker task panicked")?;
    let mut errors = Vec::new();
    if let Err(e) = observers::confirm_absent_deletes(&scenario, &mut ledger).await {
        errors.push(format!("end-of-run delete check failed: {e}"));
    }
    ledger.close_window();
    let stats = collector.await.context("the stats collector panicked")?;
    let series = mid_run.finish().await;
    let audit = audit::after_drain(&scenario, &tickets, started_at, interrupted, series).await;
    while let Ok(e) = error_rx.try_recv() {
        errors.push(e.message);
    }

    let fault_events = fault_run.as_ref().map(FaultRun::events).unwrap_or_default();
    let _ = metrics_stop.send(true);
    let metric_errors = tokio::time::timeout(Duration::from_secs(1), metrics_task)
        .await
        .ok()
        .and_then(Result::ok);
    let metrics = metrics_samples
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    let shards = sharding.info(&scenario, &tickets);
    let outcome = outcome::Outcome {
        scenario: &scenario,
        plan: &plan,
        started_at,
        wall_start_us,
        tickets,
        workers: reports,
        ledger,
        stats,
        observers: observer_results,
        observed_env,
        preflight,
        errors,
        interrupted,
        drained,
        drain_took,
        load_time: load_ended.saturating_duration_since(start),
        fault_events,
        metrics,
        metric_errors,
        derived: derived_report,
        clock_offsets,
        shards,
        memory: (projected_memory, budget::limit(&scenario)),
        audit,
    };
    let exit = finish::write(outcome, &args.out, print);
    if let Some(e) = endpoint {
        e.finish().await;
    }
    if let Some(mut f) = fault_run {
        // Interrupted: the report is written; now make sure the stack is whole.
        if !f.wait(Duration::from_millis(10)).await {
            eprintln!("waiting for the faults' targets to come back before exiting");
            f.wait(faults::RESTORE_GRACE).await;
        }
    }
    exit
}

/// The stack's controls for the scenario's `[[faults]]`, checked for every
/// target before anything runs; `None` without faults. A stack that cannot be
/// controlled from here is refused with exit code 3.
async fn fault_control(
    scenario: &crate::scenario::Scenario,
    path: &std::path::Path,
) -> anyhow::Result<Option<Controller>> {
    if scenario.faults.is_empty() {
        return Ok(None);
    }
    let unreachable = |e: faults::control::ControlError| Classified::new(Exit::Unreachable, e);
    let ctrl = Controller::resolve(&scenario.control, path.parent()).map_err(unreachable)?;
    let mut checked = Vec::new();
    for f in &scenario.faults {
        if !checked.contains(&f.target) {
            ctrl.check(f.target).await.map_err(unreachable)?;
            checked.push(f.target);
        }
    }
    eprintln!(
        "faults: {} through the {} stack controls ({})",
        scenario.faults.len(),
        ctrl.kind(),
        scenario
            .faults
            .iter()
            .map(|f| format!(
                "{} {} at {}",
                f.target.name(),
                f.action.name(),
                humantime::format_duration(f.at)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Some(ctrl))
}
