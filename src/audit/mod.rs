//! The audit: does each warehouse path hold, value for value, what MySQL holds
//! over a run's ticket range? The ledger proves every row version arrived (by
//! key and stamp); this proves the values arrived intact. Per table it
//! compares the row count, each money column's sum and an order-independent
//! digest of every row's canonical text, all computed inside each database
//! ([`sql`] has every statement and the canonical text), and narrows a
//! difference down to its keys ([`narrow`]).

pub mod narrow;
mod report;
pub mod side;
pub mod sql;

pub use report::*;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Sink, Table};
use side::Side;

/// The sinks the audit compares with MySQL.
pub const AUDITED: [Sink; 2] = [Sink::Path1, Sink::Path2];

/// Why an audit could not finish.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A connection could not be opened.
    #[error("cannot reach {target}: {message}")]
    Connect {
        /// Redacted URL.
        target: String,
        /// What the driver said.
        message: String,
    },
    /// A statement failed.
    #[error("{side}: the audit query failed: {message}")]
    Query {
        /// Which side.
        side: String,
        /// What the driver said (secrets masked).
        message: String,
    },
}

/// Where the audit connects.
#[derive(Debug, Clone)]
pub struct Targets {
    /// MySQL URL (with its password).
    pub mysql: String,
    /// Warehouse URL (with its password).
    pub warehouse: String,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Audits `sinks` (those of [`AUDITED`]) over `tickets`. Fails only when a
/// database cannot be reached; a sink whose audit fails later carries its error.
pub async fn audit(
    targets: &Targets,
    tickets: &Range<u64>,
    sinks: &[Sink],
) -> Result<AuditReport, AuditError> {
    let mut report = AuditReport {
        tickets: format!("{}..{}", tickets.start, tickets.end),
        sinks: BTreeMap::new(),
    };
    let wanted: Vec<Sink> = AUDITED.into_iter().filter(|s| sinks.contains(s)).collect();
    if wanted.is_empty() {
        return Ok(report);
    }
    let (mut my, client) = connect(targets).await?;
    for s in wanted {
        let mut wh = Side::Warehouse {
            client: client.clone(),
            schema: s.name().to_string(),
        };
        report
            .sinks
            .insert(s, audit_sink(&mut my, &mut wh, tickets).await);
    }
    if let Side::MySql(c) = my {
        let _ = c.disconnect().await;
    }
    Ok(report)
}

/// A report whose every sink failed with `e` (the databases were unreachable).
pub fn failed(tickets: &Range<u64>, sinks: &[Sink], e: &AuditError) -> AuditReport {
    AuditReport {
        tickets: format!("{}..{}", tickets.start, tickets.end),
        sinks: AUDITED
            .into_iter()
            .filter(|s| sinks.contains(s))
            .map(|s| {
                (
                    s,
                    SinkAudit {
                        error: Some(e.to_string()),
                        ..SinkAudit::default()
                    },
                )
            })
            .collect(),
    }
}

async fn connect(t: &Targets) -> Result<(Side, Arc<tokio_postgres::Client>), AuditError> {
    let unreachable = |target: &str, e: String| AuditError::Connect {
        target: crate::redact::redact_url(target),
        message: crate::redact::redact_text(&e).into_owned(),
    };
    let my = tokio::time::timeout(CONNECT_TIMEOUT, mysql_async::Conn::from_url(&t.mysql))
        .await
        .map_err(|_| unreachable(&t.mysql, "no answer".into()))?
        .map_err(|e| unreachable(&t.mysql, e.to_string()))?;
    let wh = crate::observe::warehouse::WarehouseConn::connect(&t.warehouse, CONNECT_TIMEOUT)
        .await
        .map_err(|e| unreachable(&t.warehouse, e.to_string()))?;
    let mut my = Side::MySql(my);
    my.prepare().await?;
    let client = Arc::new(wh.client);
    Side::Warehouse {
        client: client.clone(),
        schema: String::new(),
    }
    .prepare()
    .await?;
    Ok((my, client))
}

async fn audit_sink(my: &mut Side, wh: &mut Side, tickets: &Range<u64>) -> SinkAudit {
    let started = Instant::now();
    let mut out = SinkAudit::default();
    for table in Table::ALL {
        match narrow::table(my, wh, table, tickets).await {
            Ok(t) => {
                out.rows += t.rows_mysql;
                out.mismatched += t.mismatched;
                out.tables.insert(table, t);
            }
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        }
    }
    out.took_ms = started.elapsed().as_millis() as u64;
    out
}
