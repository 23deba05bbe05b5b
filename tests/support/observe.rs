//! Shared helpers of the `observe_*` integration tests: endpoints from the
//! environment, a MySQL writer for a private ticket range, and collecting what
//! an observer reports.
//!
//! The tests need the running stack (`scripts/stack.sh up`); a service that
//! cannot be reached fails the test with a message saying which and how to fix it.

#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use mysql_async::prelude::Queryable;
use tokio::sync::mpsc;
use tpcds_bench::model::{Observation, OpKind, RowKey, StampMicros, Table};
use tpcds_bench::redact::redact_url;

/// How long a change may take to reach a sink: this checks arrival, not speed.
pub const VISIBLE_TIMEOUT: Duration = Duration::from_secs(60);

pub const HINT: &str = "start the stack with `scripts/stack.sh up`, or point TPCDS_MYSQL_URL / \
                        TPCDS_KAFKA_BROKERS / TPCDS_WAREHOUSE_URL / TPCDS_FLINK_URL at a running one";

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

pub fn mysql_url() -> String {
    env(
        "TPCDS_MYSQL_URL",
        "mysql://root:root123@127.0.0.1:3306/business_db",
    )
}

pub fn kafka_brokers() -> String {
    env("TPCDS_KAFKA_BROKERS", "127.0.0.1:9092")
}

pub fn warehouse_url() -> String {
    env(
        "TPCDS_WAREHOUSE_URL",
        "postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds",
    )
}

/// A connected warehouse client (its connection driven on the test's runtime);
/// an unreachable warehouse fails the test, saying how to start it.
pub async fn warehouse_client() -> tokio_postgres::Client {
    let url = warehouse_url();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("warehouse at {} unreachable: {e}; {HINT}", redact_url(&url)));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

pub fn flink_url() -> String {
    env("TPCDS_FLINK_URL", "http://127.0.0.1:8081")
}

/// Drops a test's private warehouse schema when the test ends, pass or fail
/// (a failed assertion would otherwise leave it behind on the shared stack).
/// Create it right after the schema is created.
pub struct DropSchema(pub String);

impl Drop for DropSchema {
    fn drop(&mut self) {
        drop_schema(&warehouse_url(), &self.0);
    }
}

/// Drops `schema` at `url` now, on a thread of its own (callable from `Drop`,
/// inside or outside a runtime); failures are ignored.
pub fn drop_schema(url: &str, schema: &str) {
    let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    let url = url.to_string();
    // A fresh runtime on a plain thread: Drop may run inside the test's runtime.
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            if let Ok((c, conn)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                tokio::spawn(conn);
                let _ = c.batch_execute(&sql).await;
            }
        });
    })
    .join();
}

/// A ticket range no other run uses: derived from the current time in µs
/// (tickets are BIGINT; 1000 tickets per test).
pub fn unique_tickets() -> std::ops::Range<u64> {
    let us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let lo = us * 1000;
    lo..lo + 1000
}

