//! `tpcds-bench sweep` on bad flags: the message names the flag and what is
//! valid, exit code 2, and nothing is written (checked before any connection).

use std::path::Path;
use std::process::Command;

fn sweep(flags: &[&str], out: &Path) -> std::process::Output {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep.toml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tpcds-bench"));
    // No stack needed: point every target nowhere, so a check that came too late would fail with 3, not 2.
    cmd.env("TPCDS_MYSQL_URL", "mysql://root:x@127.0.0.1:1/business_db");
    cmd.arg("sweep")
        .arg(scenario)
        .args(flags)
        .arg("--out")
        .arg(out);
    cmd.output().expect("the binary runs")
}

#[test]
fn bad_flags_exit_2_with_the_flag_named_and_nothing_written() {
    let tmp = tempfile::tempdir().unwrap();
    for (flags, want) in [
        (
            &["--rates", "250,-5"][..],
            "--rates -5: must be a positive rate",
        ),
        (
            &["--from", "800", "--to", "400"][..],
            "--from 800 is above --to 400",
        ),
        (&["--factor", "1"][..], "--factor 1: must be above 1"),
        (&["--factor", "0.5"][..], "--factor 0.5: must be above 1"),
        (&["--rates", "100", "--find-max"][..], "leave out --rates"),
        (
            &["--find-max", "--p99", "path7=1s"][..],
            "unknown sink \"path7\"",
        ),
        (&["--set", "sweep.factor=1"][..], "sweep.factor"),
    ] {
        let out = tmp.path().join(format!("out{}", flags.join("_")));
        let o = sweep(flags, &out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(want), "{flags:?}: {stderr}");
        assert!(!out.exists(), "{flags:?} wrote {}", out.display());
    }
}

#[test]
fn a_target_that_is_not_there_is_exit_3_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = sweep(&["--rates", "100"], &out);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
}
