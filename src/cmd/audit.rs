//! `tpcds-bench audit RUN_DIR`: the end-of-run audit again, later (after a
//! fault, a replay, a repair): each warehouse path the run observed against
//! MySQL over the run's tickets, and the Kafka sink's last images read back
//! from the topics. Prints one line per sink and the differing
//! keys; exit 0 when every row agrees, 1 when any differs.

use crate::audit::{Targets, AUDITED};
use crate::cli::AuditArgs;
use crate::exit::{Classified, Exit};
use crate::model::Sink;

/// Audits the run's rows now.
pub async fn audit(args: AuditArgs) -> anyhow::Result<Exit> {
    let only = (!args.sinks.is_empty())
        .then(|| chosen(&args.sinks))
        .transpose()?;
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
    if let Some(only) = only {
        sinks = only;
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

/// The sinks `--sinks` names; an unknown or unaudited name is bad input.
fn chosen(names: &[String]) -> anyhow::Result<Vec<Sink>> {
    let valid: Vec<&str> = AUDITED.iter().map(|s| s.name()).collect();
    names
        .iter()
        .map(|n| {
            AUDITED
                .into_iter()
                .find(|s| s.name() == n.trim())
                .ok_or_else(|| {
                    Classified::new(
                        Exit::BadInput,
                        anyhow::anyhow!(
                            "--sinks {n:?}: not an audited sink; valid: {}",
                            valid.join(", ")
                        ),
                    )
                    .into()
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_are_chosen_by_name_and_others_refused() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            chosen(&names(&["path1", " kafka"])).unwrap(),
            vec![Sink::Path1, Sink::Kafka]
        );
        let e = chosen(&names(&["binlog"])).unwrap_err();
        assert!(e.to_string().contains("valid: kafka, path1, path2"), "{e}");
        assert_eq!(crate::exit::classify(&e), Exit::BadInput);
    }
}
