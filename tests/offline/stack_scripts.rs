//! The native stack's scripts (scripts/stack/*.sh) where they handle
//! secrets: the rendered Flink SQL (it holds the MySQL and warehouse
//! passwords) is readable by its owner only, and passwords reach MariaDB as
//! quoted literals, never spliced into SQL.
//!
//! The scripts run in bash against a throw-away stack directory with a fake
//! Flink SQL client; the quoting round trip through the running MariaDB is
//! in the stack binary (`tests/stack/stack_scripts.rs`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use std::process::Command;

use crate::support::scripts::bash;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

// Issue 22: `.stack/flink/sql/*.sql` were written 644 in a 755 directory.
#[test]
fn rendered_flink_sql_is_readable_by_its_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bash(
        tmp.path(),
        r#"umask 022
mkdir -p "$FLINK_HOME/bin" "$FLINK_DIR/sql"
# A file an older stack wrote with the default umask.
echo "'password' = 'x'" >"$FLINK_DIR/sql/old.sql"
printf '#!/bin/sh\nfor i in 1 2 3 4; do echo "Job ID: $i"; done\n' >"$FLINK_HOME/bin/sql-client.sh"
chmod +x "$FLINK_HOME/bin/sql-client.sh"
flink_jobs() { :; }  # no cluster: every job is submitted
flink_render_jobs
flink_submit_jobs
"#,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sql = tmp.path().join("stack/flink/sql");
    assert_eq!(mode(&sql), 0o700, "{}", sql.display());
    let mut files = 0;
    for entry in std::fs::read_dir(&sql).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        files += 1;
    }
    // Four jobs, submit.sql and the old file.
    assert_eq!(files, 6);
    let submit = std::fs::read_to_string(sql.join("submit.sql")).unwrap();
    assert!(submit.contains("'password'"), "the SQL was not rendered");
}

// Issue 22: the root and CDC passwords were spliced into SQL text ('$PW').
#[test]
fn mysql_account_values_go_in_as_quoted_literals() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bash(
        tmp.path(),
        r#"sql_quote "$HOSTILE"; echo
MYSQL_CDC_USER="o'brien" MYSQL_CDC_PASSWORD=$HOSTILE mysql_init_sql mysql-init/01-init-tpcds-tables.sql |
  grep -E "flink_cdc|IDENTIFIED BY"
MYSQL_DATABASE='x; DROP DATABASE y' mysql_init_sql mysql-init/01-init-tpcds-tables.sql >/dev/null &&
  echo "accepted a bad database name"
true
"#,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let quoted = r"'it''s a \\'' OR ''1''=''1 \\\\ pass&w/rd'";
    assert_eq!(lines[0], quoted, "{stdout}");
    assert_eq!(
        lines[1],
        format!("CREATE USER IF NOT EXISTS 'o''brien'@'%' IDENTIFIED BY {quoted};"),
        "{stdout}"
    );
    assert_eq!(lines.len(), 2, "{stdout}");
}

// Issue 27: a control action run from another checkout used that checkout's
// defaults (its .cache for Flink). What `up` records in the stack directory
// wins over the caller's environment for every other action.
#[test]
fn every_action_but_up_uses_what_the_stack_directory_records() {
    let tmp = tempfile::tempdir().unwrap();
    let record = bash(
        tmp.path(),
        "FLINK_HOME=/recorded/flink MYSQL_PORT=13306 stack_env_record && echo \"$STACK_ENV_FILE\"",
    );
    assert!(
        record.status.success(),
        "{}",
        String::from_utf8_lossy(&record.stderr)
    );
    let file = tmp.path().join("stack/stack.env");
    assert_eq!(mode(&file), 0o600, "it holds passwords");
    let show = "echo \"$FLINK_HOME $MYSQL_PORT\"";
    let as_resume = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "STACK_ACTION=resume; MYSQL_PORT=3306; . scripts/stack/lib.sh; {show}"
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TPCDS_STACK_DIR", tmp.path().join("stack"))
        .env("TPCDS_CACHE_DIR", tmp.path().join("elsewhere"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&as_resume.stdout).trim(),
        "/recorded/flink 13306"
    );
    let as_up = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "STACK_ACTION=up; MYSQL_PORT=3306; . scripts/stack/lib.sh; {show}"
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TPCDS_STACK_DIR", tmp.path().join("stack"))
        .env("TPCDS_CACHE_DIR", tmp.path().join("elsewhere"))
        .output()
        .unwrap();
    let up = String::from_utf8_lossy(&as_up.stdout);
    assert!(
        up.trim().ends_with("elsewhere/flink-1.20.3 3306"),
        "up takes its environment: {up}"
    );
}

// Issue 27: a failed submission said "Flink did not accept the resubmission";
// the cause (sql-client.sh not found) was only in a log file.
#[test]
fn a_failed_sql_client_is_named_with_its_exit_status_and_first_error_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let o = bash(
        tmp.path(),
        r#"mkdir -p "$FLINK_HOME/bin"
printf '#!/bin/sh\necho "starting"\necho "/x/bin/java: No such file or directory" >&2\nexit 127\n' >"$FLINK_HOME/bin/sql-client.sh"
chmod +x "$FLINK_HOME/bin/sql-client.sh"
flink_jobs() { :; }
flink_render_jobs
flink_submit_jobs
"#,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("| /x/bin/java: No such file or directory"),
        "{err}"
    );
    assert!(err.contains("sql-client.sh -f …` exited 127"), "{err}");
}
