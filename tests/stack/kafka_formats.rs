//! Every Kafka changelog format the harness accepts, against Flink writing it
//! (issue 29): on the native stack, for each format the stack is switched to
//! it (`KAFKA_FORMAT=… scripts/stack.sh restart-jobs` of the three jobs that
//! use path 1's topics: fresh jobs on emptied topics), inserts, an update and
//! a delete written to MySQL must reach the Kafka observer (decoding that
//! format) with the right operation and stamp, and path 1 must end with
//! MySQL's contents. `run` with a scenario naming another format than the
//! running jobs' is refused (exit 3). The stack goes back to the format it ran
//! before at the end, also when the test fails.
//!
//! Cost: CI checks the format the stack runs (debezium-json: no switch, about
//! 10 s). Each other format costs a switch there and, at the end, one back
//! (1-2 min each on a quiet 2-core machine, minutes on a busy one): over CI's
//! ~3 minute budget for all six, so the per-format pass is
//! `CHECK=1 scripts/bench/formats.sh` (docs/FORMATS.md publishes its output), and
//! TPCDS_TEST_FORMATS="canal-json ogg-json" picks formats here.

use crate::support;
use crate::support::observe as observe_support;
use crate::support::stack_check;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::observe::{
    has, kafka_brokers, key, unique_tickets, warehouse_client, Collector, Writer, HINT,
    VISIBLE_TIMEOUT,
};
use mysql_async::prelude::Queryable;
use tokio::sync::{mpsc, watch};
use tpcds_bench::model::{OpKind, RowKey, StampMicros, Table};
use tpcds_bench::observe::decode::Format;
use tpcds_bench::observe::kafka::{KafkaConfig, KafkaObserver};
use tpcds_bench::observe::preflight::{check_flink, DEFAULT_FLINK_JOBS};

/// The jobs whose SQL depends on KAFKA_FORMAT (scripts/stack/format.sh).
const JOBS: [&str; 3] = [
    "mysql-cdc-to-kafka",
    "kafka-to-cloudberry",
    "streaming-analytics",
];

