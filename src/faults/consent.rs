//! Scenarios that act: `[[faults]]` stop, kill and restart services, and
//! `[control] script` names a program the harness runs with the user's
//! rights. Such a scenario is code, not data, so `run` carries it out only
//! when asked to with `--allow-faults`; otherwise it is refused before any
//! connection opens, listing what the file would do.

use crate::scenario::{ControlMode, FaultAction, Scenario};

/// The scenario acts on the stack and `--allow-faults` was not given.
#[derive(Debug, thiserror::Error)]
#[error(
    "{origin} acts on the stack:\n{}\n  a scenario with faults or a control script is trusted code: \
     read it, then run it with --allow-faults",
    list(.actions)
)]
pub struct NotAllowed {
    /// The scenario file (or origin label).
    pub origin: String,
    /// What it would do, one line each.
    pub actions: Vec<String>,
}

fn list(actions: &[String]) -> String {
    actions
        .iter()
        .map(|a| format!("  - {a}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the scenario would do to the stack, one line each; empty when it
/// neither has faults nor names a control script.
pub fn actions(s: &Scenario) -> Vec<String> {
    let fmt = |d| humantime::format_duration(d).to_string();
    let mut out: Vec<String> = s
        .faults
        .iter()
        .map(|f| {
            let target = f.target.name();
            let what = match f.action {
                FaultAction::Restart => format!("stop {target} (graceful)"),
                FaultAction::Kill => format!("kill {target} (SIGKILL)"),
                FaultAction::Pause => format!("stop the Flink job {target} with a savepoint"),
            };
            format!(
                "at {}: {what}, start it again after {}",
                fmt(f.at),
                fmt(f.duration)
            )
        })
        .collect();
    if let Some(snap) = &s.snapshot {
        out.push(format!(
            "before the load: cancel the Flink CDC jobs {} (no savepoint), write {} rows into MySQL, \
             and submit the jobs anew (they read every table from the start)",
            super::control::CDC_JOBS.join(" and "),
            snap.rows
        ));
    }
    if let Some(script) = &s.control.script {
        out.push(format!(
            "run the program `{script}` ([control] script) to stop, kill and start services"
        ));
    } else if !s.faults.is_empty() {
        let compose = format!(
            "`docker compose -f {} stop|kill|start`",
            s.control.compose_file
        );
        out.push(match s.control.mode {
            ControlMode::Compose => format!("all through {compose}"),
            _ => format!("all through scripts/stack.sh (or {compose} when it is not there)"),
        });
    }
    out
}

/// `Ok` when the scenario does not act on the stack, or `allowed`.
pub fn check(s: &Scenario, allowed: bool) -> Result<(), NotAllowed> {
    let actions = actions(s);
    if allowed || actions.is_empty() {
        return Ok(());
    }
    Err(NotAllowed {
        origin: s.source.origin.clone(),
        actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Scenario {
        crate::scenario::parse_with_env(text, "x.toml", &|_| None).unwrap()
    }

    const BASE: &str =
        "duration = \"60s\"\n[load]\nrate = { kind = \"constant\", per_second = 10 }\n";

    #[test]
    fn a_plain_scenario_needs_no_permission() {
        assert!(check(&parse(BASE), false).is_ok());
    }

    #[test]
    fn faults_and_scripts_are_listed_and_refused_without_permission() {
        let s = parse(&format!(
            "{BASE}[[faults]]\nat = \"8s\"\naction = \"kill\"\ntarget = \"flink-taskmanager\"\nduration = \"3s\"\n"
        ));
        let e = check(&s, false).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("x.toml acts on the stack"), "{text}");
        assert!(
            text.contains("at 8s: kill flink-taskmanager (SIGKILL), start it again after 3s"),
            "{text}"
        );
        assert!(text.contains("--allow-faults"), "{text}");
        assert!(check(&s, true).is_ok());

        let s = parse(&format!("{BASE}[control]\nscript = \"./evil.sh\"\n"));
        let e = check(&s, false).unwrap_err();
        assert_eq!(e.actions.len(), 1);
        assert!(e.actions[0].contains("`./evil.sh`"), "{:?}", e.actions);
    }

    #[test]
    fn a_snapshot_cancels_jobs_so_it_needs_permission() {
        let s = parse(&format!("{BASE}[snapshot]\nrows = 1000\n"));
        let e = check(&s, false).unwrap_err();
        assert_eq!(e.actions.len(), 1, "{:?}", e.actions);
        assert!(
            e.actions[0].contains(
                "cancel the Flink CDC jobs mysql-cdc-to-kafka and mysql-cdc-to-cloudberry"
            ) && e.actions[0].contains("write 1000 rows"),
            "{:?}",
            e.actions
        );
        assert!(check(&s, true).is_ok());
    }
}
