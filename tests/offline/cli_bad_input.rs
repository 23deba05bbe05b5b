//! The binary on every malformed scenario: the documented message on stderr,
//! exit code 2, and nothing written (no run directory, no connection needed).

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tpcds-bench"));
    // A valid target in the environment would mask the fixtures' bad URLs.
    for (k, _) in std::env::vars() {
        if k.starts_with("TPCDS_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn every_bad_fixture_fails_with_its_message_and_exit_2_writing_nothing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, code, location, valid) = (cols[0], cols[1], cols[2], cols[3]);
        let reports = out.path().join(file);
        let o = bin()
            .args(["run", dir.join(file).to_str().unwrap(), "--quiet", "--out"])
            .arg(&reports)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(code.parse().unwrap()),
            "{file}: {stderr}"
        );
        assert!(
            stderr.contains(location),
            "{file}: stderr lacks {location:?}:\n{stderr}"
        );
        assert!(
            stderr.contains(valid),
            "{file}: stderr lacks {valid:?}:\n{stderr}"
        );
        assert!(!reports.exists(), "{file}: a reports directory was written");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures listed");
}

#[test]
fn a_bad_override_names_the_flag() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let o = bin()
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--set",
            "load.rate.per_second=-5",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--set load.rate.per_second"), "{stderr}");
}

#[test]
fn a_missing_scenario_file_is_bad_input() {
    let o = bin().args(["run", "/nonexistent/x.toml"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.toml"));
}

#[test]
fn unreachable_targets_exit_3_without_writing() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let out = tempfile::tempdir().unwrap();
    let reports = out.path().join("reports");
    // Port 1 on loopback: nothing listens there.
    let o = bin()
        .args(["run", scenario.to_str().unwrap(), "--quiet", "--out"])
        .arg(&reports)
        .env(
            "TPCDS_MYSQL_URL",
            "mysql://root:secretpw@127.0.0.1:1/business_db",
        )
        .env("TPCDS_KAFKA_BROKERS", "127.0.0.1:1")
        .env(
            "TPCDS_WAREHOUSE_URL",
            "postgres://gpadmin:secretpw@127.0.0.1:1/tpcds",
        )
        .env("TPCDS_FLINK_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(!stderr.contains("secretpw"), "password leaked: {stderr}");
    assert!(!reports.exists());
}

// Issue 22: only the first mistake of a file was reported.
#[test]
fn every_mistake_of_a_file_is_listed_with_its_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("many.toml");
    std::fs::write(
        &file,
        "duration = \"1m\"\nseed = -1\n[load]\nworkers = 0\n\
         rate = { kind = \"constant\", per_second = -5 }\n[mix]\nretrun_lag = \"3s\"\n",
    )
    .unwrap();
    let reports = tmp.path().join("reports");
    let o = bin()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&reports)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    for (line, key) in [
        (2, "seed"),
        (4, "load.workers"),
        (5, "load.rate.per_second"),
        (7, "mix.retrun_lag"),
    ] {
        assert!(
            stderr.contains(&format!("many.toml:{line}: ")) && stderr.contains(key),
            "line {line} ({key}) not reported:\n{stderr}"
        );
    }
    assert!(stderr.contains("4 problems in"), "{stderr}");
    assert!(!reports.exists());
}

/// Targets nothing listens on (port 1), so a run that got past the
/// refusal could not act on a real stack either.
fn unreachable(cmd: &mut Command) -> &mut Command {
    cmd.env("TPCDS_MYSQL_URL", "mysql://root:x@127.0.0.1:1/business_db")
        .env("TPCDS_KAFKA_BROKERS", "127.0.0.1:1")
        .env("TPCDS_WAREHOUSE_URL", "postgres://u:x@127.0.0.1:1/tpcds")
        .env("TPCDS_FLINK_URL", "http://127.0.0.1:1")
        .env("TPCDS_STACK_CONTROL", "/nonexistent/stack.sh")
}

// Issue 22: `[[faults]]` and `[control] script` act on the stack and run
// programs the file names; without --allow-faults they are refused.
#[test]
fn a_scenario_that_acts_needs_allow_faults() {
    let faults = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/faults.toml");
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let o = unreachable(&mut bin())
        .args(["run", faults.to_str().unwrap(), "--quiet", "--out"])
        .arg(&reports)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("acts on the stack"), "{stderr}");
    assert!(
        stderr.contains("restart kafka") || stderr.contains("stop kafka"),
        "{stderr}"
    );
    assert!(stderr.contains("kill flink-taskmanager"), "{stderr}");
    assert!(stderr.contains("--allow-faults"), "{stderr}");
    assert!(!reports.exists(), "a reports directory was written");

    // A snapshot cancels and resubmits the CDC jobs: refused too, and says so.
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/snapshot.toml");
    let o = unreachable(&mut bin())
        .args(["run", snapshot.to_str().unwrap(), "--quiet", "--out"])
        .arg(&reports)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cancel the Flink CDC jobs") && stderr.contains("write 1000000 rows"),
        "{stderr}"
    );
    assert!(!reports.exists(), "a reports directory was written");

    // A control script alone (no faults) is refused too.
    let script = tmp.path().join("only-script.toml");
    std::fs::write(
        &script,
        "duration = \"10s\"\n[load]\nrate = { kind = \"constant\", per_second = 1 }\n\
         [control]\nscript = \"/tmp/anything.sh\"\n",
    )
    .unwrap();
    let o = unreachable(&mut bin())
        .args(["run", script.to_str().unwrap(), "--quiet", "--out"])
        .arg(&reports)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`/tmp/anything.sh`"), "{stderr}");
    assert!(!reports.exists(), "a reports directory was written");

    // With the flag it goes on to the targets (unreachable here: exit 3).
    let o = unreachable(&mut bin())
        .args([
            "run",
            faults.to_str().unwrap(),
            "--quiet",
            "--allow-faults",
            "--out",
        ])
        .arg(&reports)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn audit_of_a_directory_that_is_not_a_run_is_bad_input() {
    let empty = tempfile::tempdir().unwrap();
    for dir in [empty.path(), Path::new("/nonexistent/run")] {
        let o = bin().arg("audit").arg(dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("summary.json") && stderr.contains("give the run directory"),
            "{stderr}"
        );
    }
}
