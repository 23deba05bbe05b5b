//! `tpcds-bench sweep` end to end on the native stack: two short steps of the
//! shipped sweep scenario, every file of the sweep directory, a run directory
//! per step, per-sink answers both ways (a limit every step passes, one every
//! step fails), the CPU and Flink figures, and the sweep gate on itself. A
//! stack that is not running makes it fail, never skip. About 75 s.

use crate::support::stack_check;

use std::path::Path;
use std::process::Command;

use crate::support::assert_exit;
use tpcds_bench::model::Sink;
use tpcds_bench::sweep::load::{load_sweep, step_from_run};

#[test]
fn a_two_step_sweep_writes_its_files_and_answers_per_sink() {
    let _turn = crate::support::turn();
    stack_check::require();
    let out = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_tpcds-bench"))
        .arg("sweep")
        .arg(&scenario)
        .args(["--rates", "100,200", "--quiet"])
        .args([
            "--p99",
            "path1=60s",
            "--p99",
            "path2=60s",
            "--p99",
            "kafka=1ms",
        ])
        .args([
            "--set",
            "duration=15s",
            "--set",
            "warmup=3s",
            "--set",
            "sweep.settle=1s",
        ])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("sweep step 1/2: 100 rows/s target; done: none; left: 200"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sweep step 2/2: 200 rows/s target"),
        "{stderr}"
    );

    let dirs: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let dir = &dirs[0];
    for f in [
        "sweep.json",
        "sweep.csv",
        "sweep-resources.csv",
        "sweep.md",
        "report.html",
        "latency-throughput.svg",
        "latency-throughput.png",
        "achieved-vs-target.svg",
        "achieved-vs-target.png",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let s = load_sweep(dir).unwrap();
    assert_eq!(s.steps.len(), 2);
    for (st, rate) in s.steps.iter().zip([100.0, 200.0]) {
        assert_eq!(st.target_rate, rate);
        let ratio = st.achieved_ratio();
        assert!(
            (0.95..=1.05).contains(&ratio),
            "step {}: achieved/target {ratio}",
            st.index
        );
        // Each step is an ordinary run directory with the same figures.
        let again = step_from_run(&dir.join(&st.run_dir)).unwrap();
        assert_eq!(
            again.sinks[&Sink::Path2].p99_us,
            st.sinks[&Sink::Path2].p99_us
        );
        assert_eq!(
            st.sinks[&Sink::Path1].passed,
            Some(true),
            "{:?}",
            st.sinks[&Sink::Path1]
        );
        assert_eq!(st.sinks[&Sink::Kafka].passed, Some(false));
        assert_eq!(st.sinks[&Sink::Binlog].passed, None, "binlog has no limit");
        let r = &st.resources;
        assert!(r.cpu_s.contains_key("harness"), "{r:?}");
        if std::env::var_os("TPCDS_STACK_DIR").is_some() {
            assert!(r.cores("mysql").is_some_and(|c| c > 0.0), "{r:?}");
            assert!(
                r.cores("flink-taskmanager").is_some_and(|c| c > 0.0),
                "{r:?}"
            );
        }
        assert!(
            r.vertices
                .iter()
                .any(|v| v.job.contains("cdc-to-cloudberry") && v.samples > 0),
            "Flink's vertices were not sampled: {:?}",
            r.vertices
        );
    }
    let p2 = &s.answers[&Sink::Path2];
    assert_eq!(
        (p2.bracket.last_pass, p2.bracket.first_fail),
        (Some(200.0), None)
    );
    assert!(
        p2.text.contains("at every rate tried, up to 200 rows/s"),
        "{}",
        p2.text
    );
    let k = &s.answers[&Sink::Kafka];
    assert_eq!(
        (k.bracket.last_pass, k.bracket.first_fail),
        (None, Some(100.0))
    );

    // The sweep gate on the sweep itself: nothing dropped.
    let g = Command::new(env!("CARGO_BIN_EXE_tpcds-bench"))
        .args(["gate", "--baseline"])
        .arg(dir)
        .arg("--current")
        .arg(dir)
        .output()
        .unwrap();
    assert_exit(&g, 0);
    assert!(String::from_utf8_lossy(&g.stdout).contains("| path2 | 200 |"));
}
