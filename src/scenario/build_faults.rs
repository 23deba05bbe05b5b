//! `[[faults]]` and `[control]`: timed actions against the stack, and how the
//! harness reaches the stack's controls.

use std::time::Duration;

use super::build::{opt_duration, SECOND};
use super::error::ScenarioError;
use super::read::{Field, Tbl};
use super::types::*;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Longest a single fault may keep its target down.
const MAX_FAULT: Duration = Duration::from_secs(3600);

/// The `faults` array (absent: no faults). Each fault must start within the
/// load phase; two faults on one target must not overlap.
pub(crate) fn faults(top: &Tbl, duration: Duration) -> Result<Vec<FaultSpec>> {
    let Some(f) = top.get("faults") else {
        return Ok(Vec::new());
    };
    let hint = "an array of tables, e.g. [[faults]] at = \"10s\", action = \"restart\", target = \"kafka\", duration = \"5s\"";
    let cx = top.cx;
    let mut out: Vec<FaultSpec> = Vec::new();
    // Each fault on its own: a bad one is recorded and the others still checked.
    for item in f.array(hint)? {
        let Some((spec, at_f)) = cx.keep(fault(&item, hint, duration)) else {
            continue;
        };
        let FaultSpec {
            at,
            target,
            duration,
            ..
        } = spec;
        if let Some(prev) = out.iter().find(|p| {
            p.target == target && at < p.at + p.duration && p.at < at + duration.max(SECOND)
        }) {
            cx.keep::<()>(Err(at_f.invalid(format!(
                "overlaps the earlier fault on {} at {} (lasting {}); start it after that one ends",
                target.name(),
                super::build::fmt(prev.at),
                super::build::fmt(prev.duration)
            ))));
            continue;
        }
        out.push(spec);
    }
    out.sort_by_key(|f| f.at);
    Ok(out)
}

/// One `[[faults]]` entry, and its `at` field (for errors about its timing).
fn fault<'a>(item: &Field<'a>, hint: &str, duration: Duration) -> Result<(FaultSpec, Field<'a>)> {
    let t = item.table(hint)?;
    t.allow(
        &["at", "action", "target", "duration"],
        &[(
            "job",
            "name the job in target, e.g. action = \"pause\", target = \"mysql-cdc-to-cloudberry\"",
        )],
    );
    let at_f = t.req(
        "at",
        "a fault needs a start time within the load, e.g. at = \"10s\"",
    )?;
    let at = at_f.duration("when the fault starts, from the start of the load")?;
    if at >= duration {
        return Err(at_f.invalid(format!(
            "must be before the end of the load (duration = {}); a fault acts while the load runs",
            super::build::fmt(duration)
        )));
    }
    let action_f = t.req(
        "action",
        "a fault needs an action: \"restart\", \"kill\" or \"pause\"",
    )?;
    let action = match action_f.choice(
        &FaultAction::NAMES,
        "\"restart\" (graceful stop), \"kill\" (SIGKILL) or \"pause\" (a Flink job: stop with a savepoint, resume from it)",
    )? {
        "restart" => FaultAction::Restart,
        "kill" => FaultAction::Kill,
        _ => FaultAction::Pause,
    };
    let components =
        "one of \"mysql\", \"kafka\", \"warehouse\", \"flink-jobmanager\", \"flink-taskmanager\"";
    let jobs = "one of \"mysql-cdc-to-kafka\", \"kafka-to-cloudberry\", \"mysql-cdc-to-cloudberry\", \"streaming-analytics\"";
    let target_f = t.req(
        "target",
        "a fault needs a target: a component (restart, kill) or a Flink job (pause)",
    )?;
    let name = target_f.choice(
        &FaultTarget::NAMES,
        &format!("a component ({components}) or a Flink job ({jobs})"),
    )?;
    let target = FaultTarget::ALL[FaultTarget::NAMES
        .iter()
        .position(|n| *n == name)
        .expect("choice returned one of NAMES")];
    match (action, target.is_job()) {
        (FaultAction::Pause, false) => {
            return Err(target_f.invalid(format!(
                "\"pause\" acts on a Flink job: {jobs} (restart or kill a component)"
            )))
        }
        (FaultAction::Restart | FaultAction::Kill, true) => {
            return Err(action_f.invalid(format!(
                "must be \"pause\" for a Flink job (target = \"{}\"); restart or kill a component: {components}",
                target.name()
            )))
        }
        _ => {}
    }
    let duration = opt_duration(
        &t,
        "duration",
        Duration::ZERO,
        Duration::ZERO,
        MAX_FAULT,
        "how long the target stays down, from 0s to 1h (e.g. \"5s\")",
    )?;
    Ok((
        FaultSpec {
            at,
            action,
            target,
            duration,
        },
        at_f,
    ))
}

