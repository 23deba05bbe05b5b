//! Pre-flight checks against the real stack: everything reachable and set up
//! as the pipeline needs; and each kind of problem becomes a diagnosis with
//! exit code 3 and no password in it.

use crate::support::stack_check;

use std::time::Duration;

use crate::support::observe::*;
use tpcds_bench::observe::preflight::{
    check_all, check_flink, check_kafka, check_mysql, check_warehouse, PreflightConfig,
};

fn stack_config() -> PreflightConfig {
    PreflightConfig {
        mysql_url: Some(mysql_url()),
        kafka_brokers: Some(kafka_brokers()),
        warehouse_url: Some(warehouse_url()),
        flink_url: Some(flink_url()),
        timeout: Duration::from_secs(10),
        ..PreflightConfig::default()
    }
}

fn fact<'a>(facts: &'a [(String, String)], name: &str) -> &'a str {
    facts
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no fact {name}: {facts:?}"))
}

#[tokio::test]
async fn the_stack_passes_preflight() {
    let _turn = crate::support::turn();
    stack_check::require();
    let report = check_all(&stack_config()).await;
    for t in &report.targets {
        assert!(
            t.reachable,
            "{} {} unreachable: {:?}; {HINT}",
            t.kind, t.target, t.problems
        );
    }
    assert!(report.ok(), "problems: {:#?}", report.problems());
    assert_eq!(report.exit_code(), 0);
    let kinds: Vec<&str> = report.targets.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, ["mysql", "kafka", "warehouse", "flink"]);
    let mysql = &report.targets[0];
    assert_eq!(fact(&mysql.facts, "binlog_format"), "ROW");
    assert_eq!(fact(&mysql.facts, "binlog_row_image"), "FULL");
    assert!(fact(&mysql.facts, "binlog_position").contains(':'));
    let wh = &report.targets[2];
    assert!(["PostgreSQL", "Cloudberry", "Greenplum"].contains(&fact(&wh.facts, "kind")));
    assert!(fact(&wh.facts, "version").contains("PostgreSQL"));
    // The stack keeps commit timestamps (scripts/stack.sh up turns them on):
    // a fact, and no warning.
    assert!(
        fact(&wh.facts, "track_commit_timestamp").starts_with("on "),
        "{:?}",
        wh.facts
    );
    assert!(wh.warnings.is_empty(), "{:?}", wh.warnings);
    let kafka = &report.targets[1];
    assert!(fact(&kafka.facts, "topic tpcds.store_sales").contains("partition"));
    // The jobs' latency-floor settings, read back from the running jobs.
    let flink = &report.targets[3];
    let flush = std::env::var("PATH2_JDBC_FLUSH_INTERVAL").unwrap_or_else(|_| "100ms".into());
    assert_eq!(
        fact(&flink.facts, "setting.path2.sink.buffer-flush.interval"),
        flush
    );
    let checkpoint = std::env::var("CHECKPOINT_INTERVAL").unwrap_or_else(|_| "5s".into());
    assert_eq!(
        fact(&flink.facts, "setting.checkpoint.interval"),
        checkpoint
    );
    let json = serde_json::to_string(&report).unwrap();
    assert!(
        !json.contains("root123") && !json.contains(":gpadmin@"),
        "password in report: {json}"
    );
}

#[tokio::test]
async fn unreachable_targets_are_diagnosed_without_passwords() {
    let _turn = crate::support::turn();
    let t = Duration::from_secs(3);
    let my = check_mysql(
        "mysql://root:hunter2@127.0.0.1:1/business_db",
        "business_db",
        true,
        t,
    )
    .await;
    assert!(!my.reachable && !my.ok());
    assert!(
        my.problems[0].problem.contains("cannot reach"),
        "{:?}",
        my.problems
    );
    assert!(my.problems[0].what_to_do.contains("stack.sh up"));
    assert_eq!(my.problems[0].exit_code(), 3);
    assert!(!format!("{my:?}").contains("hunter2"));

    let wh = check_warehouse(
        "postgres://gpadmin:hunter2@127.0.0.1:1/tpcds",
        &["path1".into()],
        t,
    )
    .await;
    assert!(!wh.reachable && !wh.problems.is_empty());
    assert!(!format!("{wh:?}").contains("hunter2"));

    let k = check_kafka("127.0.0.1:1", "tpcds.", t).await;
    assert!(!k.reachable && !k.problems.is_empty());

    let f = check_flink("http://127.0.0.1:1", &[], t).await;
    assert!(
        !f.reachable && f.problems[0].problem.contains("cannot reach"),
        "{:?}",
        f.problems
    );
}

#[tokio::test]
async fn misconfigurations_are_diagnosed() {
    let _turn = crate::support::turn();
    stack_check::require();
    let t = Duration::from_secs(10);
    let my = check_mysql(&mysql_url(), "no_such_db_for_tpcds", true, t).await;
    assert!(my.reachable);
    assert_eq!(my.problems.len(), 2, "{:?}", my.problems);
    assert!(my
        .problems
        .iter()
        .all(|d| d.problem.contains("does not exist")));

    let k = check_kafka(&kafka_brokers(), "no_such_prefix.", t).await;
    assert!(k.reachable);
    assert!(k
        .problems
        .iter()
        .any(|d| d.problem.contains("no_such_prefix.store_sales")));

    let wh = check_warehouse(
        &warehouse_url(),
        &["path1".into(), "no_such_schema".into()],
        t,
    )
    .await;
    assert!(wh.reachable);
    assert_eq!(wh.problems.len(), 1, "{:?}", wh.problems);
    assert!(wh.problems[0]
        .problem
        .contains("no_such_schema.store_sales"));

    let f = check_flink(&flink_url(), &["no-such-job".into()], t).await;
    assert!(f.reachable);
    assert_eq!(f.problems.len(), 1);
    assert!(f.problems[0].problem.contains("never submitted"));
}
