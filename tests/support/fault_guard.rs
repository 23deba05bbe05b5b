//! The guard every stack-backed fault test holds ([`Healthy`]): the stack
//! must be healthy and controlled by this checkout before the fault, and is
//! brought back (and a canary row must flow through both paths) after it,
//! even when the test fails.
#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;

use super as support;
use super::stack_check;

/// The warehouse URL the stack listens on (env override as everywhere).
pub fn warehouse_url() -> String {
    std::env::var("TPCDS_WAREHOUSE_URL")
        .unwrap_or_else(|_| "postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds".into())
}

/// Brings back what the test stopped when dropped (also when the test
/// panics): `scripts/stack.sh heal` (starts this stack's stopped components,
/// resubmits jobs that are not running; installs and downloads nothing), then
/// a canary row must reach path1 and path2. Made only by [`Healthy::arm`]: a
/// test restores only a stack that was healthy before it and that this
/// checkout's script controls. Before, the clean-up ran `scripts/stack.sh up`
/// on any machine, which installs packages, downloads Flink and Kafka and
/// starts six daemons.
pub struct Healthy;

impl Healthy {
    /// Fails the test at once, before any fault, unless the stack is healthy
    /// and this checkout can stop and restore `target`.
    pub fn arm(target: &str) -> Healthy {
        if let Err(e) = stack_check::probe() {
            panic!("{e}");
        }
        if let Err(e) = stack_check::controls(target, stack_check::stack_script()) {
            panic!("{e}");
        }
        Healthy
    }
}

impl Drop for Healthy {
    fn drop(&mut self) {
        let heal = stack_check::stack_script().arg("heal").output();
        if !matches!(&heal, Ok(o) if o.status.success()) {
            eprintln!("scripts/stack.sh heal after the fault test failed: {heal:?}");
        }
        let flowed = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(canary(Duration::from_secs(120)));
        if let Err(e) = flowed {
            eprintln!("canary after the fault test: {e}");
            if !std::thread::panicking() {
                panic!("the stack is not healthy after the fault test: {e}");
            }
        }
    }
}

/// Inserts one row far from any run's tickets, waits until both warehouse
/// paths have it, deletes it.
pub async fn canary(limit: Duration) -> Result<(), String> {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let ticket = 4_000_000_000_000_000_000 + micros * 8;
    let mut my = mysql_async::Conn::from_url(support::mysql_url())
        .await
        .map_err(|e| e.to_string())?;
    my.query_drop(format!(
        "INSERT INTO store_sales (ss_item_sk, ss_ticket_number) VALUES (1, {ticket})"
    ))
    .await
    .map_err(|e| e.to_string())?;
    let (pg, conn) = tokio_postgres::connect(&warehouse_url(), tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let started = Instant::now();
    let result = loop {
        let mut seen = 0;
        for schema in ["path1", "path2"] {
            let row = pg
                .query_one(
                    &format!(
                        "SELECT count(*) FROM {schema}.store_sales WHERE ss_ticket_number = $1"
                    ),
                    &[&ticket],
                )
                .await
                .map_err(|e| e.to_string())?;
            seen += row.get::<_, i64>(0);
        }
        if seen == 2 {
            break Ok(());
        }
        if started.elapsed() > limit {
            break Err(format!(
                "canary ticket {ticket} not in path1 and path2 after {limit:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let _ = my
        .query_drop(format!(
            "DELETE FROM store_sales WHERE ss_ticket_number = {ticket}"
        ))
        .await;
    result
}
