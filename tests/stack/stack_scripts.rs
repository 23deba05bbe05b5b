//! The stack scripts' quoting against the running MariaDB (the rest of their
//! tests need nothing running: `tests/offline/stack_scripts.rs`).

use crate::support::scripts::{bash, HOSTILE};

// The literal sql_quote makes is read back by MariaDB as the exact value.
#[test]
fn mariadb_reads_a_quoted_password_back_verbatim() {
    let _turn = crate::support::turn();
    let tmp = tempfile::tempdir().unwrap();
    let o = bash(
        tmp.path(),
        r#"mysql_cli -e "SELECT $(sql_quote "$HOSTILE")""#,
    );
    assert!(
        o.status.success(),
        "MariaDB of the stack unreachable (scripts/stack.sh up): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // --batch escapes a backslash in its output as \\.
    let got = String::from_utf8_lossy(&o.stdout)
        .trim_end()
        .replace(r"\\", r"\");
    assert_eq!(got, HOSTILE);
}
