//! Warehouse checks: reachable, Cloudberry or PostgreSQL, schemas and tables
//! with `bench_ts` and `arrived_at`.

use std::time::Duration;

use super::{Diagnosis, TargetReport};
use crate::observe::warehouse::WarehouseConn;
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
