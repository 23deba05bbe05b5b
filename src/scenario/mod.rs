//! Scenario files: TOML text → a validated [`Scenario`], before any connection opens.
//!
//! Two stages. The text is parsed with `toml_edit` and copied into a small
//! tree that remembers where every key and value came from; environment
//! overrides (`TPCDS_*`) and `--set` flags are written into that tree; then
//! one validation pass turns it into typed data. Every error names the file
//! and line (or the flag / variable), the dotted key, the value and what
//! would be valid. Unknown keys are errors. Parsing never writes anything.
//!
//! The key reference with defaults is `docs/SCENARIO.md`.

mod build;
mod build_derived;
mod build_faults;
mod build_live;
mod build_load;
mod build_mix;
mod build_snapshot;
mod build_sweep;
mod build_targets;
mod error;
mod read;
mod tree;
mod types;
mod url;

use std::path::Path;

use toml_edit::ImDocument;

use crate::redact::redact_text;

pub use crate::rate::{RateSpec, RateStep, StepSpec};
pub use build_targets::ENV_OVERRIDES;
pub use error::{Location, ScenarioError};
pub use types::*;
pub use url::TargetUrl;

use read::Cx;
use tree::Origin;

/// Reads and validates a scenario file (environment overrides applied).
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_str(&text, &path.display().to_string())
}

/// Validates scenario text; `origin` names it in errors (usually the path)
/// and its file stem is the default `name`. Environment overrides applied.
pub fn parse_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    parse_with_env(text, origin, &|var| std::env::var(var).ok())
}

/// [`parse_str`] with an explicit environment (tests; embedding).
pub fn parse_with_env(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, ScenarioError> {
    let env_values: Vec<(String, String)> = ENV_OVERRIDES
        .iter()
        .filter_map(|(var, _)| env(var).map(|v| (var.to_string(), v)))
        .collect();
    resolve(text, origin, &env_values, &[])
}

/// Splits a `--set` argument `dotted.key=value` into key and value.
pub fn parse_override(arg: &str) -> Result<(String, String), ScenarioError> {
    let bad = |message: String| ScenarioError::BadOverride {
        flag: redact_text(arg).into_owned(),
        message,
    };
    let (key, value) = arg.split_once('=').ok_or_else(|| {
        bad("expected dotted.key=value, e.g. --set load.rate.per_second=2000".into())
    })?;
    let key = key.trim();
    let ok_segment = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !key.split('.').all(ok_segment) {
        return Err(bad(format!(
            "`{key}` is not a dotted key; expected e.g. load.rate.per_second"
        )));
    }
    Ok((key.to_string(), value.to_string()))
}

impl Scenario {
    /// Applies `--set dotted.key=value` overrides (after the file and the
    /// environment) and re-validates everything; on error `self` is unchanged
    /// and the error names the flag. Values are TOML (`2000`, `"x"`,
    /// `{ kind = "constant", per_second = 5 }`); text that is not TOML is a
    /// string, so `--set duration=90s` needs no quotes.
    pub fn apply_overrides(&mut self, overrides: &[(String, String)]) -> Result<(), ScenarioError> {
        for (k, v) in overrides {
            parse_override(&format!("{k}={v}"))?;
        }
        let mut all = self.source.overrides.clone();
        all.extend_from_slice(overrides);
        *self = resolve(
            &self.source.text,
            &self.source.origin,
            &self.source.env_values,
            &all,
        )?;
        Ok(())
    }

    /// The scenario file's exact text (copy it into the run directory).
    pub fn source_text(&self) -> &str {
        &self.source.text
    }

    /// Total intended rows over the run (the integral of the rate profile).
    pub fn expected_rows(&self) -> f64 {
        crate::rate::RateProfile::new(&self.load.rate, self.duration).total_rows()
    }
}

/// Parse → tree → env → flags → validate.
fn resolve(
    text: &str,
    origin: &str,
    env_values: &[(String, String)],
    overrides: &[(String, String)],
) -> Result<Scenario, ScenarioError> {
    let cx = Cx::new(origin, text);
    let doc = ImDocument::parse(text).map_err(|e| {
        let message = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        let location = cx.locate(&Origin::File(e.span().unwrap_or(0..0)));
        // Quote the offending line: a syntax error has no dotted key to name.
        let line = match &location {
            Location::File { line, .. } => text.lines().nth(line - 1).unwrap_or("").trim(),
            _ => "",
        };
        let message = if line.is_empty() {
            message
        } else {
            let mut quoted = redact_text(line).into_owned();
            if quoted.chars().count() > 80 {
                quoted = quoted.chars().take(80).collect::<String>() + "…";
            }
            format!("{message} (in `{quoted}`)")
        };
        ScenarioError::Syntax { location, message }
    })?;
    let mut root = tree::from_document(&doc);

    let env = |var: &str| {
        env_values
            .iter()
            .find(|(k, _)| k == var)
            .map(|(_, v)| v.clone())
    };
    let applied_env = build_targets::apply_env(&mut root, &env);

    for (key, value) in overrides {
        let flag = format!("--set {key}={value}");
        let path: Vec<&str> = key.split('.').collect();
        let node = tree::from_flag_value(value, &flag);
        tree::set_path(&mut root, &path, node).map_err(|message| ScenarioError::BadOverride {
            flag: redact_text(&format!("{key}={value}")).into_owned(),
            message,
        })?;
    }

    let stem = Path::new(origin)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Every error, recorded on the way or returned, goes through `cx`.
    let built = match build::scenario(&root, &cx, &stem) {
        Ok(s) => Some(s),
        Err(e) => cx.keep(Err(e)),
    };
    let errors = cx.into_errors();
    let mut scenario = match built {
        Some(s) if errors.is_empty() => s,
        _ => return Err(ScenarioError::from_many(origin, errors)),
    };
    scenario.source = ScenarioSource {
        origin: origin.to_string(),
        text: text.to_string(),
        overrides: overrides.to_vec(),
        env: applied_env.iter().map(|(k, _)| k.clone()).collect(),
        env_values: env_values.to_vec(),
    };
    Ok(scenario)
}

/// A 10-second scenario at 10 rows/s (`x.toml`) with `extra` appended, or
/// its error's text: what a section's unit tests parse.
#[cfg(test)]
pub(crate) fn parse_minimal(extra: &str) -> Result<Scenario, String> {
    let text = format!(
        "duration = \"10s\"\n[load]\nrate = {{ kind = \"constant\", per_second = 10 }}\n{extra}"
    );
    parse_with_env(&text, "x.toml", &|_| None).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
