//! End-to-end test of the pipeline the stack runs (`scripts/stack.sh up`):
//! inserts, updates and deletes rows in MySQL and checks that each change
//! arrives in Kafka (`tpcds.store_sales` / `tpcds.store_returns`,
//! debezium-json) and in the warehouse tables `path1.*` and `path2.*`, that
//! the final contents of both paths equal MySQL's, and prints how long each
//! change took to become visible in each sink.
//!
//! It needs the running stack (real MariaDB/MySQL, Kafka, Flink, PostgreSQL or
//! Cloudberry); when a service cannot be reached it fails and says so.
//! Endpoints come from the same environment variables as the stack, with the
//! same defaults. Its rows use a ticket-number range derived from the current
//! time, so it never touches other data and can run beside a load test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

mod model;
mod sinks;
use crate::support::stack_check;

use model::{ev, Event, Plan, Snapshot, RETURNS, SALES};
use sinks::{mysql_rows, path_snapshot, start_kafka_observer, warehouse_rows};

/// How long one change may take to reach a sink before the test fails. Large:
/// this checks arrival, not speed (a busy 2-core CI machine is slow).
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(20);

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// The stack's endpoints, from the variables scripts/stack.sh reads.
struct Endpoints {
    mysql_host: String,
    mysql_port: u16,
    mysql_db: String,
    mysql_user: String,
    mysql_password: String,
    kafka: String,
    wh_host: String,
    wh_port: u16,
    wh_db: String,
    wh_user: String,
    wh_password: String,
}

impl Endpoints {
    fn from_env() -> Self {
        Endpoints {
            mysql_host: env("MYSQL_HOST", "127.0.0.1"),
            mysql_port: env("MYSQL_PORT", "3306").parse().expect("MYSQL_PORT"),
            mysql_db: env("MYSQL_DATABASE", "business_db"),
            mysql_user: env("MYSQL_USER", "root"),
            mysql_password: env("MYSQL_PASSWORD", "root123"),
            kafka: format!(
                "{}:{}",
                env("KAFKA_HOST", "127.0.0.1"),
                env("KAFKA_PORT", "9092")
            ),
            wh_host: env("WAREHOUSE_HOST", "127.0.0.1"),
            wh_port: env("WAREHOUSE_PORT", "5432")
                .parse()
                .expect("WAREHOUSE_PORT"),
            wh_db: env("WAREHOUSE_DATABASE", "tpcds"),
            wh_user: env("WAREHOUSE_USER", "gpadmin"),
            wh_password: env("WAREHOUSE_PASSWORD", "gpadmin"),
        }
    }
}

