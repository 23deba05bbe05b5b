//! The guards of the stack-backed tests, without a stack: a missing stack
//! fails at once with one message, and the clean-up of a test that stops
//! parts of the stack neither installs anything nor touches a stack that
//! another checkout started (`scripts/stack.sh heal` and `can-control`
//! refuse, exit 3, before acting).

use crate::support::stack_check;

use std::time::{Duration, Instant};

/// A stack directory no stack was started from, and an empty download cache.
fn foreign(tmp: &std::path::Path) -> std::process::Command {
    let mut cmd = stack_check::stack_script();
    cmd.env("TPCDS_STACK_DIR", tmp.join("stack"))
        .env("TPCDS_CACHE_DIR", tmp.join("cache"));
    cmd
}

#[test]
fn a_stack_that_is_not_there_fails_at_once_with_one_message() {
    // Port 1 on the loopback: nothing listens there.
    let eps: Vec<(&str, String)> = ["mysql", "kafka", "warehouse", "flink"]
        .into_iter()
        .map(|n| (n, "127.0.0.1:1".to_string()))
        .collect();
    let t0 = Instant::now();
    let e = stack_check::probe_at(&eps).unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert!(e.starts_with(stack_check::NOT_RUNNING), "{e}");
    for n in ["mysql", "kafka", "warehouse", "flink"] {
        assert!(e.contains(&format!("{n} at 127.0.0.1:1")), "{e}");
    }
}

#[test]
fn jobs_not_running_are_named() {
    let body = r#"{"jobs":[
        {"name":"tpcds-mysql-cdc-to-kafka","state":"RUNNING"},
        {"name":"tpcds-kafka-to-cloudberry","state":"CANCELED"},
        {"name":"tpcds-kafka-to-cloudberry","state":"RUNNING"},
        {"name":"tpcds-mysql-cdc-to-cloudberry","state":"FAILED"}]}"#;
    assert_eq!(
        stack_check::jobs_not_running(body).unwrap(),
        ["tpcds-mysql-cdc-to-cloudberry", "tpcds-streaming-analytics"]
    );
    assert!(stack_check::jobs_not_running("<html>").is_err());
}

#[test]
fn endpoints_come_from_the_urls() {
    assert_eq!(
        stack_check::host_port("mysql://u:p@db.example:3307/x", 3306).unwrap(),
        "db.example:3307"
    );
    assert_eq!(
        stack_check::host_port("http://127.0.0.1", 80).unwrap(),
        "127.0.0.1:80"
    );
}

/// A fault test run from a checkout that did not start the stack fails before
/// it stops anything (it used to stop components it could not restart).
#[test]
fn a_stack_started_elsewhere_is_not_controlled() {
    let tmp = tempfile::tempdir().unwrap();
    for what in ["kafka", "flink-taskmanager", "mysql-cdc-to-cloudberry"] {
        let e = stack_check::controls(what, foreign(tmp.path())).unwrap_err();
        assert!(e.contains("does not control the running stack"), "{e}");
    }
}

/// The clean-up's restore refuses a stack it did not start, at once and
/// without creating anything beyond its own (temporary) directories: it
/// never installs, downloads, or starts a second stack.
#[test]
fn heal_refuses_a_stack_this_checkout_did_not_start() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let o = foreign(tmp.path()).arg("heal").output().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("nothing to heal"), "{err}");
    let cache: Vec<_> = std::fs::read_dir(tmp.path().join("cache"))
        .unwrap()
        .collect();
    assert!(cache.is_empty(), "heal downloaded something: {cache:?}");
}
