//! The audit against the real stack: after ONE short run, each kind of
//! corruption is injected in turn into warehouse path 1, found by
//! `tpcds-bench audit RUN_DIR` at the right key, table and sink (exit 1)
//! while path 2 and Kafka report zero, and repaired. Then Kafka: a change
//! event nobody made in MySQL, produced to the topic directly, makes Kafka's
//! last image of that key differ (and path 1's, which reads the topic), until
//! the row's real image is produced again. A stack that is not running fails
//! these tests, never skips them.

use crate::support;
use crate::support::fault_guard;
use crate::support::stack_check;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{assert_exit, only_run, run_scenario};
use mysql_async::prelude::Queryable;
use tpcds_bench::audit::{AuditReport, DiffKind};
use tpcds_bench::model::{Sink, Table};

fn kafka_brokers() -> String {
    std::env::var("TPCDS_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// Produces one Debezium `c` event for `store_sales` as Flink writes them
/// (key `{ss_item_sk, ss_ticket_number}`, the after image), and waits for the ack.
fn produce_image(key: (i64, i64), after: &str) {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let p: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka_brokers())
        .create()
        .expect("a Kafka producer");
    let k = format!(r#"{{"ss_item_sk":{},"ss_ticket_number":{}}}"#, key.0, key.1);
    let v = format!(r#"{{"before":null,"after":{after},"op":"c"}}"#);
    p.send(BaseRecord::to("tpcds.store_sales").key(&k).payload(&v))
        .map_err(|(e, _)| e)
        .expect("the event is queued");
    p.flush(Duration::from_secs(10))
        .expect("the event is acknowledged");
}

fn warehouse_url() -> String {
    std::env::var("TPCDS_WAREHOUSE_URL")
        .unwrap_or_else(|_| "postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds".into())
}

/// `tpcds-bench audit DIR --json`: its exit code and report.
fn audit(dir: &Path) -> (i32, AuditReport) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tpcds-bench"))
        .arg("audit")
        .arg(dir)
        .arg("--json")
        .output()
        .expect("tpcds-bench audit runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "audit printed no report ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().unwrap_or(-1), report)
}

/// Path 1 holds exactly one differing key, `key` in `table`, of `kind`;
/// path 2 and Kafka none. Returns the key's report.
fn found(
    r: &AuditReport,
    table: Table,
    key: (i64, i64),
    kind: DiffKind,
) -> tpcds_bench::audit::KeyDiff {
    found_at(
        r,
        Sink::Path1,
        &[Sink::Path2, Sink::Kafka],
        table,
        key,
        kind,
    )
}

/// `sink` holds exactly one differing key, `key` in `table`, of `kind`; the
/// `clean` sinks none.
fn found_at(
    r: &AuditReport,
    sink: Sink,
    clean: &[Sink],
    table: Table,
    key: (i64, i64),
    kind: DiffKind,
) -> tpcds_bench::audit::KeyDiff {
    for s in clean {
        let a = &r.sinks[s];
        assert_eq!((a.mismatched, &a.error), (0, &None), "{s}: {a:?}");
    }
    let p1 = &r.sinks[&sink];
    assert_eq!(p1.mismatched, 1, "{sink}: {p1:?}");
    let t = &p1.tables[&table];
    assert_eq!(t.mismatched, 1, "{table}: {t:?}");
    let k = t.keys[0].clone();
    assert_eq!(
        (k.item as i64, k.ticket as i64, k.kind),
        (key.0, key.1, kind)
    );
    k
}

/// Saves a path-1 row (all columns) so it can be put back after a corruption.
async fn save(pg: &tokio_postgres::Client, name: &str, table: Table, key: (i64, i64)) {
    let p = table.prefix();
    pg.batch_execute(&format!(
        "DROP TABLE IF EXISTS {name}; CREATE TEMP TABLE {name} AS SELECT * FROM path1.{table} \
         WHERE {p}item_sk = {} AND {p}ticket_number = {}",
        key.0, key.1
    ))
    .await
    .unwrap();
}

/// Replaces the path-1 row of `key` with the one saved as `name`.
async fn restore(pg: &tokio_postgres::Client, name: &str, table: Table, key: (i64, i64)) {
    let p = table.prefix();
    pg.batch_execute(&format!(
        "DELETE FROM path1.{table} WHERE {p}item_sk = {} AND {p}ticket_number = {}; \
         INSERT INTO path1.{table} SELECT * FROM {name}",
        key.0, key.1
    ))
    .await
    .unwrap();
}

/// MySQL's totals of the run's range, computed in MySQL, as a binlog tally
/// would hold them.
async fn true_tally(lo: i64, hi: i64) -> tpcds_bench::observe::binlog::tally::Tally {
    use tpcds_bench::audit::sql::{totals, Dialect};
    use tpcds_bench::observe::binlog::tally::{Tally, Totals};
    use tpcds_bench::observe::decode::canonical::decimal_micros;
    let mut my = mysql_async::Conn::from_url(support::mysql_url())
        .await
        .unwrap();
    let mut tables: [Totals; 2] = Default::default();
    for t in Table::ALL {
        let row: Vec<String> = my
            .exec_first::<mysql_async::Row, _, _>(totals(Dialect::MySql, "", t), (lo, hi))
            .await
            .unwrap()
            .unwrap()
            .unwrap()
            .into_iter()
            .map(mysql_async::from_value::<String>)
            .collect();
        tables[t.index()] = Totals {
            rows: row[0].parse().unwrap(),
            digest: row[1].parse().unwrap(),
            sums: row[2..]
                .iter()
                .map(|s| decimal_micros(s).unwrap())
                .collect(),
        };
    }
    Tally::from_totals(tables, 0)
}

/// The end-of-run audit of both paths with MySQL's side from `tally`.
async fn library_audit(
    lo: i64,
    hi: i64,
    tally: tpcds_bench::observe::binlog::tally::Tally,
) -> AuditReport {
    let targets = tpcds_bench::audit::Targets {
        mysql: support::mysql_url(),
        warehouse: warehouse_url(),
        kafka: None,
        kafka_tally: None,
        binlog_tally: Some(tally),
    };
    tpcds_bench::audit::audit(
        &targets,
        &(lo as u64..hi as u64),
        &[Sink::Path1, Sink::Path2],
    )
    .await
    .unwrap()
}

/// MySQL's side from the binlog's tally: taken when it agrees with MySQL's
/// row count, and computed in MySQL when the count differs or a sink differs
/// from it (a tally that is wrong never makes a mismatch of its own).
async fn tallied_mysql_side_falls_back_to_mysql(lo: i64, hi: i64) {
    let r = library_audit(lo, hi, true_tally(lo, hi).await).await;
    assert_eq!(r.mismatched(), 0, "{r:?}");
    let mt = r.mysql_tally.unwrap();
    assert!(mt.used && mt.sql_because.is_none(), "{mt:?}");

    // A digest off by one: both paths differ from it, MySQL decides.
    let mut t = true_tally(lo, hi).await;
    let mut tables = [Table::StoreSales, Table::StoreReturns].map(|x| t.of(x).unwrap().clone());
    tables[0].digest += 1;
    t = tpcds_bench::observe::binlog::tally::Tally::from_totals(tables.clone(), 0);
    let r = library_audit(lo, hi, t).await;
    assert_eq!(r.mismatched(), 0, "{r:?}");
    let why = r.mysql_tally.unwrap().sql_because.unwrap();
    assert!(
        why.contains("store_sales differed from the binlog's tally"),
        "{why}"
    );

    // A row count MySQL does not have: not taken at all.
    tables[0].digest -= 1;
    tables[1].rows += 1;
    let t = tpcds_bench::observe::binlog::tally::Tally::from_totals(tables, 0);
    let r = library_audit(lo, hi, t).await;
    assert_eq!(r.mismatched(), 0, "{r:?}");
    let why = r.mysql_tally.unwrap().sql_because.unwrap();
    assert!(
        why.contains("MySQL holds") && why.contains("store_returns"),
        "{why}"
    );
}

async fn first_key(pg: &tokio_postgres::Client, table: Table, lo: i64, hi: i64) -> (i64, i64) {
    let p = table.prefix();
    let row = pg
        .query_one(
            &format!(
                "SELECT {p}item_sk::bigint, {p}ticket_number::bigint FROM path1.{table} \
                 WHERE {p}ticket_number >= $1 AND {p}ticket_number < $2 \
                 ORDER BY {p}ticket_number, {p}item_sk LIMIT 1"
            ),
            &[&lo, &hi],
        )
        .await
        .unwrap_or_else(|e| panic!("no {table} row in path1 for the run: {e}"));
    (row.get(0), row.get(1))
}

#[test]
fn every_kind_of_corruption_is_found_at_its_key_table_and_sink() {
    let _turn = crate::support::turn();
    stack_check::require();
    let out = tempfile::tempdir().unwrap();
    // One short real run (updates and deletes included); the latency limits
    // are not what this test is about.
    let o = run_scenario(
        "quickstart.toml",
        &[
            "duration=15s",
            "warmup=0s",
            "drain_timeout=60s",
            "slo.p99_ms.kafka=600000",
            "slo.p99_ms.path1=600000",
            "slo.p99_ms.path2=600000",
        ],
        out.path(),
    );
    assert_exit(&o, 0);
    let loaded = only_run(out.path());
    let dir = loaded.dir.clone();
    let run_audit = loaded.run.audit.clone().expect("the run audited its sinks");
    for sink in [Sink::Kafka, Sink::Path1, Sink::Path2] {
        let a = &run_audit.sinks[&sink];
        assert_eq!((a.mismatched, &a.error), (0, &None), "{sink}: {a:?}");
        assert!(a.rows > 1000, "{sink}: {} rows compared", a.rows);
        eprintln!("{sink}: {} rows audited in {} ms", a.rows, a.took_ms);
    }
    // The run's Kafka sink was compared by the observer's tally of the
    // changelog, which agreed: the topics were not read back.
    let tally = run_audit
        .kafka_tally
        .clone()
        .expect("the Kafka observer kept a tally");
    assert!(tally.agreed && tally.unusable.is_none(), "{tally:?}");
    assert!(
        tally.messages >= run_audit.sinks[&Sink::Kafka].rows,
        "{tally:?}"
    );
    assert_eq!(
        run_audit.kafka_read, None,
        "read back although the tally agreed"
    );
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("Audit of the contents against MySQL"), "{md}");
    assert!(md.contains("compared by the observer's tally of"), "{md}");
    // MySQL's side came from the binlog observer's tally, MySQL's row
    // count agreeing: MySQL computed no totals.
    let mt = run_audit
        .mysql_tally
        .clone()
        .expect("the binlog observer kept a tally");
    assert!(mt.used && mt.sql_because.is_none(), "{mt:?}");
    assert!(mt.changes >= run_audit.sinks[&Sink::Path1].rows, "{mt:?}");
    assert!(
        md.contains("totals from the binlog observer's tally of"),
        "{md}"
    );
    let (lo, hi) = loaded.run.environment["tickets"].split_once("..").unwrap();
    let (lo, hi): (i64, i64) = (lo.parse().unwrap(), hi.parse().unwrap());

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        tallied_mysql_side_falls_back_to_mysql(lo, hi).await;
        let (pg, conn) = tokio_postgres::connect(&warehouse_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let ss = first_key(&pg, Table::StoreSales, lo, hi).await;
        let sr = first_key(&pg, Table::StoreReturns, lo, hi).await;
        let ss_where = format!("ss_item_sk = {} AND ss_ticket_number = {}", ss.0, ss.1);
        save(&pg, "saved_ss", Table::StoreSales, ss).await;
        save(&pg, "saved_sr", Table::StoreReturns, sr).await;

        // One cent in one row.
        pg.batch_execute(&format!(
            "UPDATE path1.store_sales SET ss_net_paid = ss_net_paid + 0.01 WHERE {ss_where}"
        ))
        .await
        .unwrap();
        let (code, r) = audit(&dir);
        assert_eq!(code, 1);
        let k = found(&r, Table::StoreSales, ss, DiffKind::Changed);
        assert_eq!(k.columns.len(), 1, "{k:?}");
        assert_eq!(k.columns[0].column, "ss_net_paid");
        let (m, s): (f64, f64) = (
            k.columns[0].mysql.parse().unwrap(),
            k.columns[0].sink.parse().unwrap(),
        );
        assert!((s - m - 0.01).abs() < 1e-9, "{k:?}");
        // The run's own audit, MySQL's side from a (true) tally: path 1
        // differs from it, so MySQL's totals are computed in MySQL after
        // all and the narrowing finds the key there.
        let tally = true_tally(lo, hi).await;
        let r = library_audit(lo, hi, tally).await;
        let k = found_at(
            &r,
            Sink::Path1,
            &[Sink::Path2],
            Table::StoreSales,
            ss,
            DiffKind::Changed,
        );
        assert_eq!(k.columns[0].column, "ss_net_paid");
        let why = r.mysql_tally.unwrap().sql_because.unwrap();
        assert!(why.contains("path1's store_sales differed"), "{why}");
        restore(&pg, "saved_ss", Table::StoreSales, ss).await;

        // A column set to NULL (in the other table).
        pg.batch_execute(&format!(
            "UPDATE path1.store_returns SET sr_fee = NULL WHERE sr_item_sk = {} AND sr_ticket_number = {}",
            sr.0, sr.1
        ))
        .await
        .unwrap();
        let (code, r) = audit(&dir);
        assert_eq!(code, 1);
        let k = found(&r, Table::StoreReturns, sr, DiffKind::Changed);
        assert_eq!(
            (k.columns[0].column.as_str(), k.columns[0].sink.as_str()),
            ("sr_fee", "NULL"),
            "{k:?}"
        );
        restore(&pg, "saved_sr", Table::StoreReturns, sr).await;

        // A row deleted.
        pg.batch_execute(&format!("DELETE FROM path1.store_sales WHERE {ss_where}"))
            .await
            .unwrap();
        let (code, r) = audit(&dir);
        assert_eq!(code, 1);
        let k = found(&r, Table::StoreSales, ss, DiffKind::Missing);
        assert!(k.mysql.is_some() && k.sink.is_none(), "{k:?}");
        restore(&pg, "saved_ss", Table::StoreSales, ss).await;

        // A row added in the run's range, at a ticket no one wrote.
        let extra = (ss.0, hi - 7);
        let mut my = mysql_async::Conn::from_url(support::mysql_url()).await.unwrap();
        let taken: Option<i64> = my
            .query_first(format!(
                "SELECT COUNT(*) FROM store_sales WHERE ss_ticket_number = {}",
                extra.1
            ))
            .await
            .unwrap();
        assert_eq!(taken, Some(0), "the extra row's ticket is unused");
        pg.batch_execute(&format!(
            "CREATE TEMP TABLE extra_ss AS SELECT * FROM saved_ss; \
             UPDATE extra_ss SET ss_ticket_number = {}; \
             INSERT INTO path1.store_sales SELECT * FROM extra_ss",
            extra.1
        ))
        .await
        .unwrap();
        let (code, r) = audit(&dir);
        assert_eq!(code, 1);
        let k = found(&r, Table::StoreSales, extra, DiffKind::Extra);
        assert!(k.mysql.is_none() && k.sink.is_some(), "{k:?}");
        pg.batch_execute(&format!(
            "DELETE FROM path1.store_sales WHERE ss_item_sk = {} AND ss_ticket_number = {}",
            extra.0, extra.1
        ))
        .await
        .unwrap();

        // A timestamp shifted by one hour.
        pg.batch_execute(&format!(
            "UPDATE path1.store_sales SET updated_at = updated_at + interval '1 hour' WHERE {ss_where}"
        ))
        .await
        .unwrap();
        let (code, r) = audit(&dir);
        assert_eq!(code, 1);
        let k = found(&r, Table::StoreSales, ss, DiffKind::Changed);
        assert_eq!(k.columns.len(), 1, "{k:?}");
        assert_eq!(k.columns[0].column, "updated_at");
        restore(&pg, "saved_ss", Table::StoreSales, ss).await;

        // An update reverted to the row's previous version: a price
        // correction in MySQL that reaches both paths, then path 1's row put
        // back to the version before it.
        my.query_drop(format!(
            "UPDATE store_sales SET ss_sales_price = ss_sales_price + 1.00, \
             ss_net_paid = ss_net_paid + 1.00, bench_ts = UTC_TIMESTAMP(6) \
             WHERE ss_item_sk = {} AND ss_ticket_number = {}",
            ss.0, ss.1
        ))
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (code, r) = audit(&dir);
            if code == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the update did not reach both paths: {r:?}"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        save(&pg, "updated_ss", Table::StoreSales, ss).await;
        restore(&pg, "saved_ss", Table::StoreSales, ss).await;
        let (code, r) = audit(&dir);
        assert_eq!(code, 1);
        let k = found(&r, Table::StoreSales, ss, DiffKind::Changed);
        let cols: Vec<&str> = k.columns.iter().map(|c| c.column.as_str()).collect();
        assert!(
            cols.contains(&"ss_sales_price") && cols.contains(&"ss_net_paid"),
            "{k:?}"
        );
        restore(&pg, "updated_ss", Table::StoreSales, ss).await;

        // Repaired: both paths equal again, and the text says so.
        let (code, r) = audit(&dir);
        assert_eq!(code, 0, "{r:?}");

        // Kafka: an update event MySQL never made (one cent more), produced
        // to the topic as Flink writes them, built from path 2's row.
        let image = |cents: &str| {
            format!(
                "SELECT row_to_json(t)::text FROM (SELECT ss_sold_date_sk, ss_sold_time_sk, ss_item_sk, \
                 ss_customer_sk, ss_cdemo_sk, ss_hdemo_sk, ss_addr_sk, ss_store_sk, ss_promo_sk, \
                 ss_ticket_number, ss_quantity, ss_wholesale_cost, ss_list_price, ss_sales_price, \
                 ss_ext_discount_amt, ss_ext_sales_price, ss_ext_wholesale_cost, ss_ext_list_price, \
                 ss_ext_tax, ss_coupon_amt, ss_net_paid {cents} AS ss_net_paid, ss_net_paid_inc_tax, \
                 ss_net_profit, bench_ts, updated_at FROM path2.store_sales WHERE {ss_where}) t"
            )
        };
        let real: String = pg.query_one(&image(""), &[]).await.unwrap().get(0);
        let wrong: String = pg.query_one(&image("+ 0.01"), &[]).await.unwrap().get(0);
        produce_image(ss, &wrong);
        let (code, r) = audit(&dir);
        assert_eq!(code, 1);
        // Path 1 reads the topic: it may already hold the wrong image too.
        let k = found_at(&r, Sink::Kafka, &[Sink::Path2], Table::StoreSales, ss, DiffKind::Changed);
        assert!(k.mysql.is_some() && k.sink.is_some(), "{k:?}");
        // The real image again: Kafka, and then path 1, agree with MySQL.
        produce_image(ss, &real);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (code, r) = audit(&dir);
            if code == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "not repaired: {r:?}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let _ = my.disconnect().await;
    });
}