pub(crate) const HINT: &str =
    "start the stack with `scripts/stack.sh up` (see docs/STACK.md), or point \
                    MYSQL_*/KAFKA_*/WAREHOUSE_* at a running one";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_reach_kafka_and_both_warehouse_paths() {
    let _turn = crate::support::turn();
    stack_check::require();
    let ep = Endpoints::from_env();
    let plan = Plan::new();
    println!("ticket range [{}, {})", plan.lo, plan.hi);

    let mysql = connect_mysql(&ep).await;
    let mut my = mysql.get_conn().await.unwrap_or_else(|e| {
        panic!(
            "cannot reach MySQL at {}:{} as {}: {e}; {HINT}",
            ep.mysql_host, ep.mysql_port, ep.mysql_user
        )
    });
    let wh = connect_warehouse(&ep).await;
    let kafka_events = start_kafka_observer(&ep.kafka, &plan);

    let mut timings: Vec<(String, &'static str, Duration)> = Vec::new();
    let (t0, t1) = (plan.t(0), plan.t(1));

    // 1. Inserts: full rows, and key-only rows that rely on the defaults.
    let step = "insert";
    let started = Instant::now();
    my.query_drop(format!(
        "INSERT INTO store_sales (ss_sold_date_sk, ss_sold_time_sk, ss_item_sk, ss_customer_sk, ss_store_sk, \
         ss_ticket_number, ss_quantity, ss_wholesale_cost, ss_list_price, ss_sales_price, ss_ext_sales_price, \
         ss_net_paid, ss_net_profit) VALUES \
         (2451545, 36000, 11, 42, 1, {t0}, 3, 10.00, 15.00, 12.50, 37.50, 37.50, 7.50), \
         (2451545, 36000, 12, 42, 1, {t0}, 2, 20.00, 30.00, 25.00, 50.00, 50.00, 10.00); \
         INSERT INTO store_sales (ss_item_sk, ss_ticket_number) VALUES (13, {t1}); \
         INSERT INTO store_returns (sr_returned_date_sk, sr_item_sk, sr_ticket_number, sr_return_quantity, \
         sr_return_amt, sr_fee) VALUES (2451600, 11, {t0}, 1, 12.50, 3.25); \
         INSERT INTO store_returns (sr_item_sk, sr_ticket_number) VALUES (12, {t0});"
    ))
    .await
    .expect("insert into MySQL");
    let committed = Instant::now();
    println!("insert: MySQL statements took {:?}", committed - started);
    let expected_kafka = vec![
        ev(&SALES, "c", (11, t0), "37.50"),
        ev(&SALES, "c", (12, t0), "50.00"),
        ev(&SALES, "c", (13, t1), "null"),
        ev(&RETURNS, "c", (11, t0), "3.25"),
        ev(&RETURNS, "c", (12, t0), "null"),
    ];
    let mut expected_rows: Snapshot = BTreeMap::new();
    expected_rows.insert(
        SALES.name,
        BTreeMap::from([
            ((11, t0), "37.50".into()),
            ((12, t0), "50.00".into()),
            ((13, t1), "null".into()),
        ]),
    );
    expected_rows.insert(
        RETURNS.name,
        BTreeMap::from([((11, t0), "3.25".into()), ((12, t0), "null".into())]),
    );
    wait_all(
        step,
        committed,
        &kafka_events,
        &expected_kafka,
        &wh,
        &plan,
        &expected_rows,
        &mut timings,
    )
    .await;

    // 2. Updates: a new value (and a new bench_ts, as the harness writes).
    let step = "update";
    my.query_drop(format!(
        "UPDATE store_sales SET ss_net_paid = 77.77, bench_ts = CURRENT_TIMESTAMP(6) \
         WHERE ss_item_sk = 12 AND ss_ticket_number = {t0}; \
         UPDATE store_returns SET sr_fee = 4.50, bench_ts = CURRENT_TIMESTAMP(6) \
         WHERE sr_item_sk = 11 AND sr_ticket_number = {t0};"
    ))
    .await
    .expect("update MySQL rows");
    let committed = Instant::now();
    let expected_kafka = vec![
        ev(&SALES, "d", (12, t0), "50.00"),
        ev(&SALES, "c", (12, t0), "77.77"),
        ev(&RETURNS, "d", (11, t0), "3.25"),
        ev(&RETURNS, "c", (11, t0), "4.50"),
    ];
    expected_rows
        .get_mut(SALES.name)
        .unwrap()
        .insert((12, t0), "77.77".into());
    expected_rows
        .get_mut(RETURNS.name)
        .unwrap()
        .insert((11, t0), "4.50".into());
    wait_all(
        step,
        committed,
        &kafka_events,
        &expected_kafka,
        &wh,
        &plan,
        &expected_rows,
        &mut timings,
    )
    .await;

    // 3. Deletes.
    let step = "delete";
    my.query_drop(format!(
        "DELETE FROM store_sales WHERE ss_item_sk = 13 AND ss_ticket_number = {t1}; \
         DELETE FROM store_returns WHERE sr_item_sk = 12 AND sr_ticket_number = {t0};"
    ))
    .await
    .expect("delete MySQL rows");
    let committed = Instant::now();
    let expected_kafka = vec![
        ev(&SALES, "d", (13, t1), "null"),
        ev(&RETURNS, "d", (12, t0), "null"),
    ];
    expected_rows.get_mut(SALES.name).unwrap().remove(&(13, t1));
    expected_rows
        .get_mut(RETURNS.name)
        .unwrap()
        .remove(&(12, t0));
    wait_all(
        step,
        committed,
        &kafka_events,
        &expected_kafka,
        &wh,
        &plan,
        &expected_rows,
        &mut timings,
    )
    .await;

    // Kafka carried exactly the changes made, no more (a duplicate would mean
    // the at-least-once sink replayed, which a healthy run does not do).
    let seen: Vec<Event> = kafka_events
        .lock()
        .unwrap()
        .iter()
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(
        seen.len(),
        11,
        "Kafka events for this run's tickets: {seen:#?}"
    );

    // Final contents: every column of every row equal in MySQL, path1, path2.
    for spec in [&SALES, &RETURNS] {
        let source = mysql_rows(&mut my, spec, &plan).await;
        assert_eq!(
            source.len(),
            expected_rows[spec.name].len(),
            "MySQL {} rows",
            spec.name
        );
        for schema in ["path1", "path2"] {
            let sink = warehouse_rows(&wh, schema, spec, &plan).await;
            assert_eq!(
                sink, source,
                "{schema}.{} differs from MySQL {}",
                spec.name, spec.name
            );
        }
    }

    print_timings(&timings);

    // Leave nothing behind (the deletes flow through the pipeline too).
    my.query_drop(format!(
        "DELETE FROM store_sales WHERE ss_ticket_number >= {lo} AND ss_ticket_number < {hi}; \
         DELETE FROM store_returns WHERE sr_ticket_number >= {lo} AND sr_ticket_number < {hi};",
        lo = plan.lo,
        hi = plan.hi
    ))
    .await
    .expect("clean up MySQL rows");
    drop(my);
    mysql.disconnect().await.ok();
}

async fn connect_mysql(ep: &Endpoints) -> mysql_async::Pool {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(ep.mysql_host.clone())
        .tcp_port(ep.mysql_port)
        .user(Some(ep.mysql_user.clone()))
        .pass(Some(ep.mysql_password.clone()))
        .db_name(Some(ep.mysql_db.clone()));
    mysql_async::Pool::new(opts)
}

async fn connect_warehouse(ep: &Endpoints) -> tokio_postgres::Client {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(&ep.wh_host)
        .port(ep.wh_port)
        .dbname(&ep.wh_db)
        .user(&ep.wh_user)
        .password(&ep.wh_password)
        .connect_timeout(Duration::from_secs(10));
    let (client, conn) = cfg
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot reach the warehouse at {}:{} (database {}, user {}): {e}; {HINT}",
                ep.wh_host, ep.wh_port, ep.wh_db, ep.wh_user
            )
        });
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("warehouse connection closed: {e}");
        }
    });
    client
}