/// Now, truncated to µs, as a stamp and as the DATETIME(6) text MySQL takes.
pub fn stamp_now() -> (StampMicros, String) {
    let now = Utc::now();
    let us = now.timestamp_micros();
    let dt = DateTime::<Utc>::from_timestamp_micros(us).unwrap();
    (us, dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
}

pub fn key(table: Table, ticket: u64, item: u32) -> RowKey {
    RowKey {
        table,
        ticket,
        item,
    }
}

/// Writes rows into MySQL's business tables.
pub struct Writer {
    conn: mysql_async::Conn,
}

impl Writer {
    pub async fn connect() -> Writer {
        let url = mysql_url();
        let opts = mysql_async::Opts::from_url(&url).expect("TPCDS_MYSQL_URL is not a MySQL URL");
        let conn = tokio::time::timeout(Duration::from_secs(10), mysql_async::Conn::new(opts))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "MySQL at {} did not answer in 10 s; {HINT}",
                    redact_url(&url)
                )
            })
            .unwrap_or_else(|e| panic!("MySQL at {} unreachable: {e}; {HINT}", redact_url(&url)));
        Writer { conn }
    }

    /// The connection, for queries of a test's own.
    pub fn conn(&mut self) -> &mut mysql_async::Conn {
        &mut self.conn
    }

    /// Inserts a row of `key.table` with `bench_ts` = now; returns the stamp.
    pub async fn insert(&mut self, key: RowKey) -> StampMicros {
        let (us, text) = stamp_now();
        let sql = match key.table {
            Table::StoreSales => {
                "INSERT INTO store_sales (ss_item_sk, ss_ticket_number, ss_quantity, ss_sales_price, \
                 ss_net_paid, bench_ts) VALUES (?, ?, 3, 12.34, 37.02, ?)"
            }
            Table::StoreReturns => {
                "INSERT INTO store_returns (sr_item_sk, sr_ticket_number, sr_return_quantity, sr_return_amt, \
                 bench_ts) VALUES (?, ?, 1, 12.34, ?)"
            }
        };
        self.conn
            .exec_drop(sql, (key.item, key.ticket, text))
            .await
            .expect("insert");
        us
    }

    /// Updates a row (a price correction) with a new `bench_ts`; returns it.
    pub async fn update(&mut self, key: RowKey) -> StampMicros {
        let (us, text) = stamp_now();
        let sql = match key.table {
            Table::StoreSales => {
                "UPDATE store_sales SET ss_sales_price = 11.11, bench_ts = ? \
                 WHERE ss_item_sk = ? AND ss_ticket_number = ?"
            }
            Table::StoreReturns => {
                "UPDATE store_returns SET sr_return_amt = 11.11, bench_ts = ? \
                 WHERE sr_item_sk = ? AND sr_ticket_number = ?"
            }
        };
        self.conn
            .exec_drop(sql, (text, key.item, key.ticket))
            .await
            .expect("update");
        assert_eq!(self.conn.affected_rows(), 1, "update of {key} hit no row");
        us
    }

    pub async fn delete(&mut self, key: RowKey) {
        let sql = match key.table {
            Table::StoreSales => {
                "DELETE FROM store_sales WHERE ss_item_sk = ? AND ss_ticket_number = ?"
            }
            Table::StoreReturns => {
                "DELETE FROM store_returns WHERE sr_item_sk = ? AND sr_ticket_number = ?"
            }
        };
        self.conn
            .exec_drop(sql, (key.item, key.ticket))
            .await
            .expect("delete");
        assert_eq!(self.conn.affected_rows(), 1, "delete of {key} hit no row");
    }
}

/// Everything an observer reported so far.
pub struct Collector {
    rx: mpsc::Receiver<Vec<Observation>>,
    pub seen: Vec<Observation>,
}

impl Collector {
    pub fn new(rx: mpsc::Receiver<Vec<Observation>>) -> Self {
        Collector {
            rx,
            seen: Vec::new(),
        }
    }

    /// Receives until `pred` holds on everything seen, or panics after `timeout`
    /// saying what was seen.
    pub async fn until(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[Observation]) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !pred(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(batch)) => self.seen.extend(batch),
                Ok(None) => panic!("observer stopped before {what}; seen: {:#?}", self.seen),
                Err(_) => panic!("{what} not seen within {timeout:?}; seen: {:#?}", self.seen),
            }
        }
    }

    /// Whether an observation of `key` with `op` and `stamp` was seen.
    pub fn has(&self, key: RowKey, op: OpKind, stamp: Option<StampMicros>) -> bool {
        has(&self.seen, key, op, stamp)
    }
}

pub fn has(seen: &[Observation], key: RowKey, op: OpKind, stamp: Option<StampMicros>) -> bool {
    seen.iter()
        .any(|o| o.key == key && o.op == op && o.stamp == stamp)
}
