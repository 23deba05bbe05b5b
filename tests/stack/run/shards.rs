//! `run --shard I/N --start-at T` and `merge` on the native stack: three shards
//! as three processes against one process at the same load (issue 24).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::stack_check;
use crate::support::{assert_exit, only_run};
use tpcds_bench::model::Sink;
use tpcds_bench::report::load_run;

/// The load both ways: 300 rows/s over 6 workers (2 per shard), 30 s
/// (`scripts/bench/shards.sh` measures 600 rows/s, 60 s).
const SETS: [&str; 5] = [
    "load.workers=6",
    "load.rate.per_second=300",
    "duration=30s",
    "warmup=5s",
    "drain_timeout=60s",
];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tpcds-bench"))
}

fn run_cmd(out: &Path, extra: &[String]) -> Command {
    let mut cmd = bin();
    cmd.arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml"))
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .args(extra);
    for s in SETS {
        cmd.arg("--set").arg(s);
    }
    cmd
}

/// Starts `count` shards at a common moment `lead` from now.
fn spawn_shards(out: &Path, count: u32, lead: Duration) -> Vec<Child> {
    let at = chrono::Utc::now() + chrono::Duration::from_std(lead).unwrap();
    let at = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    (0..count)
        .map(|i| {
            run_cmd(
                out,
                &[
                    "--shard".into(),
                    format!("{i}/{count}"),
                    "--start-at".into(),
                    at.clone(),
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("a shard starts")
        })
        .collect()
}

fn dirs(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    v.sort();
    v
}

fn merge(dirs: &[PathBuf], out: &Path, partial: bool) -> Output {
    let mut cmd = bin();
    cmd.arg("merge").args(dirs).arg("--out").arg(out);
    if partial {
        cmd.arg("--partial");
    }
    cmd.output().unwrap()
}

fn gate(baseline: &Path, current: &Path) -> Output {
    bin()
        .arg("gate")
        .arg("--baseline")
        .arg(baseline)
        .arg("--current")
        .arg(current)
        .output()
        .unwrap()
}

#[test]
fn three_shards_merged_account_like_one_process_and_pass_the_gate_both_ways() {
    let _turn = crate::support::turn();
    stack_check::require();
    crate::support::warm_up_pipeline();
    let single_out = tempfile::tempdir().unwrap();
    let o = run_cmd(single_out.path(), &[]).output().unwrap();
    assert_exit(&o, 0);
    let single = only_run(single_out.path());

    let shards_out = tempfile::tempdir().unwrap();
    let outputs: Vec<Output> = spawn_shards(shards_out.path(), 3, Duration::from_secs(20))
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outputs {
        assert_exit(o, 0);
    }
    let shard_dirs = dirs(shards_out.path());
    assert_eq!(shard_dirs.len(), 3, "{shard_dirs:?}");
    let merged_out = tempfile::tempdir().unwrap();
    assert_exit(&merge(&shard_dirs, merged_out.path(), false), 0);
    let merged = only_run(merged_out.path());
    let (m, s) = (&merged.run, &single.run);
    println!(
        "single: {} rows committed, {:.1} rows/s; merged: {} rows, {:.1} rows/s",
        s.achieved_rows, s.achieved_rate, m.achieved_rows, m.achieved_rate
    );
    assert_eq!(m.shards.len(), 3);
    assert!((m.target_rows as i64 - s.target_rows as i64).abs() <= 3);
    let ratio = m.achieved_rate / s.achieved_rate;
    assert!(
        (0.98..=1.02).contains(&ratio),
        "achieved merged/single = {ratio}"
    );
    for sink in [Sink::Binlog, Sink::Kafka, Sink::Path1, Sink::Path2] {
        let (a, b) = (&m.sinks[&sink].accounting, &s.sinks[&sink].accounting);
        assert_eq!(a.missing, 0, "{sink}: merged missing {:?}", a.missing_keys);
        assert_eq!(a.unexpected, 0, "{sink}: rows of no shard");
        let r = a.seen as f64 / b.seen as f64;
        assert!(
            (0.98..=1.02).contains(&r),
            "{sink}: seen {} vs {}",
            a.seen,
            b.seen
        );
        // Each shard's count is its own: they add up to the merged one.
        let per_shard: u64 = shard_dirs
            .iter()
            .map(|d| load_run(d).unwrap().run.sinks[&sink].accounting.seen)
            .sum();
        assert_eq!(per_shard, a.seen, "{sink}");
    }
    // A/A in both directions: the merged run is the same load as the single one.
    for (base, cur) in [(&single.dir, &merged.dir), (&merged.dir, &single.dir)] {
        let g = gate(base, cur);
        println!("{}", String::from_utf8_lossy(&g.stdout));
        assert_exit(&g, 0);
    }
    // `report` re-renders the merged directory like any other.
    let r = bin().arg("report").arg(&merged.dir).output().unwrap();
    assert_exit(&r, 0);
}

#[test]
fn a_killed_shard_is_named_by_merge_and_joined_only_with_partial() {
    let _turn = crate::support::turn();
    stack_check::require();
    let out = tempfile::tempdir().unwrap();
    let shards = spawn_shards(out.path(), 3, Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(20));
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(
        unsafe { libc::kill(shards[1].id() as i32, libc::SIGKILL) },
        0
    );
    for (i, c) in shards.into_iter().enumerate() {
        let o = c.wait_with_output().unwrap();
        if i != 1 {
            assert_exit(&o, 0);
        }
    }
    let left = dirs(out.path());
    assert_eq!(left.len(), 2, "{left:?}");
    let merged_out = tempfile::tempdir().unwrap();
    let o = merge(&left, merged_out.path(), false);
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shard 1/3 is missing"), "{err}");
    assert!(dirs(merged_out.path()).is_empty(), "nothing half-written");
    let o = merge(&left, merged_out.path(), true);
    assert_exit(&o, 0);
    let m = only_run(merged_out.path()).run;
    assert!(
        m.caveats[0].to_string().contains("shard 1/3 missing"),
        "{:?}",
        m.caveats
    );
    assert_eq!(m.shards.len(), 2);
}
