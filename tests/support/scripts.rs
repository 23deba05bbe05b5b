//! The native stack's shell functions (scripts/stack/*.sh) run by tests,
//! against a throw-away stack directory.

use std::path::Path;
use std::process::{Command, Output};

/// A password with every character that breaks careless quoting.
pub const HOSTILE: &str = r"it's a \' OR '1'='1 \\ pass&w/rd";

/// Runs `script` in bash from the repository root with the stack's scripts
/// sourced, the stack directories in `dir` (never the real stack's) and
/// `$HOSTILE` holding [`HOSTILE`].
pub fn bash(dir: &Path, script: &str) -> Output {
    let root = env!("CARGO_MANIFEST_DIR");
    let full = format!(
        "set -uo pipefail\n. scripts/stack/lib.sh\n. scripts/stack/mysql.sh\n. scripts/stack/flink.sh\n{script}"
    );
    Command::new("bash")
        .arg("-c")
        .arg(full)
        .current_dir(root)
        .env("TPCDS_STACK_DIR", dir.join("stack"))
        .env("TPCDS_CACHE_DIR", dir.join("cache"))
        .env("HOSTILE", HOSTILE)
        .output()
        .unwrap()
}
