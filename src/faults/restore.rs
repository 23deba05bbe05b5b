//! Bringing a fault's target back, and saying so when that fails.
//!
//! An undo (`start`, `resume`) that fails is tried again with backoff
//! ([`BACKOFF`]) for a bounded time ([`retry_bound`]: [`RESTORE_RETRY`], or
//! `TPCDS_FAULT_RESTORE_RETRY` seconds): a resubmission can fail for a moment
//! (a busy JobManager, a port still held). If it still fails, the run records
//! a [`LeftChanged`]: what is down and the exact command that restores it,
//! which the report puts first (summary.md, report.html, summary.json) and
//! the run prints on stderr.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::control::{self, ControlError, Controller};
use crate::scenario::FaultTarget;

/// How long after the first failed attempt the harness keeps trying to
/// bring a target back (a new attempt starts only within this bound).
pub const RESTORE_RETRY: Duration = Duration::from_secs(60);
/// Environment variable overriding [`RESTORE_RETRY`], in seconds (tests use a short one).
pub const RESTORE_RETRY_ENV: &str = "TPCDS_FAULT_RESTORE_RETRY";
/// Waits between attempts; the last repeats.
pub const BACKOFF: [Duration; 5] = [
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(30),
];

/// The stack left changed by a fault whose undo failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftChanged {
    /// The fault's target (`kafka-to-cloudberry`, `kafka`, …).
    pub target: String,
    /// What is down, in words.
    pub down: String,
    /// The shell command that brings it back, runnable from any directory.
    pub restore_command: String,
    /// Attempts made to bring it back.
    pub attempts: u32,
    /// The last attempt's error (redacted).
    pub error: String,
}

impl LeftChanged {
    /// The notice the report and stderr lead with.
    pub fn notice(&self) -> String {
        format!(
            "the pipeline was left changed: {} ({} attempts to bring it back failed; last error: {}). \
             Restore it with: {}",
            self.down,
            self.attempts,
            self.error.lines().next().unwrap_or(""),
            self.restore_command
        )
    }
}

/// What is down while `target` is, in words.
pub fn what_is_down(target: FaultTarget) -> String {
    let job = |what: &str| {
        format!(
            "the Flink job tpcds-{} is stopped, so {what}",
            target.name()
        )
    };
    match target {
        FaultTarget::JobCdcToKafka => job("no change reaches Kafka, path 1 or the analytics"),
        FaultTarget::JobKafkaToWarehouse => job("no row reaches the warehouse by path 1"),
        FaultTarget::JobCdcToWarehouse => job("no row reaches the warehouse by path 2"),
        FaultTarget::JobAnalytics => job("the sales metrics and alerts topics get nothing"),
        other => format!("{} is stopped", other.name()),
    }
}

/// For `tpcds-bench check`: what is down while the pipeline's Flink job
/// `job` (its `pipeline.name`) is not running, and the command that restores
/// it: `resume` when it ended FINISHED (stopped with a savepoint, as a pause
/// leaves it), else `heal` (resubmits the jobs that are not running). The
/// script is `TPCDS_STACK_CONTROL` or this directory's `scripts/stack.sh`, by
/// absolute path, with the stack directory it acts on.
pub fn job_advice(job: &str, state: Option<&str>) -> (String, String) {
    let stem = job.strip_prefix("tpcds-").unwrap_or(job);
    let down = FaultTarget::ALL
        .into_iter()
        .find(|t| t.is_job() && t.name() == stem)
        .map_or_else(|| format!("the Flink job {job} is stopped"), what_is_down);
    let script = std::env::var_os(control::STACK_CONTROL_ENV)
        .filter(|s| !s.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "scripts/stack.sh".into());
    let script = std::fs::canonicalize(&script).unwrap_or(script);
    let verb = match state {
        Some("FINISHED") => format!("resume {stem}"),
        Some(_) => "heal".into(),
        None => "up".into(),
    };
    let line = format!("{} {verb}", script.display());
    (down, control::stack_command(&script, &line))
}

/// The retry bound: [`RESTORE_RETRY_ENV`] seconds when set and valid, else [`RESTORE_RETRY`].
pub fn retry_bound() -> Duration {
    std::env::var(RESTORE_RETRY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(RESTORE_RETRY, Duration::from_secs_f64)
}

/// The waits between attempts that fit in `bound` after the first failure.
pub fn schedule(bound: Duration) -> Vec<Duration> {
    let mut waits = Vec::new();
    let mut elapsed = Duration::ZERO;
    for i in 0.. {
        let wait = BACKOFF[i.min(BACKOFF.len() - 1)];
        if elapsed + wait > bound {
            break;
        }
        elapsed += wait;
        waits.push(wait);
    }
    waits
}

/// Brings `target` back, retrying per [`schedule`]; `Err` with what was left
/// down when every attempt failed. `log` prints progress lines.
pub async fn bring_back(
    ctrl: &Controller,
    target: FaultTarget,
    log: impl Fn(String),
) -> Result<u32, LeftChanged> {
    let started = Instant::now();
    let mut waits = schedule(retry_bound()).into_iter();
    let mut attempts = 0;
    loop {
        let (cmd, line) = ctrl.up(target);
        attempts += 1;
        let err: ControlError = match control::run(cmd, &line).await {
            Ok(_) => return Ok(attempts),
            Err(e) => e,
        };
        let Some(wait) = waits.next() else {
            return Err(LeftChanged {
                target: target.name().into(),
                down: what_is_down(target),
                restore_command: ctrl.restore_line(target),
                attempts,
                error: err.to_string(),
            });
        };
        log(format!(
            "bringing {} back failed (attempt {attempts}, {:.0} s since the first): {err}; trying again in {} s",
            target.name(),
            started.elapsed().as_secs_f64(),
            wait.as_secs()
        ));
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_fits_the_bound() {
        let s = |n| schedule(Duration::from_secs(n));
        assert_eq!(s(0), Vec::<Duration>::new());
        assert_eq!(s(5), [2, 4].map(Duration::from_secs)[..1].to_vec());
        assert_eq!(s(6), [2, 4].map(Duration::from_secs).to_vec());
        let default: Duration = s(60).iter().sum();
        assert_eq!(default, Duration::from_secs(60), "2+4+8+16+30");
        assert_eq!(s(100).last(), Some(&Duration::from_secs(30)));
    }

    #[test]
    fn the_notice_says_what_is_down_and_how_to_restore_it() {
        let l = LeftChanged {
            target: "kafka-to-cloudberry".into(),
            down: what_is_down(FaultTarget::JobKafkaToWarehouse),
            restore_command: "TPCDS_STACK_DIR=/s /r/scripts/stack.sh resume kafka-to-cloudberry"
                .into(),
            attempts: 4,
            error: "`x` failed (exit status: 1): cannot read\nmore".into(),
        };
        let n = l.notice();
        assert!(n.contains("tpcds-kafka-to-cloudberry is stopped"), "{n}");
        assert!(n.contains("path 1"), "{n}");
        assert!(n.ends_with("Restore it with: TPCDS_STACK_DIR=/s /r/scripts/stack.sh resume kafka-to-cloudberry"), "{n}");
        assert!(!n.contains("more"), "only the error's first line: {n}");
    }
}
