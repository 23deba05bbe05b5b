//! One function per command; each returns the exit class it ends with. These
//! are the only places that use `anyhow`: module errors are classified here.

pub mod audit;
pub mod check;
pub mod clean;
pub mod compare;
pub mod gate;
pub mod merge;
pub mod report;
pub mod run;
pub mod sweep;

use std::path::Path;

use crate::exit::{Classified, Exit};
use crate::scenario::{Scenario, ScenarioError};

/// Loads a scenario and applies `--set` overrides; every error is bad input.
pub fn load_scenario(path: &Path, set: &[String]) -> anyhow::Result<Scenario> {
    let bad = |e: ScenarioError| Classified::new(Exit::BadInput, e);
    let mut scenario = crate::scenario::load(path).map_err(bad)?;
    let overrides = set
        .iter()
        .map(|s| crate::scenario::parse_override(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    if !overrides.is_empty() {
        scenario.apply_overrides(&overrides).map_err(bad)?;
    }
    Ok(scenario)
}

/// Parses scenario text (with the environment applied); every error is bad input.
pub fn load_scenario_text(text: &str, origin: &str) -> anyhow::Result<Scenario> {
    crate::scenario::parse_str(text, origin).map_err(|e| Classified::new(Exit::BadInput, e).into())
}

/// A run directory's summary and its ticket range (`environment.tickets`,
/// `a..b`); a directory that is not a run's is bad input.
pub fn run_tickets(dir: &Path) -> anyhow::Result<(crate::report::Summary, std::ops::Range<u64>)> {
    let bad = |msg: String| Classified::new(Exit::BadInput, anyhow::anyhow!(msg));
    let path = dir.join(crate::report::summary_json::SUMMARY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        bad(format!(
            "cannot read {}: {e} (give the run directory `tpcds-bench run` wrote)",
            path.display()
        ))
    })?;
    let summary: crate::report::Summary = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{} is not a run summary: {e}", path.display())))?;
    let raw = summary.environment.get("tickets").ok_or_else(|| {
        bad(format!(
            "{} has no environment.tickets: a run directory written by `tpcds-bench run`?",
            path.display()
        ))
    })?;
    let range = parse_range(raw).ok_or_else(|| {
        bad(format!(
            "{}: environment.tickets = {raw:?}, expected `start..end`",
            path.display()
        ))
    })?;
    Ok((summary, range))
}

/// `a..b` with a < b.
fn parse_range(raw: &str) -> Option<std::ops::Range<u64>> {
    let (a, b) = raw.split_once("..")?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a < b).then_some(a..b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ticket_range_reads_as_start_dot_dot_end() {
        use super::parse_range as p;
        assert_eq!(p("10..20"), Some(10..20));
        assert_eq!(p("20..10"), None);
        assert_eq!(p("10-20"), None);
        assert_eq!(p("a..b"), None);
    }
}
