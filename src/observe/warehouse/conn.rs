//! Connecting to the warehouse, telling Cloudberry from PostgreSQL, checking the
//! sink tables, and counting a run's rows.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::{Client, NoTls};

use crate::model::Table;
use crate::observe::ObserveError;
use crate::redact::redact_url;

/// Which server the warehouse URL reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarehouseKind {
    /// Apache Cloudberry (MPP, `DISTRIBUTED BY`).
    Cloudberry,
    /// Greenplum (Cloudberry's ancestor, same DDL).
    Greenplum,
    /// Plain PostgreSQL (the stand-in).
    PostgreSql,
}

impl WarehouseKind {
    /// Reads the kind from `SELECT version()`.
    pub fn from_version(version: &str) -> Self {
        let v = version.to_ascii_lowercase();
        if v.contains("cloudberry") {
            WarehouseKind::Cloudberry
        } else if v.contains("greenplum") {
            WarehouseKind::Greenplum
        } else {
            WarehouseKind::PostgreSql
        }
    }

    /// Whether tables need `DISTRIBUTED BY` (the MPP kinds).
    pub fn is_mpp(self) -> bool {
        !matches!(self, WarehouseKind::PostgreSql)
    }

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            WarehouseKind::Cloudberry => "Cloudberry",
            WarehouseKind::Greenplum => "Greenplum",
            WarehouseKind::PostgreSql => "PostgreSQL",
        }
    }
}

/// What the run prints about the warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarehouseInfo {
    /// Cloudberry, Greenplum or PostgreSQL.
    pub kind: WarehouseKind,
    /// `SELECT version()` verbatim.
    pub version: String,
    /// Whether this user sees other sessions' `xact_start` in `pg_stat_activity`
    /// (superuser or `pg_read_all_stats`). Without it the poll overlap is only
    /// the configured margin; see [`crate::observe::warehouse`].
    pub activity_visible: bool,
    /// `track_commit_timestamp`: `Some(true)` when the server keeps commit
    /// timestamps (the poller then reads when each row version became
    /// visible), `Some(false)` when off, `None` when the server has no such
    /// setting.
    pub track_commit_timestamp: Option<bool>,
}

/// `application_name` of the sessions that poll a derived relation. The
/// stack's refresher (`warehouse-init/refresh.sh`) refreshes the PostgreSQL
/// materialized views only while such a session is connected, so runs that do
/// not read them do not pay for refreshes (measured: 0.7–1.0 s of warehouse
/// CPU every 2 s at 70k rows per path, growing with the tables).
pub const DERIVED_READER: &str = "tpcds-bench derived reader";

/// An open warehouse connection plus what it is.
pub struct WarehouseConn {
    /// The tokio-postgres client (its connection task runs on the runtime).
    pub client: Client,
    /// Server kind and version.
    pub info: WarehouseInfo,
    target: String,
}

impl std::fmt::Debug for WarehouseConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarehouseConn")
            .field("target", &self.target)
            .field("info", &self.info)
            .finish()
    }
}