/// Switches the running stack's path-1 jobs to `format`.
fn switch(format: &str) -> Result<(), String> {
    let o = stack_check::stack_script()
        .env("KAFKA_FORMAT", format)
        .arg("restart-jobs")
        .args(JOBS)
        .output()
        .map_err(|e| format!("scripts/stack.sh does not run: {e}"))?;
    if o.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&o.stderr);
    let tail: Vec<&str> = err.lines().rev().take(12).collect();
    Err(format!(
        "KAFKA_FORMAT={format} scripts/stack.sh restart-jobs failed ({}): {}",
        o.status,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

/// The format the running path-1 jobs declare (job parameter kafka.format).
async fn running_format() -> String {
    let jobs: Vec<String> = DEFAULT_FLINK_JOBS.iter().map(|j| j.to_string()).collect();
    let report = check_flink(
        &observe_support::flink_url(),
        &jobs,
        Duration::from_secs(10),
    )
    .await;
    report
        .facts
        .iter()
        .find(|(k, _)| k == "setting.kafka.format")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("the running jobs declare no kafka.format: {report:?}"))
}

/// Puts the stack back on the format it ran before the test when dropped
/// (also on a panic), if the test switched it.
struct Restore(String);

impl Drop for Restore {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: ask on a thread of its own.
        let now = std::thread::spawn(|| {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(running_format())
        })
        .join()
        .unwrap_or_default();
        if now == self.0 {
            return;
        }
        if let Err(e) = switch(&self.0) {
            eprintln!("{e}");
            if !std::thread::panicking() {
                panic!("the stack could not be put back on {}: {e}", self.0);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kafka_format_carries_inserts_updates_deletes_to_the_observer_and_path1() {
    let _turn = crate::support::turn();
    if let Err(e) = stack_check::probe() {
        panic!("{e}");
    }
    if let Err(e) = stack_check::controls(JOBS[0], stack_check::stack_script()) {
        panic!("{e}");
    }
    let mut running = running_format().await;
    let _restore = Restore(running.clone());
    run_refuses_another_format(&running);
    let formats = std::env::var("TPCDS_TEST_FORMATS").unwrap_or_else(|_| running.clone());
    for name in formats.split_whitespace() {
        let format: Format = name
            .parse()
            .unwrap_or_else(|e| panic!("TPCDS_TEST_FORMATS: {e}"));
        if running != name {
            let t0 = Instant::now();
            switch(name).unwrap_or_else(|e| panic!("{e}"));
            eprintln!("switched to {name} in {:.0?}", t0.elapsed());
            running = running_format().await;
            assert_eq!(
                running, name,
                "the jobs declare another format after the switch"
            );
        }
        one_format(format).await;
    }
}

/// `run` with a scenario whose targets.kafka.format is not what the jobs
/// run: exit 3 before any load, naming both formats and the switch.
fn run_refuses_another_format(running: &str) {
    let other = if running == "canal-json" {
        "debezium-json"
    } else {
        "canal-json"
    };
    let out = tempfile::tempdir().unwrap();
    let set = format!("targets.kafka.format={other}");
    let o = support::run_scenario(
        "quickstart.toml",
        &["duration=2s", "warmup=0s", "drain_timeout=1s", &set],
        out.path(),
    );
    support::assert_exit(&o, 3);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(running) && err.contains(other) && err.contains("KAFKA_FORMAT="),
        "{err}"
    );
}

/// Writes to MySQL in a private ticket range and checks what the Kafka
/// observer decodes and what path 1 ends with, under `format`.
async fn one_format(format: Format) {
    let tickets = unique_tickets();
    let t0 = tickets.start;
    let mut cfg = KafkaConfig::new(kafka_brokers(), tickets.clone());
    cfg.format = format;
    let observer = KafkaObserver::start(cfg)
        .await
        .unwrap_or_else(|e| panic!("{format}: Kafka observer did not start: {e}; {HINT}"));
    let (tx, rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(observer.run(tx, stop_rx));
    let mut got = Collector::new(rx);

    let mut w = Writer::connect().await;
    let a = key(Table::StoreSales, t0, 21);
    let b = key(Table::StoreSales, t0 + 1, 22);
    let r = key(Table::StoreReturns, t0, 21);
    let ta = w.insert(a).await;
    let tb = w.insert(b).await;
    let tr = w.insert(r).await;
    let ta2 = w.update(a).await;
    w.delete(b).await;

    // What each format says about these writes (see tests/observe_fixtures.rs).
    let mut want = vec![
        (a, OpKind::Insert, Some(ta)),
        (b, OpKind::Insert, Some(tb)),
        (r, OpKind::Insert, Some(tr)),
        (a, OpKind::Insert, Some(ta2)),
    ];
    match format {
        Format::UpsertKafka => want.push((b, OpKind::Delete, None)),
        Format::Json => {}
        _ => {
            want.push((a, OpKind::Delete, Some(ta)));
            want.push((b, OpKind::Delete, Some(tb)));
        }
    }
    let what = format!("{format}: {want:?}");
    got.until(&what, VISIBLE_TIMEOUT, |s| {
        want.iter().all(|&(k, op, st)| has(s, k, op, st))
    })
    .await;
    stop_tx.send(true).unwrap();
    let stats = task.await.unwrap().expect("Kafka observer failed");
    assert_eq!(got.seen.len(), want.len(), "{format}: {:#?}", got.seen);
    assert_eq!(stats.malformed, 0, "{format}: {stats:?}");

    // Path 1 ends with MySQL's contents: a with its update, r; b deleted
    // (json cannot carry the delete: b stays, the format's stated limit).
    let mysql = mysql_rows(&mut w, t0).await;
    let expect_mysql: BTreeSet<(RowKey, StampMicros)> = [(a, ta2), (r, tr)].into();
    assert_eq!(mysql, expect_mysql, "{format}: MySQL");
    let mut expect_path1 = mysql.clone();
    if !format.carries_deletes() {
        expect_path1.insert((b, tb));
    }
    let deadline = Instant::now() + VISIBLE_TIMEOUT;
    loop {
        let path1 = path1_rows(t0).await;
        if path1 == expect_path1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{format}: path1 holds {path1:?}, expected {expect_path1:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// (key, bench_ts in µs) of MySQL's rows with tickets t0 and t0 + 1.
async fn mysql_rows(w: &mut Writer, t0: u64) -> BTreeSet<(RowKey, StampMicros)> {
    let mut out = BTreeSet::new();
    for table in [Table::StoreSales, Table::StoreReturns] {
        let p = table.prefix();
        let sql = format!(
            "SELECT {p}item_sk, {p}ticket_number, \
             CAST(UNIX_TIMESTAMP(bench_ts) * 1000000 AS SIGNED) FROM {} \
             WHERE {p}ticket_number BETWEEN ? AND ?",
            table.name()
        );
        let rows: Vec<(u32, u64, i64)> = w.conn().exec(sql, (t0, t0 + 1)).await.expect("select");
        out.extend(
            rows.into_iter()
                .map(|(item, ticket, ts)| (key(table, ticket, item), ts)),
        );
    }
    out
}

/// The same from path 1 in the warehouse.
async fn path1_rows(t0: u64) -> BTreeSet<(RowKey, StampMicros)> {
    let c = warehouse_client().await;
    let mut out = BTreeSet::new();
    for table in [Table::StoreSales, Table::StoreReturns] {
        let p = table.prefix();
        let sql = format!(
            "SELECT {p}item_sk, {p}ticket_number, \
             (extract(epoch FROM bench_ts) * 1000000)::bigint FROM path1.{} \
             WHERE {p}ticket_number BETWEEN $1 AND $2",
            table.name()
        );
        let rows = c
            .query(&sql, &[&(t0 as i64), &(t0 as i64 + 1)])
            .await
            .expect("select from path1");
        out.extend(rows.iter().map(|row| {
            let item: i32 = row.get(0);
            let ticket: i64 = row.get(1);
            (key(table, ticket as u64, item as u32), row.get::<_, i64>(2))
        }));
    }
    out
}
