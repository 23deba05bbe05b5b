//! `tpcds-bench check`: reach every target, print what was found and a
//! diagnosis with a fix for every problem, and warnings (what works but costs
//! accuracy, with its fix) that fail nothing. The first thing to run when a run fails.

use crate::cli::CheckArgs;
use crate::exit::Exit;
use crate::scenario::Scenario;

/// Checks the targets of a scenario (or the defaults and environment).
pub async fn check(args: CheckArgs) -> anyhow::Result<Exit> {
    let scenario: Scenario = match &args.scenario {
        Some(path) => super::load_scenario(path, &[])?,
        None => super::load_scenario_text(DEFAULT_SCENARIO, "(defaults)")?,
    };
    // The format the running jobs use is reported (setting.kafka.format)
    // either way; only a scenario that names one is held to it.
    let report = super::run::preflight(&scenario, args.scenario.is_some()).await;
    for t in &report.targets {
        let mark = if t.ok() { "ok  " } else { "FAIL" };
        println!("{mark} {:<9} {}", t.kind, t.target);
        for (k, v) in &t.facts {
            println!("       {k}: {v}");
        }
        for d in &t.problems {
            println!("     problem: {}", d.problem);
            println!("         fix: {}", d.what_to_do);
        }
        for d in &t.warnings {
            println!("     warning: {}", d.problem);
            println!("         fix: {}", d.what_to_do);
        }
    }
    let warnings = report.warnings().len();
    Ok(if report.ok() {
        match warnings {
            0 => println!("all targets ready"),
            n => println!("all targets ready, {n} warning(s)"),
        }
        Exit::Ok
    } else {
        println!(
            "{} problem(s), {warnings} warning(s) found",
            report.problems().len()
        );
        Exit::Unreachable
    })
}

/// A scenario that only names the defaults (the environment still overrides them).
pub(crate) const DEFAULT_SCENARIO: &str = "duration = \"1s\"\n[load]\nrate = { kind = \"constant\", per_second = 1 }\n[observe]\nsinks = [\"kafka\", \"path1\", \"path2\"]\n";
