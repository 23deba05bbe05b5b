//! `tpcds-bench run`, in its phases: [`start`] and [`launch`] (scenario → plan → targets
//! checked → observers ready → workers on their schedules), [`load`] (until
//! the schedules end or a signal), [`drain`] (until every row is seen, then
//! the audit of the sinks' contents and everything the tasks gathered), and
//! [`finish`] (accounting, SLOs, the run directory).

mod audit;
mod budget;
mod caveats;
mod derived;
mod drain;
mod finish;
mod launch;
mod live;
mod load;
mod observers;
mod outcome;
mod progress;
mod shard;
mod signals;
mod start;
mod tickets;

pub use observers::preflight;

use std::time::Duration;

use crate::cli::RunArgs;
use crate::exit::Exit;
use crate::faults;

/// Runs a scenario end to end.
pub async fn run(args: RunArgs) -> anyhow::Result<Exit> {
    execute(args, true).await.map(|(exit, _)| exit)
}

/// Runs a scenario end to end; returns the exit class and the run directory.
/// `print`: the report goes to stdout (a sweep's steps print only their progress).
pub async fn execute(args: RunArgs, print: bool) -> anyhow::Result<(Exit, std::path::PathBuf)> {
    let prepared = start::prepare(&args).await?;
    let mut run = launch::launch(prepared, args.quiet).await?;
    let mut signals = signals::Signals::new()?;
    let mut loaded = load::run(&mut run, &mut signals).await?;
    let drain = drain::wait(&mut run, &mut loaded, &mut signals).await;
    let collected = drain::collect(&mut run, loaded.interrupted).await?;
    let load_time = loaded.ended.saturating_duration_since(run.start);
    let snapshot = match run.p.snapshot.take() {
        Some(phase) => Some(
            phase
                .measure(crate::snapshot::Measure {
                    scenario: &run.p.scenario,
                    started_at: run.p.started_at,
                    wall_start_us: run.wall_start_us,
                    stats: &collected.stats,
                    load_s: load_time.as_secs() as u32,
                    wait: if loaded.interrupted {
                        Duration::ZERO
                    } else {
                        run.p.scenario.drain_timeout
                    },
                })
                .await,
        ),
        None => None,
    };
    let p = &run.p;
    let outcome = outcome::Outcome {
        scenario: &p.scenario,
        plan: &p.plan,
        started_at: p.started_at,
        wall_start_us: run.wall_start_us,
        tickets: p.tickets.clone(),
        workers: loaded.reports,
        ledger: collected.ledger,
        stats: collected.stats,
        observers: collected.observers,
        observed_env: run.observed_env.clone(),
        preflight: p.preflight.clone(),
        errors: collected.errors,
        interrupted: loaded.interrupted,
        drained: drain.drained,
        drain_took: drain.took,
        load_time,
        fault_events: collected.fault_events,
        metrics: collected.metrics,
        metric_errors: collected.metric_errors,
        derived: loaded.derived,
        clock_offsets: collected.clock_offsets,
        shards: p.sharding.info(&p.scenario, &p.tickets),
        memory: (p.projected_memory, budget::limit(&p.scenario)),
        audit: collected.audit,
        snapshot,
    };
    let exit = finish::write(outcome, &args.out, print);
    if let Some(e) = run.p.endpoint.take() {
        e.finish().await;
    }
    if let Some(mut f) = run.fault_run.take() {
        // Interrupted: the report is written; now make sure the stack is whole.
        if !f.wait(Duration::from_millis(10)).await {
            eprintln!("waiting for the faults' targets to come back before exiting");
            f.wait(faults::RESTORE_GRACE).await;
        }
    }
    exit
}
