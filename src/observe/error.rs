//! The error every observer returns, with the exit-code class it maps to.

use std::error::Error as StdError;

/// A boxed underlying error (driver error, I/O error) kept as the source.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why an observer could not start or had to stop.
///
/// `target` strings are always redacted (no passwords): build them with
/// [`crate::redact::redact_url`].
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// The target could not be reached at startup (connection refused, DNS,
    /// authentication, metadata request timed out). Exit code 3.
    #[error("{target}: cannot reach it: {source}")]
    Unreachable {
        /// Which target, e.g. `kafka 127.0.0.1:9092` or `mysql://root:***@127.0.0.1:3306`.
        target: String,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// The target answered but is not set up the way the harness needs
    /// (missing topic, table or column, binlog not ROW). Exit code 3.
    #[error("{target}: {problem}; {what_to_do}")]
    Misconfigured {
        /// Which target.
        target: String,
        /// What is wrong.
        problem: String,
        /// What the user should do about it.
        what_to_do: String,
    },
    /// Something failed while the run was under way (connection lost, query
    /// failed, the binlog stream ended). Exit code 4.
    #[error("{target}: fault during the run: {source}")]
    Fault {
        /// Which target.
        target: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl ObserveError {
    /// The process exit code class: 3 for unreachable or misconfigured targets
    /// found at startup, 4 for faults during the run.
    pub fn exit_code(&self) -> i32 {
        match self {
            ObserveError::Unreachable { .. } | ObserveError::Misconfigured { .. } => 3,
            ObserveError::Fault { .. } => 4,
        }
    }

    /// Builds [`ObserveError::Unreachable`].
    pub fn unreachable(target: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ObserveError::Unreachable {
            target: target.into(),
            source: source.into(),
        }
    }

    /// Builds [`ObserveError::Misconfigured`].
    pub fn misconfigured(
        target: impl Into<String>,
        problem: impl Into<String>,
        what_to_do: impl Into<String>,
    ) -> Self {
        ObserveError::Misconfigured {
            target: target.into(),
            problem: problem.into(),
            what_to_do: what_to_do.into(),
        }
    }

    /// Builds [`ObserveError::Fault`].
    pub fn fault(target: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ObserveError::Fault {
            target: target.into(),
            source: source.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_by_class() {
        assert_eq!(ObserveError::unreachable("k", "refused").exit_code(), 3);
        assert_eq!(ObserveError::misconfigured("k", "p", "w").exit_code(), 3);
        assert_eq!(ObserveError::fault("k", "lost").exit_code(), 4);
    }

    #[test]
    fn message_says_what_to_do() {
        let e = ObserveError::misconfigured(
            "kafka 127.0.0.1:9092",
            "topic tpcds.store_sales does not exist",
            "start the Flink jobs (scripts/stack.sh up)",
        );
        let s = e.to_string();
        assert!(
            s.contains("does not exist") && s.contains("stack.sh up"),
            "{s}"
        );
    }
}