/// The `[control]` table.
pub(crate) fn control(t: &Tbl) -> Result<Control> {
    t.allow(&["mode", "script", "compose_file"], &[]);
    // Each key on its own: a bad one is recorded (and left at its default)
    // while the others are still checked; the caller fails on any recorded error.
    let cx = t.cx;
    let mut c = Control::default();
    if let Some(f) = t.get("mode") {
        let mode = f.choice(
            &["auto", "native", "compose"],
            "\"auto\", \"native\" (scripts/stack.sh) or \"compose\" (docker compose)",
        );
        if let Some(mode) = cx.keep(mode) {
            c.mode = match mode {
                "native" => ControlMode::Native,
                "compose" => ControlMode::Compose,
                _ => ControlMode::Auto,
            };
        }
    }
    let path = |key: &str, what: &str, example: &str| {
        t.get(key).and_then(|f| {
            cx.keep(f.string(what).and_then(|s| {
                if s.trim().is_empty() {
                    Err(f.invalid(format!("must be a path, e.g. \"{example}\"")))
                } else {
                    Ok(s.to_string())
                }
            }))
        })
    };
    c.script = path(
        "script",
        "the path of the native stack's scripts/stack.sh",
        "scripts/stack.sh",
    );
    if let Some(file) = path(
        "compose_file",
        "the path of docker-compose.yml",
        "docker-compose.yml",
    ) {
        c.compose_file = file;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::scenario::{parse_with_env, ControlMode, FaultAction, FaultTarget};

    const HEAD: &str =
        "duration = \"1m\"\n[load]\nrate = { kind = \"constant\", per_second = 100 }\n";

    fn parse(extra: &str) -> Result<crate::scenario::Scenario, String> {
        parse_with_env(&format!("{HEAD}{extra}"), "f.toml", &|_| None).map_err(|e| e.to_string())
    }

    #[test]
    fn faults_parse_in_start_order_with_defaults() {
        let s = parse(
            "[[faults]]\nat = \"30s\"\naction = \"kill\"\ntarget = \"flink-taskmanager\"\nduration = \"5s\"\n\
             [[faults]]\nat = \"10s\"\naction = \"restart\"\ntarget = \"kafka\"\n",
        )
        .unwrap();
        assert_eq!(s.faults.len(), 2);
        assert_eq!(s.faults[0].target, FaultTarget::Kafka);
        assert_eq!(s.faults[0].duration, Duration::ZERO);
        assert_eq!(s.faults[1].action, FaultAction::Kill);
        assert_eq!(s.faults[1].at, Duration::from_secs(30));
        assert_eq!(s.control.mode, ControlMode::Auto);
        assert!(parse("").unwrap().faults.is_empty());
        let s = parse(
            "[[faults]]\nat = \"10s\"\naction = \"pause\"\ntarget = \"mysql-cdc-to-cloudberry\"\nduration = \"20s\"\n",
        )
        .unwrap();
        assert_eq!(s.faults[0].action, FaultAction::Pause);
        assert_eq!(s.faults[0].target, FaultTarget::JobCdcToWarehouse);
        assert!(s.faults[0].target.is_job());
        for (name, t) in FaultTarget::NAMES.iter().zip(FaultTarget::ALL) {
            assert_eq!(*name, t.name());
        }
    }

    #[test]
    fn bad_faults_name_file_line_and_key() {
        let e =
            parse("[[faults]]\nat = \"2m\"\naction = \"kill\"\ntarget = \"kafka\"\n").unwrap_err();
        assert!(
            e.contains("f.toml:5")
                && e.contains("faults[0].at")
                && e.contains("before the end of the load"),
            "{e}"
        );
        let e = parse("[[faults]]\nat = \"5s\"\naction = \"explode\"\ntarget = \"kafka\"\n")
            .unwrap_err();
        assert!(
            e.contains("faults[0].action") && e.contains("\"restart\""),
            "{e}"
        );
        let e =
            parse("[[faults]]\nat = \"5s\"\naction = \"kill\"\ntarget = \"kafak\"\n").unwrap_err();
        assert!(e.contains("did you mean \"kafka\""), "{e}");
        let e = parse("[[faults]]\nat = \"5s\"\naction = \"kill\"\n").unwrap_err();
        assert!(
            e.contains("faults[0].target is missing") || e.contains("faults[0].target"),
            "{e}"
        );
        let e = parse(
            "[[faults]]\nat = \"5s\"\naction = \"kill\"\ntarget = \"kafka\"\nlength = \"5s\"\n",
        )
        .unwrap_err();
        assert!(e.contains("unknown key faults[0].length"), "{e}");
        let e = parse(
            "[[faults]]\nat = \"5s\"\naction = \"kill\"\ntarget = \"mysql\"\nduration = \"10s\"\n\
             [[faults]]\nat = \"8s\"\naction = \"restart\"\ntarget = \"mysql\"\n",
        )
        .unwrap_err();
        assert!(e.contains("overlaps the earlier fault on mysql"), "{e}");
        let e =
            parse("[[faults]]\nat = \"5s\"\naction = \"pause\"\ntarget = \"kafka\"\n").unwrap_err();
        assert!(
            e.contains("faults[0].target") && e.contains("\"mysql-cdc-to-cloudberry\""),
            "{e}"
        );
        let e =
            parse("[[faults]]\nat = \"5s\"\naction = \"kill\"\ntarget = \"mysql-cdc-to-kafka\"\n")
                .unwrap_err();
        assert!(
            e.contains("faults[0].action") && e.contains("must be \"pause\""),
            "{e}"
        );
        let e = parse("[control]\nmode = \"docker\"\n").unwrap_err();
        assert!(e.contains("control.mode"), "{e}");
    }
}
