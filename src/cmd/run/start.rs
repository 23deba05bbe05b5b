//! The run's start, before any row is written: the scenario read and planned,
//! its targets checked, its fault controls resolved and its tickets reserved
//! ([`prepare`]); `launch` starts the tasks.

use std::ops::Range;

use chrono::{DateTime, Utc};

use super::{budget, derived, live, observers, shard, tickets};
use crate::cli::RunArgs;
use crate::exit::{Classified, Exit};
use crate::faults::{self, control::Controller};
use crate::observe::preflight::PreflightReport;
use crate::plan::Plan;
use crate::scenario::Scenario;

/// A scenario ready to run: planned, its targets checked, its tickets reserved.
pub struct Prepared {
    pub scenario: Scenario,
    pub plan: Plan,
    pub sharding: shard::Sharding,
    /// The live metrics endpoint, bound before any connection.
    pub endpoint: Option<live::Endpoint>,
    pub preflight: PreflightReport,
    /// Projected peak memory of the harness (bytes), see `budget`.
    pub projected_memory: u64,
    pub controller: Option<Controller>,
    /// The whole run's tickets (every shard's), the probes' at the top.
    pub run_tickets: Range<u64>,
    /// Tickets per worker.
    pub span: u64,
    /// This process's tickets.
    pub tickets: Range<u64>,
    pub started_at: DateTime<Utc>,
    /// The snapshot phase (`[snapshot]`): jobs cancelled, rows preloaded.
    pub snapshot: Option<crate::snapshot::Phase>,
}

/// Reads and plans the scenario and checks its targets; nothing is written
/// to them but the ticket reservation.
pub async fn prepare(args: &RunArgs) -> anyhow::Result<Prepared> {
    let mut set = args.set.clone();
    if let Some(addr) = &args.metrics_addr {
        set.push(format!("live.addr={addr}"));
    }
    let scenario = super::super::load_scenario(&args.scenario, &set)?;
    // Before any connection: a scenario that acts on the stack is code.
    faults::consent::check(&scenario, args.allow_faults)
        .map_err(|e| Classified::new(Exit::BadInput, e))?;
    let sharding = shard::Sharding::from_args(args, &scenario)?;
    let plan = Plan::from_scenario(&scenario).with_shard(sharding.shard);
    // Bound before any connection: a taken port fails the run at once.
    let endpoint = live::start(&scenario).await?;

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
    let snapshot = snapshot_phase(&scenario, &args.scenario, &run_tickets).await?;
    let started_at = chrono::Utc::now();
    eprintln!(
        "run {}: {:.0} rows/s target for {} ({} workers, {} rows/txn), sinks {}, tickets {}..{}",
        scenario.name,
        plan.expected_rows(scenario.duration) / scenario.duration.as_secs_f64(),
        humantime::format_duration(scenario.duration),
        plan.workers,
        plan.batch_rows,
        scenario
            .observe
            .sinks
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(","),
        tickets.start,
        tickets.end
    );
    Ok(Prepared {
        scenario,
        plan,
        sharding,
        endpoint,
        preflight,
        projected_memory,
        controller,
        run_tickets,
        span,
        tickets,
        started_at,
        snapshot,
    })
}

/// `[snapshot]`: the stack's controls (native only), a ticket slot of the
/// preload's own, the CDC jobs cancelled and the rows written.
async fn snapshot_phase(
    scenario: &Scenario,
    path: &std::path::Path,
    run_tickets: &Range<u64>,
) -> anyhow::Result<Option<crate::snapshot::Phase>> {
    let Some(spec) = &scenario.snapshot else {
        return Ok(None);
    };
    let unreachable = |e: faults::control::ControlError| Classified::new(Exit::Unreachable, e);
    let ctrl = Controller::resolve(&scenario.control, path.parent()).map_err(unreachable)?;
    if ctrl.kind() != "native" {
        return Err(Classified::new(
            Exit::Unreachable,
            anyhow::anyhow!(
                "[snapshot] needs the native stack's scripts/stack.sh: it cancels and submits the CDC jobs' SQL \
                 (control.mode = \"native\", or set {} to its path)",
                faults::control::STACK_CONTROL_ENV
            ),
        )
        .into());
    }
    let preload_tickets = tickets::reserve_other(scenario, run_tickets).await?;
    let phase = crate::snapshot::Phase::prepare(scenario, spec, ctrl, preload_tickets)
        .await
        .map_err(snapshot_exit)?;
    Ok(Some(phase))
}

/// A stack that cannot be controlled is unreachable; anything else a fault.
pub fn snapshot_exit(e: crate::snapshot::SnapshotError) -> Classified {
    let exit = match &e {
        crate::snapshot::SnapshotError::Control(
            faults::control::ControlError::Uncontrollable { .. },
        ) => Exit::Unreachable,
        _ => Exit::Fault,
    };
    Classified::new(exit, e)
}

/// The stack's controls for the scenario's `[[faults]]`, checked for every
/// target before anything runs; `None` without faults. A stack that cannot be
/// controlled from here is refused with exit code 3.
async fn fault_control(
    scenario: &Scenario,
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