#[allow(clippy::too_many_arguments)]
async fn wait_all(
    step: &str,
    committed: Instant,
    kafka: &Arc<Mutex<Vec<(Instant, Event)>>>,
    expected_kafka: &[Event],
    wh: &tokio_postgres::Client,
    plan: &Plan,
    expected_rows: &Snapshot,
    timings: &mut Vec<(String, &'static str, Duration)>,
) {
    let (k, p1, p2) = tokio::join!(
        wait_kafka(step, committed, kafka, expected_kafka),
        wait_path(step, committed, wh, "path1", plan, expected_rows),
        wait_path(step, committed, wh, "path2", plan, expected_rows),
    );
    timings.push((step.to_string(), "kafka", k));
    timings.push((step.to_string(), "path1", p1));
    timings.push((step.to_string(), "path2", p2));
}

/// Waits until every expected event has arrived; returns commit -> arrival of
/// the last of them.
async fn wait_kafka(
    step: &str,
    committed: Instant,
    events: &Arc<Mutex<Vec<(Instant, Event)>>>,
    expected: &[Event],
) -> Duration {
    loop {
        let last = {
            let seen = events.lock().unwrap();
            let mut latest = Some(committed);
            for want in expected {
                match seen.iter().find(|(_, e)| e == want) {
                    Some((t, _)) => latest = latest.map(|l| l.max(*t)),
                    None => latest = None,
                }
            }
            latest
        };
        if let Some(t) = last {
            return t.saturating_duration_since(committed);
        }
        if committed.elapsed() > VISIBLE_TIMEOUT {
            let seen: Vec<Event> = events
                .lock()
                .unwrap()
                .iter()
                .map(|(_, e)| e.clone())
                .collect();
            panic!(
                "{step}: Kafka did not show {expected:#?} within {VISIBLE_TIMEOUT:?}; seen so far: {seen:#?}. \
                 Check the job tpcds-mysql-cdc-to-kafka (scripts/stack.sh status)"
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Polls `schema` until it shows exactly `expected`; returns commit -> the
/// poll that first saw it (resolution: POLL plus one query).
async fn wait_path(
    step: &str,
    committed: Instant,
    wh: &tokio_postgres::Client,
    schema: &str,
    plan: &Plan,
    expected: &Snapshot,
) -> Duration {
    loop {
        let snap = path_snapshot(wh, schema, plan).await;
        if &snap == expected {
            return committed.elapsed();
        }
        if committed.elapsed() > VISIBLE_TIMEOUT {
            panic!(
                "{step}: {schema} did not show {expected:#?} within {VISIBLE_TIMEOUT:?}; it shows {snap:#?}. \
                 Check the Flink jobs (scripts/stack.sh status)"
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

fn print_timings(timings: &[(String, &'static str, Duration)]) {
    println!("\ntime from MySQL commit to visible (last change of the step):");
    println!(
        "{:<8} {:>10} {:>10} {:>10}",
        "step", "kafka", "path1", "path2"
    );
    let mut steps: Vec<&str> = timings.iter().map(|(s, _, _)| s.as_str()).collect();
    steps.dedup();
    for step in steps {
        let cell = |sink: &str| {
            timings
                .iter()
                .find(|(s, k, _)| s == step && *k == sink)
                .map(|(_, _, d)| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_default()
        };
        println!(
            "{:<8} {:>10} {:>10} {:>10}",
            step,
            cell("kafka"),
            cell("path1"),
            cell("path2")
        );
    }
    println!("(warehouse figures include up to {POLL:?} of polling)");
}
