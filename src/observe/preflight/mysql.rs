//! MySQL/MariaDB checks: reachable, version, binlog settings a CDC source needs,
//! server time zone, and the business tables with their `bench_ts` column.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use super::TargetReport;
use crate::model::Table;
use crate::observe::decode::{key_columns, STAMP_COLUMN};
use crate::observe::ObserveError;
use crate::redact::redact_url;
use crate::targets::mysql::opts;

const START_MYSQL: &str = "start MySQL/MariaDB (scripts/stack.sh up) or fix the MySQL URL \
                           (scenario [targets] mysql, or TPCDS_MYSQL_URL)";

/// Opens one connection within `timeout`.
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<Conn, ObserveError> {
    let target = redact_url(url);
    let opts = opts(url).map_err(|e| {
        ObserveError::misconfigured(
            &target,
            format!("not a valid MySQL URL: {e}"),
            "use mysql://user:password@host:port/database",
        )
    })?;
    tokio::time::timeout(timeout, Conn::new(opts))
        .await
        .map_err(|_| ObserveError::unreachable(&target, format!("no answer within {timeout:?}")))?
        .map_err(|e| ObserveError::unreachable(&target, e))
}

/// The current binlog file and position (`SHOW MASTER STATUS` on MariaDB and
/// MySQL < 8.4, `SHOW BINARY LOG STATUS` on MySQL 8.4+); `None` if binary
/// logging is off.
pub(crate) async fn binlog_position(
    conn: &mut Conn,
) -> Result<Option<(String, u64)>, mysql_async::Error> {
    let row: Option<Row> = match conn.query_first("SHOW MASTER STATUS").await {
        Ok(r) => r,
        Err(mysql_async::Error::Server(_)) => conn.query_first("SHOW BINARY LOG STATUS").await?,
        Err(e) => return Err(e),
    };
    Ok(row.and_then(|r| Some((r.get::<String, _>(0)?, r.get::<u64, _>(1)?))))
}

/// Column names of `database.table` in ordinal order (empty if no such table).
pub(crate) async fn columns(
    conn: &mut Conn,
    database: &str,
    table: &str,
) -> Result<Vec<String>, mysql_async::Error> {
    conn.exec(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        (database, table),
    )
    .await
}

/// Version, flavour and binlog settings as facts; every setting a CDC source
/// (and the binlog observer) depends on that is wrong becomes a problem.
pub(crate) async fn settings(
    conn: &mut Conn,
    require_binlog: bool,
    report: &mut TargetReport,
) -> Result<(), mysql_async::Error> {
    type Settings = (String, String, String, String, String, String, String);
    let row: Option<Settings> = conn
        .query_first(
            "SELECT VERSION(), CAST(@@GLOBAL.log_bin AS CHAR), @@GLOBAL.binlog_format, \
             @@GLOBAL.binlog_row_image, CAST(@@GLOBAL.server_id AS CHAR), @@GLOBAL.time_zone, \
             @@GLOBAL.system_time_zone",
        )
        .await?;
    let Some((version, log_bin, format, image, server_id, tz, system_tz)) = row else {
        return Ok(());
    };
    let flavour = if version.to_ascii_lowercase().contains("mariadb") {
        "MariaDB"
    } else {
        "MySQL"
    };
    report.fact("flavour", flavour);
    report.fact("version", &version);
    report.fact("log_bin", &log_bin);
    report.fact("binlog_format", &format);
    report.fact("binlog_row_image", &image);
    report.fact("server_id", &server_id);
    report.fact("time_zone", format!("{tz} (system {system_tz})"));
    if require_binlog {
        if !matches!(log_bin.as_str(), "1" | "ON") {
            report.problem(
                "binary logging is off (log_bin); CDC reads the binlog",
                "start the server with log_bin and a server_id (the stack's my.cnf does)",
            );
        }
        if !format.eq_ignore_ascii_case("ROW") {
            report.problem(
                format!("binlog_format is {format}; the CDC source needs ROW"),
                "set binlog_format=ROW in the server config (or SET GLOBAL binlog_format='ROW')",
            );
        }
        if !image.eq_ignore_ascii_case("FULL") {
            report.problem(
                format!("binlog_row_image is {image}; the CDC source needs FULL"),
                "set binlog_row_image=FULL in the server config (or SET GLOBAL binlog_row_image='FULL')",
            );
        }
        if let Some((file, pos)) = binlog_position(conn).await? {
            report.fact("binlog_position", format!("{file}:{pos}"));
        }
    }
    let utc = matches!(tz.as_str(), "+00:00" | "UTC" | "Etc/UTC")
        || (tz == "SYSTEM"
            && matches!(
                system_tz.as_str(),
                "UTC" | "GMT" | "Etc/UTC" | "Coordinated Universal Time"
            ));
    if !utc {
        report.problem(
            format!("server time zone is {tz} (system {system_tz}), not UTC; the CDC sources' server-time-zone is UTC"),
            "start the server with default-time-zone='+00:00'",
        );
    }
    Ok(())
}

