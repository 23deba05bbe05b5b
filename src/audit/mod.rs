//! The audit: does each warehouse path, and the Kafka sink's last image of
//! each key, hold value for value what MySQL holds over a run's ticket range?
//! The ledger proves every row version arrived (by key and stamp); this
//! proves the values arrived intact. Per table it compares the row count,
//! each money column's sum and an order-independent digest of every row's
//! canonical text, computed inside each database ([`sql`] has every statement
//! and the canonical text; [`crate::observe::decode::canonical`] renders
//! Kafka's images the same way, [`kafka`] reads them back), and narrows a
//! difference down to its keys ([`narrow`]).

pub mod kafka;
pub mod narrow;
pub mod periodic;
mod report;
mod series;
pub mod side;
pub mod source;
pub mod sql;

pub use report::*;
pub use series::*;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Sink, Table};
use side::Side;

/// The sinks the audit compares with MySQL.
pub const AUDITED: [Sink; 3] = [Sink::Kafka, Sink::Path1, Sink::Path2];

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
    /// Where the Kafka sink is read back (`None`: Kafka is not audited).
    pub kafka: Option<kafka::KafkaSource>,
    /// The Kafka observer's tally of the run, compared first (the topics
    /// are read back only when it is unusable or differs).
    pub kafka_tally: Option<crate::observe::kafka::tally::Tally>,
    /// The binlog observer's tally of MySQL's rows in the run's range, used
    /// for MySQL's totals when usable and MySQL's row count agrees (see
    /// [`crate::observe::binlog::tally`]).
    pub binlog_tally: Option<crate::observe::binlog::tally::Tally>,
}

