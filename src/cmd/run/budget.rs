//! The harness's memory budget: a projection of the run's peak resident set
//! from the scenario, checked against `observe.memory_limit_mib` before the
//! run starts (a warning, not a refusal: the projection is a model), and the
//! peak the kernel measured (`VmHWM`), which the report prints beside it.
//!
//! The model (constants measured, see docs/METHODOLOGY.md "The harness's
//! memory"): a fixed base (code, librdkafka, the runtime, connection buffers)
//! plus, at the scenario's peak rate, the ledger's in-flight rows over
//! [`IN_FLIGHT_S`] and its duplicate window, the warehouse pollers' and the
//! writers' stamp memories (each capped), and the per-second statistics.

use std::fmt;

use crate::caveat::Caveat;
use crate::plan::Plan;
use crate::report::HarnessMemory;
use crate::scenario::Scenario;

/// Code, librdkafka's and the runtime's buffers, MySQL/PostgreSQL sessions.
const BASE_BYTES: f64 = 64.0 * 1024.0 * 1024.0;
/// Seconds of rows the projection holds in flight: a sink that far behind
/// (a short stall or a slow path) is within budget.
pub const IN_FLIGHT_S: f64 = 30.0;
/// Ledger bytes per in-flight row version (`cargo bench --bench memory`, worst table load).
const LEDGER_IN_FLIGHT: f64 = 90.0;
/// Ledger bytes per row version in the duplicate window (same bench).
const LEDGER_WINDOW: f64 = 45.0;
/// Bytes per key a warehouse poller or a writer remembers (id, stamp, FIFO, slack).
const STAMP_KEY: f64 = 40.0;
/// RAM per second of run kept for the report: counters, the lanes'
/// summaries and where the second's histograms are (they are spilled to a
/// file, `stats::spill`): 1.2 KB by `cargo bench --bench memory`.
const PER_SECOND: f64 = 2048.0;

/// The projected peak resident set of running `s`, bytes.
pub fn project(s: &Scenario, plan: &Plan) -> u64 {
    let secs = s.duration.as_secs_f64();
    let peak_rate = plan.peak_rate(s.duration);
    let rows = plan.expected_rows(s.duration);
    let ledger = peak_rate
        * (IN_FLIGHT_S * LEDGER_IN_FLIGHT
            + s.observe.duplicate_window.as_secs_f64() * LEDGER_WINDOW);
    let mutates = s.mix.update_probability > 0.0 || s.mix.delete_probability > 0.0;
    let pool = crate::plan::mutation_pool(s) as f64;
    let workers = f64::from(s.load.workers);
    let pollers = [crate::model::Sink::Path1, crate::model::Sink::Path2]
        .iter()
        .filter(|k| s.observe.observes(**k))
        .count() as f64;
    let present_cap = if mutates {
        2.0 * workers * pool
    } else {
        200_000.0
    };
    let stamps = if mutates {
        rows.min(2.0 * workers * pool)
    } else {
        0.0
    };
    let keys = pollers * rows.min(present_cap) + stamps;
    (BASE_BYTES + ledger + keys * STAMP_KEY + secs * PER_SECOND) as u64
}

/// The budget in bytes.
pub fn limit(s: &Scenario) -> u64 {
    s.observe.memory_limit_mib * 1024 * 1024
}

/// A warning when the projection exceeds the budget.
pub fn warning(projected: u64, limit: u64) -> Option<String> {
    (projected > limit).then(|| {
        format!(
            "warning: the harness is projected to need {:.0} MiB at peak, over its budget of {:.0} MiB \
             (observe.memory_limit_mib): shorten observe.duplicate_window, lower the rate, or raise the budget",
            projected as f64 / 1048576.0,
            limit as f64 / 1048576.0
        )
    })
}

/// The harness's peak resident set over its budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverBudget(pub HarnessMemory);

impl OverBudget {
    /// The caveat of `memory`, when its peak exceeded the budget.
    pub fn of(memory: &HarnessMemory) -> Option<Caveat> {
        let over = memory
            .peak_rss_bytes
            .is_some_and(|b| b > memory.limit_bytes);
        over.then(|| Caveat::new(OverBudget(*memory)))
    }
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the harness's peak RSS exceeded its budget (observe.memory_limit_mib): {}",
            self.0.line()
        )
    }
}

/// The process's peak resident set (`VmHWM`), bytes.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_hwm(&status)
}

fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_from_proc_status() {
        let status =
            "Name:\ttpcds-bench\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(vm_hwm(status), Some(123_456 * 1024));
        assert_eq!(vm_hwm("Name: x\n"), None);
        assert!(peak_rss().is_some_and(|b| b > 0), "Linux says");
    }

    #[test]
    fn warns_only_over_the_budget_and_projects_more_for_more_rate() {
        assert!(warning(10, 10).is_none());
        let w = warning(2 << 30, 1 << 30).expect("over");
        assert!(
            w.contains("2048 MiB") && w.contains("1024 MiB") && w.contains("memory_limit_mib"),
            "{w}"
        );
        let mut s = crate::scenario::parse_str(
            include_str!("../../../scenarios/high-throughput.toml"),
            "high-throughput.toml",
        )
        .unwrap();
        let low = project(&s, &Plan::from_scenario(&s));
        s.apply_overrides(&[(
            "load.rate".into(),
            "{ kind = \"constant\", per_second = 20000 }".into(),
        )])
        .unwrap();
        let high = project(&s, &Plan::from_scenario(&s));
        assert!(high > low && low > BASE_BYTES as u64, "{low} {high}");
    }
}