/// `[audit] every` against the real stack, in one ~40 s run: Kafka and
/// path 2 agree with MySQL in every mid-run audit (at least two, each over
/// rows); a path 1 row changed through SQL mid-run shows at path 1 only, at
/// its key, and the audits after its repair show path 1 converged again.
#[test]
fn mid_run_audits_show_when_one_sink_diverged_and_converged() {
    let _turn = crate::support::turn();
    stack_check::require();
    let out = tempfile::tempdir().unwrap();
    // The run's tickets start at its start second × 10⁹ (`cmd::run::tickets`).
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        * 1_000_000_000;
    // No updates or deletes: the mutation pool then holds no ticket open and
    // the cut follows the load within seconds (returns still hold theirs).
    let sets = [
        "duration=36s",
        "warmup=0s",
        "drain_timeout=60s",
        "audit.every=4s",
        "mix.update_probability=0",
        "mix.delete_probability=0",
        "slo.p99_ms.kafka=600000",
        "slo.p99_ms.path1=600000",
        "slo.p99_ms.path2=600000",
    ];
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tpcds-bench"));
    cmd.arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml"))
        .arg("--quiet")
        .arg("--out")
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for s in sets {
        cmd.arg("--set").arg(s);
    }
    let child = cmd.spawn().expect("the binary runs");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = rt.block_on(async {
        let (pg, conn) = tokio_postgres::connect(&warehouse_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        // The run's oldest sale line once it has been at path 1 for 6 s.
        let deadline = Instant::now() + Duration::from_secs(40);
        let key: (i64, i64) = loop {
            let row = pg
                .query_opt(
                    "SELECT ss_item_sk::bigint, ss_ticket_number::bigint FROM path1.store_sales \
                     WHERE ss_ticket_number >= $1 AND arrived_at < now() - interval '6 seconds' \
                     ORDER BY ss_ticket_number, ss_item_sk LIMIT 1",
                    &[&since],
                )
                .await
                .unwrap();
            if let Some(r) = row {
                break (r.get(0), r.get(1));
            }
            assert!(
                Instant::now() < deadline,
                "no row of the run reached path 1"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let at = format!("ss_item_sk = {} AND ss_ticket_number = {}", key.0, key.1);
        pg.batch_execute(&format!(
            "UPDATE path1.store_sales SET ss_net_paid = ss_net_paid + 0.01 WHERE {at}"
        ))
        .await
        .unwrap();
        // Long enough for the cut to pass the row (its returns due) and
        // several audits to see it; then repaired.
        tokio::time::sleep(Duration::from_secs(14)).await;
        pg.batch_execute(&format!(
            "UPDATE path1.store_sales SET ss_net_paid = ss_net_paid - 0.01 WHERE {at}"
        ))
        .await
        .unwrap();
        key
    });
    let o = child.wait_with_output().unwrap();
    // Repaired before the drain: the end-of-run audit finds nothing.
    assert_exit(&o, 0);
    let loaded = only_run(out.path());
    let audit = loaded.run.audit.clone().expect("the run audited its sinks");
    let p = &audit.periodic;
    let clean = |s: Sink| {
        p.iter()
            .filter(|a| {
                let x = &a.sinks[&s];
                x.error.is_none() && x.mismatched == 0 && x.rows > 0
            })
            .count()
    };
    for s in [Sink::Kafka, Sink::Path2] {
        assert!(clean(s) >= 2, "{s}: {p:#?}");
        assert!(p.iter().all(|a| a.sinks[&s].mismatched == 0), "{s}: {p:#?}");
        // The cut advances with the load: a later audit compares more rows.
        let rows: Vec<u64> = p
            .iter()
            .filter(|a| a.sinks[&s].error.is_none())
            .map(|a| a.sinks[&s].rows)
            .collect();
        assert!(
            rows.windows(2).all(|w| w[0] <= w[1]) && rows.last() > rows.first(),
            "{s}: the cut did not advance: {rows:?}"
        );
    }
    let ticket = format!("ticket={}, item={}", key.1, key.0);
    let diverged = p
        .iter()
        .position(|a| a.sinks[&Sink::Path1].mismatched > 0)
        .unwrap_or_else(|| panic!("path 1's change was never seen: {p:#?}"));
    let first = &p[diverged].sinks[&Sink::Path1];
    assert_eq!(first.mismatched, 1, "{first:?}");
    assert!(
        first.keys[0].contains(&ticket) && first.keys[0].contains("ss_net_paid"),
        "{first:?}"
    );
    assert!(
        p[diverged..]
            .iter()
            .any(|a| a.sinks[&Sink::Path1].mismatched == 0 && a.sinks[&Sink::Path1].rows > 0),
        "path 1 never converged again: {p:#?}"
    );
    let md = std::fs::read_to_string(loaded.dir.join("summary.md")).unwrap();
    assert!(
        md.contains("path1: ")
            && md.contains("first diverged at")
            && md.contains("converged again at"),
        "{md}"
    );
    // One row per mid-run audit: its time, and per sink rows and differences.
    let first = &p[diverged];
    let row = format!(
        "| {:.1} s | {} ms | {}, 0 | {}, {} |",
        first.at_ms as f64 / 1000.0,
        first.took_ms,
        first.sinks[&Sink::Kafka].rows,
        first.sinks[&Sink::Path1].rows,
        first.sinks[&Sink::Path1].mismatched
    );
    assert!(md.contains("| at | took | kafka: rows, differ |"), "{md}");
    assert!(md.contains(&row), "{row} not in\n{md}");
    let html = std::fs::read_to_string(loaded.dir.join("report.html")).unwrap();
    assert!(html.contains("<th>path1: rows, differ</th>"), "{html}");
}

/// A path stopped mid-run: path 2's Flink job paused (stopped with a
/// savepoint) for 12 s and resumed. Path 2's cut is held back while it
/// lags (its rows compared stand still from one audit to the next while
/// Kafka's grow), then passes that point once the job has caught up; no
/// mid-run audit at any sink finds a difference, since the cut only takes
/// what the sink has shown.
///
/// The load runs 90 s: mid-run audits stop with the load, so the resumed
/// job must have caught up before it ends. With 45 s it had not on a loaded
/// machine; with 90 s the test passed in 95 s (2026-12-06, on a stack
/// holding 3.9 M earlier rows).
#[test]
fn a_path_stopped_mid_run_holds_its_cut_back_then_catches_up() {
    let _turn = crate::support::turn();
    stack_check::require();
    let _healthy = fault_guard::Healthy::arm("mysql-cdc-to-cloudberry");
    let out = tempfile::tempdir().unwrap();
    let o = support::run_scenario_with(
        "quickstart.toml",
        &["--allow-faults"],
        &[
            "duration=90s",
            "warmup=0s",
            "drain_timeout=90s",
            "audit.every=3s",
            "mix.update_probability=0",
            "mix.delete_probability=0",
            "slo.p99_ms.kafka=600000",
            "slo.p99_ms.path1=600000",
            "slo.p99_ms.path2=600000",
            r#"faults=[{ at = "6s", action = "pause", target = "mysql-cdc-to-cloudberry", duration = "12s" }]"#,
        ],
        out.path(),
    );
    assert_exit(&o, 0);
    let audit = only_run(out.path())
        .run
        .audit
        .expect("the run audited its sinks");
    let p: Vec<_> = audit
        .periodic
        .iter()
        .filter(|a| a.sinks.values().all(|s| s.error.is_none()))
        .collect();
    for a in &p {
        for (s, x) in &a.sinks {
            assert_eq!(x.mismatched, 0, "{s} at {} ms: {x:?}", a.at_ms);
        }
    }
    let rows = |i: usize, s: Sink| p[i].sinks[&s].rows;
    // Held back: path 2 stood still while Kafka's cut moved on.
    let held = (1..p.len())
        .find(|&i| {
            rows(i, Sink::Path2) == rows(i - 1, Sink::Path2)
                && rows(i, Sink::Kafka) > rows(i - 1, Sink::Kafka)
                && rows(i, Sink::Path2) < rows(i, Sink::Kafka)
        })
        .unwrap_or_else(|| panic!("path 2's cut was never held back: {p:#?}"));
    // Caught up: a later audit compares at path 2 what Kafka's did then.
    assert!(
        (held..p.len()).any(|i| rows(i, Sink::Path2) >= rows(held, Sink::Kafka)),
        "path 2's cut never caught up: {p:#?}"
    );
}
