//! The audit: does each warehouse path hold, value for value, what MySQL holds
//! over a run's ticket range? The ledger proves every row version arrived (by
//! key and stamp); this proves the values arrived intact. Per table it
//! compares the row count, each money column's sum and an order-independent
//! digest of every row's canonical text, all computed inside each database
//! ([`sql`] has every statement and the canonical text), and narrows a
//! difference down to its keys ([`narrow`]).

pub mod narrow;
pub mod side;
pub mod sql;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

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

/// How a key differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// In MySQL, not at the sink.
    Missing,
    /// At the sink, not in MySQL.
    Extra,
    /// At both, with different values.
    Changed,
}

/// One column of a changed row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDiff {
    /// Column name.
    pub column: String,
    /// MySQL's canonical value.
    pub mysql: String,
    /// The sink's.
    pub sink: String,
}

/// One differing key, with both sides' canonical text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDiff {
    /// `item_sk`.
    pub item: u32,
    /// `ticket_number`.
    pub ticket: u64,
    /// Missing, extra or changed.
    pub kind: DiffKind,
    /// MySQL's row (canonical text), if it has one.
    pub mysql: Option<String>,
    /// The sink's row, if it has one.
    pub sink: Option<String>,
    /// For a changed row: the columns that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnDiff>,
}

/// A money column whose sum differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SumDiff {
    /// Column name.
    pub column: String,
    /// MySQL's sum.
    pub mysql: String,
    /// The sink's.
    pub sink: String,
}

/// One table at one sink.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableAudit {
    /// Rows MySQL holds in the range.
    pub rows_mysql: u64,
    /// Rows the sink holds in the range.
    pub rows_sink: u64,
    /// Keys whose rows differ (missing, extra or changed).
    pub mismatched: u64,
    /// The first [`narrow::LISTED`] differing keys, by ticket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyDiff>,
    /// Differing keys not listed.
    #[serde(default)]
    pub more_keys: u64,
    /// Money columns whose sums differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sums_differ: Vec<SumDiff>,
    /// How long this table's comparison took (ms).
    pub took_ms: u64,
}

/// One sink.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SinkAudit {
    /// Rows compared (MySQL's rows in the range, both tables).
    pub rows: u64,
    /// Differing keys, both tables.
    pub mismatched: u64,
    /// How long the sink's audit took (ms), both tables.
    pub took_ms: u64,
    /// Per table.
    pub tables: BTreeMap<Table, TableAudit>,
    /// Why the audit of this sink could not finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The audit of a run: `summary.json`'s `audit`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditReport {
    /// The ticket range compared (`a..b`).
    pub tickets: String,
    /// Per audited sink.
    pub sinks: BTreeMap<Sink, SinkAudit>,
}

impl AuditReport {
    /// Differing keys over every sink (an unfinished sink counts as one).
    pub fn mismatched(&self) -> u64 {
        self.sinks
            .values()
            .map(|s| s.mismatched + u64::from(s.error.is_some()))
            .sum()
    }

    /// One line per sink, for the terminal and summary.md.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (sink, a) in &self.sinks {
            if let Some(e) = &a.error {
                out.push(format!("{sink}: audit failed: {e}"));
                continue;
            }
            let tables: Vec<String> = a
                .tables
                .iter()
                .map(|(t, x)| {
                    format!(
                        "{t} {}/{} rows, {} differ",
                        x.rows_sink, x.rows_mysql, x.mismatched
                    )
                })
                .collect();
            out.push(format!(
                "{sink}: {} rows compared with MySQL, {} differ ({}), {} ms",
                a.rows,
                a.mismatched,
                tables.join("; "),
                a.took_ms
            ));
            for (t, x) in &a.tables {
                for k in &x.keys {
                    out.push(format!("  {sink} {}", describe(*t, k)));
                }
                if x.more_keys > 0 {
                    out.push(format!("  {sink} {t}: … and {} more keys", x.more_keys));
                }
            }
        }
        out
    }
}

/// One differing key in one line.
pub fn describe(table: Table, k: &KeyDiff) -> String {
    let key = format!("{table}(ticket={}, item={})", k.ticket, k.item);
    match k.kind {
        DiffKind::Missing => format!("{key}: missing at the sink (MySQL: {})", show(&k.mysql)),
        DiffKind::Extra => format!("{key}: not in MySQL (sink: {})", show(&k.sink)),
        DiffKind::Changed if !k.columns.is_empty() => format!(
            "{key}: {}",
            k.columns
                .iter()
                .map(|c| format!("{} MySQL {} ≠ sink {}", c.column, c.mysql, c.sink))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DiffKind::Changed => format!(
            "{key}: differs (MySQL: {}; sink: {})",
            show(&k.mysql),
            show(&k.sink)
        ),
    }
}

fn show(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(gone)")
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
