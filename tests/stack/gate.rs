//! The gate on the real stack, used as the example workflow
//! (`.github/workflows/latency-gate.yml`) uses it: every stored baseline run
//! pooled into one `--baseline`, the default floors (+25 %, 20 ms). A/A: five
//! runs of one scenario; the last two, each gated against the first three
//! pooled, never fail. A/B: with path 2's JDBC flush interval raised from
//! 100 ms to 1 s the gate refuses without `--force` (the fingerprint names the
//! setting) and fails at path 2 with it, against all five A runs pooled. The
//! stack is restored to its default settings at the end, even on failure.
//!
//! Runs are 30 s (5 s warmup) rather than the workflow's 60 s to keep the
//! test near five minutes; a pairwise single-baseline gate, which the
//! workflow never runs, failed an A/A pair at the default floor in CI on
//! 2026-12-03 (one whole 15 s run slower on a busy machine).

use crate::support;
use crate::support::stack_check;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::support::{assert_exit, run_scenario};

/// A short quickstart: 30 s of load, 5 s of warmup.
const SHORT: [&str; 2] = ["duration=30s", "warmup=5s"];

/// Resubmits the Flink jobs with path 2's flush interval `flush` (default
/// when `None`).
fn stack(flush: Option<&str>) {
    let mut cmd = stack_check::stack_script();
    cmd.arg("restart-jobs");
    match flush {
        Some(v) => cmd.env("PATH2_JDBC_FLUSH_INTERVAL", v),
        None => cmd.env_remove("PATH2_JDBC_FLUSH_INTERVAL"),
    };
    let o = cmd.output().expect("scripts/stack.sh runs");
    assert_exit(&o, 0);
}

/// Restores the default flush interval when dropped (also when a test panics).
struct RestoreDefaults;

impl Drop for RestoreDefaults {
    fn drop(&mut self) {
        stack(None);
    }
}

/// One run into its own directory under `out`; returns the run directory.
fn run(out: &Path, name: &str) -> PathBuf {
    let dir = out.join(name);
    let o = run_scenario("quickstart.toml", &SHORT, &dir);
    assert_exit(&o, 0);
    let run = support::only_run(&dir);
    run.dir
}

/// A warm-up run after a (re)start; its results are not used.
fn warm(out: &Path, name: &str) {
    let o = run_scenario(
        "quickstart.toml",
        &["duration=20s", "warmup=0s"],
        &out.join(name),
    );
    assert!(o.status.code().is_some(), "warm-up run was killed");
}

/// The gate with every one of `baselines` after one `--baseline`.
fn gate_many(baselines: &[&Path], current: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tpcds-bench"))
        .arg("gate")
        .arg("--baseline")
        .args(baselines)
        .arg("--current")
        .arg(current)
        .args(extra)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn aa_never_fails_and_a_slower_path2_flush_always_fails() {
    let _turn = crate::support::turn();
    stack_check::require();
    // The A/B half resubmits the jobs with this checkout's Flink client and
    // settings: refuse now, before any run, when another checkout started
    // the stack (restart-jobs from here cancelled its jobs and could not
    // submit them again: 2026-12-05).
    if let Err(e) = stack_check::controls("flink-jobmanager", stack_check::stack_script()) {
        panic!("{e}");
    }
    let t0 = Instant::now();
    let out = tempfile::tempdir().unwrap();
    warm(out.path(), "warm-a");
    let a: Vec<PathBuf> = (0..5).map(|i| run(out.path(), &format!("a{i}"))).collect();

    // A/A: the first three runs pooled as the stored baseline, default floors.
    let three: Vec<&Path> = a[..3].iter().map(PathBuf::as_path).collect();
    for (i, cur) in a.iter().enumerate().skip(3) {
        let o = gate_many(&three, cur, &[]);
        eprintln!("A/A a0 a1 a2 → a{i}:\n{}", stdout(&o));
        assert_exit(&o, 0);
        let md = stdout(&o);
        assert!(
            md.contains("(3 runs, pooled)") && md.contains("Between the 3 baseline runs"),
            "{md}"
        );
    }

    // A/B: path 2 flushes every 1 s instead of every 100 ms.
    let all: Vec<&Path> = a.iter().map(PathBuf::as_path).collect();
    let restore = RestoreDefaults;
    stack(Some("1s"));
    warm(out.path(), "warm-b");
    let b: Vec<PathBuf> = (0..2).map(|i| run(out.path(), &format!("b{i}"))).collect();
    for (i, bi) in b.iter().enumerate() {
        // Not comparable without --force: the changed setting is named.
        let o = gate_many(&all, bi, &[]);
        assert_exit(&o, 2);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("sink.buffer-flush.interval") && err.contains("1s"),
            "{err}"
        );
        // With --force: a regression at path 2, the difference listed; the
        // five A runs' spread does not hide it.
        let junit = out.path().join(format!("b{i}.xml"));
        let o = gate_many(&all, bi, &["--force", "--junit", junit.to_str().unwrap()]);
        let md = stdout(&o);
        eprintln!("A/B a0 … a4 → b{i}:\n{md}");
        assert_exit(&o, 1);
        let path2 = md.lines().find(|l| l.starts_with("| path2 ")).unwrap();
        assert!(path2.contains('❌'), "{md}");
        assert!(md.contains("sink.buffer-flush.interval"), "{md}");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("name=\"path2 p99\"><failure"), "{xml}");
    }
    drop(restore);
    eprintln!("gate_stack took {:.0} s", t0.elapsed().as_secs_f64());
}
