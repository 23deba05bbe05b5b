//! The process exit codes: part of the interface (CI steps branch on them), so
//! they live in one place, and a unit test holds the README's table to the same list.

use std::fmt;

/// Why the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed.
    Ok,
    /// An SLO was breached, or `gate` found a regression.
    Breach,
    /// The scenario file or the command-line flags are invalid.
    BadInput,
    /// A target could not be reached, or is configured so the run cannot work
    /// (for example MySQL's binlog is not in ROW format).
    Unreachable,
    /// A fault during the run, or an internal error.
    Fault,
    /// Ctrl-C or SIGTERM; a partial report was written first.
    Interrupted,
}

impl Exit {
    /// Every exit, in the README's order.
    pub const ALL: [Exit; 6] = [
        Exit::Ok,
        Exit::Breach,
        Exit::BadInput,
        Exit::Unreachable,
        Exit::Fault,
        Exit::Interrupted,
    ];

    /// The numeric code the process exits with.
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Breach => 1,
            Exit::BadInput => 2,
            Exit::Unreachable => 3,
            Exit::Fault => 4,
            Exit::Interrupted => 130,
        }
    }

    /// The exit with this numeric code; unknown codes are faults.
    pub fn from_code(code: i32) -> Exit {
        Exit::ALL
            .into_iter()
            .find(|e| e.code() == code)
            .unwrap_or(Exit::Fault)
    }

    /// One line for `--help` and the README.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "success: the run finished and every SLO held",
            Exit::Breach => "an SLO was breached, or `gate` found a regression",
            Exit::BadInput => {
                "bad input: scenario file, environment override or flag (or faults without --allow-faults)"
            }
            Exit::Unreachable => "a target is unreachable or misconfigured (e.g. binlog not ROW)",
            Exit::Fault => "a fault stopped the run, or an internal error",
            Exit::Interrupted => "interrupted by Ctrl-C or SIGTERM (a partial report was written)",
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

/// Errors that know which exit class they belong to.
pub trait Classify {
    /// The exit this error should end the process with.
    fn exit(&self) -> Exit;
}

/// An error already classified by a command, wrapping its cause. It displays
/// the whole cause chain itself (and so exposes no `source()`, which would print
/// the chain twice under `{:#}`).
#[derive(Debug, thiserror::Error)]
#[error("{cause:#}")]
pub struct Classified {
    /// The exit class.
    pub exit: Exit,
    /// What went wrong.
    pub cause: anyhow::Error,
}

impl Classified {
    /// Wraps `source` with an exit class.
    pub fn new(exit: Exit, source: impl Into<anyhow::Error>) -> Self {
        Classified {
            exit,
            cause: source.into(),
        }
    }
}

impl Classify for Classified {
    fn exit(&self) -> Exit {
        self.exit
    }
}

/// Shorthand for `Err(Classified::new(exit, err))` in command code.
pub fn fail<T>(exit: Exit, err: impl Into<anyhow::Error>) -> anyhow::Result<T> {
    Err(Classified::new(exit, err).into())
}

/// The exit class of an error chain: the outermost classified error wins;
/// anything unclassified is a fault.
pub fn classify(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(c) = cause.downcast_ref::<Classified>() {
            return c.exit;
        }
    }
    Exit::Fault
}

/// An error's text with its causes, as `error: …` prints it, secrets masked
/// ([`crate::redact`]: a driver may quote the URL it was given). A cause whose
/// text the message before it already ends with is left out: errors that
/// carry their source in their own message (thiserror's `{source}`, the MySQL
/// driver's I/O errors) would otherwise print it twice.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    crate::redact::redact_text(&collapse_repeats(&text)).into_owned()
}

/// `text` with each `": "`-separated segment that repeats the one right
/// before it left out ("I/O error: I/O error: refused" → "I/O error: refused").
pub fn collapse_repeats(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if out.last() != Some(&part) {
            out.push(part);
        }
    }
    out.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // What `tpcds-bench run /nonexist.toml` printed before: the io error twice.
    #[test]
    fn a_cause_already_in_its_message_is_printed_once() {
        let read = crate::scenario::ScenarioError::Read {
            path: "/nonexist.toml".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let err = anyhow::Error::from(Classified::new(Exit::BadInput, read));
        assert_eq!(
            error_text(&err),
            "/nonexist.toml: cannot read the scenario file: entity not found"
        );
        assert_eq!(classify(&err), Exit::BadInput);
    }

    #[test]
    fn causes_not_in_the_message_are_kept_in_order() {
        let err = anyhow::anyhow!("connection refused")
            .context("cannot reach MySQL")
            .context("preflight");
        assert_eq!(
            error_text(&err),
            "preflight: cannot reach MySQL: connection refused"
        );
    }

    #[test]
    fn secrets_in_an_error_are_masked() {
        let err = anyhow::anyhow!("bad url mysql://root:hunter2@h/db (password=hunter2)")
            .context("cannot connect");
        let text = error_text(&err);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("mysql://root:***@h/db"), "{text}");
    }

    #[test]
    fn only_a_segment_repeating_the_one_before_is_dropped() {
        assert_eq!(
            collapse_repeats("cannot reach it: Input/output error: Input/output error: refused"),
            "cannot reach it: Input/output error: refused"
        );
        assert_eq!(collapse_repeats("a: b: a: b"), "a: b: a: b");
    }

    // CI steps branch on these codes; the README's table must list exactly them, in order.
    #[test]
    fn the_readme_lists_every_exit_code_in_order() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        let section = readme
            .split("## Exit codes")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the README has an Exit codes section");
        let listed: Vec<i32> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| ")?.split(" |").next()?.parse().ok())
            .collect();
        let codes: Vec<i32> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(listed, codes);
    }
}
