//! The binlog observer against the real MySQL/MariaDB of the stack: inserts,
//! an update and a delete in a private ticket range are reported with the
//! stamps written; rows outside the range are counted, not reported.

use crate::support::stack_check;

use std::time::Duration;

use crate::support::observe::*;
use tokio::sync::{mpsc, watch};
use tpcds_bench::model::{OpKind, Sink, Table};
use tpcds_bench::observe::binlog::{BinlogConfig, BinlogObserver};

#[tokio::test]
async fn binlog_reports_inserts_updates_deletes_in_range() {
    let _turn = crate::support::turn();
    stack_check::require();
    let tickets = unique_tickets();
    let t0 = tickets.start;
    let observer = BinlogObserver::start(BinlogConfig::new(mysql_url(), tickets.clone()))
        .await
        .unwrap_or_else(|e| panic!("binlog observer did not start: {e}; {HINT}"));
    assert!(!observer.position().file.is_empty());
    let (tx, rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(observer.run(tx, stop_rx));
    let mut got = Collector::new(rx);

    let mut w = Writer::connect().await;
    let a = key(Table::StoreSales, t0, 11);
    let b = key(Table::StoreSales, t0, 12);
    let r = key(Table::StoreReturns, t0, 11);
    let outside = key(Table::StoreSales, tickets.end, 11);
    let ta = w.insert(a).await;
    let tb = w.insert(b).await;
    let tr = w.insert(r).await;
    let to = w.insert(outside).await;
    let ta2 = w.update(a).await;
    // Out-of-range changes before the last awaited one: binlog order then
    // guarantees both were read (and ignored) when the test stops the observer.
    w.delete(outside).await;
    w.delete(b).await;
    assert!(to > 0);

    got.until("all six changes", Duration::from_secs(20), |s| {
        has(s, a, OpKind::Insert, Some(ta))
            && has(s, b, OpKind::Insert, Some(tb))
            && has(s, r, OpKind::Insert, Some(tr))
            && has(s, a, OpKind::Update, Some(ta2))
            && has(s, b, OpKind::Delete, Some(tb))
    })
    .await;
    stop_tx.send(true).unwrap();
    let stats = task.await.unwrap().expect("binlog observer failed");
    assert!(got
        .seen
        .iter()
        .all(|o| o.sink == Sink::Binlog && tickets.contains(&o.key.ticket)));
    assert!(got.seen.iter().all(|o| o.server_arrival.is_none()));
    assert_eq!(stats.observed as usize, got.seen.len());
    assert_eq!(got.seen.len(), 5, "{:#?}", got.seen);
    // The out-of-range insert and delete (plus anything else written meanwhile).
    assert!(stats.ignored >= 2, "{stats:?}");
    assert_eq!(stats.malformed, 0, "{stats:?}");
}

#[tokio::test]
async fn binlog_start_fails_with_exit_3_on_unreachable_server() {
    let _turn = crate::support::turn();
    let mut cfg = BinlogConfig::new("mysql://root:secret@127.0.0.1:1/business_db", 0..1);
    cfg.connect_timeout = Duration::from_secs(3);
    let err = BinlogObserver::start(cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let msg = format!("{err}");
    assert!(!msg.contains("secret"), "password leaked: {msg}");
}

#[tokio::test]
async fn binlog_start_fails_on_unknown_database_tables() {
    let _turn = crate::support::turn();
    stack_check::require();
    let mut cfg = BinlogConfig::new(mysql_url(), 0..1);
    cfg.database = "no_such_db_for_tpcds".to_string();
    let err = BinlogObserver::start(cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("does not exist"), "{err}");
}
