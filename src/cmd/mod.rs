//! One function per command; each returns the exit class it ends with. These
//! are the only places that use `anyhow`: module errors are classified here.

pub mod check;
pub mod clean;
pub mod compare;
pub mod gate;
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
