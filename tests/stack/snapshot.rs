//! The snapshot phase against the real stack: the CDC jobs cancelled, rows
//! preloaded, the jobs submitted anew while a live load runs. Every
//! preloaded row reaches every sink once and intact, every streamed row is
//! seen, the figures are there, and the jobs run again afterwards. A stack
//! that is not running fails this test, never skips it.

use crate::support::fault_guard::Healthy;
use crate::support::{assert_exit, only_run, run_scenario_with};
use tpcds_bench::model::Sink;

#[test]
fn a_fresh_start_over_preloaded_rows_copies_each_once_and_streams_meanwhile() {
    let _turn = crate::support::turn();
    let _healthy = Healthy::arm("mysql-cdc-to-cloudberry");
    let out = tempfile::tempdir().unwrap();
    let o = run_scenario_with(
        "snapshot.toml",
        &["--allow-faults"],
        // The snapshot reads every row the stack holds, earlier tests' too
        // (~3,500 rows/s on 2 cores): the drain and the wait for the
        // preloaded rows end as soon as everything arrived, so a long limit
        // costs nothing on a small stack.
        &["snapshot.rows=20000", "duration=40s", "drain_timeout=600s"],
        out.path(),
    );
    assert_exit(&o, 0);
    let loaded = only_run(out.path());
    let run = loaded.run;
    let snap = run
        .snapshot
        .as_ref()
        .expect("summary.json has the snapshot");
    assert_eq!(snap.rows, 20_000, "{snap:?}");
    assert_eq!(snap.sales + snap.returns, 20_000);
    assert!(snap.returns > 0, "the mix's returns are preloaded too");
    assert!(snap.jobs_running_s >= snap.jobs_submitted_s);
    for sink in [Sink::Kafka, Sink::Path1, Sink::Path2] {
        let x = &snap.sinks[&sink];
        assert_eq!(x.rows, 20_000, "{}: {x:?}", sink.name());
        assert_eq!(x.duplicates, 0, "{}: {x:?}", sink.name());
        let d = x.duration_s.expect("the snapshot ended at the sink");
        assert!(d > 0.0 && d < 900.0, "{}: {d} s", sink.name());
        assert!(x.rows_per_s.unwrap() > 0.0);
        assert!(x.first_streamed_s.is_some(), "{}: {x:?}", sink.name());
        // Streamed rows: the ledger's accounting, as in every run.
        assert_eq!(run.sinks[&sink].accounting.missing, 0, "{}", sink.name());
    }
    let audit = snap.audit.as_ref().expect("the preload is audited");
    assert_eq!(audit.mismatched(), 0, "{audit:?}");
    assert!(audit.sinks.values().all(|s| s.rows == 20_000), "{audit:?}");
    let md = std::fs::read_to_string(loaded.dir.join("summary.md")).unwrap();
    assert!(md.contains("## Snapshot phase"), "{md}");
    // The jobs the run restarted are running (no heal needed).
    let status = crate::support::stack_check::stack_script()
        .arg("status")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    for job in ["tpcds-mysql-cdc-to-kafka", "tpcds-mysql-cdc-to-cloudberry"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(job) && l.contains("RUNNING")),
            "{job} is not running after the run:\n{text}"
        );
    }
}
