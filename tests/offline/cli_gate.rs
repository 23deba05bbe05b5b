//! `compare` and `gate` on a saved run directory (a real 12 s quickstart run
//! on the native stack, kept in `tests/fixtures/runs/quickstart`; `.hlog`,
//! `summary.json` and `scenario.toml` only): verdicts, JUnit, and every kind
//! of bad input (missing directory, corrupt summary, mismatched fingerprint,
//! latencies ending at a different moment → exit 2 with a message that says
//! what to do).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runs/quickstart")
}

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tpcds-bench"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn code(o: &Output) -> (Option<i32>, String, String) {
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A copy of the fixture whose `summary.json` was edited by `edit`.
fn edited(tmp: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let dir = tmp.join("edited");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(fixture()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let path = dir.join("summary.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    dir
}

#[test]
fn a_run_gated_against_itself_passes_with_a_junit_report() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("gate.xml");
    let f = fixture();
    let o = bin(&[
        "gate",
        "--baseline",
        s(&f),
        "--current",
        s(&f),
        "--junit",
        s(&junit),
    ]);
    let (c, out, err) = code(&o);
    assert_eq!(c, Some(0), "{out}\n{err}");
    assert!(out.starts_with("## tpcds-bench gate · ✅ passed"), "{out}");
    for sink in ["kafka", "path1", "path2"] {
        assert!(out.contains(&format!("| {sink} |")), "{out}");
    }
    assert!(out.contains("circular block bootstrap"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(xml.contains("name=\"path2 p99\""), "{xml}");
    assert!(xml.contains("classname=\"tpcds-bench.slo\""), "{xml}");
}

#[test]
fn compare_shows_two_runs_and_the_two_paths() {
    let f = fixture();
    let (c, out, err) = code(&bin(&["compare", s(&f), s(&f)]));
    assert_eq!(c, Some(0), "{err}");
    assert!(out.contains("| path2 | p99 |"), "{out}");
    assert!(out.contains("+0.0 ms"), "{out}");
    let (c, out, err) = code(&bin(&["compare", s(&f)]));
    assert_eq!(c, Some(0), "{err}");
    assert!(out.contains("path 1 vs path 2"), "{out}");
    assert!(out.contains("paired"), "{out}");
    // The fixture records per-row pairs: the signed difference table is there.
    assert!(out.contains("### Paired per row"), "{out}");
    assert!(out.contains("| p50 | "), "{out}");
    assert!(out.contains("rows seen on both paths"), "{out}");
}

#[test]
fn a_missing_directory_is_bad_input() {
    let (c, _, err) = code(&bin(&[
        "gate",
        "--baseline",
        "/nonexistent/run",
        "--current",
        s(&fixture()),
    ]));
    assert_eq!(c, Some(2), "{err}");
    assert!(err.contains("/nonexistent/run/summary.json"), "{err}");
    assert!(
        err.contains("pass a run directory written by `tpcds-bench run`"),
        "{err}"
    );
}

#[test]
fn a_corrupt_summary_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = edited(tmp.path(), |_| {});
    std::fs::write(dir.join("summary.json"), "{ not json").unwrap();
    let (c, _, err) = code(&bin(&["compare", s(&fixture()), s(&dir)]));
    assert_eq!(c, Some(2), "{err}");
    assert!(err.contains("is not a valid tpcds-bench run file"), "{err}");
}

#[test]
fn a_mismatched_fingerprint_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = edited(tmp.path(), |v| {
        v["environment"]["flink.setting.path2.sink.buffer-flush.interval"] = "1s".into();
    });
    let f = fixture();
    let args = ["gate", "--baseline", s(&f), "--current", s(&dir)];
    let (c, out, err) = code(&bin(&args));
    assert_eq!(c, Some(2), "{out}\n{err}");
    assert!(out.is_empty(), "nothing printed on refusal: {out}");
    assert!(
        err.contains("environment.flink.setting.path2.sink.buffer-flush.interval: baseline 100ms ≠ current 1s"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    let mut forced = args.to_vec();
    forced.push("--force");
    let (c, out, err) = code(&bin(&forced));
    assert_eq!(
        c,
        Some(0),
        "same latencies, only the label differs: {out}\n{err}"
    );
    assert!(out.contains("Compared with `--force`"), "{out}");
    assert!(out.contains("buffer-flush.interval"), "{out}");
}

/// The fixture predates `visibility` (its polled sinks count as `detected`);
/// a copy whose path1 latencies end at the warehouse's commit timestamps.
fn commit_ts_copy(tmp: &Path) -> PathBuf {
    edited(tmp, |v| {
        v["sinks"]["path1"]["visibility"] = serde_json::json!({
            "source": "commit_ts",
            "by_source": {"commit_ts": 100},
            "uncertainty_us": 300,
            "before_ack": 0,
            "after_detection": 0,
        });
    })
}

#[test]
fn a_different_visibility_source_is_refused_by_gate_and_compare_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = commit_ts_copy(tmp.path());
    let f = fixture();
    let gate = ["gate", "--baseline", s(&f), "--current", s(&dir)];
    // Pooled baselines must agree among themselves, whatever the current run.
    let pooled = [
        "gate",
        "--baseline",
        s(&f),
        "--baseline",
        s(&dir),
        "--current",
        s(&f),
    ];
    let compare = ["compare", s(&f), s(&dir)];
    for args in [&gate[..], &pooled[..], &compare[..]] {
        let (c, out, err) = code(&bin(args));
        assert_eq!(c, Some(2), "{args:?}: {out}\n{err}");
        assert!(out.is_empty(), "nothing printed on refusal: {out}");
        assert!(err.contains("path1: baseline "), "{err}");
        assert!(err.contains("ends latencies at detected"), "{err}");
        assert!(err.contains("at commit_ts"), "{err}");
        assert!(err.contains("track_commit_timestamp"), "{err}");
        assert!(err.contains("--force"), "{err}");
        let mut forced = args.to_vec();
        forced.push("--force");
        let (c, out, err) = code(&bin(&forced));
        assert_eq!(c, Some(0), "{forced:?}: {out}\n{err}");
        assert!(
            err.contains("warning: compared anyway (--force)"),
            "{forced:?}: {err}"
        );
        assert!(
            out.contains("visibility.path1: baseline detected ≠ current commit_ts")
                || out.contains("visibility.path1: baseline commit_ts ≠ current detected"),
            "{forced:?}: {out}"
        );
    }
    // Measured the same way: no refusal, no warning.
    let (c, _, err) = code(&bin(&["compare", s(&dir), s(&dir)]));
    assert_eq!(c, Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn a_sink_that_recorded_nothing_in_the_current_run_fails_the_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = edited(tmp.path(), |_| {});
    // The Kafka interval log keeps its header and loses every interval.
    let hlog = dir.join("kafka.hlog");
    let text = std::fs::read_to_string(&hlog).unwrap();
    let header: String = text
        .lines()
        .filter(|l| l.starts_with('#') || l.starts_with('"'))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&hlog, header).unwrap();
    let junit = tmp.path().join("gate.xml");
    let f = fixture();
    let args = [
        "gate",
        "--baseline",
        s(&f),
        "--current",
        s(&dir),
        "--junit",
        s(&junit),
    ];
    let (c, out, err) = code(&bin(&args));
    assert_eq!(c, Some(1), "{out}\n{err}");
    let kafka = out.lines().find(|l| l.starts_with("| kafka |")).unwrap();
    assert!(
        kafka.contains('❌') && kafka.contains("a sink that recorded nothing is a regression"),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("name=\"kafka p99\"><failure"), "{xml}");
}

#[test]
fn runs_too_short_for_an_interval_get_no_verdict() {
    // 11 s after warmup each, in blocks of 6 s: 3.7 blocks, 1 degree of
    // freedom. The interval once floored that at 3 and passed.
    let f = fixture();
    let args = [
        "gate",
        "--baseline",
        s(&f),
        "--current",
        s(&f),
        "--block-seconds=6",
    ];
    let (c, out, err) = code(&bin(&args));
    assert_eq!(c, Some(2), "{out}\n{err}");
    assert!(
        out.starts_with("## tpcds-bench gate · ⛔ no verdict"),
        "{out}"
    );
    assert!(!out.contains("✅ passed"), "{out}");
    let path2 = out.lines().find(|l| l.starts_with("| path2 |")).unwrap();
    assert!(
        path2.contains("⛔ too short to judge") && path2.contains("run longer"),
        "{out}"
    );
    assert!(err.contains("refused a verdict"), "{err}");
}

#[test]
fn bad_flags_are_bad_input() {
    let f = fixture();
    for (flag, says) in [
        ("--confidence=1.5", "between 0 and 1"),
        ("--replicates=10", "at least 100"),
        ("--min-relative=-1", "≥ 0"),
        ("--block-seconds=0", "at least 1"),
    ] {
        let (c, _, err) = code(&bin(&[
            "gate",
            "--baseline",
            s(&f),
            "--current",
            s(&f),
            flag,
        ]));
        assert_eq!(c, Some(2), "{flag}: {err}");
        assert!(err.contains(says), "{flag}: {err}");
    }
}

#[test]
fn the_gate_fails_a_run_whose_audit_found_differing_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let cur = edited(tmp.path(), |v| {
        v["audit"] = serde_json::json!({
            "tickets": "1..2",
            "sinks": {
                "path1": { "rows": 10, "mismatched": 1, "took_ms": 3, "tables": {} },
                "path2": { "rows": 10, "mismatched": 0, "took_ms": 3, "tables": {} }
            }
        });
    });
    let (c, out, err) = code(&bin(&[
        "gate",
        "--baseline",
        s(&fixture()),
        "--current",
        s(&cur),
    ]));
    assert_eq!(c, Some(1), "{out}\n{err}");
    assert!(
        out.contains("path1: 1 rows differ from MySQL > max_mismatched 0"),
        "{out}"
    );
    assert!(!out.contains("path2: 0 rows differ from MySQL >"), "{out}");
}

#[test]
fn the_stored_run_re_renders_byte_for_byte() {
    // `report` rebuilds every file from the saved summary and histograms: the
    // summary (caveats included, read back and written again) and the
    // scenario must come out as they were stored.
    let tmp = tempfile::tempdir().unwrap();
    let dir = edited(tmp.path(), |_| {});
    let stored = std::fs::read(fixture().join("summary.json")).unwrap();
    std::fs::write(dir.join("summary.json"), &stored).unwrap();
    let o = bin(&["report", s(&dir)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", code(&o));
    for file in ["summary.json", "scenario.toml"] {
        let again = std::fs::read(dir.join(file)).unwrap();
        let before = std::fs::read(fixture().join(file)).unwrap();
        assert!(again == before, "{file} changed when re-rendered");
    }
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains("- binlog: 700 versions were seen before their commit ack reached the harness"),
        "{md}"
    );
}