/// Both business tables exist with their key columns and `bench_ts`.
pub(crate) async fn tables(
    conn: &mut Conn,
    database: &str,
    report: &mut TargetReport,
) -> Result<(), mysql_async::Error> {
    for table in Table::ALL {
        let cols = columns(conn, database, table.name()).await?;
        if cols.is_empty() {
            report.problem(
                format!("table {database}.{table} does not exist"),
                "create it (mysql-init/01-init-tpcds-tables.sql; scripts/stack.sh up runs it)",
            );
            continue;
        }
        let (item, ticket) = key_columns(table);
        let missing: Vec<&str> = [item.as_str(), ticket.as_str(), STAMP_COLUMN]
            .into_iter()
            .filter(|c| !cols.iter().any(|have| have.eq_ignore_ascii_case(c)))
            .collect();
        if missing.is_empty() {
            report.fact(&format!("{table}.columns"), cols.len());
        } else {
            report.problem(
                format!("table {database}.{table} lacks column(s) {}", missing.join(", ")),
                "add `bench_ts DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)` as in mysql-init/01-init-tpcds-tables.sql",
            );
        }
    }
    Ok(())
}

/// Checks MySQL/MariaDB: reachable, version, binlog settings (if
/// `require_binlog`), time zone, tables.
pub async fn check_mysql(
    url: &str,
    database: &str,
    require_binlog: bool,
    timeout: Duration,
) -> TargetReport {
    let mut report = TargetReport::new("mysql", redact_url(url));
    let mut conn = match connect(url, timeout).await {
        Ok(c) => c,
        Err(e) => {
            report
                .problems
                .push(super::Diagnosis::from_error(&e, START_MYSQL));
            return report;
        }
    };
    report.reachable = true;
    let result = async {
        settings(&mut conn, require_binlog, &mut report).await?;
        tables(&mut conn, database, &mut report).await
    }
    .await;
    if let Err(e) = result {
        report.problem(
            format!("a check query failed: {e}"),
            "check the user's privileges (SELECT on information_schema, REPLICATION CLIENT)",
        );
    }
    let _ = conn.disconnect().await;
    report
}

/// Probes per clock estimate.
const CLOCK_PROBES: usize = 8;

/// The MySQL server clock's offset from the harness's: the best of
/// [`CLOCK_PROBES`] round trips of `SELECT UNIX_TIMESTAMP(NOW(6))`. MySQL's
/// clock stamps nothing the latency figures use (the commit ack is the
/// harness's own); it is reported so a skewed source server is visible.
pub async fn clock(url: &str, timeout: Duration) -> Result<crate::clock::OffsetTracker, String> {
    let mut conn = connect(url, timeout).await.map_err(|e| e.to_string())?;
    let mut tracker = crate::clock::OffsetTracker::new(CLOCK_PROBES);
    // A first query settles the connection: not a probe.
    let _: Option<String> = conn
        .query_first("SELECT 1")
        .await
        .map_err(|e| e.to_string())?;
    for _ in 0..CLOCK_PROBES {
        let sent = std::time::Instant::now();
        let now: Option<String> = conn
            .query_first("SELECT CAST(UNIX_TIMESTAMP(NOW(6)) AS CHAR)")
            .await
            .map_err(|e| e.to_string())?;
        let received = std::time::Instant::now();
        let server = now
            .as_deref()
            .and_then(parse_unix_micros)
            .ok_or_else(|| format!("UNIX_TIMESTAMP(NOW(6)) answered {now:?}"))?;
        tracker.add(crate::clock::Probe {
            sent,
            server,
            received,
            reading_us: 0,
        });
    }
    let _ = conn.disconnect().await;
    Ok(tracker)
}

/// `1796478555.200841` → µs since the epoch.
fn parse_unix_micros(s: &str) -> Option<i64> {
    let (secs, frac) = s.trim().split_once('.').unwrap_or((s.trim(), "0"));
    let secs: i64 = secs.parse().ok()?;
    let mut digits: String = frac.chars().take(6).collect();
    while digits.len() < 6 {
        digits.push('0');
    }
    Some(secs * 1_000_000 + digits.parse::<i64>().ok()?)
}

#[cfg(test)]
mod clock_tests {
    #[test]
    fn unix_timestamps_with_any_fraction_parse_to_micros() {
        use super::parse_unix_micros as p;
        assert_eq!(p("1796478555.200841"), Some(1_796_478_555_200_841));
        assert_eq!(p("1796478555.2"), Some(1_796_478_555_200_000));
        assert_eq!(p("1796478555"), Some(1_796_478_555_000_000));
        assert_eq!(p("x"), None);
    }
}
