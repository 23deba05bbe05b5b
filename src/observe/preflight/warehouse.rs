//! Warehouse checks: reachable, Cloudberry or PostgreSQL, schemas and tables
//! with `bench_ts` and `arrived_at`, and whether it keeps commit timestamps
//! (a warning when not: latencies then end less precisely).

use std::time::Duration;

use super::{Diagnosis, TargetReport};
use crate::observe::warehouse::{WarehouseConn, WarehouseKind};
use crate::redact::redact_url;

const START_WAREHOUSE: &str = "start the warehouse (scripts/stack.sh up) or fix its URL \
                               (scenario [targets] cloudberry, or TPCDS_WAREHOUSE_URL)";

/// Checks the warehouse and each schema in `schemas`.
pub async fn check_warehouse(url: &str, schemas: &[String], timeout: Duration) -> TargetReport {
    let mut report = TargetReport::new("warehouse", redact_url(url));
    let conn = match WarehouseConn::connect(url, timeout).await {
        Ok(c) => c,
        Err(e) => {
            report
                .problems
                .push(Diagnosis::from_error(&e, START_WAREHOUSE));
            return report;
        }
    };
    report.reachable = true;
    report.fact("kind", conn.info.kind.name());
    report.fact("version", &conn.info.version);
    report.fact(
        "open transactions visible",
        if conn.info.activity_visible {
            "yes (poll overlap follows open sink transactions)"
        } else {
            "no (poll overlap is the configured margin only; grant pg_read_all_stats)"
        },
    );
    let (value, warning) = commit_timestamps(conn.info.kind, conn.info.track_commit_timestamp);
    report.fact("track_commit_timestamp", value);
    if let Some((cost, fix)) = warning {
        report.warning(cost, fix);
    }
    for schema in schemas {
        match conn.check_tables(schema).await {
            Ok(()) => report.fact(&format!("schema {schema}"), "store_sales, store_returns ok"),
            Err(e) => report
                .problems
                .push(Diagnosis::from_error(&e, START_WAREHOUSE)),
        }
    }
    report
}

/// What `track_commit_timestamp` buys: each row version's commit time, where
/// path 1 and path 2 latencies end.
const COMMIT_TS_ON: &str = "on (path1/path2 latencies end at each row's commit timestamp)";

/// What the latency figures are without commit timestamps.
const WITHOUT_COMMIT_TS: &str = "path1/path2 latencies cannot end at each row's commit: they \
     end at its arrived_at stamp (taken inside the sink's transaction, so early by up to that \
     transaction's length) or, where that cannot be used (updates and deletes found by lookup, no \
     clock offset), at the poll's own detection, up to one poll interval (observe.poll_interval) late; \
     summary.json says which (sinks.<sink>.visibility.source), and compare/gate refuse to \
     set such runs against runs measured by commit timestamp";

/// The `track_commit_timestamp` fact, and, when the setting is not on, the
/// warning: what it costs and how to turn it on for this kind of server.
pub(super) fn commit_timestamps(
    kind: WarehouseKind,
    setting: Option<bool>,
) -> (&'static str, Option<(String, String)>) {
    let fix = match kind {
        WarehouseKind::PostgreSql => {
            "as a superuser: ALTER SYSTEM SET track_commit_timestamp = on; then restart \
             PostgreSQL (a reload is not enough); the native stack's scripts/stack.sh up does both"
        }
        WarehouseKind::Cloudberry | WarehouseKind::Greenplum => {
            "on the coordinator: gpconfig -c track_commit_timestamp -v on, then gpstop -ar \
             (restarts the cluster; untested here: this harness was only run against PostgreSQL)"
        }
    };
    match setting {
        Some(true) => (COMMIT_TS_ON, None),
        Some(false) => (
            "off",
            Some((
                format!("track_commit_timestamp is off: {WITHOUT_COMMIT_TS}"),
                fix.to_string(),
            )),
        ),
        None => (
            "unknown (the server did not say)",
            Some((
                format!(
                    "track_commit_timestamp could not be read (a server without the setting?): \
                     {WITHOUT_COMMIT_TS}"
                ),
                format!("if the server has the setting: {fix}"),
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_timestamps_on_is_a_fact_without_warning() {
        let (value, warning) = commit_timestamps(WarehouseKind::PostgreSql, Some(true));
        assert!(value.starts_with("on"));
        assert_eq!(warning, None);
    }

    #[test]
    fn commit_timestamps_off_warns_what_it_costs_and_how_to_enable_it() {
        let (value, warning) = commit_timestamps(WarehouseKind::PostgreSql, Some(false));
        assert_eq!(value, "off");
        let (cost, fix) = warning.unwrap();
        assert!(cost.contains("up to one poll interval"), "{cost}");
        assert!(cost.contains("poll's own detection"), "{cost}");
        assert!(
            fix.contains("ALTER SYSTEM SET track_commit_timestamp = on;"),
            "{fix}"
        );
        assert!(
            fix.contains("restart") && fix.contains("scripts/stack.sh up"),
            "{fix}"
        );

        for kind in [WarehouseKind::Cloudberry, WarehouseKind::Greenplum] {
            let (_, warning) = commit_timestamps(kind, Some(false));
            let (_, fix) = warning.unwrap();
            assert!(
                fix.contains("gpconfig -c track_commit_timestamp -v on")
                    && fix.contains("gpstop -ar")
                    && fix.contains("untested"),
                "{fix}"
            );
        }
    }

    #[test]
    fn commit_timestamps_unknown_warns_too() {
        let (value, warning) = commit_timestamps(WarehouseKind::Greenplum, None);
        assert!(value.starts_with("unknown"));
        let (cost, fix) = warning.unwrap();
        assert!(cost.contains("could not be read"), "{cost}");
        assert!(fix.contains("gpconfig"), "{fix}");
    }
}
