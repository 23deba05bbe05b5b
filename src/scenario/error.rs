//! Errors a scenario can cause, each pointing at where the bad input came from:
//! a line of the file, a `--set` flag or an environment variable.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a piece of scenario input came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A position in the scenario file (1-based line and column).
    File {
        /// The file name as the user gave it (or the origin passed to `parse_str`).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// A command-line override; holds the whole flag, e.g. `--set load.workers=0`.
    Flag(String),
    /// An environment variable override, by name.
    Env(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `file:line:` (no column) reads like a compiler diagnostic and is what
            // editors and CI log viewers turn into a link.
            Location::File { origin, line, .. } => write!(f, "{origin}:{line}"),
            Location::Flag(flag) => f.write_str(flag),
            Location::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

/// A scenario that cannot be used. Every variant is bad input: [`exit_code`](Self::exit_code) is 2.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file is missing or unreadable.
    #[error("{}: cannot read the scenario file: {source}", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The text is not valid TOML (includes duplicate keys).
    #[error("{location}: invalid TOML: {message}")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// The parser's explanation.
        message: String,
    },
    /// A key the schema does not know.
    #[error("{location}: unknown key {key}{hint}")]
    UnknownKey {
        /// Where the key is.
        location: Location,
        /// Dotted key, e.g. `load.wrkers`.
        key: String,
        /// "did you mean" and the keys that are valid there (starts with `: ` or ` (`).
        hint: String,
    },
    /// A required key is absent.
    #[error("{location}: {key} is missing: {message}")]
    MissingKey {
        /// The table that should hold it (or the file's first line).
        location: Location,
        /// Dotted key, e.g. `load.rate`.
        key: String,
        /// What to write.
        message: String,
    },
    /// A key whose value has the wrong type or is out of range.
    #[error("{location}: {key} = {value}: {message}")]
    InvalidValue {
        /// Where the value is.
        location: Location,
        /// Dotted key, e.g. `load.rate.per_second`.
        key: String,
        /// The value as written (passwords in URLs redacted).
        value: String,
        /// What would be valid.
        message: String,
    },
    /// A `--set` flag that is not of the form `dotted.key=value` or cannot be applied.
    #[error("--set {flag}: {message}")]
    BadOverride {
        /// The flag's argument as given (passwords redacted).
        flag: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// More than one of the above, in file order, at most [`MAX_ERRORS`].
    #[error("{} problems in {origin}:\n{}{}", .errors.len() + .more, list(.errors), more_line(*.more))]
    Several {
        /// The scenario file (or origin label).
        origin: String,
        /// The first [`MAX_ERRORS`] errors, by line.
        errors: Vec<ScenarioError>,
        /// How many more there were.
        more: usize,
    },
}

/// Most errors one message lists: enough to fix a file in one go, few
/// enough that a file of another format does not flood the terminal.
pub const MAX_ERRORS: usize = 20;

fn list(errors: &[ScenarioError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn more_line(more: usize) -> String {
    if more == 0 {
        String::new()
    } else {
        format!("\n  … and {more} more")
    }
}

impl ScenarioError {
    /// Process exit code: 2 (bad input) for every scenario error.
    pub fn exit_code(&self) -> i32 {
        2
    }

    /// One error for all of `errors` (not empty) of the file `origin`: the
    /// error itself when there is one, else [`ScenarioError::Several`], in
    /// file order, repeats left out.
    pub(crate) fn from_many(origin: &str, mut errors: Vec<ScenarioError>) -> Self {
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.to_string()));
        // Stable: flags and variables keep their order, after the file's lines.
        errors.sort_by_key(|e| match e.location() {
            Some(Location::File { line, column, .. }) => (0, *line, *column),
            _ => (1, 0, 0),
        });
        if errors.len() == 1 {
            return errors.remove(0);
        }
        let more = errors.len().saturating_sub(MAX_ERRORS);
        errors.truncate(MAX_ERRORS);
        ScenarioError::Several {
            origin: origin.to_string(),
            errors,
            more,
        }
    }

    /// Where the bad input is, when it has one place (of several: the first).
    pub fn location(&self) -> Option<&Location> {
        match self {
            ScenarioError::Read { .. } | ScenarioError::BadOverride { .. } => None,
            ScenarioError::Several { errors, .. } => errors.first()?.location(),
            ScenarioError::Syntax { location, .. }
            | ScenarioError::UnknownKey { location, .. }
            | ScenarioError::MissingKey { location, .. }
            | ScenarioError::InvalidValue { location, .. } => Some(location),
        }
    }

    /// The dotted key at fault, when there is one (of several: the first).
    pub fn key(&self) -> Option<&str> {
        match self {
            ScenarioError::Several { errors, .. } => errors.first()?.key(),
            ScenarioError::UnknownKey { key, .. }
            | ScenarioError::MissingKey { key, .. }
            | ScenarioError::InvalidValue { key, .. } => Some(key),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_compiler_style() {
        let e = ScenarioError::InvalidValue {
            location: Location::File {
                origin: "scenarios/x.toml".into(),
                line: 7,
                column: 28,
            },
            key: "load.rate.per_second".into(),
            value: "-5".into(),
            message: "must be a positive number of rows per second (e.g. 500)".into(),
        };
        assert_eq!(
            e.to_string(),
            "scenarios/x.toml:7: load.rate.per_second = -5: must be a positive number of rows per second (e.g. 500)"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