impl WarehouseConn {
    /// Connects (within `timeout`) and detects the server kind.
    /// The session's `application_name` is the URL's, else `tpcds-bench`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, ObserveError> {
        Self::open(url, timeout, None).await
    }

    /// Like [`WarehouseConn::connect`], naming the session `application_name`
    /// even when the URL names it otherwise (what `pg_stat_activity` shows; the
    /// stack's matview refresher looks for [`DERIVED_READER`] sessions, so the
    /// name is a signal, not a label).
    pub async fn connect_as(
        url: &str,
        timeout: Duration,
        application_name: &str,
    ) -> Result<Self, ObserveError> {
        Self::open(url, timeout, Some(application_name)).await
    }

    async fn open(
        url: &str,
        timeout: Duration,
        application_name: Option<&str>,
    ) -> Result<Self, ObserveError> {
        let target = redact_url(url);
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            ObserveError::misconfigured(
                &target,
                format!("not a valid PostgreSQL URL: {e}"),
                "use postgres://user:password@host:port/database",
            )
        })?;
        match application_name {
            Some(name) => {
                config.application_name(name);
            }
            None if config.get_application_name().is_none() => {
                config.application_name("tpcds-bench");
            }
            None => {}
        }
        let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
            .await
            .map_err(|_| {
                ObserveError::unreachable(&target, format!("no answer within {timeout:?}"))
            })?
            .map_err(|e| ObserveError::unreachable(&target, e))?;
        // The connection future drives the socket; when it ends (server gone),
        // every later query on `client` fails and the poller reports a fault.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let version: String = client
            .query_one("SELECT version()", &[])
            .await
            .map_err(|e| ObserveError::unreachable(&target, e))?
            .get(0);
        let activity_visible: bool = client
            .query_one(
                "SELECT r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') \
                 FROM pg_roles r WHERE r.rolname = current_user",
                &[],
            )
            .await
            .map(|row| row.get(0))
            .unwrap_or(false);
        let track_commit_timestamp = client
            .query_one(
                "SELECT current_setting('track_commit_timestamp', true)",
                &[],
            )
            .await
            .ok()
            .and_then(|row| row.get::<_, Option<String>>(0))
            .map(|v| v == "on");
        Ok(WarehouseConn {
            client,
            info: WarehouseInfo {
                kind: WarehouseKind::from_version(&version),
                version,
                activity_visible,
                track_commit_timestamp,
            },
            target,
        })
    }

    /// The redacted URL, for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Checks that `schema` has both tables with their key columns, `bench_ts`
    /// and `arrived_at`; each gap is a misconfiguration (exit code 3).
    pub async fn check_tables(&self, schema: &str) -> Result<(), ObserveError> {
        check_identifier(&self.target, schema)?;
        for table in Table::ALL {
            let cols = self.columns(schema, table.name()).await?;
            if cols.is_empty() {
                return Err(ObserveError::misconfigured(
                    &self.target,
                    format!("table {schema}.{table} does not exist"),
                    "create the warehouse schemas (scripts/stack.sh up creates path1 and path2)",
                ));
            }
            let (item, ticket) = crate::observe::decode::key_columns(table);
            let missing: Vec<&str> = [item.as_str(), ticket.as_str(), "bench_ts", "arrived_at"]
                .into_iter()
                .filter(|c| !cols.iter().any(|have| have == c))
                .collect();
            if !missing.is_empty() {
                return Err(ObserveError::misconfigured(
                    &self.target,
                    format!(
                        "table {schema}.{table} lacks column(s) {}",
                        missing.join(", ")
                    ),
                    "add `bench_ts TIMESTAMP(6)` and `arrived_at TIMESTAMPTZ NOT NULL DEFAULT \
                     clock_timestamp()` (with an index on arrived_at) as in the stack's DDL",
                ));
            }
        }
        Ok(())
    }

    /// Column names of `schema.table`, empty if the table does not exist.
    pub async fn columns(&self, schema: &str, table: &str) -> Result<Vec<String>, ObserveError> {
        let rows = self
            .client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                &[&schema, &table],
            )
            .await
            .map_err(|e| ObserveError::unreachable(&self.target, e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Rows per table of `schema` whose ticket number is in `tickets` (for the
    /// end-of-run accounting cross-check).
    pub async fn count_rows(
        &self,
        schema: &str,
        tickets: &Range<u64>,
    ) -> Result<BTreeMap<Table, u64>, ObserveError> {
        check_identifier(&self.target, schema)?;
        let (lo, hi) = ticket_bounds(tickets);
        let mut out = BTreeMap::new();
        for table in Table::ALL {
            let sql = format!("SELECT count(*) {}", run_rows(schema, table));
            let n: i64 = self
                .client
                .query_one(sql.as_str(), &[&lo, &hi])
                .await
                .map_err(|e| ObserveError::fault(&self.target, e))?
                .get(0);
            out.insert(table, n.max(0) as u64);
        }
        Ok(out)
    }

    /// Deletes the rows per table of `schema` whose ticket number is in
    /// `tickets` (`tpcds-bench clean`); returns how many each table held.
    pub async fn delete_rows(
        &self,
        schema: &str,
        tickets: &Range<u64>,
    ) -> Result<BTreeMap<Table, u64>, ObserveError> {
        check_identifier(&self.target, schema)?;
        let (lo, hi) = ticket_bounds(tickets);
        let mut out = BTreeMap::new();
        for table in Table::ALL {
            let sql = format!("DELETE {}", run_rows(schema, table));
            let n = self
                .client
                .execute(sql.as_str(), &[&lo, &hi])
                .await
                .map_err(|e| ObserveError::fault(&self.target, e))?;
            out.insert(table, n);
        }
        Ok(out)
    }
}

/// `FROM … WHERE` of a run's rows in `schema.table`, tickets as `$1..$2`.
fn run_rows(schema: &str, table: Table) -> String {
    format!(
        "FROM \"{schema}\".{t} WHERE {p}ticket_number >= $1 AND {p}ticket_number < $2",
        t = table.name(),
        p = table.prefix()
    )
}

/// The ticket range as BIGINT parameters (`[lo, hi)`, clamped to i64).
pub(crate) fn ticket_bounds(tickets: &Range<u64>) -> (i64, i64) {
    let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    (clamp(tickets.start), clamp(tickets.end))
}

/// Schema names are spliced into SQL: allow plain identifiers only.
pub(crate) fn check_identifier(target: &str, name: &str) -> Result<(), ObserveError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ObserveError::misconfigured(
            target,
            format!("schema name {name:?} is not a plain identifier"),
            "use lower-case letters, digits and underscores (e.g. path1)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_from_version_strings() {
        assert_eq!(
            WarehouseKind::from_version(
                "PostgreSQL 14.4 (Apache Cloudberry 2.0.0-incubating build 1) on x86_64-pc-linux-gnu"
            ),
            WarehouseKind::Cloudberry
        );
        assert_eq!(
            WarehouseKind::from_version(
                "PostgreSQL 12.12 (Greenplum Database 7.0.0 build commit:abc)"
            ),
            WarehouseKind::Greenplum
        );
        let pg = WarehouseKind::from_version(
            "PostgreSQL 15.8 (Debian 15.8-0+deb12u1) on x86_64-pc-linux-gnu",
        );
        assert_eq!(pg, WarehouseKind::PostgreSql);
        assert!(!pg.is_mpp() && WarehouseKind::Cloudberry.is_mpp());
    }

    #[test]
    fn identifiers() {
        assert!(check_identifier("t", "path1").is_ok());
        assert!(check_identifier("t", "_x9").is_ok());
        for bad in ["", "Path1", "1path", "path1; drop table x", "a\"b"] {
            assert_eq!(
                check_identifier("t", bad).unwrap_err().exit_code(),
                3,
                "{bad}"
            );
        }
    }

    #[test]
    fn ticket_bounds_clamp() {
        assert_eq!(ticket_bounds(&(5..10)), (5, 10));
        assert_eq!(ticket_bounds(&(5..u64::MAX)), (5, i64::MAX));
    }
}