impl Targets {
    /// The scenario's targets; the Kafka sink read back from `since` (the
    /// run's start) when the run observed it.
    pub fn of(s: &crate::scenario::Scenario, since: chrono::DateTime<chrono::Utc>) -> Targets {
        Targets {
            mysql: s.targets.mysql.expose().to_string(),
            warehouse: s.targets.warehouse.expose().to_string(),
            kafka: Some(kafka::KafkaSource {
                brokers: s.targets.kafka.brokers.clone(),
                topic_prefix: s.targets.kafka.topic_prefix.clone(),
                format: s.targets.kafka.format.into(),
                extra: Vec::new(),
                since,
            }),
            kafka_tally: None,
            binlog_tally: None,
        }
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Audits `sinks` (those of [`AUDITED`]) over `tickets`. Fails only when a
/// database cannot be reached; a sink whose audit fails later carries its error.
///
/// Per table, MySQL's totals are taken once for every sink, at the same
/// time as the warehouse paths compute theirs (one after the other, see
/// [`sink_totals`]) and Kafka's are taken: from
/// the binlog observer's tally when it stands for MySQL, else in MySQL, as
/// two halves of the range on two connections at once (see [`source`]);
/// only a sink whose totals differ is narrowed down (MySQL's side of the
/// narrowing is per sink).
pub async fn audit(
    targets: &Targets,
    tickets: &Range<u64>,
    sinks: &[Sink],
) -> Result<AuditReport, AuditError> {
    let started = Instant::now();
    let mut report = AuditReport {
        tickets: format!("{}..{}", tickets.start, tickets.end),
        ..AuditReport::default()
    };
    let wanted: Vec<Sink> = AUDITED
        .into_iter()
        .filter(|s| sinks.contains(s) && (*s != Sink::Kafka || targets.kafka.is_some()))
        .collect();
    if wanted.is_empty() {
        return Ok(report);
    }
    let (mut my, mut whs) = connect(targets, tickets, &wanted).await?;
    let mut my2 = connect_mysql(targets).await?;
    let mut audits: BTreeMap<Sink, SinkAudit> =
        wanted.iter().map(|s| (*s, SinkAudit::default())).collect();
    let binlog = targets.binlog_tally.as_ref();
    let mut mysql_tally = binlog.map(|t| MysqlTallied {
        changes: t.changes,
        used: false,
        sql_because: t.unusable.clone(),
    });
    for table in Table::ALL {
        let tally = binlog.and_then(|t| t.of(table));
        let (a, b) = tokio::join!(
            timed(source::totals(&mut my, &mut my2, tally, table, tickets)),
            sink_totals(&mut whs, table, tickets)
        );
        let ((mut a, mut why), mut my_ms) = a;
        // MySQL's side came from the binlog's tally and a sink differs from
        // it: MySQL's own rows decide, and the narrowing reads them.
        if let (Some(_), None, Ok(x)) = (tally, &why, &a) {
            let differing = whs
                .iter()
                .zip(&b)
                .find(|(_, (y, _))| matches!(y, Ok(y) if !x.agrees(y)));
            if let Some(((sink, _), _)) = differing {
                why = Some(format!("{sink}'s {table} differed from the binlog's tally"));
                let (again, ms) = timed(source::halves(&mut my, &mut my2, table, tickets)).await;
                (a, my_ms) = (again, my_ms + ms);
            }
        }
        if let (Some(note), Some(w)) = (&mut mysql_tally, why) {
            note.sql_because.get_or_insert(w);
        }
        report.mysql_ms += my_ms;
        let a = a.map_err(|e| e.to_string());
        for ((sink, wh), (mut b, mut wh_ms)) in whs.iter_mut().zip(b) {
            // The tally differs: read the topics back and compare those.
            if let (Ok(x), Ok(y), Side::Kafka(k)) = (&a, &b, &mut *wh) {
                if k.is_tallied() && !x.agrees(y) {
                    k.read_back();
                    (b, wh_ms) = timed(wh.totals(table, tickets)).await;
                }
            }
            let out = audits.entry(*sink).or_default();
            if out.error.is_some() {
                continue;
            }
            let narrowing = Instant::now();
            let t = match (&a, b) {
                (Err(e), _) => Err(e.clone()),
                (_, Err(e)) => Err(e.to_string()),
                (Ok(a), Ok(b)) => narrow::table(&mut my, wh, table, tickets, a, &b)
                    .await
                    .map_err(|e| e.to_string()),
            };
            match t {
                Ok(mut t) => {
                    // The sink's time: until both sides' totals were there,
                    // plus its narrowing.
                    t.took_ms = my_ms.max(wh_ms) + narrowing.elapsed().as_millis() as u64;
                    out.rows += t.rows_mysql;
                    out.mismatched += t.mismatched;
                    out.took_ms += t.took_ms;
                    out.tables.insert(table, t);
                }
                Err(e) => out.error = Some(e),
            }
        }
    }
    for side in [my, my2] {
        if let Side::MySql(c) = side {
            let _ = c.disconnect().await;
        }
    }
    for (_, side) in &mut whs {
        if let Side::Kafka(k) = side {
            report.kafka_read = k.read_so_far().await.map(|i| i.read);
            report.kafka_tally = k.tallied();
        }
    }
    report.sinks = audits;
    report.mysql_tally = mysql_tally.map(|n| MysqlTallied {
        used: n.sql_because.is_none(),
        ..n
    });
    report.took_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Each sink's totals of `table` with the time each took: Kafka's (its
/// tally, or its read-back, already under way) at once, the warehouse paths
/// one after the other. PostgreSQL runs each path's statement in parallel
/// itself (a leader and two workers: 1.1–1.3 s for a 5-minute run's
/// store_sales at 1,000 rows/s here, 2.0–2.5 s on one process); on two
/// cores, both paths at once took as long in all (2.5 s) and each path's
/// time then stood for both (docs/RESULTS.md).
async fn sink_totals(
    whs: &mut [(Sink, Side)],
    table: Table,
    tickets: &Range<u64>,
) -> Vec<(Result<side::Aggregate, AuditError>, u64)> {
    let kafka = whs.iter().take_while(|(s, _)| *s == Sink::Kafka).count();
    let (k, paths) = whs.split_at_mut(kafka);
    let (mut out, p) = tokio::join!(
        futures::future::join_all(k.iter_mut().map(|(_, w)| timed(w.totals(table, tickets)))),
        async {
            let mut v = Vec::new();
            for (_, w) in paths.iter_mut() {
                v.push(timed(w.totals(table, tickets)).await);
            }
            v
        }
    );
    out.extend(p);
    out
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, u64) {
    let t = Instant::now();
    let out = f.await;
    (out, t.elapsed().as_millis() as u64)
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
        ..AuditReport::default()
    }
}

/// MySQL, one warehouse connection per path (PostgreSQL runs one statement
/// at a time per connection; the paths are audited at once), and the Kafka
/// sink: its observer's tally when usable, else its read-back, started now
/// so it overlaps the databases' work.
async fn connect(
    t: &Targets,
    tickets: &Range<u64>,
    sinks: &[Sink],
) -> Result<(Side, Vec<(Sink, Side)>), AuditError> {
    let (my, paths) = connect_databases(t, sinks).await?;
    let mut whs = Vec::new();
    if let (true, Some(src)) = (sinks.contains(&Sink::Kafka), t.kafka.clone()) {
        let images = kafka::KafkaImages::new(src, tickets.clone(), t.kafka_tally.clone());
        whs.push((Sink::Kafka, Side::Kafka(Box::new(images))));
    }
    whs.extend(paths);
    Ok((my, whs))
}

/// A MySQL connection, its session prepared (UTC, see [`Side::prepare`]).
async fn connect_mysql(t: &Targets) -> Result<Side, AuditError> {
    let my = tokio::time::timeout(CONNECT_TIMEOUT, mysql_async::Conn::from_url(&t.mysql))
        .await
        .map_err(|_| unreachable(&t.mysql, "no answer".into()))?
        .map_err(|e| unreachable(&t.mysql, e.to_string()))?;
    let mut my = Side::MySql(my);
    my.prepare().await?;
    Ok(my)
}

fn unreachable(target: &str, e: String) -> AuditError {
    AuditError::Connect {
        target: crate::redact::redact_url(target),
        message: crate::redact::redact_text(&e).into_owned(),
    }
}

/// MySQL and one warehouse connection per path of `sinks`, each session
/// prepared (UTC, see [`Side::prepare`]).
pub(crate) async fn connect_databases(
    t: &Targets,
    sinks: &[Sink],
) -> Result<(Side, Vec<(Sink, Side)>), AuditError> {
    let my = connect_mysql(t).await?;
    let mut whs = Vec::new();
    for s in sinks.iter().filter(|s| **s != Sink::Kafka) {
        let wh = crate::observe::warehouse::WarehouseConn::connect(&t.warehouse, CONNECT_TIMEOUT)
            .await
            .map_err(|e| unreachable(&t.warehouse, e.to_string()))?;
        let mut side = Side::Warehouse {
            client: Arc::new(wh.client),
            schema: s.name().to_string(),
        };
        side.prepare().await?;
        whs.push((*s, side));
    }
    Ok((my, whs))
}
