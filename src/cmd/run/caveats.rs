//! The run's caveats, gathered from the modules that know each fact, in the
//! order the report has always printed them: how the run ended, the load's
//! lateness, sampling, failed rows, the derived sinks, the run's errors, the
//! ledger's clamped latencies, the observers, the ledger's counts, the
//! injected faults, the pipeline's metrics, the harness's memory. Only how
//! the run ended and its errors are this module's own facts.

use std::fmt;
use std::time::Duration;

use super::budget::OverBudget;
use super::outcome::Outcome;
use crate::caveat::Caveat;
use crate::faults::recovery::FaultRecovery;
use crate::load::{FailedRows, Lateness};
use crate::observe::Sampled;
use crate::report::HarnessMemory;

/// How many of the run's errors are listed one by one.
const ERRORS_LISTED: usize = 20;

/// A run that did not end as planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Stopped early by a signal.
    Interrupted,
    /// The drain gave up after its timeout.
    DrainTimedOut(Duration),
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Interrupted => f.write_str(
                "interrupted: the load stopped early; rows still in flight are counted as missing",
            ),
            Self::DrainTimedOut(after) => write!(
                f,
                "drain timed out after {}: rows not seen by then are reported missing",
                humantime::format_duration(*after)
            ),
        }
    }
}

/// An error the run met besides the injected faults (a worker's, a probe's, a
/// query's, the end-of-run delete check's), or how many more there were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// One error, as reported (no passwords).
    One(String),
    /// Errors beyond the first [`ERRORS_LISTED`].
    More(usize),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::One(e) => write!(f, "error: {e}"),
            Self::More(n) => write!(f, "… and {n} more errors"),
        }
    }
}

/// The caveats of the run `o`, whose faults recovered as `recovery` and whose
/// harness used `memory`.
pub fn gather(o: &Outcome<'_>, recovery: &[FaultRecovery], memory: &HarnessMemory) -> Vec<Caveat> {
    let s = o.scenario;
    let sinks = &s.observe.sinks;
    let mut out = Vec::new();
    if o.interrupted {
        out.push(Caveat::new(Ending::Interrupted));
    } else if !o.drained {
        out.push(Caveat::new(Ending::DrainTimedOut(s.drain_timeout)));
    }
    out.extend(Lateness::of(&o.workers));
    out.extend(Sampled::of(s.observe.sample_rate));
    out.extend(FailedRows::of(&o.workers));
    out.extend(crate::derived::caveats(
        sinks,
        &s.derived,
        &o.derived.probes,
        &o.derived.reads,
    ));
    out.extend(errors(&o.errors));
    out.extend(o.ledger.clamp_caveats(sinks));
    out.extend(crate::observe::caveats(
        &o.observers,
        s.observe.poll_interval,
    ));
    out.extend(o.ledger.seen_caveats(sinks));
    out.extend(crate::faults::caveats::control_errors(&o.fault_events));
    out.extend(crate::faults::caveats::caveats(
        recovery,
        o.load_time.as_secs_f64(),
    ));
    out.extend(crate::pipeline_metrics::caveats(
        &o.metrics,
        o.metric_errors,
    ));
    out.extend(OverBudget::of(memory));
    out
}

/// The first [`ERRORS_LISTED`] errors, then how many more.
fn errors(all: &[String]) -> Vec<Caveat> {
    let listed = all.iter().take(ERRORS_LISTED).cloned().map(RunError::One);
    let more = (all.len() > ERRORS_LISTED).then(|| RunError::More(all.len() - ERRORS_LISTED));
    listed.chain(more).map(Caveat::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_beyond_twenty_are_counted_not_listed() {
        let all: Vec<String> = (0..23).map(|i| format!("worker {i}: lost")).collect();
        let c: Vec<String> = errors(&all).iter().map(ToString::to_string).collect();
        assert_eq!(c.len(), 21);
        assert_eq!(c[0], "error: worker 0: lost");
        assert_eq!(c[20], "… and 3 more errors");
        assert!(errors(&all[..2]).len() == 2);
    }

    #[test]
    fn an_ending_says_what_the_counts_mean() {
        assert_eq!(
            Ending::DrainTimedOut(Duration::from_secs(90)).to_string(),
            "drain timed out after 1m 30s: rows not seen by then are reported missing"
        );
    }
}
