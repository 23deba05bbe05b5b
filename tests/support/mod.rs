//! Helpers shared by the two integration-test binaries (`tests/offline`,
//! `tests/stack`): running the real binary, the stack guards
//! ([`stack_check`], [`fault_guard`]) and the observers' test support
//! ([`observe`]).
#![allow(dead_code)]

pub mod fault_guard;
pub mod observe;
pub mod scripts;
pub mod stack_check;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tpcds_bench::report::{load_run, LoadedRun};

/// A stack-backed test's hold on the stack: one test at a time in the stack
/// binary (each starts with `let _turn = crate::support::turn();`), as when
/// every test file was its own binary and cargo ran them one after another.
/// They share MySQL, Kafka and the warehouse, and some stop parts of the
/// stack; latency measured beside another test's load would drift.
pub struct Turn {
    _held: std::sync::MutexGuard<'static, ()>,
}

/// Waits for this test's [`Turn`] (a test that failed holding it does not
/// block the rest: the lock's poisoning is ignored).
pub fn turn() -> Turn {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    Turn {
        _held: TURN.lock().unwrap_or_else(|e| e.into_inner()),
    }
}

/// The MySQL URL the stack listens on (env override as everywhere).
pub fn mysql_url() -> String {
    std::env::var("TPCDS_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root:root123@127.0.0.1:3306/business_db".into())
}

/// Runs `tpcds-bench run` on a shipped scenario with `--set` overrides, into `out`.
pub fn run_scenario(scenario: &str, sets: &[&str], out: &Path) -> Output {
    run_scenario_with(scenario, &[], sets, out)
}

/// [`run_scenario`] with extra flags (e.g. `--allow-faults`).
pub fn run_scenario_with(scenario: &str, flags: &[&str], sets: &[&str], out: &Path) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(scenario);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tpcds-bench"));
    cmd.arg("run")
        .arg(path)
        .arg("--quiet")
        .args(flags)
        .arg("--out")
        .arg(out);
    for s in sets {
        cmd.arg("--set").arg(s);
    }
    cmd.output().expect("the binary runs")
}

/// The single run directory under `out`, loaded.
pub fn only_run(out: &Path) -> LoadedRun {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("reports directory exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "expected one run directory in {}: {dirs:?}",
        out.display()
    );
    load_run(&dirs[0]).expect("the run directory loads")
}

/// Fails with the binary's output when it did not exit as expected.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A freshly started pipeline is slow for its first seconds of traffic (JIT,
/// first fetches and flushes: several seconds on a loaded 2-core machine), so a
/// test that measures latency relations runs one short throw-away load first,
/// once per test binary. Its result is not used; it only has to run.
pub fn warm_up_pipeline() {
    static WARM: std::sync::Once = std::sync::Once::new();
    WARM.call_once(|| {
        let out = tempfile::tempdir().expect("a temporary directory");
        let o = run_scenario(
            "quickstart.toml",
            &["duration=20s", "warmup=0s", "drain_timeout=30s"],
            out.path(),
        );
        assert!(o.status.code().is_some(), "the warm-up run was killed");
    });
}
