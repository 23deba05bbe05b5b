//! The warehouse pollers against the real stack (path 1 through Kafka, path 2
//! straight from CDC): inserts are found by `arrived_at`, an update and a delete
//! registered in a `ChangeWatch` are confirmed, the row counts of the range
//! match, and startup problems are exit-code-3 errors.

use crate::support::stack_check;

use std::time::Duration;

use crate::support::observe::*;
use tokio::sync::{mpsc, watch};
use tpcds_bench::model::{Observation, OpKind, Sink, Table};
use tpcds_bench::observe::warehouse::{
    ChangeWatch, WarehouseConfig, WarehouseConn, WarehouseObserver,
};

fn both(s: &[Observation], pred: impl Fn(&[Observation]) -> bool) -> bool {
    [Sink::Path1, Sink::Path2].iter().all(|&sink| {
        let mine: Vec<Observation> = s.iter().filter(|o| o.sink == sink).copied().collect();
        pred(&mine)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warehouse_reports_arrivals_updates_and_deletes_on_both_paths() {
    let _turn = crate::support::turn();
    stack_check::require();
    let tickets = unique_tickets();
    let t0 = tickets.start;
    let changes = ChangeWatch::new();
    let (tx, rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for sink in [Sink::Path1, Sink::Path2] {
        let mut cfg = WarehouseConfig::new(warehouse_url(), sink, tickets.clone());
        cfg.watch = Some(changes.clone());
        cfg.poll_interval = Duration::from_millis(50);
        let obs = WarehouseObserver::start(cfg)
            .await
            .unwrap_or_else(|e| panic!("{sink} poller did not start: {e}; {HINT}"));
        assert!(
            obs.info().version.contains("PostgreSQL"),
            "{:?}",
            obs.info()
        );
        tasks.push(tokio::spawn(obs.run(tx.clone(), stop_rx.clone())));
    }
    drop(tx);
    let mut got = Collector::new(rx);

    let mut w = Writer::connect().await;
    let a = key(Table::StoreSales, t0, 41);
    let b = key(Table::StoreSales, t0 + 1, 42);
    let r = key(Table::StoreReturns, t0, 41);
    let outside = key(Table::StoreSales, tickets.end, 41);
    let ta = w.insert(a).await;
    let tb = w.insert(b).await;
    let tr = w.insert(r).await;
    w.insert(outside).await;

    got.until(
        "the three inserts on path1 and path2",
        VISIBLE_TIMEOUT,
        |s| {
            both(s, |m| {
                has(m, a, OpKind::Insert, Some(ta))
                    && has(m, b, OpKind::Insert, Some(tb))
                    && has(m, r, OpKind::Insert, Some(tr))
            })
        },
    )
    .await;
    assert!(
        got.seen.iter().all(|o| o.server_arrival.is_some()),
        "arrivals carry arrived_at"
    );

    let ta2 = w.update(a).await;
    changes.register_update(a, ta2);
    w.delete(b).await;
    changes.register_delete(b);

    got.until(
        "the update and the delete on path1 and path2",
        VISIBLE_TIMEOUT,
        |s| {
            both(s, |m| {
                has(m, a, OpKind::Update, Some(ta2)) && has(m, b, OpKind::Delete, Some(tb))
            })
        },
    )
    .await;

    let conn = WarehouseConn::connect(&warehouse_url(), Duration::from_secs(10))
        .await
        .unwrap();
    for schema in ["path1", "path2"] {
        let counts = conn.count_rows(schema, &tickets).await.unwrap();
        assert_eq!(counts[&Table::StoreSales], 1, "{schema}: only a is left");
        assert_eq!(counts[&Table::StoreReturns], 1, "{schema}");
    }

    stop_tx.send(true).unwrap();
    for t in tasks {
        let stats = t.await.unwrap().expect("poller failed");
        assert_eq!(stats.malformed, 0, "{stats:?}");
        assert_eq!(
            (
                stats.deletes_confirmed,
                stats.deletes_pending,
                stats.updates_pending
            ),
            (1, 0, 0),
            "{stats:?}"
        );
        assert!(stats.polls > 0 && stats.max_poll_micros > 0);
        // Each change exactly once: 3 inserts, 1 update, 1 delete.
        let mine = got.seen.iter().filter(|o| o.sink == stats.sink).count();
        assert_eq!((stats.observed as usize, mine), (5, 5), "{stats:?}");
    }
    assert!(got.seen.iter().all(|o| tickets.contains(&o.key.ticket)));
}

#[tokio::test]
async fn warehouse_start_fails_with_exit_3_when_unreachable_or_schema_missing() {
    let _turn = crate::support::turn();
    stack_check::require();
    let mut cfg = WarehouseConfig::new(
        "postgres://gpadmin:secret@127.0.0.1:1/tpcds",
        Sink::Path1,
        0..1,
    );
    cfg.connect_timeout = Duration::from_secs(3);
    let err = WarehouseObserver::start(cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        !err.to_string().contains("secret"),
        "password leaked: {err}"
    );

    let mut cfg = WarehouseConfig::new(warehouse_url(), Sink::Path1, 0..1);
    cfg.schema = "no_such_schema".to_string();
    let err = WarehouseObserver::start(cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("does not exist"), "{err}");
}
