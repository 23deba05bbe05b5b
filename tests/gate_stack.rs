//! The gate on the real stack. A/A: five short runs of one scenario, gated
//! pairwise against each other at a +75 % floor (see [`FLOOR`]), and the last
//! two against the first three pooled, never fail. A/B: with path 2's JDBC flush
//! interval raised from 100 ms to 1 s the gate refuses without `--force`
//! (the fingerprint names the setting) and fails every time with it, against
//! one baseline and against all five A runs. The
//! stack is restored to its default settings at the end, even on failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use support::{assert_exit, run_scenario};
use tpcds_bench::model::Sink;
use tpcds_bench::report::load_run;

/// A short quickstart: 15 s of load, 3 s of warmup.
const SHORT: [&str; 2] = ["duration=15s", "warmup=3s"];

/// The relative floor these gates use: +75 % instead of the default +25 %.
/// The intervals see only the noise within a run; between two 15 s runs on
/// two shared cores the whole machine can be slower. Measured in CI on
/// 2026-12-03: one A run had p99 +80 % at the binlog, +70 % at Kafka and +59 %
/// at path 2 (interval +23 … +265 ms) against another, and failed the
/// default gate. The A/B change below is +400 % at path 2.
const FLOOR: [&str; 2] = ["--min-relative", "0.75"];

fn stack(flush: Option<&str>) {
    let mut cmd = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/stack.sh"));
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

fn gate(baseline: &Path, current: &Path, extra: &[&str]) -> Output {
    gate_many(&[baseline], current, extra)
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
    let _serial = support::serial();
    let t0 = Instant::now();
    let out = tempfile::tempdir().unwrap();
    warm(out.path(), "warm-a");
    let a: Vec<PathBuf> = (0..5).map(|i| run(out.path(), &format!("a{i}"))).collect();

    // A/A: every pair, both directions of time (earlier run as baseline).
    for i in 0..a.len() {
        for j in i + 1..a.len() {
            let o = gate(&a[i], &a[j], &FLOOR);
            assert_exit(&o, 0);
            eprintln!("A/A a{i} → a{j}:\n{}", stdout(&o));
        }
    }

    // Three baselines pooled: the later A runs pass, and the verdict shows the
    // spread between the baseline runs.
    let three: Vec<&Path> = a[..3].iter().map(PathBuf::as_path).collect();
    for (i, cur) in a.iter().enumerate().skip(3) {
        let o = gate_many(&three, cur, &FLOOR);
        assert_exit(&o, 0);
        let md = stdout(&o);
        eprintln!("A/A a0 a1 a2 → a{i}:\n{md}");
        assert!(
            md.contains("(3 runs, pooled)") && md.contains("Between the 3 baseline runs"),
            "{md}"
        );
    }

    // The A/B baseline: the A run with the median path 2 p99, as one would
    // store a representative baseline (a single A run can catch a slow
    // stretch of the pipeline: measured once, p99 877 ms where the other four
    // had 225–239 ms; the A/A gates above still passed on it).
    let p99 = |dir: &Path| {
        let run = load_run(dir).expect("the run directory loads").run;
        let h = run.stats.sink_total(Sink::Path2).expect("path 2 samples");
        h.value_at_quantile(0.99)
    };
    let mut by_p99: Vec<&PathBuf> = a.iter().collect();
    by_p99.sort_by_key(|d| p99(d));
    let base = by_p99[by_p99.len() / 2].clone();
    eprintln!(
        "A/B baseline {} (path 2 p99 {} µs)",
        base.display(),
        p99(&base)
    );

    // A/B: path 2 flushes every 1 s instead of every 100 ms.
    let restore = RestoreDefaults;
    stack(Some("1s"));
    warm(out.path(), "warm-b");
    let b: Vec<PathBuf> = (0..2).map(|i| run(out.path(), &format!("b{i}"))).collect();
    for (i, bi) in b.iter().enumerate() {
        // Not comparable without --force: the changed setting is named.
        let o = gate(&base, bi, &FLOOR);
        assert_exit(&o, 2);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("sink.buffer-flush.interval") && err.contains("1s"),
            "{err}"
        );
        // With --force: a regression at path 2, the difference listed.
        let junit = out.path().join(format!("b{i}.xml"));
        let mut args = FLOOR.to_vec();
        args.extend(["--force", "--junit", junit.to_str().unwrap()]);
        let o = gate(&base, bi, &args);
        assert_exit(&o, 1);
        let md = stdout(&o);
        eprintln!("A/B baseline → b{i}:\n{md}");
        let path2 = md.lines().find(|l| l.starts_with("| path2 ")).unwrap();
        assert!(path2.contains('❌'), "{md}");
        assert!(md.contains("sink.buffer-flush.interval"), "{md}");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("name=\"path2 p99\"><failure"), "{xml}");
        // All five A runs as the baseline: their spread does not hide it.
        let all: Vec<&Path> = a.iter().map(PathBuf::as_path).collect();
        let mut args = FLOOR.to_vec();
        args.push("--force");
        let o = gate_many(&all, bi, &args);
        assert_exit(&o, 1);
        let md = stdout(&o);
        eprintln!("A/B a0 … a4 → b{i}:\n{md}");
        let path2 = md.lines().find(|l| l.starts_with("| path2 ")).unwrap();
        assert!(path2.contains('❌'), "{md}");
    }
    drop(restore);
    eprintln!("gate_stack took {:.0} s", t0.elapsed().as_secs_f64());
}
