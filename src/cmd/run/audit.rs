//! The end-of-run audit: after the drain, each warehouse path and Kafka against MySQL
//! over the run's tickets (see [`crate::audit`]).

use std::ops::Range;
use std::time::Duration;

use crate::audit::{AuditReport, Targets, AUDITED};
use crate::scenario::Scenario;

/// A difference found right after the drain may be a change still on its
/// way (the drain ends when every version was seen, but a delete may still be
/// in flight): look again this often, this many times, before reporting it.
/// A real difference persists, so this only costs time when there is one.
const SETTLE: Duration = Duration::from_secs(2);
const SETTLE_TRIES: u32 = 2;

/// Audits the observed sinks (Kafka and the warehouse paths); `None` when `[audit] enabled = false`,
/// the run was interrupted, or no audited sink was observed.
pub async fn after_drain(
    scenario: &Scenario,
    tickets: &Range<u64>,
    started_at: chrono::DateTime<chrono::Utc>,
    interrupted: bool,
) -> Option<AuditReport> {
    let sinks: Vec<_> = AUDITED
        .into_iter()
        .filter(|s| scenario.observe.sinks.contains(s))
        .collect();
    if !scenario.audit.enabled || interrupted || sinks.is_empty() {
        return None;
    }
    let targets = Targets::of(scenario, started_at);
    let once = || async {
        crate::audit::audit(&targets, tickets, &sinks)
            .await
            .unwrap_or_else(|e| crate::audit::failed(tickets, &sinks, &e))
    };
    let mut report = once().await;
    for _ in 0..SETTLE_TRIES {
        if report.mismatched() == 0 {
            break;
        }
        eprintln!(
            "audit: {} rows differ from MySQL; looking again in {} s (a change may still be in flight)",
            report.mismatched(),
            SETTLE.as_secs()
        );
        tokio::time::sleep(SETTLE).await;
        report = once().await;
    }
    Some(report)
}
