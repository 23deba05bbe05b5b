//! The poller's own guarantees, on the real warehouse server but in a private
//! schema this test creates and writes itself (standing in for the JDBC sink):
//! - a row written by a transaction that stays open while later rows are seen
//!   is still found when it commits (the bound follows open transactions);
//! - an update that does not move `arrived_at` (as on Cloudberry, where no
//!   row trigger runs) is confirmed by the key lookup;
//! - a registered delete is confirmed once the row is gone.

use crate::support::stack_check;

use std::time::Duration;

use crate::support::observe::*;
use tokio::sync::{mpsc, watch};
use tpcds_bench::model::{OpKind, Sink, StampMicros, Table};
use tpcds_bench::observe::warehouse::{ChangeWatch, WarehouseConfig, WarehouseObserver};

fn ts(us: StampMicros) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap()
        .naive_utc()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poller_finds_late_commits_lookup_updates_and_deletes() {
    let _turn = crate::support::turn();
    stack_check::require();
    let tickets = unique_tickets();
    let t0 = tickets.start as i64;
    let schema = format!("obs_test_{}", tickets.start % 1_000_000_000);
    // Dropped at the end even when an assertion fails (IF EXISTS: also when
    // creating it failed half-way).
    let _drop_schema = DropSchema(schema.clone());
    let admin = warehouse_client().await;
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.store_sales (ss_item_sk INT NOT NULL, ss_ticket_number BIGINT NOT NULL,
               bench_ts TIMESTAMP(6) NOT NULL, arrived_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
               PRIMARY KEY (ss_item_sk, ss_ticket_number));
             CREATE TABLE {schema}.store_returns (sr_item_sk INT NOT NULL, sr_ticket_number BIGINT NOT NULL,
               bench_ts TIMESTAMP(6) NOT NULL, arrived_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
               PRIMARY KEY (sr_item_sk, sr_ticket_number));"
        ))
        .await
        .expect("create test schema");

    let changes = ChangeWatch::new();
    let mut cfg = WarehouseConfig::new(warehouse_url(), Sink::Path1, tickets.clone());
    cfg.schema = schema.clone();
    cfg.poll_interval = Duration::from_millis(20);
    cfg.overlap = Duration::from_millis(10);
    cfg.watch = Some(changes.clone());
    let obs = WarehouseObserver::start(cfg).await.expect("poller start");
    assert!(
        obs.info().activity_visible,
        "this test needs a user that sees pg_stat_activity (superuser or pg_read_all_stats): {:?}",
        obs.info()
    );
    let (tx, rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(obs.run(tx, stop_rx));
    let mut got = Collector::new(rx);

    let insert =
        "INSERT INTO {s}.store_sales (ss_item_sk, ss_ticket_number, bench_ts) VALUES ($1, $2, $3)"
            .replace("{s}", &schema);
    let (sx, sy, sy2) = (
        1_800_000_000_000_001,
        1_800_000_000_000_002,
        1_800_000_000_000_003,
    );
    let x = key(Table::StoreSales, t0 as u64, 1);
    let y = key(Table::StoreSales, t0 as u64, 2);

    // x: written first (older arrived_at), committed last.
    let mut late = warehouse_client().await;
    let txn = late.transaction().await.unwrap();
    txn.execute(insert.as_str(), &[&1i32, &t0, &ts(sx)])
        .await
        .unwrap();
    admin
        .execute(insert.as_str(), &[&2i32, &t0, &ts(sy)])
        .await
        .unwrap();
    got.until("y", VISIBLE_TIMEOUT, |s| {
        has(s, y, OpKind::Insert, Some(sy))
    })
    .await;
    // Many polls pass while x is invisible; a bound that followed only the
    // rows seen would now be past x's arrived_at.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!has(&got.seen, x, OpKind::Insert, Some(sx)));
    txn.commit().await.unwrap();
    got.until("x after its late commit", VISIBLE_TIMEOUT, |s| {
        has(s, x, OpKind::Insert, Some(sx))
    })
    .await;

    // An upsert that leaves arrived_at alone: only the lookup can see it.
    admin
        .execute(
            format!("UPDATE {schema}.store_sales SET bench_ts = $1 WHERE ss_item_sk = 2 AND ss_ticket_number = $2").as_str(),
            &[&ts(sy2), &t0],
        )
        .await
        .unwrap();
    changes.register_update(y, sy2);
    admin
        .execute(
            format!(
                "DELETE FROM {schema}.store_sales WHERE ss_item_sk = 1 AND ss_ticket_number = $1"
            )
            .as_str(),
            &[&t0],
        )
        .await
        .unwrap();
    changes.register_delete(x);
    got.until("y's update and x's delete", VISIBLE_TIMEOUT, |s| {
        has(s, y, OpKind::Update, Some(sy2)) && has(s, x, OpKind::Delete, Some(sx))
    })
    .await;

    stop_tx.send(true).unwrap();
    let stats = task.await.unwrap().expect("poller failed");
    assert_eq!(got.seen.len(), 4, "{:#?}", got.seen);
    assert_eq!(
        (stats.updates_looked_up, stats.deletes_confirmed),
        (1, 1),
        "{stats:?}"
    );
    assert!(got
        .seen
        .iter()
        .filter(|o| o.op == OpKind::Insert)
        .all(|o| o.server_arrival.is_some()));
    assert!(got
        .seen
        .iter()
        .filter(|o| o.op != OpKind::Insert)
        .all(|o| o.server_arrival.is_none()));
}

// Issue 22: the poller test dropped its schema only at its end, so a failed
// assertion left it on the shared warehouse. The guard drops it on a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_test_leaves_no_schema_behind() {
    let _turn = crate::support::turn();
    let schema = format!("obs_guard_{}", unique_tickets().start % 1_000_000_000);
    let admin = warehouse_client().await;
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create test schema");
    let guarded = schema.clone();
    let failed = std::thread::spawn(move || {
        let _drop_schema = DropSchema(guarded);
        panic!("an assertion of a test failed (expected by this test)");
    })
    .join();
    assert!(failed.is_err());
    let left: i64 = admin
        .query_one(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "schema {schema} is still there");
}
