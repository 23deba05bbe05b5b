//! `tpcds-bench audit RUN_DIR`: the end-of-run audit again, later (after a
//! fault, a replay, a repair): each warehouse path the run observed against
//! MySQL over the run's tickets, and the Kafka sink's last images read back
//! from the topics. Prints one line per sink and the differing
//! keys; exit 0 when every row agrees, 1 when any differs.

use crate::audit::{Targets, AUDITED};
use crate::cli::AuditArgs;
use crate::exit::{Classified, Exit};

/// Audits the run's rows now.
pub async fn audit(args: AuditArgs) -> anyhow::Result<Exit> {
    let (summary, tickets) = super::run_tickets(&args.run_dir)?;
    let scenario = match &args.scenario {
        Some(path) => super::load_scenario(path, &[])?,
        None => super::load_scenario_text(super::check::DEFAULT_SCENARIO, "(defaults)")?,
    };
    // The paths the run observed; a run that observed neither is audited at both.
    let mut sinks: Vec<_> = AUDITED
        .into_iter()
        .filter(|s| summary.sinks.contains_key(s))
        .collect();
    if sinks.is_empty() {
        sinks = AUDITED.to_vec();
    }
    let targets = Targets::of(&scenario, summary.started_at);
    let report = crate::audit::audit(&targets, &tickets, &sinks)
        .await
        .map_err(|e| Classified::new(Exit::Unreachable, e))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("run {}: tickets {}", args.run_dir.display(), report.tickets);
        for line in report.lines() {
            println!("{line}");
        }
    }
    Ok(if report.mismatched() == 0 {
        Exit::Ok
    } else {
        Exit::Breach
    })
}
